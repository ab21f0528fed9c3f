"""Normalisers: maps from scores ``z ∈ ℝ^P`` to the probability simplex, as one concept.

Each is the regularised argmax of a convex regulariser ``Ω`` on the simplex ``Δ``,

``ŷ_Ω(z) = argmax_{p ∈ Δ} p·z − Ω(p)``,

and comes with ``Ω``'s convex conjugate ``Ω*(z) = max_{p ∈ Δ} p·z − Ω(p)``, whose gradient is
``ŷ_Ω(z)`` (Danskin). That conjugate is what a Hopfield–Fenchel–Young energy is made of
(Santos, Niculae, McNamee & Martins, "Sparse and Structured Hopfield Networks", ICML 2024,
arXiv:2402.13725): ``E(q) = −β⁻¹ Ω*(β X q) + ½ |q|²``, whose concave–convex update
``q ← Xᵀ ŷ_Ω(β X q)`` never increases it. The normalisers (Blondel, Martins & Niculae,
"Learning with Fenchel-Young losses", JMLR 2020):

* ``softmax`` — ``Ω(p) = Σ p log p``; ``Ω* = logsumexp`` (Ramsauer et al. 2021);
* ``entmax`` with ``α ∈ (1, 2]`` — the Tsallis regulariser ``Ω(p) = (Σ p^α − 1)/(α(α − 1))``
  (Peters, Niculae & Martins 2019): ``ŷ_j = [(α − 1) z_j − τ]_+^{1/(α−1)}``, sparse;
* ``sparsemax`` — entmax at ``α = 2``, the Euclidean projection onto ``Δ`` (Martins & Astudillo
  2016; the sparse modern Hopfield model of Hu et al., NeurIPS 2023, arXiv:2309.12673);
* ``normmax`` with ``γ > 1`` — the norm regulariser ``Ω(p) = ‖p‖_γ − 1``:
  ``ŷ_j ∝ (z_j − τ)_+^{1/(γ−1)}`` with ``Σ_j (z_j − τ)_+^{γ/(γ−1)} = 1``.

A sparse normaliser returns exactly one-hot ``e_i`` once ``z_i`` exceeds every other score by
its margin — ``1/(α − 1)`` for entmax (1 for sparsemax), 1 for normmax; softmax has none (every
entry stays positive). So a sparse Hopfield network retrieves a pattern *exactly*, in one step,
when ``β`` times its separation from the others exceeds the margin (Santos et al. 2024).

``entmax`` and ``normmax`` find their threshold ``τ`` by bisection; their derivatives are exact
(entmax: the closed-form Jacobian–vector product ``dŷ = g ⊙ dz − g (g·dz)/Σg``,
``g = ŷ^{2−α}``; normmax: the implicit-function derivative of ``τ``). Every function acts on
the last axis and batches by broadcasting or ``vmap``.
"""

from __future__ import annotations

import functools
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "Normalizer",
    "entmax",
    "get_normalizer",
    "normmax",
    "softmax",
    "sparsemax",
]

Name = Literal["softmax", "sparsemax", "entmax", "normmax"]
_BISECTIONS = 40  # τ's bracket has width ≤ 1: 2⁻⁴⁰ is below float64's resolution of τ there


def softmax(z: Float[ArrayLike, "... P"]) -> Float[Array, "... P"]:
    """``exp(z) / Σ exp(z)`` on the last axis (max-shifted: finite for any ``z``).

    Args:
        z: scores.

    Returns:
        Probabilities, every entry positive.
    """
    return jax.nn.softmax(jnp.asarray(z), axis=-1)


def sparsemax(z: Float[ArrayLike, "... P"]) -> Float[Array, "... P"]:
    """The Euclidean projection of ``z`` onto the simplex, ``[z − τ]_+`` (Martins & Astudillo
    2016), computed exactly by sorting; differentiable (its Jacobian is the projection onto the
    support's centred subspace).

    Args:
        z: scores.

    Returns:
        Probabilities, zero outside the support.
    """
    z = jnp.asarray(z)
    P = z.shape[-1]
    srt = -jnp.sort(-z, axis=-1)
    k = jnp.arange(1, P + 1, dtype=z.dtype)
    cum = jnp.cumsum(srt, axis=-1)
    on = 1.0 + k * srt > cum  # the sorted entries inside the support
    size = jnp.sum(on, axis=-1, keepdims=True)
    total = jnp.take_along_axis(cum, size.astype(jnp.int32) - 1, axis=-1)
    tau = (total - 1.0) / size.astype(z.dtype)
    return jnp.maximum(z - tau, 0.0)


