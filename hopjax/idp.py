"""Input-driven plasticity (IDP) Hopfield networks and the two-timescale reasoning model.

Sources: the IDP Hopfield model of Betteti, Baggio, Bullo & Zampieri, "Input-driven dynamics for
robust memory retrieval in Hopfield networks", Sci. Adv. 11(17) (2025), doi:10.1126/sciadv.adu6991
(arXiv:2411.05849), and its two-timescale reasoning extension, "A dynamical theory of sequential
retrieval in input-driven Hopfield networks" (preprint, 2025), whose equation numbers appear in
parentheses; the forms used here are the ones its derivations pin down (the IDP notes page of
the documentation). Convention: memories are the rows of ``xi``
(shape ``(P, N)``, ``Ξ = xiᵀ`` in the paper's notation), overlaps ``m(x) = (1/N) Ξᵀ Ψ(x)``.

Models (:class:`hopjax.solve.AbstractContinuousMemory` subclasses; run them with
:func:`~hopjax.solve.simulate`):

* :class:`IDPHopfield` — ``τ_x ẋ = −x + W(α) Ψ(x)``, ``W(α) = (1/N) Ξ diag(α) Ξᵀ`` (1)/(16)/(19)
  with ``α`` constant, a function of time, or filtered from an input ``u(t)``; energy (2)–(3).
* :class:`ThreeLayer` — memory ``h``, feature ``x`` and saliency ``α`` layers (4)–(6), with
  ``F`` = identity (recovers (1) as ``τ_h → 0``) or softmax (modern-Hopfield retrieval).
* :class:`Reasoning` — the two-timescale model (7): ``τ_x ẋ = −x + W(α)Ψ(x) + ε Ξ α``,
  ``τ_α α̇ = −α + γ A m(x)``, with reasoning matrix ``A`` (circulant by default).
* :class:`Kleinfeld` — the one-timescale comparison model (8)–(9) and its delayed variant.

``W(α)`` is never formed: ``W(α) v = (1/N) Ξ (α ⊙ (Ξᵀ v))`` costs ``O(N P)``.

**Symmetry breaking** (measured pitfall, ``docs/notes/idp.md``): with exactly orthogonal memories
and no input the pure model (7) does not cycle — on ``ξ^μ`` the drive along ``ξ^{μ+1}`` is
exactly zero and the transition waits on round-off. :class:`Reasoning` therefore adds the input
``ε Ξ α`` to the fast equation (an input aligned with the salient memories, as the three-layer
model's input pathway provides); ``eps = 0`` gives the pure model. ``ε`` shortens each
transition by ``O(τ_x ln(1/ε))``-scale amounts only: see ``docs/notes/idp.md`` for the measured
dependence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PyTree

from hopjax import idp_theory
from hopjax._checks import finite, float_array, nonnegative, positive
from hopjax.activations import HARDTANH, TANH, Activation, get_activation
from hopjax.measure import crossing_period
from hopjax.solve import AbstractContinuousMemory, simulate_fixed

__all__ = [
    "HARDTANH",
    "TANH",
    "AbstractIDPMemory",
    "Activation",
    "FilteredInput",
    "IDPHopfield",
    "Kleinfeld",
    "Reasoning",
    "ThreeLayer",
    "circulant",
    "get_activation",
    "reasoning_period",
]


# ----------------------------------------------------------------------------- checks


def _memories(xi: ArrayLike) -> Array:
    xi = float_array(xi, "xi", ndim=2)
    if xi.shape[0] < 1 or xi.shape[1] < 1:
        raise ValueError(f"xi must hold P >= 1 memories of N >= 1 units; got {tuple(xi.shape)}.")
    return finite(xi, "xi")  # any real memories (layers learn them); NaN/inf refused


def circulant(P: int, *, dtype: jnp.dtype = jnp.float32) -> Float[Array, "P P"]:
    """Reasoning matrix of the cycle ``1 → 2 → … → P → 1``: ``A_{νμ} = δ_{ν, μ+1 (mod P)}``.

    ``A e_μ = e_{μ+1}`` (eq. (7)).
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


class AbstractIDPMemory(AbstractContinuousMemory):
    """The IDP family: memories ``xi`` ``(P, N)`` and a diagonal activation ``Ψ``; overlaps
    ``m(x) = (1/N) Ξᵀ Ψ(x)``."""

    xi: eqx.AbstractVar[Float[Array, "P N"]]
    activation: eqx.AbstractVar[Activation]

    def overlaps(self, x: Float[Array, " N"]) -> Float[Array, " P"]:
        """``m(x) = (1/N) Ξᵀ Ψ(x)``."""
        return _overlaps(self.xi, self.activation.psi(x))


# ----------------------------------------------------------------------------- IDP Hopfield


