"""Helpers shared by several experiments (each experiment file needs at most this one beside it).

Everything here is experiment-side glue: config relations several configs share, and exact
reductions and fits that more than one experiment reports. Library-level measurements live in
:mod:`hopjax.measure`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from hopjax.sweep import ConfigError, Params

__all__ = [
    "CuedLoad",
    "check_patterns",
    "check_save_every",
    "cued_mean",
    "extrapolate",
    "stored_network",
    "train_adamw",
    "unsolved_rows",
]


class CuedLoad:
    """Config methods of experiments whose rows store ``P = round(αN)`` random patterns, drawn
    ``p_max`` at a time per static group so that every load of a group shares one shape, and
    cue ``cues`` of them (``attractor_labels``, ``basins``). Mixed in before
    :class:`hopjax.sweep.SweepConfig`; the config has ``alpha`` (list) and ``cues``."""

    alpha: list[float]
    cues: int

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params): ``p_max``, the
        most patterns a row of the group stores or cues."""
        return {"p_max": max(max(self.cues, round(a * static["N"])) for a in self.alpha)}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing): the weights, the patterns and
        the cues' states."""
        N = p["N"]
        return 4 * N * (3 * N + 4 * p["p_max"]) + 4 * p["cues"] * N * 4


def stored_network(rule: str, xi: Array, P: Array) -> tuple[Any, Array]:
    """The network that stores the first ``P`` rows of ``xi`` (the others store nothing), and
    those rows (the rest zeroed). ``rule``: ``hebbian`` (on the 1/N lattice), ``storkey``,
    ``pseudo_inverse`` (zero diagonal), or a dense memory — ``dense2`` … ``dense4``
    (``F(x) = xⁿ``) and ``dense_exp`` (``F(x) = exp(x)``, β = 1)."""
    from hopjax.classical import Hopfield
    from hopjax.dense import DenseAM
    from hopjax.rules import hebbian, pseudo_inverse, storkey

    N = xi.shape[1]
    stored = jnp.where((jnp.arange(xi.shape[0]) < P)[:, None], xi, 0.0)
    if rule == "hebbian":
        return Hopfield(hebbian(stored), quantum=1.0 / N), stored
    if rule == "storkey":
        return Hopfield(storkey(stored)), stored
    if rule == "pseudo_inverse":
        return Hopfield(pseudo_inverse(stored, allow_dependent=True)), stored
    if rule == "dense_exp":
        return DenseAM(xi, separation="exponential", beta=1.0, num_patterns=P), stored
    if rule in ("dense2", "dense3", "dense4"):
        net = DenseAM(xi, separation="polynomial", degree=int(rule[-1]), num_patterns=P)
        return net, stored
    raise ValueError(
        f"'rule' must be one of hebbian, storkey, pseudo_inverse, dense2-4, "
        f"dense_exp; got {rule!r}."
    )


def cued_mean(x: Array, P: Array) -> Array:
    """Mean of the integer-valued ``x`` (one entry per cue) over the cues of stored patterns —
    the first ``min(cues, P)`` — as an integer sum over their count: exact, whatever the batch
    or the summation order."""
    cued = jnp.arange(x.shape[0]) < P
    return jnp.sum(jnp.where(cued, x, 0).astype(jnp.float32)) / jnp.sum(cued).astype(jnp.float32)


def extrapolate(ns: np.ndarray, alpha_c: np.ndarray) -> tuple[float, float]:
    """Least-squares fit ``α_c(N) = α_∞ + a N^{-1/2}``; returns ``(α_∞, a)``."""
    a, alpha_inf = np.polyfit(ns**-0.5, alpha_c, 1)
    return float(alpha_inf), float(a)


def check_patterns(cfg: Any) -> None:
    """Checks of ``N``, ``P`` and ``patterns`` (``idp_retrieval``, ``kleinfeld``): Hadamard
    patterns need ``N`` a power of two and ``P <= N``."""
    if min(cfg.N) < 2 or min(cfg.P) < 1:
        raise ConfigError(f"'N' must be >= 2 and 'P' >= 1; got N={cfg.N}, P={cfg.P}.")
    if cfg.patterns == "hadamard":
        bad = [n for n in cfg.N if n & (n - 1)]
        if bad:
            raise ConfigError(f"'N' must be powers of two for hadamard patterns; got {bad}.")
        if max(cfg.P) > min(cfg.N):
            raise ConfigError(f"'P' = {max(cfg.P)} exceeds N = {min(cfg.N)} (hadamard).")


def check_save_every(cfg: Any) -> None:
    """``save_every`` must be a whole multiple of ``dt`` (the GSEMM experiments save every
    ``round(save_every / dt)`` RK4 steps)."""
    ratio = cfg.save_every / cfg.dt
    if cfg.save_every < cfg.dt or abs(ratio - round(ratio)) > 1e-6:
        raise ConfigError("'save_every' must be a whole multiple of 'dt'.")


def ladder_top(ladder: list[int], size: int, cost_cap: float) -> int:
    """The largest K of ``ladder`` whose work ``K² · size`` stays within ``cost_cap`` (at least
    the smallest K): where a capped K ladder ends at a network size (``gsemm_scaling``,
    ``sequence_capacity``)."""
    fits = [k for k in ladder if k * k * size <= cost_cap]
    return max(fits) if fits else min(ladder)


def unsolved_rows(rows: list[dict[str, Any]]) -> int:
    """How many rows' ODE solves stopped before their end (``solved`` = 0: out of
    ``max_steps`` or another solver failure; their other metrics are not meaningful)."""
    return int(sum(1 for r in rows if r.get("solved", 1.0) != 1.0))


def train_adamw(
    model: Any,
    loss: Callable[..., Array],
    draw: Callable[[Array], tuple[Array, ...]],
    p: dict[str, Any],
    key: Array,
) -> tuple[Any, Array]:
    """Train an equinox ``model`` for ``p["steps"]`` steps of optax AdamW (learning rate
    ``p["learning_rate"]`` cosine-decayed to 0, ``p["weight_decay"]``), one ``lax.scan``: each
    step draws a minibatch ``draw(k)`` and descends ``loss(model, *batch)``. Returns the trained
    model and the loss of every step (``digits_pooling``, ``digits_mil``)."""
    import equinox as eqx
    import jax
    import optax

    params, static = eqx.partition(model, eqx.is_array)
    opt = optax.adamw(
        optax.cosine_decay_schedule(p["learning_rate"], p["steps"]),
        weight_decay=p["weight_decay"],
    )

    def step(carry: tuple, k: Array) -> tuple:
        params, state = carry
        batch = draw(k)
        val, g = jax.value_and_grad(lambda q: loss(eqx.combine(q, static), *batch))(params)
        upd, state = opt.update(g, state, params)
        return (optax.apply_updates(params, upd), state), val

    (params, _), losses = jax.lax.scan(
        step, (params, opt.init(params)), jax.random.split(key, p["steps"])
    )
    return eqx.combine(params, static), losses
