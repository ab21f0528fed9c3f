"""Experiment ``gsemm_capacity``: the GSEMM paper's Fig. 3, sequence capacity of Dense GSEMM vs
the polynomial degree (Karuvally, Sejnowski & Siegelmann, ICML 2023).

Per row (degree, alpha_c, K, hidden, seed): ``K`` random memories in one cycle ξ1→…→ξK→ξ1, cue ξ1,
horizon ``max(t_min, t_per_memory · K)``, the reference parametrisation with ``β_d = 7`` (see
``gsemm_episodes``), success by appendix C's criterion (:func:`hopjax.episodes.run_episode`).
Metrics: ``success``, ``correct_steps``, ``n_retrieved``, ``finite`` (1 if every state stayed
finite). Once all rows are done, ``results.csv`` gains ``capacity_at_alpha_c`` (the largest K
retrieved at that α_c), ``capacity`` (per degree and seed: the largest K over all α_c, i.e. at
the best α_c) and ``best_alpha_c`` (the smallest α_c reaching it). ``hidden = "softmax"`` adds
the authors' softmax model (one row per α_c, K and seed, written at the smallest degree), whose
capacity is reported beside the degrees under ``"softmax"``. Each seed draws ``max(K)``
memories once; the run for ``K`` uses the first ``K`` of them, for every degree and α_c (nested
episodes, common random numbers). Success at a given K is a property of the draw: at degree 1,
K = 8, α_c = 0.2, about 25% of independent draws succeed (measured on 48), so nesting matters —
independent draws per K would turn the capacity into the best of many lottery tickets.

**Vectorised search over K.** ``K`` is a static grid key: one compiled program per K, vmapped
over every degree × α_c × seed at once (the full Fig. 3 grid puts 8550 runs in each program).
A K ladder padded to ``max(K)`` inside each row (all-zero memories contribute nothing) was the
first design; it runs every K at the longest horizon and the largest size, so with the Fig. 3
ladder (4 … 128) it costs Σ_K max(K)² against Σ_K K² here — 5.3× more work — and a bisection
needs sequential rounds of separate compiled runs, each as slow as its largest K. Integration:
a lean ``lax.scan`` RK4 (:func:`hopjax.solve.rk4_scan`, identical steps to diffrax's, 2.2× faster
on CPU) keeping only the leading overlap every ``save_every``.

**Work avoided.** Rows are judged online and stop at their verdict (``early_stop``); a seed's
rows run through a pool of slots that refill as rows are decided (:data:`EPISODE`). The ladder
(``ladder_search = "gallop"``, the default): a (degree, seed) climbs K by K until it retrieves
one, then jumps to the largest K up to twice the largest retrieved, and once a K is retrieved
at no α_c bisects between the two; ``"climb"`` runs every K in turn and stops after
``ladder_patience`` consecutive K retrieved at no α_c. With ``alpha_c_search = "incumbent"``
(the default) each (degree, seed) runs at each K first the α_c that succeeded fastest at the
largest K it retrieved so far, and its other α_c only where that one failed. Rows not run are
written with ``status = "pruned"``; ``summary.json``'s ``work`` counts rows run, rows not needed
and RK4 steps executed against the full protocol's."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray
from matplotlib.ticker import ScalarFormatter

from hopjax import plot as hplot
from hopjax.episodes import EpisodeJudge, EpisodeRun
from hopjax.gsemm import DenseGSEMM, SoftmaxGSEMM
from hopjax.patterns import random_bipolar
from hopjax.sweep import (
    Decision,
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    Stepper,
    SweepConfig,
    param,
)
from hopjax.sweep.stepper import run_row

from ._common import check_save_every

BASELINE = 12
"""The GSEMM paper's Fig. 3 baseline sequence capacity (degree 1, N_f = 100)."""


