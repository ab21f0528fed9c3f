"""The ``hopjax`` command line: ``hopjax run``, ``hopjax list`` and ``hopjax demo``.

``hopjax run CONFIG.toml [--set KEY=VALUE]... [--out DIR]`` runs (or resumes) a sweep. The
config's ``experiment`` names the experiment: ``experiments/NAME.py`` beside the config's
``configs/`` folder, a dotted module path, or a ``file.py`` (see :mod:`hopjax.sweep.discover`).

A config error (unknown key, wrong type, impossible value, an unknown experiment, a different
config in an existing output folder) prints a message naming the key and exits with status 2
before anything is written; a folder that cannot be written prints one line naming the path and
exits with status 1. ``--debug`` adds the traceback to either.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hopjax.sweep.config import ConfigError, load_toml

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="hopjax: run (or resume) a sweep from a TOML config, list the experiments, demo.\n\n"
    "Example: hopjax run configs/quickstart.toml --set 'N=[100, 200]' --out runs/mine",
)


def _version(value: bool) -> None:
    if value:
        from hopjax import __version__

        typer.echo(f"hopjax {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Differentiable Hopfield-type associative memories: sweeps, demos."""


err = Console(stderr=True)

config_app = typer.Typer(
    no_args_is_help=True, help="The shipped configs: copy them (with their experiments)."
)
app.add_typer(config_app, name="config")


def installed_configs() -> Path | None:
    """The folder holding the shipped ``configs/`` and ``experiments/`` (``pip install`` puts
    them under ``<prefix>/share/hopjax``; an editable install has them in its checkout), or
    ``None`` (:func:`hopjax.sweep.discover.shipped_folder`)."""
    from hopjax.sweep.discover import shipped_folder

    return shipped_folder()


@config_app.command("copy")
def config_copy(
    dest: Annotated[
        Path, typer.Argument(help="Folder to create (configs/ and experiments/ go inside).")
    ] = Path("hopjax-configs"),
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
) -> None:
    """Copy the shipped configs and the experiments they run into DEST, to run or edit.

    Example: hopjax config copy mine && hopjax run mine/configs/quickstart.toml
    """
    import shutil

    checkout = Path(".") if Path("configs").is_dir() and Path("experiments").is_dir() else None
    src = installed_configs() or checkout
    if src is None:
        err.print(
            "no installed configs found (expected <prefix>/share/hopjax from pip install); "
            "in a source checkout they are configs/ and experiments/."
        )
        raise typer.Exit(1)
    files = [
        *sorted((src / "configs").glob("*.toml")),
        *sorted((src / "experiments").glob("*.py")),
    ]

    def fail(message: str) -> None:
        err.print(message, highlight=False, soft_wrap=True)
        raise typer.Exit(1)

    if dest.exists() and not dest.is_dir():
        fail(f"{dest} is a file; give a folder to copy the configs into.")
    if dest.resolve() == src.resolve():
        fail(f"{dest} is where the shipped configs are; give another folder.")
    targets = [dest / f.parent.name / f.name for f in files]
    clash = [t for t in targets if t.exists()]
    if clash and not force:
        fail(f"{clash[0]} exists ({len(clash)} files would be replaced); pass --force.")
    try:
        for f, t in zip(files, targets, strict=True):
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, t)
    except OSError as e:
        fail(f"cannot copy into {dest}: {e.strerror or e} ({e.filename or dest}).")
    n_cfg = sum(f.suffix == ".toml" for f in files)
    Console().print(
        f"{n_cfg} configs and {len(files) - n_cfg} experiment files copied into {dest}/; "
        f"run one with: hopjax run {dest / 'configs' / 'quickstart.toml'}",
        highlight=False,
        soft_wrap=True,
    )


