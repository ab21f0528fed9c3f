"""Experiment ``dam_generalisation``: memorisation → generalisation in dense associative memories
(the survey's question (d): McAlister et al. 2025, §4).

**Data.** ``K`` random bipolar *prototypes* of ``N`` units; *examples* are noisy copies — each bit
of a prototype flipped with probability ``noise`` (overlap with it ``r = 1 − 2·noise`` on
average). ``M`` examples per prototype are stored (``P = K M``) in a :class:`hopjax.dense.DenseAM`
(``model``: polynomial ``F_n = xⁿ/n``, ``n = 2`` being the Hebbian network, or exponential),
exact-energy synchronous updates to a fixed point (:func:`hopjax.classical.run`).

**Probes.** (i) Each prototype's first stored example: does the network keep it (memorisation:
the fixed point is the example) or move to the prototype (generalisation)? (ii) A fresh,
unseen noisy example per prototype: does the network complete it to the prototype? Metrics
(means over the ``K`` probes): ``m_example`` / ``m_prototype`` — overlaps of the fixed point
reached from a stored example with that example and with its prototype; ``memorised`` /
``generalised`` — fraction of those fixed points equal to the example / within overlap
``threshold`` of the prototype; ``unseen_prototype`` — overlap with the prototype reached from
an unseen example.

As ``M`` grows the stored examples stop being attractors and the prototypes become ones; the
examples-per-prototype ``M*`` at which ``m_prototype`` overtakes ``m_example`` is the
transition (summary ``transition``), per model. Krotov & Hopfield (2016, arXiv:1606.01164) saw
memories move from features to prototypes as ``n`` grows in trained dense memories; Pham et al.
(2025, arXiv:2505.21777) describe memorisation giving way to generalisation as the number of
stored examples passes the capacity. Here: the larger ``n``, the longer examples stay
memorised (a larger ``M*``).
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
from hopjax.dense import DenseAM
from hopjax.patterns import random_bipolar
from hopjax.sweep import (
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    SweepConfig,
    param,
)

Model = Literal["poly2", "poly3", "poly4", "exp"]


@dataclasses.dataclass
class DamGeneralisationConfig(SweepConfig):
    """Config of ``dam_generalisation`` (grid keys: model, N, M)."""

    model: list[Model] = dataclasses.field(default_factory=lambda: ["poly2", "poly3", "exp"])
    N: list[int] = param([100], ge=2)
    M: list[int] = param([1, 4, 16], ge=1)
    """Stored examples per prototype."""
    K: int = param(3, ge=1)
    """Prototypes."""
    noise: float = param(0.2, ge=0, lt=0.5)
    """Probability that an example's bit differs from its prototype's."""
    max_steps: int = param(50, ge=1)
    threshold: float = param(0.95, gt=0, le=1)

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        return {"M_max": max(self.M)}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * (4 * p["M_max"] * self.K * p["N"] + 16 * p["N"])


def draws(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Shared by every M and model of an (N, seed): prototypes, M_max examples of each (row
    ``m K + k`` is example ``m`` of prototype ``k``, so the first ``M K`` rows hold ``M`` of
    every prototype) and one unseen example per prototype."""
    n, K, m_max = p["N"], p["K"], p["M_max"]
    k_proto, k_ex, k_new = jax.random.split(key, 3)
    proto = random_bipolar(k_proto, K, n)

    def noisy(k: PRNGKeyArray, count: int) -> Array:
        flips = jax.random.bernoulli(k, p["noise"], (count, K, n))
        return jnp.where(flips, -proto, proto).reshape(count * K, n)

    return {"proto": proto, "examples": noisy(k_ex, m_max), "unseen": noisy(k_new, 1)}


