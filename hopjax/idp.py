"""Input-driven plasticity (IDP) Hopfield networks and the two-timescale reasoning model.

Source: seed 001 (Betteti, Baggio, Bullo, Zampieri) with the equations recovered in
``../shared/specs/idp.md``; numbers in parentheses are seed 001's equation numbers.
Convention: memories are the rows of ``xi`` (shape ``(P, N)``, ``Ξ = xiᵀ`` in the paper's
notation), overlaps ``m(x) = (1/N) Ξᵀ Ψ(x)``.

Models (equinox modules with a diffrax ``vector_field``; run them with :func:`simulate`):

* :class:`IDPHopfield` — ``τ_x ẋ = −x + W(α) Ψ(x)``, ``W(α) = (1/N) Ξ diag(α) Ξᵀ`` (1)/(16)/(19)
  with ``α`` constant, a function of time, or filtered from an input ``u(t)``; energy (2)–(3).
* :class:`ThreeLayer` — memory ``h``, feature ``x`` and saliency ``α`` layers (4)–(6), with
  ``F`` = identity (recovers (1) as ``τ_h → 0``) or softmax (modern-Hopfield retrieval).
* :class:`Reasoning` — the two-timescale model (7): ``τ_x ẋ = −x + W(α)Ψ(x) + ε Ξ α``,
  ``τ_α α̇ = −α + γ A m(x)``, with reasoning matrix ``A`` (circulant by default).
* :class:`Kleinfeld` — the one-timescale comparison model (8)–(9) and its delayed variant.

``W(α)`` is never formed: ``W(α) v = (1/N) Ξ (α ⊙ (Ξᵀ v))`` costs ``O(N P)``.

**Symmetry breaking** (spec, measured pitfalls): with exactly orthogonal memories and no input
the pure model (7) does not cycle — on ``ξ^μ`` the drive along ``ξ^{μ+1}`` is exactly zero and
the transition waits on round-off. :class:`Reasoning` therefore adds the input ``ε Ξ α`` to the
fast equation (an input aligned with the salient memories, as the three-layer model's input
pathway provides); ``eps = 0`` gives the pure model. ``ε`` shortens each transition by
``O(τ_x ln(1/ε))``-scale amounts only: see the README table for the measured dependence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PyTree

from hopjax import idp_theory
from hopjax._checks import float_array, nonnegative, positive, same_length
from hopjax.activations import HARDTANH, TANH, Activation, get_activation
from hopjax.solve import simulate

__all__ = [
    "HARDTANH",
    "TANH",
    "Activation",
    "IDPHopfield",
    "Kleinfeld",
    "Reasoning",
    "ThreeLayer",
    "Transitions",
    "circulant",
    "get_activation",
    "measure_transitions",
    "simulate",
]


# ----------------------------------------------------------------------------- checks


def _memories(xi: ArrayLike) -> Array:
    xi = float_array(xi, "xi", ndim=2)
    if xi.shape[0] < 1 or xi.shape[1] < 1:
        raise ValueError(f"xi must hold P >= 1 memories of N >= 1 units; got {tuple(xi.shape)}.")
    return xi


def circulant(P: int, *, dtype: jnp.dtype = jnp.float32) -> Float[Array, "P P"]:
    """Reasoning matrix of the cycle ``1 → 2 → … → P → 1``: ``A_{νμ} = δ_{ν, μ+1 (mod P)}``.

    ``A e_μ = e_{μ+1}`` (spec (7)).
    """
    return jnp.roll(jnp.eye(P, dtype=dtype), 1, axis=0)


def _reasoning_matrix(A: ArrayLike | None, P: int, dtype: jnp.dtype) -> Array:
    if A is None:
        return circulant(P, dtype=dtype)
    A = float_array(A, "A")
    if A.shape != (P, P):
        raise ValueError(f"A must be a (P, P) = ({P}, {P}) reasoning matrix; got {A.shape}.")
    return A.astype(dtype)


# ----------------------------------------------------------------------------- shared algebra


def _overlaps(xi: Array, psi_x: Array) -> Array:
    """``m = (1/N) Ξᵀ Ψ(x)`` (shape ``(P,)``)."""
    return xi @ psi_x / xi.shape[1]


def _w_apply(xi: Array, alpha: Array, v: Array) -> Array:
    """``W(α) v = (1/N) Ξ diag(α) Ξᵀ v`` in ``O(N P)``."""
    return (alpha * (xi @ v)) @ xi / xi.shape[1]


# ----------------------------------------------------------------------------- IDP Hopfield


class FilteredInput(eqx.Module):
    """Saliency filtered from an input: ``τ_u α̇ = −α + (1/N) Ξᵀ u(t)`` (spec (1)/(16)).

    ``u`` maps time to an ``(N,)`` input; with it the IDP state is the pair ``(x, α)``.
    """

    u: Callable[[Array], Array]
    tau_u: Array


class IDPHopfield(eqx.Module):
    """IDP Hopfield network ``τ_x ẋ = −x + W(α) Ψ(x)`` with ``W(α) = (1/N) Ξ diag(α) Ξᵀ``.

    Seed 001 eq. (1)/(16)/(19)–(22). ``alpha`` is one of

    * an array ``(P,)`` — constant saliencies (``α = 1``: the classical continuous Hopfield net);
    * a callable ``t ↦ α(t)`` — prescribed saliencies;
    * a :class:`FilteredInput` (see :meth:`with_input`) — ``τ_u α̇ = −α + (1/N) Ξᵀ u(t)``; the
      state is then ``(x, α)``.

    Memories (HardTanh, §5.1): ``x* = α_μ ξ^μ`` is an equilibrium with Jacobian ``−I/τ_x``
    (stable) iff ``α_μ > 1``; ``α_μ = 1`` gives the segment ``λ ξ^μ, λ ∈ [0, 1]``; for ``α_μ < 1``
    the activity along ``ξ^μ`` decays to the origin.
    """

    xi: Float[Array, "P N"]
    alpha: Any
    tau_x: Array
    activation: Activation = eqx.field(static=True)

    def __init__(
        self,
        xi: Float[ArrayLike, "P N"],
        alpha: Float[ArrayLike, " P"] | Callable[[Array], Array] | FilteredInput | None = None,
        *,
        tau_x: float | Array = 1.0,
        activation: str | Activation = "hardtanh",
    ):
        self.xi = _memories(xi)
        P = self.xi.shape[0]
        if alpha is None:
            alpha = jnp.ones((P,), self.xi.dtype)
        if not callable(alpha) and not isinstance(alpha, FilteredInput):
            alpha = float_array(alpha, "alpha", ndim=1)
            if alpha.shape != (P,):
                raise ValueError(f"alpha must have shape (P,) = ({P},); got {alpha.shape}.")
        self.alpha = alpha
        self.tau_x = positive(tau_x, "tau_x")
        self.activation = get_activation(activation)

    @classmethod
    def with_input(
        cls,
        xi: Float[ArrayLike, "P N"],
        u: Callable[[Array], Array],
        *,
        tau_u: float | Array,
        tau_x: float | Array = 1.0,
        activation: str | Activation = "hardtanh",
    ) -> IDPHopfield:
        """IDP network whose saliencies filter the input ``u(t)`` with timescale ``tau_u``."""
        if not callable(u):
            raise TypeError(f"u must be a callable t -> (N,) input; got {type(u).__name__}.")
        return cls(
            xi,
            FilteredInput(u, positive(tau_u, "tau_u")),
            tau_x=tau_x,
            activation=activation,
        )

    @property
    def filtered(self) -> bool:
        """Whether ``α`` is a state variable filtered from an input (state ``(x, α)``)."""
        return isinstance(self.alpha, FilteredInput)

    def alpha_at(self, t: ArrayLike) -> Float[Array, " P"]:
        """The saliencies at time ``t`` (constant or prescribed ``α`` only)."""
        if self.filtered:
            raise ValueError("alpha is filtered from an input: it is part of the state (x, alpha).")
        return self.alpha(jnp.asarray(t)) if callable(self.alpha) else self.alpha

    def weights(self, alpha: Float[ArrayLike, " P"] | None = None) -> Float[Array, "N N"]:
        """The dense synaptic matrix ``W(α) = (1/N) Ξ diag(α) Ξᵀ`` (eq. (19)/(22))."""
        a = self.alpha_at(0.0) if alpha is None else jnp.asarray(alpha)
        return (self.xi.T * a) @ self.xi / self.xi.shape[1]

    def overlaps(self, x: Float[Array, " N"]) -> Float[Array, " P"]:
        """``m(x) = (1/N) Ξᵀ Ψ(x)``."""
        return _overlaps(self.xi, self.activation.psi(x))

    def vector_field(self, t: Array, y: PyTree, args: Any) -> PyTree:
        """``ẋ = (−x + W(α)Ψ(x)) / τ_x`` (and ``α̇ = (−α + Ξᵀu/N) / τ_u`` when filtered)."""
        if self.filtered:
            x, alpha = y
            drive = self.xi @ self.alpha.u(t) / self.xi.shape[1]
            da = (drive - alpha) / self.alpha.tau_u
            return (_w_apply(self.xi, alpha, self.activation.psi(x)) - x) / self.tau_x, da
        alpha = self.alpha_at(t)
        return (_w_apply(self.xi, alpha, self.activation.psi(y)) - y) / self.tau_x

    def energy(
        self, x: Float[Array, " N"], alpha: Float[ArrayLike, " P"] | None = None, t: float = 0.0
    ) -> Float[Array, ""]:
        """``E(x) = Σ_i [x_i ψ(x_i) − ℓ(x_i)] − ½ Ψ(x)ᵀ W(α) Ψ(x)`` (eq. (2)–(3)).

        ``ẋ = −(1/τ_x) (∇²L)⁻¹ ∇E``, so ``E`` never increases along trajectories of constant ``α``.
        ``alpha`` defaults to the model's saliencies at time ``t``.
        """
        a = self.alpha_at(t) if alpha is None else jnp.asarray(alpha)
        psi = self.activation.psi(x)
        m = self.xi @ psi
        local = jnp.sum(x * psi - self.activation.ell(x))
        return local - 0.5 * jnp.sum(a * m * m) / self.xi.shape[1]


# ----------------------------------------------------------------------------- three layers


class ThreeLayer(eqx.Module):
    """The three-layer timescale-separated model (seed 001 (4)–(6)); state ``(h, x, α)``.

    * memory layer:   ``τ_h ḣ = −h + α ⊙ (1/N) Ξᵀ Ψ(x)``
    * feature layer:  ``τ_x ẋ = −x + Ξ F(h) + ε Ξ α``
    * saliency layer: ``τ_α α̇ = −α + γ A m(x) + (1/N) Ξᵀ u(t)``

    ``F`` is the identity (``τ_h → 0`` recovers the IDP network (1)) or ``softmax(β h)``
    (modern-Hopfield retrieval, Ramsauer et al. 2021). ``G`` combines the reasoning drive
    ``γ A m(x)`` (omitted when ``gamma = 0``) and the filtered input ``u`` (omitted when ``None``).
    """

    xi: Float[Array, "P N"]
    A: Float[Array, "P P"]
    gamma: Array
    tau_h: Array
    tau_x: Array
    tau_alpha: Array
    eps: Array
    beta: Array
    u: Callable[[Array], Array] | None
    F: Literal["identity", "softmax"] = eqx.field(static=True)
    activation: Activation = eqx.field(static=True)

    def __init__(
        self,
        xi: Float[ArrayLike, "P N"],
        *,
        F: Literal["identity", "softmax"] = "identity",
        beta: float | Array = 1.0,
        gamma: float | Array = 0.0,
        A: Float[ArrayLike, "P P"] | None = None,
        u: Callable[[Array], Array] | None = None,
        tau_h: float | Array = 0.1,
        tau_x: float | Array = 1.0,
        tau_alpha: float | Array = 100.0,
        eps: float | Array = 0.0,
        activation: str | Activation = "hardtanh",
    ):
        self.xi = _memories(xi)
        if F not in ("identity", "softmax"):
            raise ValueError(f"F must be 'identity' or 'softmax'; got {F!r}.")
        self.F = F
        self.A = _reasoning_matrix(A, self.xi.shape[0], self.xi.dtype)
        self.gamma = nonnegative(gamma, "gamma")
        self.beta = positive(beta, "beta")
        self.u = u
        self.tau_h = positive(tau_h, "tau_h")
        self.tau_x = positive(tau_x, "tau_x")
        self.tau_alpha = positive(tau_alpha, "tau_alpha")
        self.eps = nonnegative(eps, "eps")
        self.activation = get_activation(activation)

    def overlaps(self, x: Float[Array, " N"]) -> Float[Array, " P"]:
        """``m(x) = (1/N) Ξᵀ Ψ(x)``."""
        return _overlaps(self.xi, self.activation.psi(x))

    def vector_field(self, t: Array, y: PyTree, args: Any) -> PyTree:
        """Right-hand sides of (4)–(6) for the state ``(h, x, α)``."""
        h, x, alpha = y
        m = self.overlaps(x)
        dh = (alpha * m - h) / self.tau_h
        fh = jax.nn.softmax(self.beta * h) if self.F == "softmax" else h
        dx = (fh @ self.xi + self.eps * (alpha @ self.xi) - x) / self.tau_x
        g = self.gamma * (self.A @ m)
        if self.u is not None:
            g = g + self.xi @ self.u(t) / self.xi.shape[1]
        return dh, dx, (g - alpha) / self.tau_alpha


# ----------------------------------------------------------------------------- reasoning


class Reasoning(eqx.Module):
    """Two-timescale IDP reasoning model (seed 001 eq. (7)); state ``(x, α)``.

    ``τ_x ẋ = −x + W(α) Ψ(x) + ε Ξ α``,   ``τ_α α̇ = −α + γ A m(x)``,   ``m = (1/N) Ξᵀ Ψ(x)``.

    ``A`` is the reasoning matrix (default :func:`circulant`: ``A e_μ = e_{μ+1}``; any ``(P, P)``
    adjacency — several cycles, branches — is accepted). ``eps`` is the documented
    symmetry-breaking input (module docstring; ``0`` = the pure model). Theory
    (:mod:`hopjax.idp_theory`): sustained cycling iff ``γ ≥ 4`` (and ``a_0 > a_−``), period
    ``P τ_α ln a_+(γ)`` for ``τ_α ≫ τ_x``.
    """

    xi: Float[Array, "P N"]
    A: Float[Array, "P P"]
    gamma: Array
    tau_x: Array
    tau_alpha: Array
    eps: Array
    activation: Activation = eqx.field(static=True)

    def __init__(
        self,
        xi: Float[ArrayLike, "P N"],
        *,
        gamma: float | Array,
        tau_alpha: float | Array,
        tau_x: float | Array = 1.0,
        A: Float[ArrayLike, "P P"] | None = None,
        eps: float | Array = 1e-4,
        activation: str | Activation = "hardtanh",
    ):
        self.xi = _memories(xi)
        self.A = _reasoning_matrix(A, self.xi.shape[0], self.xi.dtype)
        self.gamma = positive(gamma, "gamma")
        self.tau_x = positive(tau_x, "tau_x")
        self.tau_alpha = positive(tau_alpha, "tau_alpha")
        self.eps = nonnegative(eps, "eps")
        self.activation = get_activation(activation)

    def overlaps(self, x: Float[Array, " N"]) -> Float[Array, " P"]:
        """``m(x) = (1/N) Ξᵀ Ψ(x)``."""
        return _overlaps(self.xi, self.activation.psi(x))

    def vector_field(self, t: Array, y: tuple[Array, Array], args: Any) -> tuple[Array, Array]:
        """Right-hand side of (7) with the symmetry-breaking input ``ε Ξ α``."""
        x, alpha = y
        psi = self.activation.psi(x)
        proj = self.xi @ psi / self.xi.shape[1]  # m(x)
        dx = ((alpha * proj + self.eps * alpha) @ self.xi - x) / self.tau_x
        dalpha = (self.gamma * (self.A @ proj) - alpha) / self.tau_alpha
        return dx, dalpha

    def initial_state(
        self, a0: float | Array = 3.0, mu: int | Array = 0
    ) -> tuple[Float[Array, " N"], Float[Array, " P"]]:
        """Start on memory ``mu`` with saliency ``a0``: ``x = a0 ξ^mu``, ``α = a0 e_mu``."""
        e = jax.nn.one_hot(mu, self.xi.shape[0], dtype=self.xi.dtype)
        a0 = jnp.asarray(a0, self.xi.dtype)
        return a0 * self.xi[mu], a0 * e

    def period_theory(self, cycle_length: int | None = None) -> Array:
        """``L τ_α ln a_+(γ)`` with ``L`` the cycle length (default ``P``); NaN below ``γ = 4``."""
        L = self.xi.shape[0] if cycle_length is None else cycle_length
        return idp_theory.period(self.gamma, L, self.tau_alpha)


# ----------------------------------------------------------------------------- Kleinfeld


class Kleinfeld(eqx.Module):
    """Kleinfeld's (1986) one-timescale sequence model (seed 001 (8)–(9)).

    ``τ_x ẋ = −x + W^S Ψ(x) + γ W^A Ψ(z)`` with ``W^S = (1/N) Σ_μ ξ^μ ξ^μᵀ`` and
    ``W^A = (1/N) Ξ A Ξᵀ = (1/N) Σ_μ ξ^{μ+1} ξ^μᵀ`` for the circulant ``A``. Without delay
    ``z = x`` (state ``x``); with ``delayed=True`` ``z = x̄``, ``τ_d x̄̇ = −x̄ + x`` (state ``(x, x̄)``).
    Depending on ``γ`` it collapses to the origin, settles on a (mixed) fixed point or cycles.
    """

    xi: Float[Array, "P N"]
    A: Float[Array, "P P"]
    gamma: Array
    tau_x: Array
    tau_d: Array
    delayed: bool = eqx.field(static=True)
    activation: Activation = eqx.field(static=True)

    def __init__(
        self,
        xi: Float[ArrayLike, "P N"],
        *,
        gamma: float | Array,
        tau_x: float | Array = 1.0,
        delayed: bool = False,
        tau_d: float | Array = 10.0,
        A: Float[ArrayLike, "P P"] | None = None,
        activation: str | Activation = "hardtanh",
    ):
        self.xi = _memories(xi)
        self.A = _reasoning_matrix(A, self.xi.shape[0], self.xi.dtype)
        self.gamma = nonnegative(gamma, "gamma")
        self.tau_x = positive(tau_x, "tau_x")
        self.tau_d = positive(tau_d, "tau_d")
        self.delayed = bool(delayed)
        self.activation = get_activation(activation)

    def overlaps(self, x: Float[Array, " N"]) -> Float[Array, " P"]:
        """``m(x) = (1/N) Ξᵀ Ψ(x)``."""
        return _overlaps(self.xi, self.activation.psi(x))

    def vector_field(self, t: Array, y: PyTree, args: Any) -> PyTree:
        """Right-hand side of (8)–(9) (and of the delay filter)."""
        x, z = y if self.delayed else (y, y)
        m = self.overlaps(x)
        mz = self.overlaps(z) if self.delayed else m
        dx = ((m + self.gamma * (self.A @ mz)) @ self.xi - x) / self.tau_x
        if self.delayed:
            return dx, (x - z) / self.tau_d
        return dx

    def initial_state(self, a0: float | Array = 1.0, mu: int | Array = 0) -> PyTree:
        """``x = a0 ξ^mu`` (and ``x̄ = x`` when delayed)."""
        x = jnp.asarray(a0, self.xi.dtype) * self.xi[mu]
        return (x, x) if self.delayed else x


def _check_state(model: eqx.Module, y0: PyTree) -> None:
    """Shape checks of ``y0`` against an IDP-family model (static, at trace time)."""
    xi = model.xi
    P, N = xi.shape
    if isinstance(model, Reasoning) or (isinstance(model, IDPHopfield) and model.filtered):
        names, sizes = ("x", "alpha"), (N, P)
    elif isinstance(model, ThreeLayer):
        names, sizes = ("h", "x", "alpha"), (P, N, P)
    elif isinstance(model, Kleinfeld) and model.delayed:
        names, sizes = ("x", "x_delayed"), (N, N)
    else:
        names, sizes = ("x",), (N,)
    parts = y0 if len(names) > 1 else (y0,)
    if len(names) > 1 and (not isinstance(y0, tuple) or len(y0) != len(names)):
        raise ValueError(f"y0 must be the tuple ({', '.join(names)}) for {type(model).__name__}.")
    for part, name, size in zip(parts, names, sizes, strict=True):
        arr = jnp.asarray(part)
        if arr.ndim != 1:
            raise ValueError(f"y0 {name} must be one state of shape ({size},); vmap for batches.")
        same_length(size, arr, f"y0 {name}", "P" if size == P and name != "x" else "N")


# ----------------------------------------------------------------------------- measurement


class Transitions(eqx.Module):
    """Transitions of the leading memory in a saved trajectory (fixed-size, vmappable).

    ``times[k]`` is the ``k``-th time the leading overlap changed (interpolated crossing of the old
    and new leader's overlaps), ``to[k]`` the new leader; ``peaks[k]`` is the largest saliency of
    the leader during its ``k``-th dwell (``peaks[0]`` for the initial memory), i.e. the measured
    ``a_k`` of the peak map. Unused entries are NaN (``to``: −1). ``count`` transitions happened
    (it may exceed the capacity ``len(times)``; then only the first ones are stored).
    ``active_end``: the leading overlap at the end is at least ``active``.
    """

    times: Float[Array, " K"]
    to: Int[Array, " K"]
    peaks: Float[Array, " K1"]
    count: Int[Array, ""]
    active_end: Array
    last_time: Float[Array, ""]

    def sustained(self, t1: float | Array, window: float = 0.25) -> Array:
        """Active at the end and a transition within the last ``window · t1`` (not collapsed to
        the origin, not stuck on a fixed point)."""
        return self.active_end & (self.last_time >= (1.0 - window) * t1)

    def period(self, cycle_length: int, cycles: int = 1) -> Float[Array, ""]:
        """Mean period over the last ``cycles`` full cycles: ``(t_K − t_{K−L·c}) / c``.

        NaN when fewer than ``L·c + 1`` transitions were stored.
        """
        K = jnp.minimum(self.count, self.times.shape[0])
        lag = cycle_length * cycles
        t_last = self.times[jnp.clip(K - 1, 0)]
        t_first = self.times[jnp.clip(K - 1 - lag, 0)]
        return jnp.where(K >= lag + 1, (t_last - t_first) / cycles, jnp.nan)


def measure_transitions(
    ts: Float[Array, " T"],
    m: Float[Array, "T P"],
    alpha: Float[Array, "T P"] | None = None,
    *,
    max_transitions: int = 64,
    active: float = 0.5,
    margin: float = 0.05,
) -> Transitions:
    """Find the transitions between memories in overlaps ``m`` saved at times ``ts``.

    The leader is tracked with hysteresis (``lax.scan`` over the save points): memory ``ν`` takes
    over when ``m_ν ≥ active`` and ``m_ν > m_leader + margin``, so near-ties of mixed states and
    activity near the origin never count as transitions. A transition's time is the linearly
    interpolated last crossing ``m_ν = m_leader`` before the take-over (event-free, exact for fine
    saves). With ``alpha`` the peaks ``a_k`` (the leader's largest saliency during each dwell) are
    measured too (otherwise NaN). Pure ``jnp``: ``vmap`` over runs.
    """
    _T, P = m.shape
    dtype = m.dtype
    K = max_transitions

    def body(carry: tuple, inp: tuple) -> tuple:
        lead, cross, m_prev, t_prev, count, times, to, peaks = carry
        t, m_t, a_t = inp
        valid = lead >= 0
        m_lead = m_t[jnp.clip(lead, 0)]
        d_now = m_t - m_lead
        d_prev = m_prev - m_prev[jnp.clip(lead, 0)]
        up = valid & (d_prev <= 0) & (d_now > 0)
        frac = -d_prev / jnp.where(up, d_now - d_prev, 1.0)
        cross = jnp.where(up, t_prev + frac * (t - t_prev), cross)
        cand = jnp.argmax(m_t)
        take = (m_t[cand] >= active) & (~valid | (m_t[cand] > m_lead + margin)) & (cand != lead)
        is_tr = take & valid
        slot = jnp.where(is_tr, count, K)
        times = times.at[slot].set(cross[cand], mode="drop")
        to = to.at[slot].set(cand, mode="drop")
        count = count + is_tr
        new_lead = jnp.where(take, cand, lead)
        # crossings are relative to the leader: restart them when it changes
        cross = jnp.where(take, jnp.where(m_t > m_t[cand], t, jnp.nan), cross)
        seg = jnp.where(new_lead >= 0, jnp.minimum(count, K), K + 1)
        a_lead = a_t[jnp.clip(new_lead, 0)]
        peaks = peaks.at[seg].max(a_lead, mode="drop")
        return (new_lead, cross, m_t, t, count, times, to, peaks), None

    a_in = jnp.zeros_like(m) if alpha is None else alpha
    init = (
        jnp.asarray(-1),
        jnp.full((P,), jnp.nan, ts.dtype),
        m[0],
        ts[0],
        jnp.asarray(0, jnp.int32),
        jnp.full((K,), jnp.nan, ts.dtype),
        jnp.full((K,), -1, jnp.int32),
        jnp.full((K + 1,), -jnp.inf, dtype),
    )
    (_lead, _, _, _, count, times, to, peaks), _ = jax.lax.scan(body, init, (ts, m, a_in))
    stored = jnp.minimum(count, K)
    has = jnp.arange(K + 1) <= stored
    if alpha is None:
        peaks = jnp.full((K + 1,), jnp.nan, dtype)
    else:
        peaks = jnp.where(has & jnp.isfinite(peaks), peaks, jnp.nan)
    active_end = jnp.max(m[-1]) >= active
    last = jnp.where(count > 0, times[jnp.clip(stored - 1, 0)], jnp.nan)
    return Transitions(times, to, peaks, count, active_end, last)


for _cls in (IDPHopfield, ThreeLayer, Reasoning, Kleinfeld):
    _cls.check_state = _check_state  # used by simulate() to validate y0
