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

Smooth surrogates for discrete metrics:

* :func:`crossing_times` / :func:`crossing_period` — times at which a signal crosses a level,
  linearly interpolated between save points: ``t_c = t_k + (c − x_k)/(x_{k+1} − x_k) Δt``. By the
  implicit-function theorem ``dt_c/dθ = −(∂x/∂θ)/(∂x/∂t)`` at the crossing, which the
  interpolation reproduces when the saves resolve the signal's rise: use a *slow* signal (the
  reasoning model's saliency ``α``, not the overlap that jumps on the fast timescale ``τ_x``,
  whose gradient vanishes between coarse saves).
* :func:`autocorr_period` — the lag of the highest autocorrelation peak of a (vector) signal,
  refined by a parabola through the peak and its neighbours (differentiable in the signal).
* :func:`soft_transitions` / :func:`soft_order` — soft leader ``p_t = softmax(β m_t)`` and soft
  transition counts ``M = Σ_t p_t p_{t+1}ᵀ``: moves along an episode's successor matrix
  ``Φ`` (correct), other moves (wrong) and the retrieval quality ``Σ_k p_t[k] m_t[k]``; as
  ``β → ∞`` these become the hard counts of :func:`hopjax.gsemm.decode_sequence`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, PyTree

__all__ = [
    "Constraint",
    "Identity",
    "Interval",
    "Log",
    "Positive",
    "SoftOrder",
    "TuneResult",
    "autocorr_period",
    "crossing_period",
    "crossing_times",
    "get_constraint",
    "soft_order",
    "soft_transitions",
    "tune",
]


# ----------------------------------------------------------------------------- constraints


class Constraint(eqx.Module):
    """A bijection ``c: ℝ → D`` from the optimiser's unconstrained ``θ`` to a parameter domain."""

    def forward(self, theta: Array) -> Array:
        """``x = c(θ)``."""
        raise NotImplementedError

    def inverse(self, x: Array) -> Array:
        """``θ = c⁻¹(x)`` (raises for values outside the domain when concrete)."""
        raise NotImplementedError


class Identity(Constraint):
    """No constraint: ``x = θ``."""

    def forward(self, theta: Array) -> Array:
        return theta

    def inverse(self, x: Array) -> Array:
        return jnp.asarray(x)


class Positive(Constraint):
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


class Log(Constraint):
    """``x = e^θ`` — positive, moved in relative steps (timescales, rates)."""

    def forward(self, theta: Array) -> Array:
        return jnp.exp(theta)

    def inverse(self, x: Array) -> Array:
        _check_domain(jnp.asarray(x) > 0, "a positive value", x)
        return jnp.log(jnp.asarray(x))


class Interval(Constraint):
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


def get_constraint(spec: str | Constraint | None) -> Constraint:
    """A :class:`Constraint` from a name (``"identity"``, ``"positive"``, ``"log"``) or itself."""
    if spec is None:
        return Identity()
    if isinstance(spec, Constraint):
        return spec
    if isinstance(spec, str) and spec in _NAMED:
        return _NAMED[spec]()
    raise ValueError(f"constraint must be a Constraint or one of {sorted(_NAMED)}; got {spec!r}.")


# ----------------------------------------------------------------------------- selection


def _is_constraint(x: Any) -> bool:
    return isinstance(x, Constraint) or isinstance(x, str) or x is None


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
    one :class:`Constraint` (or name) for all of them or a tree of them matching the selection
    (module docstring). ``args`` is passed to ``loss_fn`` unchanged: ``jax.vmap`` over it (or
    over the model) tunes a batch in one program. ``has_aux``: ``loss_fn`` returns
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
    is_c = lambda x: isinstance(x, Constraint)  # noqa: E731

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
        leaves, treedef = jax.tree.flatten(theta)
        flat = jnp.concatenate([jnp.ravel(x) for x in leaves])
        eps = jax.random.normal(key, (samples, flat.size), flat.dtype)
        pts = jnp.concatenate([flat[None], flat + sigma * eps, flat - sigma * eps])

        def unflat(v: Array) -> PyTree:
            out, i = [], 0
            for x in leaves:
                out.append(v[i : i + x.size].reshape(x.shape).astype(x.dtype))
                i += x.size
            return jax.tree.unflatten(treedef, out)

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


