"""Dense associative memories, modern Hopfield networks, Minerva2 and universal Hopfield networks
(Krotov & Hopfield 2016, arXiv:1606.01164; Demircigil et al. 2017, doi:10.1007/s10955-017-1806-y;
Ramsauer et al. 2021, arXiv:2008.02217; Hintzman 1984; Millidge et al. 2022, arXiv:2202.04557).

* :class:`DenseAM` — binary states, energy ``E(σ) = −Σ_μ F(ξ^μ · σ)`` with
  ``F_n(x) = xⁿ/n`` (``separation="polynomial"``), its rectified form ``max(x, 0)ⁿ/n``
  (Krotov & Hopfield 2016) or ``F(x) = exp(β x)`` (Demircigil et al. 2017). The **exact** update
  (Krotov & Hopfield 2016 eq. 3) sets ``σ_i`` to whichever of ``±1`` has the lower energy:
  ``σ_i ← sgn Σ_μ [F(ξ^μ_i + a^μ_i) − F(−ξ^μ_i + a^μ_i)]``, ``a^μ_i = Σ_{j≠i} ξ^μ_j σ_j``; the
  **gradient** update is ``σ_i ← sgn Σ_μ ξ^μ_i F'(ξ^μ · σ)``.
* :class:`ModernHopfield` — continuous states, ``ξ_new = Xᵀ softmax(β X ξ)`` with its energy
  ``E = −lse(β, Xξ) + ½ ξᵀξ + β⁻¹ log P + ½ M²`` (Ramsauer et al. 2021).
* :class:`Minerva2` — Hintzman (1984): similarity ``S_i = Σ_j p_j T_ij / N_i`` (``N_i`` features
  non-zero in probe or trace), activation ``A_i = S_i³``, echo intensity ``Σ_i A_i`` and content
  ``Σ_i A_i T_i`` (iterated as ``sgn(content)``).
* :class:`UniversalHopfield` — Millidge et al. (2022):
  ``f(q) = Cᵀ sep(sim(A, q))``. Instances (tested to coincide):

  ============================  ==========  =================  ===========================
  network                       similarity  separation         equal to
  ============================  ==========  =================  ===========================
  classical Hopfield (sgn)      dot         identity           Hebbian ``W``, diagonal kept
  dense AM, ``F_n`` (sgn)       dot         polynomial n − 1   ``DenseAM(update="gradient")``
  modern Hopfield               dot         softmax β          ``ModernHopfield.step``
  Minerva2 (sgn, ±1 traces)     cosine      polynomial 3       ``Minerva2.step``
  ============================  ==========  =================  ===========================

Everything is float32-stable: polynomial overlaps are normalised by ``N`` (a positive factor
that leaves every ``sgn`` unchanged) and exponential ones are shifted by their maximum
(log-sum-exp), so nothing overflows at ``N = 1000``, ``P = 10⁵``. Ties keep the previous value.
"""

from __future__ import annotations

import math
import typing
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from hopjax._checks import (
    check_bipolar,
    float_array,
    nonnegative,
    positive,
    positive_int,
    same_length,
)
from hopjax.classical import AbstractBinaryMemory
from hopjax.normalizers import Normalizer, get_normalizer
from hopjax.patterns import sign_keep

__all__ = ["DenseAM", "Minerva2", "ModernHopfield", "UniversalHopfield", "polynomial_capacity"]

Separation = Literal["polynomial", "rectified", "exponential"]


def _bipolar_patterns(xi: Array) -> Array:
    return check_bipolar(float_array(xi, "xi", ndim=2), "xi")


def polynomial_capacity(N: int, d: int) -> float:
    """The capacity scale ``N^d / (2 (2d − 1)!! ln N)`` of a dense memory whose update weighs
    each pattern by the ``d``-th power of its overlap: ``d = n − 1`` for the dense associative
    memory with ``F_n = xⁿ/n`` (Krotov & Hopfield 2016; ``d = 1`` is Hebbian's ``N / (2 ln N)``)
    and ``d`` for the dense sequence network ``F(x) = x^d`` (Chaudhry et al. 2023)."""
    double_fact = math.prod(range(2 * d - 1, 0, -2))
    return N**d / (2 * double_fact * math.log(N))


