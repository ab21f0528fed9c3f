"""General Sequential Episodic Memory Model (GSEMM) and Dense GSEMM.

Source: Karuvally, Sejnowski and Siegelmann, "General Sequential Episodic Memory Model", ICML
2023, PMLR 202 (an earlier version: arXiv:2212.05563); equation numbers below are the paper's.
Our reproduction notes (parametrisation, measured figures): ``docs/notes/gsemm.md``.
Convention: the memories are the rows of ``xi`` (shape ``(N_h, N_f)``; the paper's ``Ξ = xiᵀ``
has them as columns); ``phi[k, j] = 1`` when memory ``k`` leads to memory ``j`` (the paper's
``Φ_{kj}``, so ``Φᵀ e_k = e_j``).

Two parametrisations of the couplings (``form``):

* ``"paper"`` — eq. (1): ``T_f V̇_f = √α_s Ξ σ_h(V_h) − V_f``,
  ``T_h V̇_h = √α_s Ξᵀ σ_f(V_f) + α_c Φᵀ Ξᵀ V_d − V_h``;
* ``"reference"`` — the authors' code (github arjun23496/gsemm, ``AdiabaticEpisodicTanh``):
  ``T_f V̇_f = Ξ σ_h(V_h) − V_f``, ``V_h`` driven by ``α_s Ξᵀ σ_f + α_c Φᵀ Ξᵀ V_d``.

In both, ``T_d V̇_d = β_d σ_f(V_f) − V_d`` with the delay gain ``β_d`` (``1`` in the paper's
equations, ``7`` in the reference code). Writing the couplings as ``a_f Ξ σ_h`` and
``a_h Ξᵀ σ_f`` (paper: ``a_f = a_h = √α_s``; reference: ``a_f = 1, a_h = α_s``), the energy

``E = [V_fᵀσ_f − L_f] + κ [V_hᵀσ_h − L_h] − a_f σ_fᵀ Ξ σ_h − κ α_c V_dᵀ Ξ Φ σ_h``,  ``κ = a_f/a_h``

is eq. (4) for the paper's form (``κ = 1``) and makes the reference form a gradient system too;
along trajectories ``dE/dt = F + G`` with ``F = −[T_f V̇_fᵀ H(L_f) V̇_f + κ T_h V̇_hᵀ H(L_h) V̇_h]
≤ 0`` and ``G = −κ α_c σ_hᵀ Φᵀ Ξᵀ V̇_d`` (eq. (5)–(8); the paper's (17) drops the ``α_c``).
Which parametrisation reproduces the paper's figures is measured in the ``gsemm_*`` experiments:
Fig. 1 needs the reference form with ``β_d = 7`` (``docs/notes/gsemm.md``).

Integrating a model from a cue and judging the episode it retrieves: :mod:`hopjax.episodes`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

from hopjax._checks import error_if, finite, float_array, is_concrete, nonnegative, positive
from hopjax.activations import TANH, Activation, get_activation, polynomial
from hopjax.solve import AbstractContinuousMemory

__all__ = [
    "GSEMM",
    "AbstractGSEMM",
    "DenseGSEMM",
    "SoftmaxGSEMM",
    "cycle_matrix",
    "episodes_matrix",
]

Form = Literal["paper", "reference"]
Power = Literal["signed", "plain"]


def cycle_matrix(K: int, *, size: int | None = None, dtype: jnp.dtype = jnp.float32) -> Array:
    """``Φ`` of the single episode ``ξ_0 → ξ_1 → … → ξ_{K−1} → ξ_0`` (``phi[k, k+1 mod K] = 1``),
    embedded in a ``size × size`` matrix (default ``K``; rows/columns ``≥ K`` zero)."""
    size = K if size is None else size
    if K < 1 or size < K:
        raise ValueError(f"need 1 <= K <= size; got K={K}, size={size}.")
    idx = np.arange(K)
    phi = np.zeros((size, size), dtype=np.float32)
    phi[idx, (idx + 1) % K] = 1.0
    with jax.ensure_compile_time_eval():  # concrete even under jit (see DenseGSEMM._phi_apply)
        return jnp.asarray(phi, dtype)


def episodes_matrix(
    episodes: list[list[int]], size: int, *, dtype: jnp.dtype = jnp.float32
) -> Array:
    """``Φ`` of several cyclic episodes, each a list of memory indices (0-based), e.g.
    ``[[0, 1, 2], [3, 4, 5, 6]]`` for Fig. 1's ξ1→ξ2→ξ3→ξ1 and ξ4→ξ5→ξ6→ξ7→ξ4."""
    phi = np.zeros((size, size), dtype=np.float32)
    seen: set[int] = set()
    for ep in episodes:
        if len(ep) < 2:
            raise ValueError(f"an episode needs at least 2 memories; got {ep}.")
        for k in ep:
            if not 0 <= k < size:
                raise ValueError(f"memory index {k} outside 0..{size - 1}.")
            if k in seen:
                raise ValueError(f"memory {k} appears in more than one episode position.")
            seen.add(k)
        for a, b in zip(ep, ep[1:] + ep[:1], strict=True):
            phi[a, b] = 1.0
    with jax.ensure_compile_time_eval():
        return jnp.asarray(phi, dtype)


