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


def _wait_for_rows(results: Path, rows: int = 4) -> None:
    """Wait (at most 300 s) until ``results`` holds more than ``rows`` lines."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        if results.exists() and len(results.read_text().splitlines()) > rows:
            return
        time.sleep(0.1)
    pytest.fail(f"no rows in {results} within 300 s")


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
    _wait_for_rows(results)
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


# -- start-up: one run, one plan, checked before any collective (issue 31) ---------------------
QUICK = str(ROOT / "configs" / "quickstart.toml")
QSETS = ["N=[64]", "seeds=2", "plot.dpi=30"]


def _start(
    i: int, n: int, port: int, out: Path, extra: list[str] = (), config: str = QUICK, **env: str
) -> subprocess.Popen:
    args = [sys.executable, "-m", "hopjax", "run", config, "--out", str(out), "-q"]
    for s in QSETS:
        args += ["--set", s]
    args += ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(n)]
    args += ["--process-id", str(i), "--startup-timeout", "15", *extra]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        # a test run started in the background (`pytest … &` in a script) ignores SIGINT, and
        # children inherit that: restore the default so the SIGINT test means what it says
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _listening(port: int) -> bool:
    """Whether a socket listens on ``port`` (Linux: ``/proc/net/tcp*``; read, not probed, so
    the process under test sees no connection and no competing bind)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                return True
    return False


def _wait_listening(port: int, limit: float = 120.0) -> None:
    """Until something listens on ``port`` (process 0 binds it once its config is checked;
    importing JAX first can take long on a loaded machine, so no fixed sleep)."""
    if not Path("/proc/net/tcp").exists():  # not Linux: the old fixed wait
        time.sleep(4)
        return
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if _listening(port):
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {limit} s")


