"""Experiments ``gsemm_episodes`` (seed 004 Fig. 1/2) and ``gsemm_capacity`` (Fig. 3).

**Parametrisation.** Both default to the authors' reference code (``form = "reference"``:
``T_f V̇_f = Ξ σ_h(α_s Ξᵀσ_f + α_c ΦᵀΞᵀV_d) − V_f``) with delay gain ``β_d = 7``: measured here
(and in ``../shared/specs/gsemm.md``), the paper's printed equations (``form = "paper"``) or
``β_d = 1`` leave the Fig. 1 network stuck on the cue, while this setting retrieves
5 → 6 → 7 → 4 → … The experiments expose ``form`` and ``beta_d`` so either can be checked.

``gsemm_episodes`` — per row (form, beta_d, seed): Dense GSEMM, ``N_f`` random memories
ξ1…ξ7 in two episodes ξ1→ξ2→ξ3→ξ1 and ξ4→ξ5→ξ6→ξ7→ξ4, cue ξ5 (``V_f(0) = ξ5``, ``V_d(0) = 0``),
RK4 at ``dt`` to ``t1``. Decoding (appendix B/C): the leading overlap
``m_i = (1/N_f) Σ_j ξ_ij tanh(V_f)_j`` above ``threshold`` (0.8), recorded on change. Metrics:
``success`` (the cue's episode retrieved in order ≥ ``repeats`` times, no errors, never a memory
of the other episode), ``n_retrieved`` (recorded memories), ``correct_steps`` (before the first
error), ``other_episode`` (records of memories 1–3), ``first_switch`` (time of the first
change). ``summary.json["retrieved_order"]``: the decoded sequence (1-based) of the first row.

``gsemm_capacity`` — per row (degree, alpha_c, K, seed): ``K`` random memories in one cycle
ξ1→…→ξK→ξ1, cue ξ1, horizon ``max(t_min, t_per_memory · K)``, success as above. Metrics:
``success``, ``correct_steps``, ``n_retrieved``, ``finite`` (1 if every state stayed finite).
Once all rows are done, ``results.csv`` gains ``capacity_at_alpha_c`` (the largest K retrieved at
that α_c), ``capacity`` (per degree and seed: the largest K over all α_c, i.e. at the best α_c)
and ``best_alpha_c`` (the smallest α_c reaching it). Each seed draws ``max(K)`` memories once;
the run for ``K`` uses the first ``K`` of them, for every degree and α_c (nested episodes, common
random numbers). Success at a given K is a property of the draw: at degree 1, K = 8, α_c = 0.2,
about 25% of independent draws succeed (measured on 48), so nesting matters — independent draws
per K would turn the capacity into the best of many lottery tickets.

**Vectorised search over K.** ``K`` is a static grid key: one compiled program per K, vmapped
over every degree × α_c × seed at once (the full Fig. 3 grid puts 8550 runs in each program).
A K ladder padded to ``max(K)`` inside each row (all-zero memories contribute nothing) was the
first design; it runs every K at the longest horizon and the largest size, so with the Fig. 3
ladder (4 … 128) it costs Σ_K max(K)² against Σ_K K² here — 5.3× more work — and a bisection
needs sequential rounds of separate compiled runs, each as slow as its largest K. Integration:
a lean ``lax.scan`` RK4 (:func:`hopjax.solve.rk4_scan`, identical steps to diffrax's, 2.2× faster
on CPU) keeping only the leading overlap every ``save_every``.
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
from hopjax.gsemm import (
    DenseGSEMM,
    cycle_matrix,
    decode_sequence,
    episode_success,
    episodes_matrix,
    successor,
)
from hopjax.patterns import random_bipolar
from hopjax.solve import rk4_scan
from hopjax.sweep import Experiment, Row, register, row_key

BASELINE = 12
"""Seed 004 Fig. 3's baseline sequence capacity (degree 1, N_f = 100)."""


def _leader(model: DenseGSEMM) -> Any:
    def save(t: Array, y: Any, args: Any) -> tuple[Array, Array]:
        m = model.overlaps(y[0])
        return jnp.argmax(m).astype(jnp.int32), jnp.max(m)

    return save