# ----------------------------------------------------------------------------- checks


def _params(xi: ArrayLike, phi: ArrayLike | None) -> tuple[Array, Array]:
    xi = finite(float_array(xi, "xi", ndim=2), "xi")
    P = xi.shape[0]
    if phi is None:
        phi = cycle_matrix(P, dtype=xi.dtype)
    phi = float_array(phi, "phi", ndim=2)
    if phi.shape != (P, P):
        raise ValueError(f"phi must be (N_h, N_h) = ({P}, {P}) like xi's rows; got {phi.shape}.")
    if not is_concrete(phi):
        return xi, phi.astype(xi.dtype)
    with jax.ensure_compile_time_eval():  # a concrete Φ stays concrete under jit (_phi_apply)
        return xi, jnp.asarray(phi, xi.dtype)


def _sparse_phi(given: ArrayLike | None, phi: Array, sparse: bool | None) -> bool:
    """Whether ``Φ`` products may be gathers: asked for, or ``Φ`` is the default cycle, or a
    concrete 0/1 matrix with at most one predecessor per memory (``None`` decides)."""
    if sparse is not None:
        if sparse and is_concrete(phi) and not _one_predecessor(np.asarray(phi)):
            raise ValueError("sparse_phi=True needs phi with at most one nonzero per column.")
        return bool(sparse)
    if given is None:
        return True
    return is_concrete(phi) and _one_predecessor(np.asarray(phi))


def _one_predecessor(phi: np.ndarray) -> bool:
    nz = phi != 0
    return bool(np.all(nz.sum(axis=0) <= 1) and np.all((phi == 0) | (phi == 1)))


def _couplings(form: str, alpha_s: Array) -> tuple[Array, Array]:
    """``(a_f, a_h)``: paper ``(√α_s, √α_s)``, reference ``(1, α_s)``."""
    if form == "paper":
        r = jnp.sqrt(alpha_s)
        return r, r
    if form == "reference":
        return jnp.ones_like(alpha_s), alpha_s
    raise ValueError(f"form must be 'paper' or 'reference'; got {form!r}.")


# ----------------------------------------------------------------------------- full model


def _set_gains(
    model: eqx.Module,
    xi: ArrayLike,
    phi: ArrayLike | None,
    alpha_s: float | Array,
    alpha_c: float | Array,
    T_f: float | Array,
    T_d: float | Array,
    beta_d: float | Array,
) -> None:
    """The constructor checks every GSEMM shares (called from their ``__init__``, while the
    module's fields may still be set)."""
    model.xi, model.phi = _params(xi, phi)
    model.alpha_s = positive(alpha_s, "alpha_s")
    model.alpha_c = nonnegative(alpha_c, "alpha_c")
    model.T_f = positive(T_f, "T_f")
    model.T_d = positive(T_d, "T_d")
    model.beta_d = positive(beta_d, "beta_d")


