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

:func:`run_episode` integrates a Dense GSEMM from a cue (RK4 at constant ``dt``, keeping only the
leading memory at every save) and judges the retrieved episode by the paper's criterion
(:func:`hopjax.measure.judge_episode`): the one "integrate and judge" of every GSEMM experiment.
"""

from __future__ import annotations

import dataclasses
import math
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
from hopjax.measure import (
    Episode,
    EpisodeState,
    cycle_lengths,
    episode_update,
    judge_episode,
    leader,
    successor,
)
from hopjax.solve import AbstractContinuousMemory, rk4_scan, rk4_step

__all__ = [
    "GSEMM",
    "DenseGSEMM",
    "EpisodeJudge",
    "EpisodeRun",
    "SoftmaxGSEMM",
    "Verdict",
    "cycle_matrix",
    "decide_episode",
    "episodes_matrix",
    "run_episode",
]

Form = Literal["paper", "reference"]


# ----------------------------------------------------------------------------- episodes


def cycle_matrix(K: int, *, size: int | None = None, dtype: jnp.dtype = jnp.float32) -> Array:
    """``Φ`` of the single episode ``ξ_0 → ξ_1 → … → ξ_{K−1} → ξ_0`` (``phi[k, k+1 mod K] = 1``),
    embedded in a ``size × size`` matrix (default ``K``; rows/columns ``≥ K`` zero)."""
    size = K if size is None else size
    if K < 1 or size < K:
        raise ValueError(f"need 1 <= K <= size; got K={K}, size={size}.")
    idx = np.arange(K)
    phi = np.zeros((size, size), dtype=np.float32)
    phi[idx, (idx + 1) % K] = 1.0
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
    return xi, phi.astype(xi.dtype)


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


class GSEMM(AbstractContinuousMemory):
    """The three-state GSEMM (eq. (1)); state ``(V_f, V_h, V_d)``.

    ``sigma_f``/``sigma_h`` are :class:`~hopjax.activations.Activation` pairs ``(σ, L)``
    (``σ = ∇L``, eq. (3)); defaults ``tanh`` and the identity (polynomial degree 1). See the
    module docstring for ``form``, ``beta_d`` and the energy.
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
        self.xi, self.phi = _params(xi, phi)
        self.alpha_s = positive(alpha_s, "alpha_s")
        self.alpha_c = nonnegative(alpha_c, "alpha_c")
        self.T_f = positive(T_f, "T_f")
        self.T_h = positive(T_h, "T_h")
        self.T_d = positive(T_d, "T_d")
        self.beta_d = positive(beta_d, "beta_d")
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
        """Eq. (4) (``κ``-weighted for the reference form; see the module docstring)."""
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


def _spow(x: Array, n: Array, integer_degree: int | None = None) -> Array:
    """``sign(x) |x|^n`` (the sign-preserving power; ``x^n`` for odd ``n``).

    With ``integer_degree`` (``n`` an integer in ``[1, integer_degree]``): ``|x|^n`` by
    exponentiation by squaring over the ``integer_degree.bit_length()`` bits of ``n`` — a few
    multiplies and selects instead of ``pow``. Exact for ``n ≤ 2``; otherwise within about
    ``(n − 1) · 2⁻²⁴`` relative (measured ≤ 6.3·10⁻⁷ at ``n = 15``, ``pow`` ≤ 1.2·10⁻⁷) — the
    order of the error ``n · 2⁻²⁴`` that ``x``'s own rounding already carries into ``xⁿ``.
    ``d/dn`` is zero.
    """
    if integer_degree is None:
        return jnp.sign(x) * jnp.abs(x) ** n
    ni = jnp.asarray(n).astype(jnp.int32)
    b = jnp.abs(x)
    r = jnp.where((ni & 1) == 1, b, jnp.ones_like(b))
    for bit in range(1, integer_degree.bit_length()):
        b = b * b
        r = jnp.where(((ni >> bit) & 1) == 1, r * b, r)
    return jnp.sign(x) * r


