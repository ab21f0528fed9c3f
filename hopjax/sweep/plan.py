"""The plan of one sweep: its rows, static groups and row ids, the grid's types, and what each
row receives (params, traced arrays, PRNG key).

A :class:`Plan` is built once per run from ``(experiment, config)``; the run loop, the size
check, ``hopjax run --dry-run`` and :class:`~hopjax.sweep.RunContext` all read it, so there is
one answer to "which rows, in which groups, evaluated with what".
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import PRNGKeyArray

from hopjax.sweep.config import ConfigError, SweepConfig, grid_keys, grid_types
from hopjax.sweep.experiment import Experiment, Params, Row, choices
from hopjax.sweep.keys import row_keys

__all__ = ["MAX_ROWS", "Plan", "expand_grid", "group_rows"]

MAX_ROWS = 10_000_000
"""The most rows (grid points × seeds) a sweep may have: beyond, its bookkeeping alone (one
dict per row, a CSV line per row) outgrows a workstation."""


def expand_grid(cfg: SweepConfig, exp: Experiment | None = None) -> list[Row]:
    """All rows: the product of the grid keys' values (declaration order) × seeds (innermost),
    less the points the config's :meth:`~hopjax.sweep.config.SweepConfig.include` rejects
    (``exp`` is not needed; accepted for symmetry with :class:`Plan`)."""
    keys = grid_keys(type(cfg))
    seeds = range(cfg.base_seed, cfg.base_seed + cfg.seeds)
    rows = [
        {**dict(zip(keys, combo, strict=True)), "seed": s}
        for combo in itertools.product(*(getattr(cfg, k) for k in keys))
        for s in seeds
    ]
    if type(cfg).include is not SweepConfig.include:
        rows = [r for r in rows if cfg.include(r)]
    return rows


def group_rows(
    rows: Iterable[Row],
    static: Iterable[str],
    buckets: Mapping[str, Callable[[Row], Any]] | None = None,
) -> dict[tuple[Any, ...], list[Row]]:
    """Rows grouped by their static values (a bucketed key by its bucket, ``buckets``), groups
    and rows in first-seen order."""
    static, buckets = tuple(static), buckets or {}
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        key = tuple(buckets[k](row) if k in buckets else row[k] for k in static)
        groups.setdefault(key, []).append(row)
    return groups


class Plan:
    """The grid of ``cfg`` as ``exp`` runs it.

    ``plan.rows`` are every row (grid points × seeds, less ``cfg.include``'s exclusions) in grid
    order; ``plan.id(row)`` is a row's identity (grid values and seed); ``plan.groups(rows)``
    groups rows by their static values (one compiled program each). What a row is evaluated
    with: ``plan.static_params(static)`` (the non-grid config values, the static grid values and
    ``prepare``'s derived values, computed once per group), ``plan.arrays(rows)`` (the traced
    grid values, as ``fn`` receives them under ``vmap``), ``plan.params(row)`` (both, for one
    row) and ``plan.keys(rows)`` (the PRNG keys).
    """

    def __init__(self, exp: Experiment, cfg: SweepConfig):
        self.exp, self.cfg = exp, cfg
        self.grid_keys: list[str] = grid_keys(type(cfg))
        self.types: dict[str, Any] = grid_types(type(cfg))
        self.static: tuple[str, ...] = exp.static
        self.buckets = cfg.buckets()
        """Static keys compiled per bucket (:meth:`SweepConfig.buckets`): traced as well."""
        stray = sorted(set(self.buckets) - set(exp.static))
        if stray:
            raise ConfigError(f"{exp.name}: only static grid keys may be bucketed; got {stray}.")
        self.dynamic: list[str] = [
            k for k in self.grid_keys if k not in exp.static or k in self.buckets
        ]
        self._rows: list[Row] | None = None
        self._index: dict[tuple[Any, ...], int] | None = None
        self._prepared: dict[tuple[Any, ...], dict[str, Any]] = {}

    # -- rows and groups --------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Rows of the full product (before ``cfg.include``), without building them."""
        return self.cfg.seeds * math.prod(len(getattr(self.cfg, k)) for k in self.grid_keys)

    @property
    def rows(self) -> list[Row]:
        """Every row, in grid order (built on first use)."""
        if self._rows is None:
            self._rows = expand_grid(self.cfg, self.exp)
        return self._rows

    @property
    def columns(self) -> list[str]:
        """The columns of ``results.csv`` (before ``derive``'s)."""
        return self.exp.columns

    def id(self, row: Row) -> tuple[Any, ...]:
        """A row's identity: its grid values and seed."""
        return (*(row[k] for k in self.grid_keys), row["seed"])

    def ids(self, rows: Iterable[Row]) -> set[tuple[Any, ...]]:
        return {self.id(r) for r in rows}

    def check_written(self, rows: list[Row], path: Path) -> None:
        """Refuse a ``results.csv`` (its rows, in file order) that holds a row twice or a row
        outside the grid — left by a hand edit or a copy from another folder: counting it would
        report a partial run as finished, or never finish one. :class:`ConfigError` naming the
        line (a row's line is its index + 2: the header is line 1)."""
        self.position(self.rows[0]) if self.rows else None  # builds the index
        grid = self._index or {}
        seen: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(rows):
            ident = self.id(row)
            where = ", ".join(f"{k}={row[k]}" for k in self.grid_keys) + f", seed={row['seed']}"
            if ident in seen:
                raise ConfigError(
                    f"{path}, line {i + 2}: the row ({where}) is also on line {seen[ident] + 2}; "
                    "remove one of the two lines to resume."
                )
            if ident not in grid:
                raise ConfigError(
                    f"{path}, line {i + 2}: the row ({where}) is not in this config's grid; "
                    "remove the line to resume, or choose another --out."
                )
            seen[ident] = i

    def group_of(self, row: Row) -> tuple[Any, ...]:
        """The static values of ``row`` (its group; a bucketed key's bucket)."""
        b = self.buckets
        return tuple(b[k](row) if k in b else row[k] for k in self.static)

    def groups(self, rows: Iterable[Row] | None = None) -> dict[tuple[Any, ...], list[Row]]:
        """``rows`` (default: every row) by static group, groups and rows in first-seen order."""
        return group_rows(self.rows if rows is None else rows, self.static, self.buckets)

    def static_dict(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """A group's static values as ``{key: value}``."""
        return dict(zip(self.static, values, strict=True))

    def position(self, row: Row) -> int:
        """``row``'s place in grid order (its index in :attr:`rows`)."""
        if self._index is None:
            self._index = {self.id(r): i for i, r in enumerate(self.rows)}
        return self._index[self.id(row)]

    def in_grid_order(self, rows: list[Row]) -> list[Row]:
        return sorted(rows, key=self.position)

    # -- what a row is evaluated with -------------------------------------------------------
    def fixed_params(self) -> dict[str, Any]:
        """The config's non-grid values (every row sees them as Python objects)."""
        grid = set(self.grid_keys)
        cfg = self.cfg
        return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in grid}

    def static_params(self, static: dict[str, Any]) -> dict[str, Any]:
        """The params shared by one static group: the non-grid config values, the static grid
        values and the config's ``prepare`` values (computed once per group)."""
        ident = tuple(static[k] for k in self.static)
        if ident not in self._prepared:
            params = {**self.fixed_params(), **static}
            params.update(self.cfg.prepare(static))
            self._prepared[ident] = params
        return self._prepared[ident]

    def arrays(self, rows: list[Row]) -> dict[str, np.ndarray]:
        """The traced (non-static) grid values of ``rows`` as arrays: int32 for integer keys,
        the int32 index among its options for a ``Literal`` string key
        (:func:`~hopjax.sweep.experiment.choices`), float32 otherwise — exactly what
        ``exp.fn`` receives under ``vmap``."""
        out = {}
        for k in self.dynamic:
            elem = self.types[k]
            options = choices(elem)
            if options:
                out[k] = np.asarray([options.index(r[k]) for r in rows], np.int32)
                continue
            dtype = np.int32 if elem is int else np.float32
            out[k] = np.asarray([r[k] for r in rows], dtype)
        return out

    def params(self, row: Row) -> Params:
        """The params ``exp.fn`` received for ``row`` (traced grid values as 0-d arrays)."""
        dyn = {k: v[0] for k, v in self.arrays([row]).items()}
        return Params({**self.static_params(self.static_dict(self.group_of(row))), **dyn})

    def keys(self, rows: list[Row]) -> PRNGKeyArray:
        """The PRNG keys of ``rows`` (stacked; :mod:`hopjax.sweep.keys`)."""
        return row_keys(self.cfg, self.exp, rows)

    def row_bytes(self, static_params: dict[str, Any]) -> int:
        """The config's memory estimate of one row of a group (1 MiB when it gives none)."""
        need = self.cfg.row_bytes(Params(static_params))
        return 1 << 20 if need is None else need

    # -- refusing what cannot run -----------------------------------------------------------
    def check_sizes(self, machine_bytes: int | None = None) -> None:
        """Refuse, before any allocation, a sweep whose row count exceeds :data:`MAX_ROWS` or
        one of whose rows cannot fit this machine's memory, naming the keys. ``cfg.row_bytes``
        is a conservative estimate made for chunk sizing, so only rows estimated at more than
        4× the machine's memory are refused (a row near the limit still fails in XLA)."""
        cfg = self.cfg
        if self.size > MAX_ROWS:
            sizes = " × ".join(f"{len(getattr(cfg, k))} {k}" for k in self.grid_keys)
            raise ConfigError(
                f"the grid has {self.size:,} rows ({sizes} × {cfg.seeds} 'seeds'), more than "
                f"{MAX_ROWS:,}; reduce 'seeds' or the grid lists."
            )
        machine = machine_bytes if machine_bytes is not None else _machine_bytes()
        if machine is None:
            return
        for values in self.groups():  # the groups that exist
            static = self.static_dict(values)
            need = self.cfg.row_bytes(Params(self.static_params(static)))
            if need is not None and need > 4 * machine:
                where = ", ".join(f"'{k}' = {v!r}" for k, v in static.items()) or "every row"
                raise ConfigError(
                    f"one row at {where} needs ~{need / 2**30:.1f} GiB, more than this "
                    f"machine's {machine / 2**30:.1f} GiB; reduce it."
                )


def _machine_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None
