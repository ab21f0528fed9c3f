"""Shared test helpers."""

import contextlib

import jax


@contextlib.contextmanager
def enable_x64():
    """Run a block in float64 (DESIGN.md: numerics tests use x64 where tolerances need it)."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def pytest_configure(config):
    """CLI runs inside the tests cache compiled programs in a throwaway folder, not ~/.cache."""
    import os
    import tempfile

    os.environ.setdefault("HOPJAX_CACHE_DIR", tempfile.mkdtemp(prefix="hopjax-test-cache-"))
