"""Replica-symmetric theory of the Hebbian Hopfield network at temperature ``T``: the retrieval
boundary ``T_M(α)`` of the Amit–Gutfreund–Sompolinsky phase diagram.

Amit, Gutfreund & Sompolinsky, Phys. Rev. Lett. 55, 1530 (1985), doi:10.1103/PhysRevLett.55.1530;
Ann. Phys. 173, 30 (1987), doi:10.1016/0003-4916(87)90092-3. For ``P = αN`` random patterns,
Hebbian couplings ``J = ΞᵀΞ / N`` and Glauber dynamics at ``β = 1/T``, the replica-symmetric
saddle point of a state condensed on one pattern (overlap ``m``, Edwards–Anderson order ``q``,
noise ``r``) reads, with ``Dz`` the standard Gaussian measure,

* ``m = ∫Dz tanh β(m + √(αr) z)``
* ``q = ∫Dz tanh² β(m + √(αr) z)``
* ``r = q / (1 − β(1 − q))²``.

Retrieval states (``m > 0``) exist below ``T_M(α)``; the boundary is a spinodal — the stable
retrieval solution merges with an unstable one — so at fixed ``T`` it is where the fixed point of
``(m, q) ↦ G(m, q)`` above becomes degenerate, ``det(I − ∂G/∂(m, q)) = 0`` (computed in
``(m, 1 − q)``, see :func:`saddle_point_map`). :func:`boundary`
brackets it by bisection on ``α`` (does iteration from ``m = q = 1`` stay condensed?), then
solves the three equations ``(m, q) = G(m, q)``, ``det = 0`` for ``(m, q, α)`` with optimistix's
Newton method. Known limits, which the tests check: ``α_M → 0.138`` as ``T → 0`` (computed
here: 0.1381 at ``T = 0.005``; the RS line bends slightly outward at low ``T``, to 0.1383 at
``T = 0.02`` — the RS solution's known re-entrance) and ``T_M → 1`` as ``α → 0``, where
``T_M ≈ 1 − 1.95 √α`` (AGS 1987). Gaussian integrals are trapezoid sums on ``z ∈ [−10, 10]``
(``n_z`` points), accurate for ``β√(αr) ≲ 50``. Everything is jit-able and
``vmap``-able over ``T``; float64 is not needed (float32 errors ~10⁻⁵ on ``α_M``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike, Bool, Float

__all__ = ["ALPHA_C", "boundary", "fixed_point", "retrieval_exists", "saddle_point_map"]

ALPHA_C = 0.138
"""The ``T = 0`` storage capacity of the RS theory (AGS 1985: ``α_c ≈ 0.138``)."""

_Z = 10.0


def _gauss(n_z: int) -> tuple[Array, Array]:
    z = jnp.linspace(-_Z, _Z, n_z)
    w = jnp.exp(-0.5 * z**2) * (z[1] - z[0]) / jnp.sqrt(2 * jnp.pi)
    return z, w.at[0].multiply(0.5).at[-1].multiply(0.5)


def saddle_point_map(
    m: Float[ArrayLike, ""],
    p: Float[ArrayLike, ""],
    alpha: Float[ArrayLike, ""],
    T: Float[ArrayLike, ""],
    n_z: int = 8001,
) -> tuple[Array, Array]:
    """One application of the RS equations in the variables ``(m, p = 1 − q)``:
    ``m' = ∫Dz tanh β(m + √(αr) z)``, ``p' = ∫Dz sech² β(m + √(αr) z)``, with
    ``r = (1 − p) / (1 − βp)²``, ``β = 1/T``. Carrying ``1 − q`` itself (not ``q``) keeps
    ``C = β(1 − q)`` accurate at low ``T``, where ``q → 1``."""
    beta = 1.0 / jnp.asarray(T)
    c = jnp.maximum(1.0 - beta * p, 1e-6)  # r finite on the physical branch (βp < 1)
    r = (1.0 - p) / c**2
    z, w = _gauss(n_z)
    u = beta * (m + jnp.sqrt(alpha * r) * z)
    return w @ jnp.tanh(u), w @ (1.0 / jnp.cosh(u) ** 2)


def fixed_point(
    alpha: Float[ArrayLike, ""],
    T: Float[ArrayLike, ""],
    iterations: int = 400,
    n_z: int = 8001,
) -> tuple[Array, Array]:
    """``(m, q)`` after iterating :func:`saddle_point_map` from the condensed start
    ``m = q = 1``: the retrieval solution where it exists, the ``m = 0`` (spin-glass or
    paramagnetic) solution otherwise. (Iteration follows a stable solution; near the spinodal it
    slows down, which :func:`boundary`'s Newton step does not.)"""
    m, p = _iterate(alpha, T, iterations, n_z)
    return m, 1.0 - p


def _iterate(alpha: ArrayLike, T: ArrayLike, iterations: int, n_z: int) -> tuple[Array, Array]:
    def body(_: int, mp: tuple[Array, Array]) -> tuple[Array, Array]:
        return saddle_point_map(*mp, alpha, T, n_z)

    one = jnp.ones((), jnp.result_type(float))
    return jax.lax.fori_loop(0, iterations, body, (one, jnp.zeros_like(one)))


def retrieval_exists(
    alpha: Float[ArrayLike, ""], T: Float[ArrayLike, ""], iterations: int = 400
) -> Bool[Array, ""]:
    """Whether the condensed iteration of :func:`fixed_point` keeps ``m > 0.05``."""
    m, _ = fixed_point(alpha, T, iterations)
    return m > 0.05


def boundary(T: Float[ArrayLike, ""], n_z: int = 8001) -> Float[Array, ""]:
    """``α_M(T)``: the largest load at which retrieval states exist at temperature ``T``
    (``0 < T < 1``) — the AGS retrieval line, computed as described in :mod:`hopjax.ags`.

    ``vmap`` it over an array of ``T`` for the whole curve; invert it for ``T_M(α)``.
    """
    T = jnp.asarray(T, jnp.result_type(float))

    def bisect(_: int, lo_hi: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = lo_hi
        mid = 0.5 * (lo + hi)
        ok = retrieval_exists(mid, T)
        return jnp.where(ok, mid, lo), jnp.where(ok, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 22, bisect, (jnp.zeros_like(T), jnp.full_like(T, 0.2)))
    m0, p0 = _iterate(lo, T, 2000, n_z)

    def equations(y: Array, args: None) -> Array:
        m, p, a = y
        g = lambda mp: jnp.stack(saddle_point_map(mp[0], mp[1], a, T, n_z))  # noqa: E731
        mp = jnp.stack([m, p])
        jac = jax.jacfwd(g)(mp)
        return jnp.stack([g(mp)[0] - m, g(mp)[1] - p, jnp.linalg.det(jnp.eye(2) - jac)])

    sol = optx.root_find(
        equations,
        optx.Newton(rtol=1e-6, atol=1e-7),
        jnp.stack([m0, p0, lo]),
        max_steps=60,
        throw=False,
    )
    a = sol.value[2]
    # Newton from the bracket's edge; keep the bracket if it wandered off (never seen here)
    good = (sol.result == optx.RESULTS.successful) & (jnp.abs(a - lo) < 0.02)
    return jnp.where(good, a, 0.5 * (lo + hi))
