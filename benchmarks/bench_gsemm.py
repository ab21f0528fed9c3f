"""GSEMM capacity benchmark (the GSEMM paper's Fig. 3 protocol), measured in one process.

1. A reduced Fig. 3 grid — degrees {1, 3} × α_c {0.1, 0.2} × 2 seeds × K {4, 8}, RK4
   dt = 0.01, each row run to its decision — as one vmapped hopjax program per K
   (``gsemm_capacity_point``, the ``gsemm_capacity`` experiment's row) against a
   straightforward numpy per-trajectory RK4 loop (the reference code's structure: one trajectory
   at a time, a Python loop over steps), timed on ``--numpy-runs`` trajectories and scaled by
   step count.
2. RK4 throughput of the ensemble against this machine's numpy float32 GEMM rate on the step's
   shapes, for K = 32, 64, 128: ``--slots`` rows of one seed (every degree 1–15, α_c 0.2–1.0)
   advanced ``--blocks`` blocks of the experiment's stepper, the memories shared by the rows
   (the engine's pool: the products are matrix–matrix) and, for reference, copied per row
   (the per-row program: batched matrix–vector products). Useful flops per row and RK4 step:
   4 stages × (ξ·[s, V_d] + σ_h(h)·ξ) = 4 × 3 × 2 K N_f; numpy runs the same three products
   for all slots as two GEMMs, (2·slots, N_f)·(N_f, K) and (slots, K)·(K, N_f). The shared
   rows are timed twice: ``σ_h`` by exponentiation by squaring (``integer_power``, the
   default) and by ``pow``.

Writes ``runs/benchmarks/gsemm-<device>.json`` (``--update``: ``benchmarks/results/``;
``--out`` elsewhere).
Run: ``python benchmarks/bench_gsemm.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, best_time, device_name, output_args, output_dir, save_results

sys.path.insert(0, str(ROOT))  # the experiments/ folder
from experiments.gsemm_capacity import EPISODE, _prepare, gsemm_capacity_point, memories
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


def time_rows(p: dict, rows: list[tuple[int, float, int]], K: int) -> tuple[float, float, int]:
    """Compile and run ``gsemm_capacity_point`` for one K group, vmapped over ``rows``: run and
    compile seconds, RK4 steps executed (rows stop at their decision)."""
    q = {**p, "K": K, **_prepare(SimpleNamespace(**p), {"K": K})}
    deg = jnp.asarray([r[0] for r in rows], jnp.int32)
    ac = jnp.asarray([r[1] for r in rows], jnp.float32)
    keys = jnp.stack([jax.random.PRNGKey(r[2]) for r in rows])

    def row(d: jax.Array, a: jax.Array, k: jax.Array) -> dict:
        p_row = {**q, "degree": d, "alpha_c": a}
        return gsemm_capacity_point(p_row, k, memories(p_row, k))

    fn = jax.jit(jax.vmap(row))
    t0 = time.perf_counter()
    compiled = fn.lower(deg, ac, keys).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(deg, ac, keys))
    return time.perf_counter() - t0, compile_s, int(np.sum(out["rk4_steps"]))


def throughput(
    p: dict, K: int, slots: int, blocks: int, shared: bool, integer_power: bool = True
) -> dict[str, float]:
    """Row-steps per second of ``blocks`` blocks of :data:`EPISODE` over ``slots`` rows of one
    seed (degrees 1–15 and α_c 0.2–1.0 cycled), memories shared or copied per row, ``σ_h`` by
    squaring (``integer_power``, the config's default) or by ``pow``."""
    q = {
        **p,
        "K": K,
        **_prepare(SimpleNamespace(**{**p, "integer_power": integer_power}), {"K": K}),
    }
    deg = jnp.asarray([1 + i % 15 for i in range(slots)], jnp.int32)
    ac = jnp.asarray([0.2 + 0.1 * (i % 9) for i in range(slots)], jnp.float32)
    key = jax.random.PRNGKey(0)
    xi = memories({**q, "K_max": K}, key)
    xis = jnp.broadcast_to(xi, (slots, *xi.shape)) if not shared else xi
    ax = None if shared else 0

    def init(d: jax.Array, a: jax.Array, x: jax.Array) -> object:
        return EPISODE.init({**q, "degree": d, "alpha_c": a}, key, x)

    def advance(d: jax.Array, a: jax.Array, st: object, x: jax.Array) -> object:
        return EPISODE.advance({**q, "degree": d, "alpha_c": a}, st, x)

    state = jax.jit(jax.vmap(init, in_axes=(0, 0, ax)))(deg, ac, xis)
    step = jax.vmap(advance, in_axes=(0, 0, 0, ax))
    run = jax.jit(lambda st, x: jax.lax.fori_loop(0, blocks, lambda _, s: step(deg, ac, s, x), st))
    seconds = best_time(lambda: jax.block_until_ready(run(state, xis)), repeats=2)
    steps = blocks * p["block"] * round(p["save_every"] / p["dt"])
    flops = slots * steps * 24 * K * p["N_f"]
    return {"seconds": seconds, "row_steps": slots * steps, "gflops": flops / seconds / 1e9}


def numpy_gemm_rate(K: int, n_f: int, slots: int, repeats: int = 200) -> float:
    """GFLOP/s of numpy float32 on one RK4 stage's products for ``slots`` rows."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2 * slots, n_f)).astype(np.float32)
    xt = rng.standard_normal((n_f, K)).astype(np.float32)
    b = rng.standard_normal((slots, K)).astype(np.float32)
    x = np.ascontiguousarray(xt.T)
    o1, o2 = np.empty((2 * slots, K), np.float32), np.empty((slots, n_f), np.float32)

    def stages() -> None:
        for _ in range(repeats):
            np.matmul(a, xt, out=o1)
            np.matmul(b, x, out=o2)

    seconds = best_time(stages, repeats=3)
    return repeats * 6 * slots * K * n_f / seconds / 1e9


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numpy-runs", type=int, default=2, help="trajectories timed with numpy")
    ap.add_argument("--slots", type=int, default=64, help="rows advanced together in item 2")
    ap.add_argument("--blocks", type=int, default=2, help="stepper blocks timed in item 2")
    output_args(ap)
    args = ap.parse_args(argv)

    cfg = load_config(ROOT / "configs" / "gsemm_capacity.toml")[1]
    base = {f: getattr(cfg, f) for f in cfg.__dataclass_fields__}

    # 1. reduced grid: hopjax vmapped (one program per K, as the sweep runs it) vs numpy
    ks = [4, 8]
    rows = [(d, a, s) for d in (1, 3) for a in (0.1, 0.2) for s in (0, 1)]
    jax_s = compile_s = 0.0
    total_steps = 0
    for K in ks:
        run_s, comp_s, n = time_rows(base, rows, K)
        jax_s, compile_s, total_steps = jax_s + run_s, compile_s + comp_s, total_steps + n
    steps = {K: round(max(base["t_min"], base["t_per_memory"] * K) / base["dt"]) for K in ks}
    traj = [(r, K) for r in rows for K in ks]
    timed = traj[-args.numpy_runs :]  # the longest (K = 8) trajectories
    np_s = 0.0
    np_steps = 0
    for (d, a, s), K in timed:
        xi = np.asarray(random_bipolar(jax.random.PRNGKey(s), K, base["N_f"]))
        np_s += numpy_trajectory(xi, K, d, a, base)
        np_steps += steps[K]
    numpy_grid_s = np_s / np_steps * total_steps
    # 2. throughput against numpy GEMM on the step's shapes, memories shared vs per row
    tput = {}
    for K in (32, 64, 128):
        sh = throughput(base, K, args.slots, args.blocks, shared=True)
        per_row = throughput(base, K, args.slots, args.blocks, shared=False)
        with_pow = throughput(base, K, args.slots, args.blocks, shared=True, integer_power=False)
        gemm = numpy_gemm_rate(K, base["N_f"], args.slots)
        tput[str(K)] = {
            "shared": sh,
            "per_row": per_row,
            "shared_pow": with_pow,
            "pow_fraction_of_gemm": with_pow["gflops"] / gemm,
            "squared_over_pow": with_pow["seconds"] / sh["seconds"],
            "numpy_gemm_gflops": gemm,
            "fraction_of_gemm": sh["gflops"] / gemm,
            "per_row_fraction_of_gemm": per_row["gflops"] / gemm,
            "shared_over_per_row": per_row["seconds"] / sh["seconds"],
        }
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
        "throughput": {"slots": args.slots, "blocks": args.blocks, "K": tput},
    }
    r = result["reduced_grid"]
    print(
        f"[1] reduced Fig. 3 grid, {r['trajectories']} trajectories, {total_steps:.3g} RK4 steps: "
        f"hopjax vmapped {jax_s:.1f} s (+ compile {compile_s:.1f} s); numpy per trajectory "
        f"{r['numpy_seconds_per_step'] * 1e6:.1f} us/step -> {numpy_grid_s:.1f} s "
        f"-> speed-up {r['speedup']:.1f}x (target >= 100x)"
    )
    for K, t in tput.items():
        print(
            f"[2] K = {K}, {args.slots} rows: shared memories {t['shared']['gflops']:.1f} GFLOP/s "
            f"= {t['fraction_of_gemm']:.2f} of numpy GEMM ({t['numpy_gemm_gflops']:.1f} GFLOP/s, "
            f"target >= 0.6); per-row copies {t['per_row']['gflops']:.1f} GFLOP/s "
            f"({t['per_row_fraction_of_gemm']:.2f}); "
            f"shared {t['shared_over_per_row']:.1f}x faster; "
            f"sigma_h by pow instead of squaring {t['shared_pow']['gflops']:.1f} GFLOP/s "
            f"({t['pow_fraction_of_gemm']:.2f}; squaring {t['squared_over_pow']:.2f}x faster)"
        )
    save_results(output_dir(args), f"gsemm-{result['device']}", result)


if __name__ == "__main__":
    main()
