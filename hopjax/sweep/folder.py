"""The run folder: one writer at a time (:class:`FolderLock`), a folder holds one config
(:func:`check_out_dir`, :func:`config_changes`), ``metadata.json`` (:func:`write_metadata`),
strict ``summary.json`` values (:func:`strict_json`), and reading a folder back:
``load_run(path)`` → its results as column arrays, its summary, config and metadata (no
experiment code needed)."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from hopjax.sweep.config import EXECUTION_KEYS, ConfigError, SweepConfig, config_to_dict, load_toml
from hopjax.sweep.errors import RunError
from hopjax.sweep.results import whole_lines, write_atomic

__all__ = [
    "FolderLock",
    "Run",
    "check_out_dir",
    "config_changes",
    "load_run",
    "strict_json",
    "write_metadata",
]


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
    ``metadata.json``). ``FileNotFoundError`` naming the folder when it holds no results,
    ``ValueError`` naming the line of a damaged ``results.csv``."""
    path = Path(path)
    results = path / "results.csv"
    if not results.is_file():
        raise FileNotFoundError(f"path: {path} holds no results.csv (not a run folder?).")
    text = whole_lines(results.read_text(encoding="utf-8-sig"))  # -sig: a BOM is not a name
    records = list(csv.reader(text.splitlines()))
    header, body = (records[0], records[1:]) if records else ([], [])
    for line, r in enumerate(body, start=2):
        if len(r) != len(header):
            raise ValueError(
                f"{results}, line {line}: {len(r)} cells where the header has {len(header)}; "
                "the file is damaged."
            )
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


def config_changes(old_raw: dict[str, Any], cfg: SweepConfig) -> list[str]:
    """The keys in which a run folder's ``config.toml`` (parsed: ``old_raw``) differs from
    ``cfg``, execution keys aside (empty: the same config). A key added to the experiment after
    the folder was written, at its default, changes nothing (e.g. a new grid key whose default
    is the one value the old rows had) — unless the config class names the value the old rows
    were computed with (:attr:`hopjax.sweep.config.SweepConfig.BEFORE_KEY`): then that value is the
    one that changes nothing. The config class's
    :attr:`~hopjax.sweep.config.SweepConfig.SEARCH_KEYS` may differ too, and ``seeds`` may
    grow: a row's key folds in its own seed (:mod:`hopjax.sweep.keys`), never the number of
    seeds, so the rows already there are the rows the larger config computes (fewer seeds is
    a change: the folder would hold rows its config does not)."""
    free = EXECUTION_KEYS | type(cfg).SEARCH_KEYS
    old = {k: v for k, v in old_raw.items() if k not in free}
    new = {k: v for k, v in config_to_dict(cfg).items() if k not in free}
    defaults = config_to_dict(type(cfg)(experiment=cfg.experiment))
    before = {**defaults, **type(cfg).BEFORE_KEY}
    for k in set(new) - set(old):
        if new[k] == before.get(k, object()):
            del new[k]
    if isinstance(old.get("seeds"), int) and new.get("seeds", 0) > old["seeds"]:
        del old["seeds"], new["seeds"]  # more seeds: more rows, the old ones unchanged
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def check_out_dir(out: Path, cfg: SweepConfig) -> None:
    """Refuse to mix results: an existing folder must hold the same (non-execution) config."""
    cfg_path = out / "config.toml"
    if not cfg_path.exists():
        if (out / "results.csv").exists():
            raise ConfigError(f"{out} holds results.csv but no config.toml; use a new --out.")
        return
    changed = config_changes(load_toml(cfg_path), cfg)
    if changed:
        raise ConfigError(
            f"{out} holds results of a different config (changed: {', '.join(changed)}); "
            "rerun with the same config to resume, or choose another --out."
        )


class FolderLock:
    """One writer per run folder: an advisory ``flock`` on ``<out>/.lock`` held for the run's
    lifetime. The OS releases it when the process ends, however it ends, so a killed run never
    blocks its resume. (No-op where ``fcntl`` does not exist.)"""

    def __init__(self, out: Path):
        self.path = out / ".lock"
        self.file: Any = None

    def __enter__(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        try:
            self.file = open(self.path, "a+")
        except OSError as e:
            raise RunError(f"cannot write the run folder {self.path.parent}: {e.strerror}") from e
        try:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RunError(
                f"{self.path.parent} is in use by a running sweep ({holder}); wait for it to "
                "finish (rerun then to resume) or choose another --out."
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()} on {platform.node()}\n")
        self.file.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()  # releases the lock


def strict_json(value: Any) -> Any:
    """``value`` with every NaN or ±inf float replaced by ``None`` (JSON ``null``) and numpy
    scalars made Python numbers, so ``summary.json`` is valid JSON (``NaN`` / ``Infinity`` are
    not; strict parsers refuse them). A ``null`` means "not measured / not crossed"; the
    experiment's docstring says which."""
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_TIMINGS = ("wall_seconds", "compile_seconds", "run_seconds")


def read_runs(out: Path) -> list[dict[str, Any]]:
    """The per-invocation entries (``runs``) of a folder's ``metadata.json``: a damaged file
    (not JSON, a full disk, a hand edit) gives ``[]`` and entries that are not objects with
    numeric timings are dropped, so damaged metadata is rebuilt, never fatal."""
    try:
        runs = json.loads((out / "metadata.json").read_text()).get("runs", [])
    except (ValueError, AttributeError, OSError):
        return []
    if not isinstance(runs, list):
        return []

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    return [r for r in runs if isinstance(r, dict) and all(number(r.get(k, 0.0)) for k in _TIMINGS)]


def write_metadata(
    out: Path,
    started: str,
    t_start: float,
    groups: list[dict[str, Any]],
    total: int,
    todo: int,
    complete: bool,
    processes: list[dict[str, Any]],
    write: bool = True,
    search: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``metadata.json`` of a run folder (versions, devices, whether every row is done, and
    per invocation its timings and groups); this invocation's entry (``started``) replaces the
    one it wrote before. The top-level ``wall_seconds`` / ``compile_seconds`` /
    ``run_seconds`` are the folder's totals over its invocations (``runs``), so that a resume,
    or a rerun that only redraws the summary and plots, adds to the cost a folder reports
    instead of replacing it. ``search``: this invocation's values of the config's
    :attr:`~hopjax.sweep.config.SweepConfig.SEARCH_KEYS` (kept in its entry). Written when
    ``write``; returned either way."""
    from hopjax import __version__

    path = out / "metadata.json"
    previous = read_runs(out) if write else []
    previous = [r for r in previous if r.get("started") != started]  # this invocation's own entry
    compile_s = sum(g.get("compile_seconds", 0.0) for g in groups)
    run_s = sum(sum(g["chunk_seconds"]) for g in groups)
    this_run = {
        "started": started,
        "wall_seconds": time.perf_counter() - t_start,
        "compile_seconds": compile_s,
        "run_seconds": run_s,
        "rows_total": total,
        "rows_todo_at_start": todo,
        "process_count": len(processes),
        "processes": processes,
        "groups": groups,
    }
    if search:
        this_run["search"] = search
    meta = {
        "hopjax": __version__,
        "jax": jax.__version__,
        "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "device_count": jax.device_count(),
        "process_count": len(processes),
        "complete": complete,
        "runs": [*previous, this_run],
    }
    for k in ("wall_seconds", "compile_seconds", "run_seconds"):
        meta[k] = sum(float(r.get(k, 0.0)) for r in meta["runs"])
    if write:
        write_atomic(path, json.dumps(meta, indent=2, default=_json_default) + "\n")
    return meta


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic | jax.Array):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")
