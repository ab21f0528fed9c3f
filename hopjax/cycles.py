"""Limit cycles of synchronous binary networks: the prime-ring construction, Brent's cycle
detection and an exhaustive census. The claims come from Natale et al., "asymmetric binary
networks with superpolynomially many long, noise-robust limit cycles" (arXiv:2605.24611); the
construction below is ours, chosen to meet them provably (``docs/notes/cycles.md``).

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
import itertools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from hopjax._checks import float_array, positive_int
from hopjax.patterns import sign_keep

__all__ = [
    "Census",
    "PrimeRings",
    "adversarial_flips",
    "census",
    "census_stats",
    "cluster_error_prob",
    "design",
    "find_cycle",
    "flip_outputs",
    "noisy_survival",
    "pack_bits",
    "primes_upto",
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
        return sign_keep(W @ s + b, s)

    return step


@dataclasses.dataclass(frozen=True)
class PrimeRings:
    """The prime-ring majority network (described in :mod:`hopjax.cycles`); ``m`` odd, distinct
    primes.

    Attributes:
        m: copies of each ring (odd: a majority over them decides each unit).
        primes: the ring lengths, distinct primes; the cycle's period is their product.
    """

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

    @property
    def num_clusters(self) -> int:
        """``C = Σ_r p_r`` clusters of ``m`` copies; neuron ``(r, j, c)`` has index
        ``m (Σ_{r'<r} p_{r'} + j) + c``, so ``s.reshape(C, m)`` lists the clusters."""
        return sum(self.primes)

    def predecessors(self) -> np.ndarray:
        """``pred[k]``: the cluster feeding cluster ``k`` (position ``j − 1`` on its ring)."""
        out, off = [], 0
        for p in self.primes:
            out.extend(off + (j - 1) % p for j in range(p))
            off += p
        return np.asarray(out, np.int32)

    def weights(self) -> tuple[Float[Array, "n n"], Float[Array, " n"]]:
        """Dense ``(W, b)``: ``W[(r, j+1, c'), (r, j, c)] = 1``, ``b = 0``."""
        C, m = self.num_clusters, self.m
        A = np.zeros((C, C), np.float32)
        A[np.arange(C), self.predecessors()] = 1.0  # cluster adjacency: k reads pred[k]
        W = np.kron(A, np.ones((m, m), np.float32))
        return jnp.asarray(W), jnp.zeros((self.n,), jnp.float32)

    def clusters(self, s: Float[Array, "*batch n"]) -> Float[Array, "*batch C m"]:
        """The state as ``(C, m)`` clusters."""
        return s.reshape(*s.shape[:-1], self.num_clusters, self.m)

    def words(self, s: Float[Array, "*batch n"]) -> Float[Array, "*batch C"]:
        """Every cluster's majority (``±1``; ``m`` odd: never 0), all rings concatenated."""
        return jnp.sign(jnp.sum(self.clusters(s), axis=-1))

    def ring_words(self, s: Float[Array, " n"]) -> list[Array]:
        """:meth:`words` split per ring (length ``p_r`` each)."""
        w = self.words(s)
        return jnp.split(w, np.cumsum(self.primes)[:-1].tolist())

    def step(self, s: Float[Array, "*batch n"]) -> Float[Array, "*batch n"]:
        """One synchronous update in ``O(n)``: cluster majorities, gathered from the predecessor
        cluster, repeated over the ``m`` copies (equals ``sgn(W s)`` with :meth:`weights`)."""
        maj = self.words(s)[..., self.predecessors()]
        return jnp.repeat(maj, self.m, axis=-1).astype(s.dtype)

    def state(self, words: Float[Array, "*batch C"]) -> Float[Array, "*batch n"]:
        """The uniform-cluster state carrying ``words`` (one ``±1`` per cluster)."""
        return jnp.repeat(words, self.m, axis=-1)

    def cycle_name(self, s: Float[Array, " n"]) -> tuple[tuple[int, ...], ...]:
        """Canonical name of the cycle the state lands on: per ring, the lexicographically
        minimal rotation of its cluster-majority word (as 0/1 bits). Host-side (not jit-able)."""
        name = []
        for w in self.ring_words(s):
            bits = tuple(int(x > 0) for x in np.asarray(w))
            name.append(min(bits[i:] + bits[:i] for i in range(len(bits))))
        return tuple(name)

    def period_of(self, s: Float[Array, " n"]) -> int:
        """Period of the cycle through (the successor of) ``s``: ``Π`` of the non-constant rings."""
        return math.prod(
            p
            for p, w in zip(self.primes, self.ring_words(s), strict=True)
            if len(set(np.asarray(w).tolist())) > 1
        )

    def sample_cycles(self, key: PRNGKeyArray, count: int) -> Float[Array, "count n"]:
        """States on ``count`` **distinct** cycles of maximal period ``Π_r p_r``, uniformly
        among them: each ring's word is drawn uniformly among the non-constant words (a uniform
        rotation class, each class having exactly ``p_r`` members), repeats of a cycle name are
        rejected. Host-side loop over batches; raises if ``count`` exceeds the number of such
        cycles."""
        count = positive_int(count, "count")
        total = self.num_max_period_cycles
        if count > total:
            raise ValueError(
                f"count = {count} exceeds the {total} cycles of maximal period of {self!r}."
            )
        names: set[tuple[tuple[int, ...], ...]] = set()
        out: list[np.ndarray] = []
        C = self.num_clusters
        splits = np.cumsum(self.primes)[:-1]
        rounds = 0
        while len(out) < count:
            rounds += 1
            if rounds > 10_000:  # pragma: no cover - coupon collector needs ~ total·log(total)
                raise RuntimeError("sample_cycles: too many rejections; lower count.")
            key, sub = jax.random.split(key)
            words = np.asarray(jax.random.bernoulli(sub, 0.5, (max(64, 2 * count), C)))
            for w in words:
                rings = np.split(w, splits)
                if any(r.all() or not r.any() for r in rings):
                    continue  # a constant ring: not of maximal period
                name = tuple(
                    min(tuple(np.roll(r, -i).astype(int).tolist()) for i in range(len(r)))
                    for r in rings
                )
                if name in names:
                    continue
                names.add(name)
                out.append(np.where(w, 1.0, -1.0).astype(np.float32))
                if len(out) == count:
                    break
        return self.state(jnp.asarray(np.stack(out)))

    def failure_prob(self, eps: float, horizon: int, *, beta: float = 0.0) -> float:
        """``1 − (1 − q)^{horizon · C}``: probability of a decoding error within ``horizon``
        noisy steps (:func:`cluster_error_prob` with the worst-case adversary of
        :func:`noisy_survival`)."""
        q = cluster_error_prob(self.m, eps, flips=math.floor(beta * self.m))
        return float(-math.expm1(horizon * self.num_clusters * math.log1p(-q))) if q < 1 else 1.0


def primes_upto(limit: int) -> list[int]:
    """The primes ``<= limit`` (sieve of Eratosthenes)."""
    if limit < 2:
        return []
    sieve = np.ones(limit + 1, bool)
    sieve[:2] = False
    for d in range(2, math.isqrt(limit) + 1):
        if sieve[d]:
            sieve[d * d :: d] = False
    return np.flatnonzero(sieve).tolist()


def _knapsack(primes: list[int], values: np.ndarray, capacity: int) -> tuple[np.ndarray, list]:
    """0/1 knapsack over distinct primes: ``best[c] = max Σ values`` with ``Σ p <= c`` for every
    ``c <= capacity`` (one vectorised pass per prime); returns ``best`` and the take-tables."""
    best = np.zeros(capacity + 1)
    takes = []
    for p, v in zip(primes, values, strict=True):
        cand = np.full_like(best, -np.inf)
        cand[p:] = best[:-p] + v if p > 0 else best + v
        take = cand > best
        best = np.where(take, cand, best)
        takes.append(take)
    return best, takes


def _unpack(primes: list[int], takes: list, capacity: int) -> tuple[int, ...]:
    chosen, c = [], capacity
    for p, take in zip(reversed(primes), reversed(takes), strict=True):
        if take[c]:
            chosen.append(p)
            c -= p
    return tuple(sorted(chosen))


def design(
    n: int,
    eps: float,
    horizon: int,
    fail_prob: float,
    *,
    objective: str = "cycles",
    beta: float = 0.0,
) -> PrimeRings:
    """The :class:`PrimeRings` on at most ``n`` neurons that maximises ``log #cycles``
    (``objective="cycles"``) or ``log max_period`` (``"period"``) subject to
    ``P[decoding error within horizon steps] = 1 − (1 − q(m, ε))^{horizon Σp} <= fail_prob``
    (flip noise ``eps``, worst-case adversary ``beta``). ``objective="first_primes"`` is the
    spec's asymptotic recipe instead: the first primes ``2, 3, 5, …`` whose sum fits the cap,
    with the reliable odd ``m`` that fits the most of them (both ``log #cycles = Θ(S)`` and
    ``log period = Θ(√(S log S))``, ``S = n/m``).

    For each odd ``m`` the reliability bound caps ``C = Σ p_r`` at
    ``min(⌊n/m⌋, ⌊log(1 − fail_prob) / (horizon log(1 − q))⌋)``; one 0/1 knapsack over the
    primes (values ``log(2 + (2^p − 2)/p)`` or ``log p``) gives the best set of distinct primes
    for every cap at once; the best ``m`` wins (ties: the smaller ``m``). ``O(π(n) n)`` time and
    memory, so ``n`` up to a few ×10⁴.
    """
    n = positive_int(n, "n", minimum=2)
    horizon = positive_int(horizon, "horizon")
    if not 0.0 <= eps < 0.5:
        raise ValueError(f"eps must lie in [0, 1/2) (majority decoding); got {eps}.")
    if not 0.0 < fail_prob < 1.0:
        raise ValueError(f"fail_prob must lie in (0, 1); got {fail_prob}.")
    if not 0.0 <= beta < 0.5:
        raise ValueError(f"beta must lie in [0, 1/2); got {beta}.")
    if objective not in ("cycles", "period", "first_primes"):
        raise ValueError(
            f"objective must be 'cycles', 'period' or 'first_primes'; got {objective!r}."
        )
    caps: dict[int, int] = {}
    for m in range(1, n // 2 + 1, 2):
        q = cluster_error_prob(m, eps, flips=math.floor(beta * m))
        if q >= 1.0:
            continue
        limit = n // m
        if q > 0:
            reliable = math.log1p(-fail_prob) / (horizon * math.log1p(-q))  # max Σp allowed
            limit = min(limit, math.floor(reliable) if reliable < limit else limit)
        if limit >= 2:
            caps[m] = limit
    if not caps:
        raise ValueError(
            f"no prime-ring design on n = {n} neurons keeps P[failure within {horizon} steps] "
            f"<= {fail_prob} at eps = {eps}, beta = {beta}; raise n or fail_prob."
        )
    primes = primes_upto(max(caps.values()))
    if objective == "first_primes":  # the reliable m that fits the most first primes
        sums = list(itertools.accumulate(primes))
        fits = {m: sum(1 for s in sums if s <= cap) for m, cap in caps.items()}
        m = max(fits, key=lambda mm: (fits[mm], -mm))
        return PrimeRings(m, tuple(primes[: fits[m]]))
    if objective == "cycles":
        values = np.asarray([math.log(2 + (2**p - 2) // p) for p in primes])
    else:
        values = np.log(np.asarray(primes, float))
    best, takes = _knapsack(primes, values, max(caps.values()))
    m = max(caps, key=lambda mm: (best[caps[mm]], -mm))
    return PrimeRings(m, _unpack(primes, takes, caps[m]))


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
    cycle ``i`` (named by its smallest state, in increasing order: ``labels``); ``ends_on[x]``
    is the label of the cycle that state ``x`` (bit ``i`` ↔ unit ``i`` is ``+1``) ends on."""

    n: int
    labels: np.ndarray
    lengths: np.ndarray
    basin_sizes: np.ndarray
    ends_on: np.ndarray

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


def _census_checks(W: Array, b: Array | None) -> tuple[Array, Array, int]:
    W = float_array(W, "W", ndim=2)
    n = W.shape[0]
    if W.shape != (n, n):
        raise ValueError(f"W must be square (n, n); got {W.shape}.")
    if n > 24:
        raise ValueError(f"census enumerates 2^n states; n must be <= 24, got {n}.")
    b = jnp.zeros((n,), W.dtype) if b is None else float_array(b, "b", ndim=1)
    if b.shape != (n,):
        raise ValueError(f"b must have shape (n,) = ({n},); got {b.shape}.")
    return W, b, n


def _census_arrays(W: Array, b: Array, n: int, chunk: int) -> tuple[Array, Array, Array]:
    """Traceable core of :func:`census`: per state its cycle label (the smallest state of its
    cycle), whether it lies on a cycle, and the label of the cycle it ends on."""
    total = 1 << n
    chunk = min(chunk, total)
    if chunk & (chunk - 1):
        raise ValueError(f"chunk must be a power of two; got {chunk}.")
    step = sign_step(W, b)
    states = jnp.arange(total, dtype=jnp.int32).reshape(-1, chunk)
    succ = jax.lax.map(lambda x: _encode(jax.vmap(step)(_decode(x, n))), states).reshape(-1)
    jump = jax.lax.fori_loop(0, n, lambda i, f: f[f], succ)  # f^(2^n)
    on_cycle = jnp.zeros((total,), bool).at[jump].set(True)

    def minlab(i: int, c: tuple[Array, Array]) -> tuple[Array, Array]:
        lab, j = c
        return jnp.minimum(lab, lab[j]), j[j]

    lab, _ = jax.lax.fori_loop(0, n + 1, minlab, (jnp.arange(total, dtype=jnp.int32), succ))
    return lab, on_cycle, lab[jump]


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
    W, b, n = _census_checks(W, b)
    run = jax.jit(_census_arrays, static_argnums=(2, 3))
    lab, on_cycle, basin = (np.asarray(a) for a in run(W, b, n, chunk))
    total = 1 << n
    labels = np.unique(lab[on_cycle])
    lengths = np.bincount(lab[on_cycle], minlength=total)[labels]
    basins = np.bincount(basin, minlength=total)[labels]
    return Census(n=n, labels=labels, lengths=lengths, basin_sizes=basins, ends_on=basin)


def census_stats(
    W: Float[Array, "n n"], b: Float[Array, " n"] | None = None, *, chunk: int = 1 << 14
) -> dict[str, Array]:
    """:func:`census` reduced to scalars inside JAX (jit- and vmap-able, e.g. over random
    networks): ``num_cycles``, ``max_period``, ``num_fixed_points``, ``mean_basin``
    (``2^n / num_cycles``), ``largest_basin`` (fraction of the ``2^n`` states) and
    ``mean_period`` (over cycles)."""
    W, b, n = _census_checks(W, b)
    lab, on_cycle, basin = _census_arrays(W, b, n, chunk)
    total = 1 << n
    idx = jnp.arange(total, dtype=jnp.int32)
    heads = on_cycle & (lab == idx)  # one state per cycle: its smallest
    lengths = jnp.zeros((total,), jnp.int32).at[lab].add(on_cycle.astype(jnp.int32))
    basins = jnp.zeros((total,), jnp.int32).at[basin].add(1)
    num = jnp.sum(heads)
    return {
        "num_cycles": num,
        "max_period": jnp.max(jnp.where(heads, lengths, 0)),
        "num_fixed_points": jnp.sum(heads & (lengths == 1)),
        "mean_basin": total / num,
        "largest_basin": jnp.max(basins) / total,
        "mean_period": jnp.sum(on_cycle) / num,
    }


# ----------------------------------------------------------------------------- noise


def flip_outputs(key: Array, s: Float[Array, " n"], eps: float | Array) -> Float[Array, " n"]:
    """Flip noise: every output is flipped independently with probability ``eps``."""
    return jnp.where(jax.random.bernoulli(key, eps, s.shape), -s, s)


def sparsify(key: Array, W: Float[Array, "n n"], rho: float | Array) -> Float[Array, "n n"]:
    """Keep each weight independently with probability ``rho`` (others set to 0). With the
    tie rule a unit whose remaining field is 0 keeps its previous value."""
    return jnp.where(jax.random.bernoulli(key, rho, W.shape), W, 0.0)


def adversarial_flips(
    key: PRNGKeyArray, W: Float[Array, "n n"], beta: float | Array
) -> Float[Array, "n n"]:
    """Static adversarial connections: for every neuron, flip the sign of ``⌊β d_i⌋`` of its
    ``d_i`` non-zero incoming weights, chosen uniformly at random (explicit ``key``). On a
    uniform input cluster every flipped weight opposes the current value, so a prime ring keeps
    its cycles iff ``⌊β m⌋ < m/2``; :func:`noisy_survival` has the worst case under noise."""
    nz = W != 0
    deg = jnp.sum(nz, axis=1, keepdims=True)
    k = jnp.floor(beta * deg)
    # rank the non-zero entries of each row in a random order; flip the first k
    u = jnp.where(nz, jax.random.uniform(key, W.shape), 2.0)
    rank = jnp.argsort(jnp.argsort(u, axis=1), axis=1)
    return jnp.where(nz & (rank < k), -W, W)


def cluster_error_prob(m: int, eps: float, *, flips: int = 0) -> float:
    """``q(m, ε) = P[Bin(m, ε) > m/2 − k]``: a cluster decodes wrongly given a correct previous
    cluster whose ``m`` outputs are each flipped with probability ``ε``, when an adversary also
    turns ``k = flips`` of each neuron's ``m`` input weights against the correct value
    (``k = 0``: the spec's ``q ≤ exp(−2 (½ − ε)² m)``). ``m`` odd, so the field is never 0."""
    if m < 1 or m % 2 == 0:
        raise ValueError(f"m must be an odd integer >= 1; got {m}.")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must lie in [0, 1]; got {eps}.")
    if flips < 0:
        raise ValueError(f"flips must be >= 0; got {flips}.")
    from scipy.stats import binom

    threshold = (m - 1) // 2 - flips  # error iff (#flipped outputs) > threshold
    if threshold < 0:
        return 1.0
    return float(binom.sf(threshold, m, eps))


def survival_exact(net: PrimeRings, eps: float, T: int, *, beta: float = 0.0) -> float:
    """``P[no decoding error in T steps] = (1 − q(m, ε))^{T Σ_r p_r}`` (errors are independent
    over clusters and steps; ``q`` with ``⌊β m⌋`` adversarial flips, :func:`cluster_error_prob`)."""
    return 1.0 - net.failure_prob(eps, T, beta=beta)


def noisy_survival(
    net: PrimeRings,
    key: PRNGKeyArray,
    s0: Float[Array, " n"],
    eps: float | Array,
    T: int,
    *,
    rho: float | Array = 1.0,
    beta: float | Array = 0.0,
) -> Bool[Array, ""]:
    """Monte-Carlo: does the network stay on the cycle of ``s0`` for ``T`` noisy steps?

    Reference words ``V_t`` (one ``±1`` per cluster) follow the noiseless rotation from the
    cluster majorities of ``s0``. Each step: (1) **flip noise**: every output flips with
    probability ``eps``; (2) every copy ``i`` of cluster ``k`` sums its *kept* inputs (weights
    kept with probability ``rho``, drawn once per run: **sparsification**) from cluster
    ``pred[k]``: ``a`` of them carry ``V_t[pred k]``, ``w`` do not; (3) a **worst-case
    adversary** turns ``⌊β (a + w)⌋`` of them, all carrying the correct value, against it:
    field ``· V_{t+1}[k] = a − w − 2 min(⌊β(a+w)⌋, a)``; a zero field keeps the neuron's own
    (noisy) output (the tie rule). The run survives if every cluster's majority equals
    ``V_{t+1}`` at every step. With ``rho = 1`` this happens with probability exactly
    :func:`survival_exact` (``lax.scan`` over steps; vmap over keys, starts, ``eps``,
    ``rho``, ``beta``)."""
    C, m = net.num_clusters, net.m
    pred = jnp.asarray(net.predecessors())
    k_mask, k_run = jax.random.split(key)
    keep = jax.random.bernoulli(k_mask, rho, (C, m, m)).astype(jnp.float32)
    V0 = net.words(s0).astype(jnp.float32)

    def body(carry: tuple, k: PRNGKeyArray) -> tuple:
        X, V, ok = carry  # X: (C, m) state, V: (C,) reference words
        Y = jnp.where(jax.random.bernoulli(k, eps, X.shape), -X, X)  # flip noise
        V_next = V[pred]
        agree = (Y[pred] == V[pred][:, None]).astype(jnp.float32)  # (C, m) inputs' agreement
        a = jnp.einsum("kij,kj->ki", keep, agree)
        w = jnp.einsum("kij,kj->ki", keep, 1.0 - agree)
        adv = jnp.minimum(jnp.floor(beta * (a + w)), a)
        h = a - w - 2.0 * adv  # field in the direction of V_next
        X_new = sign_keep(h * V_next[:, None], Y)  # h points along V_next (V = ±1: exact)
        good = jnp.all(jnp.sign(jnp.sum(X_new, axis=1)) == V_next)
        return (X_new, V_next, ok & good), None

    X0 = net.clusters(net.state(V0)).astype(jnp.float32)
    (_, _, ok), _ = jax.lax.scan(body, (X0, V0, jnp.asarray(True)), jax.random.split(k_run, T))
    return ok
