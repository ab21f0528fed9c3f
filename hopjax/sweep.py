"""Ensemble sweep engine: grid × seeds → vectorised, sharded, chunked, resumable evaluation.

An :class:`Experiment` is a pure function ``fn(params, key) -> {metric: scalar}`` registered
under a name, plus its config dataclass. :func:`run_sweep`

1. expands the grid — the product of the config's list-valued keys — times the seeds;
2. groups the points by their *static* keys (values that set array shapes or Python branches,
   e.g. ``N``, ``rule``): **one compilation per group**; every other grid key is a traced scalar,
   ``vmap``-ped together with the PRNG key;
3. evaluates each group in equal-sized chunks (sized from ``memory_mb`` and the experiment's
   per-row memory estimate, or ``chunk_size``; the last chunk is padded), the chunk's leading axis
   sharded over all ``jax.devices()`` with a ``Mesh`` + ``NamedSharding``;
4. appends each chunk's rows to ``results.csv`` as soon as it finishes (flushed and fsynced), so
   a rerun into the same folder with the same config skips finished rows. Experiments with a
   ``history`` (per-row arrays over steps, e.g. an optimisation's loss and parameters) write
   them to ``history.csv`` (long format: the row's grid values, ``seed``, ``step``, one column
   per history name) just before the row itself; a rerun first drops history rows whose
   results row is missing, so neither file holds duplicates.

Each row's PRNG key is ``fold_in(fold_in(PRNGKey(base_seed), seed), h)`` with ``h`` a CRC32 of
the row's grid values (minus the experiment's ``key_exclude`` keys, which share randomness: e.g.
every storage rule sees the same patterns). Keys never depend on chunk position, chunk size or
device count, so neither do the results.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import itertools
import json
import math
import os
import platform
import time
import typing
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, PRNGKeyArray

from hopjax.config import (
    EXECUTION_KEYS,
    ConfigError,
    SweepConfig,
    config_to_dict,
    dump_config,
    grid_keys,
    load_toml,
)

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "SweepResult",
    "expand_grid",
    "get_experiment",
    "group_rows",
    "read_history",
    "read_results",
    "register",
    "row_key",
    "run_sweep",
]

Row = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    ``fn(params, key)`` receives ``params`` holding every config value: static grid keys, the
    non-grid keys and ``prepare``'s derived values as Python objects, the other grid keys as traced
    scalars (float32 / int32). It returns a dict of scalar metrics named in ``metrics``.
    ``row_bytes(cfg, static)`` estimates the memory of one row for chunk sizing;
    ``summarize(cfg, rows)`` returns ``summary.json``'s content and ``plot(cfg, rows, summary,
    out_dir)`` writes the PNG files and returns their paths. ``derive(cfg, rows)`` (optional)
    returns ``(names, rows)``: columns computed across rows (e.g. the best value over a grid
    axis), added to ``results.csv`` once every row is done (the file is rewritten atomically).
    ``include(cfg, row)`` (optional) drops grid points that do not apply (e.g. a noise level
    of a noise model a row does not use), so the grid need not be a full product.
    ``history`` names outputs of ``fn`` that are arrays with a leading step axis (all of one
    length); they go to ``history.csv`` (module docstring), not to ``results.csv``.
    """

    name: str
    config: type[SweepConfig]
    fn: Callable[[dict[str, Any], PRNGKeyArray], dict[str, Array]]
    static: tuple[str, ...]
    metrics: tuple[str, ...]
    description: str = ""
    key_exclude: tuple[str, ...] = ()
    prepare: Callable[[SweepConfig, dict[str, Any]], dict[str, Any]] | None = None
    row_bytes: Callable[[SweepConfig, dict[str, Any]], int] | None = None
    summarize: Callable[[SweepConfig, list[Row]], dict[str, Any]] | None = None
    plot: Callable[[SweepConfig, list[Row], dict[str, Any], Path], list[Path]] | None = None
    derive: Callable[[SweepConfig, list[Row]], tuple[list[str], list[Row]]] | None = None
    include: Callable[[SweepConfig, Row], bool] | None = None
    history: tuple[str, ...] = ()


EXPERIMENTS: dict[str, Experiment] = {}


