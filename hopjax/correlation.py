"""Correlation-matrix associative memories (Amari 1972; Kohonen 1972, 1988).

Sources: S.-I. Amari, "Learning patterns and pattern sequences by self-organizing nets of
threshold elements", IEEE Trans. Computers C-21 (1972); T. Kohonen, "Correlation matrix
memories", IEEE Trans. Computers C-21 (1972), and *Self-Organization and Associative Memory*
(1988). Linear
recall, thresholded recall (Amari's ``sgn`` with ``sgn(0) = 0``), the optimal linear associative
memory, and the signal/crosstalk decomposition; the Hopfield network is the autoassociative
case (:mod:`hopjax.classical`).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from hopjax._checks import check_independent, float_array

__all__ = ["CorrelationMemory"]


class CorrelationMemory(eqx.Module):
    """Correlation-matrix (hetero-)associative memory (Amari 1972, Kohonen 1988).

    Stores pairs ``x^μ → y^μ`` (keys ``(P, D)``, values ``(P, M)``) in ``W = Σ_μ y^μ k^μᵀ``
    ``(M, D)``, where the *read-out keys* ``k^μ`` are

    * ``k^μ = x^μ`` for the correlation rule ``W = Σ_μ y^μ x^μᵀ`` (:meth:`correlation`), and
    * the rows of ``(X⁺)ᵀ`` for the optimal linear associative memory ``W = Yᵀ (Xᵀ)⁺``
      (:meth:`optimal`, Kohonen's OLAM), biorthogonal to the keys: ``k^μ · x^ν = δ_μν``.

    Recall of a cue ``x``: linear ``W x`` (Kohonen) or thresholded ``sgn(W x)`` (Amari). For a cue
    aimed at pair ``ν`` the recall splits into signal and crosstalk,
    ``W x = (k^ν·x) y^ν + Σ_{μ≠ν} (k^μ·x) y^μ`` — see :meth:`decompose` and :meth:`crosstalk`.
    Auto-association is ``values = keys``.

    Args:
        keys: the stored keys ``x^μ`` ``(P, D)``.
        values: the stored values ``y^μ`` ``(P, M)``.
        readout_keys: the read-out keys ``k^μ`` ``(P, D)`` (use :meth:`correlation` or
            :meth:`optimal` rather than passing them).
    """

    weights: Float[Array, "M D"]
    keys: Float[Array, "P D"]
    values: Float[Array, "P M"]
    readout_keys: Float[Array, "P D"]

    def __init__(
        self,
        keys: Float[ArrayLike, "P D"],
        values: Float[ArrayLike, "P M"],
        readout_keys: Float[ArrayLike, "P D"],
    ):
        self.keys = float_array(keys, "keys", ndim=2)
        self.values = float_array(values, "values", ndim=2)
        self.readout_keys = float_array(readout_keys, "readout_keys", ndim=2)
        if self.values.shape[0] != self.keys.shape[0]:
            raise ValueError(
                f"keys and values must hold the same number of pairs P; got keys "
                f"{tuple(self.keys.shape)} and values {tuple(self.values.shape)}."
            )
        if self.readout_keys.shape != self.keys.shape:
            raise ValueError(
                f"readout_keys must have the shape of keys {tuple(self.keys.shape)}; "
                f"got {tuple(self.readout_keys.shape)}."
            )
        self.weights = self.values.T @ self.readout_keys

    @classmethod
    def correlation(
        cls, keys: Float[ArrayLike, "P D"], values: Float[ArrayLike, "P M"] | None = None
    ) -> CorrelationMemory:
        """Correlation matrix ``W = Σ_μ y^μ x^μᵀ = Yᵀ X`` (Kohonen 1972); auto if no values."""
        keys = float_array(keys, "keys", ndim=2)
        return cls(keys, keys if values is None else values, keys)

    @classmethod
    def optimal(
        cls, keys: Float[ArrayLike, "P D"], values: Float[ArrayLike, "P M"] | None = None
    ) -> CorrelationMemory:
        """Optimal linear associative memory ``W = Yᵀ (Xᵀ)⁺`` (Kohonen; pseudo-inverse rule).

        Exact recall ``W x^μ = y^μ`` with zero crosstalk for linearly independent keys (checked:
        ``ValueError`` naming ``keys`` otherwise).
        """
        keys = check_independent(float_array(keys, "keys", ndim=2), "keys")
        return cls(keys, keys if values is None else values, jnp.linalg.pinv(keys).T)

    def recall_linear(self, x: Float[Array, " D"]) -> Float[Array, " M"]:
        """Kohonen's linear recall ``y = W x`` (``g(x) = x``)."""
        return self.weights @ x

    def recall_threshold(self, x: Float[Array, " D"]) -> Float[Array, " M"]:
        """Amari's thresholded recall ``y = sgn(W x)`` with ``sgn(0) = 0`` (Amari 1972)."""
        return jnp.sign(self.weights @ x)

    def decompose(
        self, x: Float[Array, " D"], target: Int[Array, ""] | int
    ) -> tuple[Float[Array, " M"], Float[Array, " M"]]:
        """Split ``W x`` into signal ``(k^ν·x) y^ν`` and crosstalk ``Σ_{μ≠ν} (k^μ·x) y^μ``.

        ``target = ν`` is the index of the pair the cue ``x`` stands for.
        """
        signal = (self.readout_keys[target] @ x) * self.values[target]
        return signal, self.weights @ x - signal

    def crosstalk(self) -> Float[Array, "P M"]:
        """Crosstalk on each stored key: row ``ν`` is ``Σ_{μ≠ν} (k^μ·x^ν) y^μ``.

        Zero for orthonormal keys (correlation rule) and for any independent keys (OLAM). For
        unit-norm keys with pairwise correlation ``c`` and orthonormal values its norm is
        ``|c| √(P − 1)``: crosstalk grows linearly with the correlation of the keys.
        """
        g = self.keys @ self.readout_keys.T  # g[ν, μ] = k^μ · x^ν
        g = g * (1 - jnp.eye(g.shape[0], dtype=g.dtype))
        return g @ self.values
