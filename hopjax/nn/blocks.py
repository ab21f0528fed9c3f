"""Transformer blocks built on the Hopfield layer: hopfield-layers' ``HopfieldEncoderLayer`` and
``HopfieldDecoderLayer`` as equinox modules (Ramsauer et al. 2021, arXiv:2008.02217, with the
block layout of Vaswani et al. 2017, arXiv:1706.03762).

Encoder: self-association ``Hopfield(x, x, x)`` then a feed-forward network, each with a
residual connection and a layer norm — before the branch (``norm_first=True``, "pre-norm", the
default: stable without warm-up) or after the sum ("post-norm", the 2017 layout). Decoder: the
same with a cross-association to ``memory`` (state = the decoder's tokens, stored = the
memory) between the two; ``causal=True`` lets position ``t`` associate only with positions
``≤ t``. ``dropout`` drops association weights and the residual branches when a ``key`` is
passed (training); without a key the block is deterministic (inference). Shapes are per example
``(L, d_model)``: batch with ``jax.vmap``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from hopjax.nn.hopfield import Hopfield, dropout
from hopjax.normalizers import Normalizer

__all__ = ["HopfieldDecoderLayer", "HopfieldEncoderLayer"]


def _check_tokens(x: Array, name: str, d_model: int) -> None:
    if x.ndim != 2 or x.shape[1] != d_model:
        raise ValueError(
            f"{name} must have shape (length, d_model = {d_model}) per example (batch with "
            f"jax.vmap); got {tuple(x.shape)}."
        )


class _FeedForward(eqx.Module):
    up: eqx.nn.Linear
    down: eqx.nn.Linear

    def __init__(self, d_model: int, ff_size: int, key: PRNGKeyArray):
        k1, k2 = jax.random.split(key)
        self.up = eqx.nn.Linear(d_model, ff_size, key=k1)
        self.down = eqx.nn.Linear(ff_size, d_model, key=k2)

    def __call__(self, x: Array) -> Array:
        return jax.vmap(lambda v: self.down(jax.nn.gelu(self.up(v))))(x)


def _hopfield(d_model: int, cfg: dict, key: PRNGKeyArray) -> Hopfield:
    return Hopfield(d_model, d_model, d_model, output_size=d_model, key=key, **cfg)


def _settings(
    d_model: int,
    num_heads: int,
    hidden_size: int | None,
    ff_size: int | None,
    dropout: float,
    scaling: float | None,
    update_steps_max: int,
    update_steps_eps: float | None,
    normalizer: str | Normalizer = "softmax",
) -> tuple[dict, int]:
    if not isinstance(d_model, int) or d_model < 1:
        raise ValueError(f"d_model must be a positive integer; got {d_model!r}.")
    if not isinstance(num_heads, int) or num_heads < 1:
        raise ValueError(f"num_heads must be a positive integer; got {num_heads!r}.")
    if hidden_size is None:
        if d_model % num_heads:
            raise ValueError(
                f"d_model ({d_model}) must be a multiple of num_heads ({num_heads}) unless "
                "hidden_size is given."
            )
        hidden_size = d_model // num_heads
    ff_size = 4 * d_model if ff_size is None else ff_size
    if not isinstance(ff_size, int) or ff_size < 1:
        raise ValueError(f"ff_size must be a positive integer; got {ff_size!r}.")
    cfg = {
        "hidden_size": hidden_size,
        "num_heads": num_heads,
        "scaling": scaling,
        "update_steps_max": update_steps_max,
        "update_steps_eps": update_steps_eps,
        "dropout": dropout,
        "normalizer": normalizer,
    }
    return cfg, ff_size


class HopfieldEncoderLayer(eqx.Module):
    """Self-association + feed-forward block (described in :mod:`hopjax.nn.blocks`);
    ``(L, d) → (L, d)``.

    Args:
        d_model: size of the sequence's vectors.
        num_heads: number of heads.
        hidden_size: width of each head's association space (default ``d_model // num_heads``).
        ff_size: width of the feed-forward block (default ``4 · d_model``).
        dropout: dropout rate (active when a key is passed).
        norm_first: layer norm before each sub-block (else after).
        scaling: ``β`` (default ``1/sqrt(hidden_size)``).
        update_steps_max: most modern-Hopfield updates per head (0: one association).
        update_steps_eps: stop a head once no entry changes by more than this.
        normalizer: ``"softmax"`` (default), ``"sparsemax"``, ``"entmax"``, ``"normmax"`` or a
            :class:`hopjax.normalizers.Normalizer`: the association's normaliser.
        key: PRNG key for the initial weights.
    """

    association: Hopfield
    feed_forward: _FeedForward
    norm1: eqx.nn.LayerNorm
    norm2: eqx.nn.LayerNorm
    dropout: float = eqx.field(static=True)
    norm_first: bool = eqx.field(static=True)
    d_model: int = eqx.field(static=True)

    def __init__(
        self,
        d_model: int,
        *,
        num_heads: int = 1,
        hidden_size: int | None = None,
        ff_size: int | None = None,
        dropout: float = 0.0,
        norm_first: bool = True,
        scaling: float | None = None,
        update_steps_max: int = 0,
        update_steps_eps: float | None = None,
        normalizer: str | Normalizer = "softmax",
        key: PRNGKeyArray,
    ):
        cfg, ff_size = _settings(
            d_model,
            num_heads,
            hidden_size,
            ff_size,
            dropout,
            scaling,
            update_steps_max,
            update_steps_eps,
            normalizer,
        )
        ka, kf = jax.random.split(key)
        self.association = _hopfield(d_model, cfg, ka)
        self.feed_forward = _FeedForward(d_model, ff_size, kf)
        self.norm1, self.norm2 = eqx.nn.LayerNorm(d_model), eqx.nn.LayerNorm(d_model)
        self.dropout, self.norm_first, self.d_model = float(dropout), norm_first, d_model

    def __call__(
        self,
        x: Float[Array, "L d"],
        *,
        mask: Bool[Array, " L"] | Bool[Array, "L L"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "L d"]:
        """``mask``: which tokens (or token pairs) may be associated; ``key``: dropout on."""
        _check_tokens(x, "x", self.d_model)
        ka, k1, k2 = jax.random.split(key, 3) if key is not None else (None,) * 3

        def attend(v: Array) -> Array:
            return dropout(self.association(v, v, v, mask=mask, key=ka), self.dropout, k1)

        def ff(v: Array) -> Array:
            return dropout(self.feed_forward(v), self.dropout, k2)

        n1, n2 = jax.vmap(self.norm1), jax.vmap(self.norm2)
        if self.norm_first:
            x = x + attend(n1(x))
            return x + ff(n2(x))
        x = n1(x + attend(x))
        return n2(x + ff(x))


class HopfieldDecoderLayer(eqx.Module):
    """Self-association, cross-association to ``memory``, feed-forward (described in
    :mod:`hopjax.nn.blocks`);
    ``(L_t, d), (L_m, d) → (L_t, d)``.

    Args:
        d_model: size of the sequence's vectors.
        num_heads: number of heads.
        hidden_size: width of each head's association space (default ``d_model // num_heads``).
        ff_size: width of the feed-forward block (default ``4 · d_model``).
        dropout: dropout rate (active when a key is passed).
        norm_first: layer norm before each sub-block (else after).
        scaling: ``β`` (default ``1/sqrt(hidden_size)``).
        update_steps_max: most modern-Hopfield updates per head (0: one association).
        update_steps_eps: stop a head once no entry changes by more than this.
        normalizer: ``"softmax"`` (default), ``"sparsemax"``, ``"entmax"``, ``"normmax"`` or a
            :class:`hopjax.normalizers.Normalizer`: the association's normaliser.
        key: PRNG key for the initial weights.
    """

    self_association: Hopfield
    cross_association: Hopfield
    feed_forward: _FeedForward
    norm1: eqx.nn.LayerNorm
    norm2: eqx.nn.LayerNorm
    norm3: eqx.nn.LayerNorm
    dropout: float = eqx.field(static=True)
    norm_first: bool = eqx.field(static=True)
    d_model: int = eqx.field(static=True)

    def __init__(
        self,
        d_model: int,
        *,
        num_heads: int = 1,
        hidden_size: int | None = None,
        ff_size: int | None = None,
        dropout: float = 0.0,
        norm_first: bool = True,
        scaling: float | None = None,
        update_steps_max: int = 0,
        update_steps_eps: float | None = None,
        normalizer: str | Normalizer = "softmax",
        key: PRNGKeyArray,
    ):
        cfg, ff_size = _settings(
            d_model,
            num_heads,
            hidden_size,
            ff_size,
            dropout,
            scaling,
            update_steps_max,
            update_steps_eps,
            normalizer,
        )
        ks, kc, kf = jax.random.split(key, 3)
        self.self_association = _hopfield(d_model, cfg, ks)
        self.cross_association = _hopfield(d_model, cfg, kc)
        self.feed_forward = _FeedForward(d_model, ff_size, kf)
        self.norm1, self.norm2, self.norm3 = (eqx.nn.LayerNorm(d_model) for _ in range(3))
        self.dropout, self.norm_first, self.d_model = float(dropout), norm_first, d_model

    def __call__(
        self,
        x: Float[Array, "Lt d"],
        memory: Float[Array, "Lm d"],
        *,
        causal: bool = False,
        mask: Bool[Array, " Lt"] | Bool[Array, "Lt Lt"] | None = None,
        memory_mask: Bool[Array, " Lm"] | Bool[Array, "Lt Lm"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "Lt d"]:
        """``causal``: position ``t`` associates only with ``≤ t`` (combined with ``mask``);
        ``memory_mask``: which memory tokens may be associated; ``key``: dropout on."""
        _check_tokens(x, "x", self.d_model)
        _check_tokens(memory, "memory", self.d_model)
        if causal:
            tri = jnp.tril(jnp.ones((x.shape[0], x.shape[0]), bool))
            mask = tri if mask is None else tri & jnp.asarray(mask)
        keys = jax.random.split(key, 5) if key is not None else (None,) * 5

        def self_attend(v: Array) -> Array:
            out = self.self_association(v, v, v, mask=mask, key=keys[0])
            return dropout(out, self.dropout, keys[1])

        def cross(v: Array) -> Array:
            out = self.cross_association(memory, v, memory, mask=memory_mask, key=keys[2])
            return dropout(out, self.dropout, keys[3])

        def ff(v: Array) -> Array:
            return dropout(self.feed_forward(v), self.dropout, keys[4])

        n1, n2, n3 = jax.vmap(self.norm1), jax.vmap(self.norm2), jax.vmap(self.norm3)
        if self.norm_first:
            x = x + self_attend(n1(x))
            x = x + cross(n2(x))
            return x + ff(n3(x))
        x = n1(x + self_attend(x))
        x = n2(x + cross(x))
        return n3(x + ff(x))
