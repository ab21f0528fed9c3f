"""Experiment ``cycles_census``: the exhaustive census of small networks.

Exhaustive census (:func:`hopjax.cycles.census_stats`) of one network per
row; ``network`` names it: ``"rings:M:P1,P2,…"`` (:class:`~hopjax.cycles.PrimeRings`,
deterministic: one row), ``"asymmetric:N"`` / ``"symmetric:N"`` (Gaussian couplings,
:func:`~hopjax.sequence.gaussian_couplings` with symmetry 0 / 1), ``"sequence_hebbian:N:P"``
(Amari's rule on ``P`` random patterns). Metrics: ``n_units``, ``num_cycles``, ``max_period``,
``num_fixed_points``, ``mean_basin``, ``largest_basin``, ``mean_period`` and, for rings, the
closed forms ``closed_num_cycles``, ``closed_max_period`` and ``matches_closed_form``.

The construction meets the claims of Natale et al. (arXiv:2605.24611) on asymmetric binary networks
with superpolynomially many long, noise-robust limit cycles; our construction and its closed
forms: :mod:`hopjax.cycles` and ``docs/notes/cycles.md``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.cycles import PrimeRings, census_stats
from hopjax.patterns import random_bipolar
from hopjax.sequence import SequenceHebbian, gaussian_couplings
from hopjax.sweep import ConfigError, Experiment, Params, Report, Row, RunContext, SweepConfig

NAN = float("nan")


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

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 64 << _census_n(p["network"])

    def include(self, row: Row) -> bool:
        """Whether the grid point ``row`` applies."""
        return not row["network"].startswith("rings") or row["seed"] == self.base_seed


def _census_n(spec: str) -> int:
    kind, v = parse_network(spec)
    return v["net"].n if kind == "rings" else v["n"]


def cycles_census_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One census (described in :mod:`experiments.cycles_census`)."""
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


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per network: counts and means over its rows; whether every ring matches its closed forms;
    the longest period of the symmetric networks."""
    cfg = ctx.cfg
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


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``census.png``: number of cycles, longest cycle and mean basin per network."""
    cfg = ctx.cfg
    fig, axes = hplot.subplots(1, 3, figsize=(15, 4.2))
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
    return [ctx.save(fig, "census.png")]


EXPERIMENT = Experiment(
    name="cycles_census",
    config=CyclesCensusConfig,
    fn=cycles_census_point,
    static=("network",),
    metrics=CENSUS_METRICS,
    description="exhaustive cycle census: prime rings vs closed forms, random/sequence nets",
    report=Report(
        summarize=summarize, plot=plot, headline=("closed_forms_match", "symmetric_max_period")
    ),
)
