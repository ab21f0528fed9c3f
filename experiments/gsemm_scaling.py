"""Experiment ``gsemm_scaling``: how Dense GSEMM's sequence capacity grows with the number of
feature neurons ``N_f`` at each polynomial degree — the scaling law behind Fig. 3 of Karuvally,
Sejnowski & Siegelmann (ICML 2023).

The protocol is ``gsemm_capacity``'s (a K-cycle of random memories, cue ξ1, appendix C's rule:
≥ 3K correct transitions with no error; capacity per (degree, N_f, seed) = the largest K of the
ladder retrieved at the best α_c), with ``N_f`` a grid axis (static: one compiled group per
``(K, N_f)``). A row's RK4 work grows as ``K² N_f`` (``~3K`` transitions, each a product of K
memories of ``N_f`` features), so ``cost_cap`` bounds it: each ``N_f``'s ladder ends at the
largest K with ``K² N_f ≤ cost_cap`` (:meth:`GSEMMScalingConfig.top`), and a (degree, N_f)
that retrieves it is *censored* there (its capacity is a lower bound). K values above a cap
count as not retrieved in the ladder rules, which then bisect below the cap instead of
galloping past it.

Summary: per degree and ``N_f`` the capacities over seeds, their median and the censoring; per
degree the fit ``log K = a + b log N_f`` over the uncensored points (median capacity; slope
``b`` ± a bootstrap over seeds), beside the dense-associative-memory law
``K ~ N^n / (c ln N)`` (Krotov & Hopfield 2016; Demircigil et al. 2017): its local slope
``n − 1/ln N`` and the fitted constant ``c``."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from hopjax import plot as hplot
from hopjax.sweep import Params, Report, Row, RunContext, param
from hopjax.sweep.config import ConfigError

from ._common import ladder_top
from .gsemm_capacity import EXPERIMENT as CAPACITY
from .gsemm_capacity import (
    GSEMMCapacityConfig,
    censoring,
    derive,
    per_seed,
    unfinished_pairs,
)

LADDER = [2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
          160, 192, 224, 256, 320, 384, 448, 512]  # fmt: skip
"""The default K ladder (starts at 2: capacities at small ``N_f`` and degree 1 are small)."""


@dataclasses.dataclass
class GSEMMScalingConfig(GSEMMCapacityConfig):
    """Config of ``gsemm_scaling``: ``gsemm_capacity``'s keys with ``N_f`` a grid axis and a
    per-row work cap (grid keys: degree, alpha_c, K, hidden, N_f)."""

    N_f: list[int] = param([16, 32], ge=2)  # type: ignore[assignment]
    """Feature-layer sizes (static: one compiled group per (K, N_f))."""
    degree: list[int] = param([1, 2], ge=1)
    K: list[int] = param(list(LADDER[:12]), ge=2)
    cost_cap: float = param(2.2e6, gt=0)
    """Largest ``K² · N_f`` a row may cost: each ``N_f``'s ladder ends at :meth:`top`."""
    N_f_max: list[int] = param([], ge=2, grid=False, unique=False)
    """The largest ``N_f`` run at each degree (aligned with ``degree``; empty: every ``N_f``
    at every degree) — where a degree's capacity is known to pass the cap, the sweep stops
    spending on it."""

    def check(self) -> None:
        super().check()
        if self.N_f_max and len(self.N_f_max) != len(self.degree):
            raise ConfigError(
                f"N_f_max must give one N_f per degree ({len(self.degree)}: {self.degree}); "
                f"got {len(self.N_f_max)}: {self.N_f_max}."
            )

    def top(self, N_f: int) -> int:
        """The largest K of the ladder run at ``N_f`` (``K² N_f ≤ cost_cap``; at least the
        smallest K)."""
        return ladder_top(self.K, N_f, self.cost_cap)

    def include(self, row: Row) -> bool:
        """Polynomial rows within the work cap (``softmax`` is not part of this sweep)."""
        if self.N_f_max and row["N_f"] > self.N_f_max[self.degree.index(row["degree"])]:
            return False
        return row["hidden"] == "polynomial" and row["K"] <= self.top(row["N_f"])

    def row_bytes(self, p: Params) -> int:
        return 4 * (64 * p["N_f"] + 16 * p["K"]) + 4096


