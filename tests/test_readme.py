"""Every Python example in the README and in the documentation's guides and reproductions
page runs as printed (the marked ones have their own tests that also check what they print:
user-experiment in test_discover, phase-example in test_phase, encoder-example in
test_layers). The tutorials' blocks (```python exec="on"```) run when the site is built
(``mkdocs build --strict`` in CI), so they are not collected here."""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCKS = [
    m.group(2)
    for page in PAGES
    for m in re.finditer(r"(<!-- [\w-]+ -->\n)?```python\n(.*?)```", page.read_text(), re.S)
    if m.group(1) is None
]


def test_the_readme_has_unmarked_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.slow  # the IDP and tuning examples integrate for a while
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(BLOCKS[index], f"example {index}", "exec"), {"__name__": "ex"})


def test_readme_cost_table_is_the_committed_runs():
    """The README's cost table: rows and RK4 steps executed and wall time (the total, and each
    invocation where a folder was grown) are those in the committed folders' summary and
    metadata."""
    import json

    text = (ROOT / "README.md").read_text()
    for name in ("gsemm_capacity", "hopfield_capacity", "hopfield_capacity_large"):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"| `configs/{name}.toml`"))
        meta = json.loads((ROOT / "results" / name / "metadata.json").read_text())
        assert meta["complete"], name
        if len(meta["runs"]) == 1:
            assert f"| {meta['wall_seconds'] / 60:.1f} min |" in line, name
        else:  # a folder grown by a later invocation: the total and each invocation
            walls = " + ".join(f"{r['wall_seconds'] / 60:.1f}" for r in meta["runs"])
            assert f"| {meta['wall_seconds'] / 60:.1f} min ({walls}) |" in line, name
    work = json.loads((ROOT / "results" / "gsemm_capacity" / "summary.json").read_text())["work"]
    line = next(ln for ln in text.splitlines() if ln.startswith("| `configs/gsemm_capacity.toml`"))
    rows_total = work["rows_run"] + work["rows_pruned"]
    assert f"{rows_total:,} rows".replace(",", " ") in line
    assert f"| {work['rows_run']} rows" in line
    assert f"{work['rk4_steps_executed'] / 1e8:.2f}·10⁸ RK4 steps" in line
    assert f"{work['rk4_steps_full_protocol'] / 1e11:.2f}·10¹¹ RK4 steps" in line


def test_one_version_everywhere():
    """The version is set once (pyproject.toml; hopjax.__version__ reads the installed
    metadata) and repeated, checked here, in CITATION.cff, the site footer and the changelog."""
    import re

    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert f"version: {version}" in (ROOT / "CITATION.cff").read_text()
    assert f"hopjax {version} ·" in (ROOT / "mkdocs.yml").read_text()
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()
