"""Experiment ``hopfield_phase``: the retrieval region of the Hebbian Hopfield network in the
(α, T) plane, measured by Monte Carlo beside the replica-symmetric boundary of Amit, Gutfreund &
Sompolinsky (Phys. Rev. Lett. 55, 1530 (1985); Ann. Phys. 173, 30 (1987)).

Per row (N, α, T, seed): ``P = round(αN)`` random patterns in Hebbian couplings (zero
diagonal); ``starts`` runs, each started *on* a stored pattern, of asynchronous Glauber sweeps at
temperature ``T`` (:meth:`hopjax.Hopfield.glauber_sweep` through the monitored
:func:`hopjax.run`); ``m`` is the overlap with the starting pattern averaged over the last
``measure`` of ``sweeps`` sweeps and over the starts. A retrieval state exists at (α, T) when
the state stays condensed: ``m ≥ level``.

Theory (:mod:`hopjax.ags`): ``α_M(T)``, the RS retrieval line, solved in JAX (bisection, then
optimistix's Newton method on the saddle-point equations with the spinodal condition).
Summary: per ``T``, the theory ``alpha_theory`` (and the whole line ``theory_line``) and per
``N`` the measured boundary
``alpha_measured`` (the α where the seed-mean ``m`` crosses ``level``, linear interpolation on
the α grid; ``null`` when it does not cross inside it). Finite ``N`` and finite sweeps let the
retrieval state outlive the RS line a little (metastability; the margin shrinks as ``N``
grows), see the README.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import ags
from hopjax import plot as hplot
from hopjax.classical import Hopfield, run
from hopjax.patterns import random_bipolar
from hopjax.rules import hebbian
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


@dataclasses.dataclass
class HopfieldPhaseConfig(SweepConfig):
    """Config of ``hopfield_phase`` (grid keys: N, T, alpha)."""

    N: list[int] = param([250, 500, 1000], ge=16)
    T: list[float] = param([0.1, 0.3, 0.5], gt=0)
    alpha: list[float] = param([0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18], gt=0, lt=1)
    starts: int = param(4, ge=1)
    """Runs per row, each started on another stored pattern (its own noise)."""
    sweeps: int = param(40, ge=1)
    """Glauber sweeps per run."""
    measure: int = 20
    """The last ``measure`` sweeps are averaged."""
    level: float = param(0.5, gt=0, lt=1)
    """Retrieval when the averaged overlap is at least this."""

    def check(self) -> None:
        super().check()
        if not 1 <= self.measure <= self.sweeps:
            raise ConfigError(f"'measure' must lie in [1, sweeps = {self.sweeps}].")

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        return {"p_max": _p_max(self, static["N"])}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * p["N"] * (p["N"] + 2 * _p_max(self, p["N"])) * 2


def _p_max(cfg: HopfieldPhaseConfig | dict, N: int) -> int:
    alphas = cfg["alpha"] if isinstance(cfg, dict) else cfg.alpha
    starts = cfg["starts"] if isinstance(cfg, dict) else cfg.starts
    return max(starts, max(max(1, round(a * N)) for a in alphas))


def hopfield_phase_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Mean equilibrium overlap with the starting pattern (described in
    :mod:`experiments.hopfield_phase`)."""
    N, starts = p["N"], p["starts"]
    P = jnp.maximum(jnp.round(p["alpha"] * N).astype(jnp.int32), 1)
    k_xi, k_run = jax.random.split(key)
    xi = random_bipolar(k_xi, p["p_max"], N)
    stored = (jnp.arange(p["p_max"]) < P)[:, None]
    # Hebbian couplings of the first P patterns (zero rows store nothing), zero diagonal
    net = Hopfield(hebbian(jnp.where(stored, xi, 0.0)), quantum=1.0 / N)

    def one(i: Array, k: PRNGKeyArray) -> Array:
        res = run(
            net,
            xi[i],
            max_steps=p["sweeps"],
            mode="async",
            key=k,
            temperature=p["T"],
            record=True,
            patterns=xi[i][None],
        )
        return jnp.mean(res.overlaps[-p["measure"] :, 0])

    m = jax.vmap(one)(jnp.arange(starts), jax.random.split(k_run, starts))
    return {"m": jnp.mean(m), "retrieved": jnp.mean((m >= p["level"]).astype(jnp.float32))}


