"""Experiment ``hebbian_rules``: the local learning rules of :mod:`hopjax.rules` (the activity
product rule, Oja 1982, and the expanded form of Gerstner & Kistler 2002) trained by ``lax.scan``
on streamed patterns.

Per row (rule, eta, seed): a linear neuron ``y = w·x`` sees ``T`` samples ``x ~ N(0, C)`` with
``C = Q diag(λ) Qᵀ`` (``λ_k = spectrum_decay^k``, a random rotation ``Q``, dimension ``dim``),
from ``w_0`` random with norm 0.1. Rules: ``activity_product`` (``Δw = η y x``), ``oja``
(``Δw = η y (x − y w)``), and the expanded Taylor form with the coefficients of each
(``expanded_activity``, ``expanded_oja``: must follow the same trajectories).

Metrics: ``alignment`` ``|cos(w_T, v_1)|`` with the first principal component ``v_1`` of ``C``,
``final_norm`` ``‖w_T‖`` (``inf`` when it overflowed float32), ``diverged`` (``‖w‖`` passed
``1e6`` or stopped being finite), ``diverge_step`` (first such step; NaN if never), and
``log10_norm_mid`` (at ``T/2``). Oja converges to ``±v_1`` with unit norm; the activity-product
rule grows like ``(1 + η λ_1)^t`` and diverges — reported, not hidden.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax import rules
from hopjax.sweep import (
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    SweepConfig,
    param,
)

Rule = Literal["activity_product", "oja", "expanded_activity", "expanded_oja"]


@dataclasses.dataclass
class HebbianRulesConfig(SweepConfig):
    """Config of ``hebbian_rules`` (grid keys: rule, eta)."""

    rule: list[Rule] = dataclasses.field(
        default_factory=lambda: ["activity_product", "oja", "expanded_activity", "expanded_oja"]
    )
    eta: list[float] = param([0.001, 0.003, 0.01], gt=0)
    dim: int = param(16, ge=2)
    T: int = param(5000, ge=2)
    spectrum_decay: float = param(0.6, gt=0, lt=1)
    """Eigenvalues ``λ_k = decay^k`` of the data covariance (gap 1 − decay)."""

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 8 * self.T * self.dim + (1 << 16)


def covariance(key: PRNGKeyArray, dim: int, decay: float) -> tuple[Array, Array]:
    """``(C, v_1)``: ``C = Q diag(decay^k) Qᵀ`` with a random orthogonal ``Q``; ``v_1 = Q e_0``."""
    Q, _ = jnp.linalg.qr(jax.random.normal(key, (dim, dim)))
    lam = decay ** jnp.arange(dim, dtype=jnp.float32)
    return (Q * lam) @ Q.T, Q[:, 0]


def _update(rule: str, eta: Array) -> Any:
    if rule == "activity_product":
        return functools.partial(rules.activity_product, eta=eta)
    if rule == "oja":
        return functools.partial(rules.oja, eta=eta)
    coeffs = rules.HebbianCoefficients(c2_corr=eta)
    if rule == "expanded_oja":
        coeffs = rules.HebbianCoefficients(c2_corr=eta, c2_post=jnp.stack([0.0 * eta, -eta]))
    return functools.partial(rules.expanded_hebbian, coefficients=coeffs)


def _trajectory(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, Array]:
    k_c, k_x, k_w = jax.random.split(key, 3)
    C, v1 = covariance(k_c, p["dim"], p["spectrum_decay"])
    xs = jax.random.multivariate_normal(k_x, jnp.zeros(p["dim"]), C, (p["T"],))
    w0 = jax.random.normal(k_w, (p["dim"],))
    w0 = 0.1 * w0 / jnp.linalg.norm(w0)
    _, ws = rules.learn(_update(p["rule"], p["eta"]), w0, xs, history=True)
    return ws, v1


def hebbian_rules_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    ws, v1 = _trajectory(p, key)
    norms = jnp.linalg.norm(ws, axis=1)
    bad = ~jnp.isfinite(norms) | (norms > 1e6)
    w = ws[-1]
    align = jnp.abs(w @ v1) / jnp.linalg.norm(w)
    return {
        "alignment": jnp.where(jnp.any(bad), jnp.nan, align),
        "final_norm": jnp.where(jnp.isfinite(norms[-1]), norms[-1], jnp.inf),
        "diverged": jnp.any(bad).astype(jnp.float32),
        "diverge_step": jnp.where(jnp.any(bad), jnp.argmax(bad).astype(jnp.float32), jnp.nan),
        "log10_norm_mid": jnp.log10(norms[p["T"] // 2]),
    }


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per rule and η: mean alignment with the first PC, mean final norm, diverged fraction."""
    cfg = ctx.cfg
    out: dict[str, Any] = {}
    for rule in cfg.rule:
        rs = [r for r in rows if r["rule"] == rule]
        out[rule] = {
            str(eta): {
                "alignment_mean": float(np.nanmean([r["alignment"] for r in rs if r["eta"] == eta]))
                if any(not np.isnan(r["alignment"]) for r in rs if r["eta"] == eta)
                else None,
                "final_norm_mean": float(np.mean([r["final_norm"] for r in rs if r["eta"] == eta])),
                "diverged_fraction": float(np.mean([r["diverged"] for r in rs if r["eta"] == eta])),
            }
            for eta in cfg.eta
        }
    return {"rules": out, "T": cfg.T, "dim": cfg.dim}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``hebbian_rules.png``: the weight norm along the stream at every η (base rules as lines,
    their expanded Taylor forms as markers on top — they coincide; a divergence, ‖w‖ > 10⁶ or
    overflow, is marked ×), and the alignment with the first PC at the middle η."""
    cfg = ctx.cfg
    fig, axes = hplot.subplots(1, 2, figsize=(13.5, 4.4), constrained_layout=True)
    picked = [
        next(r for r in rows if (r["rule"], r["eta"], r["seed"]) == (rule, eta, cfg.base_seed))
        for rule in cfg.rule
        for eta in cfg.eta
    ]  # first seed, every rule and η: the same data stream (key_exclude)
    colors = hplot.colors()
    base = [r for r in cfg.rule if not r.startswith("expanded")]
    mid = cfg.eta[len(cfg.eta) // 2]
    every = max(1, cfg.T // 25)
    for row, (ws, v1) in zip(picked, ctx.rerun(picked, _trajectory), strict=True):
        rule, eta = row["rule"], row["eta"]
        family = rule.removeprefix("expanded_").replace("activity", "activity_product")
        c = colors[(base.index(family) if family in base else 0) * len(cfg.eta)
                   + cfg.eta.index(eta)]  # fmt: skip
        norms = np.linalg.norm(np.asarray(ws, np.float64), axis=1)
        bad = ~np.isfinite(norms) | (norms > 1e6)
        shown = np.where(bad, np.nan, norms)
        if rule.startswith("expanded"):
            t = np.arange(0, len(norms), every)
            axes[0].plot(t, shown[t], "o", ms=3, mfc="none", c=c)
        else:
            axes[0].plot(shown, "-", c=c, label=f"{rule}, η = {eta}")
            if bad.any():
                first = int(np.argmax(bad))
                axes[0].plot(first, 1e6, "x", c=c, ms=8, mew=2)
        if eta == mid:
            align = np.abs(np.asarray(ws) @ np.asarray(v1)) / norms
            style = "o" if rule.startswith("expanded") else "-"
            t = np.arange(0, len(norms), every) if style == "o" else np.arange(len(norms))
            axes[1].plot(t, align[t], style, ms=3, mfc="none", c=c, label=rule)
    axes[0].axhline(1e6, color="gray", lw=0.6, ls=":")
    axes[0].set(yscale="log", xlabel="sample", ylabel="‖w‖",
                title="weight norm (× divergence; ○ expanded form)")  # fmt: skip
    axes[1].set(xlabel="sample", ylabel="|cos(w, v₁)|",
                title=f"alignment with the first PC (η = {mid})")  # fmt: skip
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[1].legend(fontsize=7, loc="lower right")
    return [ctx.save(fig, "hebbian_rules.png")]


EXPERIMENT = Experiment(
    name="hebbian_rules",
    config=HebbianRulesConfig,
    fn=hebbian_rules_point,
    static=("rule",),
    key_exclude=("rule",),  # every rule sees the same data stream
    metrics=("alignment", "final_norm", "diverged", "diverge_step", "log10_norm_mid"),
    description="local Hebbian rules, streamed data: Oja finds PC1, activity product diverges",
    report=Report(summarize=summarize, plot=plot, headline=("rules",)),
)
