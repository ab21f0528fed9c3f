"""Experiment ``idp_reasoning``: the IDP reasoning model (:mod:`hopjax.idp`), sustained cycling
and the period against the theory ``P τ_α ln a₊(γ)``.

Per row (γ, τ_α, N, P, ε, seed): ``P`` memories (``patterns = "hadamard"``: exactly orthogonal,
rows and column signs randomised by the seed; ``"random"``: random bipolar), the reasoning model
(7) with the circulant ``A`` and symmetry-breaking input ``ε Ξ α``, started on memory 1 with
saliency ``a0`` (``x = a0 ξ^1``, ``α = a0 e_1``), integrated to ``t1 = duration · τ_α`` (Tsit5,
PID ``rtol``/``atol``), overlaps and saliencies saved at ``n_save`` points. Every γ, τ_α and ε of
a seed sees the same memories (common random numbers, ``key_exclude``).

Metrics: ``sustained`` (1 if the run is active at ``t1`` — leading overlap ≥ ``active`` — and
still made a transition in the last quarter of the run), ``transitions``, ``period_measured``
(the mean over the last ``cycles`` cycles of ``P`` transitions; NaN if too few or not sustained),
``period_theory`` = ``P τ_α ln a_+(γ)`` (eq. (37); NaN below γ = 4), ``ratio`` = measured/theory,
``period_reduced`` and ``ratio_reduced`` (the reduced slow dynamics with leftover saliencies and
the ε-shifted escape, :func:`hopjax.idp_theory.reduced_period`), ``peak_last`` (the last
measured peak ``a_k``), ``a_plus`` and ``num_steps`` (solver steps).

The ``idp_threshold`` experiment runs the same rows over a γ grid around 4 for several ``τ_α``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import idp_theory as th
from hopjax import plot as hplot
from hopjax.idp import Reasoning
from hopjax.measure import measure_transitions
from hopjax.patterns import memories
from hopjax.solve import simulate, succeeded
from hopjax.sweep import (
    ConfigError,
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    SweepConfig,
    param,
)

from ._common import unsolved_rows

METRICS = (
    "sustained",
    "transitions",
    "period_measured",
    "period_theory",
    "ratio",
    "period_reduced",
    "ratio_reduced",
    "peak_last",
    "a_plus",
    "num_steps",
    "solved",
)


@dataclasses.dataclass
class IDPReasoningConfig(SweepConfig):
    """Config of ``idp_reasoning`` (grid keys: gamma, tau_alpha, N, P, eps)."""

    gamma: list[float] = dataclasses.field(default_factory=lambda: [3.0, 5.0, 8.0])
    tau_alpha: list[float] = dataclasses.field(default_factory=lambda: [500.0])
    N: list[int] = param([64], ge=2)
    P: list[int] = param([4], ge=2)
    eps: list[float] = param([1e-4], ge=0)
    seeds: int = 1
    tau_x: float = param(1.0, gt=0)
    """Fast timescale (the unit of time)."""
    patterns: Literal["hadamard", "random"] = "hadamard"
    activation: Literal["hardtanh", "tanh"] = "hardtanh"
    a0: float = param(3.0, gt=1)
    """Initial saliency of memory 1 (and ``x = a0 ξ^1``); must exceed 1."""
    duration: float = param(30.0, gt=0)
    """Simulated time in units of ``τ_α`` (``t1 = duration · tau_alpha``)."""
    n_save: int = 4000
    """Save points (overlaps and saliencies) over ``[0, t1]``."""
    cycles: int = 1
    """The measured period averages the last ``cycles`` cycles."""
    active: float = param(0.5, gt=0, lt=1)
    """A state is active (not collapsed) when its leading overlap is at least this."""
    rtol: float = param(1e-6, gt=0)
    atol: float = param(1e-6, gt=0)
    max_steps: int = 2_000_000
    """Solver step limit per run (reaching it is an error, never a truncated run)."""
    max_transitions: int = 512
    """Transitions stored per run (the count itself is exact)."""

    def check(self) -> None:
        super().check()
        for key in ("gamma", "tau_alpha"):
            if min(getattr(self, key)) <= 0:
                raise ConfigError(f"'{key}' must be > 0; got {getattr(self, key)}.")
        if self.patterns == "hadamard":
            bad = [n for n in self.N if n & (n - 1)]
            if bad:
                raise ConfigError(f"'N' must be powers of two for hadamard patterns; got {bad}.")
            if max(self.P) > min(self.N):
                raise ConfigError(
                    f"'P' = {max(self.P)} exceeds N = {min(self.N)}: at most N orthogonal patterns."
                )
        for key, low in (("n_save", 16), ("cycles", 1), ("max_steps", 16), ("max_transitions", 8)):
            if getattr(self, key) < low:
                raise ConfigError(f"'{key}' must be >= {low}; got {getattr(self, key)}.")

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * (12 * p["n_save"] * p["P"] + 64 * p["N"] + 8 * self.max_transitions) + 4096


def trajectory(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, Array, Array, Array, Array]:
    """Simulate one row: ``(ts, m, α, num_steps, solved)`` with ``m`` and ``α`` of shape
    ``(n_save, P)``; a solve that fails (e.g. out of ``max_steps``) does not raise: ``solved``
    is then ``0.0`` (:func:`hopjax.solve.succeeded`) and the row's metrics are not meaningful."""
    model = Reasoning(
        memories(key, p["P"], p["N"], kind=p["patterns"]),
        gamma=p["gamma"],
        tau_alpha=p["tau_alpha"],
        tau_x=p["tau_x"],
        eps=p["eps"],
        activation=p["activation"],
    )
    t1 = p["duration"] * model.tau_alpha
    ts = jnp.linspace(0.0, 1.0, p["n_save"]) * t1
    sol = simulate(
        model,
        model.initial_state(p["a0"]),
        t1=t1,
        ts=ts,
        save_fn=lambda t, y, args: (model.overlaps(y[0]), y[1]),
        rtol=p["rtol"],
        atol=p["atol"],
        max_steps=p["max_steps"],
        throw=False,
    )
    m, alpha = sol.ys
    return ts, m, alpha, sol.stats["num_steps"], succeeded(sol).astype(jnp.float32)


