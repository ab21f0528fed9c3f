"""Experiments ``idp_retrieval`` and ``kleinfeld`` (seed 001 §2, §3 and appendix 5.1).

``idp_retrieval`` — per row (method, N, P, gain, flip, seed): ``P`` memories (random bipolar by
default), a cue = memory 1 with a fraction ``flip`` of its bits flipped, ``x(0) = cue``, the IDP
network (1) with HardTanh integrated to ``t1``:

* ``method = "idp"``: the saliencies filter the input ``u = gain · cue`` to their steady state,
  ``α = (1/N) Ξᵀ u`` (spec (1)/(16)): the input selects the memory, ``α_1 = gain (1 − 2 flip)``;
* ``method = "classical"``: ``α = gain · 1`` (``gain = 1``: the classical network, ``α = 1``).

At ``flip = 0`` the rows test existence and stability of ``x* = α_1 ξ^1`` (appendix 5.1):
``α_1 > 1`` — the state settles at ``α_1 ξ^1`` (``dist`` → 0); ``α_1 < 1`` — it decays to the
origin (``norm`` → 0); ``α_1 = 1`` — it stays on the segment of equilibria. Metrics:
``overlap`` (``m_1`` of ``Ψ(x(t1))``), ``retrieved`` (``overlap ≥ threshold``), ``sign_overlap``
(overlap of ``sign x``), ``dist`` (``‖x − α_1 ξ^1‖ / ‖α_1 ξ^1‖``), ``norm`` (``‖x‖/√N``),
``alpha_1`` and ``speed`` (``‖ẋ‖/√N`` at ``t1``; ≈ 0 at an equilibrium).

``kleinfeld`` — per row (model, γ, N, P, seed): Kleinfeld's one-timescale model (8)–(9)
(``model = "kleinfeld"``), its delayed variant (``"kleinfeld_delayed"``, delay ``tau_slow``) and
the two-timescale reasoning model (``"reasoning"``, ``τ_α = tau_slow``), started on memory 1.
Regime on the last quarter of the run: 0 = collapse (mean ``|Ψ(x)|`` < 0.05), 2 = cycle (some
overlap still varies by more than 0.05), 1 = fixed point otherwise. Metrics: ``regime``,
``transitions`` (with hysteresis, :func:`hopjax.idp.measure_transitions`), ``period_measured``,
``max_overlap`` (mean over the last quarter of the leading overlap: low for mixed states),
``activity``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax.config import ConfigError, SweepConfig
from hopjax.idp import IDPHopfield, Kleinfeld, Reasoning, measure_transitions, simulate
from hopjax.patterns import flip as flip_bits
from hopjax.patterns import orthogonal_patterns, random_bipolar
from hopjax.sweep import Experiment, Row, register

RETRIEVAL_METRICS = (
    "overlap",
    "retrieved",
    "sign_overlap",
    "dist",
    "norm",
    "alpha_1",
    "speed",
)


def _patterns(kind: str, key: PRNGKeyArray, P: int, N: int) -> Array:
    if kind == "hadamard":
        return orthogonal_patterns(P, N, key=key)
    return random_bipolar(key, P, N)


def _check_patterns(cfg: Any) -> None:
    if min(cfg.N) < 2 or min(cfg.P) < 1:
        raise ConfigError(f"'N' must be >= 2 and 'P' >= 1; got N={cfg.N}, P={cfg.P}.")
    if cfg.patterns == "hadamard":
        bad = [n for n in cfg.N if n & (n - 1)]
        if bad:
            raise ConfigError(f"'N' must be powers of two for hadamard patterns; got {bad}.")
        if max(cfg.P) > min(cfg.N):
            raise ConfigError(f"'P' = {max(cfg.P)} exceeds N = {min(cfg.N)} (hadamard).")


@dataclasses.dataclass
class IDPRetrievalConfig(SweepConfig):
    """Config of ``idp_retrieval`` (grid keys: method, N, P, gain, flip)."""

    method: list[Literal["idp", "classical"]] = dataclasses.field(
        default_factory=lambda: ["idp", "classical"]
    )
    N: list[int] = dataclasses.field(default_factory=lambda: [256])
    P: list[int] = dataclasses.field(default_factory=lambda: [16])
    gain: list[float] = dataclasses.field(default_factory=lambda: [0.5, 1.0, 2.0])
    flip: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3])
    patterns: Literal["hadamard", "random"] = "random"
    tau_x: float = 1.0
    t1: float = 60.0
    """Integration time (in units of ``tau_x``)."""
    threshold: float = 0.95
    """Retrieved when the final overlap is at least this."""
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 100_000

    def check(self) -> None:
        super().check()
        _check_patterns(self)
        if min(self.gain) <= 0:
            raise ConfigError(f"'gain' must be > 0; got {self.gain}.")
        if not all(0 <= f <= 1 for f in self.flip):
            raise ConfigError(f"'flip' must lie in [0, 1]; got {self.flip}.")
        if self.tau_x <= 0 or self.t1 <= 0:
            raise ConfigError("'tau_x' and 't1' must be > 0.")
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"'threshold' must lie in (0, 1]; got {self.threshold}.")


def retrieval_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One cued retrieval (module docstring)."""
    k_xi, k_cue = jax.random.split(key)
    N = p["N"]
    xi = _patterns(p["patterns"], k_xi, p["P"], N)
    cue = flip_bits(k_cue, xi[0], fraction=p["flip"])
    if p["method"] == "idp":
        alpha = xi @ (p["gain"] * cue) / N  # steady state of τ_u α̇ = −α + Ξᵀu/N
    else:
        alpha = jnp.full((p["P"],), p["gain"], jnp.float32)
    model = IDPHopfield(xi, alpha, tau_x=p["tau_x"])
    sol = simulate(model, cue, t1=p["t1"], rtol=p["rtol"], atol=p["atol"], max_steps=p["max_steps"])
    x = sol.ys[-1]
    a1 = alpha[0]
    target = a1 * xi[0]
    return {
        "overlap": model.overlaps(x)[0],
        "retrieved": (model.overlaps(x)[0] >= p["threshold"]).astype(jnp.float32),
        "sign_overlap": jnp.mean(jnp.sign(x) * xi[0]),
        "dist": jnp.linalg.norm(x - target) / jnp.maximum(jnp.linalg.norm(target), 1e-12),
        "norm": jnp.linalg.norm(x) / jnp.sqrt(N),
        "alpha_1": a1,
        "speed": jnp.linalg.norm(model.vector_field(p["t1"], x, None)) / jnp.sqrt(N),
    }


