"""The grid: rows (grid points × seeds), their static groups, and the params each row sees."""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Iterable
from typing import Any

import numpy as np

from hopjax.sweep.config import SweepConfig, grid_keys
from hopjax.sweep.experiment import Experiment, Row, choices

__all__ = ["dynamic_arrays", "expand_grid", "fixed_params", "group_rows", "row_id"]


def expand_grid(cfg: SweepConfig, exp: Experiment | None = None) -> list[Row]:
    """All rows: the product of the grid keys' values (declaration order) × seeds (innermost),
    less the points ``exp.include`` rejects."""
    keys = grid_keys(type(cfg))
    seeds = range(cfg.base_seed, cfg.base_seed + cfg.seeds)
    rows = [
        {**dict(zip(keys, combo, strict=True)), "seed": s}
        for combo in itertools.product(*(getattr(cfg, k) for k in keys))
        for s in seeds
    ]
    if exp is not None and exp.include is not None:
        rows = [r for r in rows if exp.include(cfg, r)]
    return rows


def group_rows(rows: Iterable[Row], static: Iterable[str]) -> dict[tuple[Any, ...], list[Row]]:
    """Rows grouped by their static values, groups and rows in first-seen order."""
    static = tuple(static)
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in static), []).append(row)
    return groups


def row_id(row: Row, keys: list[str]) -> tuple[Any, ...]:
    """A row's identity: its grid values and seed."""
    return (*(row[k] for k in keys), row["seed"])


def fixed_params(cfg: SweepConfig) -> dict[str, Any]:
    """The config's non-grid values (every row of the sweep sees them as Python objects)."""
    grid = set(grid_keys(type(cfg)))
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in grid}


def dynamic_arrays(cfg: SweepConfig, exp: Experiment, rows: list[Row]) -> dict[str, np.ndarray]:
    """The traced (non-static) grid values of ``rows`` as arrays: int32 for integer keys, the
    int32 index among its options for a ``Literal`` string key (:func:`choices`), float32
    otherwise — exactly what ``exp.fn`` receives under ``vmap``."""
    hints = typing.get_type_hints(type(cfg))
    out = {}
    for k in grid_keys(type(cfg)):
        if k in exp.static:
            continue
        elem = typing.get_args(hints[k])[0]
        options = choices(elem)
        if options:
            out[k] = np.asarray([options.index(r[k]) for r in rows], np.int32)
            continue
        dtype = np.int32 if elem is int else np.float32
        out[k] = np.asarray([r[k] for r in rows], dtype)
    return out