def _check_common(cfg: Any) -> None:
    for key in ("alpha_s", "T_f", "T_d", "beta_d", "dt", "save_every"):
        vals = getattr(cfg, key)
        vals = vals if isinstance(vals, list) else [vals]
        if min(vals) <= 0:
            raise ConfigError(f"'{key}' must be > 0; got {getattr(cfg, key)}.")
    if (
        cfg.save_every < cfg.dt
        or abs(cfg.save_every / cfg.dt - round(cfg.save_every / cfg.dt)) > 1e-6
    ):
        raise ConfigError("'save_every' must be a whole multiple of 'dt'.")
    if not 0 < cfg.threshold < 1:
        raise ConfigError(f"'threshold' must lie in (0, 1); got {cfg.threshold}.")
    if cfg.repeats < 1:
        raise ConfigError(f"'repeats' must be >= 1; got {cfg.repeats}.")
    if cfg.N_f < 2:
        raise ConfigError(f"'N_f' must be >= 2; got {cfg.N_f}.")


# ----------------------------------------------------------------------------- episodes


@dataclasses.dataclass
class GSEMMEpisodesConfig(SweepConfig):
    """Config of ``gsemm_episodes`` (grid keys: form, beta_d)."""

    form: list[Literal["paper", "reference"]] = dataclasses.field(
        default_factory=lambda: ["reference"]
    )
    beta_d: list[float] = dataclasses.field(default_factory=lambda: [7.0])
    seeds: int = 1
    N_f: int = 100
    alpha_s: float = 0.05
    alpha_c: float = 0.007
    T_f: float = 1.0
    T_d: float = 20.0
    degree: int = 1
    dt: float = 0.01
    t1: float = 400.0
    save_every: float = 0.1
    threshold: float = 0.8
    repeats: int = 3
    fixed_points: int = 40
    """Times at which the instantaneous energy's fixed point is found (Fig. 2 panel)."""

    def check(self) -> None:
        super().check()
        _check_common(self)
        if self.degree < 1:
            raise ConfigError(f"'degree' must be >= 1; got {self.degree}.")
        if self.t1 <= self.save_every:
            raise ConfigError("'t1' must exceed 'save_every'.")
        if self.alpha_c < 0:
            raise ConfigError(f"'alpha_c' must be >= 0; got {self.alpha_c}.")


EPISODES = [[0, 1, 2], [3, 4, 5, 6]]
CUE = 4  # ξ5


def episodes_model(p: dict[str, Any], key: PRNGKeyArray) -> tuple[DenseGSEMM, Array]:
    """The Fig. 1 network of one row and its memories."""
    xi = random_bipolar(key, 7, p["N_f"])
    model = DenseGSEMM(
        xi,
        episodes_matrix(EPISODES, 7),
        degree=p["degree"],
        alpha_s=p["alpha_s"],
        alpha_c=p["alpha_c"],
        T_f=p["T_f"],
        T_d=p["T_d"],
        beta_d=p["beta_d"],
        form=p["form"],
    )
    return model, xi


def _steps(p: dict[str, Any], t1: float) -> tuple[int, int]:
    per = round(p["save_every"] / p["dt"])
    return int(np.ceil(t1 / p["save_every"])), per


def episodes_trajectory(p: dict[str, Any], key: PRNGKeyArray) -> tuple[Array, ...]:
    """``(ts, m, energy, U, V_d)`` saved every ``save_every`` (for the plots)."""
    model, xi = episodes_model(p, key)
    n_save, per = _steps(p, p["t1"])

    def save(t: Array, y: Any, args: Any) -> tuple[Array, ...]:
        return model.overlaps(y[0]), model.energy(y), y[0], y[1]

    _, (m, e, U, Vd) = rk4_scan(
        model.vector_field,
        model.initial_state(xi[CUE]),
        dt=p["dt"],
        n_save=n_save,
        steps_per_save=per,
        save_fn=save,
    )
    ts = (jnp.arange(n_save) + 1) * per * p["dt"]
    return ts, m, e, U, Vd