@dataclasses.dataclass
class GSEMMCapacityConfig(SweepConfig):
    """Config of ``gsemm_capacity`` (grid keys: degree, alpha_c, K)."""

    ALLOW_INF = ("stall_time",)
    BEFORE_KEY: ClassVar[dict[str, Any]] = {"integer_power": False}  # older folders: pow
    SEARCH_KEYS: ClassVar[frozenset[str]] = frozenset({"alpha_c_batch"})

    degree: list[int] = param([1, 3], ge=1)
    alpha_c: list[float] = param([0.1, 0.2], ge=0)
    K: list[int] = param([4, 8, 12, 16], ge=2)
    """Episode lengths tried (static: one compiled group per K, everything else vmapped)."""
    hidden: list[Literal["polynomial", "softmax"]] = dataclasses.field(
        default_factory=lambda: ["polynomial"]
    )
    """The hidden layer: ``polynomial`` (Dense GSEMM at each ``degree``) and/or ``softmax``
    (:class:`hopjax.gsemm.SoftmaxGSEMM`, the authors' exponential model, run once per α_c, K
    and seed — its capacity sits beside the degrees as ``"softmax"``). Its α_c scale differs:
    measured (``configs/gsemm_capacity_softmax.toml``), α_c = 0.5–2 retrieves every K ≤ 32 on
    every seed, 0.1 and 4.9 almost nothing, so a grid meant for both should span 0.5–2."""
    N_f: int = param(100, ge=2)
    alpha_s: float = param(1.0, gt=0)
    T_f: float = param(1.0, gt=0)
    T_d: float = param(20.0, gt=0)
    beta_d: float = param(7.0, gt=0)
    form: Literal["paper", "reference"] = "reference"
    power: Literal["signed", "plain"] = "signed"
    """``σ_h``: ``signed`` = ``sign(h)|h|ⁿ`` (monotone, convex Lagrangian); ``plain`` = the
    printed ``hⁿ`` (``|h|ⁿ`` at even degrees; the same model at odd ones). See
    :class:`hopjax.gsemm.DenseGSEMM` and docs/reproductions.md for what it changes."""
    dt: float = param(0.01, gt=0)
    t_min: float = param(600.0, gt=0)
    t_per_memory: float = param(210.0, gt=0)
    """Horizon per run: ``max(t_min, t_per_memory · K)``."""
    integer_power: bool = True
    """``σ_h(h) = sign(h)|h|^n`` by exponentiation by squaring (the degrees are integers;
    ``DenseGSEMM(integer_degree=max(degree))``): 1.4–1.8× faster RK4 steps on CPU than
    ``pow``, within a few float32 roundings of it. ``false``: ``pow``, what run folders
    written before this key existed used (they resume only with ``integer_power = false``);
    docs/reproductions.md compares the two."""
    save_every: float = param(1.0, gt=0)
    threshold: float = param(0.8, gt=0, lt=1)
    repeats: int = param(3, ge=1)
    stall_time: float = param(200.0, gt=0)
    """A run with no new record for this long is decided a failure (``inf``: never, appendix C's
    criterion alone)."""
    early_stop: bool = True
    """Stop integrating a row once its verdict is known (``false``: every row runs to its
    horizon; the verdict is the same, the judgement being frozen once decided)."""
    block: int = param(10, ge=1)
    """Saves integrated between two looks at the verdicts (a pool's slots refill this often)."""
    ladder_patience: int = param(2, ge=0)
    """Stop climbing the K ladder for a (degree, seed) after this many consecutive K at which
    no α_c succeeded (0: run every K)."""
    ladder_search: Literal["climb", "gallop"] = "gallop"
    """How a (degree, seed) moves along the K ladder. ``climb``: every K in turn, until
    ``ladder_patience`` consecutive K are retrieved at no α_c. ``gallop``: climb until the first
    K retrieved, then jump to the largest K up to twice the largest retrieved; once a K fails at
    every α_c, bisect between the two, and stop — as ``climb`` does — only when the
    ``ladder_patience`` consecutive K above the largest retrieved all fail (the K skipped are
    not needed: status ``pruned``). Both give the largest K retrieved where retrieval is
    monotone in K; the README compares them where it is not."""
    alpha_c_search: Literal["every", "incumbent", "each"] = "incumbent"
    """``each``: every α_c climbs its own K ladder (a (degree, α_c, seed) is a pair of the
    ladder rules), so ``capacity_at_alpha_c`` is the capacity at that fixed α_c, not only a
    lower bound (``summary.json``: ``capacity_at_alpha_c`` per degree); costs about one ladder
    per α_c. ``every``: every α_c runs at every K. ``incumbent``: at each K a (degree, seed)
    first runs only the α_c that succeeded at its previous K (the one that took the fewest RK4
    steps; before any K is retrieved, the largest α_c); the other α_c run only where it
    failed, and are not needed (status ``pruned``) where it succeeded.
    The capacity is the same as with ``every``: it is the largest K retrieved at *any* α_c, and
    whether a K is retrieved does not depend on which α_c is tried first."""
    alpha_c_batch: int = param(0, ge=0)
    """With ``alpha_c_search = "incumbent"``: once the incumbent fails at a K, run the other
    α_c this many at a time, nearest the incumbent (in grid order) first, and stop at the first
    that succeeds (0: all of them at once). At large K a success costs ~3K transitions, so
    running every α_c at once repeats it: at degree 2, K = 128, 43 α_c rows succeeded where 10
    (one per seed) were needed (``results/gsemm_capacity_degree2``). Costs one round per batch.
    The capacity is the same, so a run folder resumes under another value
    (:attr:`~hopjax.sweep.config.SweepConfig.SEARCH_KEYS`)."""

    bucket_K: bool = False  # noqa: N815 (the grid key is K)
    """Compile one program per *bucket* of K — the next power of two, capped at ``max(K)`` —
    instead of one per K (the polynomial hidden layer only; ``softmax`` rows keep one per K).
    A row of length ``K`` runs padded to its bucket: its first ``K`` memories are active and
    the rest inert (:class:`hopjax.gsemm.DenseGSEMM`'s ``n_active``: hidden currents and
    overlaps zero, as for all-zero memories), its horizon still ``max(t_min, t_per_memory·K)``.
    Verdicts and metrics are those of the unpadded run (compared on the reduced grids:
    docs/benchmarks.md); each RK4 step costs up to 2× (the bucket's width over K). Fewer
    programs: faster for small, compile-bound sweeps; off by default, as long runs are
    run-bound."""

    def check(self) -> None:
        super().check()
        check_save_every(self)

    def buckets(self) -> dict[str, Any]:
        """With ``bucket_K``: ``K`` compiled per bucket (:func:`k_bucket`)."""
        if not self.bucket_K:
            return {}
        top = max(self.K)
        return {"K": lambda r: k_bucket(r["K"], top) if r["hidden"] == "polynomial" else r["K"]}

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        return _prepare(self, static)

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * (64 * self.N_f + 16 * p["K"]) + 4096

    def include(self, row: Row) -> bool:
        """Whether the grid point ``row`` applies."""
        return row["hidden"] == "polynomial" or row["degree"] == min(self.degree)


