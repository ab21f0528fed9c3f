"""The run folder's tables: ``results.csv`` and ``history.csv`` (append-only, fsynced)."""

from __future__ import annotations

import contextlib
import csv
import os
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from hopjax.sweep.config import ConfigError, SweepConfig, grid_keys, grid_types
from hopjax.sweep.experiment import Experiment, Row

__all__ = [
    "ResultsWriter",
    "missing_columns",
    "parse_results",
    "read_history",
    "read_results",
    "results_text",
    "rewrite",
    "whole_lines",
]


def read_results(path: Path, cfg: SweepConfig, *, repair: bool = True) -> list[Row]:
    """Rows of a ``results.csv``, grid values typed as in the config, metrics as floats.

    A trailing partial line (a crash mid-write) is ignored, and with ``repair`` (the engine's
    reads) dropped from the file too; ``repair=False`` leaves the file untouched (e.g. to
    inspect a folder another process may be writing).
    """
    return parse_results(results_text(path, repair=repair), cfg, path)


def results_text(path: Path, *, repair: bool = True) -> str:
    """The text of a ``results.csv`` (empty if none) without a torn last line (a crash
    mid-write), which ``repair`` also drops from the file."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    if text.startswith("\ufeff"):  # a byte-order mark (a spreadsheet's save): not a column name
        text = text[1:]
    whole = whole_lines(text)
    if repair and whole != text:  # interrupted while appending: drop the torn line from the file
        path.write_text(whole)
    return whole


def whole_lines(text: str) -> str:
    """``text`` without a trailing partial line (a crash mid-append), for reading only."""
    return text[: text.rfind("\n") + 1]


def parse_results(text: str, cfg: SweepConfig, path: Path) -> list[Row]:
    """The rows of a ``results.csv``'s text (``path`` names it in error messages)."""
    if not text:
        return []
    types_: dict[str, Any] = grid_types(type(cfg))
    types_["seed"] = int
    types_["status"] = str
    rows = []
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise ConfigError(f"{path}: the header names column {dup!r} twice; the file is damaged.")
    # a grid key added to the experiment after the file was written: its rows had the key's
    # only value (the new key's default), which the config must still hold
    filled = {}
    for k in grid_keys(type(cfg)):
        if k not in header:
            values = getattr(cfg, k)
            if len(values) != 1:
                raise ConfigError(
                    f"{path} has no column {k!r} (written before the key existed); resume it "
                    f"with a single value of {k!r}, or choose another --out."
                )
            filled[k] = values[0]
    for line, rec in enumerate(reader, start=2):
        if None in rec or None in rec.values():
            raise ConfigError(
                f"{path}, line {line}: {len(header)} columns expected; the file is damaged "
                "(move it away to rerun from scratch, or remove the line to resume)."
            )
        row: Row = {}
        for k, v in rec.items():
            tp = types_.get(k, float)
            try:
                row[k] = v if tp is str or typing.get_origin(tp) is typing.Literal else tp(v)
            except ValueError:
                raise ConfigError(
                    f"{path}, line {line}: column {k!r} holds {v!r}; the file is damaged."
                ) from None
        rows.append({**filled, **row})
    return rows


def missing_columns(text: str, columns: list[str]) -> bool:
    """Whether the header of a ``results.csv`` text lacks some of ``columns`` (a file written
    before a grid key existed; see :func:`parse_results`)."""
    header = text.split("\n", 1)[0].split(",") if text else columns
    return any(c not in header for c in columns)


def read_history(out_dir: str | Path, cfg: SweepConfig) -> list[Row]:
    """The rows of a run's ``history.csv`` (empty when the experiment keeps no history)."""
    rows = read_results(Path(out_dir) / "history.csv", cfg)
    for r in rows:
        r["step"] = int(r["step"])
    return rows


class ResultsWriter:
    """Append-only CSV writer: header on first write, each batch flushed and fsynced."""

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns

    def append(self, rows: list[Row]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        with _naming(self.path), open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=self.columns, lineterminator="\n")
            if new:
                w.writeheader()
            for row in rows:
                w.writerow({k: _fmt(row[k]) for k in self.columns})
            fh.flush()
            os.fsync(fh.fileno())


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Give an ``OSError`` raised while writing ``path`` the file's name: a failed ``write`` or
    ``fsync`` (a full disk: ENOSPC) carries none, and the caller's message names the file."""
    try:
        yield
    except OSError as e:
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)  # shortest round-trip representation
    return str(v)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, flushed, then
    renamed over ``path``): a crash leaves the old file or the new one, never a torn one."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with _naming(path), open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, path)


def rewrite(path: Path, columns: list[str], rows: list[Row]) -> None:
    """Replace ``path`` by ``rows`` (atomic: written to a temporary file, then renamed)."""
    tmp = path.with_suffix(".csv.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with _naming(path):
            ResultsWriter(tmp, columns).append(rows)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, path)


def _replace(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` over ``path``; when that fails (an append-only or immutable ``path``, a
    read-only folder) remove ``tmp`` and raise the error naming ``path``, the file the user
    knows, not the temporary one."""
    try:
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e


def history_rows(exp: Experiment, part: list[Row], outs: list[dict[str, Any]]) -> list[Row]:
    """Long-format history rows (one per row and step) of one chunk (``outs``: per row)."""
    rows = []
    for r, out in zip(part, outs, strict=True):
        arrays = {h: np.asarray(out[h]).reshape(-1) for h in exp.history}
        n = len(next(iter(arrays.values())))
        for step in range(n):
            rows.append({**r, "step": step, **{h: float(a[step]) for h, a in arrays.items()}})
    return rows


def prune_history(
    path: Path, columns: list[str], keep: Callable[[Row], bool], cfg: SweepConfig
) -> None:
    """Drop history rows of rows that never reached ``results.csv`` (a crash in between):
    those for which ``keep(row)`` is false."""
    if not path.exists():
        return
    rows = read_results(path, cfg)
    kept = [r for r in rows if keep(r)]
    if len(kept) != len(rows):
        for r in kept:
            r["step"] = int(r["step"])
        rewrite(path, columns, kept)