def episodes_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One Fig. 1 run and its decoded sequence (module docstring)."""
    model, xi = episodes_model(p, key)
    n_save, per = _steps(p, p["t1"])
    y_end, (lead, top) = rk4_scan(
        model.vector_field,
        model.initial_state(xi[CUE]),
        dt=p["dt"],
        n_save=n_save,
        steps_per_save=per,
        save_fn=_leader(model),
    )
    seq, count = decode_sequence(lead, top, threshold=p["threshold"], max_len=256)
    ok, correct = episode_success(seq, count, successor(model.phi), repeats=p["repeats"])
    stored = jnp.arange(256) < count
    other = jnp.sum(stored & (seq >= 0) & (seq <= 2))
    ts = (jnp.arange(n_save) + 1) * per * p["dt"]
    changed = (lead != lead[0]) & (top > p["threshold"])
    first = jnp.where(jnp.any(changed), ts[jnp.argmax(changed)], jnp.nan)
    finite = jnp.all(jnp.isfinite(y_end[0])) & jnp.all(jnp.isfinite(y_end[1]))
    return {
        "success": (ok & (other == 0) & (seq[0] == CUE)).astype(jnp.float32),
        "n_retrieved": count.astype(jnp.float32),
        "correct_steps": correct.astype(jnp.float32),
        "other_episode": other.astype(jnp.float32),
        "first_switch": first,
        "finite": finite.astype(jnp.float32),
    }


def _resimulate(cfg: Any, exp: Experiment, row: Row, fn: Any) -> tuple[np.ndarray, ...]:
    fixed = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    p = {**fixed, **{k: row[k] for k in row if k != "seed" and k in fixed}}
    out = jax.jit(lambda k: fn(p, k))(row_key(row, cfg, exp))
    return tuple(np.asarray(a) for a in out), p


def summarize_episodes(cfg: GSEMMEpisodesConfig, rows: list[Row]) -> dict[str, Any]:
    """The decoded order of the first row (1-based) and a per-setting success table."""
    exp = EXPERIMENTS_BY_NAME["gsemm_episodes"]
    row = rows[0]
    fixed = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    p = {**fixed, "form": row["form"], "beta_d": row["beta_d"]}
    model, xi = episodes_model(p, row_key(row, cfg, exp))
    n_save, per = _steps(p, cfg.t1)
    _, (lead, top) = jax.jit(
        lambda: rk4_scan(
            model.vector_field,
            model.initial_state(xi[CUE]),
            dt=cfg.dt,
            n_save=n_save,
            steps_per_save=per,
            save_fn=_leader(model),
        )
    )()
    seq, count = decode_sequence(lead, top, threshold=cfg.threshold, max_len=256)
    order = [int(i) + 1 for i in np.asarray(seq)[: int(count)]]
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


def plot_episodes(
    cfg: GSEMMEpisodesConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    """``overlaps.png`` (Fig. 1/2B), ``energy.png`` (energy along the trajectory) and
    ``fixed_points.png`` (Fig. 2C: overlaps of the instantaneous energy minimum reached from the
    current state, ``V_d`` frozen, vs time)."""
    from hopjax.plots import plt, save

    exp = EXPERIMENTS_BY_NAME["gsemm_episodes"]
    row = rows[0]
    (ts, m, e, U, Vd), p = _resimulate(cfg, exp, row, episodes_trajectory)
    paths = []
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for i in range(m.shape[1]):
        ax.plot(ts, m[:, i], lw=1, label=f"ξ{i + 1}")
    ax.set_xlabel("t")
    ax.set_ylabel("overlap m_i")
    ax.set_title(
        f"Dense GSEMM ({row['form']} form, β_d = {row['beta_d']}), cue ξ5 → "
        + "→".join(map(str, summary["retrieved_order"][:9]))
    )
    ax.legend(fontsize=7, ncol=7, loc="lower right")
    paths.append(save(fig, out / "overlaps.png", cfg.plot.dpi))

    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.plot(ts, e, lw=1)
    ax.set_xlabel("t")
    ax.set_ylabel("E / S (instantaneous)")
    ax.set_title("Energy along the trajectory (V_d as a slowly varying control)")
    paths.append(save(fig, out / "energy.png", cfg.plot.dpi))

    model, _ = episodes_model(p, row_key(row, cfg, exp))
    pick = np.linspace(0, len(ts) - 1, cfg.fixed_points).astype(int)
    fp = jax.jit(jax.vmap(lambda u, vd: model.overlaps(model.fixed_point(u, vd))))(
        jnp.asarray(U[pick]), jnp.asarray(Vd[pick])
    )
    fp = np.asarray(fp)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for i in range(fp.shape[1]):
        ax.plot(ts[pick], fp[:, i], "o", ms=3, label=f"ξ{i + 1}")
    ax.set_xlabel("t")
    ax.set_ylabel("overlap of fixed point")
    ax.set_title("Nearest fixed point of the instantaneous energy (V_d frozen)")
    ax.legend(fontsize=7, ncol=7, loc="lower right")
    paths.append(save(fig, out / "fixed_points.png", cfg.plot.dpi))
    return paths


# ----------------------------------------------------------------------------- capacity


@dataclasses.dataclass
class GSEMMCapacityConfig(SweepConfig):
    """Config of ``gsemm_capacity`` (grid keys: degree, alpha_c, K)."""

    degree: list[int] = dataclasses.field(default_factory=lambda: [1, 3])
    alpha_c: list[float] = dataclasses.field(default_factory=lambda: [0.1, 0.2])
    K: list[int] = dataclasses.field(default_factory=lambda: [4, 8, 12, 16])
    """Episode lengths tried (static: one compiled group per K, everything else vmapped)."""
    N_f: int = 100
    alpha_s: float = 1.0
    T_f: float = 1.0
    T_d: float = 20.0
    beta_d: float = 7.0
    form: Literal["paper", "reference"] = "reference"
    dt: float = 0.01
    t_min: float = 600.0
    t_per_memory: float = 210.0
    """Horizon per run: ``max(t_min, t_per_memory · K)``."""
    save_every: float = 1.0
    threshold: float = 0.8
    repeats: int = 3

    def check(self) -> None:
        super().check()
        _check_common(self)
        if min(self.degree) < 1:
            raise ConfigError(f"'degree' must be >= 1; got {self.degree}.")
        if min(self.alpha_c) < 0:
            raise ConfigError(f"'alpha_c' must be >= 0; got {self.alpha_c}.")
        if min(self.K) < 2:
            raise ConfigError(f"'K' must be integers >= 2; got {self.K}.")
        if self.t_min <= 0 or self.t_per_memory <= 0:
            raise ConfigError("'t_min' and 't_per_memory' must be > 0.")


def _capacity_prepare(cfg: GSEMMCapacityConfig, static: dict[str, Any]) -> dict[str, Any]:
    t1 = max(cfg.t_min, cfg.t_per_memory * static["K"])
    n_save, per = _steps({"save_every": cfg.save_every, "dt": cfg.dt}, t1)
    return {"n_save": n_save, "steps_per_save": per, "K_max": max(cfg.K)}


def capacity_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One (degree, α_c, K, seed): a K-cycle of random memories, cue ξ1, RK4 to the horizon,
    decoded and judged by appendix C's criterion (module docstring)."""
    K = p["K"]
    xi = random_bipolar(key, p["K_max"], p["N_f"])[:K]  # nested: the seed's first K memories
    model = DenseGSEMM(
        xi,
        cycle_matrix(K, dtype=xi.dtype),
        degree=p["degree"].astype(xi.dtype),
        alpha_s=p["alpha_s"],
        alpha_c=p["alpha_c"],
        T_f=p["T_f"],
        T_d=p["T_d"],
        beta_d=p["beta_d"],
        form=p["form"],
    )
    y_end, (lead, top) = rk4_scan(
        model.vector_field,
        model.initial_state(xi[0]),
        dt=p["dt"],
        n_save=p["n_save"],
        steps_per_save=p["steps_per_save"],
        save_fn=_leader(model),
    )
    seq, count = decode_sequence(lead, top, threshold=p["threshold"], max_len=p["n_save"])
    ok, correct = episode_success(seq, count, successor(model.phi), repeats=p["repeats"])
    finite = jnp.all(jnp.isfinite(y_end[0])) & jnp.all(jnp.isfinite(y_end[1]))
    return {
        "success": (ok & (seq[0] == 0)).astype(jnp.float32),
        "correct_steps": correct.astype(jnp.float32),
        "n_retrieved": count.astype(jnp.float32),
        "finite": finite.astype(jnp.float32),
    }


