"""Rows evaluated in blocks until decided, and pools of rows that refill decided slots.

The implementation lives in :mod:`hopjax._pool` (jax only), so that models outside the sweep
engine — :func:`hopjax.classical.run_async_pool` — use the same pool without importing the
engine; this module is where experiments find it.
"""

from hopjax._pool import Stepper as Stepper
from hopjax._pool import run_pool as run_pool
from hopjax._pool import run_row as run_row

__all__ = ["Stepper", "run_pool", "run_row"]
