"""Reliability: results independent of batching, exactly."""

import dataclasses
from pathlib import Path

import pytest

from hopjax.sweep import load_config, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def _chunk_sizes_agree(tmp_path: Path, overrides: list[str], sizes=(0, 1, 6, 7)) -> bytes:
    """Run the quickstart with ``overrides`` at every chunk size; all results.csv identical."""
    exp, base = load_config(ROOT / "configs" / "quickstart.toml", [*overrides, "plot.dpi=30"])
    want = None
    for size in sizes:
        out = tmp_path / f"chunk{size}"
        run_sweep(dataclasses.replace(base, chunk_size=size), out, exp=exp, progress=False)
        got = (out / "results.csv").read_bytes()
        want = got if want is None else want
        assert got == want, f"chunk_size={size} changed results.csv"
    return want


def test_hebbian_results_are_byte_identical_for_any_chunk_size(tmp_path):
    """Hebbian fields are multiples of 1/N; at N = 100 (1/N inexact in float32) exact ties used
    to come out ±1e-7 depending on the batch's summation order and flip retrievals (before the
    fix, 102 of 108 quickstart rows differed between chunk sizes 6 and 1). Rounding to the
    field's quantum makes chunk sizes 1, 6, 7 and the default give the same bytes, at N = 100
    and at a power of two (the slow test below adds asynchronous updates and the other rules)."""
    rows = _chunk_sizes_agree(
        tmp_path,
        ["N=[100, 128]", "alpha=[0.1, 0.14, 0.2]", "seeds=3", "cues=16"],
    )
    assert len(rows.splitlines()) == 1 + 2 * 3 * 3


@pytest.mark.slow
def test_every_rule_is_byte_identical_for_any_chunk_size(tmp_path):
    """Storkey and the pseudo-inverse rule (real weights, where exact ties have probability
    zero) give the same bytes too, on a wider grid."""
    _chunk_sizes_agree(
        tmp_path,
        [
            "N=[100, 128]",
            "rule=['hebbian', 'storkey', 'pseudo_inverse']",
            "update=['sync', 'async']",
            "alpha=[0.1, 0.14, 0.2, 0.3]",
            "seeds=3",
            "cues=20",
        ],
    )


@pytest.mark.parametrize(
    ("config", "overrides"),
    [
        (
            "hopfield_capacity",
            [
                "N=[32]",
                "alpha=[0.1, 0.3]",
                "seeds=2",
                "cues=8",
                "max_steps=20",
                "bootstrap=0",
                "update=['sync']",
                "rule=['hebbian', 'storkey']",  # pseudo-inverse: the slow case below
            ],
        ),
        pytest.param(
            "hopfield_capacity",
            [
                "N=[32, 48]",
                "alpha=[0.1, 0.3]",
                "seeds=2",
                "cues=8",
                "max_steps=20",
                "bootstrap=0",
                "update=['sync', 'async']",
            ],
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "gsemm_capacity",
            [
                "degree=[1, 3]",
                "alpha_c=[0.1, 0.2]",
                "K=[4, 6]",
                "seeds=2",
                "t_min=60.0",
                "t_per_memory=20.0",
            ],
            marks=pytest.mark.slow,
        ),
        (
            "dam_capacity",
            [
                "model=['poly2', 'exp']",
                "N=[16]",
                "seeds=2",
                "cues=8",
                "poly_min_n=16",
                "exp_max_n=16",
            ],
        ),
    ],
)
def test_shared_draws_equal_row_by_row_evaluation(tmp_path, config, overrides):
    """The engine's shared-draw evaluation (a PRNG stream's rows as an inner vmap, the shared
    patterns unbatched) gives results.csv byte-identical to evaluating every row on its own
    (share_draws = false: each row draws its own copy, the engine before streams)."""
    exp, base = load_config(ROOT / "configs" / f"{config}.toml", [*overrides, "plot.dpi=30"])
    out = {}
    for share in (True, False):
        run_sweep(
            dataclasses.replace(base, share_draws=share),
            tmp_path / str(share),
            exp=exp,
            progress=False,
        )
        out[share] = (tmp_path / str(share) / "results.csv").read_bytes()
    assert out[True] == out[False]


