"""Experiment ``attractor_labels``: what a classical Hopfield network ends in, cue by cue, as the
load grows — so a capacity curve shows what failure looks like.

Per row (rule, mode, N, α, seed): ``P = round(αN)`` random patterns stored by the rule
(Hebbian, Storkey or pseudo-inverse, zero diagonal); ``cues`` of them (the first ones) cued with
a fraction ``flip`` of their bits flipped, run to an attractor (:func:`hopjax.run`, synchronous
or asynchronous, at most ``max_steps``); each final state labelled by
:func:`hopjax.measure.classify` against the cued pattern — ``retrieved`` (overlap ≥
``threshold``), ``other_pattern`` (another stored or reversed pattern), ``mixture`` (≥ 2
overlaps ≥ ``significant``, none a pattern), ``partial`` (one), ``spin_glass`` (none),
``cycle`` (a synchronous 2-cycle) or ``unconverged``. Metrics: the fraction of cues per label,
``symmetric`` (the fraction that are symmetric odd mixtures) and ``m`` (the mean overlap with
the cued pattern).

The literature beside it (Amit, Gutfreund & Sompolinsky 1985, 1987): below ``α_c ≈ 0.138`` the
retrieval states of the Hebbian network are stable and reached from cues inside their basin;
symmetric mixtures of 3 patterns are stable only below ``α ≈ 0.03``; above ``α_c`` only
spin-glass states — with no macroscopic overlap with any pattern — remain. The summary gives
per (rule, mode, N) the load where ``retrieved`` falls through ½ and the label fractions
averaged over the loads above it.
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
from hopjax.classical import run
from hopjax.measure import LABELS, classify, crossing
from hopjax.patterns import flip, random_bipolar
from hopjax.sweep import Experiment, Report, Row, RunContext, SweepConfig, param

from ._common import CuedLoad, stored_network

METRICS = (*LABELS, "symmetric", "m")


@dataclasses.dataclass
class AttractorLabelsConfig(CuedLoad, SweepConfig):
    """Config of ``attractor_labels`` (grid keys: rule, mode, N, alpha)."""

    rule: list[Literal["hebbian", "storkey", "pseudo_inverse"]] = dataclasses.field(
        default_factory=lambda: ["hebbian"]
    )
    mode: list[Literal["sync", "async"]] = dataclasses.field(default_factory=lambda: ["sync"])
    N: list[int] = param([500], ge=16)
    alpha: list[float] = param([0.05, 0.1, 0.15, 0.2, 0.3], gt=0, lt=1)
    cues: int = param(32, ge=1)
    """Patterns cued per row (the first ``min(cues, P)``)."""
    flip: float = param(0.1, ge=0, lt=0.5)
    """Fraction of a cue's bits flipped."""
    max_steps: int = param(100, ge=1)
    threshold: float = param(0.95, gt=0, le=1)
    """Overlap counting as a pattern (retrieved or another)."""
    significant: float = param(0.2, gt=0, lt=1)
    """Overlap counting as a component of a mixture."""


