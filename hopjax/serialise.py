"""Save and load any hopjax model (or any equinox pytree): its arrays to one file.

Models are equinox modules, so this is :func:`equinox.tree_serialise_leaves`: the file holds the
array leaves; loading needs a model of the same structure (same class, shapes and static
settings) to fill — the "skeleton", as in equinox. Build it with the constructor on zeros of the
right shape, e.g. ``like = hj.Hopfield(jnp.zeros((N, N)))``, or with ``jax.eval_shape``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import equinox as eqx

__all__ = ["load", "save"]

M = TypeVar("M")


def save(path: str | Path, model: object) -> Path:
    """Write ``model``'s arrays to ``path`` (``.eqx`` is a good suffix); returns the path."""
    path = Path(path)
    eqx.tree_serialise_leaves(path, model)
    return path


def load(path: str | Path, like: M) -> M:
    """The model saved at ``path``, read into the structure of ``like`` (same class, shapes
    and static settings). A mismatch raises equinox's error naming the leaf."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no saved model at {path}.")
    return eqx.tree_deserialise_leaves(path, like)
