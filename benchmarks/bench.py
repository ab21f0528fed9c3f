"""hopjax speed benchmarks, every figure measured in the same run on the same machine.

1. Batched synchronous retrieval, N = 1000, P = 100, batch 1024, 20 steps: neuron-updates/s,
   and the fraction of this machine's numpy float32 GEMM rate on the same shapes
   ((1024, 1000) × (1000, 1000), 20 times) — target ≥ 0.85.
2. The same workload with the pip packages ``hopfieldnetwork`` and ``neurodynex3`` (their own
   per-state update loops, timed on a subset of the batch and scaled to 1024 states) as a
   speed-up ratio — target ≥ 300×.
3. The quickstart sweep (configs/quickstart.toml): wall time split into compile and run.

Writes ``runs/benchmarks/<device>.json`` (``--update``: ``benchmarks/results/``, the committed
figures). Run: ``python benchmarks/bench.py``
(peers: ``pip install '.[bench]' && pip install --no-deps neurodynex3``; see README).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import hopjax as hj
from hopjax.sweep import load_config, run_sweep

ROOT = Path(__file__).resolve().parents[1]
N, P, BATCH, STEPS = 1000, 100, 1024, 20


COMMITTED = ROOT / "benchmarks" / "results"
"""The figures the docs quote (``--update`` writes here)."""
LOCAL = ROOT / "runs" / "benchmarks"
"""Where a benchmark writes by default: untracked (``runs/`` is git-ignored)."""


def output_args(ap: argparse.ArgumentParser) -> None:
    """``--out DIR`` and ``--update`` (write the committed figures) for every benchmark."""
    ap.add_argument("--out", type=Path, default=None, help=f"folder for the JSON (default {LOCAL})")
    ap.add_argument(
        "--update",
        action="store_true",
        help=f"write to {COMMITTED} (the committed figures the docs quote)",
    )


def output_dir(args: argparse.Namespace) -> Path:
    """``--out``, else the committed folder with ``--update``, else the untracked one."""
    if args.out is not None:
        return args.out
    return COMMITTED if args.update else LOCAL


def save_results(out_dir: Path, name: str, result: dict) -> Path:
    """Write ``result`` as ``<out_dir>/<name>.json`` (creating the folder) and say where."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return path


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def workload(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Patterns (P, N) and cues (BATCH, N) with 10% flipped bits, as float32 numpy arrays."""
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    xi = hj.random_bipolar(k1, P, N)
    idx = jax.random.randint(k2, (BATCH,), 0, P)
    cues = jax.vmap(lambda k, s: hj.flip(k, s, fraction=0.1))(jax.random.split(k3, BATCH), xi[idx])
    return np.asarray(xi), np.asarray(cues)


def bench_hopjax(xi: np.ndarray, cues: np.ndarray, repeats: int) -> dict[str, float]:
    model = hj.Hopfield.from_patterns(jnp.asarray(xi))

    @jax.jit
    def fixed_steps(model: hj.Hopfield, s: jax.Array) -> jax.Array:
        return jax.lax.fori_loop(0, STEPS, lambda _, s: jax.vmap(model.step)(s), s)

    @jax.jit
    def until_fixed_point(model: hj.Hopfield, s: jax.Array) -> hj.RunResult:
        return jax.vmap(lambda x: hj.run(model, x, max_steps=STEPS))(s)

    s = jax.device_put(jnp.asarray(cues))
    t_fixed = best_time(lambda: fixed_steps(model, s).block_until_ready(), repeats)
    t_run = best_time(lambda: until_fixed_point(model, s).state.block_until_ready(), repeats)
    res = until_fixed_point(model, s)
    return {
        "seconds_20_steps": t_fixed,
        "neuron_updates_per_s": BATCH * N * STEPS / t_fixed,
        "seconds_run_to_fixed_point": t_run,
        "run_mean_steps": float(res.steps.mean()),
    }


def bench_numpy_gemm(xi: np.ndarray, cues: np.ndarray, repeats: int) -> dict[str, float]:
    w = (xi.T @ xi / N).astype(np.float32)
    s = cues.astype(np.float32)

    def gemms() -> None:
        x = s
        for _ in range(STEPS):
            x = x @ w.T  # the matrix product alone, without the sign: an upper bound
        return x

    t = best_time(gemms, repeats)
    return {"seconds_20_gemms": t, "gflops": 2 * BATCH * N * N * STEPS / t / 1e9}


def bench_peers(xi: np.ndarray, cues: np.ndarray, subset: int) -> dict[str, dict[str, float]]:
    """Per-state loops of the peer packages on ``subset`` cues, scaled to the whole batch."""
    out: dict[str, dict[str, float]] = {}
    xi_int = xi.astype(np.int8)
    try:
        import hopfieldnetwork

        net = hopfieldnetwork.HopfieldNetwork(N)
        net.train_pattern(xi_int.T)  # (N, P): one column per pattern

        def run_hn() -> None:
            for s in cues[:subset]:
                net.set_initial_neurons_state(s.astype(np.int8).copy())
                net.update_neurons(STEPS, "sync")

        t = best_time(run_hn, 1)
        out["hopfieldnetwork"] = {"seconds_subset": t, "subset": subset}
    except ImportError as e:
        out["hopfieldnetwork"] = {"unavailable": str(e)}
    try:
        from neurodynex3.hopfield_network import network

        net2 = network.HopfieldNetwork(N)
        # its store_patterns is an O(P N²) Python double loop: set the same Hebbian weights
        w = xi.T.astype(np.float64) @ xi / N
        np.fill_diagonal(w, 0)
        net2.weights = w
        net2.set_dynamics_sign_sync()

        def run_nd() -> None:
            for s in cues[:subset]:
                net2.set_state_from_pattern(s.astype(np.int64))
                net2.run(STEPS)

        t = best_time(run_nd, 1)
        out["neurodynex3"] = {"seconds_subset": t, "subset": subset}
    except ImportError as e:
        out["neurodynex3"] = {"unavailable": str(e)}
    for v in out.values():
        if "seconds_subset" in v:
            v["seconds_full_batch"] = v["seconds_subset"] * BATCH / subset
    return out


def bench_quickstart() -> dict[str, float]:
    exp, cfg = load_config(ROOT / "configs" / "quickstart.toml")
    with tempfile.TemporaryDirectory() as tmp:
        res = run_sweep(cfg, tmp, exp=exp, progress=False)
    m = res.metadata
    return {
        "rows": len(res.rows),
        "wall_seconds": m["wall_seconds"],
        "compile_seconds": m["compile_seconds"],
        "run_seconds": m["run_seconds"],
    }


def device_name() -> str:
    d = jax.devices()[0]
    kind = d.device_kind if d.platform != "cpu" else f"{os.cpu_count()}cores"
    return re.sub(r"[^a-z0-9]+", "-", f"{d.platform}-{kind}".lower()).strip("-")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks, print the ratios and write ``benchmarks/results/<device>.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peer-subset", type=int, default=32, help="cues timed for each peer")
    ap.add_argument("--skip-quickstart", action="store_true")
    output_args(ap)
    args = ap.parse_args(argv)

    xi, cues = workload()
    ours = bench_hopjax(xi, cues, args.repeats)
    gemm = bench_numpy_gemm(xi, cues, args.repeats)
    peers = bench_peers(xi, cues, args.peer_subset)
    result = {
        "device": device_name(),
        "devices": [str(d) for d in jax.devices()],
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "numpy": np.__version__,
        "workload": {"N": N, "P": P, "batch": BATCH, "steps": STEPS},
        "hopjax": ours,
        "numpy_gemm": gemm,
        "fraction_of_numpy_gemm": gemm["seconds_20_gemms"] / ours["seconds_20_steps"],
        "peers": peers,
        "speedup_vs_peers": {
            name: v["seconds_full_batch"] / ours["seconds_20_steps"]
            for name, v in peers.items()
            if "seconds_full_batch" in v
        },
    }
    if not args.skip_quickstart:
        result["quickstart"] = bench_quickstart()

    print(f"device: {result['device']}  ({', '.join(result['devices'])})")
    print(
        f"[1] batched sync retrieval N={N} P={P} batch={BATCH} {STEPS} steps: "
        f"{ours['seconds_20_steps'] * 1e3:.1f} ms, {ours['neuron_updates_per_s']:.3g} "
        f"neuron-updates/s; numpy float32 GEMM alone {gemm['seconds_20_gemms'] * 1e3:.1f} ms "
        f"({gemm['gflops']:.1f} GFLOP/s) -> fraction of GEMM rate "
        f"{result['fraction_of_numpy_gemm']:.2f} (target >= 0.85)"
    )
    print(
        f"    run() to a fixed point (max {STEPS} steps, mean {ours['run_mean_steps']:.2f}): "
        f"{ours['seconds_run_to_fixed_point'] * 1e3:.1f} ms"
    )
    for name, v in peers.items():
        if "seconds_full_batch" in v:
            print(
                f"[2] {name}: {v['seconds_full_batch']:.2f} s for the batch (timed on "
                f"{v['subset']} states) -> hopjax speed-up "
                f"{result['speedup_vs_peers'][name]:.0f}x (target >= 300x)"
            )
        else:
            print(f"[2] {name}: not installed ({v['unavailable']})")
    if "quickstart" in result:
        q = result["quickstart"]
        print(
            f"[3] quickstart sweep ({q['rows']} rows): wall {q['wall_seconds']:.1f} s = compile "
            f"{q['compile_seconds']:.1f} s + run {q['run_seconds']:.1f} s (+ I/O, summary, plots)"
        )
    save_results(output_dir(args), result["device"], result)


if __name__ == "__main__":
    main()
