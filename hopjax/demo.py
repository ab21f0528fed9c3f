"""Store random patterns, retrieve them from noisy cues, print a table (``hopjax demo``).

For every storage rule and load ``α = P/N``: store ``P`` random bipolar patterns in a network of
``N`` units, flip 10% of the bits of each pattern to make a cue, run the asynchronous dynamics to a
fixed point (all cues at once, one vmapped program) and report the mean final overlap with the
cued pattern, the fraction retrieved (overlap ≥ 0.95) and the mean number of sweeps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from hopjax.classical import Hopfield, run
from hopjax.patterns import flip, overlaps, random_bipolar

__all__ = ["RULES", "retrieval", "retrieval_rows"]

RULES = ("hebbian", "storkey", "pseudo_inverse")


def retrieval(
    key: PRNGKeyArray, *, n: int, p: int, rule: str, flip_fraction: float, mode: str
) -> dict[str, Array]:
    """Mean overlap, retrieved fraction and mean steps for ``p`` cued patterns."""
    k_xi, k_cue, k_run = jax.random.split(key, 3)
    xi = random_bipolar(k_xi, p, n)
    model = Hopfield.from_patterns(xi, rule)
    cues = jax.vmap(partial(flip, fraction=flip_fraction))(jax.random.split(k_cue, p), xi)
    res = jax.vmap(lambda s, k: run(model, s, max_steps=100, mode=mode, key=k))(
        cues, jax.random.split(k_run, p)
    )
    m = jnp.diagonal(overlaps(xi, res.state))
    return {"overlap": m.mean(), "retrieved": (m >= 0.95).mean(), "steps": res.steps.mean()}


def retrieval_rows(
    *, n: int, alphas: list[float], flip_fraction: float, mode: str, seed: int
) -> Iterator[dict[str, object]]:
    """One row per (rule, α) as it finishes: rule, α, P, overlap, retrieved, steps, seconds."""
    key = jax.random.PRNGKey(seed)
    for rule in RULES:
        for alpha in alphas:
            p = max(1, round(alpha * n))
            if rule == "pseudo_inverse" and p >= n:
                continue
            t0 = time.perf_counter()
            f = jax.jit(
                partial(retrieval, n=n, p=p, rule=rule, flip_fraction=flip_fraction, mode=mode)
            )
            out = jax.device_get(f(jax.random.fold_in(key, p)))
            yield {
                "rule": rule,
                "alpha": alpha,
                "P": p,
                **{k: float(v) for k, v in out.items()},
                "seconds": time.perf_counter() - t0,
            }
