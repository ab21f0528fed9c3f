"""Run every config on a reduced grid with two versions of hopjax and compare the run folders.

Used to show that a refactoring changes no result: the *base* revision is checked out in a
temporary git worktree, every config of ``configs/`` is run there and in this checkout with the
same reduced ``--set`` overrides (chunk sizes left at their defaults, as a user runs them), and
the outputs are compared:

* ``results.csv`` and ``history.csv``: byte for byte; where they differ, the differing rows and
  columns are listed (continuous dynamics whose summation order changed may differ in the last
  bits of float metrics: the tool then says whether integer-valued metrics and verdicts agree);
* ``summary.json``: as parsed JSON, exactly.

Usage (from the repository root; about 15 min on 2 CPU cores for both sides)::

    python tools/compare_runs.py --base 687a046
    python tools/compare_runs.py --base 687a046 --only quickstart gsemm_capacity
    python tools/compare_runs.py --base-runs /tmp/base-runs   # reuse an earlier base run

Exit status 0 when every compared file is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Reduced grids: every shipped config, small enough for seconds per run.
REDUCED: dict[str, list[str]] = {
    "attractor_labels": ["N=[100]", "alpha=[0.05, 0.2, 0.5]", "seeds=2", "cues=8"],
    "basins": ["N=[100]", "alpha=[0.05, 0.3]", "flip=[0.1, 0.3]", "seeds=2", "cues=8"],
    "quickstart": ["N=[64, 100]", "alpha=[0.1, 0.2, 0.3]", "seeds=2", "cues=10"],
    "hopfield_capacity": [
        "N=[32, 48]",
        "alpha=[0.1, 0.3]",
        "seeds=2",
        "cues=8",
        "max_steps=20",
        "bootstrap=10",
    ],
    "cycles_census": [
        'network=["rings:3:2,3", "rings:1:2,3,5", "asymmetric:10", "symmetric:10", '
        '"sequence_hebbian:10:3"]',
        "seeds=2",
    ],
    "cycles_robustness": [
        "m=[1, 5]",
        "eps=[0.0, 0.2, 0.4]",
        "rho=[1.0, 0.8]",
        "beta=[0.0, 0.3]",
        "trials=32",
    ],
    "cycles_scaling": [
        "n=[100, 300, 1000]",
        "seeds=1",
        "baseline_max_n=100",
        "trials=2",
        "recall_steps=20",
    ],
    "dam_capacity": [
        'model=["poly2", "poly3", "exp"]',
        "N=[16, 24, 32]",
        "seeds=1",
        "cues=8",
        "poly_min_n=16",
        "exp_max_n=16",
    ],
    "gsemm_capacity": [
        "degree=[1, 3]",
        "alpha_c=[0.1, 0.2]",
        "K=[4, 6]",
        "seeds=2",
        "t_min=60.0",
        "t_per_memory=20.0",
    ],
    **{
        name: [
            "degree=[2]",
            "alpha_c=[0.1, 0.3]",
            "K=[4, 6]",
            "seeds=1",
            "t_min=60.0",
            "t_per_memory=20.0",
        ]
        for name in (
            "gsemm_capacity_degree2",
            "gsemm_variant_beta_d1",
            "gsemm_variant_plain_power",
            "gsemm_variant_short_horizon",
        )
    },
    "gsemm_capacity_degree3": [
        "degree=[3]",
        "alpha_c=[0.1, 1.0]",
        "K=[4, 6]",
        "seeds=1",
        "t_min=60.0",
        "t_per_memory=20.0",
    ],
    "gsemm_variant_fixed_alpha_c": ["degree=[2]", "K=[4, 6]", "seeds=1", "t_min=60.0"],
    "gsemm_scaling": [
        "degree=[1, 2]",
        "N_f=[16, 24]",
        "N_f_max=[24, 16]",
        "alpha_c=[0.2, 0.5]",
        "K=[2, 3, 4, 6]",
        "seeds=2",
    ],
    "sequence_capacity": ['model=["poly1", "poly2"]', "N=[16, 24]", "K=[2, 4, 8]", "seeds=2"],
    "gsemm_episodes": ['form=["paper", "reference"]', "beta_d=[1.0, 7.0]", "t1=80.0"],
    "hebbian_rules": ["eta=[0.003, 0.01]", "seeds=2", "T=500"],
    "idp_reasoning": ["gamma=[3.0, 8.0]", "tau_alpha=[50.0]", "duration=10.0", "n_save=500"],
    "idp_threshold": [
        "gamma=[3.8, 4.2]",
        "tau_alpha=[50.0]",
        "duration=10.0",
        "n_save=500",
        "seeds=1",
    ],
    "idp_retrieval": ["P=[8]", "gain=[0.8, 3.0]", "flip=[0.0, 0.2]", "seeds=2", "t1=20.0"],
    "kleinfeld": ["gamma=[0.2, 5.0]", "t1=200.0", "n_save=400", "seeds=1"],
    "tune_idp_period": ["target_period=[660.0]", "tau_alpha=100.0", "steps=2", "saves=400"],
    "tune_gsemm": ["K=[4]", "seeds=1", "steps=2", "samples=2", "t_per_memory=30.0"],
    "dam_generalisation": ["model=['poly2', 'exp']", "M=[1, 8]", "seeds=1"],
    "digits_pooling": ["seeds=1", "steps=20"],
    "digits_pooling_normalizers": ["seeds=1", "steps=20"],
    "digits_mil": ["seeds=1", "steps=20", "test_bags=40"],
    "sparse_retrieval": ["P=[4, 16]", "beta=[1.0, 16.0]", "P_plot=16", "seeds=1", "cues=4"],
    "gsemm_capacity_softmax": ["alpha_c=[0.5, 4.9]", "K=[4, 8]", "seeds=1"],
    "gsemm_softmax": ["t1=40.0"],
    "hebbian_capacity": ["N=[40]", "alpha=[0.05, 0.3]", "seeds=1", "cues=4", "recent=2"],
    "hebbian_palimpsest": ["N=[50]", "decay=[0.01, 0.04]", "seeds=1", "cues=4"],
    "hebbian_slices": [
        "N=[60]",
        "alpha=[0.1, 0.2]",
        "c0=[0.0, 0.1]",
        "c2_post_w=[0.0, -0.03]",
        "seeds=1",
        "cues=8",
    ],
    "hopfield_capacity_large": [
        "N=[64, 96]",
        "alpha=[0.13, 0.16]",
        "seeds=1",
        "cues=8",
        "bootstrap=10",
    ],
    "hopfield_capacity_criterion": [
        "N=[64, 96]",
        "alpha=[0.13, 0.16]",
        "flip=[0.0, 0.1]",
        "seeds=1",
        "cues=8",
        "bootstrap=10",
    ],
    "hopfield_phase": [
        "N=[100]",
        "T=[0.3]",
        "alpha=[0.05, 0.2]",
        "sweeps=6",
        "measure=3",
        "starts=2",
        "seeds=1",
    ],
    "sequence_memory": ["batch=2"],
    "uhn_images": [
        'similarity=["dot", "manhattan"]',
        'separation=["softmax", "max"]',
        'corruption=["mask"]',
        "P=[100]",
        "level=[0.25]",
        "seeds=2",
        "cues=16",
    ],
}


def run_side(src: Path, name: str, out: Path, python: str) -> tuple[str, float, str]:
    """Run config ``name`` of the checkout ``src`` (its own code) into ``out``."""
    config = src / "configs" / f"{name}.toml"
    if not config.exists():
        return name, 0.0, f"no {config}"
    cmd = [python, "-m", "hopjax.cli", "run", str(config), "--out", str(out), "-q"]
    for s in REDUCED.get(name, []):
        cmd += ["--set", s]
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg"}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True)
    status = "ok" if res.returncode == 0 else f"exit {res.returncode}: {res.stderr[-2000:]}"
    return name, time.perf_counter() - t0, status


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _is_int_valued(v: str) -> bool:
    try:
        x = float(v)
    except ValueError:
        return True  # strings (grid values) count as exact
    return math.isnan(x) or x == int(x)


def compare_csv(a: Path, b: Path) -> list[str]:
    """Differences between two CSV files (empty when byte-identical)."""
    if a.read_bytes() == b.read_bytes():
        return []
    ra, rb = _rows(a), _rows(b)
    if len(ra) != len(rb) or (ra and list(ra[0]) != list(rb[0])):
        return [f"{a.name}: {len(ra)} vs {len(rb)} rows / columns differ"]
    out = []
    for i, (x, y) in enumerate(zip(ra, rb, strict=True)):
        cols = [k for k in x if x[k] != y[k]]
        if cols:
            exact = all(_is_int_valued(x[k]) and _is_int_valued(y[k]) for k in cols)
            kind = "INTEGER/VERDICT" if exact else "float (last bits)"
            diffs = ", ".join(f"{k}: {x[k]} -> {y[k]}" for k in cols[:6])
            out.append(f"{a.name} row {i + 1} [{kind}]: {diffs}")
    return out


def compare(base: Path, new: Path) -> list[str]:
    problems = []
    for fname in ("results.csv", "history.csv"):
        fa, fb = base / fname, new / fname
        if fa.exists() != fb.exists():
            problems.append(f"{fname} exists on one side only")
        elif fa.exists():
            problems += compare_csv(fa, fb)
    sa, sb = base / "summary.json", new / "summary.json"
    if sa.exists() and sb.exists():
        if json.loads(sa.read_text()) != json.loads(sb.read_text()):
            problems.append("summary.json differs")
    elif sa.exists() != sb.exists():
        problems.append("summary.json exists on one side only")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", help="git revision to compare against (checked out in a worktree)")
    ap.add_argument("--base-runs", type=Path, help="reuse the run folders of an earlier base run")
    ap.add_argument("--only", nargs="*", help="config names (default: all with a reduced grid)")
    ap.add_argument("--work", type=Path, help="folder for the runs (default: a temporary one)")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    ap.add_argument("--side", choices=["both", "base", "new"], default="both")
    args = ap.parse_args()
    names = args.only or sorted(REDUCED)
    work = args.work or Path(tempfile.mkdtemp(prefix="hopjax-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    jobs = []
    base_runs = args.base_runs or work / "base-runs"
    if args.side in ("both", "base") and args.base_runs is None:
        if not args.base:
            ap.error("give --base REV or --base-runs DIR")
        tree = work / "base-src"
        if not tree.exists():
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(tree), args.base], cwd=ROOT, check=True
            )
        jobs += [(tree, n, base_runs / n) for n in names]
    if args.side in ("both", "new"):
        jobs += [(ROOT, n, work / "new-runs" / n) for n in names]
    failures = set()
    with ThreadPoolExecutor(args.jobs) as pool:
        for name, secs, status in pool.map(lambda j: run_side(*j, python), jobs):
            print(f"{name:20s} {secs:7.1f} s  {status}", flush=True)
            if status != "ok":
                failures.add(name)
    if args.side != "both":
        print(f"runs in {work}")
        return 1 if failures else 0
    failed = 0
    for n in names:
        problems = compare(base_runs / n, work / "new-runs" / n)
        if n in failures:
            problems.insert(0, "a run failed (see above)")
        print(f"{n:20s} {'identical' if not problems else 'DIFFERS'}")
        for p in problems:
            print(f"    {p}")
        failed += bool(problems)
    print(f"runs in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
