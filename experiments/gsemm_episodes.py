"""Experiment ``gsemm_episodes``: the GSEMM paper's Fig. 1/2 (Karuvally, Sejnowski & Siegelmann,
ICML 2023).

**Parametrisation.** Defaults to the authors' reference code (``form = "reference"``:
``T_f V̇_f = Ξ σ_h(α_s Ξᵀσ_f + α_c ΦᵀΞᵀV_d) − V_f``) with delay gain ``β_d = 7``: measured here
(``docs/notes/gsemm.md``), the paper's printed equations (``form = "paper"``) or ``β_d = 1``
leave the Fig. 1 network stuck on the cue, while this setting retrieves 5 → 6 → 7 → 4 → … The
experiment exposes ``form`` and ``beta_d`` so either can be checked. ``form = "softmax"`` runs
the authors' second model instead (:class:`hopjax.gsemm.SoftmaxGSEMM`, their
``AdiabaticEpisodicExponential``: softmax hidden layer, linear features), with their notebook's
``α_s = 1``, ``α_c = 4.9``, ``β_d = 7`` and cue ξ5 with its last quarter zeroed
(``configs/gsemm_softmax.toml``).

Per row (form, beta_d, seed): Dense GSEMM, ``N_f`` random memories ξ1…ξ7 in two episodes
ξ1→ξ2→ξ3→ξ1 and ξ4→ξ5→ξ6→ξ7→ξ4, cue ξ5 (``V_f(0) = ξ5``, ``V_d(0) = 0``), RK4 at ``dt`` to
``t1`` (:func:`hopjax.episodes.run_episode`). Decoding (appendix B/C): the leading overlap
``m_i = (1/N_f) Σ_j ξ_ij tanh(V_f)_j`` above ``threshold`` (0.8), recorded on change. Metrics:
``success`` (the cue's episode retrieved in order ≥ ``repeats`` times, no errors, never a memory
of the other episode), ``n_retrieved`` (recorded memories), ``correct_steps`` (before the first
error), ``other_episode`` (records of memories 1–3), ``first_switch`` (time of the first
change), ``finite``. ``summary.json["retrieved_order"]``: the decoded sequence (1-based) of the
first row.
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
from hopjax.episodes import run_episode
from hopjax.gsemm import DenseGSEMM, SoftmaxGSEMM, episodes_matrix
from hopjax.measure import Episode
from hopjax.patterns import random_bipolar
from hopjax.solve import rk4_scan
from hopjax.sweep import ConfigError, Experiment, Report, Row, RunContext, SweepConfig, param

from ._common import check_save_every


@dataclasses.dataclass
class GSEMMEpisodesConfig(SweepConfig):
    """Config of ``gsemm_episodes`` (grid keys: form, beta_d)."""

    form: list[Literal["paper", "reference", "softmax"]] = dataclasses.field(
        default_factory=lambda: ["reference"]
    )
    """``paper`` / ``reference``: the Dense GSEMM's two parametrisations; ``softmax``: the
    authors' exponential model (:class:`hopjax.gsemm.SoftmaxGSEMM`) with ``softmax_alpha_s``,
    ``softmax_alpha_c`` (``degree``, ``alpha_s``, ``alpha_c`` are the Dense GSEMM's)."""
    beta_d: list[float] = param([7.0], gt=0)
    seeds: int = 1
    N_f: int = param(100, ge=2)
    alpha_s: float = param(0.05, gt=0)
    alpha_c: float = param(0.007, ge=0)
    T_f: float = param(1.0, gt=0)
    T_d: float = param(20.0, gt=0)
    degree: int = param(1, ge=1)
    dt: float = param(0.01, gt=0)
    t1: float = 400.0
    save_every: float = param(0.1, gt=0)
    threshold: float = param(0.8, gt=0, lt=1)
    repeats: int = param(3, ge=1)
    fixed_points: int = 40
    """Times at which the instantaneous energy's fixed point is found (Fig. 2 panel)."""
    softmax_alpha_s: float = param(1.0, gt=0)
    softmax_alpha_c: float = param(4.9, ge=0)
    """The softmax model's couplings (the authors' notebook values)."""
    cue_mask: float = param(0.0, ge=0, lt=1)
    """Fraction of the cue's trailing entries set to 0 (the notebook: 0.25). With a masked cue
    the episode may be first recorded at the cue's successor (the cue's overlap is below the
    threshold), so the judge accepts any start in the cue's episode."""

    def check(self) -> None:
        super().check()
        check_save_every(self)
        if self.t1 <= self.save_every:
            raise ConfigError("'t1' must exceed 'save_every'.")


EPISODES = [[0, 1, 2], [3, 4, 5, 6]]
CUE = 4  # ξ5


def episodes_model(p: dict[str, Any], key: PRNGKeyArray) -> tuple[DenseGSEMM | SoftmaxGSEMM, Array]:
    """The Fig. 1 network of one row and its memories."""
    xi = random_bipolar(key, 7, p["N_f"])
    phi = episodes_matrix(EPISODES, 7)
    if p["form"] == "softmax":  # its own couplings; T_f, T_d, beta_d shared
        own = {**p, "alpha_s": p["softmax_alpha_s"], "alpha_c": p["softmax_alpha_c"]}
        return SoftmaxGSEMM.from_params(xi, phi, own), xi
    return DenseGSEMM.from_params(xi, phi, p), xi


def cue_of(p: dict[str, Any], xi: Array) -> Array:
    """ξ5 with its trailing ``cue_mask`` fraction of entries set to 0."""
    keep = jnp.arange(p["N_f"]) < p["N_f"] - round(p["cue_mask"] * p["N_f"])
    return jnp.where(keep, xi[CUE], 0.0)


def episodes_trajectory(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, ...]:
    """``(ts, m, energy, U, V_d)`` saved every ``save_every`` (for the plots)."""
    model, xi = episodes_model(p, key)
    n_save, per = math.ceil(p["t1"] / p["save_every"]), round(p["save_every"] / p["dt"])

    def save(t: Array, y: Any, args: Any) -> tuple[Array, ...]:
        return model.overlaps(y[0]), model.energy(y), y[0], y[1]

    _, (m, e, U, Vd) = rk4_scan(
        model.vector_field,
        model.initial_state(cue_of(p, xi)),
        dt=p["dt"],
        n_save=n_save,
        steps_per_save=per,
        save_fn=save,
    )
    ts = (jnp.arange(n_save) + 1) * per * p["dt"]
    return ts, m, e, U, Vd


def episode(p: dict[str, Any], key: PRNGKeyArray) -> Episode:
    """One Fig. 1 run from the cue ξ5, decoded and judged (:func:`hopjax.episodes.run_episode`)."""
    model, xi = episodes_model(p, key)
    return run_episode(
        model,
        cue_of(p, xi),
        t1=p["t1"],
        dt=p["dt"],
        save_every=p["save_every"],
        threshold=p["threshold"],
        repeats=p["repeats"],
        start=CUE if p["cue_mask"] == 0 else None,
        max_len=256,
    )


def gsemm_episodes_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One Fig. 1 run and its metrics (described in :mod:`experiments.gsemm_episodes`)."""
    ep = episode(p, key)
    stored = jnp.arange(256) < ep.n_retrieved
    other = jnp.sum(stored & (ep.seq >= 0) & (ep.seq <= 2))
    ts = (jnp.arange(ep.lead.shape[0]) + 1) * round(p["save_every"] / p["dt"]) * p["dt"]
    changed = (ep.lead != ep.lead[0]) & (ep.top > p["threshold"])
    first = jnp.where(jnp.any(changed), ts[jnp.argmax(changed)], jnp.nan)
    return {
        "success": (ep.success & (other == 0)).astype(jnp.float32),
        "n_retrieved": ep.n_retrieved.astype(jnp.float32),
        "correct_steps": ep.correct_steps.astype(jnp.float32),
        "other_episode": other.astype(jnp.float32),
        "first_switch": first,
        "finite": ep.finite.astype(jnp.float32),
    }


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """The decoded order of the first row (1-based) and a per-setting success table."""
    row = rows[0]
    ep = ctx.rerun([row], episode)[0]
    order = [int(i) + 1 for i in ep.seq[: int(ep.n_retrieved)]]
    table: dict[tuple, list[Row]] = {}
    for r in rows:
        table.setdefault((r["form"], r["beta_d"]), []).append(r)
    return {
        "retrieved_order": order,
        "retrieved_order_of": {"form": row["form"], "beta_d": row["beta_d"], "seed": row["seed"]},
        "expected_cycle": [5, 6, 7, 4],
        "settings": [
            {
                "form": f,
                "beta_d": b,
                "success_frac": float(np.mean([r["success"] for r in rs])),
                "seeds": len(rs),
                "mean_first_switch": float(np.nanmean([r["first_switch"] for r in rs]))
                if any(np.isfinite(r["first_switch"]) for r in rs)
                else None,
            }
            for (f, b), rs in table.items()
        ],
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``overlaps.png`` (Fig. 1/2B), ``energy.png`` (energy along the trajectory) and
    ``fixed_points.png`` (Fig. 2C: overlaps of the instantaneous energy minimum reached from the
    current state, ``V_d`` frozen, vs time)."""
    cfg = ctx.cfg
    row = rows[0]
    ts, m, e, U, Vd = ctx.rerun([row], episodes_trajectory)[0]
    paths = []
    fig, ax = hplot.overlap_traces(ts, m)
    name = "softmax GSEMM" if row["form"] == "softmax" else f"Dense GSEMM, {row['form']} form"
    ax.set_title(f"{name}, β_d = {row['beta_d']}, cue ξ5; {ax.get_title()}", fontsize=9)
    paths.append(ctx.save(fig, "overlaps.png"))

    fig, ax = hplot.subplots(figsize=(7, 2.8))
    ax.plot(ts, e, lw=1)
    ax.set_xlabel("t")
    ax.set_ylabel("E / S" if row["form"] != "softmax" else "E")
    ax.set_title("Energy along the trajectory (V_d as a slowly varying control)")
    paths.append(ctx.save(fig, "energy.png"))

    model, _ = episodes_model(ctx.params(row), ctx.key(row))
    pick = np.linspace(0, len(ts) - 1, cfg.fixed_points).astype(int)
    fp = jax.jit(jax.vmap(lambda u, vd: model.overlaps(model.fixed_point(u, vd))))(
        jnp.asarray(U[pick]), jnp.asarray(Vd[pick])
    )
    fp = np.asarray(fp)
    fig, ax = hplot.subplots(figsize=(7, 2.8))
    for i in range(fp.shape[1]):
        ax.plot(ts[pick], fp[:, i], "o", ms=3, label=f"ξ{i + 1}")
    ax.set_xlabel("t")
    ax.set_ylabel("overlap of fixed point")
    ax.set_title("Nearest fixed point of the instantaneous energy (V_d frozen)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    paths.append(ctx.save(fig, "fixed_points.png"))
    return paths


EXPERIMENT = Experiment(
    name="gsemm_episodes",
    config=GSEMMEpisodesConfig,
    fn=gsemm_episodes_point,
    static=("form",),
    metrics=(
        "success",
        "n_retrieved",
        "correct_steps",
        "other_episode",
        "first_switch",
        "finite",
    ),
    description="Dense GSEMM Fig. 1/2: two episodes, cue ξ5, retrieve 5→6→7→4.",
    key_exclude=("form", "beta_d"),
    report=Report(summarize=summarize, plot=plot, headline=("retrieved_order", "settings")),
)
