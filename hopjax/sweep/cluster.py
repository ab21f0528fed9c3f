"""Sweeps over several processes (hosts) with JAX's multi-controller runtime, ``jax.distributed``.

Design: **one SPMD program per chunk over a global mesh.** Every process runs the same sweep
loop on the same grid (expanded from the same config, so every process knows every row); a
chunk's arguments are built on each process from the rows (cheap, host-side) and assembled into
global arrays whose shards live on their owners' devices (``jax.make_array_from_callback``); the
compiled program runs on every device of every process at once, and the outputs are gathered to
every process (``multihost_utils.process_allgather``). Every process therefore holds the same
finished rows, and the experiment's ``prune``/``defer`` rules — functions of those rows — take
the same decisions everywhere with no further messages. **Process 0 alone touches the run
folder**: it takes the folder's lock, reads ``results.csv`` (sent to the others byte for byte,
so no shared file system is needed), appends rows, writes ``metadata.json``, the summary and
the plots.

Why this and not processes taking whole chunks or groups: it is JAX's own model (the same code
drives one device, eight GPUs of a host, or a pod), a chunk never waits on a scheduler of ours,
and there is nothing to merge — the rows a process sees are the rows process 0 writes. Its cost:
each chunk ends in one gather, and a chunk's slowest device sets its pace (the padding rule of
:class:`hopjax.sweep.program.GroupProgram` gives every device the same share).

Failure: JAX's coordination service watches every process's heartbeat; a peer that dies makes
the next collective of the others fail (at once when its connection drops, at the latest after
the heartbeat timeout), and :class:`Cluster` turns that into a :class:`RunError` — the rows
written so far are whole, and rerunning the command, with any number of processes, resumes.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from hopjax.sweep.errors import RunError

__all__ = [
    "Cluster",
    "StartupError",
    "cluster_env_present",
    "init_distributed",
    "parse_coordinator",
    "rendezvous",
]

# Sizes of a *job step* with several tasks: srun sets SLURM_STEP_NUM_TASKS (the body of an
# sbatch script runs in a one-task batch step with SLURM_NTASKS = the allocation's tasks, so
# SLURM_NTASKS alone is not a multi-task launch); mpirun sets OMPI_COMM_WORLD_SIZE or PMI_SIZE.
_CLUSTER_SIZE_VARS = ("SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")

STARTUP_TIMEOUT = 60
"""Default seconds the processes of a run wait for each other at start-up (``--startup-timeout``,
``HOPJAX_STARTUP_TIMEOUT``)."""


class StartupError(RuntimeError):
    """The processes of a multi-process run could not agree to start. ``code`` is the exit
    status: 2 for a mismatch (different configs, process counts or ids), 1 for peers that did
    not arrive or a coordinator port held by something else."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def cluster_env_present() -> bool:
    """Whether this process was started as one of several tasks of one launch: a SLURM job step
    (``srun``: ``SLURM_STEP_NUM_TASKS`` > 1) or an MPI launcher (``mpirun``:
    ``OMPI_COMM_WORLD_SIZE`` or ``PMI_SIZE`` > 1) — the launchers ``jax.distributed.initialize()``
    configures itself from. An sbatch script's body (one batch task, ``SLURM_STEP_NUM_TASKS`` =
    1) is not. A TPU pod slice is not detected here: pass ``--distributed``."""
    for var in _CLUSTER_SIZE_VARS:
        try:
            if int(os.environ.get(var, "1")) > 1:
                return True
        except ValueError:
            continue
    return False