def k_bucket(K: int, top: int) -> int:
    """The bucket of ``K`` (``bucket_K``): the next power of two, at most ``top``."""
    return min(1 << (int(K) - 1).bit_length(), top)


def _prepare(cfg: GSEMMCapacityConfig, static: dict[str, Any]) -> dict[str, Any]:
    out = {"K_max": max(cfg.K), "integer_degree": max(cfg.degree) if cfg.integer_power else None}
    horizon = lambda K: max(cfg.t_min, cfg.t_per_memory * K)  # noqa: E731
    if "K" not in cfg.buckets():
        t1 = horizon(static["K"])
        return {"t1": t1, "n_save": math.ceil(t1 / cfg.save_every), **out}
    # one program for every K of the bucket: each row's horizon from its own K (traced),
    # looked up in tables computed here exactly as the unbucketed path computes them
    B = static["K"]
    per = round(cfg.save_every / cfg.dt)
    saves = np.zeros(B + 1, np.int32)
    t_end = np.zeros(B + 1, np.float32)
    for K in range(1, B + 1):
        saves[K] = math.ceil(horizon(K) / cfg.save_every)
        t_end[K] = np.float32(int(saves[K]) * per * cfg.dt)
    t1 = horizon(B)
    return {"t1": t1, "n_save": math.ceil(t1 / cfg.save_every), "K_pad": B,
            "horizon_saves": saves, "horizon_t": t_end, **out}  # fmt: skip


def memories(p: dict[str, Any], key: PRNGKeyArray) -> Array:
    """The episode of a seed at ``K``: its first ``K`` of ``max(K)`` random memories (nested),
    shared by every degree and α_c of the seed."""
    return random_bipolar(key, p["K_max"], p["N_f"])[: p.get("K_pad", p["K"])]


def _judge(p: dict[str, Any]) -> EpisodeJudge:
    return EpisodeJudge(
        saves=jnp.asarray(p["horizon_saves"])[p["K"]] if "K_pad" in p else None,
        t1=p["t1"],
        dt=p["dt"],
        save_every=p["save_every"],
        threshold=p["threshold"],
        repeats=p["repeats"],
        start_memory=0,
        stall_time=p["stall_time"],
        block=p["block"],
    )


def _model(p: dict[str, Any], xi: Array) -> DenseGSEMM | SoftmaxGSEMM:
    # phi = None: the cycle ξ1 → … → ξK → ξ1; "hidden" is static (its own compiled group)
    cls = SoftmaxGSEMM if p["hidden"] == "softmax" else DenseGSEMM
    if "K_pad" not in p:
        return cls.from_params(xi, None, p)
    # bucket_K: the cycle through the first K (traced) of the bucket's memories, the others
    # inert; the episode matrix is a cycle, so its products stay gathers (sparse_phi)
    K, idx = p["K"], jnp.arange(xi.shape[0])
    nxt = jnp.where(idx + 1 < K, idx + 1, 0)
    phi = jnp.zeros((xi.shape[0],) * 2, xi.dtype).at[idx, nxt].set((idx < K).astype(xi.dtype))
    return cls.from_params(xi, phi, {**p, "sparse_phi": True, "n_active": K})


def model_of(r: Row) -> Any:
    """A row's model on the capacity axis: its degree, or ``"softmax"`` — paired with its
    ``N_f`` where ``N_f`` is a grid axis (``gsemm_scaling``: ``(degree, N_f)``), so that the
    ladder rules and capacities are per (model, N_f, seed)."""
    model = "softmax" if r.get("hidden") == "softmax" else int(r["degree"])
    return (model, int(r["N_f"])) if "N_f" in r else model


def _start(p: dict[str, Any], key: PRNGKeyArray, xi: Array) -> EpisodeRun:
    return _judge(p).start(_model(p, xi), xi[0])


def _advance(p: dict[str, Any], run: EpisodeRun, xi: Array) -> EpisodeRun:
    return _judge(p).advance(_model(p, xi), run)


def _decided(p: dict[str, Any], run: EpisodeRun) -> Array:
    # without early_stop every row runs to its horizon (the reference the verdicts are tested
    # against; the judgement is frozen once decided, so the verdict is the same)
    judge = _judge(p)
    return judge.decided(run) if p["early_stop"] else run.k >= judge.n_save


