"""Classical binary Hopfield network and correlation-matrix associative memories.

Sources: Hopfield (1982), PNAS 79, 2554, doi:10.1073/pnas.79.8.2554 (energy, Hebbian storage,
one-at-a-time updates, ~0.14 N capacity; Amit, Gutfreund & Sompolinsky 1985 for 0.138 N) and the
correlation-matrix memories of Amari (1972) and Kohonen (1972, 1988): linear recall, thresholded
recall, the Hopfield network as a correlation-matrix memory with energy descent.

Tie rule (``sign(0)``): a unit whose local field is exactly zero **keeps its previous state**, in
synchronous and asynchronous updates alike. With it every stored pattern whose field does not
oppose it is a fixed point, the energy argument needs no special case, and ``0`` entries of a
masked cue stay unknown until their field decides them. (Amari's single-pass recall of
:class:`CorrelationMemory` follows Amari's ``sgn`` with ``sgn(0) = 0`` instead.)

**Exact ties** (``quantum``). Hebbian weights of ``±1`` patterns are multiples of ``1/N``, so
every field is a multiple of ``1/N`` and exact ties are common (~10⁻³ of the units per update at
even ``P``). In float32 ``k/N`` is inexact unless ``N`` is a power of two, and the computed sum
depends on the summation order — which changes with the batch size of a vmapped matrix product
— so a true tie could come out ``±10⁻⁷`` and be resolved either way. A network built with the
field's ``quantum`` (:meth:`Hopfield.from_patterns` sets ``1/N`` for the Hebbian rule) rounds
each field to the nearest multiple of it before taking the sign: the error of the sum is far
below ``quantum/2``, so the rounded field is the exact one whatever the order, and results do not
depend on how states are batched. Real-valued weights (Storkey, pseudo-inverse) have no lattice:
exact ties there have probability zero, and a field within round-off (~10⁻⁷ relative) of 0 may
still be decided either way.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from hopjax._checks import (
    check_bipolar,
    finite,
    float_array,
    positive,
    positive_int,
    same_length,
)
from hopjax._pool import Stepper, run_pool
from hopjax.correlation import CorrelationMemory
from hopjax.patterns import sign_keep
from hopjax.rules import get_rule, hebbian

__all__ = [
    "AbstractBinaryMemory",
    "AbstractBinaryNetwork",
    "CorrelationMemory",
    "Hopfield",
    "RunResult",
    "run",
    "run_async_pool",
]


class AbstractBinaryNetwork(eqx.Module):
    """A network of ``±1`` units updated by the sign of a field — the contract every binary
    model of hopjax follows (:class:`Hopfield`, :class:`hopjax.DenseAM`, the sequence networks
    of :mod:`hopjax.sequence`).

    Subclasses give :attr:`n` and :meth:`field`; :meth:`step` is the synchronous update
    ``s ← sgn h(s)`` with the tie rule of :mod:`hopjax.classical` (a unit whose field is exactly 0
    keeps its state). A single state is ``(N,)``; batch with ``jax.vmap``.
    """

    @property
    @abc.abstractmethod
    def n(self) -> int:
        """Number of units ``N``."""

    @abc.abstractmethod
    def field(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """The quantity whose sign is each unit's update, for every unit at once."""

    def step(self, s: Float[Array, " N"], key: PRNGKeyArray | None = None) -> Float[Array, " N"]:
        """One synchronous update ``s ← sgn h(s)`` (ties kept); ``key`` is unused (it is in
        the signature so stochastic and deterministic updates are called alike). Under
        ``jax.vmap`` over a batch of states the field's products become matrix products."""
        del key
        return sign_keep(self.field(s), s)


