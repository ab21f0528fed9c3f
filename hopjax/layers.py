"""Equinox associative-memory layers for JAX models, in the vocabulary of ``hopfield-layers``
(Ramsauer et al. 2021, "Hopfield Networks is All You Need").

:class:`Hopfield` associates *state* patterns ``R`` (queries, ``(L_q, d_state)``) with *stored*
patterns ``Y`` (``(L_k, d_stored)``) and returns their *pattern projections*
(``(L_k, d_pattern)``, default ``Y``)::

    Q = R W_Q,  K = Y W_K,  V = P W_V
    Q ← softmax(β Q Kᵀ) K        (update_steps_max times: the modern Hopfield update in the
                                  association space; 0 = the one-step layer)
    out = softmax(β Q Kᵀ + mask) V W_O

With ``update_steps_max = 0`` this is single-head attention (tested equal to a direct
computation). :class:`HopfieldPooling` learns the state patterns (a learned query: pooling a
set into ``num_queries`` vectors); :class:`HopfieldLayer` learns the stored patterns and their
projections (a lookup into a learned memory). :class:`DenseAMLayer` is a dense associative
memory (polynomial or exponential separation) with learned memories, :class:`ODEMemory` runs the
continuous IDP / GSEMM / Hopfield dynamics with diffrax inside the forward pass. Shapes are per
example: batch with ``jax.vmap``.
Everything is a pure equinox module (pytree of arrays), so ``jit``, ``vmap`` and ``grad`` apply.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

__all__ = ["DenseAMLayer", "Hopfield", "HopfieldLayer", "HopfieldPooling", "ODEMemory"]


def _check_2d(x: Array, name: str, width: int) -> None:
    if x.ndim != 2:
        raise ValueError(
            f"{name} must have shape (length, {width}) per example (batch with jax.vmap); "
            f"got shape {tuple(x.shape)}."
        )
    if x.shape[1] != width:
        raise ValueError(f"{name} must have {width} features (last axis); got {x.shape[1]}.")


class Hopfield(eqx.Module):
    """The Hopfield association layer (module docstring).

    ``scaling`` is β (default ``1/sqrt(hidden_size)``); ``normalize`` applies a layer norm to
    state and stored patterns before their projections (hopfield-layers'
    ``normalize_state_pattern`` / ``normalize_stored_pattern``).
    """

    W_Q: eqx.nn.Linear
    W_K: eqx.nn.Linear
    W_V: eqx.nn.Linear
    W_O: eqx.nn.Linear
    norm_state: eqx.nn.LayerNorm | None
    norm_stored: eqx.nn.LayerNorm | None
    scaling: float = eqx.field(static=True)
    update_steps_max: int = eqx.field(static=True)
    state_size: int = eqx.field(static=True)
    stored_size: int = eqx.field(static=True)
    pattern_size: int = eqx.field(static=True)

    def __init__(
        self,
        state_size: int,
        stored_size: int | None = None,
        pattern_size: int | None = None,
        *,
        hidden_size: int = 32,
        output_size: int | None = None,
        scaling: float | None = None,
        update_steps_max: int = 0,
        normalize: bool = False,
        key: PRNGKeyArray,
    ):
        stored_size = state_size if stored_size is None else stored_size
        pattern_size = stored_size if pattern_size is None else pattern_size
        output_size = state_size if output_size is None else output_size
        for name, v in (
            ("state_size", state_size),
            ("stored_size", stored_size),
            ("pattern_size", pattern_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
        ):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}.")
        if not isinstance(update_steps_max, int) or update_steps_max < 0:
            raise ValueError(f"update_steps_max must be an integer >= 0; got {update_steps_max!r}.")
        if scaling is not None and not scaling > 0:
            raise ValueError(f"scaling must be > 0; got {scaling}.")
        kq, kk, kv, ko = jax.random.split(key, 4)
        self.W_Q = eqx.nn.Linear(state_size, hidden_size, use_bias=False, key=kq)
        self.W_K = eqx.nn.Linear(stored_size, hidden_size, use_bias=False, key=kk)
        self.W_V = eqx.nn.Linear(pattern_size, hidden_size, use_bias=False, key=kv)
        self.W_O = eqx.nn.Linear(hidden_size, output_size, use_bias=False, key=ko)
        self.norm_state = eqx.nn.LayerNorm(state_size) if normalize else None
        self.norm_stored = eqx.nn.LayerNorm(stored_size) if normalize else None
        self.scaling = 1.0 / math.sqrt(hidden_size) if scaling is None else float(scaling)
        self.update_steps_max = update_steps_max
        self.state_size, self.stored_size, self.pattern_size = state_size, stored_size, pattern_size

    def association(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
    ) -> Float[Array, "Lq Lk"]:
        """The final association weights ``softmax(β Q Kᵀ)`` (masked keys get weight 0)."""
        _check_2d(stored, "stored", self.stored_size)
        _check_2d(state, "state", self.state_size)
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.dtype != jnp.bool_:
                raise TypeError(f"mask must be boolean (True = attend); got dtype {mask.dtype}.")
            if mask.shape not in ((stored.shape[0],), (state.shape[0], stored.shape[0])):
                raise ValueError(
                    f"mask must have shape (Lk,) = ({stored.shape[0]},) or (Lq, Lk) = "
                    f"({state.shape[0]}, {stored.shape[0]}); got {tuple(mask.shape)}."
                )
        if self.norm_state is not None:
            state = jax.vmap(self.norm_state)(state)
            stored = jax.vmap(self.norm_stored)(stored)
        Q = jax.vmap(self.W_Q)(state)
        K = jax.vmap(self.W_K)(stored)

        def attend(Q: Array) -> Array:
            logits = self.scaling * Q @ K.T
            if mask is not None:
                logits = jnp.where(mask, logits, -jnp.inf)
            return jax.nn.softmax(logits, axis=-1)

        for _ in range(self.update_steps_max):  # static, small: the iterated Hopfield update
            Q = attend(Q) @ K
        return attend(Q)

    def __call__(
        self,
        stored: Float[Array, "Lk ds"],
        state: Float[Array, "Lq dr"],
        pattern: Float[Array, "Lk dp"] | None = None,
        *,
        mask: Bool[Array, " Lk"] | Bool[Array, "Lq Lk"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "Lq do"]:
        """``softmax(β Q Kᵀ) V W_O`` after ``update_steps_max`` updates of ``Q`` (``key`` is
        unused: deterministic, accepted for ``eqx.nn.Sequential``)."""
        _check_2d(stored, "stored", self.stored_size)
        pattern = stored if pattern is None else pattern
        _check_2d(pattern, "pattern", self.pattern_size)
        if pattern.shape[0] != stored.shape[0]:
            raise ValueError(
                f"pattern must have one row per stored pattern ({stored.shape[0]}); "
                f"got {pattern.shape[0]}."
            )
        A = self.association(stored, state, mask)
        V = jax.vmap(self.W_V)(pattern)
        return jax.vmap(self.W_O)(A @ V)


class HopfieldPooling(eqx.Module):
    """Pool a set ``(L, d)`` into ``num_queries`` vectors with learned state patterns
    (hopfield-layers' ``HopfieldPooling``); returns ``(num_queries · output_size,)``."""

    hopfield: Hopfield
    query: Float[Array, "nq d"]

    def __init__(
        self,
        input_size: int,
        *,
        hidden_size: int = 32,
        output_size: int | None = None,
        num_queries: int = 1,
        scaling: float | None = None,
        update_steps_max: int = 0,
        normalize: bool = False,
        key: PRNGKeyArray,
    ):
        kh, kq = jax.random.split(key)
        self.hopfield = Hopfield(
            input_size,
            input_size,
            input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            scaling=scaling,
            update_steps_max=update_steps_max,
            normalize=normalize,
            key=kh,
        )
        self.query = jax.random.normal(kq, (num_queries, input_size)) / math.sqrt(input_size)

    def __call__(
        self,
        x: Float[Array, "L d"],
        *,
        mask: Bool[Array, " L"] | None = None,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, " out"]:
        return self.hopfield(x, self.query, mask=mask).reshape(-1)


class HopfieldLayer(eqx.Module):
    """Look up states ``(L_q, d)`` in ``quantity`` learned stored patterns with learned pattern
    projections (hopfield-layers' ``HopfieldLayer``); returns ``(L_q, output_size)``."""

    hopfield: Hopfield
    stored: Float[Array, "n d"]
    patterns: Float[Array, "n d"]

    def __init__(
        self,
        input_size: int,
        *,
        quantity: int = 16,
        hidden_size: int = 32,
        output_size: int | None = None,
        scaling: float | None = None,
        update_steps_max: int = 0,
        key: PRNGKeyArray,
    ):
        kh, ks, kp = jax.random.split(key, 3)
        self.hopfield = Hopfield(
            input_size,
            input_size,
            input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            scaling=scaling,
            update_steps_max=update_steps_max,
            key=kh,
        )
        self.stored = jax.random.normal(ks, (quantity, input_size)) / math.sqrt(input_size)
        self.patterns = jax.random.normal(kp, (quantity, input_size)) / math.sqrt(input_size)

    def __call__(
        self, x: Float[Array, "Lq d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "Lq out"]:
        return self.hopfield(self.stored, x, self.patterns)


# ----------------------------------------------------------------------------- dense memory


class DenseAMLayer(eqx.Module):
    """A dense associative memory with ``quantity`` learned memories ``ξ^μ ∈ ℝ^d`` (Krotov &
    Hopfield 2016, seed 003), relaxed to continuous states so it trains by gradient.

    Each of ``update_steps`` steps applies, per state vector ``s ∈ ℝ^d``,

    ``s ← tanh(β Σ_μ F'(ξ^μ·s / d) ξ^μ)``

    with ``F'(u) = max(u, 0)^{n−1}`` (``separation="polynomial"``, degree ``n``; normalised by
    the largest term so any ``n`` stays finite) or ``softmax(β_x ξ·s)`` weights
    (``"exponential"``: the modern-Hopfield step). With bipolar memories, bipolar ``s`` and
    ``β → ∞`` this is :class:`hopjax.dense.DenseAM`'s synchronous ``update="gradient"`` step with
    the rectified separation (tested). Input ``(L, d)`` or ``(d,)``; output the same shape.
    """

    memories: Float[Array, "n d"]
    beta: Array
    degree: int = eqx.field(static=True)
    separation: str = eqx.field(static=True)
    update_steps: int = eqx.field(static=True)

    def __init__(
        self,
        size: int,
        *,
        quantity: int = 32,
        degree: int = 3,
        separation: str = "polynomial",
        beta: float = 4.0,
        update_steps: int = 1,
        memories: Float[Array, "n d"] | None = None,
        key: PRNGKeyArray | None = None,
    ):
        if separation not in ("polynomial", "exponential"):
            raise ValueError(
                f"separation must be 'polynomial' or 'exponential'; got {separation!r}."
            )
        if degree < 1 or update_steps < 1 or quantity < 1:
            raise ValueError("degree, update_steps and quantity must be >= 1.")
        if memories is None:
            if key is None:
                raise ValueError("give key= (to initialise the memories) or memories=.")
            memories = jax.random.normal(key, (quantity, size)) / math.sqrt(size)
        memories = jnp.asarray(memories)
        if memories.ndim != 2 or memories.shape[1] != size:
            raise ValueError(f"memories must have shape (quantity, {size}); got {memories.shape}.")
        self.memories = memories
        self.beta = jnp.asarray(beta, memories.dtype)
        self.degree, self.separation, self.update_steps = degree, separation, update_steps

    def _weights(self, s: Array) -> Array:
        x = self.memories @ s / s.shape[-1]
        if self.separation == "exponential":
            return jax.nn.softmax(self.beta * s.shape[-1] * x)
        r = jnp.maximum(x, 0.0)
        if self.degree == 1:
            return jnp.ones_like(r)
        scale = jax.lax.stop_gradient(jnp.maximum(jnp.max(r), 1e-12))
        return (r / scale) ** (self.degree - 1)

    def step(self, s: Float[Array, " d"]) -> Float[Array, " d"]:
        """One update of one state vector."""
        return jnp.tanh(self.beta * (self._weights(s) @ self.memories))

    def __call__(
        self, x: Float[Array, "*L d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*L d"]:
        d = self.memories.shape[1]
        if x.shape[-1] != d or x.ndim not in (1, 2):
            raise ValueError(f"x must have shape (d,) or (L, d) with d = {d}; got {x.shape}.")
        f = self.step if x.ndim == 1 else jax.vmap(self.step)
        for _ in range(self.update_steps):
            x = f(x)
        return x


# ----------------------------------------------------------------------------- ODE memory


class ODEMemory(eqx.Module):
    """A memory layer that runs continuous associative dynamics with diffrax in its forward pass.

    ``kind`` picks the dynamics over the stored (or learned) ``memories`` ``(P, N)``:

    * ``"reasoning"`` — :class:`hopjax.idp.Reasoning` (seed 001 eq. (7)): replays the memories
      as a cycle ``ξ^1 → ξ^2 → …`` (reasoning matrix ``A``, circulant by default) with period
      ``P τ_α ln a₊(γ)``; the cue ``x`` sets ``x(0) = x`` and ``α(0) = a₀ relu(m(x))``;
    * ``"gsemm"`` — :class:`hopjax.gsemm.DenseGSEMM` (seed 004) with episode matrix ``phi``;
      ``V_f(0) = x``;
    * ``"hopfield"`` — :class:`hopjax.idp.IDPHopfield` with constant saliencies: continuous
      retrieval of the memory nearest the cue.

    ``params`` holds the model's scalar parameters (array leaves: trainable/tunable, e.g.
    ``gamma``, ``tau_alpha``, ``alpha_c``, ``T_d``). The output is the readout at ``ts``:
    ``"overlaps"`` ``(T, P)`` or ``"state"`` ``(T, N)`` (the feature layer). Solver: RK4 at
    constant ``dt`` (gradients through diffrax then match finite differences — see
    :mod:`hopjax.experiments.tune_idp`) or, with ``dt=None``, adaptive Tsit5. One cue per call:
    ``jax.vmap`` over a batch.
    """

    memories: Float[Array, "P N"]
    params: dict
    ts: Float[Array, " T"]
    phi: Float[Array, "P P"] | None
    kind: str = eqx.field(static=True)
    readout: str = eqx.field(static=True)
    dt: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    _KINDS = ("reasoning", "gsemm", "hopfield")

    def __init__(
        self,
        memories: Float[Array, "P N"],
        ts: Float[Array, " T"],
        *,
        kind: str = "reasoning",
        readout: str = "overlaps",
        dt: float | None = 0.1,
        phi: Float[Array, "P P"] | None = None,
        max_steps: int | None = None,
        **params: float,
    ):
        if kind not in self._KINDS:
            raise ValueError(f"kind must be one of {self._KINDS}; got {kind!r}.")
        if readout not in ("overlaps", "state"):
            raise ValueError(f"readout must be 'overlaps' or 'state'; got {readout!r}.")
        memories = jnp.asarray(memories)
        if memories.ndim != 2:
            raise ValueError(f"memories must have shape (P, N); got {memories.shape}.")
        ts = jnp.asarray(ts, memories.dtype)
        if ts.ndim != 1 or ts.shape[0] < 1 or not bool(jnp.all(jnp.diff(ts) > 0)) or ts[0] < 0:
            raise ValueError("ts must be increasing, non-negative save times (1-D).")
        defaults = {
            "reasoning": {"gamma": 6.0, "tau_alpha": 100.0, "tau_x": 1.0, "eps": 1e-3, "a0": 3.0},
            "gsemm": {
                "degree": 3.0,
                "alpha_s": 0.05,
                "alpha_c": 0.025,
                "T_f": 1.0,
                "T_d": 10.0,
                "beta_d": 7.0,
            },
            "hopfield": {"alpha": 1.5, "tau_x": 1.0},
        }[kind]
        unknown = set(params) - set(defaults)
        if unknown:
            raise ValueError(
                f"unknown parameters {sorted(unknown)} for kind={kind!r}; "
                f"expected {sorted(defaults)}."
            )
        self.params = {
            k: jnp.asarray(params.get(k, v), memories.dtype) for k, v in defaults.items()
        }
        self.memories, self.ts, self.kind, self.readout = memories, ts, kind, readout
        self.phi = None if phi is None else jnp.asarray(phi, memories.dtype)
        self.dt = dt
        t1 = float(ts[-1])
        self.max_steps = max_steps or (math.ceil(t1 / dt) + 8 if dt else 100_000)

    def model(self) -> eqx.Module:
        """The hopjax model these memories and parameters define."""
        from hopjax.gsemm import DenseGSEMM
        from hopjax.idp import IDPHopfield, Reasoning

        p, xi = self.params, self.memories
        if self.kind == "reasoning":
            return Reasoning(
                xi,
                gamma=p["gamma"],
                tau_alpha=p["tau_alpha"],
                tau_x=p["tau_x"],
                eps=p["eps"],
                A=None if self.phi is None else self.phi.T,
            )
        if self.kind == "gsemm":
            return DenseGSEMM(
                xi,
                self.phi,
                degree=p["degree"],
                alpha_s=p["alpha_s"],
                alpha_c=p["alpha_c"],
                T_f=p["T_f"],
                T_d=p["T_d"],
                beta_d=p["beta_d"],
                form="reference",
            )
        return IDPHopfield(xi, jnp.full((xi.shape[0],), p["alpha"]), tau_x=p["tau_x"])

    def __call__(
        self, x: Float[Array, " N"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "T out"]:
        from hopjax.gsemm import simulate_fixed
        from hopjax.solve import simulate

        N = self.memories.shape[1]
        if x.shape != (N,):
            raise ValueError(
                f"x must be one cue of shape ({N},) (vmap for batches); got {x.shape}."
            )
        model = self.model()
        if self.kind == "reasoning":
            m0 = model.overlaps(x)
            y0 = (x, self.params["a0"] * jax.nn.relu(m0))
            feat = lambda y: y[0]  # noqa: E731
        elif self.kind == "gsemm":
            y0 = model.initial_state(x)
            feat = lambda y: model.sigma_f(y[0])  # noqa: E731
        else:
            y0 = x
            feat = lambda y: y  # noqa: E731
        if self.readout == "overlaps":
            save = lambda t, y, a: model.overlaps(y[0] if isinstance(y, tuple) else y)  # noqa: E731
        else:
            save = lambda t, y, a: feat(y)  # noqa: E731
        kw = {"t1": self.ts[-1], "ts": self.ts, "save_fn": save, "max_steps": self.max_steps}
        sol = simulate_fixed(model, y0, dt=self.dt, **kw) if self.dt else simulate(model, y0, **kw)
        return sol.ys
