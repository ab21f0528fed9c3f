"""Fixed costs of small sweeps: compile, run and wall seconds of every shipped config on its
reduced grid (the grids ``tools/compare_runs.py`` checks refactors on), each in fresh processes:

1. **cold** — empty compilation cache: every group traced, lowered and compiled by XLA;
2. **warm, XLA cache only** (the reference: what JAX's persistent compilation cache gives
   alone) — a second run with ``HOPJAX_PROGRAM_CACHE=0``: XLA's compiled code comes from disk,
   but every group is traced and lowered again;
3. **warm** — hopjax's program cache on (the default): each group's serialised executable is
   loaded, nothing is traced (:mod:`hopjax.sweep.programs`).

Per config: rows, programs compiled (cold), compile / run / wall seconds of each run (from the
run's ``metadata.json``; wall excludes starting Python and importing JAX, printed separately
as ``process``), the warm runs' compile fraction of wall, and the ratio of (2) to (3). Also
the reduced Fig. 3 grid (degrees 1 and 5 × 5 α_c × 10 K × 4 seeds, dt 0.05), also with
``bucket_K = true`` (one program per power-of-two bucket of K).
Results are identical in all three runs (checked here byte for byte).

Writes ``runs/benchmarks/compile-<device>.json`` (``--update``: ``benchmarks/results/``).
Run: ``python benchmarks/bench_compile.py [--only NAME ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from bench import ROOT, device_name, output_args, output_dir, save_results
from compare_runs import REDUCED

FIG3 = [
    "degree=[1, 5]",
    "alpha_c=[0.1, 0.2, 0.3, 0.5, 1.0]",
    "K=[4, 6, 8, 10, 12, 16, 20, 24, 28, 32]",
    "seeds=4",
    "dt=0.05",
]


def one_run(config: Path, sets: list[str], out: Path, cache: Path, programs: bool) -> dict:
    args = [sys.executable, "-m", "hopjax", "run", str(config), "--out", str(out), "-q"]
    for s in [*sets, "plot.dpi=30"]:
        args += ["--set", s]
    args += ["--cache-dir", str(cache)]
    env = {**os.environ, "HOPJAX_PROGRAM_CACHE": "1" if programs else "0"}
    t0 = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)
    process = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{config.name}: {done.stderr[-2000:]}")
    meta = json.loads((out / "metadata.json").read_text())
    last = meta["runs"][-1]
    sources = [s for g in last["groups"] for s in g.get("programs", [])]
    return {
        "wall_seconds": round(last["wall_seconds"], 2),
        "compile_seconds": round(last["compile_seconds"], 2),
        "run_seconds": round(last["run_seconds"], 2),
        "process_seconds": round(process, 2),
        "rows": last["rows_total"],
        "programs": {s: sources.count(s) for s in sorted(set(sources))},
        "results": (out / "results.csv").read_bytes(),
    }


def measure(name: str, config: Path, sets: list[str], tmp: Path) -> dict:
    cache = tmp / f"cache-{name}"
    cold = one_run(config, sets, tmp / f"{name}-cold", cache, True)
    ref = one_run(config, sets, tmp / f"{name}-xla", cache, False)
    warm = one_run(config, sets, tmp / f"{name}-warm", cache, True)
    same = cold.pop("results") == ref.pop("results") == warm.pop("results")
    if not same:
        raise RuntimeError(f"{name}: results differ between cold and warm runs")
    return {
        "config": config.name,
        "rows": cold["rows"],
        "programs_compiled_cold": cold["programs"].get("compiled", 0),
        "cold": cold,
        "warm_xla_cache_only": ref,
        "warm": warm,
        "warm_compile_fraction": round(
            warm["compile_seconds"] / max(warm["wall_seconds"], 1e-9), 3
        ),
        "warm_wall_speedup_vs_xla_cache_only": round(
            ref["wall_seconds"] / max(warm["wall_seconds"], 1e-9), 2
        ),
        "identical_results": same,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="config names (default: every one)")
    output_args(ap)
    args = ap.parse_args(argv)
    fig3 = ROOT / "configs" / "gsemm_capacity.toml"
    cases = [
        ("gsemm_capacity_fig3_reduced", fig3, FIG3),
        ("gsemm_capacity_fig3_reduced_bucket_K", fig3, [*FIG3, "bucket_K=true"]),
    ]
    for config in sorted((ROOT / "configs").glob("*.toml")):
        if config.stem in REDUCED:
            cases.append((config.stem, config, REDUCED[config.stem]))
    if args.only:
        cases = [c for c in cases if c[0] in args.only]
    rows = {}
    print(f"{'config':34} {'rows':>6} {'progs':>5}  cold wall (compile)   warm XLA-only   warm")
    with tempfile.TemporaryDirectory() as tmp:
        for name, config, sets in cases:
            r = measure(name, config, sets, Path(tmp))
            rows[name] = r
            c, x, w = r["cold"], r["warm_xla_cache_only"], r["warm"]
            print(
                f"{name:34} {r['rows']:>6} {r['programs_compiled_cold']:>5}  "
                f"{c['wall_seconds']:6.1f} ({c['compile_seconds']:5.1f})   "
                f"{x['wall_seconds']:5.1f} ({x['compile_seconds']:4.1f})   "
                f"{w['wall_seconds']:5.1f} ({w['compile_seconds']:4.1f})  "
                f"{r['warm_wall_speedup_vs_xla_cache_only']:.1f}×",
                flush=True,
            )
    missing = sorted(p.stem for p in (ROOT / "configs").glob("*.toml") if p.stem not in REDUCED)
    earlier = output_dir(args) / f"compile-{device_name()}.json"
    if args.only and earlier.is_file():  # measure some, keep the others' earlier figures
        rows = {**json.loads(earlier.read_text())["configs"], **rows}
    result = {
        "device": device_name(),
        "measured": time.strftime("%Y-%m-%d"),
        "configs": rows,
        "without_reduced_grid": missing,
    }
    save_results(output_dir(args), f"compile-{device_name()}", result)


if __name__ == "__main__":
    main()
