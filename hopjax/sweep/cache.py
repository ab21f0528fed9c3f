"""JAX's persistent compilation cache for sweeps: a rerun or a resume of the same config finds its
compiled programs on disk instead of compiling them again (``hopjax run`` turns it on)."""

from __future__ import annotations

import os
from pathlib import Path

import jax

__all__ = ["default_cache_dir", "enable_compilation_cache"]


def default_cache_dir() -> Path:
    """``$HOPJAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/hopjax/xla`` (``~/.cache/hopjax/xla``)."""
    if os.environ.get("HOPJAX_CACHE_DIR"):
        return Path(os.environ["HOPJAX_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hopjax" / "xla"


def enable_compilation_cache(path: str | Path | None = None, *, min_seconds: float = 0.5) -> Path:
    """Store compiled XLA programs that took at least ``min_seconds`` to compile under ``path``
    (default :func:`default_cache_dir`) and reuse them in later processes. A process-wide JAX
    setting: call it once, before compiling."""
    path = Path(path) if path is not None else default_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_seconds))
    return path