class DenseGSEMM(AbstractContinuousMemory):
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
    ):
        self.xi, self.phi = _params(xi, phi)
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
        self.integer_degree = integer_degree
        self.degree = deg
        self.alpha_s = positive(alpha_s, "alpha_s")
        self.alpha_c = nonnegative(alpha_c, "alpha_c")
        self.T_f = positive(T_f, "T_f")
        self.T_d = positive(T_d, "T_d")
        self.beta_d = positive(beta_d, "beta_d")
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
    )
    """The constructor's keyword parameters (what :meth:`from_params` picks from a mapping)."""

    @classmethod
    def from_params(
        cls, xi: Float[ArrayLike, "Nh Nf"], phi: Float[ArrayLike, "Nh Nh"] | None, params: Mapping
    ) -> DenseGSEMM:
        """The model with memories ``xi``, episode matrix ``phi`` and the parameters of
        :data:`PARAMS` found in ``params`` (a sweep row's params, a layer's parameter dict;
        missing ones take their defaults, other keys are ignored)."""
        return cls(xi, phi, **{k: params[k] for k in cls.PARAMS if k in params})

    @property
    def n_features(self) -> int:
        """``N_f``."""
        return self.xi.shape[1]

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
        return (a_h * proj[0] + self.alpha_c * self._phi_apply(proj[1])) / self.n_features

    def _phi_apply(self, v: Array) -> Array:
        """``v Φ`` (``(v Φ)_j = Σ_k v_k Φ_kj``): a gather by predecessor when ``sparse_phi``
        (each memory has at most one predecessor; exactly equal for 0/1 matrices)."""
        if not self.sparse_phi:
            return v @ self.phi
        pred = jnp.argmax(self.phi, axis=0)
        return v[pred] * self.phi[pred, jnp.arange(self.phi.shape[1])]

    def vector_field(self, t: Array, y: tuple[Array, Array], args: Any) -> tuple[Array, Array]:
        """``(U̇, V̇_d)`` of the scaled eq. (10)."""
        U, V_d = y
        s = self.sigma_f(U)
        h = self._hidden(s, V_d)
        dU = (_spow(h, self.degree, self.integer_degree) @ self.xi - U) / self.T_f
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
        L_h = jnp.sum(jnp.abs(h) ** (self.degree + 1)) / (self.degree + 1)
        return jnp.sum(U * sf - lc) - self.n_features / a_h * L_h

    def overlaps(self, U: Array) -> Float[Array, " Nh"]:
        """``m_i = (1/N_f) Σ_j ξ_ij tanh(V_f)_j``."""
        return self.xi @ self.sigma_f(U) / self.n_features

    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(U, V_d)``, both of size ``N_f``."""
        N_f = self.n_features
        return ("U", N_f, "N_f"), ("V_d", N_f, "N_f")

    def initial_state(self, cue: Float[ArrayLike, " Nf"]) -> tuple[Array, Array]:
        """Cue ``V_f = cue`` (``U = cue / S``) with ``V_d = 0``."""
        cue = jnp.asarray(cue, self.xi.dtype)
        return cue * jnp.exp(-self.log_scale), jnp.zeros_like(cue)

    def fixed_point(
        self, U0: Array, V_d: Array, *, rtol: float = 1e-6, atol: float = 1e-9, max_steps: int = 256
    ) -> Array:
        """The fixed point of the instantaneous energy reached from ``U0`` with ``V_d`` frozen
        (appendix B.2).

        B.2 follows the energy gradient until nothing moves; here the end point is found as the
        fixed point of ``U ↦ Ξ σ_h(h̃(U))`` — the stationarity condition of the flow, which
        descends ``E`` with the metric ``H(L_f)`` — with optimistix's fixed-point iteration.
        (Minimising ``E`` in ``U`` with a generic optimiser stalls: ``E`` is flat wherever
        ``tanh`` saturates.) Returns ``U*`` (not converged within ``max_steps``: the last
        iterate).
        """
        fn = lambda U, args: _spow(self.hidden(U, V_d), self.degree, self.integer_degree) @ self.xi  # noqa: E731
        sol = optx.fixed_point(
            fn,
            optx.FixedPointIteration(rtol=rtol, atol=atol),
            U0,
            max_steps=max_steps,
            throw=False,
        )
        return sol.value


class SoftmaxGSEMM(AbstractContinuousMemory):
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
        self.xi, self.phi = _params(xi, phi)
        self.alpha_s = positive(alpha_s, "alpha_s")
        self.alpha_c = nonnegative(alpha_c, "alpha_c")
        self.T_f = positive(T_f, "T_f")
        self.T_d = positive(T_d, "T_d")
        self.beta_d = positive(beta_d, "beta_d")

    PARAMS: ClassVar[tuple[str, ...]] = ("alpha_s", "alpha_c", "T_f", "T_d", "beta_d")
    """The constructor's keyword parameters (what :meth:`from_params` picks from a mapping)."""

    @classmethod
    def from_params(
        cls, xi: Float[ArrayLike, "Nh Nf"], phi: Float[ArrayLike, "Nh Nh"] | None, params: Mapping
    ) -> SoftmaxGSEMM:
        """As :meth:`DenseGSEMM.from_params`: the parameters of :data:`PARAMS` found in
        ``params`` (missing ones take their defaults, other keys are ignored)."""
        return cls(xi, phi, **{k: params[k] for k in cls.PARAMS if k in params})

    @property
    def n_features(self) -> int:
        """``N_f``."""
        return self.xi.shape[1]

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

    def fixed_point(
        self, V0: Array, V_d: Array, *, rtol: float = 1e-6, atol: float = 1e-9, max_steps: int = 256
    ) -> Array:
        """The fixed point ``V* = √α_s Ξ softmax(h(V*, V_d))`` of the instantaneous energy
        reached from ``V0`` with ``V_d`` frozen (as :meth:`DenseGSEMM.fixed_point`)."""

        def fn(V: Array, args: None) -> Array:
            return jnp.sqrt(self.alpha_s) * (jax.nn.softmax(self.hidden(V, V_d)) @ self.xi)

        sol = optx.fixed_point(
            fn, optx.FixedPointIteration(rtol=rtol, atol=atol), V0, max_steps=max_steps, throw=False
        )
        return sol.value


