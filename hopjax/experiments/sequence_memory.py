"""Store a sequence in an :class:`hopjax.layers.ODEMemory` and replay it from a noisy cue.

Two memories of the same sequence of ``K`` random bipolar patterns (``N`` units):

* ``gsemm`` — a Dense GSEMM (degree 3, reference form, β_d = 7) whose episode matrix is the
  cycle ``ξ1 → ξ2 → … → ξK → ξ1``; α_c and T_d default to values the ``tune_gsemm`` experiment
  found (Fig. 1's printed α_c = 0.007 stays on the cue);
* ``reasoning`` — the IDP reasoning model (Hadamard memories, which it needs to be exactly
  orthogonal; circulant reasoning matrix), replaying with period ``K τ_α ln a₊(γ)``.

The cue is the first pattern with ``flip_fraction`` of its bits flipped. The replay is decoded from
the layer's overlaps (leader above 0.8, recorded on change) and judged by appendix C's criterion
(in order ≥ 3 times, no error). The whole replay is one jitted forward pass; a batch of noisy cues
is one ``vmap``.

Run: ``python -m hopjax.experiments.sequence_memory [--out DIR]`` (about 20 s on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hopjax.gsemm import cycle_matrix, decode_sequence, episode_success, successor
from hopjax.layers import ODEMemory
from hopjax.patterns import flip, orthogonal_patterns, random_bipolar


def build(kind: str, K: int, N: int, key: jax.Array, t1: float) -> ODEMemory:
    """The ODE memory layer storing the sequence (module docstring)."""
    if kind == "gsemm":
        xi = random_bipolar(key, K, N)
        ts = jnp.linspace(1.0, t1, int(t1))
        return ODEMemory(xi, ts, kind="gsemm", phi=cycle_matrix(K), alpha_c=0.025, T_d=10.0, dt=0.1)
    xi = orthogonal_patterns(K, N)
    ts = jnp.linspace(5.0, t1, int(t1 / 5))
    return ODEMemory(xi, ts, kind="reasoning", gamma=6.0, tau_alpha=100.0, eps=1e-3, dt=0.1)


def replay(layer: ODEMemory, cues: jax.Array) -> dict[str, Any]:
    """Replay from each cue (vmapped); decode and judge each replay."""
    m = jax.jit(jax.vmap(layer))(cues)  # (B, T, K)
    succ = successor(cycle_matrix(layer.memories.shape[0]))

    def judge(mb: jax.Array) -> tuple:
        seq, count = decode_sequence(
            jnp.argmax(mb, 1), jnp.max(mb, 1), threshold=0.8, max_len=mb.shape[0]
        )
        ok, correct = episode_success(seq, count, succ, repeats=3)
        return ok & (seq[0] == 0), correct, seq[:12]

    ok, correct, seq = jax.vmap(judge)(m)
    return {"overlaps": m, "success": ok, "correct": correct, "sequence": seq}


def main(
    *,
    K: int = 6,
    N: int = 128,
    batch: int = 8,
    flip_fraction: float = 0.1,
    out: Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Run both memories on ``batch`` noisy cues; returns success rates (and plots to ``out``)."""
    key = jax.random.PRNGKey(seed)
    report = {}
    for kind, t1 in (("gsemm", 75.0 * K), ("reasoning", 4.0 * K * 100.0 * 1.5)):
        k_mem, k_cue = jax.random.split(jax.random.fold_in(key, len(kind)))
        layer = build(kind, K, N, k_mem, t1)
        cues = jax.vmap(lambda k, x=layer.memories[0]: flip(k, x, fraction=flip_fraction))(
            jax.random.split(k_cue, batch)
        )
        t0 = time.perf_counter()
        r = replay(layer, cues)
        jax.block_until_ready(r["overlaps"])
        report[kind] = {
            "success_rate": float(np.mean(np.asarray(r["success"]))),
            "correct_steps": np.asarray(r["correct"]).tolist(),
            "first_decoded": np.asarray(r["sequence"][0]).tolist(),
            "seconds": time.perf_counter() - t0,
        }
        if out is not None:
            _plot(layer, np.asarray(r["overlaps"][0]), kind, Path(out))
    return report


def _plot(layer: ODEMemory, m: np.ndarray, kind: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 3))
    ts = np.asarray(layer.ts)
    for k in range(m.shape[1]):
        ax.plot(ts, m[:, k], lw=1, label=f"ξ{k + 1}")
    ax.set(xlabel="t", ylabel="overlap", title=f"ODEMemory(kind={kind!r}) replay from a noisy cue")
    ax.legend(fontsize=7, ncol=m.shape[1])
    fig.tight_layout()
    fig.savefig(out / f"sequence_{kind}.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":  # pragma: no cover
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/sequence_memory"))
    ap.add_argument("--K", type=int, default=6)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    import json

    print(json.dumps(main(K=args.K, batch=args.batch, out=args.out), indent=1))
