"""Multi-process sweeps (jax.distributed): processes on this machine, CPU backend, gloo."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "configs" / "hopfield_capacity.toml")
SMALL = ["N=[64, 100]", "rule=['hebbian']", "alpha=[0.1, 0.2]", "seeds=2", "cues=8"]
LARGER = ["N=[64, 100]", "rule=['hebbian', 'storkey']", "alpha=[0.1, 0.14, 0.2]", "seeds=3"]
LARGER += ["cues=8"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _args(sets: list[str], out: Path) -> list[str]:
    args = [sys.executable, "-m", "hopjax", "run", CONFIG, "--out", str(out), "-q"]
    for s in [*sets, "plot.dpi=30"]:
        args += ["--set", s]
    return args


def _launch(sets: list[str], out: Path, n: int, **env: str) -> list[subprocess.Popen]:
    """``n`` processes of one run (coordinator on 127.0.0.1 at a free port)."""
    port = _free_port()
    procs = []
    for i in range(n):
        extra = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(n)]
        extra += ["--process-id", str(i), "--heartbeat-timeout", "10"]
        procs.append(
            subprocess.Popen(
                _args(sets, out) + extra,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **env},
            )
        )
    return procs


def _one_process(sets: list[str], out: Path) -> None:
    done = subprocess.run(_args(sets, out), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


def _two_equal_one(tmp_path: Path, sets: list[str]) -> None:
    _one_process(sets, tmp_path / "one")
    procs = _launch(sets, tmp_path / "two", 2)
    for p in procs:
        _, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr[-3000:]
    for name in ("results.csv", "summary.json"):
        one, two = (tmp_path / d / name for d in ("one", "two"))
        assert one.read_bytes() == two.read_bytes(), name
    meta = (tmp_path / "two" / "metadata.json").read_text()
    assert '"process_count": 2' in meta and '"device_count": 2' in meta


@pytest.mark.slow
def test_two_processes_write_what_one_writes(tmp_path):
    """Two processes (jax.distributed, coordinator on 127.0.0.1, gloo): process 0 writes one
    folder, and its results.csv and summary.json are byte-identical to a one-process run's."""
    _two_equal_one(tmp_path, [*SMALL, "chunk_size=2"])


@pytest.mark.slow
def test_two_processes_write_what_one_writes_every_rule(tmp_path):
    """As above with the Storkey rule too and chunks of 3 rows (padded to the 2 devices)."""
    _two_equal_one(tmp_path, [*LARGER, "chunk_size=3"])


@pytest.mark.slow
@pytest.mark.parametrize("victim", [1, 0])
def test_a_dead_process_stops_the_other_and_the_run_resumes(tmp_path, victim):
    """SIGKILL one of two processes after the first rows are written: the other exits non-zero
    within a bounded time (its next collective fails, at the latest after the 10 s heartbeat
    timeout), and a rerun with one process completes the folder with no row lost or duplicated,
    byte-identical to an undisturbed run."""
    sets = [*LARGER, "chunk_size=2"]
    _one_process(sets, tmp_path / "ref")
    out = tmp_path / "run"
    procs = _launch(sets, out, 2)
    results = out / "results.csv"
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        if results.exists() and len(results.read_text().splitlines()) > 4:
            break
        time.sleep(0.1)
    else:
        pytest.fail("no rows within 300 s")
    procs[victim].send_signal(signal.SIGKILL)
    t_kill = time.monotonic()
    survivor = procs[1 - victim]
    _, stderr = survivor.communicate(timeout=120)
    waited = time.monotonic() - t_kill
    procs[victim].wait()
    assert survivor.returncode != 0, stderr[-2000:]
    assert waited < 60, f"the survivor took {waited:.0f} s to stop"
    if victim == 1:  # process 0 says what happened and how to resume
        assert "another process of the run stopped or died" in stderr
    lines = results.read_text().splitlines()
    assert len(lines) < len((tmp_path / "ref" / "results.csv").read_text().splitlines())
    assert len(lines) == len(set(lines))
    _one_process(sets, out)  # resume with one process
    for name in ("results.csv", "summary.json"):
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