class DenseAM(AbstractBinaryMemory):
    """Binary dense associative memory (described in :mod:`hopjax.dense`). ``xi``: ``(P, N)``
    bipolar patterns.

    ``step`` (synchronous) and ``async_sweep`` (one unit at a time, random order) share the
    interface of :class:`hopjax.classical.Hopfield`, so :func:`hopjax.classical.run` iterates
    either to an attractor. With the exact update the asynchronous dynamics never increase
    :meth:`energy`. ``n = 2`` (polynomial) is the classical Hebbian network with zero diagonal.

    Attributes:
        xi: stored patterns ``(P, N)``, entries ``±1``.
        separation: ``"polynomial"`` (``F(x) = xⁿ``, Krotov & Hopfield 2016) or ``"exponential"``
            (``F(x) = exp(β x)``, Demircigil et al. 2017).
        degree: ``n`` of the polynomial separation.
        beta: inverse temperature of the exponential separation.
        update: ``"exact"`` (energy difference of the two states of a unit) or ``"gradient"``.
        num_patterns: store only the first ``num_patterns`` rows (may be traced).

    Example:
        ```python
        am = hj.DenseAM(xi, separation="polynomial", degree=3)
        res = hj.run(am, cue, max_steps=10)
        ```
    """

    xi: Float[Array, "P N"]
    separation: Separation = eqx.field(static=True, default="polynomial")
    degree: int = eqx.field(static=True, default=3)
    beta: float | Array = 1.0
    update: Literal["exact", "gradient"] = eqx.field(static=True, default="exact")
    num_patterns: int | Array | None = None
    """Only ``ξ^0 … ξ^{num_patterns−1}`` are stored (``None``: all ``P``); may be traced, so a
    capacity sweep vmaps over the load in one compiled program."""

    def __check_init__(self) -> None:
        _bipolar_patterns(self.xi)
        if self.num_patterns is not None and not isinstance(self.num_patterns, jax.core.Tracer):
            if not 1 <= int(self.num_patterns) <= self.xi.shape[0]:
                raise ValueError(
                    f"num_patterns must lie in [1, P = {self.xi.shape[0]}]; "
                    f"got {int(self.num_patterns)}."
                )
        if self.separation not in ("polynomial", "rectified", "exponential"):
            raise ValueError(
                "separation must be 'polynomial', 'rectified' or 'exponential'; "
                f"got {self.separation!r}."
            )
        if self.update not in ("exact", "gradient"):
            raise ValueError(f"update must be 'exact' or 'gradient'; got {self.update!r}.")
        positive_int(self.degree, "degree", minimum=1)
        nonnegative(self.beta, "beta", strict=True)

    @property
    def n(self) -> int:
        return self.xi.shape[1]

    def _stored(self) -> Array:
        """``(P,)`` mask of the stored patterns (all ones without ``num_patterns``)."""
        P = self.xi.shape[0]
        if self.num_patterns is None:
            return jnp.ones((P,), self.xi.dtype)
        return (jnp.arange(P) < self.num_patterns).astype(self.xi.dtype)

    def _shift(self, x: Array) -> Array | float:
        """Log-sum-exp shift of the exponential case (max over stored patterns, + 1)."""
        if self.separation != "exponential":
            return 0.0
        masked = jnp.where(self._stored() > 0, x, -jnp.inf)
        return jax.lax.stop_gradient(jnp.max(masked) + 1.0)

    # F on overlaps, up to a positive factor (per call) that leaves signs unchanged
    def _sep(self, x: Array, shift: Array | float = 0.0) -> Array:
        if self.separation == "exponential":
            return jnp.exp(self.beta * (x - shift))
        u = x / self.n
        if self.separation == "rectified":
            u = jnp.maximum(u, 0.0)
        return u**self.degree / self.degree

    def _dsep(self, x: Array, shift: Array | float = 0.0) -> Array:
        if self.separation == "exponential":
            return jnp.exp(self.beta * (x - shift))
        u = x / self.n
        if self.separation == "rectified":
            u = jnp.maximum(u, 0.0)
        return u ** (self.degree - 1)

    def energy(self, s: Float[Array, " N"]) -> Float[Array, ""]:
        """``−Σ_μ F_n(ξ^μ · σ)`` (polynomial / rectified; raw overlaps, so keep ``N^n`` in
        float32 range); for ``exponential`` the monotone transform ``−β⁻¹ log Σ_μ exp(β ξ^μ·σ)``
        of ``E = −Σ exp(β ξ^μ·σ)`` (same minima and descent, never overflows)."""
        x, w = self.xi @ s, self._stored()
        if self.separation == "exponential":
            return -jax.nn.logsumexp(self.beta * x, b=w) / self.beta
        u = jnp.maximum(x, 0.0) if self.separation == "rectified" else x
        return -jnp.sum(w * u**self.degree) / self.degree

    def field(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """The quantity whose sign is the update, for every unit at once, in ``O(N P)``.

        Exact: ``h_i = Σ_μ F(a^μ_i + ξ^μ_i) − F(a^μ_i − ξ^μ_i)`` with ``a^μ_i = x_μ − ξ^μ_i σ_i``.
        As ``ξ^μ_i, σ_i ∈ {±1}``, each term is one of four vectors over ``μ``
        (``d_{ξ,σ}(x) = F(x − ξσ + ξ) − F(x − ξσ − ξ)``), so ``h`` is two products with ``Ξᵀ``
        and a select on ``σ_i`` — no ``(N, P)`` intermediate.
        """
        x, w = self.xi @ s, self._stored()
        shift = self._shift(x)
        if self.update == "gradient":
            return jnp.where(w > 0, self._dsep(x, shift), 0.0) @ self.xi

        def d(xv: float, sv: float) -> Array:  # unstored rows → 0 (where: no inf·0)
            a = x - xv * sv
            return jnp.where(w > 0, self._sep(a + xv, shift) - self._sep(a - xv, shift), 0.0)

        cols = []
        for sv in (1.0, -1.0):
            dp, dm = d(1.0, sv), d(-1.0, sv)  # patterns with ξ_i = +1 / −1
            cols.append(0.5 * jnp.sum(dp + dm) + 0.5 * ((dp - dm) @ self.xi))
        return jnp.where(s > 0, cols[0], cols[1])

    def unit_field(self, x: Float[Array, " P"], s_i: Array, i: Int[Array, ""] | int) -> Array:
        """``h_i`` from the overlaps ``x = Ξ σ`` in ``O(P)`` (see :meth:`field`)."""
        col, w, shift = self.xi[:, i], self._stored(), self._shift(x)
        if self.update == "gradient":
            return jnp.where(w > 0, self._dsep(x, shift), 0.0) @ col
        a = x - col * s_i
        return jnp.sum(jnp.where(w > 0, self._sep(a + col, shift) - self._sep(a - col, shift), 0))

    def async_sweep(self, s: Float[Array, " N"], key: PRNGKeyArray) -> Float[Array, " N"]:
        """Every unit once, one at a time, in a random order from ``key``; the overlaps
        ``x = Ξσ`` are updated after each change (``O(P)`` per unit)."""
        order = jax.random.permutation(key, self.n)

        def body(k: Int[Array, ""], carry: tuple[Array, Array]) -> tuple[Array, Array]:
            s, x = carry
            i = order[k]
            new = sign_keep(self.unit_field(x, s[i], i), s[i])
            return s.at[i].set(new), x + self.xi[:, i] * (new - s[i])

        s, _ = jax.lax.fori_loop(0, self.n, body, (s, self.xi @ s))
        return s

    def energy_gap(self, s: Float[Array, " N"]) -> Float[Array, " N"]:
        """``ΔE_i = E(σ_i = −1) − E(σ_i = +1)`` for every unit (:meth:`unit_energy_gap` from the
        overlaps ``x = Ξσ``, ``O(N P)`` in all)."""
        x = self.xi @ s
        return jax.vmap(lambda i: self.unit_energy_gap(x, s[i], i))(jnp.arange(self.n))

    def unit_energy_gap(self, x: Float[Array, " P"], s_i: Array, i: Int[Array, ""] | int) -> Array:
        """``E(σ_i = −1) − E(σ_i = +1)`` from the overlaps ``x = Ξσ``, in the units of
        :meth:`energy` (raw overlaps; for ``exponential`` its log-sum-exp form), in ``O(P)``."""
        col, w = self.xi[:, i], self._stored()
        a = x - col * s_i
        if self.separation == "exponential":
            lse = lambda v: jax.nn.logsumexp(self.beta * v, b=w)  # noqa: E731
            return (lse(a + col) - lse(a - col)) / self.beta
        f = (lambda v: jnp.maximum(v, 0.0)) if self.separation == "rectified" else (lambda v: v)
        return jnp.sum(w * (f(a + col) ** self.degree - f(a - col) ** self.degree)) / self.degree

    def glauber_sweep(
        self, s: Float[Array, " N"], key: PRNGKeyArray, temperature: Float[ArrayLike, ""]
    ) -> Float[Array, " N"]:
        """One asynchronous Glauber sweep at temperature ``T``: every unit once in a random
        order, ``σ_i ← +1`` with probability ``1 / (1 + exp(−ΔE_i / T))``,
        ``ΔE_i = E(σ_i = −1) − E(σ_i = +1)`` (:meth:`unit_energy_gap`: ``T`` is in the units of
        :meth:`energy`). Samples ``∝ exp(−E/T)``; ``T → 0`` is :meth:`async_sweep`."""
        t = positive(temperature, "temperature")
        k_order, k_u = jax.random.split(key)
        order = jax.random.permutation(k_order, self.n)
        u = jax.random.uniform(k_u, (self.n,))

        def body(k: Int[Array, ""], carry: tuple[Array, Array]) -> tuple[Array, Array]:
            s, x = carry
            i = order[k]
            p_up = jax.nn.sigmoid(self.unit_energy_gap(x, s[i], i) / t)
            new = jnp.where(u[k] < p_up, 1.0, -1.0).astype(s.dtype)
            return s.at[i].set(new), x + self.xi[:, i] * (new - s[i])

        s, _ = jax.lax.fori_loop(0, self.n, body, (s, self.xi @ s))
        return s


class ModernHopfield(eqx.Module):
    """``ξ_new = Xᵀ ŷ(β X ξ)`` with a normaliser ``ŷ``: ``softmax`` (Ramsauer et al. 2021), or a
    sparse one — ``sparsemax`` (Hu et al. 2023), ``entmax``, ``normmax`` (Santos et al. 2024);
    see :mod:`hopjax.normalizers`. ``xi``: ``(P, d)`` stored rows.

    The energy is the Hopfield–Fenchel–Young one, ``E(q) = −β⁻¹ Ω*(β X q) + ½ qᵀq`` (plus a
    constant making it ``≥ 0``), with ``Ω*`` the normaliser's conjugate (``logsumexp`` for
    softmax); :meth:`step` is its concave–convex update, so the energy never increases along
    :meth:`retrieve`. A sparse normaliser retrieves pattern ``μ`` exactly in one step from a
    query whose score leads every other one by the normaliser's margin.

    Attributes:
        xi: stored patterns ``(P, d)`` (rows), real-valued.
        beta: inverse temperature ``β``.
        normalizer: ``"softmax"``, ``"sparsemax"``, ``"entmax"`` (α = 1.5), ``"entmax15"``,
            ``"normmax"`` (γ = 2), or a :class:`hopjax.normalizers.Normalizer`.

    Example:
        ```python
        mh = hj.ModernHopfield(xi, beta=8.0)
        q, steps = mh.retrieve(query)  # iterate to the fixed point; the energy decreases
        sparse = hj.ModernHopfield(xi, beta=8.0, normalizer="sparsemax")
        ```
    """

    xi: Float[Array, "P d"]
    beta: float | Array = 1.0
    normalizer: Normalizer = eqx.field(static=True, default=Normalizer(), converter=get_normalizer)

    def __check_init__(self) -> None:
        float_array(self.xi, "xi", ndim=2)
        nonnegative(self.beta, "beta", strict=True)

    def attention(self, q: Float[Array, " d"]) -> Float[Array, " P"]:
        """``ŷ(β X q)``: the weight of every stored pattern."""
        same_length(self.xi.shape[1], q, "q", "d")
        return self.normalizer(self.beta * (self.xi @ q))

    def step(self, q: Float[Array, " d"]) -> Float[Array, " d"]:
        """One update ``Xᵀ ŷ(β X q)``."""
        return self.attention(q) @ self.xi

    def energy(self, q: Float[Array, " d"]) -> Float[Array, ""]:
        """``−β⁻¹ Ω*(β X q) + ½ qᵀq + β⁻¹ min_Δ Ω + ½ M²``, ``M = max_μ ‖x_μ‖`` — for softmax
        ``−β⁻¹ log Σ_μ exp(β x_μ·q) + ½ qᵀq + β⁻¹ log P + ½ M²``."""
        P = self.xi.shape[0]
        M = jnp.max(jnp.linalg.norm(self.xi, axis=1))
        norm = self.normalizer
        if norm.name == "softmax":  # written out: the form of Ramsauer et al. (2021)
            lse = jax.nn.logsumexp(self.beta * (self.xi @ q)) / self.beta
            return -lse + 0.5 * q @ q + jnp.log(P) / self.beta + 0.5 * M**2
        low = norm.penalty(jnp.full((P,), 1.0 / P, self.xi.dtype))  # Ω's minimum: uniform p
        conj = norm.conjugate(self.beta * (self.xi @ q)) / self.beta
        return -conj + 0.5 * q @ q - low / self.beta + 0.5 * M**2

    def retrieve(
        self, q: Float[Array, " d"], *, max_steps: int = 100, tol: float = 1e-6
    ) -> tuple[Float[Array, " d"], Int[Array, ""]]:
        """Iterate :meth:`step` to its fixed point — until an update moves no coordinate by
        ``tol`` or more, or ``max_steps`` — and return ``(q, steps)``; the energy decreases along
        the way. optimistix's fixed-point iteration (so the result is differentiable by the
        implicit-function theorem, not through the iterations); not converging within
        ``max_steps`` returns the last iterate."""
        max_steps = positive_int(max_steps, "max_steps")
        solver = optx.FixedPointIteration(rtol=0.0, atol=tol, norm=optx.max_norm)
        sol = optx.fixed_point(
            lambda y, args: self.step(y), solver, q, max_steps=max_steps, throw=False
        )
        return sol.value, sol.stats["num_steps"]

    def separation(self) -> Float[Array, " P"]:
        """``Δ_μ = x_μ·x_μ − max_{ν≠μ} x_μ·x_ν``; pattern ``μ`` is retrieved in one step from
        near itself when ``Δ_μ ≳ 2 β⁻¹ log(2 P β M²)`` (Ramsauer et al. Thm 3); small ``Δ``
        relative to ``1/β`` gives metastable states averaging several patterns."""
        G = self.xi @ self.xi.T
        off = jnp.where(jnp.eye(G.shape[0], dtype=bool), -jnp.inf, G)
        return jnp.diag(G) - jnp.max(off, axis=1)

    def is_metastable(self, q: Float[Array, " d"], threshold: float = 0.5) -> Array:
        """True when no single pattern holds at least ``threshold`` of the attention."""
        return jnp.max(self.attention(q)) < threshold


class Minerva2(eqx.Module):
    """Hintzman's (1984) Minerva2 (described in :mod:`hopjax.dense`); ``traces``: ``(P, N)`` in
    ``{−1, 0, 1}``.

    Attributes:
        traces: memory traces ``(P, N)``, entries ``−1``, ``0`` or ``1``.
    """

    traces: Float[Array, "P N"]

    def __check_init__(self) -> None:
        check_bipolar(float_array(self.traces, "traces", ndim=2), "traces", allow_zero=True)

    def similarity(self, probe: Float[Array, " N"]) -> Float[Array, " P"]:
        """``S_i = Σ_j p_j T_ij / N_i``, ``N_i = #{j: p_j ≠ 0 or T_ij ≠ 0}``."""
        same_length(self.traces.shape[1], probe, "probe")
        relevant = jnp.sum((self.traces != 0) | (probe != 0)[None, :], axis=1)
        return (self.traces @ probe) / jnp.maximum(relevant, 1)

    def echo(self, probe: Float[Array, " N"]) -> tuple[Float[Array, ""], Float[Array, " N"]]:
        """``(intensity Σ_i A_i, content Σ_i A_i T_i)`` with activations ``A_i = S_i³``."""
        A = self.similarity(probe) ** 3
        return jnp.sum(A), A @ self.traces

    def step(self, s: Float[Array, " N"], key: PRNGKeyArray | None = None) -> Float[Array, " N"]:
        """``σ ← sgn(content)`` (Minerva2 iterated; ties kept)."""
        del key
        return sign_keep(self.echo(s)[1], s)


SimilarityName = Literal["dot", "euclidean", "manhattan", "cosine"]
SeparationName = Literal[
    "identity", "polynomial", "softmax", "sparsemax", "entmax", "normmax", "max", "topk"
]


class UniversalHopfield(eqx.Module):
    """``f(q) = Cᵀ sep(sim(A, q))`` (described in :mod:`hopjax.dense`). ``memory``
    ``A``: ``(P, N)``;
    ``projection`` ``C``: ``(P, M)`` (``None``: ``A``, auto-associative).

    Similarities: ``dot`` ``A q``, ``euclidean`` ``−‖A_μ − q‖``, ``manhattan`` ``−‖A_μ − q‖₁``,
    ``cosine``. Separations: ``identity``, ``polynomial`` ``xᵏ`` (``k = degree``), ``softmax``
    ``softmax(β x)``, the sparse normalisers ``sparsemax``, ``entmax`` (α = 1.5) and ``normmax``
    (γ = 2) of ``β x`` (:mod:`hopjax.normalizers`), ``max`` (one-hot of the largest), ``topk``
    (``k``-hot indicator of the ``k`` largest, ``k = degree``; ``max`` is ``k = 1``).

    Attributes:
        memory: ``A``, the memories ``(P, N)`` compared with the query.
        projection: ``C``, what each memory returns ``(P, M)`` (``None``: ``A``).
        similarity: ``"dot"``, ``"euclidean"``, ``"manhattan"`` or ``"cosine"``.
        separation: ``"identity"``, ``"polynomial"``, ``"softmax"``, ``"sparsemax"``,
            ``"entmax"``, ``"normmax"``, ``"max"`` or ``"topk"``.
        beta: inverse temperature of ``softmax`` and the sparse normalisers.
        degree: ``k`` of ``polynomial`` and ``topk``.
    """

    memory: Float[Array, "P N"]
    projection: Float[Array, "P M"] | None = None
    similarity: SimilarityName = eqx.field(static=True, default="dot")
    separation: SeparationName = eqx.field(static=True, default="softmax")
    beta: float | Array = 1.0
    degree: int = eqx.field(static=True, default=2)

    def __check_init__(self) -> None:
        float_array(self.memory, "memory", ndim=2)
        if self.projection is not None:
            proj = float_array(self.projection, "projection", ndim=2)
            if proj.shape[0] != self.memory.shape[0]:
                raise ValueError(
                    f"projection must have P = {self.memory.shape[0]} rows like memory; "
                    f"got shape {tuple(proj.shape)}."
                )
        if self.similarity not in ("dot", "euclidean", "manhattan", "cosine"):
            raise ValueError(f"unknown similarity {self.similarity!r}.")
        if self.separation not in typing.get_args(SeparationName):
            raise ValueError(f"unknown separation {self.separation!r}.")
        positive_int(self.degree, "degree")

    def sim(self, q: Float[Array, " N"]) -> Float[Array, " P"]:
        same_length(self.memory.shape[1], q, "q")
        A = self.memory
        if self.similarity == "dot":
            return A @ q
        if self.similarity == "cosine":
            norms = jnp.linalg.norm(A, axis=1) * jnp.linalg.norm(q)
            return (A @ q) / jnp.maximum(norms, jnp.finfo(A.dtype).tiny)
        if self.similarity == "euclidean":
            return -jnp.sqrt(jnp.maximum(jnp.sum((A - q) ** 2, axis=1), 0.0))
        return -jnp.sum(jnp.abs(A - q), axis=1)

    def sep(self, x: Float[Array, " P"]) -> Float[Array, " P"]:
        if self.separation == "identity":
            return x
        if self.separation == "polynomial":
            return x**self.degree
        if self.separation in ("softmax", "sparsemax", "entmax", "normmax"):
            return get_normalizer(self.separation)(self.beta * x)
        if self.separation == "max":
            return jax.nn.one_hot(jnp.argmax(x), x.shape[0], dtype=x.dtype)
        k = min(self.degree, x.shape[0])
        _, idx = jax.lax.top_k(x, k)
        return jnp.zeros_like(x).at[idx].set(1.0)

    def __call__(self, q: Float[Array, " N"]) -> Float[Array, " M"]:
        C = self.memory if self.projection is None else self.projection
        return self.sep(self.sim(q)) @ C

    def step(self, s: Float[Array, " N"], key: PRNGKeyArray | None = None) -> Float[Array, " N"]:
        """Binary auto-associative update ``σ ← sgn f(σ)`` (ties kept)."""
        del key
        return sign_keep(self(s), s)