def _mean_m(rows: list[Row], N: int, T: float) -> tuple[list[float], list[float]]:
    alphas = sorted({r["alpha"] for r in rows if r["N"] == N and r["T"] == T})
    ms = [
        float(np.mean([r["m"] for r in rows if r["N"] == N and r["T"] == T and r["alpha"] == a]))
        for a in alphas
    ]
    return alphas, ms


def _crossing(alphas: list[float], ms: list[float], level: float) -> float | None:
    """The first α where ``m`` falls below ``level`` (linear interpolation)."""
    for i in range(len(alphas) - 1):
        if ms[i] >= level > ms[i + 1]:
            t = (ms[i] - level) / (ms[i] - ms[i + 1])
            return float(alphas[i] + t * (alphas[i + 1] - alphas[i]))
    return None


def theory_curve(Ts: list[float]) -> list[float]:
    """``α_M(T)`` of the RS theory at each ``T`` (:func:`hopjax.ags.boundary`)."""
    return [float(a) for a in jax.jit(jax.vmap(ags.boundary))(jnp.asarray(Ts, jnp.float32))]


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Theory and measured boundary per T (and per N for the measurement)."""
    cfg = ctx.cfg
    Ts = sorted(cfg.T)
    theory = theory_curve(Ts)
    measured = {
        str(N): {str(T): _crossing(*_mean_m(rows, N, T), cfg.level) for T in Ts}
        for N in sorted(cfg.N)
    }
    t_line = [round(float(t), 4) for t in np.linspace(0.005, 0.99, 60)]
    return {
        "level": cfg.level,
        "alpha_c_T0": float(ags.boundary(0.005)),
        "alpha_theory": dict(zip(map(str, Ts), theory, strict=True)),
        "alpha_measured": measured,
        "theory_line": {"T": t_line, "alpha": theory_curve(t_line)},
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``phase_diagram.png``: the RS line ``T_M(α)`` (solid) and the measured boundary per N
    (markers), with the measured overlap per (α, T) of the largest N as a colour map."""
    cfg = ctx.cfg
    fig, (ax, ax2) = hplot.subplots(1, 2, figsize=(11, 4.5))
    t_line, a_line = summary["theory_line"]["T"], summary["theory_line"]["alpha"]
    ax.plot(a_line, t_line, "k-", label="RS theory (AGS 1987)")
    for N in sorted(cfg.N):
        pts = [(a, float(T)) for T, a in summary["alpha_measured"][str(N)].items() if a]
        if pts:
            ax.plot(*zip(*pts, strict=True), "o--", label=f"measured, N = {N}")
    ax.set(xlabel="α = P/N", ylabel="T", xlim=(0, 0.16), ylim=(0, 1.02))
    ax.set_title(f"retrieval region (m ≥ {cfg.level})")
    ax.legend(fontsize=8)
    N = max(cfg.N)
    Ts = sorted(cfg.T)
    grid = np.array([_mean_m(rows, N, T)[1] for T in Ts])
    alphas = _mean_m(rows, N, Ts[0])[0]
    im = ax2.pcolormesh(alphas, Ts, grid, shading="nearest", vmin=0, vmax=1, cmap="viridis")
    ax2.plot(a_line, t_line, "w-")
    ax2.set(xlabel="α = P/N", ylabel="T", xlim=(min(alphas), max(alphas)), ylim=(0, max(Ts)))
    ax2.set_title(f"mean overlap m, N = {N}")
    fig.colorbar(im, ax=ax2)
    return [ctx.save(fig, "phase_diagram.png")]


EXPERIMENT = Experiment(
    name="hopfield_phase",
    config=HopfieldPhaseConfig,
    fn=hopfield_phase_point,
    static=("N",),
    metrics=("m", "retrieved"),
    description="Amit-Gutfreund-Sompolinsky (alpha, T) phase diagram: Glauber Monte Carlo vs RS",
    report=Report(summarize=summarize, plot=plot, headline=("alpha_c_T0", "alpha_measured")),
)
