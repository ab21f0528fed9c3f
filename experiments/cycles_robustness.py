"""Experiment ``cycles_robustness``: survival of limit cycles under noise.

Survival over ``T`` steps, ``trials`` Monte-Carlo runs per row:
``model = "prime_rings"`` (cluster size ``m``, rings ``primes``;
:func:`~hopjax.cycles.noisy_survival` under flip noise ``eps``, sparsification ``rho`` and a
worst-case adversary ``beta``) beside the exact ``(1 − q)^{T Σp}`` (``rho = 1``), and the
baselines ``sequence_hebbian``, ``dense_polynomial``, ``dense_exponential`` at the same
``n = m Σp`` storing a cyclic sequence of ``P = max(2, round(load · n))`` random patterns
(survival: the clean update's overlap with the expected pattern stays ``>= min_overlap``).
Grid points with both ``rho < 1`` and ``beta > 0``, and baseline points with either, are left
out. Metrics: ``survival``, ``ci_low``/``ci_high`` (99% Wilson interval), ``survival_exact``,
``within_ci``, ``n_units``.

The construction meets the claims of Natale et al. (arXiv:2605.24611) on asymmetric binary networks
with superpolynomially many long, noise-robust limit cycles; our construction and its closed
forms: :mod:`hopjax.cycles` and ``docs/notes/cycles.md``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.cycles import PrimeRings, noisy_survival
from hopjax.measure import crossing
from hopjax.patterns import random_bipolar
from hopjax.sequence import DenseSequence, SequenceHebbian, recall_overlaps
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

NAN = float("nan")
Z99 = 2.5758293035489004  # two-sided 99% normal quantile


@dataclasses.dataclass
class CyclesRobustnessConfig(SweepConfig):
    """Config of ``cycles_robustness`` (grid keys: model, m, eps, rho, beta)."""

    model: list[
        Literal["prime_rings", "sequence_hebbian", "dense_polynomial", "dense_exponential"]
    ] = dataclasses.field(default_factory=lambda: ["prime_rings", "sequence_hebbian"])
    m: list[int] = dataclasses.field(default_factory=lambda: [1, 5, 21])
    eps: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3, 0.4])
    rho: list[float] = dataclasses.field(default_factory=lambda: [1.0])
    beta: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    primes: list[int] = dataclasses.field(
        default_factory=lambda: [2, 3, 5, 7], metadata={"grid": False}
    )
    T: int = param(20, ge=1)
    """Steps per run."""
    trials: int = param(256, ge=1)
    """Monte-Carlo runs per row."""
    load: float = param(0.1, gt=0)
    """Baselines: sequence length ``P = max(2, round(load · n))``."""
    degree: int = param(2, ge=1)
    """Degree of ``dense_polynomial``."""
    sharpness: float = param(1.0, gt=0)
    """``β`` of ``dense_exponential`` (``F(x) = exp(β x)`` on raw overlaps)."""
    min_overlap: float = param(0.9, gt=0, le=1)
    """Baselines survive while the overlap with the expected pattern stays at least this."""

    def check(self) -> None:
        super().check()
        if any(m < 1 or m % 2 == 0 for m in self.m):
            raise ConfigError(f"'m' must hold odd integers >= 1; got {self.m}.")
        try:
            PrimeRings(1, tuple(self.primes))
        except ValueError as err:
            raise ConfigError(f"'primes': {err}") from None
        for key in ("eps", "rho", "beta"):
            if not all(0.0 <= v <= 1.0 for v in getattr(self, key)):
                raise ConfigError(f"'{key}' must lie in [0, 1]; got {getattr(self, key)}.")

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return self.trials * p["m"] * p["m"] * sum(self.primes) * 16 + (1 << 16)

    def include(self, r: Row) -> bool:
        """Whether the grid point ``row`` applies."""
        perturbed = (r["rho"] != 1.0, r["beta"] != 0.0)
        if r["model"] != "prime_rings":
            return not any(perturbed)
        return not all(perturbed)


def _exact_survival(m: int, C: int, eps: Array, beta: Array, T: int) -> Array:
    """``(1 − q)^{T C}``, ``q = P[Bin(m, ε) > (m−1)/2 − ⌊β m⌋]`` inside JAX."""
    j = jnp.arange(m + 1)
    pmf = jax.scipy.stats.binom.pmf(j, m, eps)
    q = jnp.sum(jnp.where(j > (m - 1) // 2 - jnp.floor(beta * m), pmf, 0.0))
    return jnp.exp(T * C * jnp.log1p(-jnp.minimum(q, 1.0)))


def _wilson(p: Array, n: int) -> tuple[Array, Array]:
    """The 99% Wilson score interval of a proportion ``p`` of ``n`` trials. Its ends are
    exactly 0 at ``p = 0`` and 1 at ``p = 1`` (``centre ∓ half`` cancel exactly in real
    arithmetic); they are set so, because float32 leaves ~1e-10 there, and an exact survival
    of 1e-16 then fell "outside" an interval that contains it (236 of 320 rows)."""
    z2 = Z99**2 / n
    centre = (p + z2 / 2) / (1 + z2)
    half = Z99 / (1 + z2) * jnp.sqrt(p * (1 - p) / n + z2 / (4 * n))
    lo = jnp.where(p <= 0.0, 0.0, jnp.maximum(centre - half, 0.0))
    hi = jnp.where(p >= 1.0, 1.0, jnp.minimum(centre + half, 1.0))
    return lo, hi


def cycles_robustness_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """``trials`` runs of one model at one noise point (described in
    :mod:`experiments.cycles_robustness`)."""
    net = PrimeRings(p["m"], tuple(p["primes"]))
    n, T, trials = net.n, p["T"], p["trials"]
    keys = jax.random.split(key, trials)
    if p["model"] == "prime_rings":

        def one(k: PRNGKeyArray) -> Array:
            k_w, k_run = jax.random.split(k)
            s0 = net.state(jax.random.rademacher(k_w, (net.num_clusters,), jnp.float32))
            return noisy_survival(net, k_run, s0, p["eps"], T, rho=p["rho"], beta=p["beta"])

        exact = _exact_survival(net.m, net.num_clusters, p["eps"], p["beta"], T)
        exact = jnp.where(p["rho"] == 1.0, exact, NAN)
    else:
        P = max(2, round(p["load"] * n))

        def one(k: PRNGKeyArray) -> Array:
            k_xi, k_run = jax.random.split(k)
            xi = random_bipolar(k_xi, P, n)
            if p["model"] == "sequence_hebbian":
                model = SequenceHebbian(xi)
            elif p["model"] == "dense_polynomial":
                model = DenseSequence(xi, "polynomial", p["degree"])
            else:
                model = DenseSequence(xi, "exponential", beta=p["sharpness"])
            m = recall_overlaps(model, T, key=k_run, eps=p["eps"])
            return jnp.all(m >= p["min_overlap"])

        exact = jnp.asarray(NAN, jnp.float32)
    surv = jnp.mean(jax.vmap(one)(keys).astype(jnp.float32))
    lo, hi = _wilson(surv, trials)
    within = jnp.where(jnp.isnan(exact), NAN, ((exact >= lo) & (exact <= hi)).astype(jnp.float32))
    return {
        "survival": surv,
        "ci_low": lo,
        "ci_high": hi,
        "survival_exact": exact,
        "within_ci": within,
        "n_units": jnp.asarray(n, jnp.float32),
    }


def tolerated_eps(m: int, C: int, T: int, level: float = 0.5) -> float:
    """The flip rate at which the exact survival over ``T`` steps falls to ``level`` (bisection;
    tends to 1/2 as ``m`` grows)."""
    from hopjax.cycles import cluster_error_prob

    lo, hi = 0.0, 0.5
    for _ in range(50):
        mid = (lo + hi) / 2
        q = cluster_error_prob(m, mid)
        surv = math.exp(T * C * math.log1p(-q)) if q < 1 else 0.0
        lo, hi = (mid, hi) if surv > level else (lo, mid)
    return (lo + hi) / 2


def _curve(rows: list[Row], x: str, **fixed: Any) -> tuple[list[float], list[float]]:
    pts: dict[float, list[float]] = {}
    for r in rows:
        if all(r[k] == v for k, v in fixed.items()):
            pts.setdefault(r[x], []).append(r["survival"])
    xs = sorted(pts)
    return xs, [float(np.mean(pts[v])) for v in xs]


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Tolerated flip rate (exact and measured) per m, the fraction of rows whose Monte-Carlo
    interval holds the exact survival, and the survival curves."""
    cfg = ctx.cfg
    C = sum(cfg.primes)
    tol = {}
    for m in cfg.m:
        xs, ys = _curve(rows, "eps", model="prime_rings", m=m, rho=1.0, beta=0.0)
        measured = crossing(xs, ys, 0.5) if xs else None
        tol[str(m)] = {
            "exact": tolerated_eps(m, C, cfg.T),
            "measured": NAN if measured is None else measured,
        }
    checked = [r["within_ci"] for r in rows if not math.isnan(r["within_ci"])]
    curves = {}
    for model in cfg.model:
        for m in cfg.m:
            xs, ys = _curve(rows, "eps", model=model, m=m, rho=1.0, beta=0.0)
            if xs:
                curves[f"{model}/m={m}"] = dict(zip(map(str, xs), ys, strict=True))
    return {
        "T": cfg.T,
        "rows_with_exact": len(checked),
        "within_ci_fraction": float(np.mean(checked)) if checked else None,
        "eps_tolerated": tol,
        "survival_vs_eps": curves,
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``robustness.png``: survival vs ε (with the exact curves), vs ρ, vs β; tolerated ε vs m."""
    cfg = ctx.cfg
    C = sum(cfg.primes)
    from matplotlib.lines import Line2D

    fig, axes = hplot.subplots(1, 4, figsize=(20, 4.4), constrained_layout=True)
    colors = hplot.colors()
    ax = axes[0]
    markers = dict(zip(cfg.model, ("o", "s", "^", "v"), strict=False))
    for i, m in enumerate(cfg.m):
        c = colors[i % len(colors)]
        for model in cfg.model:
            xs, ys = _curve(rows, "eps", model=model, m=m, rho=1.0, beta=0.0)
            if xs:
                ls = "none" if model == "prime_rings" else "--"
                ax.plot(xs, ys, marker=markers[model], ls=ls, c=c, ms=4, lw=0.8)
        grid = np.linspace(0, max(cfg.eps), 200)
        ax.plot(grid, [tolerated_survival(m, C, cfg.T, e) for e in grid], "-", c=c, lw=0.8)
    ax.set(
        xlabel="flip rate ε", ylabel=f"survival over T={cfg.T}", title="flip noise (lines: exact)"
    )
    # one legend entry per colour (m) and per marker (model), not one per curve
    handles = [Line2D([], [], color=colors[i % len(colors)], label=f"m={m} (n={m * C})")
               for i, m in enumerate(cfg.m)]  # fmt: skip
    handles += [Line2D([], [], color="gray", marker=markers[md], ls="none", label=md)
                for md in cfg.model]  # fmt: skip
    ax.legend(handles=handles, fontsize=7, loc="upper right")
    shown = sorted(cfg.eps)[:: max(1, len(cfg.eps) // 3)][:3]  # a few flip rates per panel
    styles = ("o-", "s--", "^:")
    for ax, key, title in ((axes[1], "rho", "sparsification ρ"), (axes[2], "beta", "adversary β")):
        for i, m in enumerate(cfg.m):
            for e, style in zip(shown, styles, strict=False):
                fixed = {"model": "prime_rings", "m": m, "eps": e}
                fixed.update({"beta": 0.0} if key == "rho" else {"rho": 1.0})
                xs, ys = _curve(rows, key, **fixed)
                if len(xs) > 1:
                    label = f"m={m}" if e == shown[0] else None
                    ax.plot(xs, ys, style, c=colors[i % len(colors)], ms=3, lw=0.8, label=label)
        eps_txt = ", ".join(f"{e:g}" for e in shown)
        ax.set(xlabel=title, ylabel="survival", title=f"{title}; ε = {eps_txt} (o, s, ^)")
        if ax.get_legend_handles_labels()[0]:  # a grid without this axis has no curves
            ax.legend(fontsize=7)
    ax = axes[3]
    ms = np.arange(1, 402, 2)
    ax.plot(ms, [tolerated_eps(int(m), C, cfg.T) for m in ms], "-", label="exact")
    meas = summary["eps_tolerated"]
    ax.plot([int(m) for m in meas], [v["measured"] for v in meas.values()], "o", label="measured")
    ax.axhline(0.5, c="k", lw=0.6, ls=":")
    ax.set(
        xscale="log",
        xlabel="cluster size m",
        ylabel="ε at 50% survival",
        title=f"tolerated flip rate → 1/2 (T={cfg.T}, Σp={C})",
    )
    ax.legend(fontsize=8)
    return [ctx.save(fig, "robustness.png")]


def tolerated_survival(m: int, C: int, T: int, eps: float) -> float:
    """Exact survival ``(1 − q(m, ε))^{T C}`` (host side, for plots)."""
    from hopjax.cycles import cluster_error_prob

    q = cluster_error_prob(m, float(eps))
    return math.exp(T * C * math.log1p(-q)) if q < 1 else 0.0


EXPERIMENT = Experiment(
    name="cycles_robustness",
    config=CyclesRobustnessConfig,
    fn=cycles_robustness_point,
    static=("model", "m"),
    metrics=("survival", "ci_low", "ci_high", "survival_exact", "within_ci", "n_units"),
    description="survival of prime-ring cycles under flips, sparsification and adversaries",
    report=Report(summarize=summarize, plot=plot, headline=("within_ci_fraction", "eps_tolerated")),
)
