"""The solver layer: one interface for continuous memories and every integrator they use.

:class:`AbstractContinuousMemory` is the contract of the continuous models (the IDP family in
:mod:`hopjax.idp`, GSEMM in :mod:`hopjax.gsemm`): a diffrax ``vector_field(t, y, args)``, an
``initial_state``, the ``overlaps`` of a state with the memories, and ``state_spec`` — the names
and sizes of the state's parts — from which the concrete :meth:`~AbstractContinuousMemory.
check_state` validates an initial state. Models subclass it (equinox's abstract/final pattern:
abstract bases declare, concrete classes implement and are not subclassed further).

Integrators:

* :func:`simulate` wraps ``diffrax.diffeqsolve`` (adaptive Tsit5 + PID by default; any diffrax
  solver, controller or adjoint) and validates ``y0`` first for an
  :class:`AbstractContinuousMemory`;
* :class:`RK4` is the classical fourth-order Runge–Kutta method as a diffrax solver, and
  :func:`simulate_fixed` runs it at a constant step (gradients through it are what
  :mod:`hopjax.tune` relies on);
* :func:`rk4_scan` is a lean fixed-step RK4 loop (``lax.scan``) for ensembles that keep only a
  reduction of each trajectory. It computes the same steps as :func:`simulate_fixed` (tested to
  round-off) without the solver bookkeeping and dense-output interpolation (timings:
  ``docs/benchmarks.md``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, PyTree

from hopjax._checks import finite, is_concrete, same_length

__all__ = [
    "RK4",
    "AbstractContinuousMemory",
    "rk4_scan",
    "rk4_step",
    "simulate",
    "simulate_fixed",
    "succeeded",
]


class AbstractContinuousMemory(eqx.Module):
    """A continuous associative memory integrated by :func:`simulate` / :func:`rk4_scan`.

    Subclasses hold their memories as ``xi`` (one memory per row) and implement

    * ``vector_field(t, y, args)`` — the right-hand side ``dy/dt`` (diffrax's signature);
    * ``initial_state(...)`` — a state ``y`` to start from (arguments are model-specific);
    * ``overlaps(x)`` — the overlaps of the feature part ``x`` with every memory, ``(P,)``;
    * ``state_spec()`` — ``((name, size, symbol), …)`` for each part of the state ``y``: one
      entry for an array state, several for a tuple (``symbol`` names the size in messages).

    :meth:`check_state` (concrete) validates a state against ``state_spec`` at trace time.
    """

    xi: eqx.AbstractVar[Array]

    @abc.abstractmethod
    def vector_field(self, t: Array, y: PyTree, args: Any) -> PyTree:
        """``dy/dt`` at time ``t``."""

    @abc.abstractmethod
    def initial_state(self, *args: Any, **kwargs: Any) -> PyTree:
        """A state to start the dynamics from."""

    @abc.abstractmethod
    def overlaps(self, x: Array) -> Float[Array, " P"]:
        """Overlaps of the feature state ``x`` with the memories."""

    @abc.abstractmethod
    def state_spec(self) -> tuple[tuple[str, int, str], ...]:
        """``(name, size, symbol)`` of every part of the state (see the class docstring)."""

    def check_state(self, y0: PyTree) -> None:
        """Shape checks of ``y0`` against :meth:`state_spec` (static: they run at trace time)."""
        spec = self.state_spec()
        names = ", ".join(name for name, _, _ in spec)
        if len(spec) > 1:
            if not isinstance(y0, tuple) or len(y0) != len(spec):
                raise ValueError(f"y0 must be the tuple ({names}) for {type(self).__name__}.")
            parts = y0
        else:
            parts = (y0,)
        for part, (name, size, symbol) in zip(parts, spec, strict=True):
            arr = jnp.asarray(part)
            if arr.ndim != 1:
                raise ValueError(
                    f"y0 {name} must be one state of shape ({size},); vmap for batches."
                )
            same_length(size, arr, f"y0 {name}", symbol)


# ----------------------------------------------------------------------------- diffrax


def simulate(
    model: eqx.Module,
    y0: PyTree,
    *,
    t1: float | Array,
    t0: float | Array = 0.0,
    ts: Float[ArrayLike, " T"] | None = None,
    save_fn: Callable[[Array, PyTree, Any], PyTree] | None = None,
    saveat: diffrax.SaveAt | None = None,
    solver: diffrax.AbstractSolver | None = None,
    dt0: float | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    max_steps: int | None = 100_000,
    adjoint: diffrax.AbstractAdjoint | None = None,
    args: Any = None,
    throw: bool = True,
) -> diffrax.Solution:
    """Integrate ``model.vector_field`` from ``y0`` over ``[t0, t1]`` with diffrax.

    ``model`` is an :class:`AbstractContinuousMemory` (``y0`` is then checked against its
    ``state_spec``) or any module with a diffrax ``vector_field``. Defaults: ``Tsit5`` with a
    ``PIDController(rtol, atol)`` (adaptive; ``dt0=None`` lets diffrax choose the first step),
    saving at ``ts`` (default: only ``t1``) the output of ``save_fn(t, y, args)`` (default ``y``;
    e.g. save only the overlaps to keep dense saves small). ``adjoint`` defaults to
    ``RecursiveCheckpointAdjoint`` (exact gradients of the discretised solve; its checkpointing
    scales with ``max_steps``, so set ``max_steps`` near what the solve needs when
    differentiating — compiling ``grad`` with the default 10⁵ takes several times longer than
    with 4096). Solver failures — including running out of ``max_steps`` — raise an error
    (``throw=True``), never a silently truncated trajectory. With ``throw=False`` they do not
    raise: :func:`succeeded` says per solve whether it finished (the saves after a failure are
    ``inf``) — the form for sweeps, which report failed rows instead of stopping. It also drops
    the raising host callback from the program (programs with host callbacks are not cached);
    diffrax still checks save times ``ts`` with one — under jit even ``ts`` computed from
    constants (``np.linspace``), since JAX stages the comparison like any other operation.

    Args:
        model: the model (its ``vector_field(t, y, args)`` is integrated).
        y0: initial state (a pytree, e.g. ``model.initial_state(...)``).
        t1: end time.
        t0: start time.
        ts: times to save at (default: only ``t1``).
        save_fn: what to save, ``save_fn(t, y, args)`` (default: ``y``).
        saveat: a diffrax ``SaveAt`` instead of ``ts``/``save_fn``.
        solver: a diffrax solver (default ``Tsit5``).
        dt0: first step (``None``: chosen by diffrax).
        rtol: relative tolerance of the step-size controller.
        atol: absolute tolerance of the step-size controller.
        stepsize_controller: a diffrax controller (default ``PIDController(rtol, atol)``).
        max_steps: most solver steps.
        adjoint: a diffrax adjoint (default ``RecursiveCheckpointAdjoint``).
        args: passed to ``vector_field`` and ``save_fn``.
        throw: raise on a solver failure (``False``: report it in ``sol.result``).

    Returns:
        The diffrax ``Solution`` (``sol.ts``, ``sol.ys``: the saved outputs).
    """
    if isinstance(model, AbstractContinuousMemory):
        model.check_state(y0)
    y0 = jax.tree.map(lambda a: finite(jnp.asarray(a), "y0"), y0)
    if is_concrete(t0) and is_concrete(t1) and not float(t1) > float(t0):
        raise ValueError(f"t1 must be > t0 (integration runs forward); got t0 = {t0}, t1 = {t1}.")
    if saveat is None:
        if ts is None:
            saveat = diffrax.SaveAt(t1=True, fn=save_fn) if save_fn else diffrax.SaveAt(t1=True)
        else:
            ts = jnp.asarray(ts)
            saveat = diffrax.SaveAt(ts=ts, fn=save_fn) if save_fn else diffrax.SaveAt(ts=ts)
    solver = diffrax.Tsit5() if solver is None else solver
    if stepsize_controller is None:
        stepsize_controller = diffrax.PIDController(
            rtol=rtol, atol=atol, dtmin=_dtmin(t0, t1, y0), force_dtmin=True
        )
    adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
    return diffrax.diffeqsolve(
        diffrax.ODETerm(model.vector_field),
        solver,
        t0=t0,
        t1=t1,
        dt0=dt0,
        y0=y0,
        args=args,
        saveat=saveat,
        stepsize_controller=stepsize_controller,
        max_steps=max_steps,
        adjoint=adjoint,
        throw=throw,
    )


def succeeded(sol: diffrax.Solution) -> Bool[Array, ""]:
    """Whether a solve of :func:`simulate` finished (``sol.result`` is diffrax's
    ``successful``); with ``throw=False`` a failed solve — e.g. out of ``max_steps`` — returns
    ``False`` here instead of raising.

    Args:
        sol: the solution.

    Returns:
        A boolean scalar (batched under ``vmap``).
    """
    return sol.result == diffrax.RESULTS.successful


def _dtmin(t0: float | Array, t1: float | Array, y0: PyTree) -> Array:
    """Smallest step the adaptive controller may take: 8 ulps of the largest time.

    At HardTanh's kinks the error estimate asks for ever smaller steps; in float32 at ``t ~ 10⁵``
    a step below the time's resolution (``t · 1.2e−7``) stops the clock and the solve spins until
    ``max_steps``. Steps of at least 8 ulps (``0.14 τ_x`` at ``t1 = 1.5·10⁵`` in float32, nothing
    in float64) keep time moving. Measured on the reasoning model (γ ∈ {5, 8, 12},
    ``τ_α ∈ {500, 5000}``): periods agree with float64 solves to 10⁻⁴, while 64 ulps already
    broke a transition (``λ dt ≈ 6`` during the escape).
    """
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(y0))
    span = jnp.maximum(jnp.abs(jnp.asarray(t0, dtype)), jnp.abs(jnp.asarray(t1, dtype)))
    return 8 * jnp.finfo(dtype).eps * span


_RK4_TABLEAU = diffrax.ButcherTableau(
    c=np.array([0.5, 0.5, 1.0]),
    b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
    b_error=np.zeros(4),
    a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])),
)


class RK4(diffrax.AbstractERK):
    """The classical 4th-order Runge–Kutta method as a diffrax solver (fixed steps only: no
    error estimate) — the integrator of the GSEMM paper's simulations (Karuvally et al. 2023,
    appendices B and C)."""

    tableau: ClassVar[diffrax.ButcherTableau] = _RK4_TABLEAU
    interpolation_cls: ClassVar[Callable[..., Any]] = (
        diffrax.ThirdOrderHermitePolynomialInterpolation.from_k
    )

    def order(self, terms: Any) -> int:
        return 4


def simulate_fixed(
    model: eqx.Module,
    y0: PyTree,
    *,
    t1: float | Array,
    dt: float = 0.01,
    ts: Float[ArrayLike, " T"] | None = None,
    save_fn: Callable[[Array, PyTree, Any], PyTree] | None = None,
    max_steps: int | None = None,
) -> diffrax.Solution:
    """Integrate ``model.vector_field`` with :class:`RK4` at a constant step ``dt``, saving
    ``save_fn(t, y, args)`` (default ``y``) at ``ts`` (default ``t1`` only): :func:`simulate`
    with a constant step size (so ``check_state`` and the default
    ``RecursiveCheckpointAdjoint`` apply; autodiff through fixed steps is what
    :mod:`hopjax.tune` relies on).

    ``max_steps`` defaults to ``ceil(t1 / dt) + 1`` for a concrete ``t1``; running out raises.

    Args:
        model: the model (its ``vector_field(t, y, args)`` is integrated).
        y0: initial state (a pytree).
        t1: end time.
        dt: the constant step.
        ts: times to save at (default: only ``t1``).
        save_fn: what to save, ``save_fn(t, y, args)`` (default: ``y``).
        max_steps: most steps (default ``ceil(t1 / dt) + 1``).

    Returns:
        The diffrax ``Solution`` (``sol.ts``, ``sol.ys``: the saved outputs).
    """
    if max_steps is None:
        if not is_concrete(t1):
            raise ValueError("give max_steps when t1 is traced (e.g. vmapped horizons).")
        max_steps = int(np.ceil(float(t1) / dt)) + 1
    return simulate(
        model,
        y0,
        t1=t1,
        ts=ts,
        save_fn=save_fn,
        solver=RK4(),
        dt0=dt,
        stepsize_controller=diffrax.ConstantStepSize(),
        max_steps=max_steps,
    )


# ----------------------------------------------------------------------------- lean RK4


def rk4_step(
    vector_field: Callable[[Array, PyTree, Any], PyTree],
    t: Array,
    y: PyTree,
    dt: Array,
    args: Any = None,
) -> PyTree:
    """One classical Runge–Kutta step ``y(t) → y(t + dt)`` of ``dy/dt = vector_field(t, y, args)``:
    ``y + dt/6 (k₁ + 2k₂ + 2k₃ + k₄)``."""

    def axpy(y: PyTree, k: PyTree, h: Array) -> PyTree:
        return jax.tree.map(lambda a, b: a + h * b, y, k)

    k1 = vector_field(t, y, args)
    k2 = vector_field(t + 0.5 * dt, axpy(y, k1, 0.5 * dt), args)
    k3 = vector_field(t + 0.5 * dt, axpy(y, k2, 0.5 * dt), args)
    k4 = vector_field(t + dt, axpy(y, k3, dt), args)
    return jax.tree.map(
        lambda a, b, c, d, e: a + (dt / 6) * (b + 2 * c + 2 * d + e), y, k1, k2, k3, k4
    )


def rk4_scan(
    vector_field: Callable[[Array, PyTree, Any], PyTree],
    y0: PyTree,
    *,
    dt: float | Array,
    n_save: int,
    steps_per_save: int,
    save_fn: Callable[[Array, PyTree, Any], PyTree] | None = None,
    args: Any = None,
) -> tuple[PyTree, PyTree]:
    """Integrate ``dy/dt = vector_field(t, y, args)`` with classical RK4 at constant ``dt``.

    Takes ``n_save · steps_per_save`` steps from ``t = 0``; after every ``steps_per_save`` steps
    it records ``save_fn(t, y, args)`` (default ``y``). Returns ``(y_final, saves)`` with saves
    stacked along a leading axis of length ``n_save`` (times ``k · steps_per_save · dt``,
    ``k = 1 … n_save``). Pure ``lax.scan``: jit/vmap/grad compatible.

    Args:
        vector_field: ``f(t, y, args)``, the right-hand side.
        y0: initial state (a pytree).
        dt: the constant step.
        n_save: number of saves; static.
        steps_per_save: RK4 steps between saves; static.
        save_fn: what to save, ``save_fn(t, y, args)`` (default: ``y``).
        args: passed to ``vector_field`` and ``save_fn``.

    Returns:
        ``(y_final, saves)``, the saves stacked along a leading axis of length ``n_save``.
    """
    save = save_fn if save_fn is not None else (lambda t, y, a: y)
    dt = jnp.asarray(dt)

    def step(carry: tuple[Array, PyTree], _: None) -> tuple[tuple[Array, PyTree], None]:
        t, y = carry
        return (t + dt, rk4_step(vector_field, t, y, dt, args)), None

    def block(carry: tuple[Array, PyTree], i: Array) -> tuple[tuple[Array, PyTree], PyTree]:
        (_, y), _ = jax.lax.scan(step, carry, None, length=steps_per_save)
        t = (i + 1) * steps_per_save * dt  # exact time, no accumulated round-off
        return (t, y), save(t, y, args)

    t0 = jnp.zeros((), dt.dtype)
    (_, y_final), saves = jax.lax.scan(block, (t0, y0), jnp.arange(n_save))
    return y_final, saves
