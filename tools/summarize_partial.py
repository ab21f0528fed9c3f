"""Summary and plots of a run folder that is not finished (stopped at a budget), written
beside its rows so the numbers so far can be read — marked as such.

The experiment's own ``derive`` / ``summarize`` / ``plot`` hooks run on the rows written so far
(``derive``'s columns are not written back: ``results.csv`` stays the engine's, and the run
resumes with ``hopjax run`` into the same folder, whose summary then replaces this one). The
summary gains ``"partial": {"rows_written": …, "rows_total": …}``; hooks that know how (e.g.
``gsemm_scaling``'s ``unfinished`` counts) mark what an unfinished ladder leaves as a lower
bound. Usage::

    python tools/summarize_partial.py results/gsemm_scaling
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hopjax.sweep import RunContext, load_experiment_config, read_results, resolve_experiment
from hopjax.sweep.config import load_toml
from hopjax.sweep.folder import strict_json
from hopjax.sweep.plan import Plan


def summarize_partial(folder: Path) -> dict:
    """Run the reporting hooks of ``folder``'s experiment on its rows so far; write
    ``summary.json`` and the plots; return the summary."""
    raw = load_toml(folder / "config.toml")
    exp = resolve_experiment(raw["experiment"])
    cfg = load_experiment_config(raw)[1]
    plan = Plan(exp, cfg)
    ctx = RunContext(exp, cfg, folder, plan)
    rows = plan.in_grid_order(read_results(folder / "results.csv", cfg, repair=False))
    report = exp.report
    if report.derive is not None:
        _, rows = report.derive(ctx, rows)
    summary = strict_json(report.summarize(ctx, rows)) if report.summarize else {}
    summary["partial"] = {"rows_written": len(rows), "rows_total": len(plan.rows)}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    if report.plot is not None:
        for p in report.plot(ctx, rows, summary):
            print(f"plot: {p}")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    args = ap.parse_args()
    s = summarize_partial(args.folder)
    print(f"summary: {args.folder / 'summary.json'} ({s['partial']})")


if __name__ == "__main__":
    main()
