"""Experiment ``sequence_memory``: store a sequence in an :class:`hopjax.nn.ODEMemory` and replay
it from noisy cues.

Per row (kind, seed), a memory of one sequence of ``K`` patterns of ``N`` units:

* ``gsemm`` — a Dense GSEMM (degree 3, reference form, β_d = 7) with ``K`` random memories and
  the episode matrix of the cycle ``ξ1 → ξ2 → … → ξK → ξ1``; α_c and T_d default to values the
  ``tune_gsemm`` experiment found (Fig. 1's printed α_c = 0.007 stays on the cue);
* ``reasoning`` — the IDP reasoning model (Hadamard memories, which it needs to be exactly
  orthogonal; circulant reasoning matrix), replaying with period ``K τ_α ln a₊(γ)``.

``batch`` cues — the first pattern with a fraction ``flip`` of its bits flipped — are replayed
(one ``vmap`` of the layer's jitted forward pass) and each replay is judged by
:meth:`hopjax.nn.ODEMemory.episode` (leader above ``threshold``, recorded on change, in order ≥
``repeats`` times without error). Metrics: ``success_rate``, ``correct_min`` / ``correct_mean``
(correct steps before the first error), ``first_steps`` (the first decoded memories of cue 0,
as a number: digits 1-based, e.g. 12345 for 1 → 2 → 3 → 4 → 5).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.gsemm import cycle_matrix
from hopjax.nn import ODEMemory
from hopjax.patterns import flip, orthogonal_patterns, random_bipolar
from hopjax.sweep import ConfigError, Experiment, Report, Row, RunContext, SweepConfig, param


@dataclasses.dataclass
class SequenceMemoryConfig(SweepConfig):
    """Config of ``sequence_memory`` (grid key: kind)."""

    kind: list[Literal["gsemm", "reasoning"]] = dataclasses.field(
        default_factory=lambda: ["gsemm", "reasoning"]
    )
    seeds: int = 1
    K: int = param(6, ge=2)
    """Patterns in the sequence."""
    N: int = 128
    """Units (a power of two: the reasoning kind uses Hadamard memories)."""
    batch: int = param(8, ge=1)
    """Noisy cues replayed per row."""
    flip: float = param(0.1, ge=0, lt=0.5)
    threshold: float = param(0.8, gt=0, lt=1)
    repeats: int = param(3, ge=1)
    alpha_c: float = param(0.025, gt=0)
    T_d: float = param(10.0, gt=0)
    gamma: float = param(6.0, gt=0)
    tau_alpha: float = param(100.0, gt=0)

    def check(self) -> None:
        super().check()
        if self.N < self.K or self.N & (self.N - 1):
            raise ConfigError(f"'N' must be a power of two >= K; got {self.N}.")


def horizon(p: dict[str, Any]) -> float:
    """Replay time: ``75 K`` (GSEMM), six periods' worth ``6 K τ_α`` (reasoning)."""
    return 75.0 * p["K"] if p["kind"] == "gsemm" else 6.0 * p["K"] * p["tau_alpha"]


def build(p: dict[str, Any], key: PRNGKeyArray) -> ODEMemory:
    """The layer storing the sequence (described in :mod:`experiments.sequence_memory`)."""
    K, N, t1 = p["K"], p["N"], horizon(p)
    if p["kind"] == "gsemm":
        ts = np.linspace(1.0, t1, int(t1))
        xi = random_bipolar(key, K, N)
        return ODEMemory(
            xi, ts, kind="gsemm", phi=cycle_matrix(K), alpha_c=p["alpha_c"], T_d=p["T_d"], dt=0.1
        )
    ts = np.linspace(5.0, t1, int(t1 / 5))
    xi = orthogonal_patterns(K, N)
    return ODEMemory(
        xi, ts, kind="reasoning", gamma=p["gamma"], tau_alpha=p["tau_alpha"], eps=1e-3, dt=0.1
    )


def cues(p: dict[str, Any], key: PRNGKeyArray, layer: ODEMemory) -> Array:
    """``batch`` noisy copies of the first pattern."""
    keys = jax.random.split(key, p["batch"])
    return jax.vmap(lambda k: flip(k, layer.memories[0], fraction=p["flip"]))(keys)


def sequence_memory_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Replay ``batch`` noisy cues and judge each replay (described in
    :mod:`experiments.sequence_memory`)."""
    k_mem, k_cue = jax.random.split(key)
    layer = build(p, k_mem)
    ep = jax.vmap(lambda c: layer.episode(c, threshold=p["threshold"], repeats=p["repeats"]))(
        cues(p, k_cue, layer)
    )
    first = ep.seq[0, :5]
    digits = jnp.where(first >= 0, first + 1, 0)
    return {
        "success_rate": jnp.mean(ep.success.astype(jnp.float32)),
        "correct_min": jnp.min(ep.correct_steps).astype(jnp.float32),
        "correct_mean": jnp.mean(ep.correct_steps.astype(jnp.float32)),
        "first_steps": jnp.sum(digits * 10 ** jnp.arange(4, -1, -1)).astype(jnp.float32),
    }


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per kind: mean success rate over seeds and the worst correct-step count."""
    out: dict[str, Any] = {}
    for kind in ctx.cfg.kind:
        rs = [r for r in rows if r["kind"] == kind]
        out[kind] = {
            "success_rate": float(np.mean([r["success_rate"] for r in rs])),
            "correct_min": float(min(r["correct_min"] for r in rs)),
            "seeds": len(rs),
        }
    return {"K": ctx.cfg.K, "flip": ctx.cfg.flip, "cues_per_seed": ctx.cfg.batch, "kinds": out}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``sequence_<kind>.png``: the overlaps of the first replay of each kind (first seed)."""
    paths = []
    seed0 = min(r["seed"] for r in rows)
    picked = [r for r in rows if r["seed"] == seed0]

    def trace(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, Array]:
        k_mem, k_cue = jax.random.split(key)
        layer = build(p, k_mem)
        return layer.ts, layer(cues(p, k_cue, layer)[0])

    for r, (ts, m) in zip(picked, ctx.rerun(picked, trace), strict=True):
        fig, ax = hplot.overlap_traces(ts, m)
        ax.set_title(
            f"ODEMemory(kind={r['kind']!r}) replay from a noisy cue; {ax.get_title()}", fontsize=9
        )
        paths.append(ctx.save(fig, f"sequence_{r['kind']}.png"))
    return paths


EXPERIMENT = Experiment(
    name="sequence_memory",
    config=SequenceMemoryConfig,
    fn=sequence_memory_point,
    static=("kind",),
    metrics=("success_rate", "correct_min", "correct_mean", "first_steps"),
    description="ODEMemory layers (Dense GSEMM, IDP reasoning) replay a sequence from noisy cues",
    report=Report(summarize=summarize, plot=plot, headline=("kinds",)),
)
