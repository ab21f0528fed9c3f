"""Save and load any hopjax model (or equinox pytree of them): one file, every field kept.

A file holds a header — the model's class and, recursively, every field: static settings
(``quantum``, ``form``, ``degree``, activations by name, storage rules by import path…) as
values, arrays as shape and dtype — then the arrays, written by
:func:`equinox.tree_serialise_leaves`. ``load(path)`` rebuilds the model from the header alone;
a skeleton ``like`` stays optional and must then be of the saved class (and structure).

A model whose fields the header cannot describe (a user's own lambda, an object of a class
outside hopjax / equinox / jax) is saved with its arrays only, as equinox does, and loads only
into a skeleton (``load(path, like)``, with ``like`` built by the constructor on zeros of the
right shape, or ``jax.eval_shape``). Files written by hopjax before the header existed load the
same way.

Errors are one :class:`ValueError` naming the file: empty, truncated, trailing bytes, not a
hopjax model, or a skeleton of another class or structure.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import json
import re
import struct
from pathlib import Path
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["load", "save"]

M = TypeVar("M")

_MAGIC = b"HOPJAX-MODEL\n"
_VERSION = 1
_TRUSTED = ("hopjax", "equinox", "jax", "jaxlib", "numpy", "builtins")
"""Modules whose classes and functions a header may name (nothing else is imported on load)."""


class _UnsupportedError(Exception):
    """A field the header cannot describe (see :mod:`hopjax.serialise`)."""


def _where(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None)
    if not module or not name or "<" in name:
        raise _UnsupportedError(f"{obj!r} has no import path")
    if _resolve(f"{module}:{name}") is not obj:
        raise _UnsupportedError(f"{module}:{name} does not name {obj!r}")
    return f"{module}:{name}"


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    if module.split(".")[0] not in _TRUSTED:
        raise _UnsupportedError(f"{path}: only hopjax, equinox, jax and numpy names are loaded")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _describe(x: Any) -> Any:
    """The header entry of one field value (``_UnsupportedError`` when it has none)."""
    from hopjax.activations import Activation

    if isinstance(x, jax.Array | np.ndarray):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            raise _UnsupportedError("a typed PRNG key array")
        return {"array": list(x.shape), "dtype": str(x.dtype), "numpy": isinstance(x, np.ndarray)}
    if x is None or isinstance(x, bool | int | str):
        return {"value": x}
    if isinstance(x, float):
        return {"value": x}  # json writes inf / nan as Infinity / NaN, and reads them back
    if isinstance(x, enum.Enum):
        return {"enum": _where(type(x)), "name": x.name}
    if isinstance(x, tuple | list):
        return {type(x).__name__: [_describe(v) for v in x]}
    if isinstance(x, dict):
        if not all(isinstance(k, str) for k in x):
            raise _UnsupportedError("a dict with non-string keys")
        return {"dict": {k: _describe(v) for k, v in x.items()}}
    if isinstance(x, Activation):
        from hopjax.activations import is_named

        if not is_named(x):
            raise _UnsupportedError(f"activation {x.name!r} is not one of hopjax's")
        return {"activation": x.name}
    if isinstance(x, eqx.Module):
        fields = {f.name: _describe(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return {"module": _where(type(x)), "fields": fields}
    if callable(x):
        return {"function": _where(x)}
    raise _UnsupportedError(f"a {type(x).__name__}")


def _build(d: Any) -> Any:
    """The skeleton a header entry describes (arrays as zeros of the saved shape and dtype)."""
    from hopjax.activations import activation_by_name

    if not isinstance(d, dict) or len(d) == 0:
        raise _UnsupportedError("a damaged header entry")
    if "array" in d:
        zeros = np.zeros(tuple(d["array"]), np.dtype(d["dtype"]))
        return zeros if d.get("numpy") else jnp.asarray(zeros)
    if "value" in d:
        return d["value"]
    if "enum" in d:
        return _resolve(d["enum"])[d["name"]]
    if "tuple" in d:
        return tuple(_build(v) for v in d["tuple"])
    if "list" in d:
        return [_build(v) for v in d["list"]]
    if "dict" in d:
        return {k: _build(v) for k, v in d["dict"].items()}
    if "activation" in d:
        act = activation_by_name(d["activation"])
        if act is None:
            raise _UnsupportedError(f"unknown activation {d['activation']!r}")
        return act
    if "module" in d:
        cls = _resolve(d["module"])
        if not (isinstance(cls, type) and issubclass(cls, eqx.Module)):
            raise _UnsupportedError(f"{d['module']} is not an equinox module")
        obj = object.__new__(cls)  # as equinox's own unflatten: no __init__, fields as saved
        for name, value in d["fields"].items():
            object.__setattr__(obj, name, _build(value))
        return obj
    if "function" in d:
        return _resolve(d["function"])
    raise _UnsupportedError("a damaged header entry")


def save(path: str | Path, model: object) -> Path:
    """Write ``model`` — its class, every static field and its arrays — to ``path`` (``.eqx``
    is a good suffix); returns the path. :func:`load` rebuilds it from the file alone.

    Args:
        path: the file to write.
        model: any equinox module (a hopjax model or layer).

    Returns:
        The path written.
    """
    path = Path(path)
    try:
        header: dict[str, Any] = {"hopjax": _VERSION, "model": _describe(model)}
    except _UnsupportedError as e:  # arrays only: loads into a skeleton
        header = {"hopjax": _VERSION, "model": None, "why": str(e)}
    head = json.dumps(header).encode()
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, model)
    path.write_bytes(_MAGIC + struct.pack("<Q", len(head)) + head + buf.getvalue())
    return path


def load(path: str | Path, like: M | None = None) -> M:
    """The model saved at ``path``. Without ``like`` it is rebuilt from the file's header
    (every field as saved); with ``like`` (optional) the file must hold a model of
    ``like``'s class with arrays of its shapes, and the saved static fields are kept (a
    skeleton built with other static settings, e.g. ``Hopfield(zeros)``'s ``quantum=None``,
    does not overwrite the file's). A file written by equinox or an older hopjax (arrays only)
    needs ``like``. One ``ValueError`` naming the file for anything else (see the module
    docstring); ``FileNotFoundError`` when there is no file.

    Args:
        path: a file written by :func:`save`.
        like: optional skeleton of the expected class and shapes.

    Returns:
        The model, equal to the one saved.

    Raises:
        ValueError: a damaged file, or one that does not match ``like``.
        FileNotFoundError: no file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no saved model at {path}.")
    data = path.read_bytes()

    def bad(why: str) -> ValueError:
        return ValueError(f"{path}: {why}")

    if not data:
        raise bad("the file is empty (not a saved model).")
    skeleton: Any = None
    start = 0
    if data.startswith(_MAGIC):
        n0 = len(_MAGIC) + 8
        if len(data) < n0:
            raise bad("the file is truncated (its header is cut off).")
        (n,) = struct.unpack("<Q", data[len(_MAGIC) : n0])
        try:
            header = json.loads(data[n0 : n0 + n])
        except ValueError:
            raise bad("the file is truncated or damaged (its header is not readable).") from None
        if not isinstance(header, dict) or header.get("hopjax") != _VERSION:
            raise bad("not a model file of this hopjax version.")
        start = n0 + n
        if header.get("model") is not None:
            try:
                skeleton = _build(header["model"])
            except (_UnsupportedError, AttributeError, ImportError, KeyError, TypeError) as e:
                raise bad(f"the model cannot be rebuilt ({e}).") from None
            if like is not None and type(like) is not type(skeleton):
                raise bad(
                    f"holds a {type(skeleton).__name__}, not a {type(like).__name__} (the "
                    "skeleton's class); load(path) alone rebuilds the saved model."
                )
            if like is not None:  # its static fields may differ: the file's are kept
                mine = [np.shape(x) for x in jax.tree.leaves(like)]
                saved = [np.shape(x) for x in jax.tree.leaves(skeleton)]
                if mine != saved:
                    raise bad(
                        f"the saved {type(skeleton).__name__}'s arrays have shapes {saved}, the "
                        f"skeleton's {mine}; load(path) alone rebuilds the saved model."
                    )
        elif like is None:
            raise bad(
                "the file holds arrays only (the model had a field the header cannot "
                f"describe: {header.get('why')}); pass a skeleton: load(path, like)."
            )
    elif re.match(rb"\x93NUMPY", data) is None:
        raise bad("not a saved model (neither a hopjax header nor equinox's arrays).")
    elif like is None:
        raise bad(
            "the file holds arrays only (equinox's format); pass a skeleton: load(path, like)."
        )
    target = skeleton if skeleton is not None else like
    stream = io.BytesIO(data[start:])
    try:
        model = eqx.tree_deserialise_leaves(stream, target)
    except Exception as e:  # equinox / numpy: a cut-off array, a shape or dtype mismatch
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise bad(
            f"the arrays do not load ({first}): the file is truncated or damaged, or the "
            "skeleton does not match it."
        ) from None
    if stream.read(1):
        raise bad("trailing bytes after the model (a damaged or concatenated file).")
    return model
