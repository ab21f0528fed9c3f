"""Gradient-based tuning of model parameters (gains, timescales) through their dynamics.

The recipe, in the style of optax and equinox:

1. **Select** what to tune: ``where`` (a function ``model -> leaf or tuple of leaves``, as in
   ``eqx.tree_at``) or ``filter_spec`` (a pytree of bools or a predicate, as in
   ``eqx.partition``). Everything else in the model stays fixed.
2. **Constrain** by reparameterisation: the optimiser moves an unconstrained ``θ`` and the model
   sees ``c(θ)``. :class:`Positive` (``lower + softplus(θ)``) keeps timescales and gains positive
   — or above a bound, e.g. the reasoning model's cycling threshold ``γ > 4`` —, :class:`Log`
   (``e^θ``) moves a positive parameter in relative steps, :class:`Interval` maps onto
   ``(lo, hi)`` with a sigmoid, :class:`Identity` leaves it free. Gradients are taken with
   respect to ``θ``; the chain rule through ``c`` is automatic.
3. **Loss**: any differentiable ``loss_fn(model, args)`` — typically a simulation with
   :func:`hopjax.solve.simulate` (diffrax; ``adjoint=RecursiveCheckpointAdjoint()`` by default,
   ``diffrax.BacksolveAdjoint()`` for constant memory) followed by a smooth metric below.
4. **Optimise** with any optax ``GradientTransformation`` by :func:`tune`: a ``lax.scan`` over
   steps (pure, so ``jax.vmap`` runs many tunings — targets, seeds — as one program), or, with
   ``progress=True``, a jitted step in a Python loop with a rich progress bar. It returns a
   :class:`TuneResult` with the tuned model and the history of loss and parameters.

Smooth surrogates for discrete metrics (a period, an episode's order) live in
:mod:`hopjax.measure`: :func:`~hopjax.measure.crossing_times`,
:func:`~hopjax.measure.crossing_period`, :func:`~hopjax.measure.autocorr_period`,
:func:`~hopjax.measure.soft_order`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, ArrayLike, Float, PyTree

__all__ = [
    "AbstractConstraint",
    "Identity",
    "Interval",
    "Log",
    "Positive",
    "TuneResult",
    "get_constraint",
    "tune",
]


# ----------------------------------------------------------------------------- constraints


class AbstractConstraint(eqx.Module):
    """A bijection ``c: ℝ → D`` from the optimiser's unconstrained ``θ`` to a parameter domain.
    Subclass it for a domain of your own (implement both methods); :class:`Identity`,
    :class:`Positive`, :class:`Log` and :class:`Interval` are the shipped ones."""

    @abc.abstractmethod
    def forward(self, theta: Array) -> Array:
        """``x = c(θ)``."""

    @abc.abstractmethod
    def inverse(self, x: Array) -> Array:
        """``θ = c⁻¹(x)`` (raises for values outside the domain when concrete)."""


class Identity(AbstractConstraint):
    """No constraint: ``x = θ``."""

    def forward(self, theta: Array) -> Array:
        return theta

    def inverse(self, x: Array) -> Array:
        return jnp.asarray(x)


class Positive(AbstractConstraint):
    """``x = lower + softplus(θ)`` — positive (``lower = 0``) or above a bound.

    Linear for large ``x`` (steps of the optimiser are absolute there), so it suits gains; use
    :class:`Log` for parameters that span decades (timescales).
    """

    lower: float = 0.0

    def forward(self, theta: Array) -> Array:
        return self.lower + jax.nn.softplus(theta)

    def inverse(self, x: Array) -> Array:
        y = jnp.asarray(x) - self.lower
        _check_domain(y > 0, f"a value > {self.lower}", x)
        return y + jnp.log(-jnp.expm1(-y))  # softplus⁻¹(y) = log(eʸ − 1), stable


class Log(AbstractConstraint):
    """``x = e^θ`` — positive, moved in relative steps (timescales, rates)."""

    def forward(self, theta: Array) -> Array:
        return jnp.exp(theta)

    def inverse(self, x: Array) -> Array:
        _check_domain(jnp.asarray(x) > 0, "a positive value", x)
        return jnp.log(jnp.asarray(x))


class Interval(AbstractConstraint):
    """``x = lo + (hi − lo) σ(θ)`` — inside the open interval ``(lo, hi)``."""

    lo: float
    hi: float

    def __check_init__(self) -> None:
        if not self.hi > self.lo:
            raise ValueError(f"Interval needs hi > lo; got lo={self.lo}, hi={self.hi}.")

    def forward(self, theta: Array) -> Array:
        return self.lo + (self.hi - self.lo) * jax.nn.sigmoid(theta)

    def inverse(self, x: Array) -> Array:
        u = (jnp.asarray(x) - self.lo) / (self.hi - self.lo)
        _check_domain((u > 0) & (u < 1), f"a value in ({self.lo}, {self.hi})", x)
        return jnp.log(u) - jnp.log1p(-u)


def _check_domain(ok: Array, what: str, x: ArrayLike) -> None:
    try:
        good = bool(jnp.all(ok))
    except jax.errors.ConcretizationTypeError:  # traced: cannot check here
        return
    if not good:
        raise ValueError(
            f"initial parameter {jnp.asarray(x)} is outside its constraint: need {what}."
        )


_NAMED = {"identity": Identity, "positive": Positive, "log": Log}


def get_constraint(spec: str | AbstractConstraint | None) -> AbstractConstraint:
    """A constraint from a name (``"identity"``, ``"positive"``, ``"log"``) or itself."""
    if spec is None:
        return Identity()
    if isinstance(spec, AbstractConstraint):
        return spec
    if isinstance(spec, str) and spec in _NAMED:
        return _NAMED[spec]()
    raise ValueError(
        f"constraint must be a AbstractConstraint or one of {sorted(_NAMED)}; got {spec!r}."
    )


# ----------------------------------------------------------------------------- selection


def _is_constraint(x: Any) -> bool:
    return isinstance(x, AbstractConstraint) or isinstance(x, str) or x is None


class _Selection:
    """Get/put the tuned leaves of a model (``where`` or ``filter_spec``)."""

    def __init__(self, model: PyTree, where: Callable | None, filter_spec: Any):
        if (where is None) == (filter_spec is None):
            raise ValueError(
                "give exactly one of where= (a function model -> leaves) or filter_spec=."
            )
        self.where, self.filter_spec = where, filter_spec
        if where is not None and not callable(where):
            raise TypeError(
                f"where must be a function model -> leaf or tuple of leaves; got {where!r}."
            )
        params = self.get(model)
        leaves = jax.tree.leaves(params)
        if not leaves:
            raise ValueError("the selection picks no parameter of the model.")
        for leaf in leaves:
            if not eqx.is_inexact_array(leaf):
                raise TypeError(
                    f"tuned parameters must be floating-point arrays; got {type(leaf).__name__} "
                    f"{getattr(leaf, 'dtype', '')}."
                )

    def get(self, model: PyTree) -> PyTree:
        if self.where is not None:
            return self.where(model)
        params, _ = eqx.partition(model, self.filter_spec)
        return params

    def put(self, model: PyTree, params: PyTree) -> PyTree:
        if self.where is not None:
            return eqx.tree_at(self.where, model, params)
        _, static = eqx.partition(model, self.filter_spec)
        return eqx.combine(params, static)


def _constraint_tree(constraints: Any, params: PyTree) -> PyTree:
    """A constraint per selected leaf (one for all, or a tree matching ``params``)."""
    if _is_constraint(constraints):
        c = get_constraint(constraints)
        return jax.tree.map(lambda _: c, params)
    try:
        return jax.tree.map(
            lambda c, _: get_constraint(c), constraints, params, is_leaf=_is_constraint
        )
    except ValueError as e:
        raise ValueError(
            f"constraints must be one constraint or a tree matching the selected parameters "
            f"({jax.tree.structure(params)}); {e}"
        ) from None


# ----------------------------------------------------------------------------- tuning


class TuneResult(eqx.Module):
    """What :func:`tune` returns.

    ``model``: the model with the final parameters. ``params``: the final (constrained)
    parameters, shaped like the selection. ``loss``: ``(steps,)`` loss *before* each update;
    ``history``: the parameters before each update, each leaf stacked to ``(steps, …)``;
    ``aux``: ``loss_fn``'s auxiliary output per step (``has_aux=True``) or ``None``.
    ``final_loss`` / ``final_aux``: loss and aux of the returned parameters (only with
    ``evaluate_final=True``; otherwise ``None``).
    """

    model: PyTree
    params: PyTree
    loss: Float[Array, " steps"]
    history: PyTree
    aux: PyTree
    final_loss: Array | None
    final_aux: PyTree = None


def tune(
    model: PyTree,
    loss_fn: Callable[..., Any],
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    where: Callable[[PyTree], Any] | None = None,
    filter_spec: Any = None,
    constraints: Any = "identity",
    args: Any = None,
    has_aux: bool = False,
    evaluate_final: bool = True,
    progress: bool = False,
    gradient: str = "autodiff",
    sigma: float = 0.1,
    samples: int = 8,
    key: Array | None = None,
) -> TuneResult:
    """Minimise ``loss_fn(model, args)`` over the selected parameters with ``optimizer``.

    ``θ ← θ + optimizer.update(∇_θ L(put(model, c(θ))))`` for ``steps`` steps, ``θ₀ = c⁻¹``
    (current values). ``where`` / ``filter_spec`` select the parameters and ``constraints`` give
    one :class:`AbstractConstraint` (or name) for all of them or a tree of them matching the
    selection (described in :mod:`hopjax.tune`). ``args`` is passed to ``loss_fn`` unchanged:
    ``jax.vmap`` over
    it (or over the model) tunes a batch in one program. ``has_aux``: ``loss_fn`` returns
    ``(loss, aux)`` and ``aux`` is recorded per step. Non-finite losses are not skipped: chain
    ``optax.apply_if_finite`` into ``optimizer`` for that. Optimisers with extra arguments
    (``optax.GradientTransformationExtraArgs``) receive ``value``, ``grad`` and ``value_fn``, so
    line-search methods such as ``optax.lbfgs()`` work unchanged.

    ``gradient="autodiff"`` (default) differentiates ``loss_fn`` (through diffrax with the
    simulation's adjoint). ``gradient="smoothed"`` estimates the gradient of the Gaussian-smoothed
    loss ``E_ε[L(θ + σ ε)]`` from ``samples`` antithetic pairs (``key`` required): for dynamics
    whose switching is effectively discontinuous — Dense GSEMM's ``tanh(a_f N_f^n U)`` jumps
    within one save interval —, autodiff of the discretised solve misses the switching times'
    dependence on the parameters (measured: a transition time's derivative −0.12 by autodiff
    against −62 by finite differences), while the smoothed loss has an honest gradient.

    ``progress=False`` (default) runs a ``lax.scan`` (jit/vmap-compatible); ``progress=True``
    jits one step and loops in Python with a rich progress bar (not vmappable).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}.")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax GradientTransformation; got {optimizer!r}.")
    sel = _Selection(model, where, filter_spec)
    params0 = sel.get(model)
    cons = _constraint_tree(constraints, params0)
    is_c = lambda x: isinstance(x, AbstractConstraint)  # noqa: E731

    def to_params(theta: PyTree) -> PyTree:
        return jax.tree.map(lambda c, t: c.forward(t), cons, theta, is_leaf=is_c)

    theta0 = jax.tree.map(lambda c, p: c.inverse(p), cons, params0, is_leaf=is_c)

    def objective(theta: PyTree) -> tuple[Array, Any]:
        out = loss_fn(sel.put(model, to_params(theta)), args)
        loss, aux = out if has_aux else (out, None)
        loss = jnp.asarray(loss)
        if loss.shape != ():
            raise ValueError(f"loss_fn must return a scalar loss; got shape {loss.shape}.")
        return loss, aux

    if gradient == "autodiff":
        grad_fn = jax.value_and_grad(objective, has_aux=True)
    elif gradient == "smoothed":
        if key is None:
            raise ValueError("gradient='smoothed' needs a PRNG key (key=).")
        if not (sigma > 0 and samples >= 1):
            raise ValueError(f"need sigma > 0 and samples >= 1; got {sigma}, {samples}.")
        grad_fn = _smoothed_grad(objective, sigma, samples)
    else:
        raise ValueError(f"gradient must be 'autodiff' or 'smoothed'; got {gradient!r}.")

    def step(carry: tuple, k: Array) -> tuple:
        theta, opt_state = carry
        (loss, aux), g = grad_fn(theta, k) if gradient == "smoothed" else grad_fn(theta)
        if isinstance(optimizer, optax.GradientTransformationExtraArgs):  # e.g. optax.lbfgs
            value_fn = lambda th: objective(th)[0]  # noqa: E731
            updates, opt_state = optimizer.update(
                g, opt_state, theta, value=loss, grad=g, value_fn=value_fn
            )
        else:
            updates, opt_state = optimizer.update(g, opt_state, theta)
        return (optax.apply_updates(theta, updates), opt_state), (loss, to_params(theta), aux)

    carry = (theta0, optimizer.init(theta0))
    keys = jax.random.split(key, steps) if key is not None else jnp.zeros((steps,))
    if progress:
        carry, (loss, hist, aux) = _loop(step, carry, keys)
    else:
        carry, (loss, hist, aux) = jax.lax.scan(step, carry, keys)
    params = to_params(carry[0])
    final, final_aux = objective(carry[0]) if evaluate_final else (None, None)
    return TuneResult(sel.put(model, params), params, loss, hist, aux, final, final_aux)


