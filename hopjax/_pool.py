"""Rows evaluated in blocks until decided, and pools of rows that refill decided slots.

An experiment whose rows can stop early (a verdict known before the horizon) describes one row
as a :class:`Stepper`: ``init`` a state, ``advance`` it by one block of work, ``decided`` says
when its result is final, ``result`` reads the metrics. :func:`run_row` runs one row to its
decision (``lax.while_loop``: under ``vmap`` a batch runs until its last row is decided).
:func:`run_pool` runs the rows of one PRNG stream through ``slots`` slots: every block
advances all slots at once (one batched program, the stream's shared arrays unbatched), and a
slot whose row is decided writes its result and takes the next row of the stream — so a fast
row never waits for a slow one. A row's result is the same either way: the same blocks of the
same computation, from the same state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray, PyTree

__all__ = ["Stepper", "run_pool", "run_row"]

Params = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Stepper:
    """One row of an experiment as a state advanced in blocks (described in
    :mod:`hopjax.sweep.stepper`).

    ``init(params, key, shared) -> state``; ``advance(params, state, shared) -> state`` (one
    block); ``decided(params, state) -> bool`` (must become true, e.g. at a horizon);
    ``result(params, state, shared) -> {metric: scalar}``. ``shared`` is the experiment's
    shared draws (``None`` without). ``slots``: rows a PRNG stream evaluates at once in
    :func:`run_pool`.
    """

    init: Callable[[Params, PRNGKeyArray, Any], PyTree]
    advance: Callable[[Params, PyTree, Any], PyTree]
    decided: Callable[[Params, PyTree], Array]
    result: Callable[[Params, PyTree, Any], dict[str, Array]]
    slots: int = 64


def run_row(stepper: Stepper, params: Params, key: PRNGKeyArray, shared: Any) -> dict:
    """One row: ``advance`` until ``decided``, then its ``result``."""
    state = jax.lax.while_loop(
        lambda st: ~stepper.decided(params, st),
        lambda st: stepper.advance(params, st, shared),
        stepper.init(params, key, shared),
    )
    return stepper.result(params, state, shared)


def run_pool(
    stepper: Stepper,
    static: Params,
    rows: dict[str, Array],
    n_rows: Array,
    key: PRNGKeyArray,
    shared: Any,
) -> dict[str, Array]:
    """The first ``n_rows`` rows of a stream (``rows``: their traced params, shape ``(M,)``)
    through ``min(slots, M)`` slots; returns every metric with shape ``(M,)`` (rows past
    ``n_rows``: zeros)."""
    M = next(iter(rows.values())).shape[0]
    S = min(stepper.slots, M)

    def params(i: Array) -> Params:
        return {**static, **{k: v[i] for k, v in rows.items()}}

    def init(i: Array) -> PyTree:
        return stepper.init(params(i), key, shared)

    def result(i: Array, st: PyTree) -> dict[str, Array]:
        return stepper.result(params(i), st, shared)

    slot_row = jnp.arange(S)
    states = jax.vmap(init)(slot_row)
    shapes = jax.eval_shape(result, jnp.asarray(0), jax.tree.map(lambda a: a[0], states))
    out = {k: jnp.zeros((M, *s.shape), s.dtype) for k, s in shapes.items()}
    active = slot_row < n_rows

    def cond(c: tuple) -> Array:
        return jnp.any(c[2])

    def body(c: tuple) -> tuple:
        states, slot_row, active, nxt, out = c
        states = jax.vmap(lambda i, st: stepper.advance(params(i), st, shared))(slot_row, states)
        done = active & jax.vmap(lambda i, st: stepper.decided(params(i), st))(slot_row, states)
        res = jax.vmap(result)(slot_row, states)
        where = jnp.where(done, slot_row, M)  # M: dropped
        out = {k: out[k].at[where].set(res[k], mode="drop") for k in out}
        new_row = nxt + jnp.cumsum(done) - 1
        refill = done & (new_row < n_rows)
        fresh = jax.vmap(init)(jnp.clip(new_row, 0, M - 1))
        states = jax.tree.map(
            lambda f, s: jnp.where(refill.reshape(-1, *[1] * (f.ndim - 1)), f, s), fresh, states
        )
        slot_row = jnp.where(refill, new_row, slot_row)
        active = (active & ~done) | refill
        return states, slot_row, active, nxt + jnp.sum(done), out

    *_, out = jax.lax.while_loop(cond, body, (states, slot_row, active, jnp.asarray(S), out))
    return out
