"""Sequence networks: the baselines the prime-ring cycles of :mod:`hopjax.cycles` are compared
with (``docs/notes/cycles.md``).

* :class:`SequenceHebbian` — Amari's asymmetric sequence rule
  ``J_seq = (1/n) Σ_μ ξ^{μ+1} ξ^{μᵀ}`` (indices mod ``P`` when ``cyclic``), optionally with the
  symmetric Hopfield part ``J_sym = (1/n) Σ_μ ξ^μ ξ^{μᵀ}`` and a transmission delay ``τ``
  (Sompolinsky–Kanter 1986):  ``h(t) = a J_sym s(t) + λ J_seq s(t − τ)``;
  ``τ = 0, a = 0`` is the plain synchronous sequence network whose parallel-dynamics sequence
  capacity is ``α_c ≈ 0.269`` (Düring, Coolen & Sherrington 1998).
* :class:`DenseSequence` — the dense sequence network of Chaudhry et al. (2023):
  ``s(t+1) = sgn(Σ_μ ξ^{μ+1} F(ξ^μ · s(t)))`` with ``F(x) = (x/n)^d`` (polynomial) or
  ``F(x) = exp(β x)`` (exponential; evaluated as ``exp(β (x − max_ν x_ν))``, a positive
  rescaling that leaves the sign unchanged and never overflows).
* :func:`gaussian_couplings` — random Gaussian couplings with tunable symmetry
  (Bastolla–Parisi / Crisanti–Sompolinsky), zero diagonal.

Fields use the patterns directly (``O(P n)`` per step, no ``n × n`` matrix; self-couplings
included, as in the sums above); :meth:`weights` gives the dense matrices. Updates are
synchronous with the tie rule of :mod:`hopjax.classical` (a zero field keeps the previous value).
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from hopjax._checks import check_bipolar, float_array, nonnegative, positive_int, same_length
from hopjax.classical import AbstractBinaryNetwork
from hopjax.patterns import sign_keep

__all__ = [
    "DenseSequence",
    "SequenceHebbian",
    "gaussian_couplings",
    "recall_overlaps",
]


def _patterns(xi: Array) -> Array:
    xi = float_array(xi, "xi", ndim=2)
    if xi.shape[0] < 2:
        raise ValueError(f"xi must hold at least 2 patterns (a sequence); got shape {xi.shape}.")
    return check_bipolar(xi, "xi")


def _successors(xi: Array, cyclic: bool, length: int | Array | None) -> Array:
    """``ξ^{μ+1}`` for every stored ``μ < L`` (``L = length`` or ``P``): the last one maps to
    ``ξ^0`` (``cyclic``) or to nothing; rows ``μ >= L`` are zero (unused patterns)."""
    P = xi.shape[0]
    L = P if length is None else length
    mu = jnp.arange(P)
    nxt = xi[jnp.where(mu == L - 1, 0, (mu + 1) % P)]
    keep = (mu < L) & (cyclic | (mu < L - 1))
    return jnp.where(keep[:, None], nxt, 0.0)


def _length(length: int | Array | None, P: int) -> None:
    if length is not None and not isinstance(length, jax.core.Tracer):
        if not 2 <= int(length) <= P:
            raise ValueError(f"length must lie in [2, P = {P}]; got {int(length)}.")


class SequenceHebbian(AbstractBinaryNetwork):
    """``h(t) = a J_sym s(t) + λ J_seq s(t − τ)`` (described in :mod:`hopjax.sequence`);
    ``s(t+1) = sgn h(t)``.

    Attributes:
        xi: the sequence's patterns ``(P, n)``, entries ``±1``.
        symmetric: weight ``a`` of the symmetric (Hebbian) part.
        lam: weight ``λ`` of the sequence part.
        delay: ``τ``, the delay of the sequence part in steps (0: none).
        cyclic: ``ξ^P → ξ^1`` closes the sequence into a cycle.
        length: store only the first ``length`` patterns (may be traced).
    """

    xi: Float[Array, "P n"]
    symmetric: float | Array = 0.0
    lam: float | Array = 1.0
    delay: int = eqx.field(static=True, default=0)
    cyclic: bool = eqx.field(static=True, default=True)
    length: int | Array | None = None
    """Sequence length ``L``: only ``ξ^0 … ξ^{L−1}`` are stored (``None``: all ``P``); may be
    traced, so capacity sweeps vmap over it in one compiled program."""

    def __check_init__(self) -> None:
        _patterns(self.xi)
        _length(self.length, self.xi.shape[0])
        positive_int(self.delay, "delay", minimum=0)
        nonnegative(self.symmetric, "symmetric")
        nonnegative(self.lam, "lam")

    @property
    def n(self) -> int:
        return self.xi.shape[1]

    def weights(self) -> tuple[Float[Array, "n n"], Float[Array, "n n"]]:
        """Dense ``(J_seq, J_sym)``."""
        n, xi = self.n, self._stored()
        return _successors(self.xi, self.cyclic, self.length).T @ self.xi / n, xi.T @ xi / n

    def _stored(self) -> Array:
        if self.length is None:
            return self.xi
        return jnp.where((jnp.arange(self.xi.shape[0]) < self.length)[:, None], self.xi, 0.0)

    def field(
        self, s: Float[Array, " n"], s_delayed: Float[Array, " n"] | None = None
    ) -> Float[Array, " n"]:
        """``a J_sym s + λ J_seq s_delayed`` through the patterns (``s_delayed = s(t − τ)``;
        default ``s``, the network without delay)."""
        s_delayed = s if s_delayed is None else s_delayed
        n, xi = self.n, self._stored()
        seq = _successors(self.xi, self.cyclic, self.length).T @ (self.xi @ s_delayed) / n
        sym = xi.T @ (xi @ s) / n
        return self.lam * seq + self.symmetric * sym

    def step(self, s: Float[Array, " n"], key: PRNGKeyArray | None = None) -> Float[Array, " n"]:
        """One synchronous update ``s ← sgn h(s)`` of the network without delay; a delayed
        network's update needs its history ``s(t − τ)``: :meth:`run` keeps it (``ValueError``
        here when ``delay > 0``)."""
        if self.delay:
            raise ValueError(
                f"step needs delay = 0 (got {self.delay}): a delayed network's update reads "
                "s(t − delay); use run, which keeps the history."
            )
        return super().step(s, key)

    def run(
        self,
        s0: Float[Array, " n"],
        steps: int,
        *,
        key: PRNGKeyArray | None = None,
        eps: float | Array = 0.0,
    ) -> Float[Array, "steps n"]:
        """``steps`` synchronous updates from ``s0`` (the history before ``t = 0`` is ``s0``);
        with ``key``, every output is then flipped with probability ``eps`` (flip noise)."""
        s0 = _state(s0, self.n)
        hist0 = jnp.broadcast_to(s0, (self.delay + 1, self.n))  # hist[0] = s(t − τ) … s(t)

        def body(hist: Array, k: Array) -> tuple[Array, Array]:
            s = hist[-1]
            new = sign_keep(self.field(s, hist[0]), s)
            new = _noise(k, new, eps, key is not None)
            return jnp.concatenate([hist[1:], new[None]]), new

        (_, traj) = jax.lax.scan(body, hist0, _keys(key, steps))
        return traj


class DenseSequence(AbstractBinaryNetwork):
    """``s(t+1) = sgn(Σ_μ ξ^{μ+1} F(ξ^μ · s(t)))`` (see :mod:`hopjax.sequence`; Chaudhry et al.
    2023).

    Attributes:
        xi: the sequence's patterns ``(P, n)``, entries ``±1``.
        separation: ``"polynomial"`` (``F(x) = (x/n)^d``) or ``"exponential"`` (``exp(β x)``).
        degree: ``d`` of the polynomial separation.
        beta: inverse temperature of the exponential separation.
        cyclic: ``ξ^P → ξ^1`` closes the sequence into a cycle.
        length: store only the first ``length`` patterns (may be traced).
    """

    xi: Float[Array, "P n"]
    separation: Literal["polynomial", "exponential"] = eqx.field(static=True, default="polynomial")
    degree: int = eqx.field(static=True, default=2)
    beta: float | Array = 1.0
    cyclic: bool = eqx.field(static=True, default=True)
    length: int | Array | None = None
    """Sequence length ``L`` (see :class:`SequenceHebbian`)."""

    def __check_init__(self) -> None:
        _patterns(self.xi)
        _length(self.length, self.xi.shape[0])
        if self.separation not in ("polynomial", "exponential"):
            raise ValueError(
                f"separation must be 'polynomial' or 'exponential'; got {self.separation!r}."
            )
        positive_int(self.degree, "degree")
        nonnegative(self.beta, "beta", strict=True)

    @property
    def n(self) -> int:
        return self.xi.shape[1]

    def separation_weights(self, s: Float[Array, " n"]) -> Float[Array, " P"]:
        """``F(ξ^μ · s)`` up to a positive factor (which leaves the update unchanged)."""
        x = self.xi @ s
        if self.separation == "polynomial":
            return (x / self.n) ** self.degree
        z = self.beta * x
        if self.length is not None:  # unused patterns must not set the scale
            z = jnp.where(jnp.arange(self.xi.shape[0]) < self.length, z, -jnp.inf)
        return jnp.exp(z - jax.lax.stop_gradient(jnp.max(z)))

    def field(self, s: Float[Array, " n"]) -> Float[Array, " n"]:
        """``Σ_μ ξ^{μ+1} F(ξ^μ · s)`` (up to the positive factor of :meth:`separation_weights`)."""
        nxt = _successors(self.xi, self.cyclic, self.length)
        return nxt.T @ self.separation_weights(s)

    def run(
        self,
        s0: Float[Array, " n"],
        steps: int,
        *,
        key: PRNGKeyArray | None = None,
        eps: float | Array = 0.0,
    ) -> Float[Array, "steps n"]:
        """``steps`` updates from ``s0``; with ``key``, flip noise of rate ``eps`` after each."""
        s0 = _state(s0, self.n)

        def body(s: Array, k: Array) -> tuple[Array, Array]:
            new = _noise(k, self.step(s), eps, key is not None)
            return new, new

        _, traj = jax.lax.scan(body, s0, _keys(key, steps))
        return traj


def _state(s0: Array, n: int) -> Array:
    s0 = float_array(s0, "s0", ndim=1)
    same_length(n, s0, "s0", "n")
    return check_bipolar(s0, "s0")


def _keys(key: PRNGKeyArray | None, steps: int) -> Array:
    steps = positive_int(steps, "steps")
    if key is None:
        return jnp.zeros((steps, 2), jnp.uint32)  # unused placeholders
    return jax.random.split(key, steps)


def _noise(key: Array, s: Array, eps: float | Array, active: bool) -> Array:
    if not active:
        return s
    return jnp.where(jax.random.bernoulli(key, eps, s.shape), -s, s)


def recall_overlaps(
    model: AbstractBinaryNetwork,
    steps: int,
    *,
    start: int = 0,
    key: PRNGKeyArray | None = None,
    eps: float | Array = 0.0,
) -> Float[Array, " steps"]:
    """Overlap ``m_t = ξ^{start+t} · s(t) / n`` of the *clean* update at every step, started on
    ``ξ^{start}``, under flip noise ``eps`` applied to the outputs before each update (so the
    measured quantity is the network's correction of the noise). Patterns advance one per step
    (``delay = 0``; a delayed model is measured on its own time scale by the caller).
    ``model`` is a :class:`SequenceHebbian`, a :class:`DenseSequence` or any binary network
    with sequence patterns ``xi`` and a ``length``."""
    P = model.xi.shape[0] if model.length is None else model.length
    steps = positive_int(steps, "steps")

    def body(s: Array, inp: tuple[Array, Array]) -> tuple[Array, Array]:
        t, k = inp
        new = model.step(_noise(k, s, eps, key is not None))
        return new, new @ model.xi[(start + t + 1) % P] / model.n

    x0 = model.xi[start % P]
    _, m = jax.lax.scan(body, x0, (jnp.arange(steps), _keys(key, steps)))
    return m


def gaussian_couplings(key: PRNGKeyArray, n: int, *, symmetry: float = 0.0) -> Float[Array, "n n"]:
    """Random couplings ``J = (A + η Aᵀ) / sqrt(n (1 + η²))`` with ``A_ij ~ N(0, 1)``, zero
    diagonal: ``η = 0`` fully asymmetric (Bastolla–Parisi), ``η = 1`` symmetric (only fixed
    points and 2-cycles under synchronous updates), ``η = −1`` antisymmetric."""
    n = positive_int(n, "n")
    if not -1.0 <= symmetry <= 1.0:
        raise ValueError(f"symmetry must lie in [-1, 1]; got {symmetry}.")
    A = jax.random.normal(key, (n, n))
    J = (A + symmetry * A.T) / jnp.sqrt(n * (1.0 + symmetry**2))
    return J * (1.0 - jnp.eye(n))
