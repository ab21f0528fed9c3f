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
