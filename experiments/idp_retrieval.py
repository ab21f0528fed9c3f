"""Experiment ``idp_retrieval``: existence and stability of the IDP memories and cued retrieval
(Betteti et al. 2025; the reasoning paper's §2 and appendix 5.1, see :mod:`hopjax.idp`).

Per row (method, N, P, gain, flip, seed): ``P`` memories (random bipolar by
default), a cue = memory 1 with a fraction ``flip`` of its bits flipped, ``x(0) = cue``, the IDP
network (1) with HardTanh integrated to ``t1``:

* ``method = "idp"``: the saliencies filter the input ``u = gain · cue`` to their steady state,
  ``α = (1/N) Ξᵀ u`` (eq. (1)/(16)): the input selects the memory, ``α_1 = gain (1 − 2 flip)``;
* ``method = "classical"``: ``α = gain · 1`` (``gain = 1``: the classical network, ``α = 1``).

At ``flip = 0`` the rows test existence and stability of ``x* = α_1 ξ^1`` (appendix 5.1):
``α_1 > 1`` — the state settles at ``α_1 ξ^1`` (``dist`` → 0); ``α_1 < 1`` — it decays to the
origin (``norm`` → 0); ``α_1 = 1`` — it stays on the segment of equilibria. Metrics:
``overlap`` (``m_1`` of ``Ψ(x(t1))``), ``retrieved`` (``overlap ≥ threshold``), ``sign_overlap``
(overlap of ``sign x``), ``dist`` (``‖x − α_1 ξ^1‖ / ‖α_1 ξ^1‖``), ``norm`` (``‖x‖/√N``),
``alpha_1`` and ``speed`` (``‖ẋ‖/√N`` at ``t1``; ≈ 0 at an equilibrium).
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
from hopjax.idp import IDPHopfield
from hopjax.patterns import flip as flip_bits
from hopjax.patterns import memories
from hopjax.solve import simulate, succeeded
from hopjax.sweep import Experiment, Report, Row, RunContext, SweepConfig, param

from ._common import check_patterns, unsolved_rows

RETRIEVAL_METRICS = (
    "overlap",
    "retrieved",
    "sign_overlap",
    "dist",
    "norm",
    "alpha_1",
    "speed",
    "solved",
)


@dataclasses.dataclass
class IDPRetrievalConfig(SweepConfig):
    """Config of ``idp_retrieval`` (grid keys: method, N, P, gain, flip)."""

    method: list[Literal["idp", "classical"]] = dataclasses.field(
        default_factory=lambda: ["idp", "classical"]
    )
    N: list[int] = dataclasses.field(default_factory=lambda: [256])
    P: list[int] = dataclasses.field(default_factory=lambda: [16])
    gain: list[float] = param([0.5, 1.0, 2.0], gt=0)
    flip: list[float] = param([0.0, 0.1, 0.2, 0.3], ge=0, le=1)
    patterns: Literal["hadamard", "random"] = "random"
    tau_x: float = param(1.0, gt=0)
    t1: float = param(60.0, gt=0)
    """Integration time (in units of ``tau_x``)."""
    threshold: float = param(0.95, gt=0, le=1)
    """Retrieved when the final overlap is at least this."""
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 100_000

    def check(self) -> None:
        super().check()
        check_patterns(self)


def idp_retrieval_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One cued retrieval (described in :mod:`experiments.idp_retrieval`)."""
    k_xi, k_cue = jax.random.split(key)
    N = p["N"]
    xi = memories(k_xi, p["P"], N, kind=p["patterns"])
    cue = flip_bits(k_cue, xi[0], fraction=p["flip"])
    if p["method"] == "idp":
        alpha = xi @ (p["gain"] * cue) / N  # steady state of τ_u α̇ = −α + Ξᵀu/N
    else:
        alpha = jnp.full((p["P"],), p["gain"], jnp.float32)
    model = IDPHopfield(xi, alpha, tau_x=p["tau_x"])
    sol = simulate(
        model,
        cue,
        t1=p["t1"],
        rtol=p["rtol"],
        atol=p["atol"],
        max_steps=p["max_steps"],
        throw=False,  # a failed solve is reported (solved = 0), not raised
    )
    x = sol.ys[-1]
    a1 = alpha[0]
    target = a1 * xi[0]
    return {
        "overlap": model.overlaps(x)[0],
        "retrieved": (model.overlaps(x)[0] >= p["threshold"]).astype(jnp.float32),
        "sign_overlap": jnp.mean(jnp.sign(x) * xi[0]),
        "dist": jnp.linalg.norm(x - target) / jnp.maximum(jnp.linalg.norm(target), 1e-12),
        "norm": jnp.linalg.norm(x) / jnp.sqrt(N),
        "alpha_1": a1,
        "speed": jnp.linalg.norm(model.vector_field(p["t1"], x, None)) / jnp.sqrt(N),
        "solved": succeeded(sol).astype(jnp.float32),
    }