class FilteredInput(eqx.Module):
    """Saliency filtered from an input: ``τ_u α̇ = −α + (1/N) Ξᵀ u(t)`` (eq. (1)/(16)).

    ``u`` maps time to an ``(N,)`` input; with it the IDP state is the pair ``(x, α)``.
    """

    u: Callable[[Array], Array]
    tau_u: Array


class IDPHopfield(AbstractIDPMemory):
    """IDP Hopfield network ``τ_x ẋ = −x + W(α) Ψ(x)`` with ``W(α) = (1/N) Ξ diag(α) Ξᵀ``.

    Eq. (1)/(16)/(19)–(22). ``alpha`` is one of

    * an array ``(P,)`` — constant saliencies (``α = 1``: the classical continuous Hopfield net);
    * a callable ``t ↦ α(t)`` — prescribed saliencies;
    * a :class:`FilteredInput` (see :meth:`with_input`) — ``τ_u α̇ = −α + (1/N) Ξᵀ u(t)``; the
      state is then ``(x, α)``.

    Memories (HardTanh, §5.1): ``x* = α_μ ξ^μ`` is an equilibrium with Jacobian ``−I/τ_x``
    (stable) iff ``α_μ > 1``; ``α_μ = 1`` gives the segment ``λ ξ^μ, λ ∈ [0, 1]``; for ``α_μ < 1``
    the activity along ``ξ^μ`` decays to the origin.

    Args:
        xi: memories ``(P, N)`` (rows).
        alpha: saliencies: an array ``(P,)``, a callable ``t ↦ α(t)``, or a
            :class:`FilteredInput` (default: all ones, the classical network).
        tau_x: timescale ``τ_x`` of the state.
        activation: ``Ψ`` (``"hardtanh"`` as in the paper, ``"tanh"``, or an
            :class:`~hopjax.activations.Activation`).

    Example:
        ```python
        net = hj.IDPHopfield(xi, alpha=3.0 * jnp.ones(xi.shape[0]))
        sol = hj.simulate(net, net.initial_state(cue), t1=50.0)
        ```
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

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``x`` ``(N,)``, or ``(x, α)`` when ``α`` is filtered from an input."""
        P, N = self.xi.shape
        return (("x", N, "N"), ("alpha", P, "P")) if self.filtered else (("x", N, "N"),)

    def initial_state(
        self, x: Float[ArrayLike, " N"], alpha: Float[ArrayLike, " P"] | None = None
    ) -> PyTree:
        """Start at ``x`` (a cue); with a filtered input the state is ``(x, α)``, ``α`` given
        or ``0`` (the input then builds the saliencies up on the timescale ``τ_u``)."""
        x = jnp.asarray(x, self.xi.dtype)
        if not self.filtered:
            return x
        a = jnp.zeros((self.xi.shape[0],), self.xi.dtype) if alpha is None else alpha
        return x, jnp.asarray(a, self.xi.dtype)

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


class ThreeLayer(AbstractIDPMemory):
    """The three-layer timescale-separated model (eqs. (4)–(6)); state ``(h, x, α)``.

    * memory layer:   ``τ_h ḣ = −h + α ⊙ (1/N) Ξᵀ Ψ(x)``
    * feature layer:  ``τ_x ẋ = −x + Ξ F(h) + ε Ξ α``
    * saliency layer: ``τ_α α̇ = −α + γ A m(x) + (1/N) Ξᵀ u(t)``

    ``F`` is the identity (``τ_h → 0`` recovers the IDP network (1)) or ``softmax(β h)``
    (modern-Hopfield retrieval, Ramsauer et al. 2021). ``G`` combines the reasoning drive
    ``γ A m(x)`` (omitted when ``gamma = 0``) and the filtered input ``u`` (omitted when ``None``).

    Args:
        xi: memories ``(P, N)`` (rows).
        F: memory-layer separation, ``"identity"`` or ``"softmax"``.
        beta: inverse temperature of ``softmax``.
        gamma: gain ``γ`` of the reasoning drive (0: omitted).
        A: reasoning matrix ``(P, P)`` (default: circulant).
        u: input ``t ↦ u(t)`` ``(N,)`` (``None``: omitted).
        tau_h: timescale of the memory layer.
        tau_x: timescale of the feature layer.
        tau_alpha: timescale of the saliency layer.
        eps: symmetry-breaking input ``ε``.
        activation: ``Ψ`` (name or :class:`~hopjax.activations.Activation`).
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

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(h, x, α)`` of sizes ``(P, N, P)``."""
        P, N = self.xi.shape
        return ("h", P, "P"), ("x", N, "N"), ("alpha", P, "P")

    def initial_state(
        self, x: Float[ArrayLike, " N"], alpha: Float[ArrayLike, " P"] | None = None
    ) -> tuple[Array, Array, Array]:
        """Start at ``x`` with saliencies ``α`` (default ``0``) and the memory layer at its
        instantaneous target ``h = α ⊙ m(x)``."""
        x = jnp.asarray(x, self.xi.dtype)
        a = jnp.zeros((self.xi.shape[0],), self.xi.dtype) if alpha is None else alpha
        a = jnp.asarray(a, self.xi.dtype)
        return a * self.overlaps(x), x, a

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


