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

import os
import platform
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from hopjax.sweep.errors import RunError

__all__ = ["Cluster", "cluster_env_present", "init_distributed"]

_CLUSTER_SIZE_VARS = ("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def cluster_env_present() -> bool:
    """Whether this process was started as one of several tasks by SLURM (``srun``) or an MPI
    launcher (``mpirun``) — the launchers ``jax.distributed.initialize()`` configures itself
    from. A TPU pod slice is not detected here: pass ``--distributed``."""
    for var in _CLUSTER_SIZE_VARS:
        try:
            if int(os.environ.get(var, "1")) > 1:
                return True
        except ValueError:
            continue
    return False


def init_distributed(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    heartbeat_timeout: int = 100,
) -> None:
    """Start JAX's distributed runtime (:func:`jax.distributed.initialize`) for a multi-process
    sweep; call it before anything else touches JAX. With no arguments JAX detects SLURM, Open
    MPI and Cloud TPU environments itself; otherwise name the coordinator ``HOST:PORT``
    (process 0's address), the number of processes and this process's index. CPU processes
    exchange results over gloo. ``heartbeat_timeout`` (seconds) bounds how long the others take
    to notice a process that died without a word."""
    if heartbeat_timeout < 1:
        raise ValueError(f"heartbeat_timeout must be >= 1 second; got {heartbeat_timeout}.")
    if num_processes is not None and num_processes < 1:
        raise ValueError(f"num_processes must be >= 1; got {num_processes}.")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}); got {process_id}.")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        heartbeat_timeout_seconds=heartbeat_timeout,
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