def test_one_writer_per_run_folder(tmp_path):
    """A run into a folder that a live process holds fails at once naming the folder, and
    writes nothing there; once the holder dies (here: killed) its lock is gone and the folder
    runs. (Before: two runs into one folder both wrote every row.)"""
    import subprocess
    import sys

    from hopjax.sweep import RunError
    from tests.toy import EXPERIMENT, toy

    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            f"f = open({str(out / '.lock')!r}, 'a+')\n"
            "fcntl.flock(f.fileno(), fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match="in use by a running sweep"):
            run_sweep(toy(), out, exp=EXPERIMENT, progress=False)
        assert not (out / "results.csv").exists() and not (out / "config.toml").exists()
    finally:
        holder.kill()
        holder.wait()
    res = run_sweep(toy(), out, exp=EXPERIMENT, progress=False)
    assert res.metadata["complete"]


def test_damaged_metadata_is_rebuilt_not_fatal(tmp_path):
    """metadata.json and summary.json are written atomically; a damaged metadata.json (e.g. left
    at 0 bytes by a full disk) no longer stops every resume with a JSONDecodeError."""
    from tests.toy import EXPERIMENT, toy

    first = run_sweep(toy(), tmp_path, exp=EXPERIMENT, progress=False)
    (tmp_path / "metadata.json").write_text("")
    again = run_sweep(toy(), tmp_path, exp=EXPERIMENT, progress=False)
    assert again.rows == first.rows and again.metadata["complete"]
    assert len(again.metadata["runs"]) == 1
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    "text", ['{"runs": [1, 2]}', '{"runs": [{"run_seconds": "x"}]}', '{"runs": 3}', "[1]"]
)
def test_damaged_metadata_entries_are_dropped_not_fatal(tmp_path, text):
    """C5: metadata.json whose ``runs`` are not objects with numeric timings (a hand edit) is
    rebuilt by the run and ignored by --dry-run's estimate (it was an AttributeError on every
    invocation, a TypeError in --dry-run)."""
    from typer.testing import CliRunner

    from hopjax.cli import app

    out = tmp_path / "run"
    args = ["run", str(ROOT / "configs" / "quickstart.toml"), "--out", str(out), "-q"]
    args += ["--set", "N=[64]", "--set", "seeds=2", "--set", "plot.dpi=30"]
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code == 0
    (out / "metadata.json").write_text(text)
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    import json

    meta = json.loads((out / "metadata.json").read_text())
    assert meta["complete"] and len(meta["runs"]) == 1


@pytest.mark.parametrize("edit", ["duplicate", "out-of-grid"])
def test_a_duplicate_or_foreign_row_in_results_is_an_error_naming_the_line(tmp_path, edit):
    """F4: a valid row twice (or a row of another grid) in a partial results.csv: exit 2
    naming the line, nothing appended (the run used to print "49/48 rows", exit 0 and never
    finish the folder); removing the line resumes to the undisturbed run's file."""
    from typer.testing import CliRunner

    from hopjax.cli import app

    runner = CliRunner()
    base = ["run", str(ROOT / "configs" / "quickstart.toml"), "-q"]
    base += ["--set", "N=[64]", "--set", "seeds=2", "--set", "plot.dpi=30"]
    ref, out = tmp_path / "ref", tmp_path / "run"
    assert runner.invoke(app, [*base, "--out", str(ref)]).exit_code == 0
    lines = (ref / "results.csv").read_text().splitlines(keepends=True)
    partial = lines[:10]
    if edit == "duplicate":
        extra = lines[3]
    else:  # a seed this config does not run
        cells = lines[3].split(",")
        seed_col = lines[0].split(",").index("seed")
        cells[seed_col] = "7"
        extra = ",".join(cells)
    out.mkdir()
    (out / "config.toml").write_bytes((ref / "config.toml").read_bytes())
    (out / "results.csv").write_text("".join([*partial[:6], extra, *partial[6:]]))
    before = (out / "results.csv").read_bytes()
    for flags in (["--dry-run"], []):
        res = runner.invoke(app, [*base, "--out", str(out), *flags])
        assert res.exit_code == 2, res.output
        assert "line 7" in res.output, res.output
    assert (out / "results.csv").read_bytes() == before
    (out / "results.csv").write_text("".join(partial))
    assert runner.invoke(app, [*base, "--out", str(out)]).exit_code == 0
    assert (out / "results.csv").read_bytes() == (ref / "results.csv").read_bytes()