def register(exp: Experiment) -> Experiment:
    """Register ``exp`` under ``exp.name`` (checks that string grid keys are static)."""
    hints = typing.get_type_hints(exp.config)
    keys = grid_keys(exp.config)
    for k in exp.static:
        if k not in keys:
            raise ValueError(f"{exp.name}: static key {k!r} is not a grid key of {keys}")
    for k in keys:
        if typing.get_args(hints[k])[0] not in (int, float) and k not in exp.static:
            raise ValueError(f"{exp.name}: non-numeric grid key {k!r} must be static")
    EXPERIMENTS[exp.name] = exp
    return exp


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name`` (:class:`ConfigError` naming the known ones)."""
    import hopjax.experiments  # noqa: F401  (registers the built-in experiments)

    try:
        return EXPERIMENTS[name]
    except KeyError:
        known = ", ".join(sorted(EXPERIMENTS))
        raise ConfigError(f"unknown 'experiment' {name!r}; expected one of: {known}.") from None


def load_experiment_config(raw: dict[str, Any]) -> tuple[Experiment, SweepConfig]:
    """Validate a raw config mapping: pick the experiment by its ``experiment`` key."""
    from hopjax.config import parse_config

    name = raw.get("experiment")
    if not isinstance(name, str):
        raise ConfigError("missing required key 'experiment' (a string naming the experiment).")
    exp = get_experiment(name)
    return exp, parse_config(raw, exp.config)


# ----------------------------------------------------------------------------- grid and keys


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


def _point_hash(row: Row, keys: Iterable[str]) -> int:
    ident = json.dumps({k: row[k] for k in keys}, sort_keys=True)
    return zlib.crc32(ident.encode()) & 0x7FFFFFFF


def row_key(row: Row, cfg: SweepConfig, exp: Experiment) -> PRNGKeyArray:
    """The PRNG key of one row, from its seed and grid values only (see module docstring)."""
    keys = [k for k in grid_keys(type(cfg)) if k not in exp.key_exclude]
    base = jax.random.PRNGKey(cfg.base_seed)
    return jax.random.fold_in(jax.random.fold_in(base, row["seed"]), _point_hash(row, keys))


@jax.jit
def _fold_keys(base: PRNGKeyArray, seeds: Array, hashes: Array) -> PRNGKeyArray:
    return jax.vmap(lambda s, h: jax.random.fold_in(jax.random.fold_in(base, s), h))(seeds, hashes)


# ----------------------------------------------------------------------------- results file


def _row_id(row: Row, keys: list[str]) -> tuple[Any, ...]:
    return (*(row[k] for k in keys), row["seed"])


def read_results(path: Path, cfg: SweepConfig) -> list[Row]:
    """Rows of a ``results.csv``, grid values typed as in the config, metrics as floats.

    A trailing partial line (a crash mid-write) is dropped from the file.
    """
    if not path.exists():
        return []
    text = path.read_text()
    if text and not text.endswith("\n"):  # interrupted while appending: drop the torn line
        text = text[: text.rfind("\n") + 1]
        path.write_text(text)
    hints = typing.get_type_hints(type(cfg))
    types_ = {k: typing.get_args(hints[k])[0] for k in grid_keys(type(cfg))}
    types_["seed"] = int
    rows = []
    for rec in csv.DictReader(text.splitlines()):
        row: Row = {}
        for k, v in rec.items():
            tp = types_.get(k, float)
            row[k] = v if tp is str or typing.get_origin(tp) is typing.Literal else tp(v)
        rows.append(row)
    return rows


class _ResultsWriter:
    """Append-only CSV writer: header on first write, each batch flushed and fsynced."""

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns

    def append(self, rows: list[Row]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=self.columns, lineterminator="\n")
            if new:
                w.writeheader()
            for row in rows:
                w.writerow({k: _fmt(row[k]) for k in self.columns})
            fh.flush()
            os.fsync(fh.fileno())


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)  # shortest round-trip representation
    return str(v)


# ----------------------------------------------------------------------------- execution


@dataclasses.dataclass
class SweepResult:
    """What :func:`run_sweep` returns: the folder, all rows and this run's timings."""

    out_dir: Path
    rows: list[Row]
    summary: dict[str, Any]
    metadata: dict[str, Any]
    plots: list[Path]


def _chunk_size(exp: Experiment, cfg: SweepConfig, static: dict[str, Any], n_rows: int) -> int:
    n_dev = jax.device_count()
    if cfg.chunk_size > 0:
        size = cfg.chunk_size
    else:
        per_row = exp.row_bytes(cfg, static) if exp.row_bytes else 1 << 20
        size = max(1, (cfg.memory_mb << 20) // max(1, per_row))
    size = min(size, n_rows)
    return math.ceil(size / n_dev) * n_dev  # every device gets the same share


def _fixed_params(cfg: SweepConfig) -> dict[str, Any]:
    grid = set(grid_keys(type(cfg)))
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in grid}