def reasoning_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One run of the reasoning model and the metrics of the module docstring."""
    ts, m, alpha, steps, ok = trajectory(p, key)
    tr = measure_transitions(ts, m, alpha, max_transitions=p["max_transitions"], active=p["active"])
    t1 = ts[-1]
    sustained = tr.sustained(t1, window=0.25)
    measured = jnp.where(sustained, tr.period(p["P"], p["cycles"]), jnp.nan)
    theory = th.period(p["gamma"], p["P"], p["tau_alpha"])
    reduced = th.reduced_period(
        p["gamma"], p["P"], p["tau_alpha"], a0=p["a0"], steps=1000, eps=p["eps"]
    )
    n_peaks = jnp.minimum(tr.count, p["max_transitions"])
    return {
        "sustained": sustained.astype(jnp.float32),
        "transitions": tr.count.astype(jnp.float32),
        "period_measured": measured,
        "period_theory": theory,
        "ratio": measured / theory,
        "period_reduced": reduced,
        "ratio_reduced": measured / reduced,
        "peak_last": tr.peaks[n_peaks],
        "a_plus": th.a_plus(p["gamma"]),
        "num_steps": steps.astype(jnp.float32),
        "solved": ok,
    }


# ----------------------------------------------------------------------------- summaries


def _mean(vals: list[float]) -> float | None:
    arr = np.asarray(vals, float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else None


def _groups(rows: list[Row], keys: tuple[str, ...]) -> dict[tuple, list[Row]]:
    out: dict[tuple, list[Row]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def table(rows: list[Row]) -> list[dict[str, Any]]:
    """Seed-averaged records per grid point (NaN metrics skipped in the means)."""
    recs = []
    for key, rs in _groups(rows, ("gamma", "tau_alpha", "N", "P", "eps")).items():
        rec = dict(zip(("gamma", "tau_alpha", "N", "P", "eps"), key, strict=True))
        rec["seeds"] = len(rs)
        for m in METRICS:
            rec[m] = _mean([r[m] for r in rs])
        recs.append(rec)
    return recs


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per-point means, the worst period error for γ ≥ 5 and the collapses below γ = 4."""
    recs = table(rows)
    hi = [r for r in recs if r["gamma"] >= 5 and r["ratio"] is not None]
    lo = [r for r in recs if r["gamma"] < th.GAIN_THRESHOLD]
    return {
        "gain_threshold_theory": th.GAIN_THRESHOLD,
        "period_formula": "P * tau_alpha * ln a_plus(gamma)",
        "max_abs_ratio_error_gamma_ge_5": max((abs(r["ratio"] - 1) for r in hi), default=None),
        "max_abs_ratio_reduced_error_gamma_ge_5": max(
            (abs(r["ratio_reduced"] - 1) for r in hi if r["ratio_reduced"] is not None),
            default=None,
        ),
        "sustained_below_4": [
            {"gamma": r["gamma"], "tau_alpha": r["tau_alpha"], "sustained": r["sustained"]}
            for r in lo
        ],
        "table": recs,
        "unsolved_rows": unsolved_rows(rows),
    }


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


# ----------------------------------------------------------------------------- plots


