"""Experiment ``sequence_capacity``: the K-cycle capacity of the discrete dense sequence networks
of Chaudhry et al. (2023, arXiv:2306.04532) vs N — the same protocol as ``gsemm_capacity`` /
``gsemm_scaling``, so the two families sit on one figure.

Per row (model, N, K, seed): ``K`` random bipolar patterns in one cycle ξ1 → … → ξK → ξ1 stored
in :class:`hopjax.sequence.DenseSequence` (``s(t+1) = sgn Σ_μ ξ^{μ+1} F(ξ^μ·s(t))``), cue ξ1,
``3K`` synchronous updates. Each update is one transition, judged by appendix C's rule of the
GSEMM paper in discrete time: the leading overlap must exceed ``threshold`` and name the next
memory of the cycle at every step — success = ``3K`` correct transitions with no error.
Capacity per (model, N, seed) = the largest K of the ladder retrieved (every K runs: discrete
steps are cheap). ``model``: ``poly1`` … ``poly4`` (``F(x) = (x/N)^d``, the plain power; ``poly1``
is Amari's sequence network) and ``exp`` (``F(x) = exp(β x)``).

**One program per (model, N).** ``K`` is traced: every row holds the ``top(N)`` patterns of its
(N, seed) (nested: the run for K stores the first K, ``length = K``) and scans ``3 top(N)``
steps, judging only the first ``3K``; ``top(N)`` is the largest K with ``K² N ≤ cost_cap``.
A (model, N) retrieving its top is censored there (a lower bound).

Summary per model: capacities per N (median, censoring) and the log–log fit of the median vs N
(slope ± bootstrap, as ``gsemm_scaling``) beside the law ``N^d / (c ln N)``. With
``compare_with`` (a ``gsemm_scaling`` run folder) the figure overlays that run's GSEMM medians."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray
from matplotlib.ticker import NullFormatter, ScalarFormatter

from hopjax import plot as hplot
from hopjax.patterns import random_bipolar
from hopjax.sequence import DenseSequence
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

from ._common import ladder_top
from .gsemm_capacity import censoring
from .gsemm_scaling import LADDER, fit_degree

MODELS = ("poly1", "poly2", "poly3", "poly4", "exp")


@dataclasses.dataclass
class SequenceCapacityConfig(SweepConfig):
    """Config of ``sequence_capacity`` (grid keys: model, N, K)."""

    model: list[str] = dataclasses.field(default_factory=lambda: ["poly1", "poly2"])
    """``poly1`` … ``poly4`` (``F(x) = (x/N)^d``) and/or ``exp`` (``F(x) = exp(β x)``)."""
    N: list[int] = param([16, 32], ge=4)
    K: list[int] = param(list(LADDER[:12]), ge=2)
    beta: float = param(1.0, gt=0)
    """β of the exponential model."""
    threshold: float = param(0.8, gt=0, lt=1)
    cost_cap: float = param(1e8, gt=0)
    """Largest ``K² · N`` a row may cost: each N's ladder ends at :meth:`top`."""
    compare_with: str = ""
    """A ``gsemm_scaling`` run folder whose medians the figure overlays (empty: none)."""

    def check(self) -> None:
        super().check()
        bad = [m for m in self.model if m not in MODELS]
        if bad:
            raise ConfigError(f"model must be among {list(MODELS)}; got {bad}.")

    def top(self, N: int) -> int:
        """The largest K run at ``N`` (``K² N ≤ cost_cap``; at least the smallest K)."""
        return ladder_top(self.K, N, self.cost_cap)

    def include(self, row: Row) -> bool:
        return row["K"] <= self.top(row["N"])

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        return {"top": self.top(static["N"])}

    def row_bytes(self, p: Params) -> int:
        return 4 * 4 * p["top"] * p["N"] + 4096


def network(p: dict[str, Any], xi: Array, K: Array) -> DenseSequence:
    """The row's :class:`DenseSequence`: the first ``K`` of ``xi`` in a cycle."""
    model = p["model"]
    if model == "exp":
        return DenseSequence(xi, separation="exponential", beta=p["beta"], length=K)
    return DenseSequence(xi, separation="polynomial", degree=int(model[4:]), length=K)