def _mean_by(rows: list[Row], keys: tuple[str, ...], metric: str) -> dict[tuple, float]:
    acc: dict[tuple, list[float]] = {}
    for r in rows:
        acc.setdefault(tuple(r[k] for k in keys), []).append(r[metric])
    return {k: float(np.nanmean(v)) for k, v in acc.items()}


def summarize_retrieval(cfg: IDPRetrievalConfig, rows: list[Row]) -> dict[str, Any]:
    """Retrieved fraction per (method, N, P, gain, flip) and the flip = 0 stability table."""
    keys = ("method", "N", "P", "gain", "flip")
    frac = _mean_by(rows, keys, "retrieved")
    over = _mean_by(rows, keys, "overlap")
    dist = _mean_by(rows, keys, "dist")
    norm = _mean_by(rows, keys, "norm")
    table = [
        {
            **dict(zip(keys, k, strict=True)),
            "retrieved_frac": frac[k],
            "overlap": over[k],
            "dist": dist[k],
            "norm": norm[k],
        }
        for k in frac
    ]
    return {"threshold": cfg.threshold, "table": table}


def plot_retrieval(
    cfg: IDPRetrievalConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    """``retrieval.png``: retrieved fraction vs flip (a panel per P; IDP solid, classical
    dashed; a colour per gain)."""
    from hopjax.plots import plt, save

    frac = {
        (r["method"], r["N"], r["P"], r["gain"], r["flip"]): r["retrieved_frac"]
        for r in summary["table"]
    }
    fig, axes = plt.subplots(
        1, len(cfg.P), figsize=(4.2 * len(cfg.P), 3.5), squeeze=False, sharey=True
    )
    colors = plt.get_cmap("plasma")(np.linspace(0, 0.85, len(cfg.gain)))
    for ax, P in zip(axes[0], cfg.P, strict=True):
        for method in cfg.method:
            for c, g in zip(colors, cfg.gain, strict=True):
                for n in cfg.N:
                    ys = [frac[(method, n, P, g, f)] for f in cfg.flip]
                    ls = "-" if method == "idp" else "--"
                    ax.plot(cfg.flip, ys, ls, marker="o", ms=3, color=c, label=f"{method} g={g}")
        ax.set_title(f"P = {P}, N = {', '.join(map(str, cfg.N))}")
        ax.set_xlabel("flipped fraction of the cue")
    axes[0][0].set_ylabel(f"retrieved fraction (m ≥ {cfg.threshold})")
    axes[0][-1].legend(fontsize=7)
    return [save(fig, out / "retrieval.png", cfg.plot.dpi)]


# ----------------------------------------------------------------------------- kleinfeld

KLEINFELD_METRICS = ("regime", "transitions", "period_measured", "max_overlap", "activity")


@dataclasses.dataclass
class KleinfeldConfig(SweepConfig):
    """Config of ``kleinfeld`` (grid keys: model, gamma, N, P)."""

    model: list[Literal["kleinfeld", "kleinfeld_delayed", "reasoning"]] = dataclasses.field(
        default_factory=lambda: ["kleinfeld", "kleinfeld_delayed", "reasoning"]
    )
    gamma: list[float] = dataclasses.field(default_factory=lambda: [0.2, 1.0, 5.0])
    N: list[int] = dataclasses.field(default_factory=lambda: [64])
    P: list[int] = dataclasses.field(default_factory=lambda: [4])
    seeds: int = 1
    patterns: Literal["hadamard", "random"] = "hadamard"
    tau_x: float = 1.0
    tau_slow: float = 20.0
    """Kleinfeld's delay ``τ_d`` and the reasoning model's ``τ_α``."""
    eps: float = 1e-4
    """The reasoning model's symmetry-breaking input."""
    a0: float = 3.0
    """The reasoning model's initial saliency (Kleinfeld starts at ``x = ξ^1``)."""
    t1: float = 2000.0
    n_save: int = 4000
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 1_000_000

    def check(self) -> None:
        super().check()
        _check_patterns(self)
        if min(self.gamma) <= 0:
            raise ConfigError(f"'gamma' must be > 0; got {self.gamma}.")
        if min(self.P) < 2:
            raise ConfigError(f"'P' must be >= 2; got {self.P}.")
        for k in ("tau_x", "tau_slow", "t1"):
            if getattr(self, k) <= 0:
                raise ConfigError(f"'{k}' must be > 0; got {getattr(self, k)}.")
        if self.a0 <= 1:
            raise ConfigError(f"'a0' must be > 1; got {self.a0}.")
        if self.n_save < 16:
            raise ConfigError(f"'n_save' must be >= 16; got {self.n_save}.")


def kleinfeld_trajectory(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, Array, Array]:
    """``(ts, m, activity)`` of one row of ``kleinfeld``."""
    xi = _patterns(p["patterns"], key, p["P"], p["N"])
    if p["model"] == "reasoning":
        model = Reasoning(
            xi, gamma=p["gamma"], tau_alpha=p["tau_slow"], tau_x=p["tau_x"], eps=p["eps"]
        )
        y0 = model.initial_state(p["a0"])
    else:
        delayed = p["model"] == "kleinfeld_delayed"
        model = Kleinfeld(
            xi, gamma=p["gamma"], tau_x=p["tau_x"], delayed=delayed, tau_d=p["tau_slow"]
        )
        y0 = model.initial_state(1.0)

    def save(t: Array, y: Any, args: Any) -> tuple[Array, Array]:
        x = y if isinstance(y, jax.Array) else y[0]
        return model.overlaps(x), jnp.mean(jnp.abs(model.activation.psi(x)))

    ts = jnp.linspace(0.0, p["t1"], p["n_save"])
    sol = simulate(
        model,
        y0,
        t1=p["t1"],
        ts=ts,
        save_fn=save,
        rtol=p["rtol"],
        atol=p["atol"],
        max_steps=p["max_steps"],
    )
    m, act = sol.ys
    return ts, m, act


def kleinfeld_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Classify one run (module docstring)."""
    ts, m, act = kleinfeld_trajectory(p, key)
    tail = m[-(p["n_save"] // 4) :]
    spread = jnp.max(jnp.max(tail, axis=0) - jnp.min(tail, axis=0))
    activity = jnp.mean(act[-(p["n_save"] // 4) :])
    regime = jnp.where(activity < 0.05, 0, jnp.where(spread > 0.05, 2, 1))
    tr = measure_transitions(ts, m, max_transitions=1024, active=0.3)
    period = jnp.where(regime == 2, tr.period(p["P"], 1), jnp.nan)
    return {
        "regime": regime.astype(jnp.float32),
        "transitions": tr.count.astype(jnp.float32),
        "period_measured": period,
        "max_overlap": jnp.mean(jnp.max(tail, axis=1)),
        "activity": activity,
    }


REGIMES = {0: "collapse", 1: "fixed point", 2: "cycle"}


def summarize_kleinfeld(cfg: KleinfeldConfig, rows: list[Row]) -> dict[str, Any]:
    """Regime counts per (model, γ) and the list of regimes each model visits."""
    out: dict[str, Any] = {"regimes": REGIMES, "table": []}
    by: dict[tuple, list[Row]] = {}
    for r in rows:
        by.setdefault((r["model"], r["gamma"], r["N"], r["P"]), []).append(r)
    for (model, g, n, P), rs in by.items():
        counts = {REGIMES[k]: sum(int(r["regime"]) == k for r in rs) for k in REGIMES}
        out["table"].append(
            {
                "model": model,
                "gamma": g,
                "N": n,
                "P": P,
                **counts,
                "max_overlap": float(np.mean([r["max_overlap"] for r in rs])),
                "period_measured": _nanmean([r["period_measured"] for r in rs]),
            }
        )
    out["regimes_seen"] = {
        model: sorted(
            {REGIMES[int(r["regime"])] for r in rows if r["model"] == model},
        )
        for model in cfg.model
    }
    return out


def _nanmean(vals: list[float]) -> float | None:
    arr = np.asarray(vals, float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else None


def plot_kleinfeld(
    cfg: KleinfeldConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    """``kleinfeld.png``: regime and leading overlap vs γ per model; ``kleinfeld_traces.png``:
    overlaps vs time of each model at the smallest and largest γ (the paper's Fig. 2B–E)."""
    from hopjax.plots import plt, save

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for k, model in enumerate(cfg.model):
        recs = sorted(
            (r for r in summary["table"] if r["model"] == model), key=lambda r: r["gamma"]
        )
        g = [r["gamma"] for r in recs]
        reg = [
            sum(k2 * r[name] for k2, name in REGIMES.items())
            / max(1, sum(r[n] for n in REGIMES.values()))
            for r in recs
        ]
        ax1.plot(g, np.asarray(reg) + 0.04 * (k - 1), "o-", ms=4, label=model)
        ax2.plot(g, [r["max_overlap"] for r in recs], "o-", ms=4, label=model)
    ax1.set_yticks(list(REGIMES), list(REGIMES.values()))
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("γ")
    ax2.set_ylabel("leading overlap (last quarter)")
    ax1.legend(fontsize=7)
    paths = [save(fig, out / "kleinfeld.png", cfg.plot.dpi)]

    from hopjax.sweep import row_key

    shown = sorted({min(cfg.gamma), max(cfg.gamma)})
    fig, axes = plt.subplots(
        len(cfg.model),
        len(shown),
        figsize=(5.5 * len(shown), 2.2 * len(cfg.model)),
        squeeze=False,
        constrained_layout=True,
    )
    exp = EXPERIMENTS_BY_NAME["kleinfeld"]
    fixed = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    seed0 = min(r["seed"] for r in rows)
    for i, model in enumerate(cfg.model):
        picked = [
            next(r for r in rows if (r["model"], r["gamma"], r["seed"]) == (model, g, seed0))
            for g in shown
        ]
        p = {**fixed, **{k: picked[0][k] for k in ("model", "N", "P")}}
        keys = jnp.stack([row_key(r, cfg, exp) for r in picked])
        traj = jax.jit(jax.vmap(lambda g, k, p=p: kleinfeld_trajectory({**p, "gamma": g}, k)[:2]))(
            jnp.asarray(shown, jnp.float32), keys
        )
        for j, g in enumerate(shown):
            ax = axes[i, j]
            ts, m = np.asarray(traj[0][j]), np.asarray(traj[1][j])
            keep = ts <= min(ts[-1], 30 * cfg.tau_slow)
            for mu in range(m.shape[1]):
                ax.plot(ts[keep], m[keep, mu], lw=0.8)
            ax.set_ylim(-1.05, 1.05)
            ax.set_ylabel("m_μ")
            ax.set_title(f"{model}, γ = {g}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("t / τ_x")
    paths.append(save(fig, out / "kleinfeld_traces.png", cfg.plot.dpi))
    return paths


EXPERIMENTS_BY_NAME: dict[str, Experiment] = {}

for _exp in (
    Experiment(
        name="idp_retrieval",
        config=IDPRetrievalConfig,
        fn=retrieval_point,
        static=("method", "N", "P"),
        metrics=RETRIEVAL_METRICS,
        description="IDP memories α_μ ξ^μ: existence/stability and cued retrieval vs classical.",
        key_exclude=("method", "gain"),
        summarize=summarize_retrieval,
        plot=plot_retrieval,
    ),
    Experiment(
        name="kleinfeld",
        config=KleinfeldConfig,
        fn=kleinfeld_point,
        static=("model", "N", "P"),
        metrics=KLEINFELD_METRICS,
        description="Kleinfeld one-timescale sequence model vs the two-timescale reasoning model.",
        key_exclude=("model", "gamma"),
        summarize=summarize_kleinfeld,
        plot=plot_kleinfeld,
    ),
):
    EXPERIMENTS_BY_NAME[_exp.name] = register(_exp)
