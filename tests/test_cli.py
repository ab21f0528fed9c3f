"""Tests for the hopjax CLI: every promised file, --set parsing, exit status 2 on config errors."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopjax.cli import app
from hopjax.sweep.config import ConfigError, apply_overrides, parse_value, tomllib

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "configs" / "quickstart.toml"
SMALL = [
    "--set",
    "N=[40, 60]",
    "--set",
    "alpha=[0.05, 0.3]",
    "--set",
    "seeds=2",
    "--set",
    "cues=10",
]

runner = CliRunner()


def test_cli_run_writes_every_promised_file(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["run", str(QUICKSTART), *SMALL, "--set", "plot.dpi=60", "--out", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output
    for name in ("config.toml", "results.csv", "metadata.json", "summary.json", "capacity.png"):
        assert (out / name).stat().st_size > 0, name
    with open(out / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "rule", "update", "N", "alpha", "flip", "seed",
        "overlap_mean", "retrieved_frac", "steps_mean", "converged_frac", "P",
    ]  # fmt: skip
    assert len(rows) == 2 * 2 * 2
    resolved = tomllib.loads((out / "config.toml").read_text())
    assert resolved["N"] == [40, 60] and resolved["seeds"] == 2 and resolved["plot"]["dpi"] == 60
    assert resolved["rule"] == ["hebbian"]  # from the file, not overridden
    meta = json.loads((out / "metadata.json").read_text())
    for key in ("hopjax", "jax", "devices", "wall_seconds", "compile_seconds", "run_seconds"):
        assert key in meta
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["alpha_c"]["hebbian"]["sync"]) == {"40", "60"}
    # rerunning into the folder resumes: nothing recomputed, same rows
    res = runner.invoke(
        app, ["run", str(QUICKSTART), *SMALL, "--set", "plot.dpi=60", "--out", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output
    with open(out / "results.csv") as fh:
        assert list(csv.DictReader(fh)) == rows


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("Nx=3", "unknown key 'Nx'"),
        ("seeds=many", "'seeds' must be an integer; got 'many'"),
        ('update=["sync", "random"]', "'update' must be a list of one of 'sync', 'async'"),
        ("plot.dpi=1.5", "'plot.dpi' must be an integer"),
        ("seeds.x=1", "'seeds' is not a table"),
    ],
)
def test_config_errors_exit_2_naming_the_key_and_write_nothing(tmp_path, override, message):
    out = tmp_path / "never"
    res = runner.invoke(app, ["run", str(QUICKSTART), "--set", override, "--out", str(out)])
    assert res.exit_code == 2
    assert message in res.output
    assert not out.exists()


def test_missing_config_file_exits_2(tmp_path):
    res = runner.invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_set_values_are_toml_with_dotted_keys():
    assert parse_value("[200, 400]") == [200, 400]
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value('"storkey"') == "storkey" and parse_value("storkey") == "storkey"
    raw = apply_overrides({"a": 1, "plot": {"dpi": 100}}, ["plot.dpi=80", "b.c.d=[1]", "a=2"])
    assert raw == {"a": 2, "plot": {"dpi": 80}, "b": {"c": {"d": [1]}}}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides({}, ["novalue"])


def test_list_names_experiments_and_configs():
    res = runner.invoke(app, ["list", "--configs", str(ROOT / "configs")], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "hopfield_capacity" in res.output and "quickstart.toml" in res.output


def test_console_script_is_installed():
    res = subprocess.run(
        [sys.executable, "-m", "hopjax.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "run" in res.stdout and "list" in res.stdout


def test_demo_prints_a_retrieval_table():
    res = runner.invoke(app, ["demo", "--n", "32", "--alpha", "0.1", "--mode", "sync"])
    assert res.exit_code == 0, res.output
    for rule in ("hebbian", "storkey", "pseudo_inverse"):
        assert rule in res.output
    assert runner.invoke(app, ["demo", "--mode", "nope"]).exit_code == 2


def test_summary_is_strict_json_and_the_run_ends_with_a_readable_table(tmp_path):
    """summary.json parses with a strict parser (no NaN/Infinity: null instead), and the run
    ends with the summary flattened to dotted keys, rounded (not raw JSON, not `{}`)."""
    import json
    import math

    from hopjax.sweep.folder import strict_json

    out = tmp_path / "run"
    res = runner.invoke(app, ["run", str(QUICKSTART), *SMALL, "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output

    def refuse(c):
        raise ValueError(f"non-JSON constant {c}")

    summary = json.loads((out / "summary.json").read_text(), parse_constant=refuse)
    assert "alpha_c.hebbian.sync" in res.output and "summary" in res.output
    assert "{" not in res.output.split("summary", 1)[1]
    assert strict_json({"a": [math.nan, 1.0], "b": {"c": math.inf}}) == {
        "a": [None, 1.0],
        "b": {"c": None},
    }
    assert isinstance(summary, dict)


def test_version_flag():
    from hopjax import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"hopjax {__version__}"


def test_list_fits_80_columns_and_never_cuts_a_config_name():
    res = runner.invoke(app, ["list", "--configs", str(QUICKSTART.parent)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    assert max(len(line) for line in res.output.splitlines()) <= 80
    assert "gsemm_capacity_softmax.toml" in res.output and "…" not in res.output


def test_dry_run_plans_and_runs_nothing(tmp_path):
    """--dry-run checks the config, prints rows / groups / chunk sizes (and, for an existing
    folder, the rows done and a time estimate) and writes nothing."""
    out = tmp_path / "run"
    args = ["run", str(QUICKSTART), *SMALL, "--out", str(out), "-q"]
    res = runner.invoke(app, [*args, "--dry-run"], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.output
    assert "rows, 0 done" in res.output and "rows per chunk" in res.output
    assert not out.exists()
    assert runner.invoke(app, args).exit_code == 0
    res = runner.invoke(app, [*args, "--dry-run"], env={"COLUMNS": "120"})
    assert "done" in res.output and "s per row" in res.output
    bad = runner.invoke(app, [*args, "--dry-run", "--set", "seeds=0"])
    assert bad.exit_code == 2 and "seeds" in bad.output
    # U1: --dry-run refuses what `run` refuses (a changed key in an existing folder)
    changed = runner.invoke(app, [*args, "--dry-run", "--set", "cues=9"])
    assert changed.exit_code == 2 and "changed: cues" in changed.output, changed.output
    assert runner.invoke(app, [*args, "--set", "cues=9"]).exit_code == 2


def test_show_lists_keys_types_values_and_grid_size():
    res = runner.invoke(app, ["show", str(QUICKSTART)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    for word in ("alpha", "grid", "seeds", "rows", "must lie in (0, 1)"):  # declared bounds
        assert word in res.output
    bad = runner.invoke(app, ["show", "no_such_experiment"])
    assert bad.exit_code == 2 and "no_such_experiment" in bad.output


def test_show_reports_what_a_config_measured_here(monkeypatch, tmp_path):
    """``hopjax show`` finds run folders of the same config (runs/, results/) and reports their
    wall time; the committed GSEMM figure took 48.6 min in one invocation."""
    monkeypatch.chdir(ROOT)
    res = runner.invoke(app, ["show", "configs/gsemm_capacity.toml"], env={"COLUMNS": "200"})
    assert "measured here: results/gsemm_capacity (complete): wall 2915.1 s over 1" in res.output
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["show", str(QUICKSTART)], env={"COLUMNS": "200"})
    assert "not run here yet" in res.output


def test_config_copy_brings_configs_and_experiments_into_a_folder(tmp_path, monkeypatch):
    """``hopjax config copy DEST`` copies the shipped configs and the experiments they run
    (here from this checkout standing in for <prefix>/share/hopjax); the copy is listed and
    runnable from anywhere; a second copy refuses to overwrite without --force."""
    import hopjax.cli as cli

    monkeypatch.setattr(cli, "installed_configs", lambda: ROOT)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["config", "copy", "mine"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "mine" / "configs" / "quickstart.toml").is_file()
    assert (tmp_path / "mine" / "experiments" / "hopfield_capacity.py").is_file()
    assert "hopjax run mine/configs/quickstart.toml" in res.output
    res = runner.invoke(app, ["config", "copy", "mine"])
    assert res.exit_code == 1 and "pass --force" in res.output
    assert runner.invoke(app, ["config", "copy", "mine", "--force"]).exit_code == 0
    res = runner.invoke(app, ["list", "--configs", "mine/configs"], env={"COLUMNS": "80"})
    assert res.exit_code == 0 and "quickstart.toml" in res.output


def test_config_copy_errors_are_one_line(tmp_path, monkeypatch):
    """C4: a file as DEST, an unwritable DEST and DEST = the shipped folder itself are one
    line with exit 1 (they were NotADirectoryError, PermissionError and SameFileError
    tracebacks)."""
    import shutil

    import hopjax.cli as cli

    monkeypatch.setattr(cli, "installed_configs", lambda: ROOT)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    res = runner.invoke(app, ["config", "copy", "afile"])
    assert res.exit_code == 1 and "afile is a file" in res.output, res.output
    res = runner.invoke(app, ["config", "copy", str(ROOT), "--force"])
    assert res.exit_code == 1 and "where the shipped configs are" in res.output, res.output

    def denied(src, dst, *a, **k):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(shutil, "copy2", denied)
    res = runner.invoke(app, ["config", "copy", "ro"])
    assert res.exit_code == 1 and "cannot copy into ro: Permission denied" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_list_and_show_work_outside_a_checkout(tmp_path):
    """U2: from a folder with no configs/ or experiments/, `hopjax list` shows the shipped
    experiments (an editable install finds them in its checkout) and `show NAME` finds the
    experiment (it was an empty table with exit 0, and "expected one of: -")."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "hopjax"]
    env = {**os.environ, "COLUMNS": "120"}
    res = subprocess.run([*cmd, "list"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert res.returncode == 0 and "gsemm_capacity" in res.stdout, res.stdout + res.stderr
    res = subprocess.run(
        [*cmd, "show", "hopfield_capacity"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert res.returncode == 0 and "rule" in res.stdout, res.stdout + res.stderr
    res = subprocess.run(
        [*cmd, "list", "--configs", "nothing"], cwd=tmp_path, capture_output=True, text=True
    )
    assert res.returncode == 1 and "no experiments found" in res.stderr


def test_an_installed_package_carries_its_configs():
    """After ``pip install .`` (what CI does) the configs and experiments lie under
    <prefix>/share/hopjax, where ``hopjax list`` and ``hopjax config copy`` find them (an
    editable install has no data files: skipped there)."""
    from hopjax.cli import installed_configs

    folder = installed_configs()
    if folder is None:
        pytest.skip(
            "editable install (pip install -e): setuptools installs no data-files, so there is "
            "no <prefix>/share/hopjax; CI installs non-editably and runs this test"
        )
    shipped = {p.name for p in (ROOT / "configs").glob("*.toml")}
    assert {p.name for p in (folder / "configs").glob("*.toml")} == shipped
    assert (folder / "experiments" / "hopfield_capacity.py").is_file()
