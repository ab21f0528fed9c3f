"""Experiment ``hopfield_capacity``: retrieval vs load α = P/N for the classical network.

Per row (rule, update, N, α, flip, seed): store ``P = round(α N)`` random bipolar patterns with
the rule, cue ``min(cues, P)`` of them with a fraction ``flip`` of their bits flipped, run the
dynamics to an attractor and measure the final overlap ``m`` with the cued pattern.
Metrics: ``overlap_mean`` (mean ``m``), ``retrieved_frac`` (fraction with ``m ≥ threshold``,
0.95 by default), ``steps_mean`` (mean transient length), ``converged_frac``, ``P``.

``N``, ``rule`` and ``update`` are static (one compilation each); α is traced. The loads are
**nested**: every row of an (N, flip, seed) stream — every α, rule and update mode
(``key_exclude``) — sees the same patterns, cues and update orders, and a row with load ``P``
stores the first ``P`` patterns (common random numbers: the capacity curve of a seed is one
network growing, as in the GSEMM capacity protocol). The engine draws them once per stream, with
the weights of every load of the grid in one pass over the patterns
(:func:`hopjax.rules.nested_weights`: running Hebbian sums, one Storkey scan, one QR for the
pseudo-inverse projector), and evaluates the stream's loads as an inner ``vmap``. Asynchronous
rows run there too: every (load, cue) run of the stream goes through one pool of lanes
(:func:`hopjax.classical.run_async_pool`: a lane whose run stops takes the next, so no lane
waits for the longest run; the full config's asynchronous groups run 4–5× faster), equal to each
row's own ``run`` (exactly for Hebbian weights; Storkey and pseudo-inverse fields within float
round-off of 0 may be decided differently, as between batch sizes). The means are integer
counts over the number of cued stored patterns: exact, whatever the batch.

Summary: for every (rule, update, N, flip) the α where the seed-averaged ``retrieved_frac``
first falls through 0.5 (linear interpolation, :func:`hopjax.measure.crossing`), and for Hebbian
a finite-size extrapolation ``α_c(N) = α_∞ + a / √N`` (least squares; uncertainty from a
bootstrap over seeds) to compare with Hopfield's (1982) ~0.14 N and the theoretical 0.138 (Amit,
Gutfreund and Sompolinsky 1985).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax import rules
from hopjax.classical import Hopfield, run, run_async_pool
from hopjax.lowrank import LowRankHebbian
from hopjax.measure import crossing
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

from ._common import cued_mean, extrapolate

ALPHA_THEORY = 0.138
"""Critical load of the Hebbian network for N → ∞ (Amit, Gutfreund and Sompolinsky 1985)."""

Rule = Literal["hebbian", "storkey", "pseudo_inverse"]


@dataclasses.dataclass
class HopfieldCapacityConfig(SweepConfig):
    """Config of ``hopfield_capacity`` (grid keys: rule, update, N, alpha, flip)."""

    rule: list[Rule] = dataclasses.field(default_factory=lambda: ["hebbian"])
    update: list[Literal["sync", "async"]] = dataclasses.field(default_factory=lambda: ["sync"])
    N: list[int] = param([200], ge=2)
    alpha: list[float] = param([0.05, 0.1, 0.15, 0.2], gt=0, lt=1)
    flip: list[float] = param([0.1], ge=0, le=1)
    cues: int = param(50, ge=1)
    """Patterns cued per network (all of them when P is smaller)."""
    max_steps: int = param(100, ge=1)
    """Synchronous steps or asynchronous sweeps allowed per retrieval."""
    threshold: float = param(0.95, gt=0, le=1)
    """A cue counts as retrieved when its final overlap is at least this."""
    bootstrap: int = param(200, ge=0)
    """Bootstrap resamples of the seeds for the extrapolation's uncertainty."""
    hebbian_fields: Literal["weights", "patterns"] = "weights"
    """How synchronous Hebbian rows compute their fields: ``weights`` forms ``W`` (``N²`` per
    load), ``patterns`` keeps the patterns (:class:`hopjax.lowrank.LowRankHebbian`: memory
    ``P·N``, ``3PN`` per update) — the same rows exactly, for ``N`` where ``W`` does not fit."""

    def check(self) -> None:
        super().check()
        if round(min(self.alpha) * min(self.N)) < 1:
            raise ConfigError(
                f"'alpha' = {min(self.alpha)} stores no pattern at N = {min(self.N)} "
                "(P = round(alpha N) must be >= 1)."
            )
        if "pseudo_inverse" in self.rule and any(round(max(self.alpha) * n) >= n for n in self.N):
            raise ConfigError("'alpha': the pseudo-inverse rule needs P = round(alpha N) < N.")
        if self.hebbian_fields == "patterns" and (
            self.rule != ["hebbian"] or "async" in self.update
        ):
            raise ConfigError(
                "'hebbian_fields' = 'patterns' serves synchronous Hebbian rows only "
                "(rule = ['hebbian'], update = ['sync'])."
            )

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        loads = sorted({round(a * static["N"]) for a in self.alpha})
        return {"P_max": loads[-1], "n_cues": min(self.cues, loads[-1]), "loads": loads}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        n, p_max, c = p["N"], p["P_max"], p["n_cues"]
        if self.hebbian_fields == "patterns":  # a share of the stream's patterns; the cues' runs
            return 4 * (p_max * n // len(p["loads"]) + 8 * c * n + 4 * c * p_max)
        # a row's weights and their share of the stream's pass over the patterns; the retrieval
        matrices = 3 if p["rule"] != "pseudo_inverse" else 5
        orders = 2 * c * p["max_steps"] * n // len(p["loads"]) if p["update"] == "async" else 0
        return 4 * (matrices * n * n + 3 * p_max * n + 8 * c * n + orders)


def draws(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """What every load of an (N, flip, seed) stream shares: the patterns, the cues (the first
    ``n_cues`` patterns with a fraction ``flip`` of their bits flipped), the asynchronous update
    orders, and the weights of every load of the grid."""
    n, p_max, c = p["N"], p["P_max"], p["n_cues"]
    k_xi, k_cue, k_run = jax.random.split(key, 3)
    xi = random_bipolar(k_xi, p_max, n)
    cues = jax.vmap(lambda k, s: flip(k, s, fraction=p["flip"]))(jax.random.split(k_cue, c), xi[:c])
    run_keys = jax.random.split(k_run, c)
    out = {"xi": xi, "cues": cues, "run_keys": run_keys}
    if p["hebbian_fields"] == "patterns":  # no W: rows hold the patterns (LowRankHebbian)
        return out
    weights = rules.nested_weights(xi, p["loads"], p["rule"])
    out["weights"] = weights
    if p["update"] == "async":  # every (load, cue) run of the stream through one pool of lanes
        out["async"] = _async_runs(p, weights, cues, run_keys, xi[:c])
    return out


def _async_runs(
    p: dict[str, Any], weights: Array, cues: Array, run_keys: Array, targets: Array
) -> dict[str, Array]:
    """``N ×`` final overlap (an integer), transient length and convergence of every cued run
    of every load ``(L, n_cues)``, from :func:`hopjax.classical.run_async_pool` — each run
    equal to the row's own ``run(..., mode="async")`` (on the Hebbian lattice: exactly) — with
    the runs of patterns a load does not store left out (zeros; the row does not count them)."""
    n, c, loads = p["N"], p["n_cues"], p["loads"]
    # long runs first (high loads), so that the pool's tail is short runs
    pairs = np.array([(a, i) for a in reversed(range(len(loads))) for i in range(min(c, loads[a]))])
    quantum = 1.0 / n if p["rule"] == "hebbian" else None
    res = run_async_pool(weights, cues, run_keys, pairs, max_steps=p["max_steps"], quantum=quantum)
    dot = jnp.sum(res.state * targets[pairs[:, 1]], axis=1)  # N m: an exact integer
    grid = (jnp.asarray(pairs[:, 0]), jnp.asarray(pairs[:, 1]))

    def place(v: Array) -> Array:
        return jnp.zeros((len(loads), c), v.dtype).at[grid].set(v)

    return {"dot": place(dot), "steps": place(res.steps), "converged": place(res.converged)}


def hopfield_capacity_point(
    p: dict[str, Any], key: PRNGKeyArray, shared: dict[str, Array]
) -> dict[str, Array]:
    """One network (the stream's first ``P`` patterns stored): cue, retrieve; the metrics of the
    module docstring."""
    n, c = p["N"], p["n_cues"]
    P = jnp.round(p["alpha"] * n).astype(jnp.int32)
    a = jnp.searchsorted(jnp.asarray(p["loads"]), P)
    if p["update"] == "async":  # run for the whole stream in draws()
        dot, steps, converged = (shared["async"][k][a] for k in ("dot", "steps", "converged"))
    else:
        # Hebbian fields are multiples of 1/N: exact ties whatever the batch (hopjax.classical)
        if p["hebbian_fields"] == "patterns":  # the same fields without W (hopjax.lowrank)
            model = LowRankHebbian(shared["xi"], num_patterns=P)
        else:
            quantum = 1.0 / n if p["rule"] == "hebbian" else None
            model = Hopfield(shared["weights"][a], quantum=quantum)
        res = jax.vmap(lambda s, k: run(model, s, max_steps=p["max_steps"], mode="sync", key=k))(
            shared["cues"], shared["run_keys"]
        )
        dot = jnp.sum(res.state * shared["xi"][:c], axis=1)  # N m: an exact integer
        steps, converged = res.steps, res.converged
    return {
        "overlap_mean": cued_mean(dot, P) / n,
        "retrieved_frac": cued_mean(dot / n >= p["threshold"], P),
        "steps_mean": cued_mean(steps, P),
        "converged_frac": cued_mean(converged, P),
        "P": P.astype(jnp.float32),
    }


# ----------------------------------------------------------------------------- summary


def _curves(rows: list[Row]) -> dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(rule, update, N, flip) → (alphas, seeds, retrieved_frac[alpha, seed])."""
    by: dict[tuple, dict[tuple[float, int], float]] = {}
    for r in rows:
        key = (r["rule"], r["update"], r["N"], r["flip"])
        by.setdefault(key, {})[(r["alpha"], r["seed"])] = r["retrieved_frac"]
    out = {}
    for key, vals in by.items():
        alphas = np.array(sorted({a for a, _ in vals}))
        seeds = np.array(sorted({s for _, s in vals}))
        table = np.array([[vals[(a, s)] for s in seeds] for a in alphas])
        out[key] = (alphas, seeds, table)
    return out


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Crossings per (rule, update, N, flip) and the Hebbian finite-size extrapolation."""
    cfg = ctx.cfg
    curves = _curves(rows)
    crossings = []
    nested: dict[str, dict[str, dict[str, float | None]]] = {}
    for (rule, update, n, f), (alphas, _, table) in curves.items():
        ac = crossing(alphas, table.mean(axis=1))
        crossings.append({"rule": rule, "update": update, "N": n, "flip": f, "alpha_c": ac})
        if f == cfg.flip[0]:
            nested.setdefault(rule, {}).setdefault(update, {})[str(n)] = ac
    summary: dict[str, Any] = {
        "threshold": cfg.threshold,
        "alpha_theory": ALPHA_THEORY,
        "alpha_c": nested,
        "crossings": crossings,
        "extrapolation": {},
    }
    rng = np.random.default_rng(cfg.base_seed)
    for update in cfg.update:
        for f in cfg.flip:
            fit = _extrapolate_hebbian(curves, update, f, cfg.bootstrap, rng)
            if fit is not None:
                summary["extrapolation"].setdefault("hebbian", {}).setdefault(update, {})[
                    str(f)
                ] = fit
    fits = summary["extrapolation"].get("hebbian", {})
    summary["hebbian_alpha_inf"] = summary["hebbian_alpha_inf_err"] = None
    summary["hebbian_alpha_inf_update"] = None
    for update in ("sync", "async"):
        if str(cfg.flip[0]) in fits.get(update, {}):
            summary["hebbian_alpha_inf"] = fits[update][str(cfg.flip[0])]["alpha_inf"]
            summary["hebbian_alpha_inf_err"] = fits[update][str(cfg.flip[0])]["alpha_inf_err"]
            summary["hebbian_alpha_inf_update"] = update
            break
    else:  # say why, rather than leaving the keys out
        summary["hebbian_alpha_inf_note"] = (
            "not extrapolated: needs the Hebbian rule and >= 3 sizes N whose retrieved fraction "
            "crosses 0.5"
        )
    return summary


def _extrapolate_hebbian(
    curves: dict, update: str, f: float, n_boot: int, rng: np.random.Generator
) -> dict[str, Any] | None:
    entries = sorted(
        (n, c) for (r, u, n, ff), c in curves.items() if (r, u, ff) == ("hebbian", update, f)
    )
    pts = [(n, crossing(c[0], c[2].mean(axis=1))) for n, c in entries]
    pts = [(n, a) for n, a in pts if a is not None]
    if len(pts) < 3:
        return None
    ns = np.array([n for n, _ in pts], float)
    acs = np.array([a for _, a in pts])
    alpha_inf, slope = extrapolate(ns, acs)
    boots = []
    for _ in range(n_boot):  # resample seeds within every N, recompute crossings and the fit
        bc = []
        for n, (alphas, seeds, table) in entries:
            if n not in ns:
                continue
            pick = rng.integers(0, len(seeds), len(seeds))
            bc.append(crossing(alphas, table[:, pick].mean(axis=1)))
        if all(b is not None for b in bc):
            boots.append(extrapolate(ns, np.array(bc))[0])
    err = float(np.std(boots, ddof=1)) if len(boots) > 1 else float("nan")
    return {
        "model": "alpha_c(N) = alpha_inf + slope / sqrt(N)",
        "alpha_inf": alpha_inf,
        "alpha_inf_err": err,
        "slope": slope,
        "N": [int(n) for n in ns],
        "alpha_c": acs.tolist(),
        "bootstrap": len(boots),
    }


# ----------------------------------------------------------------------------- plots


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``retrieved_frac`` vs α (a panel per rule, a line per N; dashed = async), α = 0.138 marked;
    and, when fitted, the finite-size extrapolation of the Hebbian crossing."""
    cfg = ctx.cfg
    paths = []
    for f in cfg.flip:
        fig, axes = hplot.subplots(
            1, len(cfg.rule), figsize=(4.2 * len(cfg.rule), 3.6), squeeze=False, sharey=True
        )
        for ax, rule in zip(axes[0], cfg.rule, strict=True):
            for update in cfg.update:
                hplot.capacity_curve(
                    rows,
                    where={"rule": rule, "update": update, "flip": f},
                    ax=ax,
                    label="N={N} " + update,
                    ls="-" if update == "sync" else "--",
                    reference=(ALPHA_THEORY, "α = 0.138") if update == cfg.update[-1] else None,
                    legend=False,
                )
            ax.set_title(rule.replace("_", "-"))
            ax.set_xlabel("α = P / N")
            ax.set_ylabel("")
        axes[0][0].set_ylabel(f"retrieved fraction (m ≥ {cfg.threshold})\nmean ± s.e.m. over seeds")
        axes[0][-1].legend(fontsize=7)
        fig.suptitle(f"Retrieval from cues with {f:.0%} flipped bits")
        name = "capacity.png" if len(cfg.flip) == 1 else f"capacity_flip{f}.png"
        paths.append(ctx.save(fig, name))

    fits = summary.get("extrapolation", {}).get("hebbian")
    if fits:
        fig, ax = hplot.subplots(figsize=(4.5, 3.6))
        for update, by_flip in fits.items():
            for f, fit in by_flip.items():
                x = np.array(fit["N"], float) ** -0.5
                (dots,) = ax.plot(x, fit["alpha_c"], "o", label=f"{update}, flip {f}: α_c(N)")
                xs = np.linspace(0, x.max() * 1.05, 50)
                err = fit["alpha_inf_err"]
                ax.plot(
                    xs,
                    fit["alpha_inf"] + fit["slope"] * xs,
                    "-",
                    lw=1,
                    color=dots.get_color(),
                    label=f"fit α_∞ + a/√N: α_∞ = {fit['alpha_inf']:.3f}"
                    + (f" ± {err:.3f}" if err is not None else ""),
                )
                ax.errorbar(0, fit["alpha_inf"], yerr=err, fmt="s", color=dots.get_color(),
                            clip_on=False)  # fmt: skip
        ax.axhline(ALPHA_THEORY, color="k", ls=":", lw=1, label="0.138 (Amit et al. 1985)")
        ax.set_xlabel("1 / √N")
        ax.set_ylabel("α_c(N) (retrieved fraction = 0.5)")
        ax.set_xlim(left=-0.002)
        ax.set_title("Finite-size extrapolation of the Hebbian α_c", fontsize=10)
        ax.legend(fontsize=7)
        paths.append(ctx.save(fig, "finite_size.png"))
    return paths


EXPERIMENT = Experiment(
    name="hopfield_capacity",
    config=HopfieldCapacityConfig,
    fn=hopfield_capacity_point,
    shared=draws,
    static=("rule", "update", "N"),
    metrics=("overlap_mean", "retrieved_frac", "steps_mean", "converged_frac", "P"),
    description="Classical Hopfield retrieval vs load (rules × update modes × N × α × flip).",
    key_exclude=("rule", "update", "alpha"),
    report=Report(
        summarize=summarize,
        plot=plot,
        headline=("hebbian_alpha_inf", "hebbian_alpha_inf_err", "alpha_c"),
    ),
)
