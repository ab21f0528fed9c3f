"""Row PRNG keys: one derivation, used by the engine and by every re-run of a row.

A row's key is ``fold_in(fold_in(PRNGKey(base_seed), seed), h)`` with ``h`` a CRC32 of the row's
grid values minus the experiment's ``key_exclude`` keys (rows differing only in those share
their random draws). Keys never depend on chunk position, chunk size or device count.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

import jax
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax.sweep.config import SweepConfig, grid_keys
from hopjax.sweep.experiment import Experiment, Row

__all__ = ["point_hash", "row_keys"]


def point_hash(row: Row, keys: Iterable[str]) -> int:
    """CRC32 (31 bits) of the row's values of ``keys``, in a canonical JSON form."""
    ident = json.dumps({k: row[k] for k in keys}, sort_keys=True)
    return zlib.crc32(ident.encode()) & 0x7FFFFFFF


@jax.jit
def _fold(base: PRNGKeyArray, seeds: Array, hashes: Array) -> PRNGKeyArray:
    return jax.vmap(lambda s, h: jax.random.fold_in(jax.random.fold_in(base, s), h))(seeds, hashes)


def row_keys(cfg: SweepConfig, exp: Experiment, rows: list[Row]) -> PRNGKeyArray:
    """The PRNG keys of ``rows``, stacked (described in :mod:`hopjax.sweep.keys`)."""
    hash_keys = [k for k in grid_keys(type(cfg)) if k not in exp.key_exclude]
    seeds = np.asarray([r["seed"] for r in rows], np.uint32)
    hashes = np.asarray([point_hash(r, hash_keys) for r in rows], np.uint32)
    return _fold(jax.random.PRNGKey(cfg.base_seed), seeds, hashes)
