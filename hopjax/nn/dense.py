"""A dense associative memory layer with learned memories."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = ["DenseAMLayer"]


class DenseAMLayer(eqx.Module):
    """A dense associative memory with ``quantity`` learned memories ``ξ^μ ∈ ℝ^d`` (Krotov &
    Hopfield 2016, arXiv:1606.01164), relaxed to continuous states so it trains by gradient.

    Each of ``update_steps`` steps applies, per state vector ``s ∈ ℝ^d``,

    ``s ← tanh(β Σ_μ F'(ξ^μ·s / d) ξ^μ)``

    with ``F'(u) = max(u, 0)^{n−1}`` (``separation="polynomial"``, degree ``n``; normalised by
    the largest term so any ``n`` stays finite) or ``softmax(β_x ξ·s)`` weights
    (``"exponential"``: the modern-Hopfield step). With bipolar memories, bipolar ``s`` and
    ``β → ∞`` this is :class:`hopjax.dense.DenseAM`'s synchronous ``update="gradient"`` step with
    the rectified separation (tested). Input ``(L, d)`` or ``(d,)``; output the same shape.

    Args:
        size: size ``d`` of the state vectors.
        quantity: number of learned memories.
        degree: ``n`` of the polynomial separation.
        separation: ``"polynomial"`` or ``"exponential"``.
        beta: inverse temperature.
        update_steps: updates per call.
        memories: initial memories ``(quantity, d)`` (default: random).
        key: PRNG key for random initial memories.
    """

    memories: Float[Array, "n d"]
    beta: Array
    degree: int = eqx.field(static=True)
    separation: str = eqx.field(static=True)
    update_steps: int = eqx.field(static=True)

    def __init__(
        self,
        size: int,
        *,
        quantity: int = 32,
        degree: int = 3,
        separation: str = "polynomial",
        beta: float = 4.0,
        update_steps: int = 1,
        memories: Float[Array, "n d"] | None = None,
        key: PRNGKeyArray | None = None,
    ):
        if separation not in ("polynomial", "exponential"):
            raise ValueError(
                f"separation must be 'polynomial' or 'exponential'; got {separation!r}."
            )
        if degree < 1 or update_steps < 1 or quantity < 1:
            raise ValueError("degree, update_steps and quantity must be >= 1.")
        if memories is None:
            if key is None:
                raise ValueError("give key= (to initialise the memories) or memories=.")
            memories = jax.random.normal(key, (quantity, size)) / math.sqrt(size)
        memories = jnp.asarray(memories)
        if memories.ndim != 2 or memories.shape[1] != size:
            raise ValueError(f"memories must have shape (quantity, {size}); got {memories.shape}.")
        self.memories = memories
        self.beta = jnp.asarray(beta, memories.dtype)
        self.degree, self.separation, self.update_steps = degree, separation, update_steps

    def _weights(self, s: Array) -> Array:
        x = self.memories @ s / s.shape[-1]
        if self.separation == "exponential":
            return jax.nn.softmax(self.beta * s.shape[-1] * x)
        r = jnp.maximum(x, 0.0)
        if self.degree == 1:
            return jnp.ones_like(r)
        scale = jax.lax.stop_gradient(jnp.maximum(jnp.max(r), 1e-12))
        return (r / scale) ** (self.degree - 1)

    def step(self, s: Float[Array, " d"]) -> Float[Array, " d"]:
        """One update of one state vector."""
        return jnp.tanh(self.beta * (self._weights(s) @ self.memories))

    def __call__(
        self, x: Float[Array, "*L d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*L d"]:
        d = self.memories.shape[1]
        if x.shape[-1] != d or x.ndim not in (1, 2):
            raise ValueError(f"x must have shape (d,) or (L, d) with d = {d}; got {x.shape}.")
        f = self.step if x.ndim == 1 else jax.vmap(self.step)
        for _ in range(self.update_steps):
            x = f(x)
        return x
