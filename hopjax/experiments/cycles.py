"""Experiments ``cycles_census``, ``cycles_robustness`` and ``cycles_scaling`` (seed 000,
``../shared/specs/cycles.md``).

``cycles_census`` — exhaustive census (:func:`hopjax.cycles.census_stats`) of one network per
row; ``network`` names it: ``"rings:M:P1,P2,…"`` (:class:`~hopjax.cycles.PrimeRings`,
deterministic: one row), ``"asymmetric:N"`` / ``"symmetric:N"`` (Gaussian couplings,
:func:`~hopjax.sequence.gaussian_couplings` with symmetry 0 / 1), ``"sequence_hebbian:N:P"``
(Amari's rule on ``P`` random patterns). Metrics: ``n_units``, ``num_cycles``, ``max_period``,
``num_fixed_points``, ``mean_basin``, ``largest_basin``, ``mean_period`` and, for rings, the
closed forms ``closed_num_cycles``, ``closed_max_period`` and ``matches_closed_form``.

``cycles_robustness`` — survival over ``T`` steps, ``trials`` Monte-Carlo runs per row:
``model = "prime_rings"`` (cluster size ``m``, rings ``primes``;
:func:`~hopjax.cycles.noisy_survival` under flip noise ``eps``, sparsification ``rho`` and a
worst-case adversary ``beta``) beside the exact ``(1 − q)^{T Σp}`` (``rho = 1``), and the
baselines ``sequence_hebbian``, ``dense_polynomial``, ``dense_exponential`` at the same
``n = m Σp`` storing a cyclic sequence of ``P = max(2, round(load · n))`` random patterns
(survival: the clean update's overlap with the expected pattern stays ``>= min_overlap``).
Grid points with both ``rho < 1`` and ``beta > 0``, and baseline points with either, are left
out. Metrics: ``survival``, ``ci_low``/``ci_high`` (99% Wilson interval), ``survival_exact``,
``within_ci``, ``n_units``.

``cycles_scaling`` — per ``n`` and ``construction``: a :func:`~hopjax.cycles.design` of the
prime rings (objectives ``design_cycles``, ``design_period``, ``first_primes``) for noise
``eps`` over ``horizon`` steps at failure probability ``fail_prob``, with ``log_cycles`` and
``log_period`` from the closed forms (natural logs), and ``period_simulated`` from Brent's
algorithm on the ``O(n)`` stepper started on a random maximal-period cycle (when the period is
at most ``sim_max_period``); the baselines ``sequence_hebbian`` / ``dense_polynomial``
measure their sequence capacity ``P_max`` (largest tried length recalled in at least half the
``trials``: overlap kept ``>= 0.5`` for the Hebbian rule, every transition exact for the dense
network, as in the two papers) on a ladder of lengths ``ladder × P_theory``,
``P_theory = 0.269 n`` (Düring et al. 1998) or ``n^d / (2 (2d−1)!! ln n)`` (Chaudhry et al.
2023); their ``log_period = ln P_max`` and ``log_cycles = ln(P_max / 2)`` (at most
``P_max/2`` stored cycles of length ≥ 2).
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

from hopjax.config import ConfigError, SweepConfig
from hopjax.cycles import PrimeRings, census_stats, design, find_cycle, noisy_survival
from hopjax.patterns import random_bipolar
from hopjax.plots import plt, save
from hopjax.sequence import DenseSequence, SequenceHebbian, gaussian_couplings, recall_overlaps
from hopjax.sweep import Experiment, Row, register

NAN = float("nan")
Z99 = 2.5758293035489004  # two-sided 99% normal quantile


# ----------------------------------------------------------------------------- census


def parse_network(spec: str) -> tuple[str, dict[str, Any]]:
    """``"rings:M:P1,P2"`` | ``"asymmetric:N"`` | ``"symmetric:N"`` | ``"sequence_hebbian:N:P"``
    → ``(kind, values)`` (:class:`ConfigError` naming ``network`` otherwise)."""
    parts = spec.split(":")
    kind = parts[0]
    try:
        if kind == "rings" and len(parts) == 3:
            net = PrimeRings(int(parts[1]), tuple(int(p) for p in parts[2].split(",")))
            n, out = net.n, {"net": net}
        elif kind in ("asymmetric", "symmetric") and len(parts) == 2:
            n = int(parts[1])
            out = {"n": n}
        elif kind == "sequence_hebbian" and len(parts) == 3:
            n, P = int(parts[1]), int(parts[2])
            if P < 2:
                raise ValueError(f"P must be >= 2; got {P}")
            out = {"n": n, "P": P}
        else:
            raise ValueError("unknown form")
    except ValueError as err:
        raise ConfigError(
            f"'network' entry {spec!r} is invalid ({err}); expected 'rings:M:P1,P2,…', "
            "'asymmetric:N', 'symmetric:N' or 'sequence_hebbian:N:P'."
        ) from None
    if not 2 <= n <= 24:
        raise ConfigError(f"'network' entry {spec!r}: a census needs 2 <= n <= 24; got n = {n}.")
    return kind, out


@dataclasses.dataclass
class CyclesCensusConfig(SweepConfig):
    """Config of ``cycles_census`` (grid key: network)."""

    network: list[str] = dataclasses.field(
        default_factory=lambda: [
            "rings:1:2,3,5,7",
            "rings:3:2,3",
            "rings:3:2,5",
            "asymmetric:16",
            "symmetric:16",
            "sequence_hebbian:16:4",
        ]
    )

    def check(self) -> None:
        super().check()
        for spec in self.network:
            parse_network(spec)


def _census_n(spec: str) -> int:
    kind, v = parse_network(spec)
    return v["net"].n if kind == "rings" else v["n"]


def census_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One census (module docstring)."""
    kind, v = parse_network(p["network"])
    if kind == "rings":
        W, b = v["net"].weights()
    elif kind == "sequence_hebbian":
        W = SequenceHebbian(random_bipolar(key, v["P"], v["n"])).weights()[0]
        b = None
    else:
        W, b = gaussian_couplings(key, v["n"], symmetry=float(kind == "symmetric")), None
    out = {k: jnp.asarray(x, jnp.float32) for k, x in census_stats(W, b).items()}
    out["n_units"] = jnp.asarray(_census_n(p["network"]), jnp.float32)
    if kind == "rings":
        cn, cp = float(v["net"].num_cycles), float(v["net"].max_period)
        out["closed_num_cycles"] = jnp.asarray(cn, jnp.float32)
        out["closed_max_period"] = jnp.asarray(cp, jnp.float32)
        out["matches_closed_form"] = ((out["num_cycles"] == cn) & (out["max_period"] == cp)).astype(
            jnp.float32
        )
    else:
        for k in ("closed_num_cycles", "closed_max_period", "matches_closed_form"):
            out[k] = jnp.asarray(NAN, jnp.float32)
    return out


