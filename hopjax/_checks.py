"""Input validation shared by every hopjax model.

Checks run as early as possible: on concrete (non-traced) inputs they raise a ``ValueError`` or
``TypeError`` naming the argument and the expectation; on traced inputs (inside ``jit``/``vmap``)
value checks become ``equinox.error_if`` so they still fire at run time, while shape and dtype
checks are static and always raise at trace time.

Traced value checks put a host callback into the compiled program, and JAX never writes such a
program to its persistent compilation cache. The sweep engine therefore traces its row programs
inside :func:`traced_checks` ``(False)`` — its configs are validated before anything runs — so
that a rerun or a resume loads them from disk instead of compiling again; everywhere else the
checks stay on.
"""

from __future__ import annotations

import contextlib
import contextvars
import operator
from collections.abc import Iterator

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

_TRACED_CHECKS = contextvars.ContextVar("hopjax_traced_checks", default=True)


@contextlib.contextmanager
def traced_checks(enabled: bool) -> Iterator[None]:
    """Within the block, value checks on traced inputs are emitted (``True``, the default) or
    left out (``False``: no ``eqx.error_if``, no host callback). Affects tracing only: programs
    already compiled keep what they were traced with."""
    token = _TRACED_CHECKS.set(bool(enabled))
    try:
        yield
    finally:
        _TRACED_CHECKS.reset(token)


def error_if(x: Array, pred: Array, msg: str) -> Array:
    """``eqx.error_if(x, pred, msg)`` while traced checks are on (:func:`traced_checks`), else
    ``x`` unchanged."""
    return eqx.error_if(x, pred, msg) if _TRACED_CHECKS.get() else x


def is_concrete(x: object) -> bool:
    """True when ``x`` holds actual values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def float_array(x: ArrayLike, name: str, *, ndim: int | tuple[int, ...] | None = None) -> Array:
    """Return ``x`` as a JAX array after checking it is floating point with ``ndim`` axes."""
    if not isinstance(x, jax.Array | np.ndarray | np.generic):
        x = np.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"{name} must be a floating-point array (float32 by default); got dtype {x.dtype}. "
            f"Convert it with {name}.astype(jnp.float32)."
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimension(s); got shape {tuple(x.shape)}.")
    return jnp.asarray(x)


def check_bipolar(x: Array, name: str, *, allow_zero: bool = False) -> Array:
    """Require every entry of ``x`` to be exactly ``+1`` or ``-1`` (or ``0`` if ``allow_zero``).

    Raises ``ValueError`` for concrete ``x``; returns ``x`` wrapped in ``eqx.error_if`` when traced.
    """
    want = "+1, -1 or 0 (0 = unknown)" if allow_zero else "+1 or -1"
    if is_concrete(x):
        arr = np.asarray(x)
        bad = (np.abs(arr) != 1) & ~((arr == 0) & allow_zero)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            found = float(arr[idx])
            msg = f"{name} must be bipolar (every entry {want}); found {found} at {idx}."
            raise ValueError(msg)
        return x
    bad = (jnp.abs(x) != 1) & ~((x == 0) & allow_zero)
    return error_if(x, jnp.any(bad), f"{name} must be bipolar (every entry {want}).")


def check_binary(x: Array, name: str) -> Array:
    """Require every entry of ``x`` to be exactly ``0`` or ``1`` (concrete ``x`` only)."""
    if is_concrete(x):
        arr = np.asarray(x)
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must be binary (every entry 0 or 1).")
    return x


def nonnegative(value: ArrayLike, name: str, *, strict: bool = False) -> Array:
    """``value`` as a float array, required finite and ``>= 0`` (``> 0`` with ``strict``).

    Raises ``ValueError`` naming ``name`` for concrete values; ``eqx.error_if`` when traced.
    """
    v = jnp.asarray(value, dtype=jnp.result_type(float, value))
    want = ("> 0" if strict else ">= 0") + " and finite"
    if is_concrete(v):  # numpy: inside a jit trace even jnp ops on constants give tracers
        arr = np.asarray(v)
        ok = (arr > 0) if strict else (arr >= 0)
        if not bool(np.all(ok & np.isfinite(arr))):
            raise ValueError(f"{name} must be {want}; got {arr}.")
        return v
    ok = ((v > 0) if strict else (v >= 0)) & jnp.isfinite(v)
    return error_if(v, jnp.any(~ok), f"{name} must be {want}.")


def finite(x: Array, name: str) -> Array:
    """Require every entry of ``x`` to be finite (no NaN/inf): ``ValueError`` for concrete
    ``x``, ``eqx.error_if`` when traced."""
    if is_concrete(x):
        arr = np.asarray(x)
        if not np.all(np.isfinite(arr)):
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"{name} must be finite; found {float(arr[idx])} at {idx}.")
        return x
    return error_if(x, ~jnp.all(jnp.isfinite(x)), f"{name} must be finite (no NaN/inf).")


def positive(value: ArrayLike, name: str) -> Array:
    """``value`` as a float array, required ``> 0`` (see :func:`nonnegative`)."""
    return nonnegative(value, name, strict=True)


def positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as a Python int, requiring ``value >= minimum``."""
    try:
        out = operator.index(value)  # rejects floats such as 3.0 and bools are ints by design
    except TypeError:
        raise TypeError(f"{name} must be an integer; got {value!r}.") from None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer; got {value!r}.")
    if out < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {out}.")
    return out


def fraction(value: object, name: str) -> float | Array:
    """Check ``0 <= value <= 1`` (``ValueError`` for a concrete number, ``eqx.error_if`` when
    traced)."""
    if is_concrete(value):
        v = float(np.asarray(value))
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1]; got {v}.")
        return v
    v = jnp.asarray(value)
    return error_if(v, ~((v >= 0) & (v <= 1)), f"{name} must lie in [0, 1].")


def same_length(n_expected: int, x: Array, name: str, what: str = "N") -> None:
    """Require the last axis of ``x`` to have length ``n_expected``."""
    if x.shape[-1] != n_expected:
        raise ValueError(
            f"{name} has last axis {x.shape[-1]} but the model has {what} = {n_expected}; "
            f"got shape {tuple(x.shape)}."
        )


def check_independent(x: Array, name: str, *, hint: str = "") -> Array:
    """Require the rows of ``x`` (shape ``(P, N)``) to be linearly independent (rank ``P``).

    The numerical rank counts singular values above ``σ_max · max(P, N) · eps``. Raises
    ``ValueError`` for concrete ``x``; returns ``x`` wrapped in ``eqx.error_if`` when traced.
    """
    P, N = x.shape
    msg = f"{name}: the {P} rows must be linearly independent"
    if P > N:
        raise ValueError(f"{msg}, which is impossible with P = {P} > N = {N}.{hint}")
    svals = jnp.linalg.svd(x, compute_uv=False)
    rank = jnp.sum(svals > svals[0] * max(P, N) * jnp.finfo(x.dtype).eps)
    if is_concrete(rank):
        if int(rank) < P:
            raise ValueError(f"{msg}; their rank is {int(rank)} < P = {P}.{hint}")
        return x
    return error_if(x, rank < P, msg + ".")
