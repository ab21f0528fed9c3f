"""The Hebbian Hopfield network held as its patterns: fields ``Ξᵀ(Ξ s)/N`` without forming ``W``.

``W = ΞᵀΞ/N`` with zero diagonal (Hopfield 1982; :func:`hopjax.rules.hebbian`) has rank ``P``:
its field is ``h = (Ξᵀ(Ξ s) − P s)/N``. Kept as the ``(P, N)`` patterns, a network needs
``P·N`` numbers instead of ``N²`` and a synchronous update ``3 P N`` multiply-adds instead of
``N²`` — at the capacity ``P ≈ 0.14 N`` that is ~7× less memory and ~2.4× less work, which is
what makes ``N ≥ 32 768`` reachable (``W`` alone would take 4 GiB there).

**Exact fields.** ``h`` lies on the lattice ``k/N`` with an integer ``k``. The overlaps
``m = Ξ s`` are integers ``|m_μ| ≤ N`` (exact in float32 up to ``N = 2²⁴``); ``Ξᵀ m`` may exceed
float32's exact integers, so ``m`` is split as ``m = 256 a + b`` (``|b| ≤ 128``) and both halves
are multiplied in float32 exactly, then joined in int32. The field is ``k · (1/N)`` with the
exact ``k`` — the value :class:`hopjax.Hopfield` reaches by rounding its float field to the
lattice (``quantum = 1/N``, what :meth:`~hopjax.Hopfield.from_patterns` sets for the Hebbian
rule). So synchronous and asynchronous updates of :class:`LowRankHebbian` equal those of
``Hopfield.from_patterns(xi)`` bit for bit (tested), and :func:`hopjax.run` drives it like any
:class:`~hopjax.classical.AbstractBinaryMemory`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from hopjax._checks import check_bipolar, float_array, positive
from hopjax.classical import AbstractBinaryMemory
from hopjax.patterns import sign_keep

__all__ = ["LowRankHebbian"]

_SPLIT = 256


def _exact_product(m: Array, x: Array) -> Array:
    """``m @ x`` as exact int32 for integer ``m`` (``|m| <= N``) and ``±1`` entries ``x``: ``m``
    split as ``256 a + b`` (``|b| <= 128``) so both float32 products stay within float32's exact
    integers (the sizes :class:`LowRankHebbian` admits), joined in int32."""
    hi = jnp.round(m / _SPLIT)
    parts = jnp.stack([hi, m - _SPLIT * hi]) @ x
    return _SPLIT * parts[0].astype(jnp.int32) + parts[1].astype(jnp.int32)


class LowRankHebbian(AbstractBinaryMemory):
    """The zero-diagonal Hebbian network of the rows of ``xi`` ``(P, N)``, held as the patterns
    (described in :mod:`hopjax.lowrank`). ``num_patterns``: only the first ``num_patterns`` rows
    are stored (may
    be traced, so a capacity sweep vmaps over the load with one shape; ``None``: all ``P``).
    The tie rule is :class:`hopjax.Hopfield`'s: a unit whose field is exactly 0 keeps its state.

    Args:
        xi: patterns ``(P, N)``, entries ``±1``.
        num_patterns: store only the first ``num_patterns`` rows (may be traced; ``None``: all).
    """

    xi: Float[Array, "P N"]
    num_patterns: int | Array | None = None

    def __init__(self, xi: Float[ArrayLike, "P N"], num_patterns: int | Array | None = None):
        xi = check_bipolar(float_array(xi, "xi", ndim=2), "xi")
        P, N = xi.shape
        exact = P * (N // _SPLIT + 1) < 2**24 and P * _SPLIT // 2 < 2**24 and N <= 2**24
        if not exact or P * N >= 2**31 - _SPLIT * P:
            raise ValueError(
                f"xi: P = {P}, N = {N} is beyond the exact integer range of the fields "
                "(need N <= 2**24 and P (N/256 + 1) < 2**24)."
            )
        self.xi = xi
        self.num_patterns = num_patterns

    @property
    def n(self) -> int:
        """Number of units ``N``."""
        return self.xi.shape[1]

    @property
    def quantum(self) -> float:
        """The field's lattice spacing ``1/N``."""
        return 1.0 / self.n

    def _stored(self) -> tuple[Array, Array]:
        """``(keep, P)``: 1 for the stored rows, 0 for the others, and their count (int32).
        Unstored rows are left out through their overlaps (``m_μ = 0``), never by copying the
        patterns: under ``vmap`` over the load the ``(P, N)`` patterns stay unbatched."""
        P = self.xi.shape[0]
        if self.num_patterns is None:
            return jnp.ones((P,), self.xi.dtype), jnp.asarray(P, jnp.int32)
        keep = (jnp.arange(P) < self.num_patterns).astype(self.xi.dtype)
        return keep, jnp.minimum(jnp.asarray(self.num_patterns, jnp.int32), P)

    def projections(self, s: Float[Array, " N"]) -> Float[Array, " P"]:
        """``m = Ξ s`` (``N`` × the overlaps) of the stored patterns, 0 for the others: exact
        integers."""
        return self._stored()[0] * (self.xi @ s)

    def lattice_field(self, s: Float[Array, " N"]) -> Int[Array, " N"]:
        """``k = Ξᵀ(Ξ s) − P s`` as exact int32: the field is ``k / N`` (described in
        :mod:`hopjax.lowrank`)."""
        count = self._stored()[1]
        k = _exact_product(self.projections(s), self.xi)  # |m_mu| <= N: exact integers
        return k - count * s.astype(jnp.int32)

    def field(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """Local fields ``h = W s = (Ξᵀ(Ξ s) − P s)/N``, exact points of the ``1/N`` lattice."""
        return self.lattice_field(s).astype(s.dtype) * jnp.asarray(self.quantum, s.dtype)

    def energy(self, s: Float[Array, " N"]) -> Float[Array, ""]:
        """``E(s) = −½ sᵀ W s = −(|Ξ s|² − P |s|²)/(2N)`` (Hopfield 1982)."""
        m, count = self.projections(s), self._stored()[1]
        return -0.5 * (m @ m - count.astype(s.dtype) * (s @ s)) / self.n

    def energy_gap(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """``ΔE_i = E(s_i = −1) − E(s_i = +1) = 2 h_i`` (zero diagonal)."""
        return 2.0 * self.field(s)

    def _unit(self, count: Array, m: Array, s: Array, i: Array) -> Array:
        """``k_i`` of unit ``i`` from the overlaps ``m`` (:meth:`projections`) in ``O(P)``, split
        as in :meth:`lattice_field` (exact)."""
        return _exact_product(m, self.xi[:, i]) - count * s[i].astype(jnp.int32)

    def async_sweep(self, s: Float[Array, " N"], key: PRNGKeyArray) -> Float[Array, " N"]:
        """Every unit once, one at a time, in the random order :meth:`hopjax.Hopfield.async_sweep`
        draws from ``key``; the overlaps are kept up to date (``O(P)`` per unit), so each unit
        sees its exact field — the same updates as the Hopfield network's sweep."""
        keep, count = self._stored()
        order = jax.random.permutation(key, self.n)

        def body(k: Array, carry: tuple[Array, Array]) -> tuple[Array, Array]:
            s, m = carry
            i = order[k]
            new = sign_keep(self._unit(count, m, s, i).astype(s.dtype), s[i])
            return s.at[i].set(new), m + keep * self.xi[:, i] * (new - s[i])

        return jax.lax.fori_loop(0, self.n, body, (s, self.projections(s)))[0]

    def glauber_sweep(
        self, s: Float[Array, " N"], key: PRNGKeyArray, temperature: Float[ArrayLike, ""]
    ) -> Float[Array, " N"]:
        """One asynchronous Glauber sweep at temperature ``T`` (the draws of
        :meth:`hopjax.Hopfield.glauber_sweep`): every unit once in a random order,
        ``s_i ← +1`` with probability ``1 / (1 + exp(−2 h_i / T))`` from its exact field."""
        t = positive(temperature, "temperature")
        keep, count = self._stored()
        k_order, k_u = jax.random.split(key)
        order = jax.random.permutation(k_order, self.n)
        u = jax.random.uniform(k_u, (self.n,))
        q = jnp.asarray(self.quantum, s.dtype)

        def body(k: Array, carry: tuple[Array, Array]) -> tuple[Array, Array]:
            s, m = carry
            i = order[k]
            h = self._unit(count, m, s, i).astype(s.dtype) * q
            new = jnp.where(u[k] < jax.nn.sigmoid(2.0 * h / t), 1.0, -1.0).astype(s.dtype)
            return s.at[i].set(new), m + keep * self.xi[:, i] * (new - s[i])

        return jax.lax.fori_loop(0, self.n, body, (s, self.projections(s)))[0]