def parse_coordinator(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[IPv6]:PORT`` too) → ``(host, port)``; a clear ``ValueError`` otherwise."""
    host, sep, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"coordinator must be HOST:PORT with a port in 1..65535 (e.g. 127.0.0.1:12345); "
            f"got {address!r}."
        )
    return host, int(port)


def _detect(
    coordinator: str | None, num_processes: int | None, process_id: int | None
) -> tuple[str | None, int | None, int | None]:
    """Fill what a launcher (SLURM, Open MPI …) says, as ``jax.distributed.initialize`` would."""
    if coordinator is not None and num_processes is not None and process_id is not None:
        return coordinator, num_processes, process_id
    try:
        from jax._src import clusters

        got = clusters.ClusterEnv.auto_detect_unset_distributed_params(
            coordinator, num_processes, process_id, None, None, None
        )
        return got[0], got[1], got[2]
    except Exception:  # an environment JAX detects differently (TPU): JAX's own start-up
        return coordinator, num_processes, process_id


def _diff(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    keys = sorted(set(mine) | set(theirs))
    return [k for k in keys if mine.get(k) != theirs.get(k)]


def _send(conn: socket.socket, obj: dict[str, Any]) -> None:
    conn.sendall(json.dumps(obj).encode() + b"\n")


def _receive(conn: socket.socket, deadline: float) -> dict[str, Any] | None:
    """One JSON line from ``conn`` before ``deadline``; ``None`` for anything else (a program
    that is not a hopjax run, a closed connection, the deadline)."""
    data = b""
    while b"\n" not in data and len(data) < 1 << 20:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        conn.settimeout(min(left, 0.5))  # short waits: SIGINT/SIGTERM are seen between them
        try:
            part = conn.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return None
        if not part:
            return None
        data += part
        if not data.startswith(b"{"):  # not one of ours: no need to wait for a newline
            return None
    try:
        got = json.loads(data.split(b"\n", 1)[0])
    except ValueError:
        return None
    return got if isinstance(got, dict) and got.get("hopjax") == 1 else None


def _lead_rendezvous(port: int, n: int, fingerprint: dict[str, Any], timeout: float) -> None:
    try:
        server = socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
    except (OSError, ValueError):
        try:
            server = socket.create_server(("0.0.0.0", port))
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else str(e)
            raise StartupError(
                f"the coordinator port {port} is in use ({why}): another run's "
                "coordinator, or another program, holds it. Choose a free port."
            ) from None
    peers: dict[int, socket.socket] = {}
    problems: list[str] = []
    deadline = time.monotonic() + timeout
    with server:
        server.settimeout(0.5)
        try:
            while len(peers) < n - 1 and time.monotonic() < deadline:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                hello = _receive(conn, min(deadline, time.monotonic() + 10))
                if hello is None:  # not one of ours (a port scanner, an unrelated client)
                    conn.close()
                    continue
                pid, count = hello.get("process_id"), hello.get("num_processes")
                if count != n:
                    problems.append(
                        f"process {pid} was started with --num-processes {count}, "
                        f"process 0 with {n}"
                    )
                elif not isinstance(pid, int) or not 0 < pid < n:
                    problems.append(f"a process has --process-id {pid} (expected 1..{n - 1})")
                elif pid in peers:
                    problems.append(f"two processes were started with --process-id {pid}")
                else:
                    theirs = hello.get("fingerprint", {})
                    keys = _diff(fingerprint, theirs)
                    if "(experiment)" in keys:
                        keys = ["(experiment)"]  # every other key follows from it
                    if keys:
                        shown = ", ".join(keys[:8]) + (
                            f" … ({len(keys) - 8} more)" * (len(keys) > 8)
                        )
                        problems.append(
                            f"process {pid} differs from process 0 in: {shown} "
                            "(every process must run the same config, --set values, --out, "
                            "experiment code and hopjax version)"
                        )
                if problems:
                    _send(conn, {"hopjax": 1, "ok": False, "error": problems[-1]})
                    conn.close()
                    break
                peers[pid] = conn
            missing = [i for i in range(1, n) if i not in peers]
            if not problems and missing:
                problems.append(
                    f"process{'es' if len(missing) > 1 else ''} "
                    f"{', '.join(map(str, missing))} of {n} did not arrive within {timeout:g} s "
                    "(--startup-timeout); start every process of the run with the same "
                    "--coordinator"
                )
            for conn in peers.values():
                reply = {"hopjax": 1, "ok": not problems}
                if problems:
                    reply["error"] = problems[0]
                try:
                    _send(conn, reply)
                except OSError:
                    pass
            for conn in peers.values():  # the peers close first (no TIME_WAIT on the port)
                _receive(conn, time.monotonic() + 2)
        finally:
            for conn in peers.values():
                conn.close()
    if problems:
        raise StartupError(problems[0], code=1 if "did not arrive" in problems[0] else 2)


def _peer_rendezvous(
    host: str, port: int, n: int, process_id: int, fingerprint: dict[str, Any], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    hello = {"hopjax": 1, "process_id": process_id, "num_processes": n, "fingerprint": fingerprint}
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise StartupError(
                f"process 0 at {host}:{port} did not answer within {timeout:g} s "
                "(--startup-timeout): is it running, with the same --coordinator?"
            )
        try:
            conn = socket.create_connection((host, port), timeout=min(left, 2.0))
        except OSError:
            time.sleep(min(0.5, max(left, 0)))
            continue
        with conn:
            try:
                _send(conn, hello)
            except OSError:
                time.sleep(0.5)
                continue
            # process 0 answers once every process arrived, or at its own deadline
            reply = _receive(conn, time.monotonic() + timeout + 15)
        if reply is None:
            raise StartupError(
                f"{host}:{port} is not the coordinator of this run (no hopjax run answered "
                "there: another program, or another run's processes, hold the port)."
            )
        if not reply.get("ok"):
            error = str(reply.get("error", "process 0 refused the run"))
            raise StartupError(f"process 0 refused the run: {error}", code=2)
        return


def rendezvous(
    coordinator: str,
    num_processes: int,
    process_id: int,
    fingerprint: dict[str, Any],
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    """Before JAX's runtime starts: process 0 listens on the coordinator's port, every other
    process connects and sends its ``fingerprint`` (its resolved config, experiment, code
    version …), process count and id; process 0 answers every one with a verdict once all
    ``num_processes − 1`` have arrived and agree. Mismatched fingerprints, counts or ids raise
    :class:`StartupError` (``code`` 2, naming the differing keys) on every process; peers
    missing after ``timeout`` seconds raise it (``code`` 1, naming their ids); a port already in
    use on process 0 raises it at once. Every wait is in steps of ≤ 0.5 s, so SIGINT/SIGTERM
    interrupt it. With one process, process 0 only checks that the port is free (JAX's
    coordinator service would otherwise share it with whatever holds it)."""
    host, port = parse_coordinator(coordinator)
    if process_id == 0:
        _lead_rendezvous(port, num_processes, fingerprint, timeout)
    else:
        _peer_rendezvous(host, port, num_processes, process_id, fingerprint, timeout)


def init_distributed(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    heartbeat_timeout: int = 100,
    startup_timeout: float = STARTUP_TIMEOUT,
    fingerprint: dict[str, Any] | None = None,
) -> None:
    """Start JAX's distributed runtime (:func:`jax.distributed.initialize`) for a multi-process
    sweep; call it before anything else touches JAX. With no arguments JAX detects SLURM, Open
    MPI and Cloud TPU environments itself; otherwise name the coordinator ``HOST:PORT``
    (process 0's address), the number of processes and this process's index. CPU processes
    exchange results over gloo. ``heartbeat_timeout`` (seconds) bounds how long the others take
    to notice a process that died without a word.

    Given a ``fingerprint``, the processes first meet in :func:`rendezvous` (bounded by
    ``startup_timeout`` seconds; a mismatch or a missing peer raises :class:`StartupError`),
    and JAX's own start-up is bounded by the same timeout."""
    if heartbeat_timeout < 1:
        raise ValueError(f"heartbeat_timeout must be >= 1 second; got {heartbeat_timeout}.")
    if not startup_timeout > 0:
        raise ValueError(f"startup_timeout must be > 0 seconds; got {startup_timeout}.")
    if num_processes is not None and num_processes < 1:
        raise ValueError(f"num_processes must be >= 1; got {num_processes}.")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}); got {process_id}.")
    if coordinator is not None:
        parse_coordinator(coordinator)
    coordinator, num_processes, process_id = _detect(coordinator, num_processes, process_id)
    if fingerprint is not None and None not in (coordinator, num_processes, process_id):
        assert coordinator is not None and num_processes is not None and process_id is not None
        rendezvous(coordinator, num_processes, process_id, fingerprint, startup_timeout)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        heartbeat_timeout_seconds=heartbeat_timeout,
        initialization_timeout=max(1, int(startup_timeout)),
    )


