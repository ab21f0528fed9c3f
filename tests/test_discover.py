"""Finding experiments: bare names in a project's experiments/ folder, dotted module paths,
file.py[:NAME]; a user's own experiment run by the CLI from a fresh folder (the README's)."""

import csv
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hopjax.sweep import ConfigError, load_config, resolve_experiment

ROOT = Path(__file__).resolve().parents[1]

TINY = """
import dataclasses
import jax.numpy as jnp
from hopjax.sweep import SweepConfig
from hopjax.sweep import Experiment
{extra}

@dataclasses.dataclass
class Config(SweepConfig):
    x: list[float] = dataclasses.field(default_factory=lambda: [1.0, 2.0])

def point(p, key):
    return {{"y": {expr}}}

EXPERIMENT = Experiment("{name}", Config, point, static=(), metrics=("y",))
OTHER = Experiment("other", Config, point, static=(), metrics=("y",))
"""


def _project(tmp: Path, package: bool) -> Path:
    """A project folder: configs/ and experiments/ (a package sharing code, or plain files)."""
    (tmp / "configs").mkdir(parents=True)
    exp = tmp / "experiments"
    exp.mkdir()
    if package:
        (exp / "__init__.py").write_text("")
        (exp / "_shared.py").write_text("SCALE = 3.0\n")
        extra, expr = "from ._shared import SCALE", "SCALE * p['x']"
    else:
        extra, expr = "", "2.0 * p['x']"
    (exp / "alpha.py").write_text(TINY.format(name="alpha", extra=extra, expr=expr))
    (exp / "wrong.py").write_text(TINY.format(name="beta", extra="", expr="p['x']"))
    (tmp / "configs" / "alpha.toml").write_text('experiment = "alpha"\nseeds = 1\n')
    return tmp


@pytest.mark.parametrize("package", [True, False])
def test_bare_name_resolves_beside_the_configs_folder(tmp_path, package):
    root = _project(tmp_path, package)
    exp, cfg = load_config(root / "configs" / "alpha.toml", ["x=[4.0]"])
    assert exp.name == "alpha" and cfg.x == [4.0]
    scale = 3.0 if package else 2.0
    assert float(exp.fn({"x": 4.0}, None)["y"]) == scale * 4.0
    with pytest.raises(ConfigError, match="defines experiment 'beta', not 'wrong'"):
        resolve_experiment("wrong", base=root / "configs")
    with pytest.raises(ConfigError, match=r"unknown 'experiment' 'nope'; expected one of: alpha"):
        resolve_experiment("nope", base=root / "configs")


def test_file_and_dotted_module_paths(tmp_path, monkeypatch):
    (tmp_path / "mine.py").write_text(TINY.format(name="mine", extra="", expr="p['x'] + 1"))
    assert resolve_experiment("mine.py", base=tmp_path).name == "mine"
    assert resolve_experiment("mine.py:OTHER", base=tmp_path).name == "other"
    with pytest.raises(ConfigError, match="defines no Experiment named 'MISSING'"):
        resolve_experiment("mine.py:MISSING", base=tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_experiment("absent.py", base=tmp_path)
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "exps.py").write_text(TINY.format(name="dotted", extra="", expr="p['x']"))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve_experiment("userpkg.exps").name == "dotted"
    assert resolve_experiment("userpkg.exps:OTHER").name == "other"
    with pytest.raises(ConfigError, match="cannot be imported"):
        resolve_experiment("userpkg.absent")


def _readme_block(marker: str, lang: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(marker)
    m = re.search(rf"```{lang}\n(.*?)```", text[start:], re.S)
    assert m is not None, f"no {lang} block after {marker!r} in README.md"
    return m.group(1)


def test_readme_user_experiment_runs_from_a_fresh_folder(tmp_path):
    """The README's own ten-line experiment and its config, verbatim, run by ``hopjax run`` in
    an empty folder (no configs/, no experiments/): rows written, retrieval sensible."""
    code = _readme_block("<!-- user-experiment -->", "python")
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 20
    (tmp_path / "my_experiment.py").write_text(code)
    (tmp_path / "my_sweep.toml").write_text(_readme_block("<!-- user-config -->", "toml"))
    cmd = [sys.executable, "-m", "hopjax.cli", "run", "my_sweep.toml", "--out", "run", "-q"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with open(tmp_path / "run" / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 3 * 4  # N × alpha × seeds
    low = [float(r["overlap"]) for r in rows if float(r["alpha"]) == 0.05]
    high = [float(r["overlap"]) for r in rows if float(r["alpha"]) == 0.3]
    assert min(low) > 0.95 and sum(high) / len(high) < 0.6  # below and above 0.14 N
    # a rerun resumes (nothing recomputed)
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "24/24 rows" in res.stdout


def test_cli_names_an_unknown_experiment_and_exits_2(tmp_path):
    (tmp_path / "bad.toml").write_text(textwrap.dedent('experiment = "no_such_thing"\n'))
    cmd = [sys.executable, "-m", "hopjax.cli", "run", "bad.toml", "--out", "o"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "unknown 'experiment' 'no_such_thing'" in res.stderr
    assert not (tmp_path / "o").exists()
