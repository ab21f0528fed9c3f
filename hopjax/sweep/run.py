"""Running a sweep: rounds of static groups, each compiled once and evaluated in chunks that are
written as they finish; reruns resume; then ``derive``, ``summary.json`` and the plots.

The pieces live beside this module: :mod:`.plan` (rows, groups, params, keys), :mod:`.program`
(a group's compiled program and its chunks), :mod:`.folder` (lock, config check, metadata),
:mod:`.results` (the CSV files), :mod:`.cluster` (several processes), :mod:`.progress`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from hopjax.sweep.cluster import Cluster
from hopjax.sweep.config import ConfigError, SweepConfig, dump_config
from hopjax.sweep.context import RunContext
from hopjax.sweep.discover import resolve_experiment
from hopjax.sweep.errors import RunError
from hopjax.sweep.experiment import Experiment, Row
from hopjax.sweep.folder import FolderLock, check_out_dir, strict_json, write_metadata
from hopjax.sweep.plan import Plan
from hopjax.sweep.program import GroupProgram, ShapePolicy
from hopjax.sweep.programs import ProgramCache
from hopjax.sweep.progress import Progress
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

__all__ = ["RunError", "SweepResult", "run_sweep"]


@dataclasses.dataclass
class SweepResult:
    """What :func:`run_sweep` returns: the folder, all rows and this run's timings."""

    out_dir: Path
    rows: list[Row]
    summary: dict[str, Any]
    metadata: dict[str, Any]
    plots: list[Path]


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
    plan = Plan(exp, cfg)
    plan.check_sizes()
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
                held.enter_context(FolderLock(out))
                check_out_dir(out, cfg)
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
            return _Sweep(plan, out, cluster, max_chunks, stop).run(progress)
        except OSError as e:  # e.g. a full disk: the rows written so far are whole and kept
            if e.filename is None or out.resolve() not in Path(e.filename).resolve().parents:
                raise
            raise RunError(
                f"cannot write {e.filename}: {e.strerror or e}; the rows finished are kept "
                "— fix the cause and rerun the same command to resume."
            ) from e


