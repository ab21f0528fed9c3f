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
    # hopjax's program cache keys programs by source files, config and the experiment object;
    # tests also change library internals in-process (monkeypatch), which no key sees, and a
    # CLI test turns caching on process-wide: the tests that exercise the program cache turn
    # it on explicitly (tests/test_faults.py)
    os.environ.setdefault("HOPJAX_PROGRAM_CACHE", "0")