# ----------------------------------------------------------------------------- summary


def _points(cfg: GSEMMScalingConfig, rows: list[Row]) -> dict[int, dict[int, np.ndarray]]:
    """degree → N_f → capacities over seeds (seed order)."""
    out: dict[int, dict[int, np.ndarray]] = {}
    for (deg, N_f), by_seed in per_seed(rows).items():
        out.setdefault(int(deg), {})[int(N_f)] = np.array(
            [by_seed[s] for s in sorted(by_seed)], float
        )
    return out


def _fit(ns: np.ndarray, ks: np.ndarray) -> tuple[float, float]:
    """Least squares ``log K = a + b log N``: ``(b, a)``."""
    b, a = np.polyfit(np.log(ns), np.log(ks), 1)
    return float(b), float(a)


def fit_degree(
    by_n: dict[int, np.ndarray],
    tops: dict[int, int],
    n: int,
    boot: int = 1000,
    skip: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """The scaling fit of one degree ``n`` over its usable ``N_f`` (no seed censored at the
    top, median capacity > 0): slope of ``log median K`` vs ``log N_f`` with a bootstrap over
    seeds (resampled within each ``N_f``; ``slope_err`` = their standard deviation), and the
    dense-memory law ``K = N^n / (c ln N)``: ``c`` per point (median over the points:
    ``c_dense``) and the law's local slope ``n − 1/ln N`` at the points' geometric mean."""
    usable = sorted(
        N
        for N, v in by_n.items()
        if N not in skip and not np.any(v >= tops[N]) and np.median(v) > 0
    )
    out: dict[str, Any] = {"N_f_fitted": usable, "slope": None, "slope_err": None}
    if len(usable) < 2:
        return out
    ns = np.array(usable, float)
    med = np.array([np.median(by_n[N]) for N in usable])
    slope, icpt = _fit(ns, med)
    rng = np.random.default_rng(0)
    boots = []
    for _ in range(boot):
        m = [np.median(rng.choice(by_n[N], len(by_n[N]))) for N in usable]
        if min(m) > 0:
            boots.append(_fit(ns, np.array(m))[0])
    c = ns**n / (med * np.log(ns))
    return {
        "N_f_fitted": usable,
        "slope": slope,
        "slope_err": float(np.std(boots)) if len(boots) > 1 else None,
        "intercept": icpt,
        "dense_law_slope": float(n - 1 / np.log(np.exp(np.mean(np.log(ns))))),
        "c_dense": float(np.median(c)),
        "c_dense_per_N_f": dict(zip(map(str, usable), map(float, c), strict=True)),
    }


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per degree: capacities per ``N_f`` (seeds, median, mean, censoring, the ladder top)
    and :func:`fit_degree`."""
    cfg = ctx.cfg
    pts = _points(cfg, rows)
    # a (degree, N_f, seed) with rows not yet written is unfinished (a summary of a stopped
    # run, tools/summarize_partial.py): its capacity so far is a lower bound
    unfinished = Counter(model for model, _ in unfinished_pairs(ctx, rows))  # (degree, N_f)
    table: dict[str, Any] = {}
    for deg in sorted(pts):
        by_n = pts[deg]
        tops = {N: cfg.top(N) for N in by_n}
        per_n = {}
        for N in sorted(by_n):
            v = by_n[N]
            ladder = [k for k in cfg.K if k <= tops[N]]
            cens = censoring(v, ladder)
            if unfinished[(deg, N)]:
                cens["mean_bound"] = "lower"
            per_n[str(N)] = {
                "capacities": v.tolist(),
                "median": float(np.median(v)),
                "mean": float(np.mean(v)),
                "K_top": tops[N],
                **cens,
                "unfinished": unfinished[(deg, N)],
            }
        skip = frozenset(N for N in by_n if unfinished[(deg, N)])
        table[str(deg)] = {"N_f": per_n, "fit": fit_degree(by_n, tops, deg, skip=skip)}
    done = [r for r in rows if r["status"] == "done"]
    return {
        "degrees": table,
        "complete": not unfinished,
        "cost_cap": cfg.cost_cap,
        "seeds": cfg.seeds,
        "rows_run": len(done),
        "rk4_steps_executed": int(sum(r["rk4_steps"] for r in done)),
        "all_finite": bool(all(r["finite"] == 1 for r in done)),
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``scaling.png``: median capacity vs ``N_f`` per degree on log–log axes (bars: the
    seeds' range; open up-triangles: censored at the cap, a lower bound), the fitted power law
    (solid) and ``N^n / (c ln N)`` with the fitted ``c`` (dotted)."""
    fig, ax = hplot.subplots(figsize=(6.4, 4.2))
    colors = hplot.colors()[: len(summary["degrees"])]
    for color, (deg, entry) in zip(colors, summary["degrees"].items(), strict=True):
        n = int(deg)
        ns = np.array([int(N) for N in entry["N_f"]], float)
        med = np.array([v["median"] for v in entry["N_f"].values()])
        lo = np.array([min(v["capacities"]) for v in entry["N_f"].values()])
        hi = np.array([max(v["capacities"]) for v in entry["N_f"].values()])
        cens = np.array(
            [v["censored"] > 0 or v.get("unfinished", 0) > 0 for v in entry["N_f"].values()]
        )
        fit = entry["fit"]
        ok = ~cens & (med > 0)
        label = f"degree {n}"
        if fit["slope"] is not None:
            err = f" ± {fit['slope_err']:.2f}" if fit["slope_err"] is not None else ""
            label += f": slope {fit['slope']:.2f}{err}"
        ax.errorbar(ns[ok], med[ok], yerr=[med[ok] - lo[ok], hi[ok] - med[ok]], fmt="o-",
                    ms=4, lw=1, capsize=2, color=color, label=label)  # fmt: skip
        if np.any(cens & (med > 0)):
            ax.plot(ns[cens & (med > 0)], med[cens & (med > 0)], "^", ms=7, mfc="none", color=color)
        if fit["slope"] is not None:
            grid = np.geomspace(ns.min(), ns.max(), 50)
            ax.plot(grid, np.exp(fit["intercept"]) * grid ** fit["slope"], "-", lw=0.6,
                    color=color, alpha=0.6)  # fmt: skip
            ax.plot(grid, grid**n / (fit["c_dense"] * np.log(grid)), ":", lw=1, color=color)
    ax.plot([], [], "^", mfc="none", color="gray", label="lower bound: censored or unfinished")
    ax.plot([], [], ":", color="gray", label="N^n / (c ln N), c fitted")
    ax.set_xscale("log")
    medians = [v["median"] for e in summary["degrees"].values() for v in e["N_f"].values()]
    if any(m > 0 for m in medians):  # a grid where nothing was retrieved has nothing to log
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ns_all = sorted({int(N) for e in summary["degrees"].values() for N in e["N_f"]})
    ax.set_xticks(ns_all, [str(n) for n in ns_all])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("feature neurons N_f")
    ax.set_ylabel("capacity (median over seeds)")
    ax.set_title("Dense GSEMM sequence capacity vs N_f")
    ax.legend(fontsize=7)
    return [ctx.save(fig, "scaling.png")]


EXPERIMENT = dataclasses.replace(
    CAPACITY,
    name="gsemm_scaling",
    config=GSEMMScalingConfig,
    static=("K", "hidden", "N_f"),
    description="Dense GSEMM sequence capacity vs N_f per degree: the scaling law.",
    report=Report(
        summarize=summarize,
        plot=plot,
        derive=derive,
        headline=("degrees", "all_finite"),
    ),
)
"""``gsemm_capacity``'s experiment (row function, shared memories, ladder schedule, metrics,
key exclusions) with ``N_f`` a static axis and this summary and plot."""