class AbstractBinaryMemory(AbstractBinaryNetwork):
    """A binary network with an energy ``E(s)`` that its one-at-a-time updates never increase:
    what :func:`run` drives (synchronous, asynchronous and Glauber dynamics, monitored runs).

    Beyond :class:`AbstractBinaryNetwork`: :meth:`energy`, :meth:`energy_gap` (for every unit
    ``ΔE_i = E(s with s_i = −1) − E(s with s_i = +1)``), :meth:`async_sweep` (every unit once, in
    a random order) and :meth:`glauber_sweep` (the same at a temperature). :meth:`glauber_step`
    — every unit at once, ``P(s_i = +1) = 1 / (1 + exp(−ΔE_i / T))`` (Glauber 1963; Little
    1974) — follows from the gap.
    """

    @abc.abstractmethod
    def energy(self, s: Float[Array, " N"]) -> Float[Array, ""]:
        """The energy ``E(s)``."""

    @abc.abstractmethod
    def energy_gap(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """``ΔE_i = E(s_i = −1) − E(s_i = +1)`` for every unit ``i`` (other units as in ``s``)."""

    @abc.abstractmethod
    def async_sweep(self, s: Float[Array, " N"], key: PRNGKeyArray) -> Float[Array, " N"]:
        """Every unit updated once, one at a time, in a random order drawn from ``key``."""

    @abc.abstractmethod
    def glauber_sweep(
        self, s: Float[Array, " N"], key: PRNGKeyArray, temperature: Float[ArrayLike, ""]
    ) -> Float[Array, " N"]:
        """One asynchronous Glauber sweep at ``temperature``: every unit once, in a random
        order, ``s_i ← +1`` with probability ``1 / (1 + exp(−ΔE_i / T))``."""

    def glauber_step(
        self, s: Float[Array, " N"], key: PRNGKeyArray, temperature: Float[ArrayLike, ""]
    ) -> Float[Array, " N"]:
        """Synchronous Glauber (Little) update at temperature ``T``: every unit at once from the
        same state, ``P(s_i = +1) = 1 / (1 + exp(−ΔE_i / T))`` (Glauber 1963; Little 1974).
        ``T → 0`` is :meth:`step` (up to ties)."""
        t = positive(temperature, "temperature")
        p_up = jax.nn.sigmoid(self.energy_gap(s) / t)
        return jnp.where(jax.random.uniform(key, s.shape) < p_up, 1.0, -1.0).astype(s.dtype)


class Hopfield(AbstractBinaryMemory):
    """Binary Hopfield network with weights ``W`` (N × N) and thresholds ``θ`` (N,).

    State ``s ∈ {−1, +1}^N``, local field ``h = W s − θ``, energy ``E(s) = −½ sᵀ W s + θᵀ s``.
    Updates set ``s_i ← sgn(h_i)`` (ties kept, see :mod:`hopjax.classical`): all units at once
    (:meth:`step`, Little's synchronous dynamics) or one at a time in random order
    (:meth:`async_sweep`, Hopfield 1982). For symmetric ``W`` with ``W_ii ≥ 0`` asynchronous
    updates never increase ``E`` and end in a fixed point; synchronous ones end in a fixed point or
    a 2-cycle (Goles). Build one from patterns with :meth:`from_patterns`.

    Args:
        weights: ``(N, N)`` couplings ``W``.
        thresholds: ``(N,)`` thresholds ``θ`` (default zero).
        quantum: the lattice the fields live on (``1/N`` for Hebbian weights of ``±1`` patterns):
            fields are rounded to it, so ties are decided exactly; ``None``: no rounding.

    Example:
        ```python
        net = hj.Hopfield.from_patterns(xi, rule="storkey")
        res = hj.run(net, cue, max_steps=50, mode="async", key=jax.random.PRNGKey(2))
        ```
    """

    weights: Float[Array, "N N"]
    thresholds: Float[Array, " N"]
    quantum: float | None = eqx.field(static=True)

    def __init__(
        self,
        weights: Float[ArrayLike, "N N"],
        thresholds: Float[ArrayLike, " N"] | None = None,
        *,
        quantum: float | None = None,
    ):
        weights = float_array(weights, "weights", ndim=2)
        n = weights.shape[0]
        if weights.shape != (n, n):
            raise ValueError(f"weights must be square (N, N); got shape {tuple(weights.shape)}.")
        if thresholds is None:
            thresholds = jnp.zeros((n,), weights.dtype)
        thresholds = float_array(thresholds, "thresholds", ndim=1)
        if thresholds.shape != (n,):
            raise ValueError(
                f"thresholds must have shape (N,) = ({n},); got {tuple(thresholds.shape)}."
            )
        if quantum is not None and not (isinstance(quantum, int | float) and quantum > 0):
            raise ValueError(f"quantum must be a positive number (or None); got {quantum!r}.")
        self.weights = finite(weights, "weights")
        self.thresholds = finite(thresholds, "thresholds")
        self.quantum = None if quantum is None else float(quantum)

    @classmethod
    def from_patterns(
        cls,
        xi: Float[ArrayLike, "P N"],
        rule: str | Callable[..., Array] = "hebbian",
        *,
        thresholds: Float[ArrayLike, " N"] | None = None,
        **rule_kwargs: object,
    ) -> Hopfield:
        """Store bipolar patterns ``xi`` (P, N) with a storage rule (name or callable).

        ``rule`` is one of ``"hebbian"``, ``"storkey"``, ``"pseudo_inverse"`` (see
        :mod:`hopjax.rules`) or any callable ``rule(xi, **rule_kwargs) -> (N, N)``. The Hebbian
        rule without thresholds gets ``quantum = 1/N`` (exact ties, see :mod:`hopjax.classical`).
        """
        xi = check_bipolar(float_array(xi, "xi", ndim=2), "xi")
        fn = get_rule(rule)
        quantum = 1.0 / xi.shape[1] if fn is hebbian and thresholds is None else None
        return cls(fn(xi, **rule_kwargs), thresholds, quantum=quantum)

    @property
    def n(self) -> int:
        """Number of units ``N``."""
        return self.weights.shape[0]

    def field(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """Local fields ``h = W s − θ`` (rounded to multiples of ``quantum`` when it is set).

        Written ``s Wᵀ`` so that a vmapped batch ``(B, N)`` is one ``(B, N) × (N, N)`` product
        with the batch axis leading (no transpose).
        """
        return self._exact(s @ self.weights.T - self.thresholds)

    def _exact(self, h: Array) -> Array:
        return _round_to(h, self.quantum)

    def energy(self, s: Float[Array, " N"]) -> Float[Array, ""]:
        """``E(s) = −½ sᵀ W s + θᵀ s`` (Hopfield 1982)."""
        return -0.5 * s @ (self.weights @ s) + self.thresholds @ s

    def energy_gap(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """``ΔE_i = E(s_i = −1) − E(s_i = +1) = 2 (h_i − W_ii s_i)`` for symmetric ``W``: twice
        the field without the unit's self-coupling (which adds a constant to ``E``). With a
        zero diagonal (Hebbian storage) it is ``2 h_i``."""
        return 2.0 * (self.field(s) - jnp.diagonal(self.weights) * s)

    def update_unit(self, s: Float[Array, " N"], i: Int[Array, ""] | int) -> Float[Array, " N"]:
        """Update one unit, ``s_i ← sgn(Σ_j W_ij s_j − θ_i)`` (ties kept), in ``O(N)``."""
        h_i = self._exact(self.weights[i] @ s - self.thresholds[i])
        return s.at[i].set(sign_keep(h_i, s[i]))

    def async_sweep(self, s: Float[Array, " N"], key: PRNGKeyArray) -> Float[Array, " N"]:
        """Update every unit once, one at a time, in a random order drawn from ``key``.

        The fields ``h = W s − θ`` are computed once per sweep; after unit ``i`` changes by
        ``d = s_i' − s_i`` they are corrected by ``h ← h + W[:, i] d``. A unit that would not
        change is skipped: each step finds the next unit in the order whose sign disagrees with
        its current field (one vectorised ``O(N)`` test) and flips it, so a sweep costs
        ``O(N)`` per *change* instead of per unit (near an attractor almost nothing changes).
        Equal, bit for bit, to :meth:`update_unit` applied in the same order.
        """
        n, q = self.n, self.quantum
        order = jax.random.permutation(key, n)
        pos = jnp.zeros((n,), jnp.int32).at[order].set(jnp.arange(n, dtype=jnp.int32))
        w_cols = self.weights.T  # row i of w_cols is column i of W

        def flip(carry: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
            s, h, k = carry
            s, h = _flip_unit(s, h, order[k], w_cols[order[k]], q)
            return s, h, _next_change(s, h, k, pos, q)

        h = self.field(s)
        carry = (s, h, _next_change(s, h, jnp.asarray(-1, jnp.int32), pos, q))
        s, _, _ = jax.lax.while_loop(lambda c: c[2] < n, flip, carry)
        return s

    def glauber_sweep(
        self, s: Float[Array, " N"], key: PRNGKeyArray, temperature: Float[ArrayLike, ""]
    ) -> Float[Array, " N"]:
        """One asynchronous Glauber sweep at temperature ``T``: every unit once, one at a time in
        a random order, ``s_i ← +1`` with probability ``1 / (1 + exp(−ΔE_i / T))``,
        ``ΔE_i = 2 (h_i − W_ii s_i)`` (:meth:`energy_gap`) from the current field (kept up to
        date as in :meth:`async_sweep`). For symmetric ``W`` this samples the Boltzmann
        distribution ``∝ exp(−E/T)`` — the dynamics of the Amit–Gutfreund–Sompolinsky phase
        diagram (:mod:`hopjax.ags`)."""
        t = positive(temperature, "temperature")
        k_order, k_u = jax.random.split(key)
        order = jax.random.permutation(k_order, self.n)
        u = jax.random.uniform(k_u, (self.n,))
        w_cols = self.weights.T
        diag = jnp.diagonal(self.weights)

        def update(k: Int[Array, ""], carry: tuple[Array, Array]) -> tuple[Array, Array]:
            s, h = carry
            i = order[k]
            gap = 2.0 * (h[i] - diag[i] * s[i])
            new = jnp.where(u[k] < jax.nn.sigmoid(gap / t), 1.0, -1.0).astype(s.dtype)
            return s.at[i].set(new), h + w_cols[i] * (new - s[i])

        s, _ = jax.lax.fori_loop(0, self.n, update, (s, self.field(s)))
        return s

    def _async_sweep_reference(self, s: Float[Array, " N"], key: PRNGKeyArray) -> Array:
        """:meth:`async_sweep` unit by unit (every unit visited; the reference it is tested
        against)."""
        order = jax.random.permutation(key, self.n)
        w_cols = self.weights.T

        def update(k: Int[Array, ""], carry: tuple[Array, Array]) -> tuple[Array, Array]:
            s, h = carry
            return _flip_unit(s, h, order[k], w_cols[order[k]], self.quantum)

        s, _ = jax.lax.fori_loop(0, self.n, update, (s, self.field(s)))
        return s


def _round_to(h: Array, quantum: float | None) -> Array:
    """``h`` rounded to the nearest multiple of ``quantum`` (unchanged without one): the exact
    field of a network on a lattice (described in :mod:`hopjax.classical`)."""
    if quantum is None:
        return h
    return jnp.round(h / quantum) * quantum


def _next_change(s: Array, h: Array, after: Array, pos: Array, quantum: float | None) -> Array:
    """The first position after ``after`` in a sweep's order (``pos[i]``: unit ``i``'s
    position) whose unit disagrees with the sign of its field; ``N`` when none — one ``O(N)``
    test. The event that drives :meth:`Hopfield.async_sweep` and :func:`run_async_pool`."""
    change = (sign_keep(_round_to(h, quantum), s) != s) & (pos > after)
    return jnp.min(jnp.where(change, pos, s.shape[0]))


def _flip_unit(
    s: Array, h: Array, i: Array, w_col: Array, quantum: float | None
) -> tuple[Array, Array]:
    """Update unit ``i`` to the sign of its field and correct every field by the change:
    ``h ← h + W[:, i] (s_i' − s_i)`` (``w_col`` is column ``i`` of ``W``)."""
    new = sign_keep(_round_to(h[i], quantum), s[i])
    return s.at[i].set(new), h + w_col * (new - s[i])


class RunResult(eqx.Module):
    """What :func:`run` returns (a pytree: batched by ``vmap`` like any other output).

    ``state``: the final state. ``converged``: an attractor was found (a fixed point, or for
    synchronous updates a 2-cycle) within ``max_steps``. ``period``: 1 (fixed point), 2 (2-cycle,
    ``state`` is one of its two states) or 0 (not converged; always 0 at ``temperature > 0``,
    whose dynamics has no attractor). ``steps``: updates (synchronous steps or asynchronous
    sweeps) taken before the state entered its attractor, i.e. the length of the transient;
    ``max_steps`` when not converged. With ``record=True``: ``overlaps`` ``(max_steps + 1, P)``,
    the overlaps ``m_μ = ξ^μ·s/N`` with the ``patterns`` before the first and after every
    update, and ``energy`` ``(max_steps + 1,)``, ``model.energy`` of the same states (both
    ``None`` otherwise), and ``states`` ``(max_steps + 1, N)``, the states themselves
    (``hopjax.plot.state_sequence`` draws them).

    Attributes:
        state: the final state ``(N,)``.
        steps: length of the transient (``max_steps`` when not converged).
        converged: whether an attractor was reached.
        period: 1, 2 or 0 (not converged).
        overlaps: recorded overlaps ``(max_steps + 1, P)`` (``record=True``), else ``None``.
        energy: recorded energies ``(max_steps + 1,)`` (``record=True``), else ``None``.
        states: recorded states ``(max_steps + 1, N)`` (``record=True``), else ``None``.
    """

    state: Float[Array, " N"]
    steps: Int[Array, ""]
    converged: Bool[Array, ""]
    period: Int[Array, ""]
    overlaps: Float[Array, "T P"] | None = None
    energy: Float[Array, " T"] | None = None
    states: Float[Array, "T N"] | None = None


def run(
    model: AbstractBinaryMemory,
    s0: Float[Array, " N"],
    *,
    max_steps: int,
    mode: Literal["sync", "async"] = "sync",
    key: PRNGKeyArray | None = None,
    temperature: Float[ArrayLike, ""] | None = None,
    record: bool = False,
    patterns: Float[ArrayLike, "P N"] | None = None,
) -> RunResult:
    """Iterate a Hopfield network from ``s0`` until it reaches an attractor or ``max_steps``.

    ``mode="sync"``: ``s ← step(s)``; stops at a fixed point (``s_{t+1} = s_t``, period 1) or a
    2-cycle (``s_{t+1} = s_{t−1} ≠ s_t``, period 2) — the only attractors of symmetric networks
    (Goles). ``mode="async"``: one random-order sweep per step (the order of sweep ``t`` is drawn
    from ``fold_in(key, t)``); stops when a whole sweep changes nothing (period 1).

    ``temperature=T > 0``: stochastic Glauber dynamics instead (``glauber_step`` /
    ``glauber_sweep``, noise of step ``t`` from ``fold_in(key, t)``), run for ``max_steps``.
    ``record=True`` returns the monitored run (neurodynex's ``run_with_monitoring``): the
    states, their overlaps with ``patterns`` (default: none, ``(T, 0)``) and the energy after
    every step, from one
    ``lax.scan`` of exactly ``max_steps`` steps (a deterministic run holds its state once it is
    in its attractor, so ``state``, ``steps``, ``converged`` and ``period`` are those of the
    run without recording).

    ``s0`` is one state ``(N,)`` of ``±1`` entries, or ``0`` for unknown (masked) units; run a
    batch with ``jax.vmap(lambda s: run(model, s, ...))``. Uses ``lax.while_loop``: jit-able,
    vmappable, and each batch member stops updating once it has converged. ``model`` is any
    :class:`AbstractBinaryMemory` (:class:`Hopfield`, :class:`hopjax.DenseAM`, or a user's own).

    Args:
        model: the network (:class:`Hopfield`, :class:`hopjax.DenseAM`, any
            :class:`AbstractBinaryMemory`).
        s0: initial state ``(N,)``, entries ``±1`` (or ``0`` for unknown units).
        max_steps: most updates (synchronous steps or asynchronous sweeps); static.
        mode: ``"sync"`` (all units at once) or ``"async"`` (random-order sweeps; needs ``key``).
        key: PRNG key for asynchronous orders and Glauber noise.
        temperature: ``T > 0`` for Glauber dynamics (``None``: deterministic).
        record: return the states, overlaps and energy after every step.
        patterns: ``(P, N)`` patterns the recorded overlaps are taken with.

    Returns:
        A :class:`RunResult`: final ``state``, ``steps``, ``converged``, ``period`` (and the
        recorded trajectories with ``record=True``).

    Example:
        ```python
        res = hj.run(net, cue, max_steps=20)
        hj.overlaps(xi, res.state)  # ≈ 1 for the cued pattern
        ```
    """
    if mode not in ("sync", "async"):
        raise ValueError(f"mode must be 'sync' or 'async'; got {mode!r}.")
    stochastic = temperature is not None
    if (mode == "async" or stochastic) and key is None:
        raise ValueError(
            "key is required for mode='async' (it draws the update order) and for a "
            "temperature (it draws the noise)."
        )
    max_steps = positive_int(max_steps, "max_steps")
    s0 = float_array(s0, "s0", ndim=1)
    same_length(model.n, s0, "s0")
    s0 = check_bipolar(s0, "s0", allow_zero=True)
    if stochastic:
        temperature = positive(temperature, "temperature")
    if patterns is not None:
        patterns = float_array(patterns, "patterns", ndim=2)
        if patterns.shape[1] != model.n:
            raise ValueError(
                f"patterns must have shape (P, N) with N = {model.n}; got {tuple(patterns.shape)}."
            )
    elif record:
        patterns = jnp.zeros((0, model.n), s0.dtype)

    def update(s: Array, t: Array) -> Array:
        k = None if key is None else jax.random.fold_in(key, t)
        if stochastic:
            if mode == "sync":
                return model.glauber_step(s, k, temperature)
            return model.glauber_sweep(s, k, temperature)
        return model.step(s) if mode == "sync" else model.async_sweep(s, k)

    def advance(carry: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        prev, s, t, _ = carry
        new = update(s, t)
        if stochastic:
            return s, new, t + 1, jnp.zeros((), jnp.int32)
        fixed = jnp.all(new == s)
        two_cycle = (mode == "sync") & (t > 0) & jnp.all(new == prev)
        period = jnp.where(fixed, 1, jnp.where(two_cycle, 2, 0)).astype(jnp.int32)
        return s, new, t + 1, period

    def not_done(carry: tuple[Array, Array, Array, Array]) -> Array:
        _, _, t, period = carry
        return (period == 0) & (t < max_steps)

    zero = jnp.zeros((), jnp.int32)
    init = (s0, s0, zero, zero)
    if not record:
        _, state, t, period = jax.lax.while_loop(not_done, advance, init)
        return RunResult(state=state, steps=t - period, converged=period > 0, period=period)

    def observe(s: Array) -> tuple[Array, Array, Array]:
        return (patterns @ s) / model.n, model.energy(s), s

    def scan_step(carry: tuple, _: None) -> tuple[tuple, tuple[Array, Array, Array]]:
        carry = jax.lax.cond(not_done(carry), advance, lambda c: c, carry)
        return carry, observe(carry[1])

    (_, state, t, period), (m, e, ss) = jax.lax.scan(scan_step, init, None, length=max_steps)
    m0, e0, _ = observe(s0)
    return RunResult(
        state=state,
        steps=t - period,
        converged=period > 0,
        period=period,
        overlaps=jnp.concatenate([m0[None], m]),
        energy=jnp.concatenate([e0[None], e]),
        states=jnp.concatenate([s0[None], ss]),
    )


class _Lane(NamedTuple):
    """One lane of :func:`run_async_pool`: an asynchronous run advanced one event at a time."""

    state: Array  # s
    fields: Array  # h = W s (rounded to the quantum at each sweep's end)
    sweep: Array  # t, the sweep under way
    changed: Array  # the sweep under way has flipped a unit
    next: Array  # position of the next unit to flip in sweep t (N: none, the sweep ends)
    stopped: Array  # the run is over (a sweep changed nothing, or max_steps sweeps)
    fixed: Array  # ... at a fixed point


def run_async_pool(
    weights: Float[Array, "A N N"],
    s0: Float[Array, "C N"],
    keys: PRNGKeyArray,
    pairs: Int[ArrayLike, "Q 2"],
    *,
    max_steps: int,
    quantum: float | None = None,
    slots: int = 256,
) -> RunResult:
    """Asynchronous runs of many (network, cue) pairs through a pool of ``slots`` lanes.

    Pair ``q = (a, c)`` is ``run(Hopfield(weights[a], quantum=quantum), s0[c], mode="async",
    key=keys[c], max_steps=max_steps)`` (thresholds 0): the same update orders (sweep ``t`` of
    cue ``c`` from ``fold_in(keys[c], t)``), the same flips, the same stopping rule; returned
    with a leading axis ``Q``. Why: a vmapped :func:`run` advances every lane until the slowest
    is done — sweep by sweep, each sweep as long as its slowest lane's — while here a lane is a
    small state machine (flip the next unit whose sign disagrees with its field, or end the
    sweep) advanced one ``O(N)`` event per iteration, and a lane whose run has stopped takes the
    next pair, so the work is the total number of flips, not ``lanes × the longest run``
    (timings: ``docs/benchmarks.md``).

    Fields are kept incrementally across sweeps (``h ← h + W[:, i] d`` per flip) instead of
    recomputed per sweep: with a ``quantum`` (Hebbian weights) the rounded fields — and so every
    decision — are exactly :func:`run`'s; real-valued weights may differ only where a field lies
    within float round-off of 0 (described in :mod:`hopjax.classical`). The update orders of all
    sweeps are drawn up
    front (``C × max_steps`` permutations and their inverses: ``8 C max_steps N`` bytes, e.g.
    51 MB each for 64 cues × 100 sweeps at N = 2000).
    """
    weights = float_array(weights, "weights", ndim=3)
    s0 = float_array(s0, "s0", ndim=2)
    n = weights.shape[1]
    if weights.shape[2] != n:
        raise ValueError(f"weights must have shape (A, N, N); got {tuple(weights.shape)}.")
    if s0.shape[1] != n:
        raise ValueError(f"s0 must have shape (C, N) with N = {n}; got {tuple(s0.shape)}.")
    if keys.shape[:1] != s0.shape[:1]:
        raise ValueError(
            f"keys must hold one PRNG key per cue, shape ({s0.shape[0]},); got {tuple(keys.shape)}."
        )
    max_steps = positive_int(max_steps, "max_steps")
    slots = positive_int(slots, "slots")
    pairs = jnp.asarray(pairs, jnp.int32)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] < 1:
        raise ValueError(f"pairs must have shape (Q, 2), Q >= 1; got {tuple(pairs.shape)}.")

    # update orders of every sweep of every cue, and their inverses (position of each unit)
    sweeps = jnp.arange(max_steps)
    orders = jax.vmap(
        lambda k: jax.vmap(lambda t: jax.random.permutation(jax.random.fold_in(k, t), n))(sweeps)
    )(keys)
    positions = jax.vmap(jax.vmap(lambda o: jnp.zeros((n,), jnp.int32).at[o].set(jnp.arange(n))))(
        orders
    )
    fields0 = _round_to(jnp.einsum("cm,anm->acn", s0, weights), quantum)  # Hopfield.field
    w_cols = jnp.swapaxes(weights, 1, 2)  # w_cols[a, i] = column i of W_a
    before_first = jnp.asarray(-1, jnp.int32)

    def fresh(a: Array, c: Array) -> _Lane:
        s, h = s0[c], fields0[a, c]
        first = _next_change(s, h, before_first, positions[c, 0], quantum)
        false, zero = jnp.asarray(False), jnp.zeros((), jnp.int32)
        return _Lane(s, h, zero, false, first, false, false)

    def event(a: Array, c: Array, lane: _Lane) -> _Lane:
        """One event of a lane: flip the next disagreeing unit, or end the sweep."""
        s, h, t, nxt = lane.state, lane.fields, lane.sweep, lane.next
        flip = nxt < n
        # a flip: the unit at position nxt of sweep t
        i = orders[c, t, jnp.minimum(nxt, n - 1)]
        s_f, h_f = _flip_unit(s, h, i, w_cols[a, i], quantum)
        nxt_f = _next_change(s_f, h_f, nxt, positions[c, t], quantum)
        # or the end of sweep t: sweep t + 1 starts from its first disagreeing unit
        t_e = t + 1
        h_e = _round_to(h, quantum)
        pos_e = positions[c, jnp.minimum(t_e, max_steps - 1)]
        nxt_e = _next_change(s, h_e, before_first, pos_e, quantum)
        return _Lane(
            state=jnp.where(flip, s_f, s),
            fields=jnp.where(flip, h_f, h_e),
            sweep=jnp.where(flip, t, t_e),
            changed=flip,
            next=jnp.where(flip, nxt_f, nxt_e),
            stopped=~flip & (~lane.changed | (t_e >= max_steps)),
            fixed=~flip & ~lane.changed,
        )

    def result(lane: _Lane) -> dict[str, Array]:
        steps = jnp.where(lane.fixed, lane.sweep - 1, lane.sweep)
        return {"state": lane.state, "steps": steps, "converged": lane.fixed}

    # the sweep engine's pool (hopjax._pool): a lane whose run stopped takes the next pair
    lanes = Stepper(
        init=lambda q, key, shared: fresh(q["a"], q["c"]),
        advance=lambda q, lane, shared: event(q["a"], q["c"], lane),
        decided=lambda q, lane: lane.stopped,
        result=lambda q, lane, shared: result(lane),
        slots=slots,
    )
    rows = {"a": pairs[:, 0], "c": pairs[:, 1]}
    out = run_pool(lanes, {}, rows, jnp.asarray(pairs.shape[0]), jnp.zeros((), jnp.int32), None)
    return RunResult(
        state=out["state"],
        steps=out["steps"],
        converged=out["converged"],
        period=out["converged"].astype(jnp.int32),
    )
