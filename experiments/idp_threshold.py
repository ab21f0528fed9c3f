"""Experiment ``idp_threshold``: the measured gain threshold ``γ_c(τ_α/τ_x)`` of the IDP
reasoning model (theory: 4 in the limit of infinite timescale separation).

The rows of ``idp_reasoning`` over a γ grid around 4 for several ``τ_α``; the summary gives the
measured threshold ``γ_c(τ_α)``: the γ where the seed-averaged ``sustained`` fraction last rises
through ½ (:func:`hopjax.measure.crossing`, linear interpolation between the grid points that
bracket it), and the threshold of the reduced slow dynamics
(:func:`hopjax.idp_theory.reduced_threshold`).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from hopjax import idp_theory as th
from hopjax import plot as hplot
from hopjax.measure import crossing
from hopjax.sweep import Experiment, Report, Row, RunContext

from ._common import unsolved_rows
from .idp_reasoning import (
    METRICS,
    IDPReasoningConfig,
    _groups,
    _num,
    reasoning_point,
)


@dataclasses.dataclass
class IDPThresholdConfig(IDPReasoningConfig):
    """Config of ``idp_threshold``: the reasoning rows over a γ grid around 4 per τ_α."""

    gamma: list[float] = dataclasses.field(
        default_factory=lambda: [3.6, 3.8, 3.9, 3.95, 4.0, 4.05, 4.1, 4.2]
    )
    tau_alpha: list[float] = dataclasses.field(default_factory=lambda: [50.0, 500.0, 5000.0])
    P: list[int] = dataclasses.field(default_factory=lambda: [8])
    duration: float = 60.0


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """``gamma_c[tau_alpha]`` (first N, P, ε of the grid) and the full table per group."""
    cfg = ctx.cfg
    out: dict[str, Any] = {
        "gain_threshold_theory": th.GAIN_THRESHOLD,
        "gamma_c": {},
        "gamma_c_table": [],
        "reduced_threshold": {str(P): th.reduced_threshold(P, a0=cfg.a0) for P in cfg.P},
    }
    for (ta, n, P, eps), rs in _groups(rows, ("tau_alpha", "N", "P", "eps")).items():
        by_g = _groups(rs, ("gamma",))
        gammas = np.array(sorted(g for (g,) in by_g))
        frac = np.array([np.mean([r["sustained"] for r in by_g[(g,)]]) for g in gammas])
        gc = crossing(gammas, frac, 0.5, direction="up", last=True)
        out["gamma_c_table"].append(
            {
                "tau_alpha": ta,
                "N": n,
                "P": P,
                "eps": eps,
                "gamma_c": gc,
                "gamma": gammas.tolist(),
                "sustained_frac": frac.tolist(),
            }
        )
        if (n, P, eps) == (cfg.N[0], cfg.P[0], cfg.eps[0]):
            out["gamma_c"][_num(ta)] = gc
    seq = [out["gamma_c"].get(_num(t)) for t in sorted(cfg.tau_alpha)]
    if len(seq) >= 2 and all(v is not None for v in seq):
        gaps = [abs(4.0 - v) for v in seq]
        out["approaches_4"] = all(b < a for a, b in itertools.pairwise(gaps))
    out["unsolved_rows"] = unsolved_rows(rows)
    return out


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``threshold.png``: sustained fraction vs γ per τ_α, and γ_c vs τ_α/τ_x."""
    cfg = ctx.cfg
    fig, (ax1, ax2) = hplot.subplots(1, 2, figsize=(9, 3.6))
    for rec in summary["gamma_c_table"]:
        ax1.plot(
            rec["gamma"],
            rec["sustained_frac"],
            "o-",
            ms=3,
            label=f"τ_α={_num(rec['tau_alpha'])} P={rec['P']}",
        )
    ax1.axvline(4.0, color="k", ls=":", lw=1, label="γ = 4")
    ax1.set_xlabel("γ")
    ax1.set_ylabel("sustained fraction")
    ax1.legend(fontsize=7)
    pts = sorted((float(t), v) for t, v in summary["gamma_c"].items() if v is not None)
    if pts:
        ax2.semilogx(
            [t / cfg.tau_x for t, _ in pts], [v for _, v in pts], "o-", label="measured γ_c"
        )
    ax2.axhline(4.0, color="k", ls=":", lw=1, label="theory γ = 4")
    for P, v in summary["reduced_threshold"].items():
        ax2.axhline(v, color="gray", ls="--", lw=1, label=f"reduced slow dynamics P={P}")
    ax2.set_xlabel("τ_α / τ_x")
    ax2.set_ylabel("γ_c")
    ax2.legend(fontsize=7)
    return [ctx.save(fig, "threshold.png")]


EXPERIMENT = Experiment(
    name="idp_threshold",
    config=IDPThresholdConfig,
    fn=reasoning_point,
    static=("N", "P"),
    metrics=METRICS,
    description="Measured gain threshold γ_c(τ_α/τ_x) of the reasoning model (theory: 4).",
    key_exclude=("gamma", "tau_alpha", "eps"),
    report=Report(summarize=summarize, plot=plot, headline=("gamma_c", "reduced_threshold")),
)
