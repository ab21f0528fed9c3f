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
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from hopjax.normalizers import Normalizer, get_normalizer

__all__ = ["Hopfield", "HopfieldLayer", "HopfieldPooling"]


def dropout(x: Array, p: float, key: PRNGKeyArray | None) -> Array:
    """Inverted dropout: zero each entry with probability ``p`` and rescale the rest by
    ``1/(1−p)`` (unbiased); the identity without a ``key`` (inference) or at ``p = 0``."""
    if key is None or p == 0:
        return x
    return jnp.where(jax.random.bernoulli(key, 1.0 - p, x.shape), x / (1.0 - p), 0.0)


def _check_2d(x: Array, name: str, width: int) -> None:
    if x.ndim != 2:
        raise ValueError(
            f"{name} must have shape (length, {width}) per example (batch with jax.vmap); "
            f"got shape {tuple(x.shape)}."
        )
    if x.shape[1] != width:
        raise ValueError(f"{name} must have {width} features (last axis); got {x.shape[1]}.")


class Hopfield(eqx.Module):
    """The Hopfield association layer (described in :mod:`hopjax.nn.hopfield`), with ``num_heads``
    heads.

    Each head has its own ``hidden_size``-wide association space (the projections are
    ``num_heads · hidden_size`` wide, split into heads); the heads' outputs are concatenated
    before ``W_O``. ``scaling`` is β (default ``1/sqrt(hidden_size)``); ``normalize`` applies a
    layer norm to state and stored patterns before their projections (hopfield-layers'
    ``normalize_state_pattern`` / ``normalize_stored_pattern``).

    ``update_steps_max = k`` iterates the modern Hopfield update ``Q ← softmax(β Q Kᵀ) K`` up to
    ``k`` times per head; with ``update_steps_eps = ε`` a head stops once no entry of ``Q``
    changes by more than ``ε`` (hopfield-layers' early stop; a ``lax.scan`` that freezes
    converged heads, so it stays differentiable). Each update does not increase the energy
    ``E(Q) = −β⁻¹ logsumexp(β Q Kᵀ) + ½ |Q|²`` (Ramsauer et al. 2021, eq. (2) up to constants;
    :meth:`energy`). ``dropout = p`` drops entries of the final association matrix (rescaled by
    ``1/(1−p)``) when a ``key`` is passed to :meth:`__call__`; without a key it is the
    inference-mode layer.

    Args:
        state_size: size of the state (query) vectors.
        stored_size: size of the stored (key) vectors (default ``state_size``).
        pattern_size: size of the pattern (value) vectors (default ``stored_size``).
        hidden_size: width of each head's association space.
        output_size: size of the output vectors (default ``state_size``).
        num_heads: number of heads.
        scaling: ``β`` (default ``1/sqrt(hidden_size)``).
        update_steps_max: most modern-Hopfield updates per head (0: one association).
        update_steps_eps: stop a head once no entry changes by more than this.
        dropout: dropout rate on the association matrix (active when a key is passed).
        normalize: layer-normalise state and stored patterns before projecting them.
        normalizer: ``"softmax"`` (default), ``"sparsemax"``, ``"entmax"``, ``"normmax"`` or a
            :class:`hopjax.normalizers.Normalizer`: the association's normaliser.
        key: PRNG key for the initial weights.

    Example:
        ```python
        layer = hj.nn.Hopfield(16, key=jax.random.PRNGKey(0))
        out = layer(stored, states)  # (L_q, 16) from stored (L_k, 16) and states (L_q, 16)
        ```
    """

    W_Q: eqx.nn.Linear
    W_K: eqx.nn.Linear
    W_V: eqx.nn.Linear
    W_O: eqx.nn.Linear
    norm_state: eqx.nn.LayerNorm | None
    norm_stored: eqx.nn.LayerNorm | None
    scaling: float = eqx.field(static=True)
    update_steps_max: int = eqx.field(static=True)
    update_steps_eps: float | None = eqx.field(static=True)
    num_heads: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    dropout: float = eqx.field(static=True)
    state_size: int = eqx.field(static=True)
    stored_size: int = eqx.field(static=True)
    pattern_size: int = eqx.field(static=True)
    normalizer: Normalizer = eqx.field(static=True)

    def __init__(
        self,
        state_size: int,
        stored_size: int | None = None,
        pattern_size: int | None = None,
        *,
        hidden_size: int = 32,
        output_size: int | None = None,
        num_heads: int = 1,
        scaling: float | None = None,
        update_steps_max: int = 0,
        update_steps_eps: float | None = None,
        dropout: float = 0.0,
        normalize: bool = False,
        normalizer: str | Normalizer = "softmax",
        key: PRNGKeyArray,
    ):
        self.normalizer = get_normalizer(normalizer)
        stored_size = state_size if stored_size is None else stored_size
        pattern_size = stored_size if pattern_size is None else pattern_size
        output_size = state_size if output_size is None else output_size
        for name, v in (
            ("state_size", state_size),
            ("stored_size", stored_size),
            ("pattern_size", pattern_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
            ("num_heads", num_heads),
        ):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}.")
        if not isinstance(update_steps_max, int) or update_steps_max < 0:
            raise ValueError(f"update_steps_max must be an integer >= 0; got {update_steps_max!r}.")
        if update_steps_eps is not None and not update_steps_eps > 0:
            raise ValueError(f"update_steps_eps must be > 0 (or None); got {update_steps_eps}.")
        if scaling is not None and not (scaling > 0 and math.isfinite(scaling)):
            raise ValueError(f"scaling must be a finite number > 0; got {scaling}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1); got {dropout}.")
        kq, kk, kv, ko = jax.random.split(key, 4)
        width = num_heads * hidden_size
        self.W_Q = eqx.nn.Linear(state_size, width, use_bias=False, key=kq)
        self.W_K = eqx.nn.Linear(stored_size, width, use_bias=False, key=kk)
        self.W_V = eqx.nn.Linear(pattern_size, width, use_bias=False, key=kv)
        self.W_O = eqx.nn.Linear(width, output_size, use_bias=False, key=ko)
        self.norm_state = eqx.nn.LayerNorm(state_size) if normalize else None
        self.norm_stored = eqx.nn.LayerNorm(stored_size) if normalize else None
        self.scaling = 1.0 / math.sqrt(hidden_size) if scaling is None else float(scaling)
        self.update_steps_max = update_steps_max
        self.update_steps_eps = None if update_steps_eps is None else float(update_steps_eps)
        self.num_heads, self.hidden_size, self.dropout = num_heads, hidden_size, float(dropout)
        self.state_size, self.stored_size, self.pattern_size = state_size, stored_size, pattern_size

    def _check_mask(self, mask: Array | None, n_q: int, n_k: int) -> Array | None:
        if mask is None:
            return None
        mask = jnp.asarray(mask)
        if mask.dtype != jnp.bool_:
            raise TypeError(f"mask must be boolean (True = attend); got dtype {mask.dtype}.")
        if mask.shape not in ((n_k,), (n_q, n_k)):
            raise ValueError(
                f"mask must have shape (Lk,) = ({n_k},) or (Lq, Lk) = ({n_q}, {n_k}); "
                f"got {tuple(mask.shape)}."
            )
        return mask

    def _heads(self, x: Array) -> Array:
        """``(L, H·d) → (H, L, d)``."""
        return x.reshape(x.shape[0], self.num_heads, self.hidden_size).transpose(1, 0, 2)

    def _project(self, stored: Array, state: Array) -> tuple[Array, Array]:
        """Per-head queries and keys ``(H, L_q, d)``, ``(H, L_k, d)``."""
        _check_2d(stored, "stored", self.stored_size)
        _check_2d(state, "state", self.state_size)
        if self.norm_state is not None:
            state = jax.vmap(self.norm_state)(state)
            stored = jax.vmap(self.norm_stored)(stored)
        return self._heads(jax.vmap(self.W_Q)(state)), self._heads(jax.vmap(self.W_K)(stored))

    def _logits(self, Q: Array, K: Array, mask: Array | None) -> Array:
        logits = self.scaling * Q @ K.T
        return logits if mask is None else jnp.where(mask, logits, -jnp.inf)

    def _sparse_logits(self, Q: Array, K: Array, mask: Array | None) -> Array:
        """``β Q Kᵀ`` with masked keys far below every other score (finite, unlike the softmax
        path's ``−inf``: the sparse normalisers' thresholds stay finite, and an exact zero
        weight needs no infinity)."""
        logits = self.scaling * Q @ K.T
        return logits if mask is None else jnp.where(mask, logits, -1e30)

    def _softmax(self, Q: Array, K: Array, mask: Array | None) -> Array:
        """The normaliser of ``β Q Kᵀ`` over the unmasked keys (``softmax`` by default); a query
        whose keys are all masked gets weight 0 everywhere (it attends to nothing) instead of
        NaN."""
        if self.normalizer.name == "softmax":
            A = jax.nn.softmax(self._logits(Q, K, mask), axis=-1)
        else:
            A = self.normalizer(self._sparse_logits(Q, K, mask))
        if mask is None:
            return A
        return jnp.where(jnp.any(mask, axis=-1, keepdims=True), A, 0.0)

    def _step(self, Q: Array, K: Array, mask: Array | None) -> Array:
        """One modern Hopfield update of one head's queries, ``Q ← ŷ(β Q Kᵀ) K``."""
        return self._softmax(Q, K, mask) @ K

    def _update(self, Q: Array, K: Array, mask: Array | None) -> Array:
        """One head's queries after the ``update_steps_max`` updates (early stop at ``ε``)."""
        if self.update_steps_max == 0:
            return Q

        def step(carry: tuple[Array, Array], _: None) -> tuple[tuple[Array, Array], None]:
            Q, done = carry
            new = self._step(Q, K, mask)
            if self.update_steps_eps is None:
                return (new, done), None
            moved = jnp.max(jnp.abs(new - Q))
            return (jnp.where(done, Q, new), done | (moved <= self.update_steps_eps)), None

        (Q, _), _ = jax.lax.scan(step, (Q, jnp.asarray(False)), None, self.update_steps_max)
        return Q

    def association(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
    ) -> Float[Array, "Lq Lk"] | Float[Array, "H Lq Lk"]:
        """The final association weights ``softmax(β Q Kᵀ)`` (masked keys get weight 0), after
        the updates: ``(L_q, L_k)`` for one head, ``(num_heads, L_q, L_k)`` for several."""
        A = self._associate(stored, state, mask)
        return A[0] if self.num_heads == 1 else A

    def _per_head(
        self, stored: Array, state: Array, mask: Array | None, fn: Callable[..., Array]
    ) -> Array:
        """``fn(Q, K, mask)`` for every head, stacked ``(num_heads, …)`` (mask checked,
        patterns projected once)."""
        mask = self._check_mask(mask, state.shape[0], stored.shape[0])
        Q, K = self._project(stored, state)
        return jax.vmap(lambda q, k: fn(q, k, mask))(Q, K)

    def _associate(self, stored: Array, state: Array, mask: Array | None) -> Array:
        """The association weights of every head, ``(num_heads, L_q, L_k)``."""

        def head(Q: Array, K: Array, mask: Array | None) -> Array:
            return self._softmax(self._update(Q, K, mask), K, mask)

        return self._per_head(stored, state, mask, head)

    def energy(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
        *,
        steps: int = 0,
    ) -> Float[Array, " Lq"] | Float[Array, "H Lq"]:
        """Modern Hopfield energy ``E(Q) = −β⁻¹ logsumexp(β Q Kᵀ) + ½ |Q|²`` of each query in
        the association space, after ``steps`` plain updates (no early stop): ``(L_q,)`` for
        one head, ``(num_heads, L_q)`` for several. Non-increasing in ``steps``
        (concave–convex procedure, Ramsauer et al. 2021, Theorem 1). A query whose keys are
        all masked has no memory term: ``½ |Q|²``."""
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an integer >= 0; got {steps!r}.")

        def head(Q: Array, K: Array, mask: Array | None) -> Array:
            for _ in range(steps):
                Q = self._step(Q, K, mask)
            if self.normalizer.name == "softmax":
                lse = jax.nn.logsumexp(self._logits(Q, K, mask), axis=-1)
                lse = jnp.where(jnp.isneginf(lse), 0.0, lse)  # no key: no memory term
            else:  # the Hopfield–Fenchel–Young energy: Ω*, the normaliser's conjugate
                lse = self.normalizer.conjugate(self._sparse_logits(Q, K, mask))
                if mask is not None:
                    lse = jnp.where(jnp.any(mask, axis=-1), lse, 0.0)
            return -lse / self.scaling + 0.5 * jnp.sum(Q**2, axis=-1)

        E = self._per_head(stored, state, mask, head)
        return E[0] if self.num_heads == 1 else E

    def __call__(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        pattern: Float[Array, "Lk dp"] | None = None,
        *,
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "Lq do"]:
        """``concat_h(softmax(β Q_h K_hᵀ) V_h) W_O`` after the updates of ``Q``; with ``key``
        and ``dropout > 0`` the association matrix is dropped out (training), without a key it
        is not (inference)."""
        _check_2d(stored, "stored", self.stored_size)
        pattern = stored if pattern is None else pattern
        _check_2d(pattern, "pattern", self.pattern_size)
        if pattern.shape[0] != stored.shape[0]:
            raise ValueError(
                f"pattern must have one row per stored pattern ({stored.shape[0]}); "
                f"got {pattern.shape[0]}."
            )
        A = dropout(self._associate(stored, state, mask), self.dropout, key)
        V = self._heads(jax.vmap(self.W_V)(pattern))
        out = (A @ V).transpose(1, 0, 2).reshape(state.shape[0], -1)  # heads concatenated
        return jax.vmap(self.W_O)(out)


