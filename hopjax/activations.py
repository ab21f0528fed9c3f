"""Activations as gradients of convex Lagrangians: ``σ = ∇L`` (Krotov and Hopfield 2021).

An :class:`Activation` pairs an elementwise ``psi = ℓ'`` with its Lagrangian ``ell = ℓ``
(``L(x) = Σ_i ℓ(x_i)``). Energies of the continuous models are written with them
(``xᵀσ(x) − L(x)`` terms: the IDP energy, eqs. (2)–(3) of :mod:`hopjax.idp`'s source, and the
GSEMM energy, Karuvally et al. 2023 eqs. (3)–(4)), so any pair with ``ℓ``
convex keeps the energy non-increasing along the fast dynamics.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import jax.numpy as jnp
from jaxtyping import Array

__all__ = ["HARDTANH", "TANH", "Activation", "get_activation", "polynomial"]


@dataclasses.dataclass(frozen=True)
class Activation:
    """A diagonal activation ``ψ = ℓ'`` with convex Lagrangian ``ℓ``, both elementwise."""

    name: str
    psi: Callable[[Array], Array]
    ell: Callable[[Array], Array]


def _hardtanh_ell(x: Array) -> Array:
    ax = jnp.abs(x)
    return jnp.where(ax <= 1.0, 0.5 * x * x, ax - 0.5)


def _logcosh(x: Array) -> Array:  # log cosh x = |x| + log1p(e^{−2|x|}) − log 2, overflow-free
    ax = jnp.abs(x)
    return ax + jnp.log1p(jnp.exp(-2.0 * ax)) - jnp.log(2.0).astype(ax.dtype)


HARDTANH = Activation("hardtanh", lambda x: jnp.clip(x, -1.0, 1.0), _hardtanh_ell)
"""``ψ(x) = clip(x, −1, 1)``; ``ℓ(x) = x²/2`` on ``|x| ≤ 1``, ``|x| − ½`` outside."""

TANH = Activation("tanh", jnp.tanh, _logcosh)
"""``ψ = tanh``, ``ℓ = log cosh`` (computed without overflow)."""


def polynomial(n: int) -> Activation:
    """Sign-preserving power ``ψ(x) = sign(x) |x|^n``, ``ℓ(x) = |x|^{n+1} / (n+1)``.

    For odd ``n`` this is ``x^n`` (the Dense GSEMM of Karuvally et al. 2023); for even ``n`` plain
    ``x^n`` would be
    non-monotone with a non-convex Lagrangian (no energy descent, ``±`` overlaps confused), so the
    sign is kept: the odd extension of ``|x|^n``. ``n = 0`` is ``sign``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"degree n must be an integer >= 0; got {n!r}.")
    if n not in _POLY:  # one object per degree: equal static fields, one compiled program
        if n == 1:
            _POLY[n] = Activation("poly1", lambda x: x, lambda x: 0.5 * x * x)
        else:
            _POLY[n] = Activation(
                f"poly{n}",
                lambda x: jnp.sign(x) * jnp.abs(x) ** n,
                lambda x: jnp.abs(x) ** (n + 1) / (n + 1),
            )
    return _POLY[n]


_POLY: dict[int, Activation] = {}


_NAMED = {"hardtanh": HARDTANH, "tanh": TANH}


def activation_by_name(name: str) -> Activation | None:
    """hopjax's activation called ``name`` (``"hardtanh"``, ``"tanh"``, ``"poly<n>"``), or
    ``None`` — how a saved model names its activations (:mod:`hopjax.serialise`)."""
    if name in _NAMED:
        return _NAMED[name]
    match = re.fullmatch(r"poly(\d{1,3})", name)
    return polynomial(int(match.group(1))) if match else None


def is_named(activation: Activation) -> bool:
    """Whether ``activation`` is hopjax's own of its name (so the name rebuilds it)."""
    if activation.name in _NAMED:
        return activation is _NAMED[activation.name]
    return activation is activation_by_name(activation.name)


def get_activation(activation: str | Activation) -> Activation:
    """``"hardtanh"``, ``"tanh"`` or an :class:`Activation`."""
    if isinstance(activation, Activation):
        return activation
    try:
        return _NAMED[activation]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation must be one of {sorted(_NAMED)} or an Activation; got {activation!r}."
        ) from None