def _capacity_row_bytes(cfg: GSEMMCapacityConfig, p: dict[str, Any]) -> int:
    return 4 * (24 * p["K"] * cfg.N_f + 8 * p["n_save"]) + 4096


def derive_capacity(cfg: GSEMMCapacityConfig, rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Per (degree, α_c, seed): ``capacity_at_alpha_c`` (largest K retrieved); per (degree,
    seed): ``capacity`` (the largest over α_c) and ``best_alpha_c`` (the smallest α_c reaching
    it; NaN when nothing was retrieved)."""
    at: dict[tuple, float] = {}
    for r in rows:
        key = (r["degree"], r["alpha_c"], r["seed"])
        at[key] = max(at.get(key, 0.0), float(r["K"]) if r["success"] == 1 else 0.0)
    best: dict[tuple, tuple[float, float]] = {}
    for (deg, ac, seed), cap in sorted(at.items(), key=lambda kv: kv[0][1]):
        cur = best.get((deg, seed))
        if cur is None or cap > cur[0]:
            best[(deg, seed)] = (cap, ac)
    out = []
    for r in rows:
        cap, ac = best[(r["degree"], r["seed"])]
        out.append(
            {
                **r,
                "capacity_at_alpha_c": at[(r["degree"], r["alpha_c"], r["seed"])],
                "capacity": cap,
                "best_alpha_c": ac if cap > 0 else float("nan"),
            }
        )
    return ["capacity_at_alpha_c", "capacity", "best_alpha_c"], out


def per_seed(rows: list[Row]) -> dict[int, dict[int, float]]:
    """degree → seed → capacity (from the derived columns)."""
    out: dict[int, dict[int, float]] = {}
    for r in rows:
        out.setdefault(int(r["degree"]), {})[int(r["seed"])] = r["capacity"]
    return out


def summarize_capacity(cfg: GSEMMCapacityConfig, rows: list[Row]) -> dict[str, Any]:
    """Per degree: mean/median/max capacity over seeds and the mean best α_c; the baseline."""
    caps = per_seed(rows)
    best_ac: dict[int, list[float]] = {}
    for r in rows:
        if r["capacity"] > 0 and r["alpha_c"] == r["best_alpha_c"]:
            best_ac.setdefault(int(r["degree"]), []).append(r["alpha_c"])
    table = {}
    for deg, by_seed in sorted(caps.items()):
        v = np.array(list(by_seed.values()), float)
        table[str(deg)] = {
            "mean": float(v.mean()),
            "median": float(np.median(v)),
            "min": float(v.min()),
            "max": float(v.max()),
            "seeds": len(v),
            "capacities": v.tolist(),
            "at_ladder_top": int(np.sum(v >= max(cfg.K))),
            "mean_best_alpha_c": float(np.mean(best_ac[deg])) if best_ac.get(deg) else None,
        }
    return {
        "baseline": BASELINE,
        "K": sorted(cfg.K),
        "capacity": table,
        "all_finite": bool(all(r["finite"] == 1 for r in rows)),
        "form": cfg.form,
        "beta_d": cfg.beta_d,
    }


def plot_capacity(
    cfg: GSEMMCapacityConfig, rows: list[Row], summary: dict[str, Any], out: Path
) -> list[Path]:
    """``capacity.png``: capacity per seed (dots) and mean (line) vs degree, baseline 12."""
    from hopjax.plots import plt, save

    caps = per_seed(rows)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    degs = sorted(caps)
    rng = np.random.default_rng(0)
    for d in degs:
        v = np.array(list(caps[d].values()), float)
        ax.plot(d + rng.uniform(-0.15, 0.15, len(v)), v, "o", ms=3, color="gray", alpha=0.6)
    ax.plot(degs, [np.mean(list(caps[d].values())) for d in degs], "b-o", ms=4, label="mean")
    ax.axhline(BASELINE, color="k", lw=1, label="baseline 12 (seed 004)")
    ax.axhline(max(cfg.K), color="r", lw=0.8, ls=":", label=f"ladder top K = {max(cfg.K)}")
    ax.set_xlabel("polynomial degree n")
    ax.set_ylabel("capacity (longest episode retrieved)")
    ax.set_title(f"Dense GSEMM, N_f = {cfg.N_f}, {cfg.form} form, β_d = {cfg.beta_d}")
    ax.legend(fontsize=7)
    return [save(fig, out / "capacity.png", cfg.plot.dpi)]


EXPERIMENTS_BY_NAME: dict[str, Experiment] = {}

for _exp in (
    Experiment(
        name="gsemm_episodes",
        config=GSEMMEpisodesConfig,
        fn=episodes_point,
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
        summarize=summarize_episodes,
        plot=plot_episodes,
    ),
    Experiment(
        name="gsemm_capacity",
        config=GSEMMCapacityConfig,
        fn=capacity_point,
        static=("K",),
        metrics=("success", "correct_steps", "n_retrieved", "finite"),
        description="Dense GSEMM Fig. 3: sequence capacity vs polynomial degree.",
        key_exclude=("degree", "alpha_c", "K"),
        prepare=_capacity_prepare,
        row_bytes=_capacity_row_bytes,
        summarize=summarize_capacity,
        plot=plot_capacity,
        derive=derive_capacity,
    ),
):
    EXPERIMENTS_BY_NAME[_exp.name] = register(_exp)
