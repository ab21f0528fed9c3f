"""Reading a run folder back: ``load_run(path)`` → its results as column arrays, its summary,
config and metadata (no experiment code needed)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from hopjax.sweep.config import ConfigError, load_toml
from hopjax.sweep.results import whole_lines

__all__ = ["Run", "load_run"]


@dataclasses.dataclass
class Run:
    """A run folder's contents. ``columns``: one numpy array per ``results.csv`` column (float
    where every value parses as a number, str otherwise), rows in file order; ``summary``,
    ``config``, ``metadata``: the parsed files (empty when absent, e.g. an unfinished run)."""

    path: Path
    columns: dict[str, np.ndarray]
    summary: dict[str, Any]
    config: dict[str, Any]
    metadata: dict[str, Any]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def where(self, **conditions: Any) -> Run:
        """The rows whose columns equal the given values: ``run.where(N=500, rule="hebbian")``."""
        unknown = [k for k in conditions if k not in self.columns]
        if unknown:
            raise KeyError(f"no column {unknown[0]!r}; columns: {', '.join(self.columns)}.")
        keep = np.ones(len(self), bool)
        for k, v in conditions.items():
            keep &= self.columns[k] == v
        cols = {k: a[keep] for k, a in self.columns.items()}
        return dataclasses.replace(self, columns=cols)


def _column(values: list[str]) -> np.ndarray:
    try:
        return np.asarray([float(v) for v in values])
    except ValueError:
        return np.asarray(values)


def load_run(path: str | Path) -> Run:
    """Read the run folder ``path`` (``results.csv``, ``summary.json``, ``config.toml``,
    ``metadata.json``). ``FileNotFoundError`` naming the folder when it holds no results."""
    path = Path(path)
    results = path / "results.csv"
    if not results.is_file():
        raise FileNotFoundError(f"path: {path} holds no results.csv (not a run folder?).")
    records = list(csv.reader(whole_lines(results.read_text()).splitlines()))
    header, body = (records[0], records[1:]) if records else ([], [])
    columns = {h: _column([r[i] for r in body]) for i, h in enumerate(header)}

    def read_json(name: str) -> dict[str, Any]:
        try:
            return json.loads((path / name).read_text())
        except (OSError, ValueError):
            return {}

    try:
        config = load_toml(path / "config.toml") if (path / "config.toml").exists() else {}
    except ConfigError:
        config = {}
    return Run(path, columns, read_json("summary.json"), config, read_json("metadata.json"))
