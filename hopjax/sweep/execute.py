"""Running a sweep: static groups compiled once, chunks vmapped and sharded, rows written as they
finish, reruns resume; then ``derive``, ``summary.json`` and the plots."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, PRNGKeyArray

from hopjax._checks import traced_checks
from hopjax.sweep.cluster import Cluster
from hopjax.sweep.config import (
    EXECUTION_KEYS,
    ConfigError,
    SweepConfig,
    config_to_dict,
    dump_config,
)
from hopjax.sweep.config import load_toml as _load_toml
from hopjax.sweep.context import RunContext
from hopjax.sweep.discover import resolve_experiment
from hopjax.sweep.errors import RunError
from hopjax.sweep.experiment import Experiment, Row
from hopjax.sweep.grid import dynamic_arrays, expand_grid, group_rows, row_id
from hopjax.sweep.results import (
    ResultsWriter,
    history_rows,
    missing_columns,
    parse_results,
    prune_history,
    read_history,
    read_results,
    results_text,
    rewrite,
    write_atomic,
)
from hopjax.sweep.stepper import run_pool

__all__ = ["RunError", "SweepResult", "run_sweep"]


@dataclasses.dataclass
class SweepResult:
    """What :func:`run_sweep` returns: the folder, all rows and this run's timings."""

    out_dir: Path
    rows: list[Row]
    summary: dict[str, Any]
    metadata: dict[str, Any]
    plots: list[Path]


