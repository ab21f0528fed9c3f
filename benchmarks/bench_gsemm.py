"""GSEMM capacity benchmark (the GSEMM paper's Fig. 3 protocol), measured in one process.

1. A reduced Fig. 3 grid — degrees {1, 3} × α_c {0.1, 0.2} × 2 seeds × K {4, 8}, RK4
   dt = 0.01, horizons max(600, 210 K) — as one vmapped hopjax program
   (``gsemm_capacity_point``, the ``gsemm_capacity`` experiment's function) against a
   straightforward numpy per-trajectory RK4 loop (the reference code's structure: one trajectory
   at a time, a Python loop over steps).
   numpy is timed on ``--numpy-runs`` trajectories and scaled by step count to the whole grid.
2. An estimate of the full ``configs/gsemm_capacity.toml`` wall time on this machine: seconds per
   (row, RK4 step) measured on a chunk of rows at K = 16, 64, 128 (horizon shortened ``--shrink``
   times), fitted linearly in K and summed over every K group's rows and steps.

Writes ``benchmarks/results/gsemm-<device>.json``. Run: ``python benchmarks/bench_gsemm.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, device_name, save_results

sys.path.insert(0, str(ROOT))  # the experiments/ folder
from experiments.gsemm_capacity import gsemm_capacity_point
from hopjax.patterns import random_bipolar
from hopjax.sweep import load_config


def numpy_trajectory(xi: np.ndarray, K: int, degree: int, alpha_c: float, p: dict) -> float:
    """One run of the reference structure: numpy RK4 over ``V_f, V_d``; returns its seconds."""
    xi = xi[:K].T.astype(np.float64)  # (N_f, K), memories as columns like the reference code
    phi = np.roll(np.eye(K), 1, axis=1)  # phi[k, k+1] = 1
    a_s, b_d, T_f, T_d, dt = p["alpha_s"], p["beta_d"], p["T_f"], p["T_d"], p["dt"]

    def f(v: np.ndarray, vd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.tanh(v)
        h = a_s * (xi.T @ g) + alpha_c * (phi.T @ (xi.T @ vd))
        return (xi @ (np.sign(h) * np.abs(h) ** degree) - v) / T_f, (b_d * g - vd) / T_d

    v, vd = xi[:, 0].copy(), np.zeros(xi.shape[0])
    steps = round(max(p["t_min"], p["t_per_memory"] * K) / dt)
    t0 = time.perf_counter()
    for _ in range(steps):
        k1 = f(v, vd)
        k2 = f(v + 0.5 * dt * k1[0], vd + 0.5 * dt * k1[1])
        k3 = f(v + 0.5 * dt * k2[0], vd + 0.5 * dt * k2[1])
        k4 = f(v + dt * k3[0], vd + dt * k3[1])
        v = v + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        vd = vd + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return time.perf_counter() - t0


def time_rows(p: dict, rows: list[tuple[int, float, int]], K: int) -> tuple[float, float]:
    """Compile and run ``gsemm_capacity_point`` for one K group, vmapped over ``rows``."""
    t1 = max(p["t_min"], p["t_per_memory"] * K)
    q = {**p, "K": K, "K_max": K, "t1": t1, "n_save": int(np.ceil(t1 / p["save_every"]))}
    deg = jnp.asarray([r[0] for r in rows], jnp.int32)
    ac = jnp.asarray([r[1] for r in rows], jnp.float32)
    keys = jnp.stack([jax.random.PRNGKey(r[2]) for r in rows])
    fn = jax.jit(
        jax.vmap(lambda d, a, k: gsemm_capacity_point({**q, "degree": d, "alpha_c": a}, k))
    )
    t0 = time.perf_counter()
    compiled = fn.lower(deg, ac, keys).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(deg, ac, keys))
    return time.perf_counter() - t0, compile_s


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numpy-runs", type=int, default=2, help="trajectories timed with numpy")
    ap.add_argument("--shrink", type=float, default=200.0, help="horizon reduction for item 2")
    ap.add_argument("--chunk", type=int, default=8, help="rows per chunk for item 2")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)

    cfg = load_config(ROOT / "configs" / "gsemm_capacity.toml")[1]
    base = {f: getattr(cfg, f) for f in cfg.__dataclass_fields__}

    # 1. reduced grid: hopjax vmapped (one program per K, as the sweep runs it) vs numpy
    ks = [4, 8]
    rows = [(d, a, s) for d in (1, 3) for a in (0.1, 0.2) for s in (0, 1)]
    jax_s = compile_s = 0.0
    for K in ks:
        run_s, comp_s = time_rows(base, rows, K)
        jax_s, compile_s = jax_s + run_s, compile_s + comp_s
    steps = {K: round(max(base["t_min"], base["t_per_memory"] * K) / base["dt"]) for K in ks}
    traj = [(r, K) for r in rows for K in ks]
    total_steps = sum(steps[K] for _, K in traj)
    timed = traj[-args.numpy_runs :]  # the longest (K = 8) trajectories
    np_s = 0.0
    np_steps = 0
    for (d, a, s), K in timed:
        xi = np.asarray(random_bipolar(jax.random.PRNGKey(s), K, base["N_f"]))
        np_s += numpy_trajectory(xi, K, d, a, base)
        np_steps += steps[K]
    numpy_grid_s = np_s / np_steps * total_steps
    # 2. full Fig. 3 estimate: seconds per (row, RK4 step) at a few K, linear in K, shrunk horizon
    shrunk = {
        **base,
        "t_min": base["t_min"] / args.shrink,
        "t_per_memory": base["t_per_memory"] / args.shrink,
    }
    chunk_rows = [(15, 0.5, s) for s in range(args.chunk)]
    probe = {}
    for K in (16, 64, 128):
        run_s, _ = time_rows(shrunk, chunk_rows, K)
        n = round(max(shrunk["t_min"], shrunk["t_per_memory"] * K) / base["dt"])
        probe[K] = run_s / (args.chunk * n)
    slope, icpt = np.polyfit(list(probe), list(probe.values()), 1)
    n_rows = len(cfg.degree) * len(cfg.alpha_c) * cfg.seeds
    full_estimate = sum(
        n_rows
        * round(max(base["t_min"], base["t_per_memory"] * K) / base["dt"])
        * (icpt + slope * K)
        for K in cfg.K
    )

    result = {
        "device": device_name(),
        "reduced_grid": {
            "rows": len(rows),
            "trajectories": len(traj),
            "rk4_steps": total_steps,
            "hopjax_seconds": jax_s,
            "hopjax_compile_seconds": compile_s,
            "numpy_seconds_per_step": np_s / np_steps,
            "numpy_trajectories_timed": len(timed),
            "numpy_seconds_scaled_to_grid": numpy_grid_s,
            "speedup": numpy_grid_s / jax_s,
        },
        "full_fig3_estimate": {
            "rows_per_K": n_rows,
            "K": cfg.K,
            "chunk_rows": args.chunk,
            "shrink": args.shrink,
            "seconds_per_row_step": {str(k): v for k, v in probe.items()},
            "estimated_seconds": full_estimate,
            "estimated_hours": full_estimate / 3600,
            "numpy_estimated_hours": full_estimate / 3600 * numpy_grid_s / jax_s,
        },
    }
    r = result["reduced_grid"]
    print(
        f"[1] reduced Fig. 3 grid, {r['trajectories']} trajectories, {total_steps:.3g} RK4 steps: "
        f"hopjax vmapped {jax_s:.1f} s (+ compile {compile_s:.1f} s); numpy per trajectory "
        f"{r['numpy_seconds_per_step'] * 1e6:.1f} us/step -> {numpy_grid_s:.1f} s "
        f"-> speed-up {r['speedup']:.1f}x (target >= 100x)"
    )
    e = result["full_fig3_estimate"]
    print(
        f"[2] full configs/gsemm_capacity.toml ({n_rows} rows x {len(cfg.K)} K groups up to "
        f"K = {max(cfg.K)}): estimated {e['estimated_hours']:.1f} h on this machine "
        f"(numpy per trajectory: {e['numpy_estimated_hours']:.0f} h)"
    )
    save_results(args.out, f"gsemm-{result['device']}", result)


if __name__ == "__main__":
    main()