def _pick(rows: list[Row], gamma: float) -> Row:
    """The first-seed row whose γ is closest to ``gamma`` (ties: the first)."""
    seed0 = min(r["seed"] for r in rows)
    cands = [r for r in rows if r["seed"] == seed0]
    return min(cands, key=lambda r: abs(r["gamma"] - gamma))


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``overlaps.png`` (the paper's Fig. 2D–E), ``peak_map.png`` and ``period.png``."""
    cfg = ctx.cfg
    paths = []
    row = _pick(rows, 8.0)
    gammas = sorted({r["gamma"] for r in rows})
    picks = np.linspace(0, len(gammas) - 1, min(4, len(gammas))).astype(int)
    shown = sorted({gammas[i] for i in picks})
    picked = [row, *(_pick(rows, g) for g in shown)]
    traces = ctx.rerun(picked, trajectory)  # (ts, m, α, num_steps, solved) per picked row
    ts, m, alpha, _, _ = traces[0]
    ta = row["tau_alpha"]
    fig, (ax1, ax2) = hplot.subplots(2, 1, figsize=(7.5, 4.6), sharex=True, constrained_layout=True)
    hplot.overlap_traces(ts / ta, m, ax=ax1)
    decoded = ax1.get_title()
    for mu in range(m.shape[1]):
        ax2.plot(ts / ta, alpha[:, mu], lw=1)
    ax2.axhline(1.0, color="k", lw=0.5, ls=":")
    ax1.set_xlabel("")
    ax1.set_ylabel("overlap m_μ")
    ax2.set_ylabel("saliency α_μ")
    ax2.set_xlabel("t / τ_α")
    ax1.set_title(
        f"Reasoning model: γ = {row['gamma']}, τ_α = {ta}, N = {row['N']}, P = {row['P']}, "
        f"ε = {row['eps']}; {decoded}",
        fontsize=9,
    )
    paths.append(ctx.save(fig, "overlaps.png"))

    # measured peaks a_k against the peak map a_{k+1} = γ (1 − 1/a_k)
    fig, ax = hplot.subplots(figsize=(4.8, 4.2))
    a_max = 2.0
    for g, (ts, m, alpha, _, _) in zip(shown, traces[1:], strict=True):
        tr = measure_transitions(
            jnp.asarray(ts),
            jnp.asarray(m),
            jnp.asarray(alpha),
            max_transitions=cfg.max_transitions,
            active=cfg.active,
        )
        pk = np.asarray(tr.peaks)
        pk = pk[np.isfinite(pk)]
        (dots,) = ax.plot(pk[:-1], pk[1:], "o", ms=3, label=f"γ = {g} measured")
        a = np.linspace(1.0001, max(pk.max(initial=2.0), g) * 1.05, 200)
        ax.plot(a, g * (1 - 1 / a), "-", lw=1, color=dots.get_color())
        a_max = max(a_max, a.max())
    ax.plot([1, a_max], [1, a_max], "k:", lw=0.8, label="$a_{k+1} = a_k$")
    ax.axhline(1, color="gray", lw=0.5)
    ax.set_xlabel("$a_k$")
    ax.set_ylabel("$a_{k+1}$")
    ax.set_title("Peaks vs the peak map γ(1 − 1/a) (lines)")
    ax.legend(fontsize=7)
    paths.append(ctx.save(fig, "peak_map.png"))

    # period / (P τ_α) vs γ with the theory ln a_+(γ) and the reduced slow dynamics
    fig, ax = hplot.subplots(figsize=(5.2, 3.8))
    recs = table(rows)
    for (ta, n, P, eps), rs in _groups(recs, ("tau_alpha", "N", "P", "eps")).items():
        rs = sorted(rs, key=lambda r: r["gamma"])
        g = np.array([r["gamma"] for r in rs])
        per = np.array([r["period_measured"] or np.nan for r in rs])
        label = f"measured τ_α={_num(ta)} N={n} P={P} ε={eps:g}"
        ax.plot(g, per / (P * ta), "o", ms=4, label=label)
    g = np.linspace(4.0, max(max(cfg.gamma), 5.0), 300)
    ax.plot(g, np.log(np.asarray(th.a_plus(g))), "k-", lw=1, label="theory $\\ln a_+(\\gamma)$")
    for P in cfg.P:
        red = jax.vmap(lambda gg, P=P: th.reduced_period(gg, P, 1.0, a0=cfg.a0))(jnp.asarray(g)) / P
        ax.plot(g, np.asarray(red), "--", lw=1, label=f"reduced slow dynamics, P={P}")
    ax.axvline(4.0, color="gray", lw=0.5, ls=":")
    ax.set_xlabel("γ")
    ax.set_ylabel("period / (P τ_α)")
    ax.legend(fontsize=6)
    paths.append(ctx.save(fig, "period.png"))
    return paths


EXPERIMENT = Experiment(
    name="idp_reasoning",
    config=IDPReasoningConfig,
    fn=reasoning_point,
    static=("N", "P"),
    metrics=METRICS,
    description="Two-timescale IDP reasoning model: sustained cycling, period vs theory.",
    key_exclude=("gamma", "tau_alpha", "eps"),
    report=Report(
        summarize=summarize,
        plot=plot,
        headline=(
            "max_abs_ratio_error_gamma_ge_5",
            "max_abs_ratio_reduced_error_gamma_ge_5",
            "sustained_below_4",
        ),
    ),
)
