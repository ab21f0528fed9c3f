"""The ``hopjax`` command line: ``hopjax run`` and ``hopjax list``.

``hopjax run CONFIG.toml [--set KEY=VALUE]... [--out DIR]`` runs a sweep.

A config error (unknown key, wrong type, impossible value, a different config in an existing
output folder) prints a message naming the key and exits with status 2 before anything is
written.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hopjax.config import ConfigError, apply_overrides, load_toml

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])
err = Console(stderr=True)


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
) -> None:
    """Run (or resume, into the same --out) the sweep a config describes."""
    from hopjax.sweep import load_experiment_config, run_sweep

    try:
        raw = apply_overrides(load_toml(config), set_ or [])
        exp, cfg = load_experiment_config(raw)
        if out is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = Path("runs") / exp.name / stamp
        result = run_sweep(cfg, out, exp=exp, progress=not quiet)
    except ConfigError as e:
        err.print(f"[red]config error:[/red] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    meta = result.metadata
    console = Console()
    console.print(
        f"{len(result.rows)}/{meta['runs'][-1]['rows_total']} rows in {out} "
        f"(wall {meta['wall_seconds']:.1f} s: compile {meta['compile_seconds']:.1f} s, "
        f"run {meta['run_seconds']:.1f} s)",
        highlight=False,
    )
    if result.summary:
        headline = {k: v for k, v in result.summary.items() if not isinstance(v, list | dict)}
        console.print(json.dumps(headline, indent=1), highlight=False)
    for p in result.plots:
        console.print(f"plot: {p}", highlight=False)


@app.command("list")
def list_(
    configs: Annotated[Path, typer.Option(help="Folder of configs to index.")] = Path("configs"),
) -> None:
    """Name the experiments and the configs that run them."""
    import hopjax.experiments  # noqa: F401  (registers the built-in experiments)
    from hopjax.sweep import EXPERIMENTS

    by_exp: dict[str, list[str]] = {}
    for path in sorted(configs.glob("*.toml")) if configs.is_dir() else []:
        try:
            name = load_toml(path).get("experiment", "?")
        except ConfigError:
            name = "?"
        by_exp.setdefault(name, []).append(str(path))
    table = Table(title="hopjax experiments")
    for col in ("experiment", "description", "configs"):
        table.add_column(col)
    for name, exp in sorted(EXPERIMENTS.items()):
        table.add_row(name, exp.description, "\n".join(by_exp.get(name, [])) or "-")
    Console().print(table)


def main() -> None:  # pragma: no cover
    """Console-script entry point."""
    app(prog_name="hopjax")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
