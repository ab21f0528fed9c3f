"""Every Python example in the README runs as printed (the marked ones have their own tests
that also check what they print: user-experiment in test_discover, phase-example in
test_phase, encoder-example in test_layers)."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = [
    m.group(2)
    for m in re.finditer(r"(<!-- [\w-]+ -->\n)?```python\n(.*?)```", README, re.S)
    if m.group(1) is None
]


def test_the_readme_has_unmarked_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.slow  # the IDP and tuning examples integrate for a while
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(BLOCKS[index], f"README.md example {index}", "exec"), {"__name__": "ex"})