def dam_generalisation_point(
    p: dict[str, Any], key: PRNGKeyArray, shared: dict[str, Array]
) -> dict[str, Array]:
    """Store ``M`` examples per prototype; run from stored and unseen examples (docstring)."""
    n, K = p["N"], p["K"]
    proto, ex = shared["proto"], shared["examples"]
    sep, deg = ("exponential", 1) if p["model"] == "exp" else ("polynomial", int(p["model"][-1]))
    net = DenseAM(ex, sep, degree=deg, num_patterns=p["M"] * K)
    settle = jax.vmap(lambda s: run(net, s, max_steps=p["max_steps"]).state)
    start = ex[:K]  # the first stored example of each prototype
    end = settle(start)
    m_ex = jnp.sum(end * start, axis=1) / n
    m_pr = jnp.sum(end * proto, axis=1) / n
    unseen = settle(shared["unseen"])
    m_unseen = jnp.sum(unseen * proto, axis=1) / n
    return {
        "m_example": jnp.mean(m_ex),
        "m_prototype": jnp.mean(m_pr),
        "memorised": jnp.mean(jnp.all(end == start, axis=1).astype(jnp.float32)),
        "generalised": jnp.mean((m_pr >= p["threshold"]).astype(jnp.float32)),
        "unseen_prototype": jnp.mean(m_unseen),
    }


def _curve(rows: list[Row], model: str, n: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    rs = [r for r in rows if r["model"] == model and r["N"] == n]
    ms = np.array(sorted({r["M"] for r in rs}))
    return ms, np.array([np.mean([r[metric] for r in rs if r["M"] == m]) for m in ms])


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per model and N: the curves, and ``transition`` — the first M (examples per prototype)
    at which the mean overlap with the prototype exceeds the overlap with the stored example
    (``null`` when it never does in the grid; log-interpolated between grid points)."""
    cfg = ctx.cfg
    out: dict[str, Any] = {"r_example_prototype": 1 - 2 * cfg.noise, "transition": {}, "curves": {}}
    for model in cfg.model:
        for n in cfg.N:
            ms, ex = _curve(rows, model, n, "m_example")
            _, pr = _curve(rows, model, n, "m_prototype")
            d = pr - ex
            hit = np.nonzero((d[:-1] <= 0) & (d[1:] > 0))[0]
            if d[0] > 0:
                t = float(ms[0])
            elif hit.size:
                i = hit[0]
                f = -d[i] / (d[i + 1] - d[i])
                t = float(np.exp(np.log(ms[i]) + f * (np.log(ms[i + 1]) - np.log(ms[i]))))
            else:
                t = None
            out["transition"].setdefault(model, {})[str(n)] = t
            out["curves"].setdefault(model, {})[str(n)] = {
                "M": ms.tolist(),
                "m_example": ex.tolist(),
                "m_prototype": pr.tolist(),
                "generalised": _curve(rows, model, n, "generalised")[1].tolist(),
                "unseen_prototype": _curve(rows, model, n, "unseen_prototype")[1].tolist(),
            }
    return out


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``generalisation.png``: overlaps of the fixed points with the stored example (dashed)
    and with the prototype (solid) against M, per model; transitions marked."""
    cfg = ctx.cfg
    n = max(cfg.N)
    fig, ax = hplot.subplots(figsize=(6.5, 4), constrained_layout=True)
    colors = hplot.colors()
    for i, model in enumerate(cfg.model):
        c = summary["curves"][model][str(n)]
        col = colors[i % len(colors)]
        ax.plot(c["M"], c["m_prototype"], "o-", color=col, label=f"{model}: prototype")
        ax.plot(c["M"], c["m_example"], "s--", color=col, ms=4, label=f"{model}: stored example")
        t = summary["transition"][model][str(n)]
        if t is not None:
            ax.axvline(t, color=col, lw=0.7, ls=":")
    r = summary["r_example_prototype"]
    ax.axhline(r, color="gray", lw=0.6, label=f"r = 1 − 2·noise = {r:g}")
    ax.set(xscale="log", xlabel="stored examples per prototype M", ylim=(0, 1.05),
           ylabel="overlap of the fixed point",
           title=f"Memorisation → generalisation, N = {n}, K = {cfg.K}")  # fmt: skip
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return [ctx.save(fig, "generalisation.png")]


EXPERIMENT = Experiment(
    name="dam_generalisation",
    config=DamGeneralisationConfig,
    fn=dam_generalisation_point,
    shared=draws,
    static=("model", "N"),
    metrics=("m_example", "m_prototype", "memorised", "generalised", "unseen_prototype"),
    description="dense memories of noisy examples: attractors move from examples to prototypes",
    key_exclude=("model", "M"),
    report=Report(summarize=summarize, plot=plot, headline=("transition",)),
)