def _result(p: dict[str, Any], run: EpisodeRun, xi: Array) -> dict[str, Array]:
    v = _judge(p).verdict(_model(p, xi), run)
    f32 = lambda a: a.astype(jnp.float32)  # noqa: E731
    decided_at = v.decided_at
    if "K_pad" in p:  # the horizon's time exactly as the unbucketed path writes it
        decided_at = jnp.where(run.state.decided, v.decided_at, jnp.asarray(p["horizon_t"])[p["K"]])
    return {
        "success": f32(v.success),
        "correct_steps": f32(v.correct_steps),
        "n_retrieved": f32(v.n_retrieved),
        "finite": f32(v.finite),
        "decided_at": f32(decided_at),
        "rk4_steps": f32(v.rk4_steps),
    }


EPISODE = Stepper(_start, _advance, _decided, _result, slots=64)
"""One row (degree, α_c, K, seed): the K-cycle of the seed's memories, cue ξ1, RK4 in blocks
of ``block`` saves until appendix C's verdict is known (:class:`hopjax.episodes.EpisodeJudge`).
The rows of a seed run through a pool of ``slots`` slots that refill as rows are decided."""


def gsemm_capacity_point(p: dict[str, Any], key: PRNGKeyArray, xi: Array) -> dict[str, Array]:
    """One (degree, α_c, K, seed) on its own: :data:`EPISODE` run to its decision."""
    return run_row(EPISODE, p, key, xi)


def pair_of(cfg: GSEMMCapacityConfig, r: Row) -> tuple:
    """The unit the ladder rules climb for: (model, seed), or (model, seed, α_c) with
    ``alpha_c_search = "each"``."""
    base = (model_of(r), r["seed"])
    return (*base, r["alpha_c"]) if cfg.alpha_c_search == "each" else base


def _outcomes(cfg: GSEMMCapacityConfig, done: list[Row]) -> tuple[set, dict]:
    """From the finished rows: the (pair, K) retrieved (:func:`pair_of`), and for each the α_c
    that succeeded with the fewest RK4 steps."""
    fastest: dict[tuple, tuple[float, float]] = {}
    for r in done:
        if r["status"] == "done" and r["success"] == 1:
            pair = (*pair_of(cfg, r), r["K"])
            cand = (r["rk4_steps"], r["alpha_c"])
            fastest[pair] = min(fastest.get(pair, cand), cand)
    return set(fastest), {k: v[1] for k, v in fastest.items()}


