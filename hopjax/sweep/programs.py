"""Compiled group programs, reused instead of traced again.

A warm rerun of a sweep used to spend most of its compile time *tracing and lowering* each
static group's program (JAX's persistent compilation cache is consulted only after both): on
the reduced Fig. 3 grid, 6.5 s of 7.2 s of "compile" with the XLA cache warm. Two levels:

* **in memory, for one run** — a static group run in several rounds (a scheduled experiment's
  ladder) lowers its program once; a later round with arguments of the same shapes reuses it.
  The program is a function of the group's static values and the experiment only (rows enter
  as arguments), so this is exact.
* **on disk, across runs** — when JAX's persistent compilation cache is on (``hopjax run`` turns
  it on; ``--no-cache`` turns both off), each compiled program is also stored as a serialised
  executable (:mod:`jax.experimental.serialize_executable`) under
  ``<cache dir>/hopjax-programs/``, keyed by everything it is built from: the hopjax and JAX
  versions, the backend and its devices, ``XLA_FLAGS``, the source of the hopjax package and of
  the experiment's folder, the whole resolved config, the group's static values and the
  arguments' structure, shapes and dtypes. A rerun loads it without tracing. One process only
  (a multi-process run compiles as before). An entry that does not load is compiled afresh.
  Only pure-XLA programs XLA compiled in this process are stored: on CPU, a program XLA loaded
  from its own cache, or one calling a library function registered at run time (LAPACK's QR,
  Cholesky … as custom calls), does not survive serialisation (the reloaded copy fails to run,
  or crashes), so such a group keeps JAX's warm path. A loaded program that raises when run is
  discarded and compiled afresh.
  ``HOPJAX_PROGRAM_CACHE=0`` turns this level off (JAX's own cache stays on); the entries are
  pickles, read only from the cache folder you own (as JAX's own cache entries are).

Loading an executable gives the program XLA compiled before, so results are bit-identical to a
fresh compile (tested).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

__all__ = ["ProgramCache"]

_XLA_CACHE_HITS = [0]
"""Programs JAX's persistent compilation cache served in this process (a monitoring event)."""


def _count_hit(event: str, **kwargs: Any) -> None:
    if event == "/jax/compilation_cache/cache_hits":
        _XLA_CACHE_HITS[0] += 1


jax.monitoring.register_event_listener(_count_hit)

_SOURCES: dict[str, str] = {}


def _tree_digest(folder: Path) -> str:
    """A digest of every ``.py`` file under ``folder`` (cached per process)."""
    key = str(folder)
    if key not in _SOURCES:
        h = hashlib.sha256()
        for f in sorted(folder.rglob("*.py")):
            h.update(str(f.relative_to(folder)).encode())
            h.update(f.read_bytes())
        _SOURCES[key] = h.hexdigest()
    return _SOURCES[key]