# ----------------------------------------------------------------------------- episodes


def run_episode(
    model: DenseGSEMM | GSEMM | SoftmaxGSEMM,
    cue: Float[ArrayLike, " Nf"],
    *,
    t1: float,
    dt: float = 0.01,
    save_every: float = 1.0,
    threshold: float = 0.8,
    repeats: int = 3,
    start: int | Array | None = 0,
    max_len: int | None = None,
) -> Episode:
    """Integrate ``model`` from ``cue`` and judge the episode it retrieves.

    RK4 at the constant step ``dt`` (:func:`hopjax.solve.rk4_scan`, the paper's integrator) for
    ``ceil(t1 / save_every)`` saves of ``round(save_every / dt)`` steps each, keeping only the
    leading memory and its overlap at every save; then the retrieved sequence is decoded (leader
    above ``threshold``, recorded on change) and judged by appendix C's criterion against the
    model's episode matrix (in order ≥ ``repeats`` times, no error, starting at memory
    ``start``; :func:`hopjax.measure.judge_episode`). ``t1``, ``dt``, ``save_every`` and
    ``max_len`` (default: one entry per save) are static. The returned :class:`Episode` carries
    the leader trace and whether the final state stayed finite. Pure JAX: ``vmap`` over models
    and cues runs a whole ensemble.
    """
    n_save = math.ceil(t1 / save_every)
    per = round(save_every / dt)

    def save(t: Array, y: Any, args: Any) -> tuple[Array, Array]:
        return leader(model.overlaps(y[0]))

    y_end, (lead, top) = rk4_scan(
        model.vector_field,
        model.initial_state(cue),
        dt=dt,
        n_save=n_save,
        steps_per_save=per,
        save_fn=save,
    )
    ep = judge_episode(
        lead,
        top,
        successor(model.phi),
        threshold=threshold,
        repeats=repeats,
        start=start,
        max_len=n_save if max_len is None else max_len,
    )
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(y_end)]))
    return dataclasses.replace(ep, finite=finite)


class Verdict(eqx.Module):
    """What :func:`decide_episode` returns: ``success``, ``correct_steps`` and ``n_retrieved``
    at the decision, the time ``decided_at`` (``t1`` when the horizon decided), ``finite`` (the
    state stayed finite) and ``rk4_steps`` (steps integrated: the work done)."""

    success: Array
    correct_steps: Array
    n_retrieved: Array
    decided_at: Array
    finite: Array
    rk4_steps: Array


class EpisodeRun(eqx.Module):
    """An episode being judged online (:class:`EpisodeJudge`): the state ``y``, the saves
    integrated ``k`` and the judgement so far ``state``."""

    y: Any
    k: Array
    state: EpisodeState