CENSUS_METRICS = (
    "n_units",
    "num_cycles",
    "max_period",
    "num_fixed_points",
    "mean_basin",
    "largest_basin",
    "mean_period",
    "closed_num_cycles",
    "closed_max_period",
    "matches_closed_form",
)


def summarize_census(cfg: CyclesCensusConfig, rows: list[Row]) -> dict[str, Any]:
    nets: dict[str, Any] = {}
    for spec in cfg.network:
        rs = [r for r in rows if r["network"] == spec]
        nets[spec] = {
            "rows": len(rs),
            "n": int(rs[0]["n_units"]),
            **{
                f"{k}_{agg.__name__}": float(agg([r[k] for r in rs]))
                for k in ("num_cycles", "max_period", "num_fixed_points", "mean_basin")
                for agg in (np.mean, np.max)
            },
        }
    rings = [r for r in rows if r["network"].startswith("rings")]
    sym = [r for r in rows if r["network"].startswith("symmetric")]
    return {
        "networks": nets,
        "closed_forms_match": bool(all(r["matches_closed_form"] == 1 for r in rings)),
        "symmetric_max_period": max((int(r["max_period"]) for r in sym), default=None),
    }


def plot_census(
    cfg: CyclesCensusConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    specs = list(cfg.network)
    for ax, key, label in zip(
        axes,
        ("num_cycles", "max_period", "mean_basin"),
        ("number of cycles", "longest cycle", "mean basin size"),
        strict=True,
    ):
        for i, spec in enumerate(specs):
            vals = [r[key] for r in rows if r["network"] == spec]
            ax.scatter(np.full(len(vals), i) + np.linspace(-0.15, 0.15, len(vals)), vals, s=14)
            if key != "mean_basin" and spec.startswith("rings"):
                closed = rows[[r["network"] for r in rows].index(spec)]
                ref = closed["closed_num_cycles" if key == "num_cycles" else "closed_max_period"]
                ax.scatter(
                    [i], [ref], marker="_", s=400, c="k", label="closed form" if i == 0 else None
                )
        ax.set_yscale("log")
        ax.set_xticks(range(len(specs)), specs, rotation=30, ha="right", fontsize=8)
        ax.set_title(label)
    axes[0].legend(fontsize=8)
    fig.suptitle("Exhaustive census (every state of every network)")
    return [save(fig, out / "census.png", cfg.plot.dpi)]


register(
    Experiment(
        name="cycles_census",
        config=CyclesCensusConfig,
        fn=census_point,
        static=("network",),
        metrics=CENSUS_METRICS,
        description="exhaustive cycle census: prime rings vs closed forms, random/sequence nets",
        include=lambda cfg, r: not r["network"].startswith("rings") or r["seed"] == cfg.base_seed,
        row_bytes=lambda cfg, s: 64 << _census_n(s["network"]),
        summarize=summarize_census,
        plot=plot_census,
    )
)


# ----------------------------------------------------------------------------- robustness


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
    T: int = 20
    """Steps per run."""
    trials: int = 256
    """Monte-Carlo runs per row."""
    load: float = 0.1
    """Baselines: sequence length ``P = max(2, round(load · n))``."""
    degree: int = 2
    """Degree of ``dense_polynomial``."""
    sharpness: float = 1.0
    """``β`` of ``dense_exponential`` (``F(x) = exp(β x)`` on raw overlaps)."""
    min_overlap: float = 0.9
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
        if self.T < 1 or self.trials < 1:
            raise ConfigError(f"'T' and 'trials' must be >= 1; got {self.T}, {self.trials}.")
        if not 0 < self.load or self.degree < 1 or self.sharpness <= 0:
            raise ConfigError("'load', 'degree' and 'sharpness' must be > 0.")
        if not 0 < self.min_overlap <= 1:
            raise ConfigError(f"'min_overlap' must lie in (0, 1]; got {self.min_overlap}.")


def _exact_survival(m: int, C: int, eps: Array, beta: Array, T: int) -> Array:
    """``(1 − q)^{T C}``, ``q = P[Bin(m, ε) > (m−1)/2 − ⌊β m⌋]`` inside JAX."""
    j = jnp.arange(m + 1)
    pmf = jax.scipy.stats.binom.pmf(j, m, eps)
    q = jnp.sum(jnp.where(j > (m - 1) // 2 - jnp.floor(beta * m), pmf, 0.0))
    return jnp.exp(T * C * jnp.log1p(-jnp.minimum(q, 1.0)))


def _wilson(p: Array, n: int) -> tuple[Array, Array]:
    z2 = Z99**2 / n
    centre = (p + z2 / 2) / (1 + z2)
    half = Z99 / (1 + z2) * jnp.sqrt(p * (1 - p) / n + z2 / (4 * n))
    return centre - half, centre + half


def robustness_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """``trials`` runs of one model at one noise point (module docstring)."""
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


def _robustness_include(cfg: CyclesRobustnessConfig, r: Row) -> bool:
    perturbed = (r["rho"] != 1.0, r["beta"] != 0.0)
    if r["model"] != "prime_rings":
        return not any(perturbed)
    return not all(perturbed)


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


def _crossing(xs: list[float], ys: list[float], level: float = 0.5) -> float:
    """First ``x`` where ``y`` falls through ``level`` (linear interpolation; NaN if never)."""
    for i in range(len(xs) - 1):
        (x0, y0), (x1, y1) = (xs[i], ys[i]), (xs[i + 1], ys[i + 1])
        if y0 >= level > y1:
            return x0 + (y0 - level) * (x1 - x0) / (y0 - y1)
    return NAN


def _curve(rows: list[Row], x: str, **fixed: Any) -> tuple[list[float], list[float]]:
    pts: dict[float, list[float]] = {}
    for r in rows:
        if all(r[k] == v for k, v in fixed.items()):
            pts.setdefault(r[x], []).append(r["survival"])
    xs = sorted(pts)
    return xs, [float(np.mean(pts[v])) for v in xs]


def summarize_robustness(cfg: CyclesRobustnessConfig, rows: list[Row]) -> dict[str, Any]:
    C = sum(cfg.primes)
    tol = {}
    for m in cfg.m:
        xs, ys = _curve(rows, "eps", model="prime_rings", m=m, rho=1.0, beta=0.0)
        tol[str(m)] = {"exact": tolerated_eps(m, C, cfg.T), "measured": _crossing(xs, ys)}
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


def plot_robustness(
    cfg: CyclesRobustnessConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    C = sum(cfg.primes)
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax = axes[0]
    for i, m in enumerate(cfg.m):
        c = colors[i % len(colors)]
        for model, style in zip(cfg.model, ("o", "s--", "^--", "v--"), strict=False):
            xs, ys = _curve(rows, "eps", model=model, m=m, rho=1.0, beta=0.0)
            if xs:
                lab = f"{model} m={m} (n={m * C})"
                ax.plot(xs, ys, style if model != "prime_rings" else "o", c=c, label=lab, ms=4)
        grid = np.linspace(0, max(cfg.eps), 200)
        ax.plot(grid, [tolerated_survival(m, C, cfg.T, e) for e in grid], "-", c=c, lw=0.8)
    ax.set(
        xlabel="flip rate ε", ylabel=f"survival over T={cfg.T}", title="flip noise (lines: exact)"
    )
    ax.legend(fontsize=6)
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
    return [save(fig, out / "robustness.png", cfg.plot.dpi)]


def tolerated_survival(m: int, C: int, T: int, eps: float) -> float:
    """Exact survival ``(1 − q(m, ε))^{T C}`` (host side, for plots)."""
    from hopjax.cycles import cluster_error_prob

    q = cluster_error_prob(m, float(eps))
    return math.exp(T * C * math.log1p(-q)) if q < 1 else 0.0


register(
    Experiment(
        name="cycles_robustness",
        config=CyclesRobustnessConfig,
        fn=robustness_point,
        static=("model", "m"),
        metrics=("survival", "ci_low", "ci_high", "survival_exact", "within_ci", "n_units"),
        description="survival of prime-ring cycles under flips, sparsification and adversaries",
        include=_robustness_include,
        row_bytes=lambda cfg, s: cfg.trials * s["m"] * s["m"] * sum(cfg.primes) * 16 + (1 << 16),
        summarize=summarize_robustness,
        plot=plot_robustness,
    )
)


# ----------------------------------------------------------------------------- scaling

RING_CONSTRUCTIONS = {
    "design_cycles": "cycles",
    "design_period": "period",
    "first_primes": "first_primes",
}


@dataclasses.dataclass
class CyclesScalingConfig(SweepConfig):
    """Config of ``cycles_scaling`` (grid keys: construction, n)."""

    construction: list[
        Literal[
            "design_cycles", "design_period", "first_primes", "sequence_hebbian", "dense_polynomial"
        ]
    ] = dataclasses.field(
        default_factory=lambda: ["design_cycles", "design_period", "first_primes"]
    )
    n: list[int] = dataclasses.field(default_factory=lambda: [100, 300, 1000, 3000, 10000])
    eps: float = 0.1
    horizon: int = 1000
    fail_prob: float = 0.01
    sim_max_period: int = 200_000
    """Simulate the period with Brent when the closed form is at most this."""
    baseline_max_n: int = 400
    """Baseline capacities are measured for ``n`` up to this (larger rows are left out)."""
    ladder: list[float] = dataclasses.field(
        default_factory=lambda: [
            0.5,
            0.7,
            0.8,
            0.9,
            0.95,
            1.0,
            1.05,
            1.1,
            1.2,
            1.4,
            1.7,
            2,
            2.5,
            3,
        ],
        metadata={"grid": False},
    )
    """Tried sequence lengths, in units of the baseline's theoretical capacity."""
    degree: int = 2
    trials: int = 8
    recall_steps: int = 100

    def check(self) -> None:
        super().check()
        if min(self.n) < 2:
            raise ConfigError(f"'n' must be >= 2; got {self.n}.")
        if not 0 <= self.eps < 0.5:
            raise ConfigError(f"'eps' must lie in [0, 0.5); got {self.eps}.")
        if not 0 < self.fail_prob < 1:
            raise ConfigError(f"'fail_prob' must lie in (0, 1); got {self.fail_prob}.")
        if self.horizon < 1 or self.trials < 1 or self.recall_steps < 1 or self.degree < 1:
            raise ConfigError("'horizon', 'trials', 'recall_steps', 'degree' must be >= 1.")
        if min(self.ladder) <= 0:
            raise ConfigError(f"'ladder' must be > 0; got {self.ladder}.")
        for c in self.construction:
            if c in RING_CONSTRUCTIONS:
                for n in self.n:
                    try:
                        design(n, self.eps, self.horizon, self.fail_prob)
                    except ValueError as err:
                        raise ConfigError(f"'n' = {n}: {err}") from None


def theory_capacity(kind: str, n: int, degree: int = 2) -> float:
    """Literature sequence capacity: ``0.269 n`` (sequence Hebbian, parallel dynamics; Düring,
    Coolen & Sherrington 1998) or ``n^d / (2 (2d−1)!! ln n)`` (dense polynomial; Chaudhry et
    al. 2023)."""
    if kind == "sequence_hebbian":
        return 0.269 * n
    double_fact = math.prod(range(2 * degree - 1, 0, -2))
    return n**degree / (2 * double_fact * math.log(n))


def _scaling_prepare(cfg: CyclesScalingConfig, static: dict[str, Any]) -> dict[str, Any]:
    c, n = static["construction"], static["n"]
    if c in RING_CONSTRUCTIONS:
        return {
            "net": design(n, cfg.eps, cfg.horizon, cfg.fail_prob, objective=RING_CONSTRUCTIONS[c])
        }
    P_th = theory_capacity(c, n, cfg.degree)
    lengths = sorted({max(2, round(f * P_th)) for f in cfg.ladder})
    return {"lengths": lengths, "P_theory": P_th}


def _aperiodic_words(net: PrimeRings, key: PRNGKeyArray) -> Array:
    """Random cluster words with every ring non-constant (a cycle of maximal period)."""
    V = jax.random.rademacher(key, (net.num_clusters,), jnp.float32)
    starts = np.cumsum((0, *net.primes[:-1]))
    ring = np.repeat(np.arange(len(net.primes)), net.primes)
    ups = jax.ops.segment_sum((V > 0).astype(jnp.int32), ring, len(net.primes))
    const = (ups == 0) | (ups == np.asarray(net.primes))
    return V.at[starts].set(jnp.where(const, -V[starts + 1], V[starts]))


def scaling_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    c, n = p["construction"], p["n"]
    f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
    if c in RING_CONSTRUCTIONS:
        net: PrimeRings = p["net"]
        if net.max_period <= p["sim_max_period"]:
            s0 = net.state(_aperiodic_words(net, key))
            _, lam, _, found = find_cycle(net.step, s0, max_steps=p["sim_max_period"] + 2)
            sim = jnp.where(found, lam, -1).astype(jnp.float32)
            matches = (sim == float(net.max_period)).astype(jnp.float32)
        else:
            sim = matches = f32(NAN)
        return {
            "log_cycles": f32(math.log(net.num_cycles)),
            "log_period": f32(math.log(net.max_period)),
            "m_used": f32(net.m),
            "n_used": f32(net.n),
            "num_rings": f32(len(net.primes)),
            "failure_prob": f32(net.failure_prob(p["eps"], p["horizon"])),
            "period_simulated": sim,
            "period_matches": matches,
            "capacity": f32(NAN),
            "capacity_theory": f32(NAN),
        }
    lengths = jnp.asarray(p["lengths"])
    Pmax = int(max(p["lengths"]))

    def recalled(L: Array, k: PRNGKeyArray) -> Array:
        xi = random_bipolar(k, Pmax, n)
        if c == "sequence_hebbian":
            model = SequenceHebbian(xi, length=L)
        else:
            model = DenseSequence(xi, "polynomial", p["degree"], length=L)
        m = jnp.min(recall_overlaps(model, p["recall_steps"]))
        return m >= 0.5 if c == "sequence_hebbian" else m == 1.0  # overlap kept / exact

    keys = jax.random.split(key, p["trials"])
    ok = jax.vmap(lambda L: jnp.mean(jax.vmap(lambda k: recalled(L, k))(keys)))(lengths)
    cap = jnp.max(jnp.where(ok >= 0.5, lengths, 0)).astype(jnp.float32)
    return {
        "log_cycles": jnp.log(cap / 2),
        "log_period": jnp.log(cap),
        "m_used": f32(NAN),
        "n_used": f32(n),
        "num_rings": f32(NAN),
        "failure_prob": f32(NAN),
        "period_simulated": f32(NAN),
        "period_matches": f32(NAN),
        "capacity": cap,
        "capacity_theory": f32(p["P_theory"]),
    }


SCALING_METRICS = (
    "log_cycles",
    "log_period",
    "m_used",
    "n_used",
    "num_rings",
    "failure_prob",
    "period_simulated",
    "period_matches",
    "capacity",
    "capacity_theory",
)


def summarize_scaling(cfg: CyclesScalingConfig, rows: list[Row]) -> dict[str, Any]:
    out: dict[str, Any] = {"eps": cfg.eps, "horizon": cfg.horizon, "fail_prob": cfg.fail_prob}
    for c in cfg.construction:
        rs = [r for r in rows if r["construction"] == c]
        out[c] = {
            str(n): {
                k: float(np.mean([r[k] for r in rs if r["n"] == n]))
                for k in ("log_cycles", "log_period", "m_used", "capacity", "capacity_theory")
            }
            for n in sorted({r["n"] for r in rs})
        }
    sims = [r["period_matches"] for r in rows if not math.isnan(r["period_matches"])]
    out["periods_simulated"] = len(sims)
    out["periods_match"] = bool(sims) and all(s == 1 for s in sims)
    return out


def plot_scaling(
    cfg: CyclesScalingConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, key, rate, rate_label in (
        (axes[0], "log_cycles", lambda n: n / np.log(n) ** 2, "∝ n / log² n"),
        (axes[1], "log_period", lambda n: np.sqrt(n) / np.log(n), "∝ √n / log n"),
    ):
        ref = None
        for c in cfg.construction:
            rs = [r for r in rows if r["construction"] == c]
            ns = sorted({r["n"] for r in rs})
            ys = [np.mean([r[key] for r in rs if r["n"] == n]) for n in ns]
            ax.plot(ns, ys, "o-" if c in RING_CONSTRUCTIONS else "s--", label=c)
            if c == "first_primes":
                ref = (ns[-1], ys[-1])
        if ref is not None:
            grid = np.geomspace(min(cfg.n), max(cfg.n), 100)
            ax.plot(
                grid, ref[1] * rate(grid) / rate(ref[0]), "k:", label=f"seed's rate {rate_label}"
            )
        ax.set(xscale="log", yscale="log", xlabel="n (neurons)")
        ax.set_ylabel("ln #cycles" if key == "log_cycles" else "ln period")
        ax.legend(fontsize=7)
    fig.suptitle(
        f"prime rings designed for ε={cfg.eps}, horizon {cfg.horizon}, P[fail] ≤ {cfg.fail_prob}"
    )
    return [save(fig, out / "scaling.png", cfg.plot.dpi)]


register(
    Experiment(
        name="cycles_scaling",
        config=CyclesScalingConfig,
        fn=scaling_point,
        static=("construction", "n"),
        metrics=SCALING_METRICS,
        description="log #cycles and log period vs n: designed prime rings vs baselines",
        prepare=_scaling_prepare,
        include=lambda cfg, r: (
            r["construction"] in RING_CONSTRUCTIONS or r["n"] <= cfg.baseline_max_n
        ),
        row_bytes=lambda cfg, s: 8 * s["n"] * (64 + 4 * s["n"]) * cfg.trials,
        summarize=summarize_scaling,
        plot=plot_scaling,
    )
)
