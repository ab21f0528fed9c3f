"""Limit cycles of synchronous binary networks: the prime-ring construction, Brent's cycle
detection and an exhaustive census (seed 000, ``../shared/specs/cycles.md``).

Dynamics: ``s(t+1) = sgn(W s(t) + b)`` on ``s ∈ {−1, +1}^n`` with the **tie rule** of
:mod:`hopjax.classical`: a unit whose field is exactly 0 keeps its previous value. The map is a
deterministic function of the state, so every trajectory ends in a cycle.

:class:`PrimeRings` (``m`` odd, distinct primes ``p_1 < … < p_k``; ``n = m Σ_r p_r``): neuron
``(r, j, c)`` — ring ``r``, position ``j ∈ Z_{p_r}``, copy ``c ∈ [m]`` — receives weight 1 from
every copy of cluster ``(r, j−1)`` and nothing else; ``b = 0``. Each neuron copies the majority
of the previous cluster on its ring (``m`` odd: never a tie). Hence

* after one step every cluster is uniform (transient ≤ 1); the state is then one word
  ``w_r ∈ {±1}^{p_r}`` per ring, and each step rotates every word by one position;
* a word of prime length ``p`` is constant (period 1) or aperiodic (period ``p``: its rotation
  period divides ``p``), so the global period is ``Π_{r: w_r non-constant} p_r`` (distinct
  primes: lcm = product);
* cycles of period ``Π_r p_r``: ``Π_r (2^{p_r} − 2)/p_r`` (the aperiodic words of each ring, in
  rotation classes of size ``p_r`` — an integer by Fermat); all cycles:
  ``Π_r (2 + (2^{p_r} − 2)/p_r)``;
* a cycle is named by the minimal rotation (necklace representative) of each ring's word.

The counts are exact Python integers (they overflow machine integers for realistic sizes).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from hopjax._checks import float_array

__all__ = [
    "Census",
    "PrimeRings",
    "census",
    "cluster_error_prob",
    "find_cycle",
    "flip_outputs",
    "noisy_survival",
    "pack_bits",
    "sign_step",
    "sparsify",
    "survival_exact",
]


def _is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, math.isqrt(p) + 1))


def sign_step(
    W: Float[Array, "n n"], b: Float[Array, " n"]
) -> Callable[[Float[Array, " n"]], Float[Array, " n"]]:
    """The synchronous update ``s ↦ sgn(W s + b)`` with ties keeping the previous value."""

    def step(s: Array) -> Array:
        h = W @ s + b
        return jnp.where(h > 0, 1.0, jnp.where(h < 0, -1.0, s)).astype(s.dtype)

    return step


@dataclasses.dataclass(frozen=True)
class PrimeRings:
    """The prime-ring majority network (module docstring); ``m`` odd, distinct primes."""

    m: int
    primes: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.m, int) or self.m < 1 or self.m % 2 == 0:
            raise ValueError(f"m must be an odd integer >= 1 (no majority ties); got {self.m!r}.")
        ps = tuple(int(p) for p in self.primes)
        if not ps:
            raise ValueError("primes must hold at least one prime.")
        bad = [p for p in ps if not _is_prime(p)]
        if bad:
            raise ValueError(f"primes must be primes; got {bad}.")
        if len(set(ps)) != len(ps):
            raise ValueError(f"primes must be distinct; got {ps}.")
        object.__setattr__(self, "primes", tuple(sorted(ps)))

    @property
    def n(self) -> int:
        """Number of neurons ``m Σ_r p_r``."""
        return self.m * sum(self.primes)

    @property
    def max_period(self) -> int:
        """``Π_r p_r``."""
        return math.prod(self.primes)

    @property
    def num_max_period_cycles(self) -> int:
        """``Π_r (2^{p_r} − 2) / p_r``."""
        return math.prod((2**p - 2) // p for p in self.primes)

    @property
    def num_cycles(self) -> int:
        """``Π_r (2 + (2^{p_r} − 2) / p_r)``."""
        return math.prod(2 + (2**p - 2) // p for p in self.primes)

    def cycle_length_counts(self) -> dict[int, int]:
        """Period → number of cycles with it (every subset of rings non-constant; 2^k subsets,
        so at most 20 rings)."""
        out: dict[int, int] = {}
        k = len(self.primes)
        if k > 20:
            raise ValueError(f"cycle_length_counts enumerates 2^k subsets; k = {k} > 20 rings.")
        for mask in range(1 << k):
            length, count = 1, 1
            for r, p in enumerate(self.primes):
                if mask >> r & 1:
                    length *= p
                    count *= (2**p - 2) // p
                else:
                    count *= 2
            out[length] = out.get(length, 0) + count
        return out

    def _offsets(self) -> list[int]:
        return [self.m * o for o in np.cumsum((0, *self.primes[:-1])).tolist()]

    def weights(self) -> tuple[Float[Array, "n n"], Float[Array, " n"]]:
        """Dense ``(W, b)``: ``W[(r, j+1, c'), (r, j, c)] = 1``, ``b = 0``."""
        n, m = self.n, self.m
        W = np.zeros((n, n), np.float32)
        for off, p in zip(self._offsets(), self.primes, strict=True):
            for j in range(p):
                src = off + m * j
                dst = off + m * ((j + 1) % p)
                W[dst : dst + m, src : src + m] = 1.0
        return jnp.asarray(W), jnp.zeros((n,), jnp.float32)

    def step(self, s: Float[Array, " n"]) -> Float[Array, " n"]:
        """One synchronous update in ``O(n)`` (cluster sums, then a roll per ring)."""
        parts = []
        for off, p in zip(self._offsets(), self.primes, strict=True):
            ring = s[off : off + self.m * p].reshape(p, self.m)
            maj = jnp.sign(jnp.sum(ring, axis=1))  # m odd: never 0
            parts.append(jnp.repeat(jnp.roll(maj, 1), self.m))
        return jnp.concatenate(parts).astype(s.dtype)

    def words(self, s: Float[Array, " n"]) -> list[Array]:
        """The word of each ring: the majority of every cluster (``±1``, length ``p_r``)."""
        out = []
        for off, p in zip(self._offsets(), self.primes, strict=True):
            ring = s[off : off + self.m * p].reshape(p, self.m)
            out.append(jnp.sign(jnp.sum(ring, axis=1)))
        return out

    def cycle_name(self, s: Float[Array, " n"]) -> tuple[tuple[int, ...], ...]:
        """Canonical name of the cycle the state lands on: per ring, the lexicographically
        minimal rotation of its cluster-majority word (as 0/1 bits). Host-side (not jit-able)."""
        name = []
        for w in self.words(s):
            bits = tuple(int(x > 0) for x in np.asarray(w))
            name.append(min(bits[i:] + bits[:i] for i in range(len(bits))))
        return tuple(name)

    def period_of(self, s: Float[Array, " n"]) -> int:
        """Period of the cycle through (the successor of) ``s``: ``Π`` of the non-constant rings."""
        return math.prod(
            p
            for p, w in zip(self.primes, self.words(s), strict=True)
            if len(set(np.asarray(w).tolist())) > 1
        )


# ----------------------------------------------------------------------------- Brent


def pack_bits(s: Float[Array, " n"]) -> Int[Array, " w"]:
    """Pack a ``±1`` state into ``ceil(n/32)`` uint32 words (bit ``i`` set iff ``s_i = +1``)."""
    n = s.shape[0]
    words = -(-n // 32)
    bits = jnp.zeros((words * 32,), jnp.uint32).at[:n].set((s > 0).astype(jnp.uint32))
    return jnp.sum(
        bits.reshape(words, 32) << jnp.arange(32, dtype=jnp.uint32), axis=1, dtype=jnp.uint32
    )


def find_cycle(
    step: Callable[[Array], Array], s0: Float[Array, " n"], *, max_steps: int = 1 << 20
) -> tuple[Int[Array, ""], Int[Array, ""], Float[Array, " n"], Array]:
    """Brent's cycle detection from ``s0`` on bit-packed states (``lax.while_loop``; vmappable).

    Returns ``(transient, period, state_on_cycle, found)``; ``found`` is False (and the numbers
    meaningless) when the period or the transient exceeds ``max_steps``.
    """
    same = lambda a, b: jnp.all(pack_bits(a) == pack_bits(b))  # noqa: E731

    # phase 1: the period, with power-of-two tortoise jumps
    def cond1(c: tuple) -> Array:
        tort, hare, _, _, it = c
        return ~same(tort, hare) & (it < max_steps)

    def body1(c: tuple) -> tuple:
        tort, hare, power, lam, it = c
        jump = power == lam
        tort = jnp.where(jump, hare, tort)
        power = jnp.where(jump, power * 2, power)
        lam = jnp.where(jump, 0, lam)
        return tort, step(hare), power, lam + 1, it + 1

    one = jnp.asarray(1, jnp.int32)
    _, _, _, lam, it1 = jax.lax.while_loop(
        cond1, body1, (s0, step(s0), one, one, jnp.asarray(0, jnp.int32))
    )

    # phase 2: hare lam steps ahead, then walk both until they meet (the transient)
    hare = jax.lax.fori_loop(0, lam, lambda i, h: step(h), s0)

    def cond2(c: tuple) -> Array:
        tort, hare, mu = c
        return ~same(tort, hare) & (mu < max_steps)

    def body2(c: tuple) -> tuple:
        tort, hare, mu = c
        return step(tort), step(hare), mu + 1

    tort, _, mu = jax.lax.while_loop(cond2, body2, (s0, hare, jnp.asarray(0, jnp.int32)))
    found = (it1 < max_steps) & (mu < max_steps)
    return mu, lam, tort, found


# ----------------------------------------------------------------------------- census


@dataclasses.dataclass(frozen=True)
class Census:
    """Every cycle of a network on ``n ≤ 24`` units: ``lengths[i]`` and ``basin_sizes[i]`` of
    cycle ``i`` (named by its smallest state, in increasing order: ``labels``)."""

    n: int
    labels: np.ndarray
    lengths: np.ndarray
    basin_sizes: np.ndarray

    @property
    def num_cycles(self) -> int:
        return len(self.labels)

    def length_counts(self) -> dict[int, int]:
        """Period → number of cycles with it."""
        vals, counts = np.unique(self.lengths, return_counts=True)
        return {int(v): int(c) for v, c in zip(vals, counts, strict=True)}


def _decode(x: Array, n: int) -> Array:
    """Integer states → ``±1`` float32 rows (bit ``i`` ↔ unit ``i``)."""
    bits = (x[:, None] >> jnp.arange(n, dtype=jnp.int32)) & 1
    return (2 * bits - 1).astype(jnp.float32)


def _encode(s: Array) -> Array:
    n = s.shape[-1]
    return jnp.sum(jnp.where(s > 0, 1 << jnp.arange(n, dtype=jnp.int32), 0), axis=-1)


def census(
    W: Float[Array, "n n"], b: Float[Array, " n"] | None = None, *, chunk: int = 1 << 14
) -> Census:
    """Exhaustive census of ``s ↦ sgn(W s + b)`` (ties keep the previous value), ``n ≤ 24``.

    1. The successor of all ``2^n`` states, as integers, in one vectorised program
       (``lax.map`` over chunks of ``chunk`` states, decoded to bits on the fly).
    2. Pointer doubling, ``n`` times ``succ ← succ ∘ succ``: ``f^{2^n}`` sends every state onto
       its cycle (transients are shorter than ``2^n``); its image is the set of cycle states.
    3. A min-label pass (``lab ← min(lab, lab ∘ jump)`` with doubling jumps) names each cycle by
       its smallest state; lengths and basin sizes are counts of those labels.
    """
    W = float_array(W, "W", ndim=2)
    n = W.shape[0]
    if W.shape != (n, n):
        raise ValueError(f"W must be square (n, n); got {W.shape}.")
    if n > 24:
        raise ValueError(f"census enumerates 2^n states; n must be <= 24, got {n}.")
    b = jnp.zeros((n,), W.dtype) if b is None else float_array(b, "b", ndim=1)
    if b.shape != (n,):
        raise ValueError(f"b must have shape (n,) = ({n},); got {b.shape}.")
    total = 1 << n
    chunk = min(chunk, total)
    step = sign_step(W, b)

    @jax.jit
    def run() -> tuple[Array, Array, Array]:
        states = jnp.arange(total, dtype=jnp.int32).reshape(-1, chunk)
        succ = jax.lax.map(lambda x: _encode(jax.vmap(step)(_decode(x, n))), states).reshape(-1)
        jump = jax.lax.fori_loop(0, n, lambda i, f: f[f], succ)  # f^(2^n)
        on_cycle = jnp.zeros((total,), bool).at[jump].set(True)
        idx = jnp.arange(total, dtype=jnp.int32)

        def minlab(i: int, c: tuple[Array, Array]) -> tuple[Array, Array]:
            lab, j = c
            return jnp.minimum(lab, lab[j]), j[j]

        lab, _ = jax.lax.fori_loop(0, n + 1, minlab, (idx, succ))
        return lab, on_cycle, lab[jump]

    lab, on_cycle, basin = (np.asarray(a) for a in run())
    labels = np.unique(lab[on_cycle])
    lengths = np.bincount(lab[on_cycle], minlength=total)[labels]
    basins = np.bincount(basin, minlength=total)[labels]
    return Census(n=n, labels=labels, lengths=lengths, basin_sizes=basins)


# ----------------------------------------------------------------------------- noise


def flip_outputs(key: Array, s: Float[Array, " n"], eps: float | Array) -> Float[Array, " n"]:
    """Flip noise: every output is flipped independently with probability ``eps``."""
    return jnp.where(jax.random.bernoulli(key, eps, s.shape), -s, s)


def sparsify(key: Array, W: Float[Array, "n n"], rho: float | Array) -> Float[Array, "n n"]:
    """Keep each weight independently with probability ``rho`` (others set to 0). With the
    tie rule a unit whose remaining field is 0 keeps its previous value."""
    return jnp.where(jax.random.bernoulli(key, rho, W.shape), W, 0.0)


def cluster_error_prob(m: int, eps: float) -> float:
    """``q(m, ε) = P[Bin(m, ε) > m/2]``: a cluster decodes wrongly given a correct previous
    cluster (spec; ``≤ exp(−2 (½ − ε)² m)``). Exact sum, ``m`` odd."""
    if m < 1 or m % 2 == 0:
        raise ValueError(f"m must be an odd integer >= 1; got {m}.")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must lie in [0, 1]; got {eps}.")
    return float(
        sum(math.comb(m, k) * eps**k * (1 - eps) ** (m - k) for k in range(m // 2 + 1, m + 1))
    )


def survival_exact(net: PrimeRings, eps: float, T: int) -> float:
    """``P[no decoding error in T steps] = (1 − q(m, ε))^{T Σ_r p_r}`` (errors are independent
    over clusters and steps)."""
    return (1.0 - cluster_error_prob(net.m, eps)) ** (T * sum(net.primes))


def noisy_survival(
    net: PrimeRings, key: Array, s0: Float[Array, " n"], eps: float | Array, T: int
) -> Array:
    """Monte-Carlo: run ``T`` noisy steps (update, then flip noise) and report whether every
    cluster's decoded word followed the rotation of the previous decoded word (``lax.scan``;
    vmap over keys and starts)."""

    def body(carry: tuple, k: Array) -> tuple:
        s, ok = carry
        prev = net.words(s)
        s = flip_outputs(k, net.step(s), eps)
        now = net.words(s)
        good = jnp.all(
            jnp.stack([jnp.all(w == jnp.roll(p, 1)) for w, p in zip(now, prev, strict=True)])
        )
        return (s, ok & good), None

    (_, ok), _ = jax.lax.scan(body, (net.step(s0), jnp.asarray(True)), jax.random.split(key, T))
    return ok