class HopfieldPooling(eqx.Module):
    """Pool a set ``(L, d)`` into ``num_queries`` vectors with learned state patterns
    (hopfield-layers' ``HopfieldPooling``); returns ``(num_queries · output_size,)``.
    :meth:`association` is the attention map over the set (hopfield-layers#23).

    Args:
        input_size: size of the set's vectors.
        hidden_size: width of each head's association space.
        output_size: size of each pooled vector (default ``input_size``).
        num_queries: number of learned queries (pooled vectors).
        num_heads: number of heads.
        scaling: ``β`` (default ``1/sqrt(hidden_size)``).
        update_steps_max: most modern-Hopfield updates per head (0: one association).
        update_steps_eps: stop a head once no entry changes by more than this.
        dropout: dropout rate on the association matrix (active when a key is passed).
        normalize: layer-normalise the queries and the set before projecting them.
        normalizer: ``"softmax"`` (default), ``"sparsemax"``, ``"entmax"``, ``"normmax"`` or a
            :class:`hopjax.normalizers.Normalizer`: the association's normaliser.
        key: PRNG key for the initial weights and queries.

    Example:
        ```python
        pool = hj.nn.HopfieldPooling(64, key=jax.random.PRNGKey(0))
        vec = pool(bag)  # (64,) from a set (L, 64)
        ```
    """

    hopfield: Hopfield
    query: Float[Array, "nq d"]

    def __init__(
        self,
        input_size: int,
        *,
        hidden_size: int = 32,
        output_size: int | None = None,
        num_queries: int = 1,
        num_heads: int = 1,
        scaling: float | None = None,
        update_steps_max: int = 0,
        update_steps_eps: float | None = None,
        dropout: float = 0.0,
        normalize: bool = False,
        normalizer: str | Normalizer = "softmax",
        key: PRNGKeyArray,
    ):
        kh, kq = jax.random.split(key)
        self.hopfield = Hopfield(
            input_size,
            input_size,
            input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            num_heads=num_heads,
            scaling=scaling,
            update_steps_max=update_steps_max,
            update_steps_eps=update_steps_eps,
            dropout=dropout,
            normalize=normalize,
            normalizer=normalizer,
            key=kh,
        )
        self.query = jax.random.normal(kq, (num_queries, input_size)) / math.sqrt(input_size)

    def association(
        self, x: Float[Array, "L d"], *, mask: Bool[Array, " L"] | None = None
    ) -> Float[Array, "nq L"] | Float[Array, "H nq L"]:
        """The learned queries' association weights over the set's elements."""
        return self.hopfield.association(x, self.query, mask)

    def energy(
        self, x: Float[Array, "L d"], *, mask: Bool[Array, " L"] | None = None, steps: int = 0
    ) -> Float[Array, " nq"] | Float[Array, "H nq"]:
        """:meth:`Hopfield.energy` of the learned queries against the set."""
        return self.hopfield.energy(x, self.query, mask, steps=steps)

    def __call__(
        self,
        x: Float[Array, "L d"],
        *,
        mask: Bool[Array, " L"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, " out"]:
        return self.hopfield(x, self.query, mask=mask, key=key).reshape(-1)


class HopfieldLayer(eqx.Module):
    """Look up states ``(L_q, d)`` in ``quantity`` learned stored patterns with learned pattern
    projections (hopfield-layers' ``HopfieldLayer``); returns ``(L_q, output_size)``. After
    training, :meth:`association` says which learned pattern each state retrieves
    (hopfield-layers#17).

    Args:
        input_size: size of the state vectors.
        quantity: number of learned stored patterns.
        hidden_size: width of each head's association space.
        output_size: size of the output vectors (default ``input_size``).
        num_heads: number of heads.
        scaling: ``β`` (default ``1/sqrt(hidden_size)``).
        update_steps_max: most modern-Hopfield updates per head (0: one association).
        update_steps_eps: stop a head once no entry changes by more than this.
        dropout: dropout rate on the association matrix (active when a key is passed).
        normalizer: ``"softmax"`` (default), ``"sparsemax"``, ``"entmax"``, ``"normmax"`` or a
            :class:`hopjax.normalizers.Normalizer`: the association's normaliser.
        key: PRNG key for the initial weights and patterns.
    """

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
        num_heads: int = 1,
        scaling: float | None = None,
        update_steps_max: int = 0,
        update_steps_eps: float | None = None,
        dropout: float = 0.0,
        normalizer: str | Normalizer = "softmax",
        key: PRNGKeyArray,
    ):
        kh, ks, kp = jax.random.split(key, 3)
        self.hopfield = Hopfield(
            input_size,
            input_size,
            input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            num_heads=num_heads,
            scaling=scaling,
            update_steps_max=update_steps_max,
            update_steps_eps=update_steps_eps,
            dropout=dropout,
            normalizer=normalizer,
            key=kh,
        )
        self.stored = jax.random.normal(ks, (quantity, input_size)) / math.sqrt(input_size)
        self.patterns = jax.random.normal(kp, (quantity, input_size)) / math.sqrt(input_size)

    def association(self, x: Float[Array, "Lq d"]) -> Float[Array, "Lq n"] | Float[Array, "H Lq n"]:
        """Each state's association weights over the learned stored patterns."""
        return self.hopfield.association(self.stored, x)

    def energy(self, x: Float[Array, "Lq d"], *, steps: int = 0) -> Float[Array, " Lq"]:
        """:meth:`Hopfield.energy` of the states against the learned stored patterns."""
        return self.hopfield.energy(self.stored, x, steps=steps)

    def __call__(
        self, x: Float[Array, "Lq d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "Lq out"]:
        return self.hopfield(self.stored, x, self.patterns, key=key)