def _chunk_size(
    exp: Experiment, cfg: SweepConfig, params: dict[str, Any], n_units: int, rows_per_unit: int
) -> int:
    """Units (rows, or PRNG streams of ``rows_per_unit`` rows) per chunk."""
    n_dev = jax.device_count()
    if cfg.chunk_size > 0:
        size = cfg.chunk_size
    else:
        per_row = exp.row_bytes(cfg, params) if exp.row_bytes else 1 << 20
        size = max(1, (cfg.memory_mb << 20) // max(1, per_row * rows_per_unit))
    size = min(size, n_units)
    return math.ceil(size / n_dev) * n_dev  # every device gets the same share


def _unchecked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` traced without hopjax's run-time value checks (:func:`hopjax._checks.traced_checks`):
    a program with a check holds a host callback, which JAX never stores in its persistent
    compilation cache — so every rerun and resume compiled again. The sweep's inputs are
    validated before anything runs (config checks name the key)."""

    def traced(*args: Any) -> Any:
        with traced_checks(False):
            return fn(*args)

    return traced


class _Group:
    """The compiled evaluation of one static group.

    Rows one by one (``vmap`` over rows), or — for an experiment with ``shared`` draws —
    PRNG streams: a chunk is ``U`` streams × ``M`` rows (short streams padded with their last
    row), ``shared`` is computed once per stream and the stream's rows run as an inner ``vmap``
    with it unbatched.
    """

    def __init__(self, ctx: RunContext, static: dict[str, Any], rows: list[Row]):
        exp, cfg = ctx.exp, ctx.cfg
        self.ctx, self.exp, self.cfg = ctx, exp, cfg
        self.params = ctx.static_params(static)
        self.streams = exp.shared is not None and cfg.share_draws
        if self.streams:
            ident = [k for k in exp.grid_keys if k not in exp.key_exclude]
            by: dict[tuple[Any, ...], list[Row]] = {}
            for r in rows:
                by.setdefault((r["seed"], *(r[k] for k in ident)), []).append(r)
            self.units = list(by.values())
            self.m = max(len(u) for u in self.units)
            dyn = [k for k in exp.grid_keys if k not in exp.static]
            self.stream_keys = [k for k in dyn if k not in exp.key_exclude]
        else:
            self.units, self.m = [[r] for r in rows], 1
        self.size = _chunk_size(exp, cfg, self.params, len(self.units), self.m)

    def program(self) -> Callable[..., Any]:
        exp, p = self.exp, self.params
        if not self.streams:
            if exp.shared is None:

                def point(dyn: dict[str, Array], key: PRNGKeyArray) -> dict:
                    return exp.fn({**p, **dyn}, key)

            else:  # the reference: every row computes its own copy of the shared draws

                def point(dyn: dict[str, Array], key: PRNGKeyArray) -> dict:
                    q = {**p, **dyn}
                    return exp.fn(q, key, exp.shared(q, key))

            return jax.jit(jax.vmap(_unchecked(point)))

        def stream(dyn: dict[str, Array], key: PRNGKeyArray, count: Array) -> dict:
            shared = exp.shared({**p, **{k: dyn[k][0] for k in self.stream_keys}}, key)
            if exp.stepper is not None:  # a pool of slots refilled as rows are decided
                return run_pool(exp.stepper, p, dyn, count, key, shared)
            return jax.vmap(lambda d: exp.fn({**p, **d}, key, shared))(dyn)

        return jax.jit(jax.vmap(_unchecked(stream)))

    def chunks(self) -> Iterator[tuple[list[Row], list[int], tuple[Any, Any]]]:
        """Per chunk: its rows, each row's index in the flattened outputs, and the arguments
        ``(dyn, keys)`` (padded to the chunk size; streams padded to ``M`` rows)."""
        for start in range(0, len(self.units), self.size):
            part = self.units[start : start + self.size]
            padded = part + [part[-1]] * (self.size - len(part))
            rows = [r for u in part for r in u]
            index = [i * self.m + j for i, u in enumerate(part) for j in range(len(u))]
            keys = self.ctx.keys([u[0] for u in padded])
            if not self.streams:
                yield (
                    rows,
                    index,
                    (
                        dynamic_arrays(
                            self.cfg, self.exp, rows + [rows[-1]] * (self.size - len(rows))
                        ),
                        keys,
                    ),
                )
                continue
            full = [u + [u[-1]] * (self.m - len(u)) for u in padded]
            flat = dynamic_arrays(self.cfg, self.exp, [r for u in full for r in u])
            dyn = {k: v.reshape(self.size, self.m) for k, v in flat.items()}
            counts = np.asarray([len(u) for u in part] + [0] * (self.size - len(part)), np.int32)
            yield rows, index, (dyn, keys, counts)

    def per_row(self, index: list[int], out: dict[str, Any]) -> list[dict[str, Any]]:
        """A chunk's outputs, one dict per row (stream outputs ``(U, M, …)`` flattened)."""
        flat = {k: v.reshape(-1, *v.shape[1 + self.streams :]) for k, v in out.items()}
        return [{k: v[q] for k, v in flat.items()} for q in index]


def config_changes(old_raw: dict[str, Any], cfg: SweepConfig) -> list[str]:
    """The keys in which a run folder's ``config.toml`` (parsed: ``old_raw``) differs from
    ``cfg``, execution keys aside (empty: the same config). A key added to the experiment after
    the folder was written, at its default, changes nothing (e.g. a new grid key whose default
    is the one value the old rows had) — unless the config class names the value the old rows
    were computed with (:attr:`hopjax.sweep.config.SweepConfig.BEFORE_KEY`): then that value is the
    one that changes nothing."""
    old = {k: v for k, v in old_raw.items() if k not in EXECUTION_KEYS}
    new = {k: v for k, v in config_to_dict(cfg).items() if k not in EXECUTION_KEYS}
    defaults = config_to_dict(type(cfg)(experiment=cfg.experiment))
    before = {**defaults, **type(cfg).BEFORE_KEY}
    for k in set(new) - set(old):
        if new[k] == before.get(k, object()):
            del new[k]
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _check_out_dir(out: Path, cfg: SweepConfig) -> None:
    """Refuse to mix results: an existing folder must hold the same (non-execution) config."""
    cfg_path = out / "config.toml"
    if not cfg_path.exists():
        if (out / "results.csv").exists():
            raise ConfigError(f"{out} holds results.csv but no config.toml; use a new --out.")
        return
    changed = config_changes(_load_toml(cfg_path), cfg)
    if changed:
        raise ConfigError(
            f"{out} holds results of a different config (changed: {', '.join(changed)}); "
            "rerun with the same config to resume, or choose another --out."
        )


MAX_ROWS = 10_000_000
"""The most rows (grid points × seeds) a sweep may have: beyond, its bookkeeping alone (one
dict per row, a CSV line per row) outgrows a workstation."""


def _machine_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_sizes(exp: Experiment, cfg: SweepConfig, machine_bytes: int | None = None) -> None:
    """Refuse, before any allocation, a sweep whose row count exceeds :data:`MAX_ROWS` or one of
    whose rows cannot fit this machine's memory, naming the keys. ``exp.row_bytes`` is a
    conservative estimate made for chunk sizing, so only rows estimated at more than 4× the
    machine's memory are refused (a row near the limit still fails in XLA)."""
    from hopjax.sweep.config import grid_keys

    keys = grid_keys(type(cfg))
    n_rows = cfg.seeds * math.prod(len(getattr(cfg, k)) for k in keys)
    if n_rows > MAX_ROWS:
        sizes = " × ".join(f"{len(getattr(cfg, k))} {k}" for k in keys)
        raise ConfigError(
            f"the grid has {n_rows:,} rows ({sizes} × {cfg.seeds} 'seeds'), more than "
            f"{MAX_ROWS:,}; reduce 'seeds' or the grid lists."
        )
    machine = machine_bytes if machine_bytes is not None else _machine_bytes()
    if exp.row_bytes is None or machine is None:
        return
    ctx = RunContext(exp, cfg, Path("."))
    for values in group_rows(expand_grid(cfg, exp), exp.static):  # the groups that exist
        static = dict(zip(exp.static, values, strict=True))
        need = exp.row_bytes(cfg, ctx.static_params(static))
        if need > 4 * machine:
            where = ", ".join(f"'{k}' = {v!r}" for k, v in static.items()) or "every row"
            raise ConfigError(
                f"one row at {where} needs ~{need / 2**30:.1f} GiB, more than this machine's "
                f"{machine / 2**30:.1f} GiB; reduce it."
            )


class _FolderLock:
    """One writer per run folder: an advisory ``flock`` on ``<out>/.lock`` held for the run's
    lifetime. The OS releases it when the process ends, however it ends, so a killed run never
    blocks its resume. (No-op where ``fcntl`` does not exist.)"""

    def __init__(self, out: Path):
        self.path = out / ".lock"
        self.file: Any = None

    def __enter__(self) -> _FolderLock:
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


def run_sweep(
    cfg: SweepConfig,
    out_dir: str | Path,
    *,
    exp: Experiment | None = None,
    progress: bool = True,
    max_chunks: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> SweepResult:
    """Run (or resume) the sweep of ``cfg`` into ``out_dir`` (the package docstring).

    ``exp`` is the experiment (default: resolved from ``cfg.experiment`` relative to the
    working directory). ``max_chunks`` stops after that many chunks (a staged run; rerun to
    continue). ``stop() -> True`` stops at the next safe point — before the next chunk, its
    rows written (the CLI sets it from SIGINT/SIGTERM). Writes ``config.toml``,
    ``results.csv``, ``metadata.json`` and, once every row is done, ``summary.json`` and the
    experiment's plots. One process at a time writes a folder:
    a second ``run_sweep`` into a folder a live run holds raises :class:`RunError`.
    """
    exp = exp if exp is not None else resolve_experiment(cfg.experiment)
    check_sizes(exp, cfg)
    out = Path(out_dir)
    cluster = Cluster()
    with contextlib.ExitStack() as held:
        failed: Exception | None = None
        if cluster.lead:  # process 0 alone touches the folder
            try:
                try:
                    out.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise RunError(f"cannot create the run folder {out}: {e.strerror or e}") from e
                held.enter_context(_FolderLock(out))
                _check_out_dir(out, cfg)
            except (RunError, ConfigError) as e:
                failed = e
        if cluster.any(failed is not None):
            if failed is not None:
                raise failed
            raise RunError(
                f"process {cluster.index}: process 0 could not start the run in {out} "
                "(its message says why)."
            )
        try:
            return _run(cfg, out, exp, progress, max_chunks, stop, cluster)
        except OSError as e:  # e.g. a full disk: the rows written so far are whole and kept
            if e.filename is None or out.resolve() not in Path(e.filename).resolve().parents:
                raise
            raise RunError(
                f"cannot write {e.filename}: {e.strerror or e}; the rows finished are kept "
                "— fix the cause and rerun the same command to resume."
            ) from e


def _run(
    cfg: SweepConfig,
    out: Path,
    exp: Experiment,
    progress: bool,
    max_chunks: int | None,
    stop: Callable[[], bool] | None,
    cluster: Cluster,
) -> SweepResult:
    lead = cluster.lead
    if lead:
        write_atomic(out / "config.toml", dump_config(cfg))
    processes = cluster.describe()

    t_start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
    keys = exp.grid_keys
    columns = exp.columns
    results = out / "results.csv"
    # process 0 reads the folder; the others get its results.csv byte for byte
    text = cluster.share_bytes(results_text(results).encode() if lead else None).decode()
    written = parse_results(text, cfg, results)  # every row in results.csv, as it grows
    if lead and missing_columns(text, columns):  # an older folder: the new grid key's column
        rewrite(results, columns, written)
    done = {row_id(r, keys) for r in written}
    all_rows = expand_grid(cfg, exp)
    if not all_rows:
        raise ConfigError(f"{exp.name}: no grid point applies (every row was excluded).")
    todo = [r for r in all_rows if row_id(r, keys) not in done]
    writer = ResultsWriter(results, columns) if lead else None
    hist_writer = None
    if exp.history and lead:
        hist_path = out / "history.csv"
        hist_columns = [*keys, "seed", "step", *exp.history]
        prune_history(hist_path, hist_columns, done, keys, cfg)
        hist_writer = ResultsWriter(hist_path, hist_columns)

    def write(rows: list[Row]) -> None:
        if writer is not None:
            writer.append(rows)
        written.extend(rows)

    ctx = RunContext(exp, cfg, out)
    mesh = Mesh(np.asarray(jax.devices()), ("batch",))
    sharding = NamedSharding(mesh, PartitionSpec("batch"))
    adaptive = exp.prune is not None or exp.defer is not None
    finished = written  # the rows prune/defer see: the same on every process
    status = {"status": "done"} if adaptive else {}

    def metadata(complete: bool) -> dict[str, Any]:
        return _metadata(
            out, started, t_start, groups_meta, len(all_rows), len(todo), complete, processes, lead
        )

    groups_meta: list[dict[str, Any]] = []
    chunks_run = 0

    def budget_left() -> bool:
        if cluster.any(stop is not None and stop()):  # a stop on any process stops them all
            return False
        return max_chunks is None or chunks_run < max_chunks

    def run_rows(static: dict[str, Any], rows: list[Row], meta: dict[str, Any]) -> None:
        """One round of a static group: compile, then every chunk, written as it finishes."""
        nonlocal chunks_run
        group = _Group(ctx, static, rows)
        batched = group.program()
        meta.update(chunk_size=group.size, rows_per_unit=group.m)
        compiled = None
        for part, index, args in group.chunks():
            if not budget_left():
                break
            args = cluster.to_global(args, sharding)
            if compiled is None:
                t0 = time.perf_counter()
                compiled = batched.lower(*args).compile()
                meta["compile_seconds"] = meta.get("compile_seconds", 0.0) + (
                    time.perf_counter() - t0
                )
            t0 = time.perf_counter()
            metrics = cluster.run(compiled, args)
            meta["chunk_seconds"].append(time.perf_counter() - t0)
            missing = set(exp.metrics) - set(metrics)
            if missing:
                raise RuntimeError(f"{exp.name} returned no {sorted(missing)}")
            outs = group.per_row(index, metrics)
            if hist_writer is not None:
                hist_writer.append(history_rows(exp, part, outs))
            done_rows = [
                {**r, **status, **{m: float(o[m]) for m in exp.metrics}}
                for r, o in zip(part, outs, strict=True)
            ]
            write(done_rows)
            chunks_run += 1
            advance(len(part))

    n_done = len(all_rows) - len(todo)
    where = f"{jax.device_count()} devices" if jax.device_count() > 1 else ""
    if cluster.multi:
        hosts = len({p["host"] for p in processes})
        where = f"{cluster.count} processes on {hosts} hosts, {jax.device_count()} devices"
    with _Progress(progress and lead, len(all_rows), n_done, where) as advance:
        order = list(group_rows(todo, exp.static))  # static groups, in grid order
        metas: dict[tuple[Any, ...], dict[str, Any]] = {}

        def group_of(r: Row) -> tuple[Any, ...]:
            return tuple(r[k] for k in exp.static)

        def meta_of(values: tuple[Any, ...], n_rows: int) -> dict[str, Any]:
            if values not in metas:
                static = dict(zip(exp.static, values, strict=True))
                metas[values] = {**static, "rows": n_rows, "chunk_seconds": []}
                groups_meta.append(metas[values])
            return metas[values]

        pending = todo
        while pending and budget_left():
            # a round: prune, hold back, run the first static group that has rows to run
            if exp.prune is not None:
                skip = {row_id(r, keys) for r in exp.prune(ctx, finished, pending)}
                pruned = [
                    {**r, "status": "pruned", **dict.fromkeys(exp.metrics, math.nan)}
                    for r in pending
                    if row_id(r, keys) in skip
                ]
                if pruned:
                    write(pruned)
                    advance(len(pruned))
                    for r in pruned:
                        m = meta_of(group_of(r), 0)
                        m["pruned"] = m.get("pruned", 0) + 1
                pending = [r for r in pending if row_id(r, keys) not in skip]
            if not pending:
                break
            now = pending
            if exp.defer is not None:
                held = {row_id(r, keys) for r in exp.defer(ctx, finished, pending)}
                now = [r for r in pending if row_id(r, keys) not in held]
            now = now or pending  # a round that would hold everything back runs it all
            present = {group_of(r) for r in now}
            first = next(v for v in order if v in present)
            now = [r for r in now if group_of(r) == first]
            ids = {row_id(r, keys) for r in now}
            pending = [r for r in pending if row_id(r, keys) not in ids]
            meta = meta_of(first, sum(group_of(r) == first for r in todo))
            meta["rounds"] = meta.get("rounds", 0) + 1
            run_rows(dict(zip(exp.static, first, strict=True)), now, meta)
            # timings survive an interruption: this invocation's entry is rewritten per round
            metadata(False)

    rows_all = read_results(results, cfg) if lead else written
    complete = len(rows_all) == len(all_rows)
    summary: dict[str, Any] = {}
    plots: list[Path] = []
    if complete and not lead:
        rows_all = _in_grid_order(rows_all, all_rows, keys)
    elif complete:  # the files in grid order (streams and resumes write rows as they finish)
        ordered = _in_grid_order(rows_all, all_rows, keys)
        if exp.derive is not None:
            extra, ordered = exp.derive(ctx, ordered)
            rewrite(results, [*columns, *extra], ordered)
        elif ordered != rows_all:
            rewrite(results, columns, ordered)
        rows_all = ordered
        if exp.history:
            hist = read_history(out, cfg)
            index = {row_id(r, keys): i for i, r in enumerate(all_rows)}
            hist_sorted = sorted(hist, key=lambda h: (index[row_id(h, keys)], h["step"]))
            if hist_sorted != hist:
                rewrite(out / "history.csv", [*keys, "seed", "step", *exp.history], hist_sorted)
        if exp.summarize is not None:
            summary = exp.summarize(ctx, rows_all)
            summary = strict_json(summary)
            text = json.dumps(summary, indent=2, allow_nan=False)
            write_atomic(out / "summary.json", text + "\n")
        if exp.plot is not None:
            plots = exp.plot(ctx, rows_all, summary)
    return SweepResult(out, rows_all, summary, metadata(complete), plots)


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


def _in_grid_order(rows: list[Row], all_rows: list[Row], keys: list[str]) -> list[Row]:
    index = {row_id(r, keys): i for i, r in enumerate(all_rows)}
    return sorted(rows, key=lambda r: index[row_id(r, keys)])


def _metadata(
    out: Path,
    started: str,
    t_start: float,
    groups: list[dict[str, Any]],
    total: int,
    todo: int,
    complete: bool,
    processes: list[dict[str, Any]],
    write: bool = True,
) -> dict[str, Any]:
    from hopjax import __version__

    path = out / "metadata.json"
    try:
        previous = json.loads(path.read_text()).get("runs", []) if write and path.exists() else []
    except (ValueError, AttributeError, OSError):  # damaged (e.g. a full disk): rebuilt
        previous = []
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
        "wall_seconds": this_run["wall_seconds"],
        "compile_seconds": compile_s,
        "run_seconds": run_s,
        "runs": [*previous, this_run],
    }
    if write:
        write_atomic(path, json.dumps(meta, indent=2, default=_json_default) + "\n")
    return meta


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic | jnp.ndarray):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


class _Progress:
    """A rich progress bar over rows (done/total, rate, ETA); silent when disabled."""

    def __init__(self, enabled: bool, total: int, done: int, where: str = ""):
        self.enabled, self.total, self.done = enabled, total, done
        self.label = f"sweep ({where})" if where else "sweep"

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
            TextColumn(f"[bold]{self.label}"),
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