class GSEMM(AbstractContinuousMemory):
    """The three-state GSEMM (eq. (1)); state ``(V_f, V_h, V_d)``.

    ``sigma_f``/``sigma_h`` are :class:`~hopjax.activations.Activation` pairs ``(σ, L)``
    (``σ = ∇L``, eq. (3)); defaults ``tanh`` and the identity (polynomial degree 1). See
    :mod:`hopjax.gsemm` for ``form``, ``beta_d`` and the energy.

    Args:
        xi: memories ``(N_h, N_f)`` (rows).
        phi: episode matrix ``(N_h, N_h)``, ``phi[k, j] = 1`` when memory ``k`` leads to ``j``
            (default: one cycle through all memories).
        alpha_s: gain ``α_s`` of the feature–hidden couplings.
        alpha_c: gain ``α_c`` of the delayed (episodic) drive.
        T_f: timescale of the feature layer.
        T_h: timescale of the hidden layer.
        T_d: timescale of the delay signal.
        beta_d: delay gain ``β_d``.
        form: ``"paper"`` or ``"reference"`` parametrisation (see :mod:`hopjax.gsemm`).
        sigma_f: feature activation (name or :class:`~hopjax.activations.Activation`).
        sigma_h: hidden activation, or an integer polynomial degree.
    """

    xi: Float[Array, "Nh Nf"]
    phi: Float[Array, "Nh Nh"]
    alpha_s: Array
    alpha_c: Array
    T_f: Array
    T_h: Array
    T_d: Array
    beta_d: Array
    form: Form = eqx.field(static=True)
    sigma_f: Activation = eqx.field(static=True)
    sigma_h: Activation = eqx.field(static=True)

    def __init__(
        self,
        xi: Float[ArrayLike, "Nh Nf"],
        phi: Float[ArrayLike, "Nh Nh"] | None = None,
        *,
        alpha_s: float | Array = 1.0,
        alpha_c: float | Array = 0.1,
        T_f: float | Array = 1.0,
        T_h: float | Array = 0.1,
        T_d: float | Array = 20.0,
        beta_d: float | Array = 1.0,
        form: Form = "paper",
        sigma_f: str | Activation = TANH,
        sigma_h: Activation | int = 1,
    ):
        _set_gains(self, xi, phi, alpha_s, alpha_c, T_f, T_d, beta_d)
        self.T_h = positive(T_h, "T_h")
        _couplings(form, self.alpha_s)
        self.form = form
        self.sigma_f = get_activation(sigma_f)
        self.sigma_h = polynomial(sigma_h) if isinstance(sigma_h, int) else sigma_h

    @property
    def kappa(self) -> Array:
        """``κ = a_f / a_h`` (1 for the paper's form, ``1/α_s`` for the reference form)."""
        a_f, a_h = _couplings(self.form, self.alpha_s)
        return a_f / a_h

    def hidden_input(self, V_f: Array, V_d: Array) -> Float[Array, " Nh"]:
        """``a_h Ξᵀ σ_f(V_f) + α_c Φᵀ Ξᵀ V_d`` — the hidden layer's target (eq. (9))."""
        _, a_h = _couplings(self.form, self.alpha_s)
        return a_h * (self.xi @ self.sigma_f.psi(V_f)) + self.alpha_c * ((self.xi @ V_d) @ self.phi)

    def vector_field(self, t: Array, y: tuple[Array, Array, Array], args: Any) -> tuple:
        """Right-hand side of eq. (1) (with ``form`` and ``β_d``)."""
        V_f, V_h, V_d = y
        a_f, _ = _couplings(self.form, self.alpha_s)
        dV_f = (a_f * (self.sigma_h.psi(V_h) @ self.xi) - V_f) / self.T_f
        dV_h = (self.hidden_input(V_f, V_d) - V_h) / self.T_h
        dV_d = (self.beta_d * self.sigma_f.psi(V_f) - V_d) / self.T_d
        return dV_f, dV_h, dV_d

    def energy(self, y: tuple[Array, Array, Array]) -> Float[Array, ""]:
        """Eq. (4) (``κ``-weighted for the reference form; see :mod:`hopjax.gsemm`)."""
        V_f, V_h, V_d = y
        a_f, _ = _couplings(self.form, self.alpha_s)
        sf, sh = self.sigma_f.psi(V_f), self.sigma_h.psi(V_h)
        ef = jnp.sum(V_f * sf - self.sigma_f.ell(V_f))
        eh = jnp.sum(V_h * sh - self.sigma_h.ell(V_h))
        couple = a_f * (self.xi @ sf) @ sh
        delay = self.alpha_c * (self.xi @ V_d) @ self.phi @ sh
        return ef + self.kappa * eh - couple - self.kappa * delay

    def energy_rates(self, y: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        """``(dE/dt, F, G)`` along the flow (eq. (5)–(8)); ``dE/dt`` by forward-mode autodiff.

        ``F = −[T_f V̇_fᵀ H(L_f) V̇_f + κ T_h V̇_hᵀ H(L_h) V̇_h] ≤ 0`` and
        ``G = −κ α_c σ_h(V_h)ᵀ Φᵀ Ξᵀ V̇_d``; ``dE/dt = F + G``.
        """
        V_f, V_h, _ = y
        dy = self.vector_field(0.0, y, None)
        dE = jax.jvp(self.energy, (y,), (dy,))[1]
        hess_f = jax.vmap(jax.grad(self.sigma_f.psi))(V_f)  # diagonal of H(L_f) = σ_f'
        hess_h = jax.vmap(jax.grad(self.sigma_h.psi))(V_h)
        F = -(
            self.T_f * jnp.sum(hess_f * dy[0] ** 2)
            + self.kappa * self.T_h * jnp.sum(hess_h * dy[1] ** 2)
        )
        G = -self.kappa * self.alpha_c * (self.sigma_h.psi(V_h) @ self.phi.T) @ (self.xi @ dy[2])
        return dE, F, G

    def overlaps(self, V_f: Array) -> Float[Array, " Nh"]:
        """``m_i = (1/N_f) Σ_j ξ_ij σ_f(V_f)_j`` (appendix B)."""
        return self.xi @ self.sigma_f.psi(V_f) / self.xi.shape[1]

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(V_f, V_h, V_d)`` of sizes ``(N_f, N_h, N_f)``."""
        N_h, N_f = self.xi.shape
        return ("V_f", N_f, "N_f"), ("V_h", N_h, "N_h"), ("V_d", N_f, "N_f")

    def initial_state(self, cue: Float[ArrayLike, " Nf"]) -> tuple[Array, Array, Array]:
        """Cue ``V_f = cue``, ``V_d = 0`` and ``V_h`` at its instantaneous target."""
        V_f = jnp.asarray(cue, self.xi.dtype)
        V_d = jnp.zeros_like(V_f)
        return V_f, self.hidden_input(V_f, V_d), V_d


# ----------------------------------------------------------------------------- dense model


def _spow(x: Array, n: Array, integer_degree: int | None = None, power: Power = "signed") -> Array:
    """``sign(x) |x|^n`` (the sign-preserving power; ``x^n`` for odd ``n``); with ``power =
    "plain"`` the plain ``x^n`` of an integer ``n`` (``|x|^n`` for even ``n``).

    With ``integer_degree`` (``n`` an integer in ``[1, integer_degree]``): ``|x|^n`` by
    exponentiation by squaring over the ``integer_degree.bit_length()`` bits of ``n`` — a few
    multiplies and selects instead of ``pow``. Exact for ``n ≤ 2``; otherwise within about
    ``(n − 1) · 2⁻²⁴`` relative (measured ≤ 6.3·10⁻⁷ at ``n = 15``, ``pow`` ≤ 1.2·10⁻⁷) — the
    order of the error ``n · 2⁻²⁴`` that ``x``'s own rounding already carries into ``xⁿ``.
    ``d/dn`` is zero.
    """
    sign = jnp.sign(x)
    if power == "plain":  # x^n: the sign only where n is odd
        sign = jnp.where(jnp.round(n) % 2 == 1, sign, jnp.ones_like(sign))
    if integer_degree is None:
        return sign * jnp.abs(x) ** n
    ni = jnp.asarray(n).astype(jnp.int32)
    b = jnp.abs(x)
    r = jnp.where((ni & 1) == 1, b, jnp.ones_like(b))
    for bit in range(1, integer_degree.bit_length()):
        b = b * b
        r = jnp.where(((ni >> bit) & 1) == 1, r * b, r)
    return sign * r


class AbstractGSEMM(AbstractContinuousMemory):
    """What the two ``T_h → 0`` GSEMMs share (:class:`DenseGSEMM`, :class:`SoftmaxGSEMM`): memories
    ``xi`` ``(N_h, N_f)``, an episode matrix ``phi`` ``(N_h, N_h)``, the gains ``α_s``, ``α_c``,
    ``β_d`` and timescales ``T_f``, ``T_d``; a state ``(x, V_d)`` of two ``N_f``-vectors (the
    feature part ``x`` and the delay signal ``V_d``), integrated by the sweep engine's and
    :mod:`hopjax.episodes`' drivers alike.

    A subclass gives :meth:`hidden` (the hidden currents ``h(x, V_d)``) and :meth:`retrieve`
    (the feature state the hidden layer drives ``x`` towards with ``V_d`` held, whose fixed
    point :meth:`fixed_point` finds); :meth:`from_params` builds it from a mapping of its
    keyword parameters (:attr:`PARAMS`).
    """

    xi: eqx.AbstractVar[Array]
    phi: eqx.AbstractVar[Array]
    alpha_s: eqx.AbstractVar[Array]
    alpha_c: eqx.AbstractVar[Array]
    T_f: eqx.AbstractVar[Array]
    T_d: eqx.AbstractVar[Array]
    beta_d: eqx.AbstractVar[Array]

    PARAMS: ClassVar[tuple[str, ...]] = ("alpha_s", "alpha_c", "T_f", "T_d", "beta_d")
    """The constructor's keyword parameters (what :meth:`from_params` picks from a mapping)."""

    @classmethod
    def from_params(
        cls, xi: Float[ArrayLike, "Nh Nf"], phi: Float[ArrayLike, "Nh Nh"] | None, params: Mapping
    ) -> AbstractGSEMM:
        """The model with memories ``xi``, episode matrix ``phi`` and the parameters of
        :data:`PARAMS` found in ``params`` (a sweep row's params, a layer's parameter dict;
        missing ones take their defaults, other keys are ignored)."""
        return cls(xi, phi, **{k: params[k] for k in cls.PARAMS if k in params})  # type: ignore[call-arg]

    @property
    def n_features(self) -> int:
        """``N_f``."""
        return self.xi.shape[1]

    @abc.abstractmethod
    def hidden(self, x: Array, V_d: Array) -> Float[Array, " Nh"]:
        """The hidden currents from the feature state ``x`` and the delay signal ``V_d``."""

    @abc.abstractmethod
    def retrieve(self, x: Array, V_d: Array) -> Array:
        """The feature state the hidden layer drives ``x`` towards (``V_d`` held): the fixed
        points of the flow are those of ``x ↦ retrieve(x, V_d)``."""

    def fixed_point(
        self, x0: Array, V_d: Array, *, rtol: float = 1e-6, atol: float = 1e-9, max_steps: int = 256
    ) -> Array:
        """The fixed point of the instantaneous energy reached from ``x0`` with ``V_d`` frozen
        (appendix B.2).

        B.2 follows the energy gradient until nothing moves; here the end point is found as the
        fixed point of ``x ↦ retrieve(x, V_d)`` — the stationarity condition of the flow — with
        optimistix's fixed-point iteration. (Minimising ``E`` with a generic optimiser stalls:
        ``E`` is flat wherever ``tanh`` saturates.) Returns the fixed point (not converged
        within ``max_steps``: the last iterate).
        """
        sol = optx.fixed_point(
            lambda x, args: self.retrieve(x, V_d),
            optx.FixedPointIteration(rtol=rtol, atol=atol),
            x0,
            max_steps=max_steps,
            throw=False,
        )
        return sol.value


class DenseGSEMM(AbstractGSEMM):
    """Dense GSEMM: the ``T_h → 0`` limit (eq. (9)–(10)), ``σ_f = tanh``, ``σ_h(x) = sign(x)|x|^n``.

    ``T_f V̇_f = a_f Ξ σ_h(h) − V_f``, ``h = a_h Ξᵀ tanh(V_f) + α_c Φᵀ Ξᵀ V_d``,
    ``T_d V̇_d = β_d tanh(V_f) − V_d``.

    **Scaling.** ``h`` is ``O(N_f)`` and ``σ_h(h) ~ N_f^n``: ``100^15`` overflows float32 once
    summed. Because ``σ_h`` is homogeneous (``σ_h(N h̃) = N^n σ_h(h̃)``) and the ``V_f`` equation is
    linear in ``V_f``, the state is kept as ``U = V_f / S`` with ``S = a_f N_f^n`` and normalised
    overlaps ``h̃ = h / N_f``:  ``T_f U̇ = Ξ σ_h(h̃) − U`` — an exact change of variables, not an
    approximation (the tests compare it with the unscaled equations in float64). ``tanh(S U)`` is
    evaluated with ``S U`` clipped to ±20 (:meth:`sigma_f`), so no inf/NaN arises at any degree.
    The state here is ``(U, V_d)``; :meth:`feature_current` returns ``V_f = S U`` where it is
    representable.

    **Even degrees.** ``σ_h`` is the odd extension ``sign(x)|x|^n`` (with Lagrangian
    ``|x|^{n+1}/(n+1)``, convex): plain ``x^n`` for even ``n`` is non-monotone, its Lagrangian is
    not convex (no energy descent) and anti-aligned memories would attract as strongly as aligned
    ones. ``degree`` is an array leaf, so sweeps vmap over it; padded (all-zero) memories
    contribute exactly nothing, which lets episodes of different lengths share one shape.

    ``power = "plain"`` (static) gives the paper's printed ``σ_h(x) = xⁿ`` instead — for even
    ``n`` that is ``|x|ⁿ``, Lagrangian ``sign(x)|x|^{n+1}/(n+1)`` (not convex); ``degree`` must
    then be an integer. It exists to measure what the choice does (``gsemm_capacity``'s ``power``
    key; docs/reproductions.md), not as a recommended model.

    **Integer degrees.** ``integer_degree=D`` (static) says ``degree`` is an integer in ``[1, D]``:
    ``σ_h`` is then evaluated by exponentiation by squaring (``_spow``) instead of ``pow`` (a scalar
    call per element on CPU; timings: ``docs/benchmarks.md``), exact for degrees 1 and 2, within a
    few float32 roundings otherwise, and ``d/d degree`` is zero (leave it ``None`` to differentiate
    with respect to ``degree``). A non-integer or larger ``degree`` is refused (a run-time error
    when traced).

    **Episode structure.** With ``sparse_phi`` (the default cycle ``phi=None``, or a concrete
    0/1 ``phi`` whose memories have at most one predecessor — cyclic or linear episodes — or
    asked for when ``phi`` is built inside ``jit``), the products ``Φᵀ Ξᵀ V_d`` are gathers by
    predecessor: exactly equal, ``O(N_h)`` instead of ``O(N_h²)`` (the predecessor is read
    from ``phi`` at trace time, so replacing ``phi`` keeps working while the structure holds).

    **Padding.** ``n_active`` (optional, may be traced): only the first ``n_active`` memories
    take part — the hidden currents and overlaps of the others are set to zero, exactly as if
    their rows of ``xi`` were all zero. Episodes of different lengths then share one shape
    (and, in a sweep, one compiled program) while ``xi`` stays one array shared by every row.

    Args:
        xi: memories ``(N_h, N_f)`` (rows).
        phi: episode matrix ``(N_h, N_h)`` (default: one cycle through all memories).
        degree: polynomial degree ``n`` of ``σ_h`` (an array leaf: vmap over it).
        alpha_s: gain ``α_s``.
        alpha_c: gain ``α_c`` of the delayed drive.
        T_f: timescale of the feature layer.
        T_d: timescale of the delay signal.
        beta_d: delay gain ``β_d`` (7 in the reference code).
        form: ``"paper"`` or ``"reference"`` parametrisation.
        sparse_phi: products with ``phi`` as gathers (``None``: decided from ``phi``).
        integer_degree: ``σ_h`` by exponentiation by squaring for integer degrees up to this.
        power: ``"signed"`` (``sign(h)|h|ⁿ``) or ``"plain"`` (``hⁿ``).
        n_active: number of active memories (the rest are padding; may be traced).

    Example:
        ```python
        model = hj.DenseGSEMM(xi, degree=3.0, alpha_c=0.3, beta_d=7.0, form="reference")
        verdict = hj.episodes.decide_episode(model, xi[0], t1=200.0)
        ```
    """

    xi: Float[Array, "Nh Nf"]
    phi: Float[Array, "Nh Nh"]
    degree: Array
    alpha_s: Array
    alpha_c: Array
    T_f: Array
    T_d: Array
    beta_d: Array
    form: Form = eqx.field(static=True)
    sparse_phi: bool = eqx.field(static=True)
    integer_degree: int | None = eqx.field(static=True)
    power: Power = eqx.field(static=True)
    n_active: Array | None

    def __init__(
        self,
        xi: Float[ArrayLike, "Nh Nf"],
        phi: Float[ArrayLike, "Nh Nh"] | None = None,
        *,
        degree: float | Array = 1,
        alpha_s: float | Array = 1.0,
        alpha_c: float | Array = 0.1,
        T_f: float | Array = 1.0,
        T_d: float | Array = 20.0,
        beta_d: float | Array = 1.0,
        form: Form = "paper",
        sparse_phi: bool | None = None,
        integer_degree: int | None = None,
        power: Power = "signed",
        n_active: int | Array | None = None,
    ):
        _set_gains(self, xi, phi, alpha_s, alpha_c, T_f, T_d, beta_d)
        if n_active is not None:
            n_active = jnp.asarray(n_active)
            if not jnp.issubdtype(n_active.dtype, jnp.integer) or n_active.ndim != 0:
                raise ValueError(f"n_active must be an integer scalar; got {n_active!r}.")
            if is_concrete(n_active) and not 1 <= int(n_active) <= self.xi.shape[0]:
                raise ValueError(
                    f"n_active must lie in 1..{self.xi.shape[0]} (xi's rows); got {int(n_active)}."
                )
        self.n_active = n_active
        if power not in ("signed", "plain"):
            raise ValueError(f"power must be 'signed' or 'plain'; got {power!r}.")
        self.power = power
        self.sparse_phi = _sparse_phi(phi, self.phi, sparse_phi)
        deg = jnp.asarray(degree, self.xi.dtype)
        if is_concrete(deg) and not bool(np.all(np.isfinite(deg) & (np.asarray(deg) >= 1))):
            raise ValueError(f"degree must be >= 1 and finite; got {np.asarray(deg)}.")
        if not is_concrete(deg):  # under jit/vmap: a run-time error, not garbage
            deg = error_if(deg, ~(jnp.isfinite(deg) & (deg >= 1)), "degree must be >= 1.")
        if integer_degree is not None:
            if not isinstance(integer_degree, int | np.integer) or integer_degree < 1:
                raise ValueError(
                    f"integer_degree must be an int >= 1 or None; got {integer_degree!r}."
                )
            bad = (deg != jnp.round(deg)) | (deg > integer_degree)
            if is_concrete(deg) and bool(np.any(bad)):
                raise ValueError(
                    f"degree must be an integer <= integer_degree={integer_degree}; "
                    f"got {np.asarray(deg)}."
                )
            if not is_concrete(deg):
                deg = error_if(deg, bad, f"degree must be an integer <= {integer_degree}.")
            integer_degree = int(integer_degree)
        if power == "plain":
            frac = deg != jnp.round(deg)
            if is_concrete(deg) and bool(np.any(frac)):
                raise ValueError(f"power='plain' needs an integer degree; got {np.asarray(deg)}.")
            if not is_concrete(deg):
                deg = error_if(deg, frac, "power='plain' needs an integer degree.")
        self.integer_degree = integer_degree
        self.degree = deg
        _couplings(form, self.alpha_s)
        self.form = form

    PARAMS: ClassVar[tuple[str, ...]] = (
        "degree",
        "alpha_s",
        "alpha_c",
        "T_f",
        "T_d",
        "beta_d",
        "form",
        "sparse_phi",
        "integer_degree",
        "power",
        "n_active",
    )
    """The constructor's keyword parameters (what :meth:`from_params` picks from a mapping)."""

    @property
    def log_scale(self) -> Array:
        """``log S = log a_f + n log N_f``."""
        a_f, _ = _couplings(self.form, self.alpha_s)
        return jnp.log(a_f) + self.degree * jnp.log(jnp.asarray(self.n_features, self.xi.dtype))

    @property
    def scale(self) -> Array:
        """``S = a_f N_f^n``, capped at ``e^80`` (see :meth:`sigma_f`)."""
        return jnp.exp(jnp.minimum(self.log_scale, 80.0))

    def sigma_f(self, U: Array) -> Array:
        """``tanh(V_f) = tanh(S U)``, with ``S U`` clipped to ±20 (``tanh(20) = 1`` in float32
        and float64) so it never overflows. ``S`` is capped at ``e^80`` (float32 holds ``e^88``):
        exact for ``N_f^n ≤ 5·10³⁴`` (``N_f = 100`` up to ``n = 17``); beyond it only states with
        ``|U| < 20 e^{−80}`` — below float32's normal range — would differ."""
        return jnp.tanh(jnp.clip(U * self.scale, -20.0, 20.0))

    def feature_current(self, U: Array) -> Array:
        """``V_f = S U`` (inf where it exceeds the dtype: use :meth:`sigma_f` for dynamics)."""
        return U * jnp.exp(self.log_scale)

    def hidden(self, U: Array, V_d: Array) -> Float[Array, " Nh"]:
        """Normalised hidden currents ``h̃ = (a_h Ξᵀ tanh(V_f) + α_c Φᵀ Ξᵀ V_d) / N_f``."""
        return self._hidden(self.sigma_f(U), V_d)

    def _hidden(self, s: Array, V_d: Array) -> Array:
        _, a_h = _couplings(self.form, self.alpha_s)
        # one (2, N_f) × (N_f, N_h) product for both: under vmap a GEMM with no transposes
        proj = jnp.stack([s, V_d]) @ self.xi.T
        h = (a_h * proj[0] + self.alpha_c * self._phi_apply(proj[1])) / self.n_features
        return self._mask(h)

    def _mask(self, v: Array) -> Array:
        """``v`` with the entries of inactive memories (index ``≥ n_active``) set to zero."""
        if self.n_active is None:
            return v
        return jnp.where(jnp.arange(v.shape[-1]) < self.n_active, v, jnp.zeros_like(v))

    def _phi_apply(self, v: Array) -> Array:
        """``v Φ`` (``(v Φ)_j = Σ_k v_k Φ_kj``): a gather by predecessor when ``sparse_phi``
        (each memory has at most one predecessor; exactly equal for 0/1 matrices)."""
        if not self.sparse_phi:
            return v @ self.phi
        if isinstance(self.phi, jax.core.Tracer):
            pred = jnp.argmax(self.phi, axis=0)
            return v[pred] * self.phi[pred, jnp.arange(self.phi.shape[1])]
        # a concrete Φ: predecessors found on the host, so a compiled program holds K indices
        # and weights instead of folding an argmax over a K × K constant (slow in XLA)
        phi = np.asarray(self.phi)
        pred = np.argmax(phi, axis=0)
        return v[pred] * phi[pred, np.arange(phi.shape[1])]

    def vector_field(self, t: Array, y: tuple[Array, Array], args: Any) -> tuple[Array, Array]:
        """``(U̇, V̇_d)`` of the scaled eq. (10)."""
        U, V_d = y
        s = self.sigma_f(U)
        h = self._hidden(s, V_d)
        dU = (_spow(h, self.degree, self.integer_degree, self.power) @ self.xi - U) / self.T_f
        dV_d = (self.beta_d * s - V_d) / self.T_d
        return dU, dV_d

    def energy(self, y: tuple[Array, Array]) -> Float[Array, ""]:
        """Instantaneous energy divided by ``S`` (``V_d`` a frozen control, eq. (4) with
        ``V_h = h``): ``Σ [U tanh(SU) − log cosh(SU)/S] − (N_f / a_h) Σ |h̃|^{n+1} / (n+1)``.

        Non-increasing along the flow whenever ``V_d`` is held fixed.
        """
        U, V_d = y
        _, a_h = _couplings(self.form, self.alpha_s)
        sf = self.sigma_f(U)
        # log cosh(SU) / S = |U| + (log1p(e^{−2 S|U|}) − log 2) / S
        z = jnp.minimum(jnp.abs(U) * self.scale, 40.0)
        lc = jnp.abs(U) + (jnp.log1p(jnp.exp(-2.0 * z)) - jnp.log(2.0)) / self.scale
        h = self.hidden(U, V_d)
        # L_h = ∫σ_h: |x|^{n+1}/(n+1) (signed), x^{n+1}/(n+1) (plain: an integer n)
        if self.power == "plain":
            L_h = jnp.sum(_spow(h, self.degree + 1, None, "plain")) / (self.degree + 1)
        else:
            L_h = jnp.sum(jnp.abs(h) ** (self.degree + 1)) / (self.degree + 1)
        return jnp.sum(U * sf - lc) - self.n_features / a_h * L_h

    def overlaps(self, U: Array) -> Float[Array, " Nh"]:
        """``m_i = (1/N_f) Σ_j ξ_ij tanh(V_f)_j`` (zero for inactive memories)."""
        return self._mask(self.xi @ self.sigma_f(U) / self.n_features)

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(U, V_d)``, both of size ``N_f``."""
        N_f = self.n_features
        return ("U", N_f, "N_f"), ("V_d", N_f, "N_f")

    def initial_state(self, cue: Float[ArrayLike, " Nf"]) -> tuple[Array, Array]:
        """Cue ``V_f = cue`` (``U = cue / S``) with ``V_d = 0``."""
        cue = jnp.asarray(cue, self.xi.dtype)
        return cue * jnp.exp(-self.log_scale), jnp.zeros_like(cue)

    def retrieve(self, U: Array, V_d: Array) -> Array:
        """``Ξ σ_h(h̃(U, V_d))``: ``U``'s fixed points with ``V_d`` held (the flow
        ``T_f U̇ = retrieve(U, V_d) − U`` descends ``E`` with the metric ``H(L_f)``)."""
        return _spow(self.hidden(U, V_d), self.degree, self.integer_degree, self.power) @ self.xi


class SoftmaxGSEMM(AbstractGSEMM):
    """The GSEMM with a softmax (exponential) hidden layer — the authors' second model
    (``AdiabaticEpisodicExponential`` in github arjun23496/gsemm, their ``DSEM`` notebook):

    ``T_f V̇ = √α_s Ξ softmax(h) − V``,  ``h = √α_s Ξᵀ V + α_c Φᵀ Ξᵀ V_d``,
    ``T_d V̇_d = β_d V − V_d``

    (the ``T_h → 0`` limit of eq. (1) with ``σ_h = softmax``, Lagrangian ``L_h = logsumexp``,
    and linear feature neurons, ``σ_f(V) = V``, ``L_f = ½|V|²``; ``√α_s`` on both couplings as in
    ``form = "paper"``). Defaults are the notebook's values: ``α_s = 1``, ``α_c = 4.9``,
    ``T_f = 1``, ``T_d = 20``, ``β_d = 7``. ``softmax`` is ``jax.nn.softmax`` (max-shifted: no
    overflow for any ``h``). With ``V_d`` frozen the energy (eq. (4) with ``V_h = h``)

    ``E(V) = ½|V|² − logsumexp(h)``

    satisfies ``∂E/∂V = V − √α_s Ξ softmax(h) = −T_f V̇``, so ``dE/dt = −T_f |V̇|² ≤ 0``
    (tested). Memories are the rows of ``xi``; ``phi`` as in :class:`DenseGSEMM` (the default:
    one cycle through all memories).

    Args:
        xi: memories ``(N_h, N_f)`` (rows).
        phi: episode matrix ``(N_h, N_h)`` (default: one cycle through all memories).
        alpha_s: gain ``α_s``.
        alpha_c: gain ``α_c`` of the delayed drive.
        T_f: timescale of the feature layer.
        T_d: timescale of the delay signal.
        beta_d: delay gain ``β_d``.
    """

    xi: Float[Array, "Nh Nf"]
    phi: Float[Array, "Nh Nh"]
    alpha_s: Array
    alpha_c: Array
    T_f: Array
    T_d: Array
    beta_d: Array

    def __init__(
        self,
        xi: Float[ArrayLike, "Nh Nf"],
        phi: Float[ArrayLike, "Nh Nh"] | None = None,
        *,
        alpha_s: float | Array = 1.0,
        alpha_c: float | Array = 4.9,
        T_f: float | Array = 1.0,
        T_d: float | Array = 20.0,
        beta_d: float | Array = 7.0,
    ):
        _set_gains(self, xi, phi, alpha_s, alpha_c, T_f, T_d, beta_d)

    def hidden(self, V: Array, V_d: Array) -> Float[Array, " Nh"]:
        """``h = √α_s Ξᵀ V + α_c Φᵀ Ξᵀ V_d``."""
        proj = jnp.stack([V, V_d]) @ self.xi.T
        return jnp.sqrt(self.alpha_s) * proj[0] + self.alpha_c * (proj[1] @ self.phi)

    def vector_field(self, t: Array, y: tuple[Array, Array], args: Any) -> tuple[Array, Array]:
        """``(V̇, V̇_d)`` (class docstring)."""
        V, V_d = y
        p = jax.nn.softmax(self.hidden(V, V_d))
        dV = (jnp.sqrt(self.alpha_s) * (p @ self.xi) - V) / self.T_f
        dV_d = (self.beta_d * V - V_d) / self.T_d
        return dV, dV_d

    def energy(self, y: tuple[Array, Array]) -> Float[Array, ""]:
        """``E = ½|V|² − logsumexp(h)`` (``V_d`` a frozen control; non-increasing along the
        flow while it is held)."""
        V, V_d = y
        return 0.5 * jnp.sum(V**2) - jax.nn.logsumexp(self.hidden(V, V_d))

    def overlaps(self, V: Array) -> Float[Array, " Nh"]:
        """``m_i = (1/N_f) Σ_j ξ_ij V_j / √α_s`` (1 when ``V = √α_s ξ_i``, the fixed point of a
        one-hot softmax)."""
        return self.xi @ V / (self.n_features * jnp.sqrt(self.alpha_s))

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(V, V_d)``, both of size ``N_f``."""
        N_f = self.n_features
        return ("V", N_f, "N_f"), ("V_d", N_f, "N_f")

    def initial_state(self, cue: Float[ArrayLike, " Nf"]) -> tuple[Array, Array]:
        """``V = cue``, ``V_d = 0`` (the notebook's start)."""
        cue = jnp.asarray(cue, self.xi.dtype)
        return cue, jnp.zeros_like(cue)

    def retrieve(self, V: Array, V_d: Array) -> Array:
        """``√α_s Ξ softmax(h(V, V_d))``: ``V``'s fixed points with ``V_d`` held."""
        return jnp.sqrt(self.alpha_s) * (jax.nn.softmax(self.hidden(V, V_d)) @ self.xi)
