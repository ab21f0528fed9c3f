"""Experiment ``kleinfeld``: Kleinfeld's (1986) one-timescale sequence model beside the
two-timescale IDP reasoning model (eqs. (8)–(9) and (7) of the reasoning paper, :mod:`hopjax.idp`).

Per row (model, γ, N, P, seed): Kleinfeld's one-timescale model (8)–(9)
(``model = "kleinfeld"``), its delayed variant (``"kleinfeld_delayed"``, delay ``tau_slow``) and
the two-timescale reasoning model (``"reasoning"``, ``τ_α = tau_slow``), started on memory 1.
Regime on the last quarter of the run: 0 = collapse (mean ``|Ψ(x)|`` < 0.05), 2 = cycle (some
overlap still varies by more than 0.05), 1 = fixed point otherwise. Metrics: ``regime``,
``transitions`` (with hysteresis, :func:`hopjax.measure.measure_transitions`), ``period_measured``,
``max_overlap`` (mean over the last quarter of the leading overlap: low for mixed states),
``activity``.
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
from hopjax.idp import Kleinfeld, Reasoning
from hopjax.measure import measure_transitions
from hopjax.patterns import memories
from hopjax.solve import simulate, succeeded
from hopjax.sweep import Experiment, Report, Row, RunContext, SweepConfig, param

from ._common import check_patterns, unsolved_rows

KLEINFELD_METRICS = (
    "regime",
    "transitions",
    "period_measured",
    "max_overlap",
    "activity",
    "solved",
)


@dataclasses.dataclass
class KleinfeldConfig(SweepConfig):
    """Config of ``kleinfeld`` (grid keys: model, gamma, N, P)."""

    model: list[Literal["kleinfeld", "kleinfeld_delayed", "reasoning"]] = dataclasses.field(
        default_factory=lambda: ["kleinfeld", "kleinfeld_delayed", "reasoning"]
    )
    gamma: list[float] = param([0.2, 1.0, 5.0], gt=0)
    N: list[int] = dataclasses.field(default_factory=lambda: [64])
    P: list[int] = param([4], ge=2)
    seeds: int = 1
    patterns: Literal["hadamard", "random"] = "hadamard"
    tau_x: float = param(1.0, gt=0)
    tau_slow: float = param(20.0, gt=0)
    """Kleinfeld's delay ``τ_d`` and the reasoning model's ``τ_α``."""
    eps: float = 1e-4
    """The reasoning model's symmetry-breaking input."""
    a0: float = param(3.0, gt=1)
    """The reasoning model's initial saliency (Kleinfeld starts at ``x = ξ^1``)."""
    t1: float = param(2000.0, gt=0)
    n_save: int = param(4000, ge=16)
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 1_000_000

    def check(self) -> None:
        super().check()
        check_patterns(self)


def kleinfeld_trajectory(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, Array, Array, Array]:
    """``(ts, m, activity, solved)`` of one row of ``kleinfeld``; a solve that fails (e.g. out
    of ``max_steps``) does not raise: ``solved`` is then ``0.0``."""
    xi = memories(key, p["P"], p["N"], kind=p["patterns"])
    if p["model"] == "reasoning":
        model = Reasoning(
            xi, gamma=p["gamma"], tau_alpha=p["tau_slow"], tau_x=p["tau_x"], eps=p["eps"]
        )
        y0 = model.initial_state(p["a0"])
    else:
        delayed = p["model"] == "kleinfeld_delayed"
        model = Kleinfeld(
            xi, gamma=p["gamma"], tau_x=p["tau_x"], delayed=delayed, tau_d=p["tau_slow"]
        )
        y0 = model.initial_state(1.0)

    def save(t: Array, y: Any, args: Any) -> tuple[Array, Array]:
        x = y if isinstance(y, jax.Array) else y[0]
        return model.overlaps(x), jnp.mean(jnp.abs(model.activation.psi(x)))

    ts = jnp.linspace(0.0, p["t1"], p["n_save"])
    sol = simulate(
        model,
        y0,
        t1=p["t1"],
        ts=ts,
        save_fn=save,
        rtol=p["rtol"],
        atol=p["atol"],
        max_steps=p["max_steps"],
        throw=False,
    )
    m, act = sol.ys
    return ts, m, act, succeeded(sol).astype(jnp.float32)