def _smoothed_grad(objective: Callable, sigma: float, samples: int) -> Callable:
    """Value and Gaussian-smoothed gradient ``∇_θ E_ε[L(θ + σε)]`` by antithetic sampling:
    ``g = Σ_i [L(θ + σε_i) − L(θ − σε_i)] ε_i / (2 n σ)``; the ``2n + 1`` losses (centre
    included) are evaluated in one ``vmap``. Non-finite perturbed losses are dropped."""

    def fn(theta: PyTree, key: Array) -> tuple:
        flat, unflat = ravel_pytree(theta)
        eps = jax.random.normal(key, (samples, flat.size), flat.dtype)
        pts = jnp.concatenate([flat[None], flat + sigma * eps, flat - sigma * eps])
        losses, auxs = jax.vmap(lambda v: objective(unflat(v)))(pts)
        diff = losses[1 : samples + 1] - losses[samples + 1 :]
        ok = jnp.isfinite(diff)
        g = jnp.sum(jnp.where(ok, diff, 0.0)[:, None] * eps, axis=0)
        g = g / (2 * sigma * jnp.maximum(jnp.sum(ok), 1))
        return (losses[0], jax.tree.map(lambda a: a[0], auxs)), unflat(g)

    return fn


def _loop(step: Callable, carry: tuple, keys: Array) -> tuple:
    """``lax.scan``'s contract as a Python loop over a jitted step, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    jstep = eqx.filter_jit(step)
    outs = []
    with Progress(
        TextColumn("[bold]tune"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task("steps", total=len(keys), loss="")
        for k in keys:
            carry, out = jstep(carry, k)
            outs.append(out)
            bar.update(task, advance=1, loss=f"{float(out[0]):.4g}")
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *outs)
    return carry, stacked
