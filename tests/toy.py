"""A small toy experiment for the engine tests (no model: only what the engine must handle).

Grid: a static string key ``kind``, a static shape key ``n``, traced keys ``scale`` (float) and
``shift`` (int); ``key_exclude = (kind, scale)``: rows differing only in those share their draws.
the config's ``prepare`` adds ``width`` and its ``include`` drops (``b``, 8, shift 3); ``derive``
adds the per-seed total count; ``history`` records three steps. Every metric is exact (no
reduction whose order a batch size could change), so results must be byte-identical however the
rows are chunked.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp

from hopjax.sweep import (
    Decision,
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    Stepper,
    SweepConfig,
    param,
)


@dataclasses.dataclass
class ToyConfig(SweepConfig):
    kind: list[Literal["a", "b"]] = param(["a", "b"])
    n: list[int] = param([4, 8], ge=1)
    scale: list[float] = param([1.0, 2.0])
    shift: list[int] = param([0, 3])
    seeds: int = 3
    offset: float = 0.5

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        return {"width": static["n"] / 2}

    def row_bytes(self, p: Params) -> int:
        return 1 << 10

    def include(self, r: Row) -> bool:
        return not (r["kind"] == "b" and r["n"] == 8 and r["shift"] == 3)


def toy_point(p: dict[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    x = jax.random.normal(key, (p["n"],))
    sign = 1.0 if p["kind"] == "a" else -1.0
    return {
        "value": sign * p["scale"] * x[0] + p["offset"],
        "count": jnp.sum(x > 0).astype(jnp.float32),
        "shifted": p["shift"].astype(jnp.float32) + p["width"],
        "h": jnp.arange(3.0) * p["scale"],
    }


def derive(ctx: RunContext, rows: list[Row]) -> tuple[list[str], list[Row]]:
    total: dict[int, float] = {}
    for r in rows:
        total[r["seed"]] = total.get(r["seed"], 0.0) + r["count"]
    return ["seed_total"], [{**r, "seed_total": total[r["seed"]]} for r in rows]


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    return {"rows": len(rows), "max_value": max(r["value"] for r in rows)}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    from hopjax import plot as hplot

    fig, ax = hplot.subplots()
    ax.plot([r["value"] for r in rows])
    return [ctx.save(fig, "toy.png")]


EXPERIMENT = Experiment(
    name="toy",
    config=ToyConfig,
    fn=toy_point,
    static=("kind", "n"),
    metrics=("value", "count", "shifted"),
    description="engine test toy",
    key_exclude=("kind", "scale"),
    history=("h",),
    report=Report(summarize=summarize, plot=plot, derive=derive),
)


def toy(**overrides: Any) -> ToyConfig:
    return EXPERIMENT.parse({"plot": {"dpi": 30}, **overrides})


def toy_draw(p: dict[str, Any], key: jax.Array) -> jax.Array:
    """What the rows of one PRNG stream share: the stream's normal draws."""
    return jax.random.normal(key, (p["n"],))


def toy_point_shared(p: dict[str, Any], key: jax.Array, x: jax.Array) -> dict[str, jax.Array]:
    sign = 1.0 if p["kind"] == "a" else -1.0
    return {
        "value": sign * p["scale"] * x[0] + p["offset"],
        "count": jnp.sum(x > 0).astype(jnp.float32),
        "shifted": p["shift"].astype(jnp.float32) + p["width"],
        "h": jnp.arange(3.0) * p["scale"],
    }


SHARED = dataclasses.replace(EXPERIMENT, fn=toy_point_shared, shared=toy_draw)
"""The toy with its draws computed once per PRNG stream (rows differing in scale share them)."""


def prune_negative_seeds(ctx: RunContext, done: list[Row], pending: list[Row]) -> Decision:
    """Skip a pending row once a finished row of its seed had value < -1 (a toy rule)."""
    bad = {r["seed"] for r in done if r["status"] == "done" and r["value"] < -1.0}
    return Decision(prune=[r for r in pending if r["seed"] in bad])


PRUNED = dataclasses.replace(EXPERIMENT, schedule=prune_negative_seeds)


def _step_init(p: dict[str, Any], key: jax.Array, x: jax.Array) -> dict[str, jax.Array]:
    return {"x": jnp.zeros(()), "i": jnp.zeros((), jnp.int32)}


def _step_advance(p: dict[str, Any], st: dict, x: jax.Array) -> dict[str, jax.Array]:
    return {"x": st["x"] + p["scale"] * jnp.abs(x[0]) + 0.25, "i": st["i"] + 1}


def _step_decided(p: dict[str, Any], st: dict) -> jax.Array:
    return (st["x"] >= p["width"]) | (st["i"] >= 50)


def _step_result(p: dict[str, Any], st: dict, x: jax.Array) -> dict[str, jax.Array]:
    sign = 1.0 if p["kind"] == "a" else -1.0
    return {
        "value": sign * st["x"] + p["offset"],
        "count": st["i"].astype(jnp.float32),
        "shifted": p["shift"].astype(jnp.float32) + p["width"],
        "h": jnp.arange(3.0) * p["scale"],
    }


STEPPER = Stepper(_step_init, _step_advance, _step_decided, _step_result, slots=3)
STEPPED = dataclasses.replace(SHARED, fn=STEPPER)
"""The toy as a stepped experiment: a row adds ``scale·|x0| + 1/4`` per block until it reaches
``width`` (rows take 1 to 16 blocks), through pools of 3 slots per stream."""


def _partner(r: Row) -> tuple:
    return (r["kind"], r["n"], r["shift"], r["seed"])


def defer_scale_two(ctx: RunContext, done: list[Row], pending: list[Row]) -> list[Row]:
    """Hold a scale-2 row back while its scale-1 partner is pending (a toy round rule)."""
    waiting = {_partner(r) for r in pending if r["scale"] == 1.0}
    return [r for r in pending if r["scale"] == 2.0 and _partner(r) in waiting]


def prune_after_positive(ctx: RunContext, done: list[Row], pending: list[Row]) -> list[Row]:
    """Skip a scale-2 row once its scale-1 partner finished with value > 0."""
    good = {_partner(r) for r in done if r["scale"] == 1.0 and r["value"] > 0}
    return [r for r in pending if r["scale"] == 2.0 and _partner(r) in good]


def two_rounds(ctx: RunContext, done: list[Row], pending: list[Row]) -> Decision:
    return Decision(prune_after_positive(ctx, done, pending), defer_scale_two(ctx, done, pending))


ROUNDS = dataclasses.replace(EXPERIMENT, schedule=two_rounds)
"""The toy in two rounds per group: scale 1 first; scale 2 only where scale 1 gave value <= 0."""