def attractor_labels_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One row: store, cue, run, label (described in :mod:`experiments.attractor_labels`)."""
    N, p_max = p["N"], p["p_max"]
    P = jnp.maximum(jnp.round(p["alpha"] * N).astype(jnp.int32), 1)
    k_xi, k_cue, k_run = jax.random.split(key, 3)
    xi = random_bipolar(k_xi, p_max, N)
    net, stored = stored_network(p["rule"], xi, P)
    cued = jnp.arange(p["cues"])

    def one(i: Array, kc: PRNGKeyArray, kr: PRNGKeyArray) -> Any:
        cue = flip(kc, xi[i], fraction=p["flip"])
        res = run(net, cue, max_steps=p["max_steps"], mode=p["mode"], key=kr)
        att = classify(
            stored,
            res.state,
            target=i,
            period=res.period,
            threshold=p["threshold"],
            significant=p["significant"],
        )
        return att, xi[i] @ res.state / N

    keys_c = jax.random.split(k_cue, p["cues"])
    keys_r = jax.random.split(k_run, p["cues"])
    att, m = jax.vmap(one)(cued, keys_c, keys_r)
    valid = (cued < P).astype(jnp.float32)  # cues beyond P are unstored patterns: left out
    n = jnp.sum(valid)
    out = {name: jnp.sum(valid * (att.label == code)) / n for code, name in enumerate(LABELS)}
    out["symmetric"] = jnp.sum(valid * att.symmetric) / n
    out["m"] = jnp.sum(valid * m) / n
    return out


def _curves(rows: list[Row], rule: str, mode: str, N: int) -> tuple[list[float], dict]:
    sel = [r for r in rows if r["rule"] == rule and r["mode"] == mode and r["N"] == N]
    alphas = sorted({r["alpha"] for r in sel})
    mean = {
        k: [float(np.mean([r[k] for r in sel if r["alpha"] == a])) for a in alphas] for k in METRICS
    }
    return alphas, mean


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per (rule, mode, N): the label fractions per load (seed means), ``alpha_c`` (where
    ``retrieved`` falls through ½; ``null`` inside no bracket) and ``above_alpha_c`` (the
    fractions averaged over the loads above it), and ``dominant_failure`` (the most frequent
    label other than ``retrieved`` there)."""
    cfg = ctx.cfg
    out: dict[str, Any] = {}
    for rule in cfg.rule:
        for mode in cfg.mode:
            for N in cfg.N:
                alphas, mean = _curves(rows, rule, mode, N)
                ac = crossing(alphas, mean["retrieved"], 0.5)
                above = [i for i, a in enumerate(alphas) if ac is not None and a > ac]
                frac = {k: float(np.mean([mean[k][i] for i in above])) for k in LABELS}
                failure = {k: v for k, v in frac.items() if k != "retrieved"} if above else {}
                out[f"{rule}/{mode}/{N}"] = {
                    "alpha": alphas,
                    "fractions": {k: mean[k] for k in METRICS},
                    "alpha_c": ac,
                    "above_alpha_c": frac if above else None,
                    "dominant_failure": max(failure, key=failure.get) if failure else None,
                }
    return {"labels": list(LABELS), "curves": out}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``labels.png``: one panel per rule (rows) and update mode (columns) — the fraction of
    cues in each label vs the load, stacked, with the crossing ``α_c`` of ``retrieved`` marked
    (the largest ``N`` of the grid)."""
    cfg = ctx.cfg
    N = max(cfg.N)
    rules, modes = list(cfg.rule), list(cfg.mode)
    fig, axes = hplot.subplots(
        len(rules),
        len(modes),
        figsize=(3.6 * len(modes) + 1.6, 2.4 * len(rules)),
        squeeze=False,
        sharex=True,
        sharey=True,
        constrained_layout=True,
    )
    colors = hplot.colormap("tab10")
    for i, rule in enumerate(rules):
        for j, mode in enumerate(modes):
            ax, c = axes[i][j], summary["curves"][f"{rule}/{mode}/{N}"]
            ys = [c["fractions"][k] for k in LABELS]
            ax.stackplot(c["alpha"], ys, labels=LABELS, colors=[colors(k) for k in range(len(ys))])
            if c["alpha_c"] is not None:
                ax.axvline(c["alpha_c"], color="k", ls="--", lw=0.8)
            ax.set_title(f"{rule}, {mode}", fontsize=9)
            ax.set_ylim(0, 1)
        axes[i][0].set_ylabel("fraction of cues")
    for ax in axes[-1]:
        ax.set_xlabel(r"load $\alpha = P/N$")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(f"What a cue with {cfg.flip:.0%} flipped bits ends in, N = {N}", fontsize=10)
    return [ctx.save(fig, "labels.png")]


EXPERIMENT = Experiment(
    name="attractor_labels",
    config=AttractorLabelsConfig,
    fn=attractor_labels_point,
    static=("rule", "mode", "N"),
    metrics=METRICS,
    description="What a Hopfield network ends in vs load: retrieved, other, mixture, spin glass",
    report=Report(summarize=summarize, plot=plot, headline=("curves",)),
)