def kleinfeld_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Classify one run (described in :mod:`experiments.kleinfeld`)."""
    ts, m, act, ok = kleinfeld_trajectory(p, key)
    tail = m[-(p["n_save"] // 4) :]
    spread = jnp.max(jnp.max(tail, axis=0) - jnp.min(tail, axis=0))
    activity = jnp.mean(act[-(p["n_save"] // 4) :])
    regime = jnp.where(activity < 0.05, 0, jnp.where(spread > 0.05, 2, 1))
    tr = measure_transitions(ts, m, max_transitions=1024, active=0.3)
    period = jnp.where(regime == 2, tr.period(p["P"], 1), jnp.nan)
    return {
        "regime": regime.astype(jnp.float32),
        "transitions": tr.count.astype(jnp.float32),
        "period_measured": period,
        "max_overlap": jnp.mean(jnp.max(tail, axis=1)),
        "activity": activity,
        "solved": ok,
    }


REGIMES = {0: "collapse", 1: "fixed point", 2: "cycle"}


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Regime counts per (model, γ) and the list of regimes each model visits."""
    cfg = ctx.cfg
    out: dict[str, Any] = {"regimes": REGIMES, "table": []}
    by: dict[tuple, list[Row]] = {}
    for r in rows:
        by.setdefault((r["model"], r["gamma"], r["N"], r["P"]), []).append(r)
    for (model, g, n, P), rs in by.items():
        counts = {REGIMES[k]: sum(int(r["regime"]) == k for r in rs) for k in REGIMES}
        out["table"].append(
            {
                "model": model,
                "gamma": g,
                "N": n,
                "P": P,
                **counts,
                "max_overlap": float(np.mean([r["max_overlap"] for r in rs])),
                "period_measured": _nanmean([r["period_measured"] for r in rs]),
            }
        )
    out["regimes_seen"] = {
        model: sorted(
            {REGIMES[int(r["regime"])] for r in rows if r["model"] == model},
        )
        for model in cfg.model
    }
    out["unsolved_rows"] = unsolved_rows(rows)
    return out


def _nanmean(vals: list[float]) -> float | None:
    arr = np.asarray(vals, float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else None


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``kleinfeld.png``: regime and leading overlap vs γ per model; ``kleinfeld_traces.png``:
    overlaps vs time of each model at the smallest and largest γ (the paper's Fig. 2B–E)."""
    cfg = ctx.cfg
    fig, (ax1, ax2) = hplot.subplots(1, 2, figsize=(9, 3.5))
    for k, model in enumerate(cfg.model):
        recs = sorted(
            (r for r in summary["table"] if r["model"] == model), key=lambda r: r["gamma"]
        )
        g = [r["gamma"] for r in recs]
        reg = [
            sum(k2 * r[name] for k2, name in REGIMES.items())
            / max(1, sum(r[n] for n in REGIMES.values()))
            for r in recs
        ]
        ax1.plot(g, np.asarray(reg) + 0.04 * (k - 1), "o-", ms=4, label=model)
        ax2.plot(g, [r["max_overlap"] for r in recs], "o-", ms=4, label=model)
    ax1.set_yticks(list(REGIMES), list(REGIMES.values()))
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("γ")
    ax2.set_ylabel("leading overlap (last quarter)")
    ax1.legend(fontsize=7)
    paths = [ctx.save(fig, "kleinfeld.png")]

    shown = sorted({min(cfg.gamma), max(cfg.gamma)})
    fig, axes = hplot.subplots(
        len(cfg.model),
        len(shown),
        figsize=(5.5 * len(shown), 2.2 * len(cfg.model)),
        squeeze=False,
        constrained_layout=True,
    )
    seed0 = min(r["seed"] for r in rows)
    picked = [
        next(r for r in rows if (r["model"], r["gamma"], r["seed"]) == (model, g, seed0))
        for model in cfg.model
        for g in shown
    ]
    traces = iter(ctx.rerun(picked, lambda p, k: kleinfeld_trajectory(p, k)[:2]))
    for i, model in enumerate(cfg.model):
        for j, g in enumerate(shown):
            ax = axes[i, j]
            ts, m = next(traces)
            keep = ts <= min(ts[-1], 30 * cfg.tau_slow)
            for mu in range(m.shape[1]):
                ax.plot(ts[keep], m[keep, mu], lw=0.8)
            ax.set_ylim(-1.05, 1.05)
            ax.set_ylabel("m_μ")
            ax.set_title(f"{model}, γ = {g}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("t / τ_x")
    paths.append(ctx.save(fig, "kleinfeld_traces.png"))
    return paths


EXPERIMENT = Experiment(
    name="kleinfeld",
    config=KleinfeldConfig,
    fn=kleinfeld_point,
    static=("model", "N", "P"),
    metrics=KLEINFELD_METRICS,
    description="Kleinfeld one-timescale sequence model vs the two-timescale reasoning model.",
    key_exclude=("model", "gamma"),
    report=Report(summarize=summarize, plot=plot, headline=("regimes_seen",)),
)