def _mean_by(rows: list[Row], keys: tuple[str, ...], metric: str) -> dict[tuple, float]:
    acc: dict[tuple, list[float]] = {}
    for r in rows:
        acc.setdefault(tuple(r[k] for k in keys), []).append(r[metric])
    return {k: float(np.nanmean(v)) for k, v in acc.items()}


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Retrieved fraction per (method, N, P, gain, flip) and the flip = 0 stability table."""
    cfg = ctx.cfg
    keys = ("method", "N", "P", "gain", "flip")
    frac = _mean_by(rows, keys, "retrieved")
    over = _mean_by(rows, keys, "overlap")
    dist = _mean_by(rows, keys, "dist")
    norm = _mean_by(rows, keys, "norm")
    table = [
        {
            **dict(zip(keys, k, strict=True)),
            "retrieved_frac": frac[k],
            "overlap": over[k],
            "dist": dist[k],
            "norm": norm[k],
        }
        for k in frac
    ]
    flips = sorted({r["flip"] for r in rows})
    compact: dict[str, Any] = {}  # method → P → gain → retrieved fraction at each flip
    for (method, _, P, gain, f), v in frac.items():
        at = compact.setdefault(method, {}).setdefault(str(P), {})
        at.setdefault(f"gain {gain:g}", [None] * len(flips))[flips.index(f)] = v
    return {
        "threshold": cfg.threshold,
        "flips": flips,
        "retrieved_frac": compact,
        "table": table,
        "unsolved_rows": unsolved_rows(rows),
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``retrieval.png``: retrieved fraction vs flip (a panel per P; IDP solid, classical
    dashed; a colour per gain)."""
    cfg = ctx.cfg
    frac = {
        (r["method"], r["N"], r["P"], r["gain"], r["flip"]): r["retrieved_frac"]
        for r in summary["table"]
    }
    fig, axes = hplot.subplots(
        1, len(cfg.P), figsize=(4.2 * len(cfg.P), 3.5), squeeze=False, sharey=True
    )
    colors = hplot.colormap("plasma")(np.linspace(0, 0.85, len(cfg.gain)))
    for ax, P in zip(axes[0], cfg.P, strict=True):
        for method in cfg.method:
            for c, g in zip(colors, cfg.gain, strict=True):
                for n in cfg.N:
                    ys = [frac[(method, n, P, g, f)] for f in cfg.flip]
                    ls = "-" if method == "idp" else "--"
                    ax.plot(cfg.flip, ys, ls, marker="o", ms=3, color=c, label=f"{method} g={g}")
        ax.set_title(f"P = {P}, N = {', '.join(map(str, cfg.N))}")
        ax.set_xlabel("flipped fraction of the cue")
    axes[0][0].set_ylabel(f"retrieved fraction (m ≥ {cfg.threshold})")
    axes[0][-1].legend(fontsize=7)
    return [ctx.save(fig, "retrieval.png")]


EXPERIMENT = Experiment(
    name="idp_retrieval",
    config=IDPRetrievalConfig,
    fn=idp_retrieval_point,
    static=("method", "N", "P"),
    metrics=RETRIEVAL_METRICS,
    description="IDP memories α_μ ξ^μ: existence/stability and cued retrieval vs classical.",
    key_exclude=("method", "gain"),
    report=Report(summarize=summarize, plot=plot, headline=("flips", "retrieved_frac")),
)
