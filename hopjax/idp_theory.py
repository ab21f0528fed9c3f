"""Slow-dynamics theory of the two-timescale IDP reasoning model ("A dynamical theory of
sequential retrieval in input-driven Hopfield networks", §3.1 and §5.2; equation numbers are
that paper's, see :mod:`hopjax.idp`).

While the fast layer sits on memory ``μ`` (``x ≈ α_μ ξ^μ``, ``m = e_μ``) the saliencies obey
``τ_α α̇_ν = −α_ν + γ δ_{ν, μ+1}``, so from ``α_μ(0) = a_k`` (others 0)

* ``α_μ(t) = a_k e^{−t/τ_α}``, ``α_{μ+1}(t) = γ (1 − e^{−t/τ_α})``            (13)/(31)
* memory ``μ`` loses stability when ``α_μ = 1``: escape time ``t*_k = τ_α ln a_k``   (32)
* peak map ``a_{k+1} = α_{μ+1}(t*_k) = γ (1 − 1/a_k)``; collapse when ``a_{k+1} ≤ 1``  (14)/(34)
* fixed points: roots of ``a² − γ a + γ = 0``, real iff ``γ ≥ 4``:
  ``a_± = (γ ± √(γ² − 4γ)) / 2``                                                (15)/(35)–(36)
* for ``γ > 4`` and ``a_0 > a_−`` the peaks converge monotonically to ``a_+``; otherwise they
  decrease until ``a_k ≤ 1`` (collapse); at ``γ = 4`` convergence iff ``a_0 ≥ 2``
* asymptotic period of a cycle over ``P`` memories ``T = P τ_α ln a_+(γ)``              (37),
  and its inverses :func:`inverse_gamma` / :func:`inverse_tau_alpha`

The formulas hold for ``τ_α ≫ τ_x`` **and** neglect the saliencies left over from earlier dwells
(the paper sets them to zero at the start of each dwell). :func:`reduced_peaks` keeps them: it
iterates the exact piecewise-linear slow dynamics of the ``τ_x → 0`` limit (every ``α_ν`` decays,
only ``α_{μ+1}`` is driven, escape when ``α_μ = 1``). Measured here: the leftovers matter when
dwells are short relative to ``P``: the sustained-cycling threshold of the reduced dynamics is
``γ* ≈ 3.0`` for ``P = 3``, ``3.62`` for ``P = 4`` and ``4`` (to 0.01) for ``P ≥ 8``, and at
``γ = 5, P = 4`` the limiting peak is 3.651 instead of ``a_+ = 3.618`` (period +0.7%).
The finite-separation correction on top of that is measured by the ``idp_reasoning`` and
``idp_threshold`` experiments. Every function is elementwise in its
arguments (broadcasting), jit-, vmap- and grad-compatible; below ``γ = 4`` the fixed points and
the period are NaN.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

__all__ = [
    "GAIN_THRESHOLD",
    "a_minus",
    "a_plus",
    "a_pm",
    "converges",
    "escape_time",
    "inverse_gamma",
    "inverse_tau_alpha",
    "peak_map",
    "peak_sequence",
    "period",
    "reduced_peaks",
    "reduced_period",
    "reduced_threshold",
    "transitions_before_collapse",
]

GAIN_THRESHOLD = 4.0
"""Smallest gain with self-sustained transitions (eq. (15): ``γ² − 4γ ≥ 0``)."""


def a_pm(gamma: Float[ArrayLike, "*b"]) -> tuple[Float[Array, "*b"], Float[Array, "*b"]]:
    """Fixed points ``(a_−, a_+) = (γ ∓ √(γ² − 4γ)) / 2`` of the peak map (eq. (15)/(36)).

    NaN for ``γ < 4`` (no fixed point: every run collapses); ``a_− = a_+ = 2`` at ``γ = 4``.
    """
    g = jnp.asarray(gamma, dtype=jnp.result_type(float, gamma))
    disc = g * g - 4.0 * g
    root = jnp.sqrt(jnp.where(disc >= 0, disc, jnp.nan))
    return (g - root) / 2.0, (g + root) / 2.0


def a_plus(gamma: Float[ArrayLike, "*b"]) -> Float[Array, "*b"]:
    """The stable fixed point ``a_+(γ)`` of the peak map (NaN below ``γ = 4``)."""
    return a_pm(gamma)[1]


def a_minus(gamma: Float[ArrayLike, "*b"]) -> Float[Array, "*b"]:
    """The unstable fixed point ``a_−(γ)``: the basin boundary of sustained cycling."""
    return a_pm(gamma)[0]


def escape_time(a: Float[ArrayLike, "*b"], tau_alpha: Float[ArrayLike, "*b"]) -> Float[Array, "*b"]:
    """Time ``t* = τ_α ln a`` for a saliency peaked at ``a > 1`` to decay to 1 (eq. (32))."""
    return jnp.asarray(tau_alpha) * jnp.log(jnp.asarray(a))


def peak_map(a: Float[ArrayLike, "*b"], gamma: Float[ArrayLike, "*b"]) -> Float[Array, "*b"]:
    """Next saliency peak ``a_{k+1} = γ (1 − 1/a_k)`` (eq. (14)/(34))."""
    a = jnp.asarray(a)
    return jnp.asarray(gamma) * (1.0 - 1.0 / a)


def peak_sequence(
    a0: Float[ArrayLike, ""], gamma: Float[ArrayLike, ""], steps: int
) -> Float[Array, " steps+1"]:
    """``a_0, a_1, …, a_steps`` under the peak map; entries after a collapse (``a_k ≤ 1``) are NaN.

    Scalar ``a0`` and ``gamma`` (vmap for grids); ``lax.scan`` over ``steps``.
    """

    def body(a: Array, _: None) -> tuple[Array, Array]:
        nxt = jnp.where(a > 1.0, peak_map(a, gamma), jnp.nan)
        return nxt, nxt

    a0 = jnp.asarray(a0, dtype=jnp.result_type(float, a0))
    _, seq = jax.lax.scan(body, a0, None, length=steps)
    seq = jnp.concatenate([a0[None], seq])
    return jnp.where(seq > 1.0, seq, jnp.nan)


def converges(a0: Float[ArrayLike, "*b"], gamma: Float[ArrayLike, "*b"]) -> Bool[Array, "*b"]:
    """Whether peaks starting at ``a0`` converge to ``a_+`` (sustained cycling).

    ``γ > 4``: iff ``a0 > a_−``; ``γ = 4``: iff ``a0 ≥ 2``; ``γ < 4``: never (§5.2).
    """
    a0 = jnp.asarray(a0)
    g = jnp.asarray(gamma)
    lo = a_minus(g)
    return jnp.where(g > 4.0, a0 > lo, jnp.where(g == 4.0, a0 >= 2.0, False))


def period(
    gamma: Float[ArrayLike, "*b"], P: Float[ArrayLike, "*b"], tau_alpha: Float[ArrayLike, "*b"]
) -> Float[Array, "*b"]:
    """Asymptotic period ``T = P τ_α ln a_+(γ)`` of a cycle over ``P`` memories (eq. (37)).

    NaN below ``γ = 4``.
    """
    return jnp.asarray(P) * escape_time(a_plus(gamma), tau_alpha)


def inverse_gamma(
    period: Float[ArrayLike, "*b"], P: Float[ArrayLike, "*b"], tau_alpha: Float[ArrayLike, "*b"]
) -> Float[Array, "*b"]:
    """The gain ``γ`` at which ``P τ_α ln a_+(γ) = T``: ``a_+ = e^{T/(P τ_α)}`` and, as ``a_+``
    is a root of ``a² − γ a + γ = 0``, ``γ = a_+² / (a_+ − 1)``."""
    a = jnp.exp(jnp.asarray(period) / (P * jnp.asarray(tau_alpha)))
    return a * a / (a - 1.0)


def inverse_tau_alpha(
    period: Float[ArrayLike, "*b"], P: Float[ArrayLike, "*b"], gamma: Float[ArrayLike, "*b"]
) -> Float[Array, "*b"]:
    """The slow timescale ``τ_α`` at which ``P τ_α ln a_+(γ) = T`` (NaN below ``γ = 4``)."""
    return jnp.asarray(period) / (P * jnp.log(a_plus(gamma)))


def transitions_before_collapse(
    a0: Float[ArrayLike, ""], gamma: Float[ArrayLike, ""], max_steps: int = 10_000
) -> Array:
    """Number of transitions the peak map makes from ``a0`` before ``a_k ≤ 1`` (``max_steps`` if
    it never collapses within them). Below ``γ = 4`` this grows like ``π / √(4 − γ)`` near 4."""
    seq = peak_sequence(a0, gamma, max_steps)
    return jnp.sum(jnp.isfinite(seq[1:])).astype(jnp.int32)


def reduced_peaks(
    a0: Float[ArrayLike, ""],
    gamma: Float[ArrayLike, ""],
    P: int,
    steps: int,
    *,
    eps: Float[ArrayLike, ""] = 0.0,
) -> tuple[Float[Array, " steps+1"], Float[Array, " steps"]]:
    """Peaks and dwell times of the exact slow dynamics of a ``P``-cycle, leftovers included.

    The ``τ_x → 0`` limit of model (7) with the circulant ``A``: while memory ``μ`` leads,
    ``α(t) = α(0) e^{−t/τ_α} + γ (1 − e^{−t/τ_α}) e_{μ+1}``, starting from ``α = a0 e_0``; ``μ+1``
    takes over (or, if ``α_{μ+1} ≤ 1``, the activity collapses) when ``μ`` loses stability.
    Without input that is at ``α_μ = 1``. With the symmetry-breaking input ``ε Ξ α`` the HardTanh
    equilibrium is ``x = (1+ε) α_μ ξ^μ + ε α_{μ+1} ξ^{μ+1}`` (orthogonal memories), whose weaker
    half leaves saturation when ``(1+ε) α_μ − ε α_{μ+1} = 1``: earlier escapes, shorter periods
    (measured ratio 0.74 at ε = 0.1, γ = 5; this correction reproduces it, see the tests).
    Returns the peaks ``a_0 … a_steps`` (the leader's saliency when it takes over) and the dwell
    times in units of ``τ_α``; NaN after a collapse. With every leftover set to zero and ``ε = 0``
    this is the peak map (14).
    """
    a0 = jnp.asarray(a0, dtype=jnp.result_type(float, a0))
    g = jnp.asarray(gamma, a0.dtype)
    e = jnp.asarray(eps, a0.dtype)
    alpha0 = jnp.zeros((P,), a0.dtype).at[0].set(a0)

    def body(carry: tuple[Array, Array], _: None) -> tuple[tuple[Array, Array], tuple]:
        alpha, mu = carry
        nxt = (mu + 1) % P
        lead, r = alpha[mu], alpha[nxt]
        # escape when (1+ε) a e^{−s} − ε (r e^{−s} + γ (1 − e^{−s})) = 1, solved for e^{−s}
        denom = (1.0 + e) * lead - e * r + e * g
        decay = (1.0 + e * g) / jnp.where(denom > 0, denom, 1.0)
        alive = (lead > 1.0) & (decay < 1.0) & (denom > 0)
        decay = jnp.where(alive, decay, 0.5)
        alpha = alpha * decay + g * (1.0 - decay) * jax.nn.one_hot(nxt, P, dtype=alpha.dtype)
        alpha = jnp.where(alive, alpha, 0.0)
        return (alpha, nxt), (alpha[nxt], jnp.where(alive, -jnp.log(decay), jnp.nan))

    _, (peaks, dwells) = jax.lax.scan(body, (alpha0, jnp.asarray(0)), None, length=steps)
    peaks = jnp.concatenate([a0[None], peaks])
    peaks = jnp.where(peaks > 1.0, peaks, jnp.nan)
    return peaks, dwells


def reduced_period(
    gamma: Float[ArrayLike, ""],
    P: int,
    tau_alpha: Float[ArrayLike, ""],
    *,
    a0: float = 3.0,
    steps: int = 2000,
    eps: Float[ArrayLike, ""] = 0.0,
) -> Float[Array, ""]:
    """Asymptotic period of the reduced slow dynamics (:func:`reduced_peaks`): ``τ_α`` times the
    sum of the last ``P`` dwells after ``steps`` transitions; NaN if it collapses."""
    _, dwells = reduced_peaks(a0, gamma, P, steps, eps=eps)
    return jnp.asarray(tau_alpha) * jnp.sum(dwells[-P:])


def reduced_threshold(P: int, *, a0: float = 3.0, steps: int = 2000, tol: float = 1e-3) -> float:
    """Smallest gain with sustained cycling of the reduced slow dynamics of a ``P``-cycle from
    ``a0`` (bisection on ``γ ∈ [1, 4]``; ``4`` for large ``P``, below 4 for small ``P``)."""
    lo, hi = 1.0, 4.0 + tol
    ok = jax.jit(lambda g: jnp.isfinite(reduced_peaks(a0, g, P, steps)[0][-1]))
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if bool(ok(mid)) else (mid, hi)
    return hi