class Reasoning(AbstractIDPMemory):
    """Two-timescale IDP reasoning model (eq. (7)); state ``(x, α)``.

    ``τ_x ẋ = −x + W(α) Ψ(x) + ε Ξ α``,   ``τ_α α̇ = −α + γ A m(x)``,   ``m = (1/N) Ξᵀ Ψ(x)``.

    ``A`` is the reasoning matrix (default :func:`circulant`: ``A e_μ = e_{μ+1}``; any ``(P, P)``
    adjacency — several cycles, branches — is accepted). ``eps`` is the documented
    symmetry-breaking input (:mod:`hopjax.idp`; ``0`` = the pure model). Theory
    (:mod:`hopjax.idp_theory`): sustained cycling iff ``γ ≥ 4`` (and ``a_0 > a_−``), period
    ``P τ_α ln a_+(γ)`` for ``τ_α ≫ τ_x``.

    Args:
        xi: memories ``(P, N)`` (rows).
        gamma: gain ``γ`` of the saliency drive (cycling needs ``γ ≥ 4``).
        tau_alpha: timescale ``τ_α`` of the saliencies.
        tau_x: timescale ``τ_x`` of the state.
        A: reasoning matrix ``(P, P)`` (default: circulant, ``A e_μ = e_{μ+1}``).
        eps: symmetry-breaking input ``ε`` (0: the pure model).
        activation: ``Ψ`` (name or :class:`~hopjax.activations.Activation`).

    Example:
        ```python
        model = hj.Reasoning(hj.orthogonal_patterns(4, 64), gamma=8.0, tau_alpha=500.0)
        sol = hj.simulate(model, model.initial_state(a0=3.0), t1=15_000.0)
        ```
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

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(x, α)`` of sizes ``(N, P)``."""
        P, N = self.xi.shape
        return ("x", N, "N"), ("alpha", P, "P")

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


class Kleinfeld(AbstractIDPMemory):
    """Kleinfeld's (1986) one-timescale sequence model (eqs. (8)–(9)).

    ``τ_x ẋ = −x + W^S Ψ(x) + γ W^A Ψ(z)`` with ``W^S = (1/N) Σ_μ ξ^μ ξ^μᵀ`` and
    ``W^A = (1/N) Ξ A Ξᵀ = (1/N) Σ_μ ξ^{μ+1} ξ^μᵀ`` for the circulant ``A``. Without delay
    ``z = x`` (state ``x``); with ``delayed=True`` ``z = x̄``, ``τ_d x̄̇ = −x̄ + x`` (state ``(x, x̄)``).
    Depending on ``γ`` it collapses to the origin, settles on a (mixed) fixed point or cycles.

    Args:
        xi: memories ``(P, N)`` (rows).
        gamma: weight ``γ`` of the sequence couplings.
        tau_x: timescale ``τ_x`` of the state.
        delayed: drive the sequence couplings with a delayed copy ``x̄`` of the state.
        tau_d: timescale ``τ_d`` of the delay.
        A: the sequence's adjacency ``(P, P)`` (default: the circulant cycle).
        activation: ``Ψ`` (name or :class:`~hopjax.activations.Activation`).
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

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``x`` ``(N,)``, or ``(x, x̄)`` with the delay."""
        N = self.xi.shape[1]
        return (("x", N, "N"), ("x_delayed", N, "N")) if self.delayed else (("x", N, "N"),)

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


# ----------------------------------------------------------------------------- measurement


def reasoning_period(
    model: Reasoning, *, t1: float | Array, dt: float = 0.1, saves: int = 1000
) -> Float[Array, ""]:
    """The measured cycle period of a :class:`Reasoning` model, differentiable in its parameters.

    One run started on the cycle (memory 0 at saliency ``a₊(γ)``, the peak map's fixed point, so
    a short horizon ``t1`` suffices), RK4 at constant ``dt``
    (:func:`~hopjax.solve.simulate_fixed`), saliency ``α₁`` saved at ``saves`` points; the period
    is the spacing of ``α₁``'s up-crossings of 1 (:func:`~hopjax.measure.crossing_period`: the
    saliency is the slow variable, so the interpolated crossing time is smooth in the
    parameters). Autodiff through it matches finite differences to a few per cent at constant
    steps, not through the adaptive solve (``docs/notes/idp.md``).
    """
    ts = jnp.linspace(0.0, t1, saves)
    sol = simulate_fixed(
        model,
        model.initial_state(a0=idp_theory.a_plus(model.gamma)),
        t1=t1,
        dt=dt,
        ts=ts,
        save_fn=lambda t, y, args: y[1][1],
    )
    return crossing_period(ts, sol.ys, 1.0)
