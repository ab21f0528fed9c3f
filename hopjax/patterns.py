"""Patterns: random bipolar, sparse and exactly orthogonal memories, corruption, overlaps, and
the sign rule every binary network shares.

Conventions: a set of ``P`` patterns of ``N`` units is a ``(P, N)`` float array (pattern index
first); bipolar entries are exactly ``±1`` in float32. A single state is ``(N,)``; corrupt a
batch with ``jax.vmap`` over keys and states.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from hopjax._checks import fraction as _fraction
from hopjax._checks import is_concrete, positive_int

__all__ = [
    "flip",
    "hadamard",
    "mask",
    "memories",
    "orthogonal_patterns",
    "overlaps",
    "random_bipolar",
    "random_sparse",
    "sign_keep",
]


def random_bipolar(
    key: PRNGKeyArray, P: int, N: int, *, dtype: jnp.dtype = jnp.float32
) -> Float[Array, "P N"]:
    """``P`` independent uniform bipolar patterns, ``ξ^μ_i ∈ {−1, +1}`` with probability ½ each.

    The standard random memories of the Hopfield capacity analysis (Hopfield 1982; Amit, Gutfreund
    and Sompolinsky 1985).

    Args:
        key: PRNG key.
        P: number of patterns.
        N: number of units.
        dtype: floating dtype of the result.

    Returns:
        ``(P, N)`` array of independent, equiprobable ``±1`` entries.

    Example:
        ```python
        xi = hj.random_bipolar(jax.random.PRNGKey(0), 10, 100)  # 10 patterns of 100 units
        ```
    """
    P = positive_int(P, "P")
    N = positive_int(N, "N")
    return jax.random.rademacher(key, (P, N), dtype=dtype)


def random_sparse(
    key: PRNGKeyArray,
    P: int,
    N: int,
    activity: float,
    *,
    exact: bool = False,
    dtype: jnp.dtype = jnp.float32,
) -> Float[Array, "P N"]:
    """``P`` sparse ``{0, 1}`` patterns at coding level ``activity = a``.

    With ``exact=False`` each unit is active independently with probability ``a``; with
    ``exact=True`` every pattern has exactly ``round(a N)`` active units at random positions.

    Args:
        key: PRNG key.
        P: number of patterns.
        N: number of units.
        activity: coding level ``a`` in ``[0, 1]``.
        exact: exactly ``round(a N)`` active units per pattern (else independent units).
        dtype: floating dtype of the result.

    Returns:
        ``(P, N)`` array of ``{0, 1}`` entries.
    """
    P = positive_int(P, "P")
    N = positive_int(N, "N")
    activity = _fraction(activity, "activity")
    if exact:
        num = round(float(activity) * N)
        keys = jax.random.split(key, P)
        active = jax.vmap(lambda k: _random_subset(k, N, num))(keys)
    else:
        active = jax.random.bernoulli(key, activity, (P, N))
    return active.astype(dtype)


def hadamard(n: int, *, dtype: jnp.dtype = jnp.float32) -> Float[Array, "n n"]:
    """Sylvester's Hadamard matrix ``H_n`` (``n`` a power of two): ``±1`` entries, ``H Hᵀ = n I``.

    ``H_1 = [1]``, ``H_{2k} = [[H_k, H_k], [H_k, −H_k]]``.

    Args:
        n: order, a power of two.
        dtype: floating dtype of the result.

    Returns:
        ``(n, n)`` array ``H_n``.
    """
    n = positive_int(n, "n")
    if n & (n - 1):
        raise ValueError(f"n must be a power of two for a Sylvester Hadamard matrix; got {n}.")
    h = np.ones((1, 1), dtype=np.float32)
    while h.shape[0] < n:  # log2(n) doublings at construction time, not a hot path
        h = np.block([[h, h], [h, -h]])
    return jnp.asarray(h, dtype=dtype)


def orthogonal_patterns(
    P: int, N: int, *, key: PRNGKeyArray | None = None, dtype: jnp.dtype = jnp.float32
) -> Float[Array, "P N"]:
    """``P`` exactly orthogonal bipolar patterns, ``ξ^μ · ξ^ν = N δ_μν`` (rows of ``H_N``).

    Without ``key`` the first ``P`` rows of Sylvester's ``H_N`` (row 0 is all ``+1``). With a key,
    ``P`` distinct rows chosen at random and every column multiplied by a random sign: still exactly
    orthogonal, but with no special all-ones pattern. This realises the orthogonality assumption of
    the IDP reasoning model (``docs/notes/idp.md``).

    Args:
        P: number of patterns (at most ``N``).
        N: number of units, a power of two.
        key: PRNG key for random rows and column signs (``None``: the first ``P`` rows).
        dtype: floating dtype of the result.

    Returns:
        ``(P, N)`` array of ``±1`` entries with ``ξ^μ · ξ^ν = N δ_μν``.
    """
    P = positive_int(P, "P")
    N = positive_int(N, "N")
    if N & (N - 1):
        raise ValueError(f"N must be a power of two for Hadamard patterns; got N = {N}.")
    if P > N:
        raise ValueError(f"P must be <= N: at most N = {N} orthogonal patterns exist; got P = {P}.")
    h = hadamard(N, dtype=dtype)
    if key is None:
        return h[:P]
    k_rows, k_signs = jax.random.split(key)
    rows = jax.random.choice(k_rows, N, (P,), replace=False)
    signs = jax.random.rademacher(k_signs, (N,), dtype=dtype)
    return h[rows] * signs


def memories(
    key: PRNGKeyArray, P: int, N: int, *, kind: str = "random", dtype: jnp.dtype = jnp.float32
) -> Float[Array, "P N"]:
    """``P`` memories of ``N`` units drawn from ``key``: ``kind="random"`` (:func:`random_bipolar`)
    or ``"hadamard"`` (exactly orthogonal, :func:`orthogonal_patterns` with random rows and
    column signs)."""
    if kind == "hadamard":
        return orthogonal_patterns(P, N, key=key, dtype=dtype)
    if kind == "random":
        return random_bipolar(key, P, N, dtype=dtype)
    raise ValueError(f"kind must be 'random' or 'hadamard'; got {kind!r}.")


def _random_subset(key: PRNGKeyArray, n: int, num: int | Array) -> Bool[Array, " n"]:
    """Boolean mask with exactly ``num`` of ``n`` positions set, uniformly at random.

    A random permutation of ``0..n−1`` gives every position a distinct random rank; the positions
    of rank ``< num`` form a uniform subset. ``num`` may be traced (vmappable over counts).
    """
    return jax.random.permutation(key, n) < num


def _corruption_mask(
    key: PRNGKeyArray,
    n: int,
    num: int | Array | None,
    frac: float | Array | None,
    exact: bool,
) -> Bool[Array, " n"]:
    if (num is None) == (frac is None):
        raise ValueError("give exactly one of num= (a count) or fraction= (in [0, 1]).")
    if num is not None:
        if is_concrete(num):
            num = positive_int(num, "num", minimum=0)
            if num > n:
                raise ValueError(f"num must be <= N = {n}; got {num}.")
        return _random_subset(key, n, num)
    frac = _fraction(frac, "fraction")
    if not exact:
        return jax.random.bernoulli(key, frac, (n,))
    count = round(frac * n) if is_concrete(frac) else jnp.round(frac * n)
    return _random_subset(key, n, count)


def flip(
    key: PRNGKeyArray,
    s: Float[Array, " N"],
    *,
    num: int | Array | None = None,
    fraction: float | Array | None = None,
    exact: bool = True,
) -> Float[Array, " N"]:
    """Flip bits of a bipolar state: ``s_i → −s_i`` on a random set of units.

    Give ``num`` (exactly that many distinct units) or ``fraction``: with ``exact=True`` exactly
    ``round(fraction · N)`` units, otherwise each unit independently with probability
    ``fraction``. The cue model of the capacity experiments (e.g. 10% flipped bits).

    Args:
        key: PRNG key.
        s: bipolar state ``(N,)``.
        num: number of units to flip (give ``num`` or ``fraction``).
        fraction: fraction of units to flip.
        exact: with ``fraction``, flip exactly ``round(fraction · N)`` units (else each unit with
            probability ``fraction``).

    Returns:
        The state with the chosen units' signs reversed, shape ``(N,)``.

    Example:
        ```python
        cue = hj.flip(jax.random.PRNGKey(1), xi[0], fraction=0.1)  # 10% of the bits flipped
        ```
    """
    m = _corruption_mask(key, s.shape[-1], num, fraction, exact)
    return jnp.where(m, -s, s)


def mask(
    key: PRNGKeyArray,
    s: Float[Array, " N"],
    *,
    num: int | Array | None = None,
    fraction: float | Array | None = None,
    value: float = 0.0,
    exact: bool = True,
) -> Float[Array, " N"]:
    """Mask units: replace a random set of ``s_i`` by ``value`` (0 = "unknown" by default).

    Unit selection as in :func:`flip`. Masked bipolar cues are the "partial pattern" cues of
    content-addressable memories; a network with the keep-on-tie rule leaves zeros to be filled by
    the field.

    Args:
        key: PRNG key.
        s: state ``(N,)``.
        num: number of units to mask (give ``num`` or ``fraction``).
        fraction: fraction of units to mask.
        value: what a masked unit holds (0: unknown).
        exact: with ``fraction``, mask exactly ``round(fraction · N)`` units (else each unit with
            probability ``fraction``).

    Returns:
        The state with the chosen units set to ``value``, shape ``(N,)``.
    """
    m = _corruption_mask(key, s.shape[-1], num, fraction, exact)
    return jnp.where(m, jnp.asarray(value, s.dtype), s)


def overlaps(xi: Float[Array, "P N"], s: Float[Array, "*batch N"]) -> Float[Array, "*batch P"]:
    """Overlaps ``m_μ = (1/N) Σ_i ξ^μ_i s_i`` of one state ``(N,)`` or a batch ``(..., N)``.

    ``m_μ = 1`` means ``s = ξ^μ``; for random patterns and an unrelated state ``m_μ = O(1/√N)``.
    A batch is one matrix–matrix product.

    Args:
        xi: patterns ``(P, N)``.
        s: one state ``(N,)`` or a batch ``(..., N)``.

    Returns:
        ``m_μ = ξ^μ · s / N`` for every pattern, shape ``(..., P)``.
    """
    if xi.ndim != 2:
        raise ValueError(f"xi must have shape (P, N); got {tuple(xi.shape)}.")
    if s.shape[-1] != xi.shape[-1]:
        raise ValueError(
            f"s has last axis {s.shape[-1]} but xi has N = {xi.shape[-1]}; shapes "
            f"{tuple(s.shape)} and {tuple(xi.shape)}."
        )
    return s @ xi.T / xi.shape[-1]


def sign_keep(h: Float[Array, "*shape"], s: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``sgn(h)`` with ties kept: ``+1`` if ``h > 0``, ``−1`` if ``h < 0``, ``s`` if ``h = 0``.

    The one sign rule of every binary network in hopjax (classical, dense, sequence, cycles): a
    unit whose field is exactly zero keeps its previous value, so a stored pattern whose field
    does not oppose it is a fixed point and masked (``0``) cue entries stay unknown until their
    field decides them.
    """
    one = jnp.ones_like(s)
    return jnp.where(h > 0, one, jnp.where(h < 0, -one, s))