def _entmax_threshold(zs: Array, alpha: float) -> Array:
    """``τ`` with ``Σ [zs − τ]_+^{1/(α−1)} = 1`` by bisection (``zs = (α − 1) z``)."""
    d = zs.shape[-1]
    top = jnp.max(zs, axis=-1, keepdims=True)
    lo = top - 1.0
    hi = top - (1.0 / d) ** (alpha - 1.0)

    def body(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        mass = jnp.sum(jnp.maximum(zs - mid, 0.0) ** (1.0 / (alpha - 1.0)), -1, keepdims=True)
        return jnp.where(mass >= 1.0, mid, lo), jnp.where(mass >= 1.0, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _BISECTIONS, body, (lo, hi))
    return 0.5 * (lo + hi)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _entmax(z: Array, alpha: float) -> Array:
    zs = (alpha - 1.0) * z
    tau = _entmax_threshold(zs, alpha)
    p = jnp.maximum(zs - tau, 0.0) ** (1.0 / (alpha - 1.0))
    return p / jnp.sum(p, axis=-1, keepdims=True)


@_entmax.defjvp
def _entmax_jvp(alpha: float, primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    (z,) = primals
    (dz,) = tangents
    p = _entmax(z, alpha)
    g = jnp.where(p > 0, p ** (2.0 - alpha), 0.0)
    dp = g * dz - g * jnp.sum(g * dz, -1, keepdims=True) / jnp.sum(g, -1, keepdims=True)
    return p, dp


def entmax(z: Float[ArrayLike, "... P"], alpha: float = 1.5) -> Float[Array, "... P"]:
    """α-entmax (Peters, Niculae & Martins 2019): ``ŷ_j = [(α − 1) z_j − τ]_+^{1/(α−1)}``
    with ``τ`` such that ``Σ ŷ = 1`` (bisection); ``α → 1`` tends to softmax, ``α = 2`` is
    :func:`sparsemax`.

    Args:
        z: scores.
        alpha: ``α ∈ (1, 2]`` (static).

    Returns:
        Probabilities, exactly zero for scores more than ``1/(α − 1)`` below the largest.
    """
    alpha = float(alpha)
    if not 1.0 < alpha <= 2.0:
        raise ValueError(f"alpha must lie in (1, 2]; got {alpha}.")
    if alpha == 2.0:
        return sparsemax(z)
    return _entmax(jnp.asarray(z), alpha)


def _ppow(x: Array, e: float) -> Array:
    """``[x]_+^e`` with finite derivatives where ``x ≤ 0`` (zero there)."""
    pos = x > 0
    return jnp.where(pos, jnp.where(pos, x, 1.0) ** e, 0.0)


def _normmax_mass(z: Array, tau: Array, gamma: float) -> Array:
    return jnp.sum(_ppow(z - tau, gamma / (gamma - 1.0)), -1, keepdims=True)


def normmax(z: Float[ArrayLike, "... P"], gamma: float = 2.0) -> Float[Array, "... P"]:
    """γ-normmax: ``argmax_{p ∈ Δ} p·z − ‖p‖_γ``, i.e. ``ŷ_j ∝ (z_j − τ)_+^{1/(γ−1)}`` with
    ``Σ_j (z_j − τ)_+^{γ/(γ−1)} = 1`` (bisection for ``τ ∈ [max z − 1, max z]``, its
    derivative by the implicit-function theorem).

    Args:
        z: scores.
        gamma: ``γ > 1`` (static).

    Returns:
        Probabilities, exactly zero for scores more than 1 below the largest.
    """
    gamma = float(gamma)
    if not gamma > 1.0:
        raise ValueError(f"gamma must be > 1; got {gamma}.")
    z = jnp.asarray(z)
    top = jax.lax.stop_gradient(jnp.max(z, axis=-1, keepdims=True))
    zc = jax.lax.stop_gradient(z)

    def body(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        big = _normmax_mass(zc, mid, gamma) >= 1.0
        return jnp.where(big, mid, lo), jnp.where(big, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _BISECTIONS, body, (top - 1.0, top))
    tau0 = 0.5 * (lo + hi)
    # one Newton step from the solution: the same value, and the derivative of τ(z) exactly
    q = gamma / (gamma - 1.0)
    f = _normmax_mass(z, tau0, gamma) - 1.0
    df = -q * jnp.sum(_ppow(z - tau0, q - 1.0), -1, keepdims=True)
    tau = tau0 - f / df
    w = _ppow(z - tau, 1.0 / (gamma - 1.0))
    return w / jnp.sum(w, axis=-1, keepdims=True)


class Normalizer(eqx.Module):
    """A normaliser and its regulariser: ``ŷ_Ω`` (:meth:`__call__`), ``Ω`` (:meth:`penalty`),
    ``Ω*`` (:meth:`conjugate`) and the margin of exact one-hot outputs. Every field is static
    (hashable), so a model can hold it as a static field.

    Args:
        name: ``"softmax"``, ``"sparsemax"``, ``"entmax"`` or ``"normmax"``.
        param: ``α`` of entmax (default 1.5), ``γ`` of normmax (default 2); ignored otherwise.
    """

    name: Name = eqx.field(static=True)
    param: float | None = eqx.field(static=True)

    def __init__(self, name: Name = "softmax", param: float | None = None):
        if name not in ("softmax", "sparsemax", "entmax", "normmax"):
            raise ValueError(
                f"normalizer must be 'softmax', 'sparsemax', 'entmax' or 'normmax'; got {name!r}."
            )
        if param is None and name in ("entmax", "normmax"):
            param = 1.5 if name == "entmax" else 2.0
        if name == "entmax" and not 1.0 < float(param) <= 2.0:
            raise ValueError(f"entmax needs alpha in (1, 2]; got {param}.")
        if name == "normmax" and not float(param) > 1.0:
            raise ValueError(f"normmax needs gamma > 1; got {param}.")
        self.name = name
        self.param = None if param is None else float(param)

    def __call__(self, z: Float[ArrayLike, "... P"]) -> Float[Array, "... P"]:
        """``ŷ_Ω(z)`` on the last axis."""
        if self.name == "softmax":
            return softmax(z)
        if self.name == "sparsemax":
            return sparsemax(z)
        if self.name == "entmax":
            return entmax(z, float(self.param))
        return normmax(z, float(self.param))

    def penalty(self, p: Float[ArrayLike, "... P"]) -> Float[Array, "..."]:
        """``Ω(p)`` for ``p`` on the simplex (0 at a one-hot ``p``)."""
        p = jnp.asarray(p)
        if self.name == "softmax":
            return jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0), -1)
        if self.name == "normmax":
            g = float(self.param)
            return jnp.sum(p**g, axis=-1) ** (1.0 / g) - 1.0
        a = 2.0 if self.name == "sparsemax" else float(self.param)
        return (jnp.sum(p**a, axis=-1) - 1.0) / (a * (a - 1.0))

    def conjugate(self, z: Float[ArrayLike, "... P"]) -> Float[Array, "..."]:
        """``Ω*(z) = max_{p ∈ Δ} p·z − Ω(p)`` (``logsumexp`` for softmax); its gradient is
        ``ŷ_Ω(z)``."""
        z = jnp.asarray(z)
        if self.name == "softmax":
            return jax.nn.logsumexp(z, axis=-1)
        p = self(z)
        return jnp.sum(p * z, axis=-1) - self.penalty(p)

    @property
    def margin(self) -> float:
        """How far the largest score must lead every other one for a one-hot output: ``inf``
        for softmax, ``1/(α − 1)`` for entmax (1 for sparsemax), 1 for normmax."""
        if self.name == "softmax":
            return float("inf")
        if self.name == "entmax":
            return 1.0 / (float(self.param) - 1.0)
        return 1.0


def get_normalizer(spec: str | Normalizer) -> Normalizer:
    """A :class:`Normalizer` from a name (``"softmax"``, ``"sparsemax"``, ``"entmax"``,
    ``"entmax15"`` = entmax at α = 1.5, ``"normmax"``) or a ``Normalizer``.

    Args:
        spec: the name or the normaliser.

    Returns:
        The normaliser.

    Raises:
        ValueError: an unknown name.
    """
    if isinstance(spec, Normalizer):
        return spec
    if spec == "entmax15":
        return Normalizer("entmax", 1.5)
    return Normalizer(spec)  # type: ignore[arg-type]