def _ladder(cfg: GSEMMCapacityConfig, won: set, open_: set) -> tuple[int | None, float, float]:
    """Where a (degree, seed) stands on the K ladder: ``(target, lo, hi)`` — the K it runs next
    (``None`` once its capacity is settled), the largest K retrieved (``-inf``: none) and the
    smallest K above it retrieved at no α_c (``inf``: none). ``won``: the K retrieved at some
    α_c; ``open_``: the K still undecided (rows pending)."""
    ladder = sorted(cfg.K)
    failed = {k for k in ladder if k not in won and k not in open_}
    lo = max(won, default=-math.inf)
    hi = min((k for k in failed if k > lo), default=math.inf)
    if not won or cfg.ladder_search == "climb":
        target = min(open_, default=None)
        if target is not None and cfg.ladder_patience:
            # settled after ladder_patience consecutive K just below retrieved at no α_c
            below = [k for k in ladder if k < target][-cfg.ladder_patience :]
            if len(below) == cfg.ladder_patience and failed.issuperset(below):
                target = None
        return target, lo, hi
    if lo in open_:  # alpha_c_search = "every": finish the K retrieved first
        return int(lo), lo, hi
    between = sorted(k for k in open_ if lo < k < hi)
    if between and hi == math.inf:  # gallop: the largest K up to twice the largest retrieved
        return max((k for k in between if k <= 2 * lo), default=between[0]), lo, hi
    if between:
        return between[(len(between) - 1) // 2], lo, hi  # bisect the bracket (lo, hi)
    # the bracket is closed (lo retrieved, the next K not): as in climbing, settled only once
    # ladder_patience consecutive K from hi on are retrieved at no α_c (0: every K above)
    above = [k for k in ladder if k >= hi]
    window = above[: cfg.ladder_patience] if cfg.ladder_patience else above
    todo = [k for k in window if k in open_]
    return (todo[0] if todo else None), lo, hi


def schedule(ctx: RunContext, done: list[Row], pending: list[Row]) -> Decision:
    """The ladder rules, per (degree, seed) from its finished and pending rows (module
    docstring). Pruned (not needed): a (degree, seed) whose capacity is settled; with
    ``alpha_c_search = "incumbent"`` a K already retrieved at another α_c; with ``ladder_search
    = "gallop"`` a K below the largest retrieved or above one retrieved at no α_c. (Dropping
    single α_c after failures was tried and lost capacity: at degree 1 an α_c that failed at
    K = 4–8 retrieved K = 10.) Held back (the ladder order): a (degree, seed) runs one K at a
    time (its target, :func:`_ladder`) and there, with ``alpha_c_search = "incumbent"``, first
    the α_c that succeeded fastest at the largest K it retrieved so far; its other α_c wait for
    that verdict. With ``alpha_c_search = "each"`` the unit is (degree, α_c, seed)
    (:func:`pair_of`)."""
    cfg = ctx.cfg
    incumbent = cfg.alpha_c_search == "incumbent"
    gallop = cfg.ladder_search == "gallop"
    won, fastest = _outcomes(cfg, done)
    by_pair: dict[tuple, list[Row]] = {}
    for r in pending:
        by_pair.setdefault(pair_of(cfg, r), []).append(r)
    prune, hold = [], []
    for pair, rows in by_pair.items():
        got = {key[-1] for key in won if key[:-1] == pair}
        # a K is open while it has pending rows — unless already retrieved (incumbent search)
        open_ = {r["K"] for r in rows if not (incumbent and r["K"] in got)}
        target, lo, _ = _ladder(cfg, got, open_)
        # the incumbent: the α_c that succeeded fastest at the largest K retrieved below target;
        # before any K is retrieved, the largest α_c (the fastest at K = 4 on 41 of 44 pairs)
        below = [k for k in got if target is not None and k < target]
        inc = fastest.get((*pair, max(below))) if below else max(cfg.alpha_c)
        inc = inc if incumbent else None
        waiting = {r["alpha_c"] for r in rows if r["K"] == target}
        release = waiting  # after the incumbent failed: the next batch nearest to it
        if inc is not None and inc not in waiting and cfg.alpha_c_batch:
            rank = {a: i for i, a in enumerate(sorted(cfg.alpha_c))}
            near = sorted(waiting, key=lambda a: (abs(rank[a] - rank[inc]), a))
            release = set(near[: cfg.alpha_c_batch])
        for r in rows:
            k = r["K"]
            if target is None or k not in open_ or (gallop and k < lo):
                prune.append(r)  # settled; retrieved already; below the largest retrieved
            elif k != target or (inc is not None and inc != r["alpha_c"] and inc in waiting):
                hold.append(r)  # another K first; the incumbent α_c first
            elif r["alpha_c"] not in release:
                hold.append(r)  # a later batch (alpha_c_batch)
    return Decision(prune, hold)


def derive(ctx: RunContext, rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Per (degree, α_c, seed): ``capacity_at_alpha_c`` (largest K retrieved); per (degree,
    seed): ``capacity`` (the largest over α_c) and ``best_alpha_c`` (the smallest α_c reaching
    it; NaN when nothing was retrieved)."""
    at: dict[tuple, float] = {}
    for r in rows:
        key = (model_of(r), r["alpha_c"], r["seed"])
        at[key] = max(at.get(key, 0.0), float(r["K"]) if r["success"] == 1 else 0.0)
    best: dict[tuple, tuple[float, float]] = {}
    for (deg, ac, seed), cap in sorted(at.items(), key=lambda kv: kv[0][1]):
        cur = best.get((deg, seed))
        if cur is None or cap > cur[0]:
            best[(deg, seed)] = (cap, ac)
    out = []
    for r in rows:
        cap, ac = best[(model_of(r), r["seed"])]
        out.append(
            {
                **r,
                "capacity_at_alpha_c": at[(model_of(r), r["alpha_c"], r["seed"])],
                "capacity": cap,
                "best_alpha_c": ac if cap > 0 else float("nan"),
            }
        )
    return ["capacity_at_alpha_c", "capacity", "best_alpha_c"], out


def per_seed(rows: list[Row]) -> dict[int | str, dict[int, float]]:
    """model (degree, or ``"softmax"``) → seed → capacity (from the derived columns)."""
    out: dict[int | str, dict[int, float]] = {}
    for r in rows:
        out.setdefault(model_of(r), {})[int(r["seed"])] = r["capacity"]
    return out


def _order(model: int | str) -> tuple[int, int]:
    return (1, 0) if model == "softmax" else (0, int(model))


def censoring(capacities: Any, ladder: list[int]) -> dict[str, Any]:
    """What capacities measured on ``ladder`` say and do not: ``censored`` (at the ladder top:
    the capacity is ``≥ max(K)``), ``below_ladder`` (recorded 0, nothing retrieved: the
    capacity is ``< min(K)``) and ``mean_bound``: ``"lower"`` when either occurs (a recorded
    value is then ``≤`` the true one, so the mean and median are lower bounds), else ``"none"``
    (every capacity lies inside the ladder)."""
    v = np.asarray(capacities, float)
    censored, below = int(np.sum(v >= max(ladder))), int(np.sum(v <= 0))
    return {
        "censored": censored,
        "below_ladder": below,
        "mean_bound": "lower" if censored or below else "none",
    }


def unfinished_pairs(ctx: RunContext, rows: list[Row]) -> set[tuple]:
    """The (model, seed) — :func:`model_of` — whose rows are not all in ``rows``: in a summary
    of a stopped run (``tools/summarize_partial.py``) their ladders are unfinished and their
    capacities so far lower bounds. Empty for a finished run."""
    expected = Counter((model_of(r), r["seed"]) for r in ctx.plan.rows)
    present = Counter((model_of(r), r["seed"]) for r in rows)
    return {pair for pair, n in expected.items() if present[pair] < n}


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per degree: mean/median/max capacity over seeds, the mean best α_c and the censoring
    (:func:`censoring`: pairs at the ladder top are lower bounds); the baseline."""
    cfg = ctx.cfg
    caps = per_seed(rows)
    best_ac: dict[int | str, list[float]] = {}
    for r in rows:
        if r["capacity"] > 0 and r["alpha_c"] == r["best_alpha_c"]:
            best_ac.setdefault(model_of(r), []).append(r["alpha_c"])
    table = {}
    for deg, by_seed in sorted(caps.items(), key=lambda kv: _order(kv[0])):
        v = np.array(list(by_seed.values()), float)
        table[str(deg)] = {
            "mean": float(v.mean()),
            "median": float(np.median(v)),
            "min": float(v.min()),
            "max": float(v.max()),
            "seeds": len(v),
            "capacities": v.tolist(),
            "at_ladder_top": int(np.sum(v >= max(cfg.K))),
            **censoring(v, cfg.K),
            "mean_best_alpha_c": float(np.mean(best_ac[deg])) if best_ac.get(deg) else None,
        }
    # a summary of a stopped run (tools/summarize_partial.py): a (degree, seed) with rows not
    # yet written has not finished its ladder — its capacity so far is a lower bound
    unfinished = sorted(unfinished_pairs(ctx, rows), key=lambda ms: (_order(ms[0]), ms[1]))
    for model, seed in unfinished:
        table[str(model)].setdefault("unfinished_seeds", []).append(int(seed))
        table[str(model)]["mean_bound"] = "lower"
    done = [r for r in rows if r["status"] == "done"]
    full = sum(math.ceil(max(cfg.t_min, cfg.t_per_memory * r["K"]) / cfg.dt) for r in rows)
    full_k = sum(
        r["K"] * math.ceil(max(cfg.t_min, cfg.t_per_memory * r["K"]) / cfg.dt) for r in rows
    )
    won = {(model_of(r), r["seed"], r["K"]) for r in done if r["success"] == 1}
    moot = [r for r in rows if r["status"] != "done" and (model_of(r), r["seed"], r["K"]) in won]
    work = {
        "rows_run": len(done),
        "rows_pruned": len(rows) - len(done),
        "rows_not_needed": len(moot),
        "rk4_steps_full_protocol": full,
        "rk4_steps_executed": int(sum(r["rk4_steps"] for r in done)),
        "K_weighted_fraction": sum(r["rk4_steps"] * r["K"] for r in done) / full_k,
    }
    if cfg.alpha_c_search == "each":  # every α_c climbed its own ladder: exact per α_c
        at: dict[tuple, float] = {}
        for r in rows:
            at[(model_of(r), r["alpha_c"], r["seed"])] = r["capacity_at_alpha_c"]
        for deg in table:
            per_ac: dict[str, list[float]] = {}
            for (m, ac, _), c in at.items():
                if str(m) == deg:
                    per_ac.setdefault(str(ac), []).append(c)
            table[deg]["capacity_at_alpha_c"] = {
                ac: {"mean": float(np.mean(v)), "max": float(np.max(v)), **censoring(v, cfg.K)}
                for ac, v in per_ac.items()
            }
    every = [c for by_seed in caps.values() for c in by_seed.values()]
    return {
        "baseline": BASELINE,
        "work": work,
        "K": sorted(cfg.K),
        "capacity": table,
        "censoring": {
            "K_max": max(cfg.K),
            "pairs": len(every),
            **censoring(every, cfg.K),
            **({"unfinished": len(unfinished), "mean_bound": "lower"} if unfinished else {}),
        },
        "all_finite": bool(all(r["finite"] == 1 for r in done)),
        "form": cfg.form,
        "beta_d": cfg.beta_d,
        "ladder_search": cfg.ladder_search,
        "alpha_c_search": cfg.alpha_c_search,
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``capacity.png``: capacity per seed and mean vs degree on a log axis, baseline 12.
    Censored pairs are drawn apart: at the ladder top as open up-triangles (``≥ max(K)``),
    those that retrieved nothing as open down-triangles below the ladder (``< min(K)``); a mean
    over censored pairs is an open marker (a lower bound)."""
    cfg = ctx.cfg
    caps = per_seed(rows)
    top, bottom = max(cfg.K), min(cfg.K)
    fig, ax = hplot.subplots(figsize=(6.4, 4.0))
    models = sorted(caps, key=_order)
    degs = [m for m in models if m != "softmax"]
    xs = {m: (m if m != "softmax" else (max(degs) if degs else 0) + 2) for m in models}
    rng = np.random.default_rng(0)
    seen: set[str] = set()

    def once(label: str) -> str | None:  # each legend entry once
        if label in seen:
            return None
        seen.add(label)
        return label

    for m in models:
        seeds = list(caps[m])
        v = np.array(list(caps[m].values()), float)
        jit = xs[m] + rng.uniform(-0.15, 0.15, len(v))
        late = set(summary.get("capacity", {}).get(str(m), {}).get("unfinished_seeds", []))
        late_mask = np.array([s in late for s in seeds], bool)
        if late_mask.any():  # an unfinished ladder: the capacity so far is a lower bound
            ax.plot(jit[late_mask], v[late_mask], "^", ms=5, mfc="none", color="tab:orange",
                    label=once("unfinished ladder: ≥ (a lower bound)"))  # fmt: skip
            v = np.where(late_mask, np.nan, v)
        exact = (v > 0) & (v < top)
        if np.any(exact):
            ax.plot(
                jit[exact], v[exact], "o", ms=3, color="gray", alpha=0.6, label=once("one seed")
            )
        if np.any(v >= top):
            ax.plot(
                jit[v >= top],
                v[v >= top],
                "^",
                ms=5,
                mfc="none",
                color="tab:red",
                label=once(f"censored: ≥ {top} (ladder top)"),
            )
        if np.any(v <= 0):
            ax.plot(
                jit[v <= 0],
                np.full(int(np.sum(v <= 0)), bottom / 1.5),
                "v",
                ms=5,
                mfc="none",
                color="tab:purple",
                label=once(f"nothing retrieved: < {bottom}"),
            )
    for group, style in ((degs, "b-"), (["softmax"] if "softmax" in caps else [], "")):
        if not group:
            continue
        means = [float(np.mean(list(caps[m].values()))) for m in group]
        lower = [
            summary.get("capacity", {}).get(str(m), {}).get("mean_bound")
            or censoring(list(caps[m].values()), cfg.K)["mean_bound"]
            for m in group
        ]
        lower = [b == "lower" for b in lower]
        xg = [xs[m] for m in group]
        color = "tab:blue" if style else "tab:orange"
        if style:
            ax.plot(xg, means, style, lw=1)
        for x, y, lo in zip(xg, means, lower, strict=True):
            ax.plot(
                [x],
                [y],
                "D" if not style else "o",
                ms=5,
                color=color,
                mfc="none" if lo else color,
                label=once("mean (open: a lower bound)" if style else "softmax (mean)"),
            )
    ax.set_xticks([xs[m] for m in models], [str(m) for m in models])
    ax.axhline(BASELINE, color="k", lw=1, label="baseline 12 (Karuvally et al. 2023)")
    ax.axhline(top, color="r", lw=0.8, ls=":", label=f"ladder top K = {top}")
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("polynomial degree n")
    ax.set_ylabel("capacity (longest episode retrieved)")
    ax.set_title(
        f"Dense GSEMM, N_f = {cfg.N_f}, {cfg.form} form, β_d = {cfg.beta_d}"
        + (", σ_h = hⁿ" if cfg.power == "plain" else "")
    )
    ax.legend(fontsize=7)
    return [ctx.save(fig, "capacity.png")]


EXPERIMENT = Experiment(
    name="gsemm_capacity",
    config=GSEMMCapacityConfig,
    fn=EPISODE,
    shared=memories,
    schedule=schedule,
    static=("K", "hidden"),
    metrics=("success", "correct_steps", "n_retrieved", "finite", "decided_at", "rk4_steps"),
    description="Dense GSEMM Fig. 3: sequence capacity vs polynomial degree.",
    key_exclude=("degree", "alpha_c", "K", "hidden"),
    report=Report(
        summarize=summarize,
        plot=plot,
        derive=derive,
        headline=("baseline", "capacity", "all_finite"),
    ),
)


VARIANTS = {
    "baseline": ("results/gsemm_capacity", "the committed Fig. 3 run (seeds 0-9)"),
    "beta_d1": ("results/gsemm_variants/beta_d1", 'form = "paper", β_d = 1'),
    "plain_power": ("results/gsemm_variants/plain_power", "σ_h = hⁿ (even degrees)"),
    "fixed_alpha_c": ("results/gsemm_variants/fixed_alpha_c", "one fixed α_c"),
    "short_horizon": ("results/gsemm_variants/short_horizon", "horizon 600 for every K"),
}
"""The Fig. 3 variants (``configs/gsemm_variant_*.toml``) and where their runs are committed."""


def variant_capacities(
    root: Path, degrees: tuple[int, ...] = (1, 2, 3, 4, 5, 6), seeds: int = 10
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per variant (:data:`VARIANTS`, folders under ``root``) and degree: the capacities of
    seeds ``0 … seeds−1`` (from ``results.csv``) with their mean, min, max and censoring —
    for ``fixed_alpha_c`` one entry per α_c (``"<degree>@<α_c>"``, from
    ``capacity_at_alpha_c``). Missing folders are left out."""
    import csv

    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, (rel, _) in VARIANTS.items():
        folder = root / rel
        meta = folder / "metadata.json"
        if not meta.exists() or not json.loads(meta.read_text()).get("complete"):
            continue  # not run, or not finished (the derived columns come at the end)
        ladder = [int(k) for k in load_ladder(folder)]
        caps: dict[str, dict[int, float]] = {}
        with open(folder / "results.csv") as fh:
            for r in csv.DictReader(fh):
                deg, seed = int(r["degree"]), int(r["seed"])
                if deg not in degrees or seed >= seeds or r.get("hidden") == "softmax":
                    continue
                if name == "fixed_alpha_c":
                    key, value = f"{deg}@{float(r['alpha_c'])}", r["capacity_at_alpha_c"]
                else:
                    key, value = str(deg), r["capacity"]
                caps.setdefault(key, {})[seed] = float(value)
        out[name] = {
            key: {
                "capacities": [v[s] for s in sorted(v)],
                "mean": float(np.mean(list(v.values()))),
                "min": float(min(v.values())),
                "max": float(max(v.values())),
                **censoring(list(v.values()), ladder),
            }
            for key, v in sorted(caps.items())
        }
    return out


def load_ladder(folder: Path) -> list[int]:
    """The K ladder of a ``gsemm_capacity`` run folder (its ``config.toml``)."""
    from hopjax.sweep.config import load_toml

    return list(load_toml(folder / "config.toml")["K"])


FIG3_FOLDERS = (
    "results/gsemm_capacity",
    "results/gsemm_capacity_degree2",
    "results/gsemm_capacity_degree3",
)
"""The committed Fig. 3 runs: the full grid (K ≤ 128) and the ladders raised past its top."""


def fig3_capacities(
    root: Path, folders: tuple[str, ...] = FIG3_FOLDERS
) -> dict[int, dict[int, tuple[float, int, bool]]]:
    """Fig. 3 from every committed run: degree → seed → ``(capacity, ladder top, bound)``,
    where the capacity is the largest K retrieved at some α_c (``0``: none) in the folder with
    the highest ladder top that ran that (degree, seed), and ``bound`` says it is a lower bound:
    censored at the top, or from a folder whose run has not finished (its ladders may go on)."""
    import csv

    out: dict[int, dict[int, tuple[float, int, bool]]] = {}
    for rel in folders:
        folder = root / rel
        if not (folder / "results.csv").exists():
            continue
        top = max(load_ladder(folder))
        meta = folder / "metadata.json"
        finished = meta.exists() and bool(json.loads(meta.read_text()).get("complete"))
        got: dict[tuple[int, int], float] = {}
        with open(folder / "results.csv") as fh:
            for r in csv.DictReader(fh):
                if r.get("hidden", "polynomial") == "softmax":
                    continue
                pair = (int(r["degree"]), int(r["seed"]))
                won = r["status"] == "done" and float(r["success"]) == 1
                got[pair] = max(got.get(pair, 0.0), float(r["K"]) if won else 0.0)
        for (deg, seed), cap in got.items():
            have = out.setdefault(deg, {}).get(seed)
            if have is None or top > have[1]:
                out[deg][seed] = (cap, top, cap >= top or not finished)
    return {d: dict(sorted(v.items())) for d, v in sorted(out.items())}


def plot_fig3(root: Path, folders: tuple[str, ...] = FIG3_FOLDERS) -> Any:
    """Fig. 3 with each degree at its highest committed ladder (:func:`fig3_capacities`): one
    point per seed on a log axis, lower bounds (censored at their ladder's top, or from a run
    not yet finished) as open up-triangles, the mean (open where it is a lower bound), each
    degree's ladder top as a short dotted line, and the paper's baseline 12. Returns the
    matplotlib figure."""
    caps = fig3_capacities(root, folders)
    fig, ax = hplot.subplots(figsize=(6.4, 4.0))
    rng = np.random.default_rng(0)
    seen: set[str] = set()

    def once(label: str) -> str | None:
        if label in seen:
            return None
        seen.add(label)
        return label

    for deg, seeds in caps.items():
        v = np.array([c for c, _, _ in seeds.values()], float)
        tops = np.array([t for _, t, _ in seeds.values()], float)
        cens = np.array([b for _, _, b in seeds.values()], bool) & (v > 0)
        x = deg + rng.uniform(-0.18, 0.18, len(v))
        exact, none = (v > 0) & ~cens, v <= 0
        ax.plot(x[exact], v[exact], "o", ms=3, color="gray", alpha=0.6, label=once("one seed"))
        ax.plot(x[cens], v[cens], "^", ms=5, mfc="none", color="tab:red",
                label=once("a lower bound: at its ladder top, or unfinished"))  # fmt: skip
        ax.plot(x[none], np.full(int(none.sum()), 3.0), "v", ms=5, mfc="none",
                color="tab:purple", label=once("nothing retrieved: < 4"))  # fmt: skip
        for t in sorted(set(tops.tolist())):
            ax.plot([deg - 0.3, deg + 0.3], [t, t], ":", color="tab:red", lw=0.9,
                    label=once("ladder top of the run"))  # fmt: skip
        mean, lower = float(np.mean(v)), bool(cens.any())
        ax.plot([deg], [mean], "o", ms=6, color="tab:blue", mfc="none" if lower else "tab:blue",
                label=once("mean over seeds (open: a lower bound)"))  # fmt: skip
    ax.axhline(BASELINE, color="k", lw=1, label="baseline 12 (Karuvally et al. 2023)")
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.set_xticks(list(caps), [str(d) for d in caps])
    ax.set_xlabel("polynomial degree n")
    ax.set_ylabel("capacity (longest episode retrieved)")
    ax.set_title("Dense GSEMM, N_f = 100: Fig. 3 at each degree's highest ladder")
    ax.legend(fontsize=7, loc="lower right")
    return fig
