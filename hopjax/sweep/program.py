"""The compiled evaluation of one static group: its program (``jit`` of ``vmap``), its chunk
size, and its chunks' arguments."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax._checks import traced_checks
from hopjax.sweep.experiment import Params, Row
from hopjax.sweep.plan import Plan
from hopjax.sweep.stepper import Stepper, run_pool

__all__ = ["GroupProgram", "ShapePolicy"]


def _unchecked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` traced without hopjax's run-time value checks (:func:`hopjax._checks.traced_checks`):
    a program with a check holds a host callback, which JAX never stores in its persistent
    compilation cache — so every rerun and resume compiled again. The sweep's inputs are
    validated before anything runs (config checks name the key)."""

    def traced(*args: Any) -> Any:
        with traced_checks(False):
            return fn(*args)

    return traced


def _viewed(st: Stepper) -> Stepper:
    """``st`` receiving its params as a :class:`~hopjax.sweep.experiment.Params` view (the pool
    builds them as dicts)."""
    return Stepper(
        init=lambda q, key, sh: st.init(Params(q), key, sh),
        advance=lambda q, state, sh: st.advance(Params(q), state, sh),
        decided=lambda q, state: st.decided(Params(q), state),
        result=lambda q, state, sh: st.result(Params(q), state, sh),
        slots=st.slots,
    )