class _Sweep:
    """One invocation of a sweep on a locked folder: :meth:`run` reads what is done, runs the
    rounds, then finishes the folder (:meth:`finish`). Every process of a multi-process run
    builds the same object and takes the same decisions; process 0 alone writes."""

    def __init__(
        self,
        plan: Plan,
        out: Path,
        cluster: Cluster,
        max_chunks: int | None,
        stop: Callable[[], bool] | None,
    ):
        self.plan, self.exp, self.cfg = plan, plan.exp, plan.cfg
        self.out, self.cluster, self.lead = out, cluster, cluster.lead
        self.max_chunks, self.stop = max_chunks, stop
        self.ctx = RunContext(self.exp, self.cfg, out, plan)
        self.chunks_run = 0
        self.groups_meta: list[dict[str, Any]] = []
        self.metas: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.programs = ProgramCache(self.exp, self.cfg, disk=not cluster.multi)
        self.shapes = ShapePolicy(
            self.exp.schedule is not None
            and jax.default_backend() == "cpu"
            and not cluster.multi
            and os.environ.get("HOPJAX_SHAPE_REUSE", "1").strip().lower()
            not in ("0", "false", "no")
        )
        mesh = Mesh(np.asarray(jax.devices()), ("batch",))
        self.sharding = NamedSharding(mesh, PartitionSpec("batch"))

    # -- the loop ---------------------------------------------------------------------------
    def run(self, progress: bool) -> SweepResult:
        plan, exp = self.plan, self.exp
        self.start()
        order = list(plan.groups(self.todo))  # static groups, in grid order
        with Progress(progress and self.lead, len(plan.rows), self.n_done, self.where()) as bar:
            self.advance = bar
            pending = self.todo
            while pending and self.budget_left():  # a round
                decision = exp.schedule(self.ctx, self.written, pending) if exp.schedule else None
                if decision is not None:
                    pending = self.prune(pending, decision.prune)
                if not pending:
                    break
                now = pending
                if decision is not None:
                    held = plan.ids(decision.hold)
                    now = [r for r in pending if plan.id(r) not in held]
                now = now or pending  # a round that would hold everything back runs it all
                present = {plan.group_of(r) for r in now}
                first = next(v for v in order if v in present)
                now = [r for r in now if plan.group_of(r) == first]
                ids = plan.ids(now)
                pending = [r for r in pending if plan.id(r) not in ids]
                meta = self.meta_of(first, sum(plan.group_of(r) == first for r in self.todo))
                meta["rounds"] = meta.get("rounds", 0) + 1
                self.run_group(plan.static_dict(first), now, meta)
                self.metadata(False)  # timings survive an interruption: rewritten per round
        return self.finish()

    # -- its steps --------------------------------------------------------------------------
    def start(self) -> None:
        """Write the config; read the rows already done (process 0 reads, the others get its
        ``results.csv`` byte for byte); open the writers."""
        plan, exp, cfg, out, lead = self.plan, self.exp, self.cfg, self.out, self.lead
        if lead:
            write_atomic(out / "config.toml", dump_config(cfg))
        self.processes = self.cluster.describe()
        self.t_start = time.perf_counter()
        self.started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
        results = out / "results.csv"
        shared = self.cluster.share_bytes(results_text(results).encode() if lead else None)
        text = shared.decode()
        self.written = parse_results(text, cfg, results)  # every row in results.csv, growing
        plan.check_written(self.written, results)
        done = plan.ids(self.written)
        if not plan.rows:
            raise ConfigError(f"{exp.name}: no grid point applies (every row was excluded).")
        self.todo = [r for r in plan.rows if plan.id(r) not in done]
        self.n_done = len(plan.rows) - len(self.todo)
        header = text.split("\n", 1)[0].split(",") if text else plan.columns
        # the file is rewritten with the plan's columns where an older folder lacks a grid key,
        # or where a finished folder (derive's columns) grows, e.g. more seeds: derive's
        # columns come back at the end
        if lead and (missing_columns(text, plan.columns) or (self.todo and header != plan.columns)):
            rewrite(results, plan.columns, self.written)
        self.writer = ResultsWriter(results, plan.columns) if lead else None
        self.hist_writer = None
        if exp.history and lead:
            hist_columns = [*plan.grid_keys, "seed", "step", *exp.history]
            path = out / "history.csv"
            prune_history(path, hist_columns, lambda r: plan.id(r) in done, cfg)
            self.hist_writer = ResultsWriter(path, hist_columns)

    def where(self) -> str:
        """The progress bar's label: devices, and processes and hosts when several."""
        n_dev = jax.device_count()
        if self.cluster.multi:
            hosts = len({p["host"] for p in self.processes})
            return f"{self.cluster.count} processes on {hosts} hosts, {n_dev} devices"
        return f"{n_dev} devices" if n_dev > 1 else ""

    def budget_left(self) -> bool:
        if self.cluster.any(self.stop is not None and self.stop()):  # a stop anywhere stops all
            return False
        return self.max_chunks is None or self.chunks_run < self.max_chunks

    def write(self, rows: list[Row]) -> None:
        if self.writer is not None:
            self.writer.append(rows)
        self.written.extend(rows)
        self.advance(len(rows))

    def meta_of(self, values: tuple[Any, ...], n_rows: int) -> dict[str, Any]:
        """The metadata entry of a static group (created on first use)."""
        if values not in self.metas:
            static = self.plan.static_dict(values)
            self.metas[values] = {**static, "rows": n_rows, "chunk_seconds": []}
            self.groups_meta.append(self.metas[values])
        return self.metas[values]

    def prune(self, pending: list[Row], rows: list[Row]) -> list[Row]:
        """Write ``rows``, the pending rows the schedule gives up on (status ``pruned``, NaN
        metrics); the rest of ``pending``."""
        exp, plan = self.exp, self.plan
        skip = plan.ids(rows)
        nan = dict.fromkeys(exp.metrics, math.nan)
        pruned = [{**r, "status": "pruned", **nan} for r in pending if plan.id(r) in skip]
        if pruned:
            self.write(pruned)
            for r in pruned:
                m = self.meta_of(plan.group_of(r), 0)
                m["pruned"] = m.get("pruned", 0) + 1
        return [r for r in pending if plan.id(r) not in skip]

    def run_group(self, static: dict[str, Any], rows: list[Row], meta: dict[str, Any]) -> None:
        """One round of a static group: compile, then every chunk, written as it finishes."""
        exp = self.exp
        group = GroupProgram(self.plan, static, rows)
        need = group.shape
        group.pad_to(self.shapes.choose(self.plan.group_of(rows[0]), group))
        batched = group.program()
        meta.update(chunk_size=group.size, rows_per_unit=group.m)
        if group.shape != need:
            meta["padded"] = meta.get("padded", 0) + 1
        status = {"status": "done"} if exp.schedule is not None else {}
        compiled = None
        for part, index, args in group.chunks():
            if not self.budget_left():
                break
            args = self.cluster.to_global(args, self.sharding)
            if compiled is None:
                t0 = time.perf_counter()
                compiled, source = self.programs.get(
                    static, args, lambda a=args: batched.lower(*a).compile()
                )
                seconds = time.perf_counter() - t0
                meta["compile_seconds"] = meta.get("compile_seconds", 0.0) + seconds
                meta.setdefault("programs", []).append(source)
                if source != "memory":
                    self.shapes.record_compile(self.programs.seconds)
            t0 = time.perf_counter()
            try:
                metrics = self.cluster.run(compiled, args)
            except Exception:
                if meta["programs"][-1] != "disk":
                    raise
                self.programs.discard(static, args)  # a stored program that does not run
                compiled, _ = self.programs.get(
                    static, args, lambda a=args: batched.lower(*a).compile()
                )
                meta["programs"][-1] = "compiled"
                metrics = self.cluster.run(compiled, args)
            meta["chunk_seconds"].append(time.perf_counter() - t0)
            self.shapes.record_run(meta["chunk_seconds"][-1], group.work)
            missing = set(exp.metrics) - set(metrics)
            if missing:
                raise RuntimeError(f"{exp.name} returned no {sorted(missing)}")
            outs = group.per_row(index, metrics)
            if self.hist_writer is not None:
                self.hist_writer.append(history_rows(exp, part, outs))
            self.write(
                [
                    {**r, **status, **{m: float(o[m]) for m in exp.metrics}}
                    for r, o in zip(part, outs, strict=True)
                ]
            )
            self.chunks_run += 1

    def metadata(self, complete: bool) -> dict[str, Any]:
        return write_metadata(
            self.out,
            self.started,
            self.t_start,
            self.groups_meta,
            len(self.plan.rows),
            len(self.todo),
            complete,
            self.processes,
            self.lead,
            {k: getattr(self.cfg, k) for k in sorted(type(self.cfg).SEARCH_KEYS)},
        )

    def finish(self) -> SweepResult:
        """Once every row is done: the files in grid order (rounds and resumes write rows as
        they finish), ``derive``'s columns, ``summary.json`` and the plots."""
        plan, exp, cfg, out = self.plan, self.exp, self.cfg, self.out
        report = exp.report
        results = out / "results.csv"
        rows_all = read_results(results, cfg) if self.lead else self.written
        complete = len(rows_all) == len(plan.rows)
        summary: dict[str, Any] = {}
        plots: list[Path] = []
        if complete and not self.lead:
            rows_all = plan.in_grid_order(rows_all)
        elif complete:
            ordered = plan.in_grid_order(rows_all)
            if report.derive is not None:
                extra, ordered = report.derive(self.ctx, ordered)
                rewrite(results, [*plan.columns, *extra], ordered)
            elif ordered != rows_all:
                rewrite(results, plan.columns, ordered)
            rows_all = ordered
            if exp.history:
                hist = read_history(out, cfg)
                hist_sorted = sorted(hist, key=lambda h: (plan.position(h), h["step"]))
                if hist_sorted != hist:
                    columns = [*plan.grid_keys, "seed", "step", *exp.history]
                    rewrite(out / "history.csv", columns, hist_sorted)
            if report.summarize is not None:
                summary = strict_json(report.summarize(self.ctx, rows_all))
                text = json.dumps(summary, indent=2, allow_nan=False)
                write_atomic(out / "summary.json", text + "\n")
            if report.plot is not None:
                plots = report.plot(self.ctx, rows_all, summary)
        return SweepResult(out, rows_all, summary, self.metadata(complete), plots)
