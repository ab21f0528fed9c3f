"""Experiment ``cycles_scaling``: log #cycles and log period vs n.

Per ``n`` and ``construction``: a :func:`~hopjax.cycles.design` of the
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
from hopjax.cycles import PrimeRings, design, find_cycle
from hopjax.dense import polynomial_capacity
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
    n: list[int] = param([100, 300, 1000, 3000, 10000], ge=2)
    eps: float = param(0.1, ge=0, lt=0.5)
    horizon: int = param(1000, ge=1)
    fail_prob: float = param(0.01, gt=0, lt=1)
    sim_max_period: int = 200_000
    """Simulate the period with Brent when the closed form is at most this."""
    baseline_max_n: int = 400
    """Baseline capacities are measured for ``n`` up to this (larger rows are left out)."""
    ladder: list[float] = param(
        [
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
        gt=0,
        grid=False,
    )
    """Tried sequence lengths, in units of the baseline's theoretical capacity."""
    degree: int = param(2, ge=1)
    trials: int = param(8, ge=1)
    recall_steps: int = param(100, ge=1)

    def check(self) -> None:
        super().check()
        for c in self.construction:
            if c in RING_CONSTRUCTIONS:
                for n in self.n:
                    try:
                        design(n, self.eps, self.horizon, self.fail_prob)
                    except ValueError as err:
                        raise ConfigError(f"'n' = {n}: {err}") from None

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        c, n = static["construction"], static["n"]
        if c in RING_CONSTRUCTIONS:
            return {
                "net": design(
                    n, self.eps, self.horizon, self.fail_prob, objective=RING_CONSTRUCTIONS[c]
                )
            }
        P_th = theory_capacity(c, n, self.degree)
        lengths = sorted({max(2, round(f * P_th)) for f in self.ladder})
        return {"lengths": lengths, "P_theory": P_th}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 8 * p["n"] * (64 + 4 * p["n"]) * self.trials

    def include(self, row: Row) -> bool:
        """Whether the grid point ``row`` applies."""
        return row["construction"] in RING_CONSTRUCTIONS or row["n"] <= self.baseline_max_n


def theory_capacity(kind: str, n: int, degree: int = 2) -> float:
    """Literature sequence capacity: ``0.269 n`` (sequence Hebbian, parallel dynamics; Düring,
    Coolen & Sherrington 1998) or ``n^d / (2 (2d−1)!! ln n)`` (dense polynomial; Chaudhry et
    al. 2023)."""
    if kind == "sequence_hebbian":
        return 0.269 * n
    return polynomial_capacity(n, degree)


def _aperiodic_words(net: PrimeRings, key: PRNGKeyArray) -> Array:
    """Random cluster words with every ring non-constant (a cycle of maximal period)."""
    V = jax.random.rademacher(key, (net.num_clusters,), jnp.float32)
    starts = np.cumsum((0, *net.primes[:-1]))
    ring = np.repeat(np.arange(len(net.primes)), net.primes)
    ups = jax.ops.segment_sum((V > 0).astype(jnp.int32), ring, len(net.primes))
    const = (ups == 0) | (ups == np.asarray(net.primes))
    return V.at[starts].set(jnp.where(const, -V[starts + 1], V[starts]))


def cycles_scaling_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
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


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per construction and n: mean log #cycles, log period, m and capacities; whether every
    simulated period equals the closed form."""
    cfg = ctx.cfg
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


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``scaling.png``: ln #cycles and ln period vs n per construction, the claimed rates."""
    cfg = ctx.cfg
    fig, axes = hplot.subplots(1, 2, figsize=(12, 4.5))
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
                grid, ref[1] * rate(grid) / rate(ref[0]), "k:", label=f"claimed rate {rate_label}"
            )
        ax.set(xscale="log", yscale="log", xlabel="n (neurons)")
        ax.set_ylabel("ln #cycles" if key == "log_cycles" else "ln period")
        ax.legend(fontsize=7)
    fig.suptitle(
        f"prime rings designed for ε={cfg.eps}, horizon {cfg.horizon}, P[fail] ≤ {cfg.fail_prob}"
    )
    return [ctx.save(fig, "scaling.png")]


EXPERIMENT = Experiment(
    name="cycles_scaling",
    config=CyclesScalingConfig,
    fn=cycles_scaling_point,
    static=("construction", "n"),
    metrics=SCALING_METRICS,
    description="log #cycles and log period vs n: designed prime rings vs baselines",
    report=Report(summarize=summarize, plot=plot, headline=("design_cycles", "design_period")),
)