# ----------------------------------------------------------------------------- surrogates


def _crossings(ts: Array, x: Array, level: float | Array, direction: str) -> tuple[Array, Array]:
    """Per save interval: whether ``x`` crosses ``level`` and the interpolated crossing time."""
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be 'up', 'down' or 'both'; got {direction!r}.")
    ts, x = jnp.asarray(ts), jnp.asarray(x)
    if x.ndim != 1 or ts.shape != x.shape or x.shape[0] < 2:
        raise ValueError(f"ts and x must be 1-D of equal length >= 2; got {ts.shape}, {x.shape}.")
    d = x - level
    d0, d1 = d[:-1], d[1:]
    up = (d0 < 0) & (d1 >= 0)
    down = (d0 >= 0) & (d1 < 0)
    hit = {"up": up, "down": down, "both": up | down}[direction]
    denom = jnp.where(hit, d1 - d0, 1.0)
    frac = jnp.where(hit, -d0 / denom, 0.0)
    return hit, ts[:-1] + frac * (ts[1:] - ts[:-1])


def crossing_times(
    ts: Float[ArrayLike, " T"],
    x: Float[ArrayLike, " T"],
    level: float | Array,
    *,
    direction: str = "up",
    max_crossings: int = 32,
) -> tuple[Float[Array, " K"], Array]:
    """Times at which ``x`` crosses ``level`` (``"up"``, ``"down"`` or ``"both"``), linearly
    interpolated between saves (module docstring); differentiable in ``x`` and ``ts``.

    Returns ``(times, count)``: the first ``max_crossings`` times (NaN-padded) and how many
    crossings there were in all.
    """
    hit, t = _crossings(ts, x, level, direction)
    (idx,) = jnp.nonzero(hit, size=max_crossings, fill_value=0)
    valid = jnp.arange(max_crossings) < jnp.sum(hit)
    return jnp.where(valid, t[idx], jnp.nan), jnp.sum(hit)


def crossing_period(
    ts: Float[ArrayLike, " T"],
    x: Float[ArrayLike, " T"],
    level: float | Array,
    *,
    cycles: int = 1,
    direction: str = "up",
) -> Float[Array, ""]:
    """Mean spacing of the last ``cycles + 1`` crossings of ``level``: ``(t_n − t_{n−c}) / c``.

    A smooth surrogate of a trajectory's period (one crossing per cycle in the chosen direction;
    the last cycles are used, after the transient). NaN with fewer than ``cycles + 1`` crossings.
    """
    if cycles < 1:
        raise ValueError(f"cycles must be >= 1; got {cycles}.")
    hit, t = _crossings(ts, x, level, direction)
    rank = jnp.cumsum(hit)
    n = rank[-1]
    last = jnp.sum(jnp.where(hit & (rank == n), t, 0.0))
    first = jnp.sum(jnp.where(hit & (rank == n - cycles), t, 0.0))
    return jnp.where(n >= cycles + 1, (last - first) / cycles, jnp.nan)