class Cluster:
    """This process's place in the run and the few collectives the sweep loop needs. With one
    process every collective is the identity and nothing is sent anywhere."""

    def __init__(self) -> None:
        self.count = jax.process_count()
        self.index = jax.process_index()
        self.lead = self.index == 0
        self.multi = self.count > 1

    def _collective(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as e:  # a peer that died: gloo's connection reset, or a timeout
            raise RunError(
                f"process {self.index} of {self.count}: {what} failed — another process of the "
                f"run stopped or died ({str(e).splitlines()[0][:160]}). The rows finished are "
                "in the run folder: rerun the command (any number of processes) to resume."
            ) from e

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` holds on some process (e.g. a stop requested on one of them)."""
        if not self.multi:
            return flag
        from jax.experimental import multihost_utils

        got = self._collective(
            "agreeing to go on",
            lambda: multihost_utils.process_allgather(np.asarray([flag], np.int32)),
        )
        return bool(np.asarray(got).any())

    def share_bytes(self, data: bytes | None) -> bytes:
        """Process 0's ``data`` on every process (the others pass ``None``)."""
        if not self.multi:
            return data or b""
        from jax.experimental import multihost_utils

        def send() -> bytes:
            n = len(data) if self.lead and data is not None else 0
            n = int(multihost_utils.broadcast_one_to_all(np.asarray(n, np.int64)))
            if n == 0:
                return b""
            buf = np.frombuffer(data, np.uint8) if self.lead and data else np.zeros(n, np.uint8)
            return np.asarray(multihost_utils.broadcast_one_to_all(buf), np.uint8).tobytes()

        return self._collective("receiving the run folder's state from process 0", send)

    def to_global(self, args: Any, sharding: jax.sharding.Sharding) -> Any:
        """Host arrays (the same on every process) → global arrays sharded over every device."""
        if not self.multi:
            return jax.device_put(args, sharding)

        def one(x: Any) -> jax.Array:
            x = np.asarray(x)
            return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])

        return jax.tree_util.tree_map(one, args)

    def run(self, compiled: Callable[..., Any], args: Any) -> Any:
        """Run a compiled chunk; its outputs, whole, as host arrays on every process."""
        if not self.multi:
            return jax.device_get(compiled(*args))
        from jax.experimental import multihost_utils

        return self._collective(
            "a chunk",
            lambda: jax.tree_util.tree_map(
                np.asarray, multihost_utils.process_allgather(compiled(*args), tiled=True)
            ),
        )

    def describe(self) -> list[dict[str, Any]]:
        """Per process: its index, host name and devices (for ``metadata.json``)."""
        hosts = [platform.node()]
        if self.multi:
            from jax.experimental import multihost_utils

            name = np.zeros(256, np.uint8)
            raw = platform.node().encode()[:256]
            name[: len(raw)] = np.frombuffer(raw, np.uint8)
            got = self._collective(
                "naming the hosts", lambda: multihost_utils.process_allgather(name)
            )
            hosts = [bytes(row).rstrip(b"\0").decode(errors="replace") for row in np.asarray(got)]
        return [
            {
                "process": i,
                "host": hosts[i],
                "devices": [str(d) for d in jax.devices() if d.process_index == i],
            }
            for i in range(self.count)
        ]
