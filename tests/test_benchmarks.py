"""The benchmark scripts write their JSON to an untracked folder unless asked to update the
committed figures (``--update``)."""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_write_untracked_unless_updating():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    ap = argparse.ArgumentParser()
    bench.output_args(ap)
    local = bench.output_dir(ap.parse_args([]))
    assert local == ROOT / "runs" / "benchmarks"
    assert "runs/" in (ROOT / ".gitignore").read_text().split()  # untracked
    assert bench.output_dir(ap.parse_args(["--update"])) == ROOT / "benchmarks" / "results"
    assert bench.output_dir(ap.parse_args(["--out", "x"])) == Path("x")
    for script in sorted((ROOT / "benchmarks").glob("bench*.py")):
        text = script.read_text()
        assert "save_results(output_dir(args)" in text, script.name


def test_readme_compile_figures_are_the_committed_benchmark():
    """The README's warm / XLA-only / cold seconds for the reduced Fig. 3 grid are those of
    benchmarks/results/compile-cpu-2cores.json (bench_compile.py --update)."""
    import json

    r = json.loads((ROOT / "benchmarks" / "results" / "compile-cpu-2cores.json").read_text())
    e = r["configs"]["gsemm_capacity_fig3_reduced"]
    walls = [e[k]["wall_seconds"] for k in ("warm", "warm_xla_cache_only", "cold")]
    text = (ROOT / "README.md").read_text()
    want = "{:.1f} s warm against {:.1f} s with JAX's cache\nalone and {:.1f} s cold".format(*walls)
    assert want in text, want
    assert e["identical_results"] and all(v["identical_results"] for v in r["configs"].values())