def test_planning_the_full_figure_3_grid_reads_the_config_type_hints_a_few_times(monkeypatch):
    """H4: --dry-run on the full Fig. 3 config (162 450 rows) read the config's type hints
    once per row (95 s); the plan reads them a bounded number of times (≈ 1 s)."""
    import typing

    from hopjax.cli import plan_table

    calls = []
    real = typing.get_type_hints
    monkeypatch.setattr(typing, "get_type_hints", lambda *a, **k: calls.append(1) or real(*a, **k))
    exp, cfg = load_config(ROOT / "configs" / "gsemm_capacity.toml", [])
    plan_table(exp, cfg, None)
    assert len(calls) < 100, len(calls)


@pytest.mark.parametrize(
    ("config", "override", "key"),
    [
        ("gsemm_episodes", "T_d=nan", "T_d"),
        ("gsemm_episodes", "alpha_c=nan", "alpha_c"),
        ("idp_reasoning", "gamma=[nan]", "gamma"),
        ("idp_reasoning", "tau_alpha=[inf]", "tau_alpha"),
        ("quickstart", "alpha=[nan]", "alpha"),
        ("quickstart", "base_seed=-1", "base_seed"),
        ("quickstart", "base_seed=4294967296", "base_seed"),
        ("quickstart", "seeds=1000000000", "seeds"),
        ("quickstart", "seeds=10000000000000000000", "seeds"),
        ("quickstart", "N=[]", "N"),
        ("quickstart", "N=[100, 100]", "N"),
        ("quickstart", "plot.dpi=100000", "plot.dpi"),
    ],
)
def test_bad_values_are_refused_before_any_work(tmp_path, config, override, key):
    """Values that used to pass the checks and blow up later (NaN/inf time constants, seeds out
    of the PRNG's range, absurd seed counts, empty or duplicated grids, a huge dpi): exit 2
    before anything is written, naming the key and showing the value (``[nan]`` used to print
    as ``got .``: rich read it as markup)."""
    from typer.testing import CliRunner

    from hopjax.cli import app

    out = tmp_path / "run"
    cfg = str(ROOT / "configs" / f"{config}.toml")
    args = ["run", cfg, "--set", override, "--out", str(out), "-q", "--no-cache"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert f"'{key}'" in res.output
    assert override.split("=", 1)[1].strip("[]").split(",")[0] in res.output.replace(" ", "")
    assert not out.exists()


@pytest.mark.parametrize(
    "signum", [2, pytest.param(15, marks=pytest.mark.slow), (15, 2)], ids=["INT", "TERM", "both"]
)
def test_interrupt_stops_cleanly_and_resumes(tmp_path, signum):
    """SIGINT/SIGTERM during the first compilation: the run stops at its next safe point, says
    how to resume and exits 128 + signum (it used to be swallowed, or to segfault); rerunning
    the command completes the folder with every row once. SIGTERM and SIGINT sent together are
    one request (C6: it was "OSError: Signal 15 ignored due to race condition")."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    args = [sys.executable, "-m", "hopjax", "run", str(ROOT / "configs" / "quickstart.toml")]
    args += ["--set", "N=[64, 96]", "--set", "seeds=2", "--out", str(out), "-q", "--no-cache"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    t0 = time.monotonic()
    while not (out / "config.toml").exists() and time.monotonic() - t0 < 60:
        time.sleep(0.05)
    time.sleep(0.5)  # compiling the first group
    if isinstance(signum, tuple):  # the OS delivers pending signals in either order
        for sig in signum:
            proc.send_signal(sig)
    else:
        proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    sent = signum if isinstance(signum, tuple) else (signum,)
    assert proc.returncode - 128 in sent, stderr
    signum = proc.returncode - 128
    assert "Traceback" not in stderr and "race condition" not in stderr
    assert "Rerun the same command to resume" in stderr
    assert signal.Signals(signum).name in stderr
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = (out / "results.csv").read_text().splitlines()
    assert len(lines) == 1 + len(set(lines[1:])) and "summary.json" in {
        p.name for p in out.iterdir()
    }


def test_unusable_out_folder_is_one_line_exit_1(tmp_path):
    """--out onto a file or under a file: one line naming the path and the cause, exit 1 (it
    used to be a 33-line traceback)."""
    from typer.testing import CliRunner

    from hopjax.cli import app

    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out in (a_file, a_file / "sub"):
        args = ["run", str(ROOT / "configs" / "quickstart.toml"), "--out", str(out), "-q"]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 1, res.output
        assert "cannot create the run folder" in res.output and str(out) in res.output
        assert "Traceback" not in res.output


def test_absurd_sizes_are_refused_before_any_allocation(tmp_path):
    """N = 100000 used to die with RESOURCE_EXHAUSTED after 9 s (and leave a config.toml that
    refused a smaller N); 10⁸ rows grew to gigabytes of bookkeeping. Both now exit 2 at once,
    naming the key, with nothing written."""
    from typer.testing import CliRunner

    from hopjax.cli import app

    out = tmp_path / "run"
    for override, key in (("N=[100000]", "'N' = 100000"), ("seeds=1000000", "'seeds'")):
        args = ["run", str(ROOT / "configs" / "quickstart.toml"), "--set", override]
        res = CliRunner().invoke(app, [*args, "--out", str(out), "-q"])
        assert res.exit_code == 2, res.output
        assert key in res.output and not out.exists()


def test_library_values_are_checked():
    """Bad values reach the library as a clear error naming the parameter, outside and inside
    jit: a NaN/zero degree (used to return garbage under jit), NaN weights (used to report
    converged, period 1), NaN or non-bipolar patterns given to the storage rules, NaN memories,
    a NaN initial state (used to read 'maximum number of solver steps reached'), t1 < t0 (used to
    integrate backwards), a flip fraction of 1.5 under jit (used to flip everything)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from hopjax import rules
    from hopjax.classical import Hopfield
    from hopjax.gsemm import DenseGSEMM
    from hopjax.idp import Reasoning
    from hopjax.patterns import flip, random_bipolar
    from hopjax.solve import simulate

    RUNTIME = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)
    xi = random_bipolar(jax.random.PRNGKey(0), 3, 16)
    for bad in (0.0, -2.0, float("nan")):
        with pytest.raises(ValueError, match="degree"):
            DenseGSEMM(xi, degree=bad)
        with pytest.raises(RUNTIME, match="degree"):
            jax.jit(lambda d: DenseGSEMM(xi, degree=d).degree)(jnp.float32(bad))
    w = rules.hebbian(xi).at[0, 1].set(jnp.nan)
    with pytest.raises(ValueError, match="weights must be finite"):
        Hopfield(w)
    for rule in (rules.hebbian, rules.storkey):
        with pytest.raises(ValueError, match="xi must be bipolar"):
            rule(xi.at[0, 0].set(jnp.nan))
        with pytest.raises(ValueError, match="xi must be bipolar"):
            rule(xi * 0.5)
    for make in (lambda m: Reasoning(m, gamma=5.0, tau_alpha=50.0), lambda m: DenseGSEMM(m)):
        with pytest.raises(ValueError, match="xi must be finite"):
            make(xi.at[1, 2].set(jnp.nan))
    with pytest.raises(ValueError, match="tau_alpha must be > 0 and finite"):
        Reasoning(xi, gamma=5.0, tau_alpha=float("inf"))
    model = Reasoning(xi, gamma=5.0, tau_alpha=50.0)
    y0 = (xi[0], jnp.zeros(3))
    with pytest.raises(ValueError, match="y0 must be finite"):
        simulate(model, (xi[0].at[0].set(jnp.nan), jnp.zeros(3)), t1=1.0)
    with pytest.raises(ValueError, match="t1 must be > t0"):
        simulate(model, y0, t1=-10.0)
    with pytest.raises(RUNTIME, match="fraction"):
        jax.jit(lambda f: flip(jax.random.PRNGKey(1), xi[0], fraction=f))(1.5)


