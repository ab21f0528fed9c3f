"""A memory layer that runs continuous associative dynamics in its forward pass."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from hopjax._checks import is_concrete
from hopjax.gsemm import DenseGSEMM, cycle_matrix
from hopjax.idp import IDPHopfield, Reasoning
from hopjax.measure import Episode, judge_episode, leader, successor
from hopjax.solve import simulate, simulate_fixed

__all__ = ["ODEMemory"]


class ODEMemory(eqx.Module):
    """A memory layer that runs continuous associative dynamics with diffrax in its forward pass.

    ``kind`` picks the dynamics over the stored (or learned) ``memories`` ``(P, N)``:

    * ``"reasoning"`` — :class:`hopjax.idp.Reasoning` (the IDP reasoning model): replays the
      memories as a cycle ``ξ^1 → ξ^2 → …`` (reasoning matrix ``A``, circulant by default) with
      period ``P τ_α ln a₊(γ)``; the cue ``x`` sets ``x(0) = x`` and ``α(0) = a₀ relu(m(x))``;
    * ``"gsemm"`` — :class:`hopjax.gsemm.DenseGSEMM` (reference form) with episode matrix ``phi``;
      ``V_f(0) = x``;
    * ``"hopfield"`` — :class:`hopjax.idp.IDPHopfield` with constant saliencies: continuous
      retrieval of the memory nearest the cue.

    ``params`` holds the model's scalar parameters (array leaves: trainable/tunable, e.g.
    ``gamma``, ``tau_alpha``, ``alpha_c``, ``T_d``). The output is the readout at ``ts``:
    ``"overlaps"`` ``(T, P)`` or ``"state"`` ``(T, N)`` (the feature layer). Solver: RK4 at
    constant ``dt`` (gradients through diffrax then match finite differences — see
    ``docs/notes/idp.md``) or, with ``dt=None``, adaptive Tsit5. One cue per call:
    ``jax.vmap`` over a batch.

    Args:
        memories: the memories ``(P, N)`` (trainable leaves).
        ts: readout times ``(T,)``.
        kind: ``"reasoning"``, ``"gsemm"`` or ``"hopfield"``.
        readout: ``"overlaps"`` ``(T, P)`` or ``"state"`` ``(T, N)``.
        dt: RK4 step (``None``: adaptive Tsit5).
        phi: episode matrix for ``kind = "gsemm"`` (default: one cycle).
        max_steps: most solver steps.
        **params: the model's scalar parameters (e.g. ``gamma``, ``tau_alpha``, ``alpha_c``).
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
        if is_concrete(ts):  # numpy or a concrete array: checked here (traced: give max_steps)
            ts_np = np.asarray(ts, dtype=float)
            if ts_np.ndim != 1 or ts_np.size < 1 or np.any(np.diff(ts_np) <= 0) or ts_np[0] < 0:
                raise ValueError("ts must be increasing, non-negative save times (1-D).")
        elif max_steps is None:
            raise ValueError("give max_steps when ts is traced (the layer built inside jit).")
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
        self.ts = jnp.asarray(ts, memories.dtype)
        self.memories, self.kind, self.readout = memories, kind, readout
        self.phi = None if phi is None else jnp.asarray(phi, memories.dtype)
        self.dt = dt
        if max_steps is None:
            max_steps = math.ceil(float(ts_np[-1]) / dt) + 8 if dt else 100_000
        self.max_steps = max_steps

    def model(self) -> eqx.Module:
        """The hopjax model these memories and parameters define."""
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
            return DenseGSEMM.from_params(xi, self.phi, {**p, "form": "reference"})
        return IDPHopfield(xi, jnp.full((xi.shape[0],), p["alpha"]), tau_x=p["tau_x"])

    def __call__(
        self, x: Float[Array, " N"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "T out"]:
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

    def episode(
        self,
        x: Float[Array, " N"],
        *,
        threshold: float = 0.8,
        repeats: int = 3,
        start: int | None = 0,
    ) -> Episode:
        """Replay from the cue ``x`` and judge the episode it retrieves against the memories'
        cycle (``phi``, or ``ξ^1 → ξ^2 → … → ξ^P → ξ^1`` without one): the leader of the
        overlaps at every save time ``ts`` above ``threshold``, recorded on change, in order
        ``repeats`` times without error from memory ``start``
        (:func:`hopjax.measure.judge_episode`). Needs ``readout="overlaps"``."""
        if self.readout != "overlaps":
            raise ValueError(
                "episode() judges the overlaps: build the layer with readout='overlaps'."
            )
        P = self.memories.shape[0]
        phi = cycle_matrix(P, dtype=self.memories.dtype) if self.phi is None else self.phi
        lead, top = leader(self(x))
        return judge_episode(
            lead, top, successor(phi), threshold=threshold, repeats=repeats, start=start
        )