def _fingerprint(obj: Any, depth: int = 0) -> Any:
    """What an experiment object computes with, as plain data: its fields, and for each
    function its name, bytecode, constants, defaults and closure values (a Stepper replaced
    in-process with other ``slots``, or a lambda closing over another value, is another
    program). Objects it does not know are their type and ``repr``."""
    import dataclasses
    import functools
    import types

    if depth > 6:
        return "…"
    if isinstance(obj, bool | int | float | str | type(None)):
        return obj
    if isinstance(obj, tuple | list):
        return [_fingerprint(v, depth + 1) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _fingerprint(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    if isinstance(obj, functools.partial):
        return [
            "partial",
            *(_fingerprint(v, depth + 1) for v in (obj.func, obj.args, obj.keywords)),
        ]
    if isinstance(obj, types.FunctionType):
        code = obj.__code__
        cells = [c.cell_contents for c in obj.__closure__ or () if _has(c)]
        return [
            f"{obj.__module__}.{obj.__qualname__}",
            _code_digest(code),
            _fingerprint(obj.__defaults__, depth + 1),
            _fingerprint(cells, depth + 1),
        ]
    if dataclasses.is_dataclass(obj):
        return [
            type(obj).__qualname__,
            {
                f.name: _fingerprint(getattr(obj, f.name, None), depth + 1)
                for f in dataclasses.fields(obj)
            },
        ]
    return [type(obj).__qualname__, repr(obj)[:200]]


def _code_digest(code: Any) -> str:
    """A digest of a code object: its bytecode and constants, nested code objects (lambdas,
    comprehensions) by their own digest — no memory addresses."""
    import types

    h = hashlib.sha256(code.co_code)
    for c in code.co_consts:
        h.update(_code_digest(c).encode() if isinstance(c, types.CodeType) else repr(c).encode())
    h.update(repr(code.co_names).encode())
    return h.hexdigest()[:16]


def _has(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # an empty cell
        return False
    return True


def experiment_files(exp: Any) -> list[Path]:
    """The source files of the functions an experiment (and its report and stepper) is made
    of: what a run's code fingerprint hashes (the program cache's key, the multi-process
    check)."""
    import dataclasses

    files: set[Path] = set()
    for obj in (exp, getattr(exp, "report", None)):
        if obj is None or not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            continue
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            targets = [value]
            if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a Stepper
                targets = [getattr(value, f.name, None) for f in dataclasses.fields(value)]
            for t in targets:
                if callable(t):
                    try:
                        files.add(Path(inspect.getfile(t)).resolve())
                    except (TypeError, OSError):
                        pass
    return sorted(files)


class ProgramCache:
    """The compiled programs of one sweep invocation (described in :mod:`hopjax.sweep.programs`)."""

    def __init__(self, exp: Any, cfg: Any, *, disk: bool = True):
        self.memory: dict[tuple[Any, ...], Any] = {}
        self.seconds = 0.0
        """The compile seconds of the program :meth:`get` returned last: measured, or for one
        loaded from disk the seconds its first compilation took (0 from memory)."""
        self.folder: Path | None = None
        cache_dir = jax.config.jax_compilation_cache_dir
        if os.environ.get("HOPJAX_PROGRAM_CACHE", "1").strip().lower() in ("0", "false", "no"):
            disk = False
        if disk and cache_dir:
            import hopjax
            from hopjax.sweep.config import config_to_dict

            package = Path(hopjax.__file__).resolve().parent
            parents = sorted({f.parent for f in experiment_files(exp)})
            folders = [f for f in parents if package not in (f, *f.parents)]
            devices = [(d.platform, d.device_kind) for d in jax.devices()]
            parts = {
                "hopjax": hopjax.__version__,
                "jax": jax.__version__,
                "jaxlib": getattr(jax.lib, "__version__", None),
                "devices": devices,
                "xla_flags": os.environ.get("XLA_FLAGS", ""),
                "x64": bool(jax.config.jax_enable_x64),
                "package": _tree_digest(package),
                "experiment": [_tree_digest(f) for f in folders],
                "name": exp.name,
                "object": _fingerprint(exp),
                "config": config_to_dict(cfg),
            }
            text = json.dumps(parts, sort_keys=True, default=str)
            self.base = hashlib.sha256(text.encode()).hexdigest()
            self.folder = Path(cache_dir) / "hopjax-programs"

    @staticmethod
    def signature(static: dict[str, Any], args: Any) -> tuple[Any, ...]:
        leaves, tree = jax.tree_util.tree_flatten(args)
        avals = tuple(
            (tuple(x.shape), str(x.dtype), str(getattr(x, "sharding", ""))) for x in leaves
        )
        return (tuple(sorted((k, repr(v)) for k, v in static.items())), str(tree), avals)

    def get(
        self, static: dict[str, Any], args: Any, compile_: Callable[[], Any]
    ) -> tuple[Any, str]:
        """The compiled program for ``static`` and arguments shaped like ``args``, and where it
        came from: ``"memory"``, ``"disk"`` or ``"compiled"`` (by ``compile_()``)."""
        sig = self.signature(static, args)
        self.seconds = 0.0
        if sig in self.memory:
            return self.memory[sig], "memory"
        path = None
        if self.folder is not None:
            digest = hashlib.sha256((self.base + repr(sig)).encode()).hexdigest()
            path = self.folder / f"{digest}.pkl"
            loaded = self._load(path)
            if loaded is not None:
                compiled, self.seconds = loaded
                self.memory[sig] = compiled
                return compiled, "disk"
        hits = _XLA_CACHE_HITS[0]
        t0 = time.perf_counter()
        compiled = compile_()
        self.seconds = time.perf_counter() - t0
        self.memory[sig] = compiled
        # An executable XLA itself loaded from its persistent cache does not survive
        # serialisation on CPU (running the reloaded copy fails: "Function … not found"), so
        # only a program XLA compiled here is stored.
        if path is not None and _XLA_CACHE_HITS[0] == hits:
            self._store(path, compiled, self.seconds)
        return compiled, "compiled"

    @staticmethod
    def _load(path: Path) -> tuple[Any, float] | None:
        """The stored program and the seconds its compilation took, or ``None``."""
        if not path.is_file():
            return None
        try:
            from jax.experimental import serialize_executable

            payload, in_tree, out_tree, seconds = pickle.loads(path.read_bytes())
            loaded = serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
            return loaded, float(seconds)
        except Exception:  # damaged, older, or from an incompatible runtime: compile afresh
            return None

    def discard(self, static: dict[str, Any], args: Any) -> None:
        """Forget the program for ``static`` and ``args`` (memory and disk): one that failed
        to run after loading is compiled afresh."""
        sig = self.signature(static, args)
        self.memory.pop(sig, None)
        if self.folder is not None:
            digest = hashlib.sha256((self.base + repr(sig)).encode()).hexdigest()
            (self.folder / f"{digest}.pkl").unlink(missing_ok=True)

    @staticmethod
    def _store(path: Path, compiled: Any, seconds: float) -> None:
        try:
            # a program calling a runtime-registered library function (LAPACK through XLA's
            # FFI: QR, Cholesky, eigh …) does not survive serialisation on CPU — the reloaded
            # copy crashes — so only pure-XLA programs are stored
            if "custom_call_target" in compiled.as_text():
                return
            from jax.experimental import serialize_executable

            blob = pickle.dumps((*serialize_executable.serialize(compiled), seconds))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, path)
        except Exception:  # a program that cannot be serialised (a host callback), a full disk
            return