def test_user_file_errors_are_one_line_not_tracebacks(tmp_path):
    """A folder or non-UTF-8 file as the config, and a results.csv with a duplicated header
    column or a short row: exit 2 with the file (and line) named, no traceback."""
    from typer.testing import CliRunner

    from hopjax.cli import app

    bad = tmp_path / "latin1.toml"
    bad.write_bytes('experiment = "quickstart"\n# caf\xe9\n'.encode("latin-1"))
    for config, words in ((tmp_path, "is a folder"), (bad, "not UTF-8")):
        res = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path / "o"), "-q"])
        assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output

    from tests.toy import EXPERIMENT, toy

    out = tmp_path / "run"
    run_sweep(toy(), out, exp=EXPERIMENT, progress=False)
    good = (out / "results.csv").read_text().splitlines()
    damaged = {
        "twice": [good[0] + "," + good[0].split(",")[0], *good[1:]],
        "line 3": [good[0], good[1], ",".join(good[2].split(",")[:3]), *good[3:]],
    }
    from hopjax.sweep import ConfigError

    for words, lines in damaged.items():
        (out / "results.csv").write_text("\n".join(lines) + "\n")
        with pytest.raises(ConfigError, match=words):
            run_sweep(toy(), out, exp=EXPERIMENT, progress=False)


