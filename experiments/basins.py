"""Experiment ``basins``: how far a cue may be from its pattern and still come back — the basin
radius vs the load, for the classical storage rules and dense associative memories.

Per row (rule, N, α, flip, seed): ``P = round(αN)`` random patterns stored by the rule —
``hebbian``, ``storkey``, ``pseudo_inverse`` (zero diagonal), or a dense associative memory
(:class:`hopjax.DenseAM`, exact update) with ``F(x) = xⁿ`` at ``n = 2, 3, 4`` (``dense2`` …
``dense4``; ``dense2`` is the Hebbian network) or ``F(x) = exp(x)`` (``dense_exp``); ``cues`` of
them cued with a fraction ``flip`` of their bits flipped (the same patterns for every flip of a
seed, nested flipped sets), run synchronously to an attractor. A cue is retrieved when its final
overlap with its pattern is ``≥ threshold``. Metrics: ``retrieved`` (fraction of cues) and
``m`` (mean final overlap).

Summary per (rule, N, α): ``radius``, the largest flip fraction at which at least half of the
cues come back (the crossing of ``retrieved`` through ½ over the flip grid, interpolated), with
``bound``: ``"lower"`` when every flip tested still retrieves half (the radius is at least the
largest flip tested), ``"upper"`` when even the smallest fails (at most the smallest).

The literature beside it: the pseudo-inverse rule stores every pattern as a fixed point up to
``P = N`` but its basins shrink to nothing as ``α → 1`` (Kanter & Sompolinsky 1987; Personnaz,
Guyon & Dreyfus 1985); Storkey's rule has larger basins than Hebbian's at equal load (Storkey &
Valabregue 1999); dense memories keep wide basins far beyond Hebbian capacity (Krotov &
Hopfield 2016; Demircigil et al. 2017).
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
from hopjax.measure import crossing
from hopjax.patterns import flip, random_bipolar
from hopjax.sweep import Experiment, Report, Row, RunContext, SweepConfig, param

from ._common import CuedLoad, stored_network

Rule = Literal["hebbian", "storkey", "pseudo_inverse", "dense2", "dense3", "dense4", "dense_exp"]


@dataclasses.dataclass
class BasinsConfig(CuedLoad, SweepConfig):
    """Config of ``basins`` (grid keys: rule, N, alpha, flip)."""

    rule: list[Rule] = dataclasses.field(default_factory=lambda: ["hebbian", "storkey"])
    N: list[int] = param([200], ge=16)
    alpha: list[float] = param([0.05, 0.1, 0.2], gt=0, lt=1)
    flip: list[float] = param([0.05, 0.1, 0.2, 0.3, 0.4], gt=0, lt=0.5)
    cues: int = param(16, ge=1)
    """Patterns cued per row (the first ``min(cues, P)``)."""
    max_steps: int = param(50, ge=1)
    threshold: float = param(0.95, gt=0, le=1)
    """Final overlap counting as retrieved."""


def basins_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One row: store, cue at the row's flip fraction, run, count (described in
    :mod:`experiments.basins`)."""
    N, p_max = p["N"], p["p_max"]
    P = jnp.maximum(jnp.round(p["alpha"] * N).astype(jnp.int32), 1)
    k_xi, k_cue = jax.random.split(key)
    xi = random_bipolar(k_xi, p_max, N)
    net = stored_network(p["rule"], xi, P)[0]
    cued = jnp.arange(p["cues"])

    def one(i: Array, kc: PRNGKeyArray) -> Array:
        res = run(net, flip(kc, xi[i], fraction=p["flip"]), max_steps=p["max_steps"])
        return xi[i] @ res.state / N

    m = jax.vmap(one)(cued, jax.random.split(k_cue, p["cues"]))
    valid = (cued < P).astype(jnp.float32)  # cues beyond P: unstored patterns, left out
    n = jnp.sum(valid)
    return {
        "retrieved": jnp.sum(valid * (m >= p["threshold"])) / n,
        "m": jnp.sum(valid * m) / n,
    }


def radius(flips: list[float], retrieved: list[float]) -> tuple[float, str]:
    """The basin radius from ``retrieved`` over the sorted ``flips``: the crossing through ½
    and ``"none"``, or a bound — ``(max flip, "lower")`` when it never falls below ½,
    ``(min flip, "upper")`` when it is below ½ already at the smallest."""
    if retrieved[0] < 0.5:
        return float(flips[0]), "upper"
    r = crossing(flips, retrieved, 0.5)
    return (float(flips[-1]), "lower") if r is None else (float(r), "none")


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per rule and N: the loads, the radius at each (with its bound) and the retrieved
    fraction per (load, flip)."""
    cfg = ctx.cfg
    flips = sorted(cfg.flip)
    out: dict[str, Any] = {}
    for rule in cfg.rule:
        for N in cfg.N:
            alphas = sorted(cfg.alpha)
            entry: dict[str, Any] = {"alpha": alphas, "radius": [], "bound": [], "retrieved": {}}
            for a in alphas:
                sel = [r for r in rows if r["rule"] == rule and r["N"] == N and r["alpha"] == a]
                ret = [
                    float(np.mean([r["retrieved"] for r in sel if r["flip"] == f])) for f in flips
                ]
                rad, bound = radius(flips, ret)
                entry["radius"].append(rad)
                entry["bound"].append(bound)
                entry["retrieved"][str(a)] = ret
            out[f"{rule}/{N}"] = entry
    return {"flip": flips, "curves": out}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``basins.png``: basin radius vs load per rule (largest N); a radius that is only a bound
    is an open marker (up: at least; down: at most)."""
    cfg = ctx.cfg
    N = max(cfg.N)
    fig, ax = hplot.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    colors = hplot.colormap("tab10")
    for i, rule in enumerate(cfg.rule):
        c = summary["curves"][f"{rule}/{N}"]
        a, r, b = np.asarray(c["alpha"]), np.asarray(c["radius"]), np.asarray(c["bound"])
        ax.plot(a, r, "-", color=colors(i), lw=1.2, label=rule)
        ok = b == "none"
        ax.plot(a[ok], r[ok], "o", color=colors(i), ms=4)
        ax.plot(a[b == "lower"], r[b == "lower"], "^", color=colors(i), mfc="none", ms=6)
        ax.plot(a[b == "upper"], r[b == "upper"], "v", color=colors(i), mfc="none", ms=6)
    ax.set(
        xlabel=r"load $\alpha = P/N$",
        ylabel="basin radius (flip fraction)",
        title=f"Basins of attraction, N = {N} (open: a bound)",
        ylim=(0, 0.5),
    )
    ax.legend(fontsize=8)
    return [ctx.save(fig, "basins.png")]


EXPERIMENT = Experiment(
    name="basins",
    config=BasinsConfig,
    fn=basins_point,
    static=("rule", "N"),
    metrics=("retrieved", "m"),
    description="Basin radius vs load: Hebbian, Storkey, pseudo-inverse, dense memories",
    key_exclude=("flip",),
    report=Report(summarize=summarize, plot=plot, headline=("curves",)),
)
