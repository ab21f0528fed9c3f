"""Experiment ``dam_capacity``: capacity of dense associative memories vs N (Krotov & Hopfield
2016, arXiv:1606.01164; Demircigil et al. 2017, doi:10.1007/s10955-017-1806-y).

Per row (model, N, seed): random bipolar patterns, cues = ``cues`` of them with a fraction
``flip`` of their bits flipped, synchronous exact-energy updates (:class:`hopjax.dense.DenseAM`
through :func:`hopjax.classical.run`) to an attractor; a cue is retrieved when the attractor is
the cued pattern exactly. The number of stored patterns runs over a ladder ``ladder × P_guide``
in one vmapped program (``num_patterns`` masks the rest): ``P_guide = N^{n−1} / (2 (2n−3)!!
ln N)`` for ``F_n`` (Krotov & Hopfield 2016) and ``2^{N/2}`` for the exponential model
(Demircigil et al. 2017). ``capacity`` is the load where the retrieved fraction crosses
``level`` (log-linear interpolation between ladder points; NaN if it never does).

``model``: ``poly2``, ``poly3``, ``poly4`` (``F_n = xⁿ/n``) and ``exp`` (``F = exp``).
Summary: the fitted log-log slope of capacity vs N per model
(``{"slope": {"2": …, "3": …, "4": …, "exp": …}}``; theory ``n − 1`` up to the ``1/ln N``
factor) and the capacities per N.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.classical import run
from hopjax.dense import DenseAM, polynomial_capacity
from hopjax.patterns import flip, random_bipolar
from hopjax.sweep import (
    ConfigError,
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    SweepConfig,
    param,
)

Model = Literal["poly2", "poly3", "poly4", "exp"]


def guide_capacity(model: str, N: int) -> float:
    """The literature scale of the capacity used to place the ladder."""
    if model == "exp":
        return 2.0 ** (N / 2)
    return polynomial_capacity(N, int(model[-1]) - 1)


@dataclasses.dataclass
class DamCapacityConfig(SweepConfig):
    """Config of ``dam_capacity`` (grid keys: model, N)."""

    model: list[Model] = dataclasses.field(default_factory=lambda: ["poly2", "poly3", "poly4"])
    N: list[int] = param([32, 48, 64], ge=4)
    ladder: list[float] = dataclasses.field(
        default_factory=lambda: [0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0],
        metadata={"grid": False},
    )
    """Tried loads in units of the guide capacity."""
    flip: float = param(0.1, ge=0, lt=0.5)
    cues: int = param(32, ge=1)
    max_steps: int = param(20, ge=1)
    level: float = param(0.5, gt=0, lt=1)
    """Capacity = load where the retrieved fraction crosses this."""
    exp_max_n: int = 24
    """Exponential rows only for N up to this (its capacity grows like 2^{N/2})."""
    poly_min_n: int = 16
    """Polynomial rows only for N at least this."""
    poly_max_n: list[int] = dataclasses.field(
        default_factory=lambda: [1024, 256, 96], metadata={"grid": False, "unique": False}
    )
    """Largest N for poly2, poly3, poly4 (capacity ∝ N^{n−1}: the ladder's cost grows fast)."""

    def check(self) -> None:
        super().check()
        if min(self.ladder) <= 0 or len(self.ladder) < 2:
            raise ConfigError(f"'ladder' must hold >= 2 positive loads; got {self.ladder}.")

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        return {"loads": _loads(self, static["model"], static["N"])}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * max(_loads(self, p["model"], p["N"])) * p["N"] * self.cues

    def include(self, r: Row) -> bool:
        """Whether the grid point ``row`` applies."""
        if r["model"] == "exp":
            return r["N"] <= self.exp_max_n
        n = int(r["model"][-1])
        top = self.poly_max_n[n - 2] if n - 2 < len(self.poly_max_n) else max(self.N)
        return self.poly_min_n <= r["N"] <= top


def _loads(cfg: DamCapacityConfig | dict, model: str, N: int) -> list[int]:
    ladder = cfg["ladder"] if isinstance(cfg, dict) else cfg.ladder
    g = guide_capacity(model, N)
    return sorted({max(2, round(f * g)) for f in ladder})


def dam_capacity_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Retrieved fraction at every ladder load, and the crossing (described in
    :mod:`experiments.dam_capacity`)."""
    model, N, loads = p["model"], p["N"], p["loads"]
    Pmax = max(loads)
    k_xi, k_cue = jax.random.split(key)
    xi = random_bipolar(k_xi, Pmax, N)
    sep, deg = ("exponential", 1) if model == "exp" else ("polynomial", int(model[-1]))
    cue_keys = jax.random.split(k_cue, p["cues"])

    def at_load(P: Array) -> Array:
        net = DenseAM(xi, sep, degree=deg, num_patterns=P)
        idx = jnp.arange(p["cues"]) % P  # cue the first min(cues, P) patterns

        def one(i: Array, k: PRNGKeyArray) -> Array:
            res = run(net, flip(k, xi[i], fraction=p["flip"]), max_steps=p["max_steps"])
            return jnp.all(res.state == xi[i])

        return jnp.mean(jax.vmap(one)(idx, cue_keys).astype(jnp.float32))

    loads_arr = jnp.asarray(loads, jnp.int32)
    frac = jax.lax.map(at_load, loads_arr)
    logP = jnp.log(loads_arr.astype(jnp.float32))
    lvl = p["level"]
    above = frac >= lvl
    # first ladder index where the fraction falls below the level after being above it
    drop = above[:-1] & ~above[1:]
    i = jnp.argmax(drop)
    t = (frac[i] - lvl) / jnp.maximum(frac[i] - frac[i + 1], 1e-9)
    cap = jnp.where(jnp.any(drop), jnp.exp(logP[i] + t * (logP[i + 1] - logP[i])), jnp.nan)
    return {
        "capacity": cap,
        "guide": jnp.asarray(guide_capacity(model, N), jnp.float32),
        "frac_at_min_load": frac[0],
        "frac_at_max_load": frac[-1],
    }


def _by_model(cfg: DamCapacityConfig, rows: list[Row]) -> dict[str, tuple[list, list]]:
    out = {}
    for model in cfg.model:
        Ns, caps = [], []
        for N in sorted({r["N"] for r in rows if r["model"] == model}):
            vals = [r["capacity"] for r in rows if r["model"] == model and r["N"] == N]
            vals = [v for v in vals if not math.isnan(v)]
            if vals:
                Ns.append(N)
                caps.append(float(np.exp(np.mean(np.log(vals)))))  # geometric mean over seeds
        out[model] = (Ns, caps)
    return out


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Log-log slopes of capacity vs N per model (theory ``n − 1``) and the capacities."""
    cfg = ctx.cfg
    slope, caps = {}, {}
    for model, (Ns, cs) in _by_model(cfg, rows).items():
        name = "exp" if model == "exp" else model[-1]
        caps[name] = dict(zip(map(str, Ns), cs, strict=True))
        if len(Ns) >= 2:
            slope[name] = float(np.polyfit(np.log(Ns), np.log(cs), 1)[0])
    theory = {m[-1]: int(m[-1]) - 1 for m in cfg.model if m != "exp"}
    return {"slope": slope, "slope_theory": theory, "capacity": caps, "flip": cfg.flip}


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``dam_capacity.png``: capacity vs N per model, with the theory scale (dotted)."""
    cfg = ctx.cfg
    fig, ax = hplot.subplots(figsize=(6.5, 4.5))
    for model, (Ns, cs) in _by_model(cfg, rows).items():
        name = "exp" if model == "exp" else model[-1]
        sl = summary["slope"].get(name)
        label = f"{model} (slope {sl:.2f})" if sl is not None else model
        line = ax.plot(Ns, cs, "o-", label=label)[0]
        grid = np.asarray(Ns, float)
        if grid.size:
            g = np.asarray([guide_capacity(model, int(n)) for n in grid])
            ax.plot(grid, g * cs[-1] / g[-1], ":", c=line.get_color(), lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="capacity (patterns)")
    ax.set_title(f"Dense AM capacity from {cfg.flip:.0%} flipped cues (dotted: theory scale)")
    ax.legend(fontsize=8)
    return [ctx.save(fig, "dam_capacity.png")]


EXPERIMENT = Experiment(
    name="dam_capacity",
    config=DamCapacityConfig,
    fn=dam_capacity_point,
    static=("model", "N"),
    metrics=("capacity", "guide", "frac_at_min_load", "frac_at_max_load"),
    description="dense associative memory capacity vs N: slopes n - 1, exponential growth",
    report=Report(summarize=summarize, plot=plot, headline=("slope", "slope_theory")),
)
