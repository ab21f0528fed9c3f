"""Attention-style Hopfield layers in the vocabulary of ``hopfield-layers`` (Ramsauer et al. 2021,
"Hopfield Networks is All You Need", arXiv:2008.02217).

:class:`Hopfield` associates *state* patterns ``R`` (queries, ``(L_q, d_state)``) with *stored*
patterns ``Y`` (``(L_k, d_stored)``) and returns their *pattern projections*
(``(L_k, d_pattern)``, default ``Y``)::

    Q = R W_Q,  K = Y W_K,  V = P W_V
    Q ← softmax(β Q Kᵀ) K        (update_steps_max times: the modern Hopfield update in the
                                  association space; 0 = the one-step layer)
    out = softmax(β Q Kᵀ + mask) V W_O

With ``update_steps_max = 0`` this is single-head attention (tested equal to a direct
computation). :class:`HopfieldPooling` learns the state patterns (a learned query: pooling a
set into ``num_queries`` vectors); :class:`HopfieldLayer` learns the stored patterns and their
projections (a lookup into a learned memory). Shapes are per example: batch with ``jax.vmap``.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

__all__ = ["Hopfield", "HopfieldLayer", "HopfieldPooling"]


def _check_2d(x: Array, name: str, width: int) -> None:
    if x.ndim != 2:
        raise ValueError(
            f"{name} must have shape (length, {width}) per example (batch with jax.vmap); "
            f"got shape {tuple(x.shape)}."
        )
    if x.shape[1] != width:
        raise ValueError(f"{name} must have {width} features (last axis); got {x.shape[1]}.")


class Hopfield(eqx.Module):
    """The Hopfield association layer (module docstring).

    ``scaling`` is β (default ``1/sqrt(hidden_size)``); ``normalize`` applies a layer norm to
    state and stored patterns before their projections (hopfield-layers'
    ``normalize_state_pattern`` / ``normalize_stored_pattern``).
    """

    W_Q: eqx.nn.Linear
    W_K: eqx.nn.Linear
    W_V: eqx.nn.Linear
    W_O: eqx.nn.Linear
    norm_state: eqx.nn.LayerNorm | None
    norm_stored: eqx.nn.LayerNorm | None
    scaling: float = eqx.field(static=True)
    update_steps_max: int = eqx.field(static=True)
    state_size: int = eqx.field(static=True)
    stored_size: int = eqx.field(static=True)
    pattern_size: int = eqx.field(static=True)

    def __init__(
        self,
        state_size: int,
        stored_size: int | None = None,
        pattern_size: int | None = None,
        *,
        hidden_size: int = 32,
        output_size: int | None = None,
        scaling: float | None = None,
        update_steps_max: int = 0,
        normalize: bool = False,
        key: PRNGKeyArray,
    ):
        stored_size = state_size if stored_size is None else stored_size
        pattern_size = stored_size if pattern_size is None else pattern_size
        output_size = state_size if output_size is None else output_size
        for name, v in (
            ("state_size", state_size),
            ("stored_size", stored_size),
            ("pattern_size", pattern_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
        ):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}.")
        if not isinstance(update_steps_max, int) or update_steps_max < 0:
            raise ValueError(f"update_steps_max must be an integer >= 0; got {update_steps_max!r}.")
        if scaling is not None and not scaling > 0:
            raise ValueError(f"scaling must be > 0; got {scaling}.")
        kq, kk, kv, ko = jax.random.split(key, 4)
        self.W_Q = eqx.nn.Linear(state_size, hidden_size, use_bias=False, key=kq)
        self.W_K = eqx.nn.Linear(stored_size, hidden_size, use_bias=False, key=kk)
        self.W_V = eqx.nn.Linear(pattern_size, hidden_size, use_bias=False, key=kv)
        self.W_O = eqx.nn.Linear(hidden_size, output_size, use_bias=False, key=ko)
        self.norm_state = eqx.nn.LayerNorm(state_size) if normalize else None
        self.norm_stored = eqx.nn.LayerNorm(stored_size) if normalize else None
        self.scaling = 1.0 / math.sqrt(hidden_size) if scaling is None else float(scaling)
        self.update_steps_max = update_steps_max
        self.state_size, self.stored_size, self.pattern_size = state_size, stored_size, pattern_size

    def association(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
    ) -> Float[Array, "Lq Lk"]:
        """The final association weights ``softmax(β Q Kᵀ)`` (masked keys get weight 0)."""
        _check_2d(stored, "stored", self.stored_size)
        _check_2d(state, "state", self.state_size)
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.dtype != jnp.bool_:
                raise TypeError(f"mask must be boolean (True = attend); got dtype {mask.dtype}.")
            if mask.shape not in ((stored.shape[0],), (state.shape[0], stored.shape[0])):
                raise ValueError(
                    f"mask must have shape (Lk,) = ({stored.shape[0]},) or (Lq, Lk) = "
                    f"({state.shape[0]}, {stored.shape[0]}); got {tuple(mask.shape)}."
                )
        if self.norm_state is not None:
            state = jax.vmap(self.norm_state)(state)
            stored = jax.vmap(self.norm_stored)(stored)
        Q = jax.vmap(self.W_Q)(state)
        K = jax.vmap(self.W_K)(stored)

        def attend(Q: Array) -> Array:
            logits = self.scaling * Q @ K.T
            if mask is not None:
                logits = jnp.where(mask, logits, -jnp.inf)
            return jax.nn.softmax(logits, axis=-1)

        for _ in range(self.update_steps_max):  # static, small: the iterated Hopfield update
            Q = attend(Q) @ K
        return attend(Q)

    def __call__(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        pattern: Float[Array, "Lk dp"] | None = None,
        *,
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "Lq do"]:
        """``softmax(β Q Kᵀ) V W_O`` after ``update_steps_max`` updates of ``Q`` (``key`` is
        unused: deterministic, accepted for ``eqx.nn.Sequential``)."""
        _check_2d(stored, "stored", self.stored_size)
        pattern = stored if pattern is None else pattern
        _check_2d(pattern, "pattern", self.pattern_size)
        if pattern.shape[0] != stored.shape[0]:
            raise ValueError(
                f"pattern must have one row per stored pattern ({stored.shape[0]}); "
                f"got {pattern.shape[0]}."
            )
        A = self.association(stored, state, mask)
        V = jax.vmap(self.W_V)(pattern)
        return jax.vmap(self.W_O)(A @ V)


class HopfieldPooling(eqx.Module):
    """Pool a set ``(L, d)`` into ``num_queries`` vectors with learned state patterns
    (hopfield-layers' ``HopfieldPooling``); returns ``(num_queries · output_size,)``."""

    hopfield: Hopfield
    query: Float[Array, "nq d"]

    def __init__(
        self,
        input_size: int,
        *,
        hidden_size: int = 32,
        output_size: int | None = None,
        num_queries: int = 1,
        scaling: float | None = None,
        update_steps_max: int = 0,
        normalize: bool = False,
        key: PRNGKeyArray,
    ):
        kh, kq = jax.random.split(key)
        self.hopfield = Hopfield(
            input_size,
            input_size,
            input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            scaling=scaling,
            update_steps_max=update_steps_max,
            normalize=normalize,
            key=kh,
        )
        self.query = jax.random.normal(kq, (num_queries, input_size)) / math.sqrt(input_size)

    def __call__(
        self,
        x: Float[Array, "L d"],
        *,
        mask: Bool[Array, " L"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, " out"]:
        return self.hopfield(x, self.query, mask=mask).reshape(-1)


class HopfieldLayer(eqx.Module):
    """Look up states ``(L_q, d)`` in ``quantity`` learned stored patterns with learned pattern
    projections (hopfield-layers' ``HopfieldLayer``); returns ``(L_q, output_size)``."""

    hopfield: Hopfield
    stored: Float[Array, "n d"]
    patterns: Float[Array, "n d"]

    def __init__(
        self,
        input_size: int,
        *,
        quantity: int = 16,
        hidden_size: int = 32,
        output_size: int | None = None,
        scaling: float | None = None,
        update_steps_max: int = 0,
        key: PRNGKeyArray,
    ):
        kh, ks, kp = jax.random.split(key, 3)
        self.hopfield = Hopfield(
            input_size,
            input_size,
            input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            scaling=scaling,
            update_steps_max=update_steps_max,
            key=kh,
        )
        self.stored = jax.random.normal(ks, (quantity, input_size)) / math.sqrt(input_size)
        self.patterns = jax.random.normal(kp, (quantity, input_size)) / math.sqrt(input_size)

    def __call__(
        self, x: Float[Array, "Lq d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "Lq out"]:
        return self.hopfield(self.stored, x, self.patterns)