class _StopOnSignal:
    """SIGINT/SIGTERM during a run: note the signal, let the sweep stop at its next safe point
    (before the next chunk; the rows finished are written) and exit ``128 + signum``. Nothing is
    raised inside JAX — an interrupt raised during XLA compilation used to be swallowed or to
    crash the process. Python sees a signal only between XLA calls, so a chunk in flight runs
    to its end; a second signal more than a second after the first ends the process at once
    (the folder still resumes: rows are appended whole); SIGINT and SIGTERM sent together count
    as one request."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.first = 0.0
        self.previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.signum is not None

    def _handle(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if self.signum is not None:
            if now - self.first < 1.0:  # SIGINT and SIGTERM sent together: one request
                return
            _die(signum, frame)  # a second request: stop at once
        self.signum, self.first = signum, now
        err.print(
            f"{signal.Signals(signum).name}: stopping after the chunk in flight "
            "(again to stop at once)",
            highlight=False,
        )

    def __enter__(self) -> _StopOnSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        # Python handlers only: a signal that arrived but is not yet handled would otherwise
        # meet SIG_DFL and raise "Signal N ignored due to race condition".
        for sig, old in self.previous.items():
            if old == signal.SIG_IGN:
                signal.signal(sig, _ignore)
            elif callable(old):
                signal.signal(sig, old)
            else:
                signal.signal(sig, _die)


def _ignore(signum: int, frame: object) -> None:
    return None


def _die(signum: int, frame: object) -> None:
    """The OS default for ``signum`` (terminate), from a Python handler."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="TOML config file (configs/*.toml).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override KEY=VALUE (VALUE parsed as TOML; dotted keys)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/<experiment>/<time>).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Compiled-program cache (default $HOPJAX_CACHE_DIR or ~/.cache/hopjax/xla).",
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Compile everything afresh (no disk cache).")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="On an error, print the full traceback after the message."),
    ] = False,
    coordinator: Annotated[
        str | None,
        typer.Option(
            envvar="HOPJAX_COORDINATOR",
            help="Multi-process run: process 0's HOST:PORT (with --num-processes, --process-id).",
            rich_help_panel="Several processes (jax.distributed)",
        ),
    ] = None,
    num_processes: Annotated[
        int | None,
        typer.Option(
            envvar="HOPJAX_NUM_PROCESSES",
            help="Multi-process run: how many processes.",
            rich_help_panel="Several processes (jax.distributed)",
        ),
    ] = None,
    process_id: Annotated[
        int | None,
        typer.Option(
            envvar="HOPJAX_PROCESS_ID",
            help="Multi-process run: this process's index (0 writes the folder).",
            rich_help_panel="Several processes (jax.distributed)",
        ),
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            envvar="HOPJAX_DISTRIBUTED",
            help="Start jax.distributed and let it detect the cluster (SLURM, Open MPI, Cloud "
            "TPU). Automatic under srun/mpirun with more than one task.",
            rich_help_panel="Several processes (jax.distributed)",
        ),
    ] = False,
    heartbeat_timeout: Annotated[
        int,
        typer.Option(
            envvar="HOPJAX_HEARTBEAT_TIMEOUT",
            help="Seconds after which the others give up on a silent process.",
            rich_help_panel="Several processes (jax.distributed)",
        ),
    ] = 100,
    startup_timeout: Annotated[
        float,
        typer.Option(
            envvar="HOPJAX_STARTUP_TIMEOUT",
            help="Seconds the processes of a run wait for each other at start-up; missing "
            "ones end the run (exit 1) naming their ids.",
            rich_help_panel="Several processes (jax.distributed)",
        ),
    ] = 60.0,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check the config and print the plan (rows, groups, chunks, memory; rows "
            "done and an estimate when --out holds an earlier run); run nothing.",
        ),
    ] = False,
) -> None:
    """Run (or resume, into the same --out) the sweep a config describes.

    Example: hopjax run configs/quickstart.toml --set 'N=[100, 200]' --set seeds=4 --out runs/a
    """
    from hopjax.sweep import RunError, enable_compilation_cache, load_config, run_sweep
    from hopjax.sweep.cluster import StartupError, cluster_env_present, init_distributed

    explicit = (coordinator, num_processes, process_id)
    multi = distributed or any(v is not None for v in explicit) or cluster_env_present()
    # The config is checked (and --dry-run answered) before any process waits for another.
    try:
        exp, cfg = load_config(config, set_ or [])
        if dry_run:
            Console().print(plan_table(exp, cfg, out))
            return
    except (ConfigError, RunError) as e:
        _fail(e, debug)
    if multi:  # before anything else touches JAX's backends
        try:
            init_distributed(
                *explicit,
                heartbeat_timeout=heartbeat_timeout,
                startup_timeout=startup_timeout,
                fingerprint=run_fingerprint(exp, cfg, out),
            )
        except (ValueError, RuntimeError) as e:
            err.print(
                f"[red]cannot start the multi-process run:[/red] {escape(str(e))}",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(e.code if isinstance(e, StartupError) else 2) from None
    import jax

    lead = jax.process_index() == 0
    if not no_cache:
        enable_compilation_cache(cache_dir)
    try:
        if out is None:
            # the process id keeps two runs started in the same second apart
            stamp = f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
            out = Path("runs") / exp.name / stamp
        with _StopOnSignal() as stop:
            result = run_sweep(cfg, out, exp=exp, progress=not quiet, stop=stop)
    except (ConfigError, RunError) as e:
        _fail(e, debug)
    meta = result.metadata
    total = meta["runs"][-1]["rows_total"]
    if stop.signum is not None or len(result.rows) < total:
        # stopped here, or on another process (each process ends with a non-zero status)
        why = signal.Signals(stop.signum).name if stop.signum is not None else "stopped"
        if stop.signum is None and not lead:
            why = "stopped (a signal to another process of the run)"
        err.print(
            f"{why}: {len(result.rows)}/{total} rows are in {out}. Rerun the same command to "
            "resume.",
            highlight=False,
            soft_wrap=True,
        )
        _exit(128 + stop.signum if stop.signum is not None else 1)
    if not lead:  # process 0 reports (a normal exit: jax.distributed's shutdown barrier)
        raise typer.Exit(0)
    console = Console()
    last = meta["runs"][-1]  # this invocation (the top-level timings total every invocation)
    console.print(
        f"{len(result.rows)}/{last['rows_total']} rows in {out} "
        f"(wall {last['wall_seconds']:.1f} s: compile {last['compile_seconds']:.1f} s, "
        f"run {last['run_seconds']:.1f} s)",
        highlight=False,
    )
    if result.summary:
        console.print(headline_table(result.summary, out / "summary.json", exp.report.headline))
    for p in result.plots:
        console.print(f"plot: {p}", highlight=False)


def _exit(code: int) -> None:
    """End with ``code``; in a multi-process run without jax.distributed's shutdown barrier
    (peers may be gone, and a barrier would wait for them)."""
    from jax._src import distributed

    if getattr(distributed.global_state, "client", None) is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


def _fail(e: Exception, debug: bool) -> None:
    """One line for a config error (exit 2) or a run error (exit 1); ``--debug`` adds where."""
    config_error = isinstance(e, ConfigError)
    label = "config error" if config_error else "error"
    err.print(f"[red]{label}:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
    if debug:  # where the check fired (and, for an OSError, the original cause)
        err.print_exception(show_locals=False)
    _exit(2 if config_error else 1)


def run_fingerprint(exp: Any, cfg: Any, out: Path | None) -> dict[str, str]:
    """What every process of one multi-process run must agree on: each resolved config key,
    the experiment's name and source code, ``--out`` as given, and the hopjax and JAX
    versions (values as JSON text, so the comparison names the keys that differ)."""
    import hashlib

    from hopjax import __version__
    from hopjax.sweep.config import config_to_dict
    from hopjax.sweep.programs import experiment_files

    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
        got: dict[str, str] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                got.update(flat(v, f"{prefix}{k}."))
            else:
                got[prefix + k] = json.dumps(v, sort_keys=True, default=str)
        return got

    files = experiment_files(exp)
    code = hashlib.sha256()
    for f in files:
        try:
            code.update(f.read_bytes())
        except OSError:
            code.update(str(f).encode())
    import jax

    return {
        **flat(config_to_dict(cfg)),
        "(experiment)": exp.name,
        "(experiment code)": code.hexdigest()[:16],
        "(--out)": str(out) if out is not None else "",
        "(hopjax version)": __version__,
        "(jax version)": jax.__version__,
    }


def plan_table(exp: Any, cfg: Any, out: Path | None) -> Table:
    """What ``hopjax run`` would do: per static group, its rows, chunk size and memory per
    chunk; rows already in ``out`` and, from its ``metadata.json``, seconds per row so far."""
    from hopjax.sweep import Plan, read_results
    from hopjax.sweep.folder import check_out_dir, read_runs
    from hopjax.sweep.program import GroupProgram

    plan = Plan(exp, cfg)
    plan.check_sizes()
    done: set = set()
    per_row = None
    if out is not None and out.is_dir():
        check_out_dir(out, cfg)  # what `run` would refuse, --dry-run refuses too
    if out is not None and (out / "results.csv").exists():
        written = read_results(out / "results.csv", cfg, repair=False)
        plan.check_written(written, out / "results.csv")
        done = plan.ids(written)
        secs = sum(r.get("run_seconds", 0.0) for r in read_runs(out))
        per_row = secs / len(done) if done and secs else None
    rows = plan.rows
    title = f"{exp.name}: {len(rows):,} rows, {len(done):,} done"
    if exp.schedule is not None:
        title += " (scheduled: rows not yet run may be pruned, not run)"
    table = Table(title=title, title_justify="left")
    for col in ("group", "rows", "to run", "rows per chunk", "MB per chunk"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for values, members in plan.groups().items():
        static = plan.static_dict(values)
        group = GroupProgram(plan, static, members)  # the engine's own chunking
        size = group.size * group.m  # rows per chunk (streams × rows per stream)
        todo = sum(plan.id(r) not in done for r in members)
        label = ", ".join(f"{k}={v}" for k, v in static.items()) or "all"
        mb = group.chunk_bytes / 2**20
        table.add_row(label, f"{len(members):,}", f"{todo:,}", f"{size:,}", f"{mb:,.0f}")
    earlier = f"earlier runs here: {per_row:.3g} s per row on average" if per_row else ""
    if done and len(done) == len(rows):
        table.caption = (
            f"{earlier + '; ' if earlier else ''}every row is done: `hopjax run` would only "
            "redraw the summary and plots"
        )
    elif per_row is not None:
        left = (len(rows) - len(done)) * per_row
        table.caption = (
            f"{earlier} → ≈ {left / 60:.0f} min left (a rough guide: rows of different groups "
            "differ widely in cost)"
        )
    return table


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e15):
        return f"{int(v)}"
    return f"{v:.4g}"


def _flatten(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    """Dotted keys → short values; lists of numbers shown in full up to 6 entries."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        if value and all(isinstance(v, int | float) or v is None for v in value):
            shown = ", ".join(_fmt(v) for v in value[:6])
            out.append((prefix, f"[{shown}{', …' if len(value) > 6 else ''}] ({len(value)})"))
        else:
            out.append((prefix, f"{len(value)} entries"))
    else:
        out.append((prefix, _fmt(value)))


def headline_table(
    summary: dict[str, Any], path: Path, headline: tuple[str, ...] = (), max_rows: int = 24
) -> Table:
    """The end-of-run table: ``summary.json`` flattened to dotted keys, numbers rounded to 4
    significant digits, long lists shortened — only the experiment's ``headline`` keys (and
    what lies under them) when it names some; the rest is in ``path``."""
    rows: list[tuple[str, str]] = []
    _flatten(summary, "", rows)
    total = len(rows)
    if headline:
        rows = [(k, v) for k, v in rows if any(k == h or k.startswith(h + ".") for h in headline)]
    shown = rows[:max_rows]
    table = Table(title="summary", title_justify="left", show_header=False, box=None)
    table.add_column("key", style="bold")
    table.add_column("value")
    for k, v in shown:
        table.add_row(k, v)
    if total > len(shown):
        table.add_row("…", f"{total - len(shown)} more in {path}")
    return table


@app.command()
def show(
    target: Annotated[
        str, typer.Argument(help="A config file (configs/NAME.toml) or an experiment name.")
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override KEY=VALUE before showing (as in run)."),
    ] = None,
) -> None:
    """An experiment's keys: type, value (the config's, or the default), grid axes and size.

    Example: hopjax show configs/gsemm_capacity.toml; hopjax show hopfield_phase
    """
    import dataclasses
    import math
    import typing

    from hopjax.sweep import load_config, load_experiment_config
    from hopjax.sweep.config import bounds_text, describe_type, grid_keys

    try:
        if target.endswith(".toml") or Path(target).is_file():
            exp, cfg = load_config(Path(target), set_ or [])
        else:
            raw = {"experiment": target, **_sets(set_)}
            exp, cfg = load_experiment_config(raw, base=Path("configs"))
    except ConfigError as e:
        err.print(f"[red]config error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    hints = typing.get_type_hints(type(cfg))
    grid = grid_keys(type(cfg))
    table = Table(title=f"{exp.name}: {exp.description}", title_justify="left")
    for col in ("key", "type", "value", "role"):
        table.add_column(col, overflow="fold")
    for f in dataclasses.fields(cfg):
        if f.name == "experiment":
            continue
        value = getattr(cfg, f.name)
        role = "grid" if f.name in grid else ""
        if f.name in grid and f.name in exp.static:
            role = "grid (static: one compiled group per value)"
        kind = describe_type(hints[f.name])
        if "bounds" in f.metadata:  # declared with hopjax.sweep.param
            kind += f", must {bounds_text(*f.metadata['bounds'])}"
        table.add_row(f.name, kind, escape(repr(value)), role)
    n_rows = cfg.seeds * math.prod(len(getattr(cfg, k)) for k in grid)
    table.caption = (
        f"grid: {' × '.join(f'{len(getattr(cfg, k))} {k}' for k in grid) or 'none'} × "
        f"{cfg.seeds} seeds = {n_rows:,} rows (before the experiment's own exclusions)"
    )
    console = Console()
    console.print(table)
    measured = measured_runs(cfg)
    for folder, meta in measured[:3]:
        dev = ", ".join(sorted({str(d) for d in meta.get("devices", [])})) or "?"
        done = "complete" if meta.get("complete") else "partial"
        runs = meta.get("runs", [])
        total = sum(r.get("wall_seconds", 0.0) for r in runs) or meta.get("wall_seconds", 0.0)
        console.print(
            f"measured here: {folder} ({done}): wall {total:.1f} s over {max(len(runs), 1)} "
            f"invocation(s), the last {meta.get('wall_seconds', 0):.1f} s (compile "
            f"{meta.get('compile_seconds', 0):.1f} s) on {dev}",
            highlight=False,
            soft_wrap=True,
        )
    if not measured:
        console.print(
            "not run here yet (searched runs/ and results/); `hopjax run CONFIG --dry-run` "
            "plans it, and the docs' config table lists measured CPU times.",
            highlight=False,
            soft_wrap=True,
        )


def measured_runs(cfg: Any, roots: tuple[Path, ...] = (Path("runs"), Path("results"))) -> list:
    """Run folders under ``roots`` holding this exact config (execution keys aside, as the
    engine compares them when resuming), newest first, with their parsed ``metadata.json``:
    what this config cost on this machine."""
    from hopjax.sweep.folder import config_changes

    found = []
    for root in roots:
        for meta_path in root.glob("**/metadata.json") if root.is_dir() else []:
            try:
                raw = load_toml(meta_path.parent / "config.toml")
                meta = json.loads(meta_path.read_text())
            except (OSError, ConfigError, ValueError):
                continue
            if not config_changes(raw, cfg):
                found.append((meta_path.stat().st_mtime, meta_path.parent, meta))
    return [(folder, meta) for _, folder, meta in sorted(found, key=lambda t: -t[0])]


def _sets(items: list[str] | None) -> dict[str, Any]:
    from hopjax.sweep.config import apply_overrides

    return apply_overrides({}, items or [])


@app.command("list")
def list_(
    configs: Annotated[Path, typer.Option(help="Folder of configs to index.")] = Path("configs"),
    experiments: Annotated[
        Path | None,
        typer.Option(help="Folder of experiments (default: experiments/ beside --configs)."),
    ] = None,
) -> None:
    """Name the experiments and the configs that run them (outside a checkout: the installed
    ones; ``hopjax config copy`` copies them into a folder of your own)."""
    from hopjax.sweep import Experiment, list_experiments

    if not configs.is_dir() and configs == Path("configs") and experiments is None:
        installed = installed_configs()
        if installed is not None:
            configs = installed / "configs"
    folder = experiments if experiments is not None else configs.resolve().parent / "experiments"
    by_exp: dict[str, list[str]] = {}
    for path in sorted(configs.glob("*.toml")) if configs.is_dir() else []:
        try:
            name = load_toml(path).get("experiment", "?")
        except ConfigError:
            name = "?"
        by_exp.setdefault(str(name), []).append(path.name)
    table = Table(title=f"hopjax experiments ({folder})")
    # names are never cut (the description wraps instead), so the table fits 80 columns
    table.add_column("experiment", no_wrap=True)
    table.add_column("description", ratio=1, overflow="fold")
    table.add_column("configs", no_wrap=True)
    found = list_experiments(folder) if folder.is_dir() else []
    for name, exp in found:
        desc = exp.description if isinstance(exp, Experiment) else f"[red]cannot load: {exp}"
        table.add_row(name, desc, "\n".join(by_exp.get(name, [])) or "-")
    if not found:
        err.print(
            f"no experiments found in {folder}: run from a checkout, pass --configs DIR / "
            "--experiments DIR, or copy the shipped ones with `hopjax config copy DIR`.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    Console().print(table)


@app.command()
def demo(
    n: Annotated[int, typer.Option(help="Number of units N.")] = 500,
    alphas: Annotated[
        list[float] | None, typer.Option("--alpha", help="Loads P/N (repeat the option).")
    ] = None,
    flip: Annotated[float, typer.Option(help="Fraction of cue bits flipped.")] = 0.1,
    mode: Annotated[str, typer.Option(help="'sync' or 'async' updates.")] = "async",
    seed: Annotated[int, typer.Option(help="PRNG seed.")] = 0,
) -> None:
    """Retrieval by storage rule and load: a table, without the sweep machinery."""
    from hopjax.demo import retrieval_rows

    if mode not in ("sync", "async"):
        err.print(f"[red]--mode must be 'sync' or 'async'; got {mode!r}.")
        raise typer.Exit(2)
    alphas = alphas or [0.05, 0.1, 0.138, 0.2, 0.3]
    console = Console()
    table = Table(title=f"Retrieval from cues with {flip:.0%} flipped bits, N = {n}, {mode}")
    for col in ("rule", "α = P/N", "P", "mean overlap", "retrieved", "mean steps", "time [s]"):
        table.add_column(col, justify="left" if col == "rule" else "right", no_wrap=True)
    last = None
    for r in retrieval_rows(n=n, alphas=alphas, flip_fraction=flip, mode=mode, seed=seed):
        if last is not None and r["rule"] != last:
            table.add_section()
        last = r["rule"]
        table.add_row(
            str(r["rule"]),
            f"{r['alpha']:.3f}",
            str(r["P"]),
            f"{r['overlap']:.3f}",
            f"{r['retrieved']:.2f}",
            f"{r['steps']:.1f}",
            f"{r['seconds']:.1f}",
        )
    console.print(table)
    console.print(
        "Hebbian capacity ≈ 0.138 N (Amit, Gutfreund & Sompolinsky 1985); Storkey and "
        "pseudo-inverse store more."
    )


def main() -> None:  # pragma: no cover
    """Console-script entry point."""
    app(prog_name="hopjax")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
