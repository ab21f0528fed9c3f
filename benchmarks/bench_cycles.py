"""Cycle-tool benchmark: exhaustive census and batched Brent cycle detection, hopjax vs numpy.

1. ``census`` of a random asymmetric Gaussian network on n = 20 units (2^20 states): states/s
   of :func:`hopjax.cycles.census` (successors of every state as one vectorised program, pointer
   doubling) against a numpy reference with the same algorithm (successors in chunks by a
   float32 GEMM, then ``succ[succ]`` doubling and the min-label pass); results checked equal.
2. ``find_cycle`` vmapped over ``--starts`` random starts of a prime-ring network
   (``m = 3``, primes 2…13, period 30030, O(n) stepper): network updates/s against a numpy
   reference (Brent's algorithm, one start at a time, the same O(n) cluster-majority step);
   periods checked equal.

Writes ``runs/benchmarks/cycles-<device>.json`` (``--update``: ``benchmarks/results/``).
Run: ``python benchmarks/bench_cycles.py``.
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
from bench import device_name, output_args, output_dir, save_results

from hopjax.cycles import PrimeRings, census, find_cycle
from hopjax.sequence import gaussian_couplings


def numpy_census(W: np.ndarray, chunk: int = 1 << 14) -> tuple[int, int]:
    """Same algorithm in numpy: (number of cycles, longest period)."""
    n = W.shape[0]
    total = 1 << n
    succ = np.empty(total, np.int64)
    weights = 1 << np.arange(n)
    for start in range(0, total, chunk):
        x = np.arange(start, start + chunk)
        s = (2 * ((x[:, None] >> np.arange(n)) & 1) - 1).astype(np.float32)
        h = s @ W.T
        new = np.where(h > 0, 1, np.where(h < 0, -1, s))
        succ[start : start + chunk] = (new > 0) @ weights
    jump = succ.copy()
    for _ in range(n):
        jump = jump[jump]
    on = np.zeros(total, bool)
    on[jump] = True
    lab, j = np.arange(total), succ.copy()
    for _ in range(n + 1):
        lab = np.minimum(lab, lab[j])
        j = j[j]
    heads = on & (lab == np.arange(total))
    lengths = np.bincount(lab[on], minlength=total)
    return int(heads.sum()), int(lengths[heads].max())


def numpy_brent(net: PrimeRings, s0: np.ndarray) -> tuple[int, int]:
    """Brent's algorithm with the O(n) cluster-majority step; returns (period, steps taken)."""
    pred, m = net.predecessors(), net.m

    def step(s: np.ndarray) -> np.ndarray:
        maj = np.sign(s.reshape(-1, m).sum(1))[pred]
        return np.repeat(maj, m)

    power = lam = 1
    tort, hare, steps = s0, step(s0), 1
    while not np.array_equal(tort, hare):
        if power == lam:
            tort, power, lam = hare, power * 2, 0
        hare, lam, steps = step(hare), lam + 1, steps + 1
    return lam, steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="census size (2^n states)")
    ap.add_argument("--starts", type=int, default=64, help="batched find_cycle starts")
    ap.add_argument("--numpy-starts", type=int, default=4, help="numpy Brent runs timed")
    output_args(ap)
    args = ap.parse_args()
    out: dict = {"device": device_name(), "jax": jax.__version__}

    W = gaussian_couplings(jax.random.PRNGKey(0), args.n)
    census(W)  # compile
    t0 = time.perf_counter()
    c = census(W)
    t_jax = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = numpy_census(np.asarray(W))
    t_np = time.perf_counter() - t0
    assert ref == (c.num_cycles, int(c.lengths.max())), (ref, c.num_cycles)
    states = 1 << args.n
    out["census"] = {
        "n": args.n,
        "hopjax_s": t_jax,
        "numpy_s": t_np,
        "hopjax_states_per_s": states / t_jax,
        "numpy_states_per_s": states / t_np,
        "speedup": t_np / t_jax,
        "num_cycles": c.num_cycles,
    }
    print(
        f"census n={args.n}: hopjax {states / t_jax:.3g} states/s, numpy {states / t_np:.3g}"
        f" states/s -> {t_np / t_jax:.1f}x"
    )

    net = PrimeRings(3, (2, 3, 5, 7, 11, 13))
    starts = net.sample_cycles(jax.random.PRNGKey(1), args.starts)
    run = jax.jit(jax.vmap(lambda s: find_cycle(net.step, s)))
    jax.block_until_ready(run(starts))
    t0 = time.perf_counter()
    _, lam, _, _ = jax.block_until_ready(run(starts))
    t_jax = time.perf_counter() - t0
    steps_np, t_np = 0, 0.0
    for s in np.asarray(starts[: args.numpy_starts]):
        t0 = time.perf_counter()
        period, steps = numpy_brent(net, s)
        t_np += time.perf_counter() - t0
        steps_np += steps
        assert period == net.max_period
    assert bool(jnp.all(lam == net.max_period))
    # hopjax steps: phase 1 (~2λ for Brent) + phase 2 (λ + μ); count them like numpy's phase 1
    per_start_np = steps_np / args.numpy_starts
    rate_np = steps_np / t_np
    rate_jax = args.starts * per_start_np / t_jax  # phase-1 updates/s (phase 2 is extra work)
    out["find_cycle"] = {
        "n": net.n,
        "period": net.max_period,
        "starts": args.starts,
        "hopjax_s": t_jax,
        "hopjax_updates_per_s": rate_jax,
        "numpy_updates_per_s": rate_np,
        "speedup": rate_jax / rate_np,
    }
    print(
        f"find_cycle n={net.n} period={net.max_period} x{args.starts}: hopjax"
        f" {rate_jax:.3g} updates/s, numpy {rate_np:.3g} updates/s -> {rate_jax / rate_np:.1f}x"
    )
    save_results(output_dir(args), f"cycles-{out['device']}", out)


if __name__ == "__main__":
    main()