def _ends(p: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    _, stderr = p.communicate(timeout=timeout)
    return p.returncode, stderr


@pytest.mark.parametrize(
    "extra, config, key",
    [
        (["--set", "flip=[0.4]"], QUICK, "flip"),  # F1
        (["--set", "N=[96]"], QUICK, "N"),  # F1
        (["--set", "seeds=3"], QUICK, "seeds"),  # C3
        ([], str(ROOT / "configs" / "hebbian_palimpsest.toml"), "(experiment)"),  # H2
    ],
    ids=["flip", "N", "seeds", "other-experiment"],
)
def test_processes_of_one_run_must_agree_before_anything_runs(tmp_path, extra, config, key):
    """F1, C3, H2: process 1 started with another --set value or config than process 0 —
    before any collective, both exit 2 naming the differing key, and nothing is written (it
    used to label process 1's rows with process 0's values, abort in gloo, or hang)."""
    port = _free_port()
    out = tmp_path / "run"
    p0 = _start(0, 2, port, out)
    p1 = _start(1, 2, port, out, extra, config=config)
    (rc0, err0), (rc1, err1) = _ends(p0), _ends(p1)
    assert (rc0, rc1) == (2, 2), err0 + err1
    assert f"differs from process 0 in: {key}" in err0, err0
    assert f"differs from process 0 in: {key}" in err1, err1
    assert "Traceback" not in err0 + err1
    assert not (out / "results.csv").exists()


def test_missing_peers_end_the_run_naming_them(tmp_path):
    """H1: `--num-processes 3` with only process 0 started, or a peer without process 0: exit 1
    after --startup-timeout seconds, naming the missing process ids (it used to wait 300 s and
    abort with a C++ trace). The wait is in short steps, so SIGINT ends it at once."""
    port = _free_port()
    t0 = time.monotonic()
    lead = _start(0, 3, port, tmp_path / "a", ["--startup-timeout", "3"])
    rc, stderr = _ends(lead)
    assert rc == 1 and "processes 1, 2 of 3 did not arrive within 3 s" in stderr, stderr
    peer = _start(2, 3, _free_port(), tmp_path / "b", ["--startup-timeout", "3"])
    rc, stderr = _ends(peer)
    assert rc == 1 and "did not answer within 3 s" in stderr, stderr
    assert time.monotonic() - t0 < 40
    port = _free_port()
    waiting = _start(0, 2, port, tmp_path / "c", ["--startup-timeout", "60"])
    _wait_listening(port)  # past the config check: process 0 listens, waiting for process 1
    t_int = time.monotonic()
    waiting.send_signal(signal.SIGINT)
    rc, stderr = _ends(waiting, timeout=30)
    assert rc != 0 and time.monotonic() - t_int < 10
    assert "Traceback" not in stderr


def test_config_errors_and_dry_run_never_wait_for_peers(tmp_path):
    """H1: a config error or --dry-run on process 0 of a 2-process run answers at once."""
    port = _free_port()
    bad = _start(0, 2, port, tmp_path / "a", ["--set", "bogus=1"])
    rc, stderr = _ends(bad, timeout=30)
    assert rc == 2 and "unknown key 'bogus'" in stderr
    dry = _start(0, 2, port, tmp_path / "a", ["--dry-run"])
    rc, stderr = _ends(dry, timeout=30)
    assert rc == 0, stderr


@pytest.mark.parametrize("address", ["garbage", "127.0.0.1:", "127.0.0.1:99999", ":80"])
def test_a_malformed_coordinator_is_one_line_exit_2(tmp_path, address):
    """C2: --coordinator garbage is a one-line error (it was an IndexError traceback)."""
    p = _start(0, 2, 1, tmp_path / "a")
    p.kill()
    p.wait()
    args = [sys.executable, "-m", "hopjax", "run", QUICK, "--coordinator", address]
    args += ["--num-processes", "2", "--process-id", "0", "--out", str(tmp_path / "b")]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "coordinator must be HOST:PORT" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_coordinator_port_is_refused(tmp_path):
    """C1, F2: a coordinator port something else listens on — a plain socket here — is refused
    with exit 1 on process 0 (with --num-processes 1 it used to segfault; a second run's
    coordinator used to share the port with the first run's, and their rows crossed), and a
    peer that meets a program that is not its run's process 0 exits 1 too."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        rc, stderr = _ends(_start(0, 1, port, tmp_path / "a"))
        assert rc == 1 and f"coordinator port {port} is in use" in stderr, stderr
        peer = _start(1, 2, port, tmp_path / "b")
        time.sleep(3)
        conn, _ = held.accept()  # answer like something that is not a hopjax run
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()
        rc, stderr = _ends(peer)
        assert rc == 1 and "is not the coordinator of this run" in stderr, stderr
    assert not (tmp_path / "a" / "results.csv").exists()


@pytest.mark.parametrize(
    "env, multi",
    [
        ({"SLURM_NTASKS": "2", "SLURM_STEP_NUM_TASKS": "1"}, False),  # sbatch body (H3)
        ({"SLURM_NTASKS": "4"}, False),
        ({"SLURM_NTASKS": "2", "SLURM_STEP_NUM_TASKS": "2"}, True),  # srun step
        ({"OMPI_COMM_WORLD_SIZE": "2"}, True),
        ({"PMI_SIZE": "x"}, False),
    ],
)
def test_cluster_detection_needs_a_multi_task_launch(monkeypatch, env, multi):
    """H3: an sbatch script's body (SLURM_NTASKS = 2, one batch task) is one process, not a
    two-process run that waits forever for its second task; srun and mpirun launches are."""
    from hopjax.sweep.cluster import cluster_env_present

    for var in ("SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cluster_env_present() is multi


@pytest.mark.slow
def test_a_signal_to_one_process_stops_every_process_non_zero(tmp_path):
    """F5: SIGTERM to process 1 stops the run after the chunk in flight; every process exits
    non-zero and process 0 says how many rows are in the folder and how to resume (it used to
    exit 0 with "144/216 rows", a partial folder that looked finished); the rerun completes it."""
    sets = [*LARGER, "chunk_size=2"]
    out = tmp_path / "run"
    procs = _launch(sets, out, 2)
    results = out / "results.csv"
    _wait_for_rows(results)
    procs[1].send_signal(signal.SIGTERM)
    (_, err0), (_, err1) = (p.communicate(timeout=120) for p in procs)
    assert procs[1].returncode == 128 + signal.SIGTERM, err1[-2000:]
    assert procs[0].returncode == 1, err0[-2000:]
    assert "stopped" in err0 and "Rerun the same command to resume" in err0
    meta = (out / "metadata.json").read_text()
    assert '"complete": false' in meta
    _one_process(sets, out)
    assert '"complete": true' in (out / "metadata.json").read_text()


@pytest.mark.slow
def test_a_second_run_on_a_running_runs_coordinator_port_is_refused(tmp_path):
    """F2: a second two-process run given the port of a running one — its process 0 finds the
    port in use and its process 1 finds no hopjax run there: both exit 1 and write nothing;
    the first run finishes with exit 0 and only its own rows (they used to cross-connect and
    each folder received the other run's rows, every process exiting 0)."""
    first = tmp_path / "first"
    procs = _launch([*LARGER, "chunk_size=2"], first, 2)
    port = int(procs[0].args[procs[0].args.index("--coordinator") + 1].rsplit(":", 1)[1])
    _wait_for_rows(first / "results.csv", 1)
    second = tmp_path / "second"
    others = [_start(i, 2, port, second, ["--set", "N=[96]"]) for i in (0, 1)]
    (rc0, err0), (rc1, err1) = (_ends(p, timeout=120) for p in others)
    assert (rc0, rc1) == (1, 1), err0 + err1
    assert "is in use" in err0 and "not the coordinator of this run" in err1
    assert not (second / "results.csv").exists()
    for p in procs:
        _, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr[-2000:]
    lines = (first / "results.csv").read_text().splitlines()
    n_col = lines[0].split(",").index("N")
    assert {line.split(",")[n_col] for line in lines[1:]} == {"64", "100"}
