"""Storage rules (patterns → weights) and local Hebbian learning rules.

Storage rules take bipolar or real patterns ``xi`` of shape ``(P, N)`` and return an ``(N, N)``
weight matrix; they are registered by name in :data:`STORAGE_RULES` so configs can say
``rule = "storkey"``. Learning rules are pure single-step updates ``w_new = rule(w, x, y)`` to be
driven by ``lax.scan`` (see :func:`learn`): the activity product rule, Oja (1982) and the
expanded (Taylor) form of local rules of Gerstner & Kistler (2002), Biol. Cybern. 87, 404,
doi:10.1007/s00422-002-0353-y.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from hopjax._checks import check_bipolar, check_independent, float_array

__all__ = [
    "STORAGE_RULES",
    "HebbianCoefficients",
    "activity_product",
    "expanded_hebbian",
    "get_rule",
    "hebbian",
    "learn",
    "nested_weights",
    "oja",
    "pseudo_inverse",
    "storkey",
]

StorageRule = Callable[..., Float[Array, "N N"]]


def _zero_diagonal(w: Float[Array, "N N"]) -> Float[Array, "N N"]:
    return w * (1 - jnp.eye(w.shape[0], dtype=w.dtype))


def _patterns(xi: ArrayLike) -> Float[Array, "P N"]:
    # ±1 entries; 0 allowed (all-zero rows are how a vmapped sweep stores a variable number P)
    return check_bipolar(float_array(xi, "xi", ndim=2), "xi", allow_zero=True)


# --------------------------------------------------------------------------- storage rules


def hebbian(xi: Float[ArrayLike, "P N"], *, keep_diagonal: bool = False) -> Float[Array, "N N"]:
    """Hebbian (outer-product) rule ``W = (1/N) Σ_μ ξ^μ ξ^μᵀ = (1/N) Ξᵀ Ξ``.

    The diagonal is set to zero unless ``keep_diagonal`` (then ``W_ii = P/N`` for bipolar
    patterns). Sources: Hopfield (1982) (one pattern: ``w_ij = ξ_i ξ_j``, summed over memories); the
    correlation matrix ``ΞᵀΞ`` of Kohonen (1972) and Amari (1972), built by the activity product.
    Capacity ≈ 0.138 N for random patterns (Amit et al. 1985).

    Args:
        xi: patterns ``(P, N)`` (rows), bipolar.
        keep_diagonal: keep ``W_ii = P/N`` (default: zero diagonal).

    Returns:
        The ``(N, N)`` weight matrix ``W = Ξᵀ Ξ / N``.
    """
    xi = _patterns(xi)
    w = xi.T @ xi / xi.shape[1]
    return w if keep_diagonal else _zero_diagonal(w)


def pseudo_inverse(
    xi: Float[ArrayLike, "P N"],
    *,
    keep_diagonal: bool = False,
    allow_dependent: bool = False,
) -> Float[Array, "N N"]:
    """Projection (pseudo-inverse) rule ``W = Ξᵀ (Ξ Ξᵀ)⁻¹ Ξ = Ξ⁺ Ξ``.

    ``W`` is the orthogonal projector onto the span of the patterns, so ``W ξ^μ = ξ^μ`` exactly
    for any ``P < N`` linearly independent patterns, correlated or not (Personnaz, Guyon and
    Dreyfus 1985; Kohonen's optimal linear associative memory). With the diagonal
    removed (default; Kanter and Sompolinsky 1987) the field on a stored pattern is
    ``(1 − W_ii) ξ^μ_i`` with ``0 ≤ W_ii ≤ 1``, so every pattern stays a fixed point under the
    keep-on-tie sign rule.

    Raises ``ValueError`` when ``P ≥ N`` (the projector would be the identity: every state a fixed
    point) or the patterns are linearly dependent (unless ``allow_dependent``; the result is then
    the projector onto their span). Inside ``jit`` the dependence check is an ``eqx.error_if``.

    Args:
        xi: patterns ``(P, N)`` (rows), bipolar, ``P < N``.
        keep_diagonal: keep the projector's diagonal (default: zero diagonal).
        allow_dependent: accept linearly dependent patterns (the projector onto their span)
            instead of raising.

    Returns:
        The ``(N, N)`` weight matrix (the projector onto the patterns' span).

    Raises:
        ValueError: ``P ≥ N``, dependent patterns without ``allow_dependent``, or entries of
            ``xi`` outside ``{−1, 0, 1}``.
    """
    xi = _patterns(xi)
    P, N = xi.shape
    if P >= N:
        raise ValueError(
            f"xi: the pseudo-inverse rule needs P < N linearly independent patterns; got P = {P}, "
            f"N = {N} (the projector onto R^N is the identity, so every state would be stored)."
        )
    if not allow_dependent:
        hint = " Pass allow_dependent=True to project on their span."
        xi = check_independent(xi, "xi", hint=hint)
    w = jnp.linalg.pinv(xi) @ xi
    w = 0.5 * (w + w.T)  # exact symmetry of the projector, lost to round-off in pinv
    return w if keep_diagonal else _zero_diagonal(w)


def storkey(xi: Float[ArrayLike, "P N"]) -> Float[Array, "N N"]:
    """Storkey's incremental, local rule (Storkey 1997), zero diagonal.

    Starting from ``W⁰ = 0``, for each pattern ``ν``:
    ``w_ij ← w_ij + (1/N)(ξ_i ξ_j − ξ_i h_ji − h_ij ξ_j)`` with the local field
    ``h_ij = Σ_{k ≠ i, j} w_ik ξ_k``. Each step is vectorised over all ``(i, j)`` (no loop over
    neurons); ``lax.scan`` runs over the patterns, ``O(P N²)`` in all. Higher capacity than
    Hebbian (``N / √(2 ln N)`` against ``N / (2 ln N)`` for error-free storage) and larger basins.

    Args:
        xi: patterns ``(P, N)`` (rows), bipolar, learned one after another.

    Returns:
        The ``(N, N)`` weight matrix after the last pattern.
    """
    xi = _patterns(xi)
    N = xi.shape[1]
    eye = jnp.eye(N, dtype=xi.dtype)

    def add_pattern(w: Array, x: Array) -> tuple[Array, None]:
        return _storkey_step(w, x, eye), None

    w, _ = jax.lax.scan(add_pattern, jnp.zeros((N, N), xi.dtype), xi)
    return w


def _storkey_step(w: Array, x: Array, eye: Array) -> Array:
    """One pattern of Storkey's rule (:func:`storkey`)."""
    N = x.shape[0]
    h = w @ x  # w_ii = 0, so h_i = Σ_{k≠i} w_ik x_k
    hij = h[:, None] - w * x[None, :]  # h_ij = h_i − w_ij x_j
    dw = jnp.outer(x, x) - x[:, None] * hij.T - hij * x[None, :]
    return (w + dw / N) * (1 - eye)


def nested_weights(
    xi: Float[ArrayLike, "P N"], loads: Sequence[int], rule: str = "hebbian"
) -> Float[Array, "L N N"]:
    """The weights storing the first ``P`` patterns of ``xi``, for every ``P`` in ``loads``, in
    one pass over the patterns (a capacity sweep over nested loads).

    ``hebbian``: running sums of outer products, ``W_P = W_{P'} + Σ_{P' ≤ μ < P} ξ^μ ξ^μᵀ``
    (integer-valued before the ``1/N``: exact, identical to :func:`hebbian` of the first ``P``);
    ``storkey``: one scan over the patterns with the weights kept at each load (the same steps
    as :func:`storkey` of the first ``P``); ``pseudo_inverse``: the projector onto the span of the
    first ``P`` patterns from one QR factorisation, ``W_P = Q_P Q_Pᵀ`` (``Q_P`` its first ``P``
    columns; mathematically :func:`pseudo_inverse`'s ``Ξ⁺Ξ``), diagonal removed. ``loads`` are
    Python ints (static), increasing, at most ``P``. ``O(P N²)`` in all instead of
    ``O(P N²)`` per load.
    """
    xi = _patterns(xi)
    P, N = xi.shape
    loads = [int(v) for v in loads]
    if not loads or loads != sorted(set(loads)) or loads[0] < 0 or loads[-1] > P:
        raise ValueError(f"loads must be increasing ints in [0, P = {P}]; got {loads}.")
    out = []
    if rule == "hebbian":
        w, prev = jnp.zeros((N, N), xi.dtype), 0
        for L in loads:
            w = w + xi[prev:L].T @ xi[prev:L]
            out.append(_zero_diagonal(w / N))
            prev = L
    elif rule == "storkey":
        eye = jnp.eye(N, dtype=xi.dtype)

        def add_pattern(w: Array, x: Array) -> tuple[Array, None]:
            return _storkey_step(w, x, eye), None

        w, prev = jnp.zeros((N, N), xi.dtype), 0
        for L in loads:
            w, _ = jax.lax.scan(add_pattern, w, xi[prev:L])
            out.append(w)
            prev = L
    elif rule == "pseudo_inverse":
        if loads[-1] >= N:
            raise ValueError(f"the pseudo-inverse rule needs P < N; got a load {loads[-1]} >= {N}.")
        q, _ = jnp.linalg.qr(xi[: loads[-1]].T)  # (N, P_max): the first P columns span ξ^1…ξ^P
        w, prev = jnp.zeros((N, N), xi.dtype), 0
        for L in loads:
            w = w + q[:, prev:L] @ q[:, prev:L].T
            out.append(_zero_diagonal(0.5 * (w + w.T)))
            prev = L
    else:
        raise ValueError(f"rule must be 'hebbian', 'storkey' or 'pseudo_inverse'; got {rule!r}.")
    return jnp.stack(out)


STORAGE_RULES: dict[str, StorageRule] = {
    "hebbian": hebbian,
    "pseudo_inverse": pseudo_inverse,
    "storkey": storkey,
}
"""Storage rules by the names configs use."""


def get_rule(rule: str | StorageRule) -> StorageRule:
    """Resolve a storage rule given by name (see :data:`STORAGE_RULES`) or as a callable."""
    if callable(rule):
        return rule
    try:
        return STORAGE_RULES[rule]
    except KeyError:
        names = ", ".join(sorted(STORAGE_RULES))
        raise ValueError(f"rule must be one of {names} or a callable; got {rule!r}.") from None


# --------------------------------------------------------------------------- learning rules
#
# Weights ``w`` map a presynaptic activity ``x`` (N,) to a postsynaptic one ``y``: a single neuron
# has ``w`` of shape (N,) and scalar ``y``; a layer has ``w`` of shape (M, N) and ``y`` of shape
# (M,). When ``y`` is not given the neuron is linear, ``y = w x``. For auto-associative storage
# clamp ``y = x`` (then the activity product rule builds the correlation matrix).


def _post(w: Array, x: Array, y: Array | None) -> Array:
    return w @ x if y is None else y


def activity_product(
    w: Float[Array, "*M N"],
    x: Float[Array, " N"],
    y: Float[Array, "*M"] | None = None,
    *,
    eta: float | Array,
) -> Float[Array, "*M N"]:
    """Activity product rule ``Δw_ij = η y_i x_j`` (the expanded rule with only ``c₂^corr = η``).

    Unbounded: with a linear neuron the weight norm grows without limit (use :func:`oja`).
    """
    y = _post(w, x, y)
    return w + eta * y[..., None] * x


def oja(
    w: Float[Array, "*M N"],
    x: Float[Array, " N"],
    y: Float[Array, "*M"] | None = None,
    *,
    eta: float | Array,
) -> Float[Array, "*M N"]:
    """Oja's rule ``Δw_ij = η y_i (x_j − w_ij y_i)`` (Oja 1982; the expanded rule with
    ``c₂^corr = η``, ``c₂^post = −η w_ij``).

    For a linear neuron ``y = w·x`` the weight vector converges to the unit-norm first principal
    component of ``x`` (for a small enough ``η``). For a layer each output neuron obeys its own
    Oja rule (the local single-neuron form, not Oja's subspace rule).
    """
    y = _post(w, x, y)
    return w + eta * (y[..., None] * x - (y**2)[..., None] * w)


def _poly(coeffs: Array, w: Array) -> Array:
    """``Σ_k c_k w^k`` with ``coeffs`` lowest order first (a constant is ``[c]``)."""
    return jnp.polyval(coeffs[::-1], w)


class HebbianCoefficients(eqx.Module):
    """Taylor coefficients of the expanded Hebbian rule (Gerstner & Kistler 2002).

    Each coefficient may depend on the weight: it is stored as polynomial coefficients in ``w``,
    lowest order first, so ``c2_post = [0, -η]`` means ``c₂^post(w) = −η w``. All fields are
    arrays, so the coefficients themselves can be tuned by gradient.
    """

    c0: Float[Array, " K0"]
    c1_pre: Float[Array, " K1"]
    c1_post: Float[Array, " K2"]
    c2_pre: Float[Array, " K3"]
    c2_post: Float[Array, " K4"]
    c2_corr: Float[Array, " K5"]

    def __init__(
        self,
        c0: ArrayLike = 0.0,
        c1_pre: ArrayLike = 0.0,
        c1_post: ArrayLike = 0.0,
        c2_pre: ArrayLike = 0.0,
        c2_post: ArrayLike = 0.0,
        c2_corr: ArrayLike = 0.0,
    ):
        def as_poly(v: ArrayLike) -> Array:
            return jnp.atleast_1d(jnp.asarray(v, dtype=jnp.float32))

        self.c0 = as_poly(c0)
        self.c1_pre = as_poly(c1_pre)
        self.c1_post = as_poly(c1_post)
        self.c2_pre = as_poly(c2_pre)
        self.c2_post = as_poly(c2_post)
        self.c2_corr = as_poly(c2_corr)

    @classmethod
    def activity_product(cls, eta: float) -> HebbianCoefficients:
        """``c₂^corr = η``, all else 0 (Corollary 2.8.1)."""
        return cls(c2_corr=eta)

    @classmethod
    def oja(cls, eta: float) -> HebbianCoefficients:
        """``c₂^corr = η``, ``c₂^post(w) = −η w``, all else 0 (Corollary 2.8.2)."""
        return cls(c2_corr=eta, c2_post=np.array([0.0, -eta]))


def expanded_hebbian(
    w: Float[Array, "*M N"],
    x: Float[Array, " N"],
    y: Float[Array, "*M"] | None = None,
    *,
    coefficients: HebbianCoefficients,
) -> Float[Array, "*M N"]:
    """Expanded (second-order Taylor) Hebbian rule (Gerstner & Kistler 2002).

    ``Δw_ij = c₀(w) + c₁^pre(w) x_j + c₁^post(w) y_i + c₂^pre(w) x_j² + c₂^post(w) y_i²
    + c₂^corr(w) y_i x_j`` with pre-synaptic ``x``, post-synaptic ``y`` and ``w = w_ij``.
    """
    y = _post(w, x, y)
    c = coefficients
    yc = y[..., None]
    dw = (
        _poly(c.c0, w)
        + _poly(c.c1_pre, w) * x
        + _poly(c.c1_post, w) * yc
        + _poly(c.c2_pre, w) * x**2
        + _poly(c.c2_post, w) * yc**2
        + _poly(c.c2_corr, w) * yc * x
    )
    return w + dw


def learn(
    update: Callable[..., Array],
    w0: Float[Array, "*M N"],
    xs: Float[Array, "T N"],
    ys: Float[Array, "T *M"] | None = None,
    *,
    history: bool = False,
) -> tuple[Float[Array, "*M N"], Float[Array, "T *M N"] | None]:
    """Stream ``xs`` (and clamped ``ys``) through a learning rule with ``lax.scan``.

    ``update(w, x, y)`` is one of the rules above with its hyper-parameters bound, e.g.
    ``functools.partial(oja, eta=1e-3)``. Returns ``(w_final, ws)`` where ``ws`` holds the weights
    after every sample when ``history`` is true and is ``None`` otherwise (it costs ``T`` copies
    of ``w``). Jit-able, vmappable over streams, and differentiable through the rule.
    """
    xs = float_array(xs, "xs", ndim=2)
    seq = xs if ys is None else (xs, float_array(ys, "ys", ndim=(1, 2)))

    def body(w: Array, sample: Array | tuple[Array, Array]) -> tuple[Array, Array | None]:
        w = update(w, sample, None) if ys is None else update(w, *sample)
        return w, (w if history else None)

    return jax.lax.scan(body, w0, seq)