class EpisodeJudge(eqx.Module):
    """Appendix C's verdict (the first ``repeats`` passes in order, no error) judged while the
    episode is integrated, so integration stops once the verdict is known.

    ``start(model, cue)`` → :class:`EpisodeRun`; ``advance(model, run)`` integrates one block of
    ``block`` saves (RK4 at ``dt``, ``round(save_every / dt)`` steps per save) and updates the
    judgement at every save (:func:`hopjax.measure.episode_update`): a wrong record decides
    failure, ``repeats · L`` correct steps decide success, and — the one rule of its own — no
    record for ``stall_time`` decides failure (a run stalled in a mixed state); ``t1`` decides
    what is left open. ``decided(run)`` says whether the verdict is known; ``verdict(model,
    run)`` reads it. The judgement is frozen once decided, so integrating further changes
    nothing: a block-wise run (:func:`decide_episode`, a sweep's pool of slots) gives the
    verdict of the full-horizon run. All fields are static (they fix the program).
    """

    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True, default=0.01)
    save_every: float = eqx.field(static=True, default=1.0)
    threshold: float = eqx.field(static=True, default=0.8)
    repeats: int = eqx.field(static=True, default=3)
    start_memory: int | None = eqx.field(static=True, default=0)
    stall_time: float = eqx.field(static=True, default=float("inf"))
    block: int = eqx.field(static=True, default=10)

    def __check_init__(self) -> None:
        if not self.t1 > 0 or not self.dt > 0 or not self.save_every >= self.dt:
            raise ValueError(
                f"need t1 > 0 and save_every >= dt > 0; got t1={self.t1}, dt={self.dt}, "
                f"save_every={self.save_every}."
            )
        if self.repeats < 1 or self.block < 1:
            raise ValueError(f"repeats and block must be >= 1; got {self.repeats}, {self.block}.")
        if not self.stall_time > 0:
            raise ValueError(f"stall_time must be > 0; got {self.stall_time}.")

    @property
    def n_save(self) -> int:
        """Saves up to the horizon: ``ceil(t1 / save_every)``."""
        return math.ceil(self.t1 / self.save_every)

    @property
    def per_save(self) -> int:
        """RK4 steps per save: ``round(save_every / dt)``."""
        return round(self.save_every / self.dt)

    def start(self, model: DenseGSEMM | GSEMM, cue: Float[ArrayLike, " Nf"]) -> EpisodeRun:
        """The run at ``t = 0`` from ``cue``."""
        y = model.initial_state(cue)
        return EpisodeRun(y, jnp.asarray(0, jnp.int32), EpisodeState.initial(model.xi.dtype))

    def advance(self, model: DenseGSEMM | GSEMM, run: EpisodeRun) -> EpisodeRun:
        """``block`` more saves (nothing changes past ``t1`` or once decided)."""
        per, n_save = self.per_save, self.n_save
        succ = successor(model.phi)
        need = self.repeats * cycle_lengths(succ)
        dt = jnp.asarray(self.dt, model.xi.dtype)

        def save_step(run: EpisodeRun, _: None) -> tuple[EpisodeRun, None]:
            t0 = run.k * per * dt
            y = jax.lax.fori_loop(
                0, per, lambda i, y: rk4_step(model.vector_field, t0 + i * dt, y, dt), run.y
            )
            lead, top = leader(model.overlaps(y[0]))
            new = episode_update(
                run.state,
                (run.k + 1) * per * dt,
                lead,
                top,
                succ,
                need,
                threshold=self.threshold,
                start=self.start_memory,
                stall_time=self.stall_time,
            )
            state = jax.tree.map(lambda a, b: jnp.where(run.k < n_save, a, b), new, run.state)
            return EpisodeRun(y, run.k + 1, state), None

        return jax.lax.scan(save_step, run, None, length=self.block)[0]

    def decided(self, run: EpisodeRun) -> Array:
        """The verdict is known (or the horizon is reached)."""
        return run.state.decided | (run.k >= self.n_save)

    def verdict(self, model: DenseGSEMM | GSEMM, run: EpisodeRun) -> Verdict:
        """The :class:`Verdict` of ``run`` (``decided_at = t1`` when the horizon decided)."""
        leaves = jax.tree.leaves(run.y)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in leaves]))
        t_end = jnp.asarray(self.n_save * self.per_save * self.dt, model.xi.dtype)
        return Verdict(
            success=run.state.success,
            correct_steps=run.state.correct,
            n_retrieved=run.state.count,
            decided_at=jnp.where(run.state.decided, run.state.t_decided, t_end),
            finite=finite,
            rk4_steps=run.k * self.per_save,
        )


def decide_episode(
    model: DenseGSEMM | GSEMM,
    cue: Float[ArrayLike, " Nf"],
    *,
    t1: float,
    dt: float = 0.01,
    save_every: float = 1.0,
    threshold: float = 0.8,
    repeats: int = 3,
    start: int | None = 0,
    stall_time: float = float("inf"),
    block: int = 10,
    early: bool = True,
) -> Verdict:
    """Integrate ``model`` from ``cue`` only as long as the episode's verdict is open.

    :class:`EpisodeJudge` in a ``lax.while_loop``: blocks of ``block`` saves until the verdict
    is known (``early``) or ``t1``; under ``vmap`` the loop runs until every member is decided.
    With ``early=False`` the integration runs to ``t1`` and gives the same verdict (the
    judgement is frozen once decided).
    """
    judge = EpisodeJudge(t1, dt, save_every, threshold, repeats, start, stall_time, block)
    horizon = lambda run: run.k < judge.n_save  # noqa: E731
    cond = (lambda run: ~judge.decided(run)) if early else horizon
    run = jax.lax.while_loop(cond, lambda run: judge.advance(model, run), judge.start(model, cue))
    return judge.verdict(model, run)