def sequence_capacity_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One (model, N, K, seed): ``3 top`` updates from ξ1, the first ``3K`` judged."""
    top, N = p["top"], p["N"]
    K = jnp.asarray(p["K"], jnp.int32)
    xi = random_bipolar(key, top, N)  # key_exclude: the same draw for every K and model
    net = network(p, xi, K)
    stored = jnp.arange(top) < K

    def body(s: Array, t: Array) -> tuple[Array, Array]:
        s = net.step(s)
        m = jnp.where(stored, xi @ s / N, -jnp.inf)
        lead = jnp.argmax(m)
        ok = (m[lead] > p["threshold"]) & (lead == t % K)
        return s, ok

    _, ok = jax.lax.scan(body, xi[0], jnp.arange(1, 3 * top + 1))
    judged = jnp.arange(1, 3 * top + 1) <= 3 * K
    bad = judged & ~ok
    first_error = jnp.where(jnp.any(bad), jnp.argmax(bad), 3 * K)
    return {
        "success": (~jnp.any(bad)).astype(jnp.float32),
        "correct_steps": first_error.astype(jnp.float32),
    }


def derive(ctx: RunContext, rows: list[Row]) -> tuple[list[str], list[Row]]:
    """``capacity`` per (model, N, seed): the largest K retrieved (0: none)."""
    cap: dict[tuple, float] = {}
    for r in rows:
        key = (r["model"], r["N"], r["seed"])
        cap[key] = max(cap.get(key, 0.0), float(r["K"]) if r["success"] == 1 else 0.0)
    return ["capacity"], [{**r, "capacity": cap[(r["model"], r["N"], r["seed"])]} for r in rows]


def _degree(model: str) -> int | None:
    return None if model == "exp" else int(model[4:])


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per model: capacities per N (median, mean, censoring, the ladder top) and the fit."""
    cfg = ctx.cfg
    caps: dict[str, dict[int, dict[int, float]]] = {}
    for r in rows:
        caps.setdefault(r["model"], {}).setdefault(int(r["N"]), {})[int(r["seed"])] = r["capacity"]
    out: dict[str, Any] = {}
    for model in [m for m in MODELS if m in caps]:
        by_n = {N: np.array([v[s] for s in sorted(v)], float) for N, v in caps[model].items()}
        tops = {N: cfg.top(N) for N in by_n}
        per_n = {
            str(N): {
                "capacities": by_n[N].tolist(),
                "median": float(np.median(by_n[N])),
                "mean": float(np.mean(by_n[N])),
                "K_top": tops[N],
                **censoring(by_n[N], [k for k in cfg.K if k <= tops[N]]),
            }
            for N in sorted(by_n)
        }
        d = _degree(model)
        fit = fit_degree(by_n, tops, d if d is not None else 1)
        if d is None:  # no power law to set beside the exponential model
            fit = {k: fit.get(k) for k in ("N_f_fitted", "slope", "slope_err", "intercept")}
        out[model] = {"N": per_n, "fit": fit}
    return {"models": out, "cost_cap": cfg.cost_cap, "seeds": cfg.seeds, "beta": cfg.beta}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``sequence_capacity.png``: median capacity vs N per model on log–log axes (open
    up-triangles: censored at the top, a lower bound); with ``compare_with`` the GSEMM medians
    of that ``gsemm_scaling`` run as dashed lines of the same colour per degree."""
    cfg = ctx.cfg
    fig, ax = hplot.subplots(figsize=(9.0, 4.4), constrained_layout=True)
    colors = dict(zip(MODELS, hplot.colors(), strict=False))
    for model, entry in summary["models"].items():
        ns = np.array([int(N) for N in entry["N"]], float)
        med = np.array([v["median"] for v in entry["N"].values()])
        cens = np.array([v["censored"] > 0 for v in entry["N"].values()])
        fit = entry["fit"]
        label = f"dense sequence net, {model}"
        if fit.get("slope") is not None:
            label += f" (slope {fit['slope']:.2f})"
        ok = ~cens & (med > 0)
        ax.plot(ns[ok], med[ok], "o-", ms=4, lw=1, color=colors[model], label=label)
        if np.any(cens):
            ax.plot(ns[cens], med[cens], "^", ms=7, mfc="none", color=colors[model])
    other = Path(cfg.compare_with) / "summary.json" if cfg.compare_with else None
    if other is not None and not other.exists():  # not run yet: say so on the figure
        ax.text(0.02, 0.02, f"no {other} yet: GSEMM not overlaid", transform=ax.transAxes,
                fontsize=6, color="gray")  # fmt: skip
    elif other is not None:
        gsemm = json.loads(other.read_text())["degrees"]
        for deg, entry in gsemm.items():
            ns = np.array([int(N) for N in entry["N_f"]], float)
            med = np.array([v["median"] for v in entry["N_f"].values()])
            cens = np.array(
                [v["censored"] > 0 or v.get("unfinished", 0) > 0 for v in entry["N_f"].values()]
            )
            color = colors.get(f"poly{deg}", "gray")
            fit = entry["fit"]
            label = f"Dense GSEMM, degree {deg}"
            if fit.get("slope") is not None:
                label += f" (slope {fit['slope']:.2f})"
            ok = ~cens & (med > 0)
            ax.plot(ns[ok], med[ok], "s--", ms=4, lw=1, color=color, mfc="none", label=label)
            if np.any(cens):
                ax.plot(ns[cens], med[cens], "^", ms=7, mfc="none", color=color)
    ax.plot([], [], "^", mfc="none", color="gray", label="a lower bound (ladder top, unfinished)")
    ax.set_xscale("log")
    medians = [v["median"] for e in summary["models"].values() for v in e["N"].values()]
    if any(m > 0 for m in medians):  # a grid where nothing was retrieved has nothing to log
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.set_xticks(cfg.N, [str(n) for n in cfg.N])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("neurons N (GSEMM: feature neurons N_f)")
    ax.set_ylabel("K-cycle capacity (median over seeds)")
    ax.set_title("Sequence capacity: 3K transitions without error")
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return [ctx.save(fig, "sequence_capacity.png")]


EXPERIMENT = Experiment(
    name="sequence_capacity",
    config=SequenceCapacityConfig,
    fn=sequence_capacity_point,
    static=("model", "N"),
    metrics=("success", "correct_steps"),
    description="Dense sequence networks: K-cycle capacity vs N (GSEMM's protocol).",
    key_exclude=("model", "K"),
    report=Report(summarize=summarize, plot=plot, derive=derive, headline=("models",)),
)