class GroupProgram:
    """The compiled evaluation of one static group.

    Rows one by one (``vmap`` over rows), or — for an experiment with ``shared`` draws —
    PRNG streams: a chunk is ``U`` streams × ``M`` rows (short streams padded with their last
    row), ``shared`` is computed once per stream and the stream's rows run as an inner ``vmap``
    with it unbatched. ``size`` is the number of units (rows or streams) per chunk: sized from
    ``memory_mb`` and the experiment's per-row estimate, or ``chunk_size``, rounded up to a
    multiple of the device count so every device gets the same share.
    """

    def __init__(self, plan: Plan, static: dict[str, Any], rows: list[Row]):
        exp, cfg = plan.exp, plan.cfg
        self.plan, self.exp, self.cfg = plan, exp, cfg
        self.params = plan.static_params(static)
        self.streams = exp.shared is not None and cfg.share_draws
        if self.streams:
            ident = [k for k in plan.grid_keys if k not in exp.key_exclude]
            by: dict[tuple[Any, ...], list[Row]] = {}
            for r in rows:
                by.setdefault((r["seed"], *(r[k] for k in ident)), []).append(r)
            self.units = list(by.values())
            self.m = max(len(u) for u in self.units)
            self.stream_keys = [k for k in plan.dynamic if k not in exp.key_exclude]
        else:
            self.units, self.m = [[r] for r in rows], 1
        self.cap = self._chunk_cap()
        """The most units a chunk may hold (``chunk_size``, or what ``memory_mb`` allows)."""
        self.size = self._devices(min(self.cap, len(self.units)))

    def _chunk_cap(self) -> int:
        if self.cfg.chunk_size > 0:
            return self._devices(self.cfg.chunk_size)
        per_row = self.plan.row_bytes(self.params)
        return self._devices(max(1, (self.cfg.memory_mb << 20) // max(1, per_row * self.m)))

    @staticmethod
    def _devices(size: int) -> int:
        n_dev = jax.device_count()
        return math.ceil(size / n_dev) * n_dev  # every device gets the same share

    @property
    def shape(self) -> tuple[int, int]:
        """``(units per chunk, rows per unit)``: the shape the program is compiled for."""
        return self.size, self.m

    def work_of(self, shape: tuple[int, int]) -> int:
        """Units × rows evaluated at once of a chunk shaped ``shape`` (a pool evaluates at most
        its slots per unit)."""
        st = self.exp.stepper
        lanes = min(st.slots, shape[1]) if self.streams and st is not None else shape[1]
        return shape[0] * lanes

    @property
    def work(self) -> int:
        """:meth:`work_of` this program's shape."""
        return self.work_of(self.shape)

    @property
    def lanes(self) -> int:
        """Rows evaluated at once per unit: a pool's slots (``min(slots, m)``), else ``m``."""
        return self.work_of((1, self.m))

    def pad_to(self, shape: tuple[int, int]) -> None:
        """Run in a program compiled for the larger ``shape`` (the extra units and rows are
        padding whose outputs are dropped: a row's result does not depend on them)."""
        size, m = shape
        if size < self.size or m < self.m or (m != self.m and not self.streams):
            raise ValueError(f"cannot pad a chunk of shape {self.shape} to {shape}.")
        self.size, self.m = size, m

    @property
    def chunk_bytes(self) -> int:
        """The experiment's memory estimate of one chunk."""
        return self.plan.row_bytes(self.params) * self.size * self.m

    def program(self) -> Callable[..., Any]:
        """The jitted, vmapped evaluation of one chunk's arguments."""
        exp, p, fn = self.exp, self.params, self.exp.row_fn
        if not self.streams:
            if exp.shared is None:

                def point(dyn: dict[str, Array], key: PRNGKeyArray) -> dict:
                    return fn(Params({**p, **dyn}), key)

            else:  # the reference: every row computes its own copy of the shared draws

                def point(dyn: dict[str, Array], key: PRNGKeyArray) -> dict:
                    q = Params({**p, **dyn})
                    return fn(q, key, exp.shared(q, key))

            return jax.jit(jax.vmap(_unchecked(point)))

        def stream(dyn: dict[str, Array], key: PRNGKeyArray, count: Array) -> dict:
            shared = exp.shared(Params({**p, **{k: dyn[k][0] for k in self.stream_keys}}), key)
            if exp.stepper is not None:  # a pool of slots refilled as rows are decided
                return run_pool(_viewed(exp.stepper), p, dyn, count, key, shared)
            return jax.vmap(lambda d: fn(Params({**p, **d}), key, shared))(dyn)

        return jax.jit(jax.vmap(_unchecked(stream)))

    def chunks(self) -> Iterator[tuple[list[Row], list[int], tuple[Any, ...]]]:
        """Per chunk: its rows, each row's index in the flattened outputs, and the arguments
        ``(dyn, keys)`` (padded to the chunk size; streams padded to ``M`` rows)."""
        for start in range(0, len(self.units), self.size):
            part = self.units[start : start + self.size]
            padded = part + [part[-1]] * (self.size - len(part))
            rows = [r for u in part for r in u]
            index = [i * self.m + j for i, u in enumerate(part) for j in range(len(u))]
            keys = self.plan.keys([u[0] for u in padded])
            if not self.streams:
                dyn = self.plan.arrays(rows + [rows[-1]] * (self.size - len(rows)))
                yield rows, index, (dyn, keys)
                continue
            full = [u + [u[-1]] * (self.m - len(u)) for u in padded]
            flat = self.plan.arrays([r for u in full for r in u])
            dyn = {k: v.reshape(self.size, self.m) for k, v in flat.items()}
            counts = np.asarray([len(u) for u in part] + [0] * (self.size - len(part)), np.int32)
            yield rows, index, (dyn, keys, counts)

    def per_row(self, index: list[int], out: dict[str, Any]) -> list[dict[str, Any]]:
        """A chunk's outputs, one dict per row (stream outputs ``(U, M, …)`` flattened)."""
        flat = {k: v.reshape(-1, *v.shape[1 + self.streams :]) for k, v in out.items()}
        return [{k: v[q] for k, v in flat.items()} for q in index]


class ShapePolicy:
    """Which chunk shape each round of a static group runs in (scheduled experiments, CPU, one
    process).

    A scheduled sweep runs a group in several rounds whose chunks differ in shape (the units
    and rows a round releases), and each new shape is a new program. While the sweep is
    compile-bound, a round runs instead in a larger program already compiled for its group, or
    a new program is compiled large enough for the other shapes of the sweep — as long as the
    padding costs less than a compile: a shape of work ``W`` (units × rows evaluated at once)
    for a round of work ``w`` is accepted when ``(W − w) · r < t_compile``, with ``r`` the run
    seconds per unit of work of the chunks so far (their seconds over their shapes' work) and
    ``t_compile`` the mean compile seconds of a program so far (a program loaded from the disk
    cache counts its original compile time, so a rerun decides as the first run did). (The
    first rule, ``(W/w − 1) · t_run`` with the mean chunk's seconds, priced a small round's
    padding as if the round were a mean chunk: on the reduced Fig. 3 grid it compiled a
    ``(1, 1)`` program for 2 s rather than run in a ``(4, 4)`` one whose chunks took 0.2 s.)
    Padding changes no result on CPU (tested on every scheduled config's reduced grid and
    with every round forced into a larger program): a row's computation does not depend on the
    other rows of its chunk. Only for experiments with a ``schedule`` (those run groups in
    rounds); off on other backends (a GPU's matrix kernels may depend on the batch shape), in
    multi-process runs (every process must run the same shapes) and with
    ``HOPJAX_SHAPE_REUSE=0``.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.compile_seconds, self.programs = 0.0, 0
        self.run_seconds, self.chunks, self.run_work = 0.0, 0, 0
        self.shapes: dict[tuple[Any, ...], set[tuple[int, int]]] = {}

    def record_compile(self, seconds: float) -> None:
        self.compile_seconds += seconds
        self.programs += 1

    def record_run(self, seconds: float, work: int = 1) -> None:
        """A chunk ran in ``seconds``; ``work``: its shape's units × rows evaluated at once
        (:attr:`GroupProgram.work`)."""
        self.run_seconds += seconds
        self.chunks += 1
        self.run_work += work

    def choose(self, group: tuple[Any, ...], program: GroupProgram) -> tuple[int, int]:
        """The shape ``program`` (a round of ``group``) runs in; remembered for the group."""
        need = program.shape
        known = self.shapes.setdefault(group, set())
        shape = self._choose(need, known, program)
        known.add(shape)
        return shape

    def _choose(
        self, need: tuple[int, int], known: set[tuple[int, int]], program: GroupProgram
    ) -> tuple[int, int]:
        if not self.enabled or need in known or not (self.programs and self.chunks):
            return need
        rate = self.run_seconds / max(1, self.run_work)
        t_compile = self.compile_seconds / self.programs

        work = program.work_of

        def fits(shape: tuple[int, int]) -> bool:
            covers = shape[0] >= need[0] and shape[1] >= need[1]
            within = shape[0] <= program.cap and shape[0] * shape[1] <= program.cap * need[1]
            same_m = program.streams or shape[1] == need[1]
            return covers and within and same_m and (work(shape) - work(need)) * rate < t_compile

        reuse = [s for s in known if fits(s)]
        if reuse:
            return min(reuse, key=work)
        every = [s for ss in self.shapes.values() for s in ss] + [need]
        big = (min(program.cap, max(s[0] for s in every)), max(s[1] for s in every))
        return big if fits(big) else need