def _check_out_dir(out: Path, cfg: SweepConfig) -> None:
    """Refuse to mix results: an existing folder must hold the same (non-execution) config."""
    cfg_path = out / "config.toml"
    if not cfg_path.exists():
        if (out / "results.csv").exists():
            raise ConfigError(f"{out} holds results.csv but no config.toml; use a new --out.")
        return
    old = {k: v for k, v in load_toml(cfg_path).items() if k not in EXECUTION_KEYS}
    new = {k: v for k, v in config_to_dict(cfg).items() if k not in EXECUTION_KEYS}
    if old != new:
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        raise ConfigError(
            f"{out} holds results of a different config (changed: {', '.join(changed)}); "
            "rerun with the same config to resume, or choose another --out."
        )


def run_sweep(
    cfg: SweepConfig,
    out_dir: str | Path,
    *,
    exp: Experiment | None = None,
    progress: bool = True,
    max_chunks: int | None = None,
) -> SweepResult:
    """Run (or resume) the sweep of ``cfg`` into ``out_dir``; see the module docstring.

    ``max_chunks`` stops after that many chunks (a staged run; rerun to continue). Writes
    ``config.toml``, ``results.csv``, ``metadata.json`` and, once every row is done,
    ``summary.json`` and the experiment's plots.
    """
    exp = exp or get_experiment(cfg.experiment)
    out = Path(out_dir)
    _check_out_dir(out, cfg)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.toml").write_text(dump_config(cfg))

    t_start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
    keys = grid_keys(type(cfg))
    columns = [*keys, "seed", *exp.metrics]
    results = out / "results.csv"
    done = {_row_id(r, keys) for r in read_results(results, cfg)}
    all_rows = expand_grid(cfg, exp)
    if not all_rows:
        raise ConfigError(f"{exp.name}: no grid point applies (every row was excluded).")
    todo = [r for r in all_rows if _row_id(r, keys) not in done]
    writer = _ResultsWriter(results, columns)
    hist_writer = None
    if exp.history:
        hist_path = out / "history.csv"
        hist_columns = [*keys, "seed", "step", *exp.history]
        _prune_history(hist_path, hist_columns, done, keys, cfg)
        hist_writer = _ResultsWriter(hist_path, hist_columns)

    mesh = Mesh(np.asarray(jax.devices()), ("batch",))
    sharding = NamedSharding(mesh, PartitionSpec("batch"))
    fixed = _fixed_params(cfg)
    hints = typing.get_type_hints(type(cfg))
    dyn_keys = [k for k in keys if k not in exp.static]
    dtypes = {k: np.int32 if typing.get_args(hints[k])[0] is int else np.float32 for k in dyn_keys}
    hash_keys = [k for k in keys if k not in exp.key_exclude]
    base_key = jax.random.PRNGKey(cfg.base_seed)

    groups_meta: list[dict[str, Any]] = []
    chunks_run = 0
    with _Progress(progress, total=len(all_rows), done=len(all_rows) - len(todo)) as advance:
        for static_values, rows in group_rows(todo, exp.static).items():
            if max_chunks is not None and chunks_run >= max_chunks:
                break
            static = dict(zip(exp.static, static_values, strict=True))
            params_static = {**fixed, **static}
            if exp.prepare is not None:
                params_static.update(exp.prepare(cfg, static))

            def point(dyn: dict[str, Array], key: PRNGKeyArray, _p=params_static) -> dict:
                return exp.fn({**_p, **dyn}, key)

            batched = jax.jit(jax.vmap(point))
            size = _chunk_size(exp, cfg, params_static, len(rows))
            meta = {**static, "rows": len(rows), "chunk_size": size, "chunk_seconds": []}
            compiled = None
            for start in range(0, len(rows), size):
                if max_chunks is not None and chunks_run >= max_chunks:
                    break
                part = rows[start : start + size]
                padded = part + [part[-1]] * (size - len(part))
                dyn = {k: np.asarray([r[k] for r in padded], dtypes[k]) for k in dyn_keys}
                seeds = np.asarray([r["seed"] for r in padded], np.uint32)
                hashes = np.asarray([_point_hash(r, hash_keys) for r in padded], np.uint32)
                args = jax.device_put((dyn, _fold_keys(base_key, seeds, hashes)), sharding)
                if compiled is None:
                    t0 = time.perf_counter()
                    compiled = batched.lower(*args).compile()
                    meta["compile_seconds"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                metrics = jax.device_get(compiled(*args))
                meta["chunk_seconds"].append(time.perf_counter() - t0)
                missing = set(exp.metrics) - set(metrics)
                if missing:
                    raise RuntimeError(f"{exp.name} returned no {sorted(missing)}")
                if hist_writer is not None:
                    hist_writer.append(_history_rows(exp, part, metrics))
                writer.append(
                    [
                        {**r, **{m: float(metrics[m][i]) for m in exp.metrics}}
                        for i, r in enumerate(part)
                    ]
                )
                chunks_run += 1
                advance(len(part))
            groups_meta.append(meta)
            # timings survive an interruption: this invocation's entry is rewritten per group
            _metadata(out, started, t_start, groups_meta, len(all_rows), len(todo), False)

    rows_all = read_results(results, cfg)
    complete = len(rows_all) == len(all_rows)
    summary: dict[str, Any] = {}
    plots: list[Path] = []
    if complete:
        rows_all = _in_grid_order(rows_all, all_rows, keys)
        if exp.derive is not None:
            extra, rows_all = exp.derive(cfg, rows_all)
            _rewrite(results, [*columns, *extra], rows_all)
        if exp.summarize is not None:
            summary = exp.summarize(cfg, rows_all)
            (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        if exp.plot is not None:
            plots = exp.plot(cfg, rows_all, summary, out)
    metadata = _metadata(out, started, t_start, groups_meta, len(all_rows), len(todo), complete)
    return SweepResult(out, rows_all, summary, metadata, plots)


def _history_rows(exp: Experiment, part: list[Row], out: dict[str, Any]) -> list[Row]:
    """Long-format history rows (one per row and step) of one chunk."""
    rows = []
    for i, r in enumerate(part):
        arrays = {h: np.asarray(out[h][i]).reshape(-1) for h in exp.history}
        n = len(next(iter(arrays.values())))
        for step in range(n):
            rows.append({**r, "step": step, **{h: float(a[step]) for h, a in arrays.items()}})
    return rows


def _prune_history(
    path: Path, columns: list[str], done: set[tuple[Any, ...]], keys: list[str], cfg: SweepConfig
) -> None:
    """Drop history rows of rows that never reached ``results.csv`` (a crash in between)."""
    if not path.exists():
        return
    rows = read_results(path, cfg)
    kept = [r for r in rows if _row_id(r, keys) in done]
    if len(kept) != len(rows):
        for r in kept:
            r["step"] = int(r["step"])
        _rewrite(path, columns, kept)


def read_history(out_dir: str | Path, cfg: SweepConfig) -> list[Row]:
    """The rows of a run's ``history.csv`` (empty when the experiment keeps no history)."""
    rows = read_results(Path(out_dir) / "history.csv", cfg)
    for r in rows:
        r["step"] = int(r["step"])
    return rows


def _rewrite(path: Path, columns: list[str], rows: list[Row]) -> None:
    """Replace ``path`` by ``rows`` (atomic: written to a temporary file, then renamed)."""
    tmp = path.with_suffix(".csv.tmp")
    tmp.unlink(missing_ok=True)
    _ResultsWriter(tmp, columns).append(rows)
    os.replace(tmp, path)


def _in_grid_order(rows: list[Row], all_rows: list[Row], keys: list[str]) -> list[Row]:
    index = {_row_id(r, keys): i for i, r in enumerate(all_rows)}
    return sorted(rows, key=lambda r: index[_row_id(r, keys)])


def _metadata(
    out: Path,
    started: str,
    t_start: float,
    groups: list[dict[str, Any]],
    total: int,
    todo: int,
    complete: bool,
) -> dict[str, Any]:
    from hopjax import __version__

    path = out / "metadata.json"
    previous = json.loads(path.read_text()).get("runs", []) if path.exists() else []
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
        "groups": groups,
    }
    meta = {
        "hopjax": __version__,
        "jax": jax.__version__,
        "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "device_count": jax.device_count(),
        "complete": complete,
        "wall_seconds": this_run["wall_seconds"],
        "compile_seconds": compile_s,
        "run_seconds": run_s,
        "runs": [*previous, this_run],
    }
    path.write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
    return meta


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic | jnp.ndarray):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


class _Progress:
    """A rich progress bar over rows (done/total, rate, ETA); silent when disabled."""

    def __init__(self, enabled: bool, total: int, done: int):
        self.enabled, self.total, self.done = enabled, total, done

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        self.bar.start()
        self.t0 = time.perf_counter()
        self.task = self.bar.add_task("rows", total=self.total, completed=self.done, rate="")
        self.new = 0

        def advance(n: int) -> None:
            self.new += n
            rate = self.new / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.update(self.task, advance=n, rate=f"{rate:.1f} rows/s")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()