@pytest.mark.slow
def test_sigkill_at_random_instants_never_loses_or_duplicates_a_row(tmp_path):
    """SIGKILL at random instants (compiling, running, writing), many times: after each kill
    the folder's results.csv has no duplicated row, metadata.json is valid JSON, and the
    resumed run finally writes results.csv and summary.json byte-identical to an
    uninterrupted run."""
    import json
    import random
    import subprocess
    import sys
    import time

    base = [sys.executable, "-m", "hopjax", "run", str(ROOT / "configs" / "quickstart.toml")]
    base += ["--set", "N=[64, 96, 128]", "--set", "seeds=2", "--set", "chunk_size=4", "-q"]
    ref = tmp_path / "ref"
    subprocess.run([*base, "--out", str(ref)], check=True, cwd=ROOT, capture_output=True)
    out = tmp_path / "killed"
    rng = random.Random(0)
    for _ in range(12):
        proc = subprocess.Popen([*base, "--out", str(out)], cwd=ROOT, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 8.0))
        proc.kill()
        proc.wait()
        if (out / "results.csv").exists():
            lines = (out / "results.csv").read_text().splitlines()
            assert len(lines) == len(set(lines)), "a row was written twice"
        if (out / "metadata.json").exists():
            json.loads((out / "metadata.json").read_text())
    done = subprocess.run([*base, "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("results.csv", "summary.json"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


def test_full_disk_is_one_line_and_the_folder_resumes(tmp_path, monkeypatch):
    """A write that fails part-way (a full disk: ``fsync`` raises ENOSPC, which carries no file
    name) ends the run with one line naming the file; the rows already written are kept and a
    rerun completes the folder byte-identically to an undisturbed run. (Before: the bare
    ``OSError`` escaped as a traceback.)"""
    import errno
    import os

    from typer.testing import CliRunner

    import hopjax.sweep.results as results_mod
    from hopjax.cli import app

    args = ["run", str(ROOT / "configs" / "quickstart.toml"), "-q", "--no-cache"]
    args += ["--set", "N=[64]", "--set", "alpha=[0.1, 0.2]", "--set", "seeds=2"]
    args += ["--set", "chunk_size=1", "--set", "plot.dpi=30"]
    ref = tmp_path / "ref"
    assert CliRunner().invoke(app, [*args, "--out", str(ref)]).exit_code == 0
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # the third write of the run
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    out = tmp_path / "run"
    monkeypatch.setattr(results_mod.os, "fsync", fsync)
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 1, res.output
    assert "No space left on device" in res.output and str(out) in res.output
    assert "rerun the same command to resume" in res.output
    assert "Traceback" not in res.output
    calls["n"] = 0
    debug = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "dbg"), "--debug"])
    assert debug.exit_code == 1 and "Traceback" in debug.output  # --debug shows where
    monkeypatch.setattr(results_mod.os, "fsync", real_fsync)
    assert CliRunner().invoke(app, [*args, "--out", str(out)]).exit_code == 0
    for name in ("results.csv", "summary.json"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


@pytest.mark.slow
def test_results_do_not_depend_on_the_device_count(tmp_path):
    """The engine shards every chunk over all devices (padding it to a multiple of their
    count). Two CPU devices (``--xla_force_host_platform_device_count=2``, a subprocess: the
    flag must precede JAX's start) write the same bytes as this process's one device."""
    import os
    import subprocess
    import sys

    import jax

    sets = ["N=[64, 100]", "alpha=[0.1, 0.2]", "seeds=3", "plot.dpi=30"]
    exp, cfg = load_config(ROOT / "configs" / "quickstart.toml", sets)
    assert jax.device_count() == 1
    run_sweep(cfg, tmp_path / "one", exp=exp, progress=False)
    args = [sys.executable, "-m", "hopjax", "run", str(ROOT / "configs" / "quickstart.toml")]
    args += [a for s in sets for a in ("--set", s)] + ["--out", str(tmp_path / "two"), "-q"]
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    meta = (tmp_path / "two" / "metadata.json").read_text()
    assert '"device_count": 2' in meta
    for name in ("results.csv", "summary.json"):
        one, two = (tmp_path / d / name for d in ("one", "two"))
        assert one.read_bytes() == two.read_bytes(), name


def test_a_file_that_cannot_be_replaced_is_named_and_no_temporary_is_left(tmp_path, monkeypatch):
    """U5: results.csv made append-only (``chattr +a``: it may grow but not be renamed over):
    the error names results.csv, not ``results.csv.tmp``, and no temporary file is left; the
    CLI says it in one line with exit 1."""
    import errno
    import os

    from typer.testing import CliRunner

    import hopjax.sweep.results as results
    from hopjax.cli import app

    real = os.replace

    def append_only(src, dst):
        if Path(dst).name in ("results.csv", "summary.json"):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(src), None, str(dst))
        return real(src, dst)

    monkeypatch.setattr(results.os, "replace", append_only)
    target = tmp_path / "results.csv"
    target.write_text("a\n1\n")
    with pytest.raises(OSError) as info:
        results.rewrite(target, ["a"], [{"a": 2}])
    assert info.value.filename == str(target)
    with pytest.raises(OSError) as info:
        results.write_atomic(tmp_path / "summary.json", "{}")
    assert info.value.filename == str(tmp_path / "summary.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
    out = tmp_path / "run"
    args = ["run", str(ROOT / "configs" / "quickstart.toml"), "--out", str(out), "-q"]
    res = CliRunner().invoke(app, [*args, "--set", "N=[64]", "--set", "seeds=2"])
    assert res.exit_code == 1, res.output
    assert f"cannot write {out / 'results.csv'}: Operation not permitted" in res.output
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_bom_or_a_ragged_row_in_results_is_read_or_named(tmp_path):
    """U3: a UTF-8 byte-order mark (a spreadsheet's save) is not part of the first column's
    name — the run resumes and load_run reads the column — and a ragged row makes load_run
    raise a ValueError naming the line (it was a bare IndexError)."""
    from typer.testing import CliRunner

    from hopjax.cli import app
    from hopjax.sweep import load_run

    out = tmp_path / "run"
    args = ["run", str(ROOT / "configs" / "quickstart.toml"), "--out", str(out), "-q"]
    args += ["--set", "N=[64]", "--set", "seeds=2", "--set", "plot.dpi=30"]
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code == 0
    path = out / "results.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("\ufeff" + "".join(lines[:-3]), encoding="utf-8")
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert path.read_text().lstrip("\ufeff") == "".join(lines)
    first = lines[0].split(",")[0]
    path.write_text("\ufeff" + "".join(lines), encoding="utf-8")
    assert first in load_run(out).columns
    path.write_text("".join(lines[:4]) + "1,2\n" + "".join(lines[4:]))
    with pytest.raises(ValueError, match="line 5: 2 cells"):
        load_run(out)


def test_a_warm_rerun_loads_its_programs_and_writes_the_same_bytes(tmp_path):
    """Issue 32: with the compilation cache on, a rerun loads each group's serialised program
    instead of tracing it again (metadata: "disk"), and writes byte-identical results to the
    cold run and to a --no-cache run; a changed config is compiled afresh, never served a
    stale program."""
    import json
    import os
    import subprocess
    import sys

    def run(out, *extra, programs="1"):
        args = [sys.executable, "-m", "hopjax", "run", str(ROOT / "configs" / "quickstart.toml")]
        args += ["--set", "N=[64, 96]", "--set", "seeds=2", "--set", "plot.dpi=30", "-q"]
        args += ["--out", str(tmp_path / out), *extra]
        env = {**os.environ, "HOPJAX_PROGRAM_CACHE": programs}
        done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
        assert done.returncode == 0, done.stderr
        meta = json.loads((tmp_path / out / "metadata.json").read_text())
        sources = [s for g in meta["runs"][-1]["groups"] for s in g.get("programs", [])]
        return (tmp_path / out / "results.csv").read_bytes(), sources

    cache = ["--cache-dir", str(tmp_path / "cache")]
    cold, first = run("cold", *cache)
    warm, second = run("warm", *cache)
    plain, third = run("plain", "--no-cache")
    assert first and set(first) <= {"compiled", "memory"}
    assert set(second) <= {"disk", "memory"} and "disk" in second
    assert set(third) <= {"compiled", "memory"}
    assert cold == warm == plain
    _, changed = run("changed", *cache, "--set", "cues=9")
    assert "disk" not in changed
    # XLA's cache warm, the program cache empty: XLA's reloaded executables are not stored
    # (a reloaded copy of one fails to run on CPU), so every later run still runs
    other = ["--cache-dir", str(tmp_path / "other")]
    results = {run(name, *other, programs=p)[0] for name, p in (("x", "0"), ("y", "1"), ("z", "1"))}
    assert results == {cold}
