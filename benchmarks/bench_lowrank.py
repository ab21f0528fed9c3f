"""The Hebbian network held as its patterns (``hopjax.lowrank.LowRankHebbian``) against the same
network with its ``N × N`` weights (``Hopfield.from_patterns``), in the same process.

Workload per N: ``P = 0.14 N`` random patterns, 64 cues with 10% flipped bits, synchronous
retrieval (``hopjax.run``, at most 20 steps) vmapped over the cues. Prints, per N, the time to
build the network, the retrieval time (best of ``--repeats`` after a warm-up), the ratio
weights / patterns, the memory of each form, and that the final states are identical. Writes
``runs/benchmarks/lowrank-<device>.json`` (``--update``: ``benchmarks/results/``).
Run: ``python benchmarks/bench_lowrank.py`` (``--n 1024 2048`` for a shorter run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import best_time, device_name, output_args, output_dir, save_results

import hopjax as hj
from hopjax.lowrank import LowRankHebbian

CUES = 64
LOAD = 0.14


def bench_n(n: int, repeats: int) -> dict[str, float]:
    """Build and retrieval times of both forms at ``N = n``; raises if their states differ."""
    p = round(LOAD * n)
    k_xi, k_cue = jax.random.split(jax.random.PRNGKey(n))
    xi = hj.random_bipolar(k_xi, p, n)
    cues = jax.vmap(lambda k, s: hj.flip(k, s, fraction=0.1))(
        jax.random.split(k_cue, CUES), xi[:CUES]
    )

    def retrieve(model: hj.AbstractBinaryMemory) -> jax.Array:
        return jax.vmap(lambda s: hj.run(model, s, max_steps=20).state)(cues)

    out: dict[str, float] = {"N": n, "P": p}
    states = {}
    for name, build in (
        ("weights", lambda: hj.Hopfield.from_patterns(xi)),
        ("patterns", lambda: LowRankHebbian(xi)),
    ):
        t0 = time.perf_counter()
        model = jax.block_until_ready(build())
        out[f"{name}_build_s"] = time.perf_counter() - t0
        fn = jax.jit(retrieve)
        out[f"{name}_retrieve_s"] = best_time(
            lambda f=fn, m=model: f(m).block_until_ready(), repeats
        )
        states[name] = np.asarray(fn(model))
        leaves = jax.tree.leaves(model)
        out[f"{name}_mb"] = sum(a.size * a.dtype.itemsize for a in leaves) / 2**20
    if not np.array_equal(states["weights"], states["patterns"]):
        raise AssertionError(f"N = {n}: the two forms retrieved different states")
    out["speedup"] = out["weights_retrieve_s"] / out["patterns_retrieve_s"]
    out["memory_ratio"] = out["weights_mb"] / out["patterns_mb"]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    ap.add_argument("--repeats", type=int, default=3)
    output_args(ap)
    args = ap.parse_args(argv)
    rows = []
    print(
        f"{'N':>6} {'P':>6} {'W [s]':>8} {'Ξ [s]':>8} {'speed-up':>9} {'W [MB]':>8} {'Ξ [MB]':>8}"
    )
    for n in args.n:
        r = bench_n(n, args.repeats)
        rows.append(r)
        print(
            f"{n:>6} {r['P']:>6} {r['weights_retrieve_s']:>8.3f} {r['patterns_retrieve_s']:>8.3f} "
            f"{r['speedup']:>8.2f}x {r['weights_mb']:>8.1f} {r['patterns_mb']:>8.1f}  (same states)"
        )
    result = {"device": device_name(), "cues": CUES, "load": LOAD, "rows": rows}
    save_results(output_dir(args), f"lowrank-{device_name()}", result)


if __name__ == "__main__":
    main()