def autocorr_period(
    ts: Float[ArrayLike, " T"],
    x: Float[ArrayLike, "T *D"],
    *,
    min_lag: float,
    max_lag: float | None = None,
) -> Float[Array, ""]:
    """Period from the autocorrelation ``C(k) = Σ_t ⟨x_t − x̄, x_{t+k} − x̄⟩ / (T − k)``.

    The lag ``k ∈ [min_lag, max_lag]`` (time units; default up to half the record) of the
    largest ``C`` is refined by the vertex of the parabola through ``C(k−1), C(k), C(k+1)``:
    ``(k + ½ (C_{k−1} − C_{k+1}) / (C_{k−1} − 2C_k + C_{k+1})) Δt``. Needs uniform ``ts``;
    ``C`` by FFT (``O(T log T)``). ``x`` may carry trailing feature axes (overlaps ``(T, P)``).
    """
    ts = jnp.asarray(ts)
    x = jnp.asarray(x)
    if ts.ndim != 1 or x.shape[0] != ts.shape[0] or ts.shape[0] < 8:
        raise ValueError(f"need ts (T,) and x (T, ...) with T >= 8; got {ts.shape}, {x.shape}.")
    T = ts.shape[0]
    dt = (ts[-1] - ts[0]) / (T - 1)
    xc = (x - x.mean(axis=0)).reshape(T, -1)
    n = 2 * T
    f = jnp.fft.rfft(xc, n=n, axis=0)
    c = jnp.fft.irfft(f * jnp.conj(f), n=n, axis=0)[:T].sum(axis=1) / (T - jnp.arange(T))
    k = jnp.arange(T)
    lo = jnp.ceil(min_lag / dt)
    hi = T // 2 if max_lag is None else jnp.floor(max_lag / dt)
    allowed = (k >= jnp.maximum(lo, 1)) & (k <= jnp.minimum(hi, T - 2))
    kbest = jnp.argmax(jnp.where(allowed, c, -jnp.inf))
    cm, c0, cp = c[kbest - 1], c[kbest], c[kbest + 1]
    curv = cm - 2 * c0 + cp
    shift = jnp.where(curv < 0, 0.5 * (cm - cp) / jnp.where(curv < 0, curv, -1.0), 0.0)
    return (kbest + jnp.clip(shift, -0.5, 0.5)) * dt


class SoftOrder(eqx.Module):
    """Soft transition statistics of an overlap trajectory (:func:`soft_order`).

    ``correct``: soft count of moves along ``Φ``; ``wrong``: of other moves between memories;
    ``quality``: mean of ``Σ_k p_t[k] m_t[k]`` (the soft leader's overlap); ``visits``: soft
    number of saves each memory led, ``(P,)``.
    """

    correct: Array
    wrong: Array
    quality: Array
    visits: Array

    @property
    def order_score(self) -> Array:
        """``correct / (correct + wrong)`` — the soft fraction of moves in the right order."""
        return self.correct / jnp.maximum(self.correct + self.wrong, 1e-12)


def soft_transitions(
    m: Float[ArrayLike, "T P"], *, beta: float | Array = 20.0
) -> Float[Array, "P P"]:
    """Soft transition counts ``M = Σ_t p_t p_{t+1}ᵀ`` with ``p_t = softmax(β m_t)``.

    ``M[i, j]`` → the number of save-to-save moves from leader ``i`` to leader ``j`` as
    ``β → ∞`` (the diagonal counts stays).
    """
    m = jnp.asarray(m)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(f"m must be overlaps of shape (T, P) with T >= 2; got {m.shape}.")
    p = jax.nn.softmax(beta * m, axis=-1)
    return p[:-1].T @ p[1:]


def soft_order(
    m: Float[ArrayLike, "T P"], phi: Float[ArrayLike, "P P"], *, beta: float | Array = 20.0
) -> SoftOrder:
    """Soft order-correctness of a retrieved episode: the overlaps ``m`` (saved at a spacing
    shorter than a dwell) judged against the successor matrix ``phi`` (``phi[i, j] = 1`` when
    ``j`` follows ``i``); see :class:`SoftOrder` and the module docstring."""
    m = jnp.asarray(m)
    phi = jnp.asarray(phi, m.dtype)
    if phi.shape != (m.shape[-1],) * 2:
        raise ValueError(f"phi must be (P, P) with P = {m.shape[-1]}; got {phi.shape}.")
    M = soft_transitions(m, beta=beta)
    off = 1.0 - jnp.eye(phi.shape[0], dtype=m.dtype)
    correct = jnp.sum(M * phi * off)
    wrong = jnp.sum(M * off) - correct
    p = jax.nn.softmax(beta * m, axis=-1)
    quality = jnp.mean(jnp.sum(p * m, axis=-1))
    return SoftOrder(correct, wrong, quality, p.sum(axis=0))
