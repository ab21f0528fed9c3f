"""Dense-memory retrieval benchmark: batched DenseAM and ModernHopfield vs numpy, same run.

1. ``DenseAM`` (exponential separation, exact energy-difference update), N = 256, P = 4096,
   a batch of ``--batch`` cues with 10% flipped bits, ``--steps`` synchronous steps, as one
   jitted vmapped program, against numpy running the same batched update (the same four-vector
   formulation as float32 matrix products — a strong reference, not a per-state loop).
2. ``ModernHopfield`` one-step retrieval ``Xᵀ softmax(β X q)``, d = 256, P = 4096, the same
   batch, against numpy's batched softmax attention.

Prints states/s and the ratio; writes ``runs/benchmarks/dense-<device>.json``
(``--update``: ``benchmarks/results/``).
Run: ``python benchmarks/bench_dense.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import device_name, output_args, output_dir, save_results

from hopjax.dense import DenseAM, ModernHopfield
from hopjax.patterns import flip, random_bipolar


def numpy_dam_steps(xi: np.ndarray, S: np.ndarray, steps: int) -> np.ndarray:
    """Exact exponential-DAM synchronous steps for a batch ``S`` (B, N) in numpy."""
    for _ in range(steps):
        X = S @ xi.T  # (B, P)
        shift = X.max(axis=1, keepdims=True) + 1.0
        cols = []
        for sv in (1.0, -1.0):
            dp = np.exp((X - sv) + 1 - shift) - np.exp((X - sv) - 1 - shift)
            dm = np.exp((X + sv) - 1 - shift) - np.exp((X + sv) + 1 - shift)
            cols.append(0.5 * (dp + dm).sum(1, keepdims=True) + 0.5 * (dp - dm) @ xi)
        h = np.where(S > 0, cols[0], cols[1])
        S = np.where(h > 0, 1.0, np.where(h < 0, -1.0, S)).astype(np.float32)
    return S


def timed(fn, *args, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, default=256)
    ap.add_argument("--P", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    output_args(ap)
    args = ap.parse_args()
    xi = random_bipolar(jax.random.PRNGKey(0), args.P, args.N)
    keys = jax.random.split(jax.random.PRNGKey(1), args.batch)
    cues = jax.vmap(lambda k, x: flip(k, x, fraction=0.1))(keys, xi[: args.batch])
    out: dict = {"device": device_name(), "jax": jax.__version__, **vars(args)}

    dam = DenseAM(xi, "exponential")

    @jax.jit
    def dam_run(s: jax.Array) -> jax.Array:
        return jax.lax.fori_loop(0, args.steps, lambda i, s: jax.vmap(dam.step)(s), s)

    jax.block_until_ready(dam_run(cues))
    t_jax = timed(dam_run, cues)
    xi_np, cues_np = np.asarray(xi), np.asarray(cues)
    t0 = time.perf_counter()
    ref = numpy_dam_steps(xi_np, cues_np, args.steps)
    t_np = time.perf_counter() - t0
    agree = float(np.mean(np.all(ref == np.asarray(dam_run(cues)), axis=1)))
    rate = args.batch * args.steps
    out["dense_am"] = {
        "hopjax_s": t_jax,
        "numpy_s": t_np,
        "hopjax_state_updates_per_s": rate / t_jax,
        "numpy_state_updates_per_s": rate / t_np,
        "ratio": t_np / t_jax,
        "agreement": agree,
    }
    print(
        f"DenseAM exp N={args.N} P={args.P} batch={args.batch} x{args.steps} steps: hopjax"
        f" {rate / t_jax:.3g}/s, numpy {rate / t_np:.3g}/s -> {t_np / t_jax:.1f}x"
        f" (agreement {agree:.3f})"
    )

    X = xi / np.sqrt(args.N)
    mh = ModernHopfield(X, beta=8.0)
    q = cues / np.sqrt(args.N)
    mh_run = jax.jit(jax.vmap(mh.step))
    jax.block_until_ready(mh_run(q))
    t_jax = timed(mh_run, q)
    Xn, qn = np.asarray(X), np.asarray(q)

    def np_step() -> np.ndarray:
        z = 8.0 * qn @ Xn.T
        w = np.exp(z - z.max(1, keepdims=True))
        return (w / w.sum(1, keepdims=True)) @ Xn

    t_np = min(timed(np_step) for _ in range(1))
    np.testing.assert_allclose(np_step(), np.asarray(mh_run(q)), rtol=1e-3, atol=1e-4)
    out["modern_hopfield"] = {
        "hopjax_s": t_jax,
        "numpy_s": t_np,
        "hopjax_queries_per_s": args.batch / t_jax,
        "numpy_queries_per_s": args.batch / t_np,
        "ratio": t_np / t_jax,
    }
    print(
        f"ModernHopfield d={args.N} P={args.P} batch={args.batch}: hopjax"
        f" {args.batch / t_jax:.3g} queries/s, numpy {args.batch / t_np:.3g}/s"
        f" -> {t_np / t_jax:.1f}x"
    )
    save_results(output_dir(args), f"dense-{out['device']}", out)


if __name__ == "__main__":
    main()
