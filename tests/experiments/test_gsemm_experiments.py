"""The GSEMM experiments through the sweep engine: Fig. 1 episodes and Fig. 3 capacity."""

from pathlib import Path

import numpy as np
import pytest

from hopjax.sweep import load_experiment_config, run_sweep
from hopjax.sweep.config import load_toml


@pytest.mark.slow
def test_capacity_degree_1_near_baseline_and_grows_with_degree(tmp_path):
    """The GSEMM paper's Fig. 3 on a reduced grid (3 seeds, α_c ∈ {0.09, 0.1, 0.2}, K ≤ 16;
    RK4 dt = 0.05 — measured identical success patterns to dt = 0.01 on 48 runs): the largest
    degree-1 capacity over the seeds lies within the baseline 12 ± 4 (the paper's line marks
    the degree-1 maximum), and degree 3 stores more than degree 1 on every seed."""
    cfg = load_experiment_config(
        {
            "experiment": "gsemm_capacity",
            "seeds": 3,
            "degree": [1, 3],
            "alpha_c": [0.09, 0.1, 0.2],
            "K": [4, 6, 8, 10, 12, 16],
            "dt": 0.05,
            "plot": {"dpi": 50},
        }
    )[1]
    res = run_sweep(cfg, tmp_path, progress=False)
    cap = res.summary["capacity"]
    assert 8 <= cap["1"]["max"] <= 16
    d1, d3 = cap["1"]["capacities"], cap["3"]["capacities"]
    assert all(b > a for a, b in zip(d1, d3, strict=True))
    assert res.summary["all_finite"]
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    for col in ("degree", "K", "seed", "success", "capacity", "best_alpha_c"):
        assert col in header


def test_gsemm_episodes_experiment(tmp_path):
    """The Fig. 1 config through the sweep engine: summary.json's retrieved_order (1-based)
    cycles 5 → 6 → 7 → 4 and never visits 1–3; the three plots are written."""
    raw = load_toml(Path(__file__).parents[2] / "configs" / "gsemm_episodes.toml")
    cfg = load_experiment_config({**raw, "fixed_points": 8, "plot": {"dpi": 50}})[1]
    res = run_sweep(cfg, tmp_path, progress=False)
    order = res.summary["retrieved_order"]
    assert order[:12] == [5, 6, 7, 4] * 3 and not set(order) & {1, 2, 3}
    assert res.rows[0]["success"] == 1 and res.rows[0]["finite"] == 1
    for name in ("overlaps.png", "energy.png", "fixed_points.png"):
        assert (tmp_path / name).stat().st_size > 0


def _ctx(**cfg):
    from types import SimpleNamespace

    return SimpleNamespace(cfg=load_experiment_config({"experiment": "gsemm_capacity", **cfg})[1])


def _row(deg, ac, K, seed=0, status="done", success=0.0, steps=100.0):
    return {"degree": deg, "alpha_c": ac, "K": K, "seed": seed, "status": status,
            "success": success, "rk4_steps": steps}  # fmt: skip


def test_incumbent_rules_on_synthetic_rows():
    """The α_c search hooks decide from finished rows alone: the fastest α_c that succeeded at
    the previous K runs first; the others wait, and are not needed once one succeeds; a
    (degree, seed) stops climbing after ``ladder_patience`` consecutive K retrieved at no α_c,
    and an α_c that failed before is still tried (it may retrieve a larger K)."""
    from experiments.gsemm_capacity import schedule

    ctx = _ctx(
        alpha_c=[0.2, 0.5, 1.0], K=[4, 6, 8, 10, 12], ladder_patience=2, ladder_search="climb"
    )
    done = [  # K = 4: every α_c ran; 0.5 and 1.0 succeeded, 1.0 faster
        _row(1, 0.2, 4),
        _row(1, 0.5, 4, success=1.0, steps=900.0),
        _row(1, 1.0, 4, success=1.0, steps=500.0),
    ]
    pending = [_row(1, ac, 6, status="") for ac in (0.2, 0.5, 1.0)]
    assert schedule(ctx, done, pending).prune == []
    assert [r["alpha_c"] for r in schedule(ctx, done, pending).hold] == [0.2, 0.5]
    # the incumbent succeeded at K = 6: the others are not needed there
    done6 = [*done, _row(1, 1.0, 6, success=1.0, steps=700.0)]
    assert [r["alpha_c"] for r in schedule(ctx, done6, pending[:2]).prune] == [0.2, 0.5]
    done6 += [_row(1, 0.2, 6, status="pruned"), _row(1, 0.5, 6, status="pruned")]
    # K = 8: the incumbent fails, the others are no longer held back and run (0.2 too, though
    # it failed at K = 4)
    done8 = [*done6, _row(1, 1.0, 8)]
    rest8 = [_row(1, ac, 8, status="") for ac in (0.2, 0.5)]
    assert schedule(ctx, done8, rest8).hold == [] and schedule(ctx, done8, rest8).prune == []
    # every α_c fails at K = 8 and K = 10: the pair stops climbing at K = 12 (not at 10)
    done8 += [_row(1, 0.2, 8), _row(1, 0.5, 8)]
    pending10 = [_row(1, ac, 10, status="") for ac in (0.2, 0.5, 1.0)]
    assert schedule(ctx, done8, pending10).prune == []
    # the incumbent is the fastest α_c at the largest K retrieved so far (K = 6)
    assert [r["alpha_c"] for r in schedule(ctx, done8, pending10).hold] == [0.2, 0.5]
    done10 = done8 + [_row(1, ac, 10) for ac in (0.2, 0.5, 1.0)]
    pending12 = [_row(1, ac, 12, status="") for ac in (0.2, 0.5, 1.0)]
    assert schedule(ctx, done10, pending12).prune == pending12
    other = [_row(2, 0.2, 10, success=1.0)]  # another degree retrieved K = 10: it climbs on
    assert schedule(ctx, done10 + other, [_row(2, 0.2, 12, status="")]).prune == []
    # 'every' runs every α_c at every K (only the patience rule prunes)
    every = _ctx(
        alpha_c=[0.2, 0.5, 1.0], K=[4, 6, 8, 10, 12], alpha_c_search="every", ladder_search="climb"
    )
    assert (
        schedule(every, done, pending).hold == []
        and schedule(every, done6, pending[:2]).prune == []
    )


def _simulate_ladder(ctx, retrieves):
    """The engine's rounds on the gsemm_capacity schedule with an oracle ``retrieves(degree,
    seed, K, alpha_c) -> bool``: prune, hold back, run the first K (grid order) with rows to run.
    Returns the rows run and the capacity per (degree, seed)."""
    from experiments.gsemm_capacity import schedule

    cfg = ctx.cfg
    pending = [
        _row(d, a, k, seed=s, status="")
        for k in cfg.K for d in cfg.degree for a in cfg.alpha_c for s in range(cfg.seeds)
    ]  # fmt: skip
    done, ran = [], []
    while pending:
        decision = schedule(ctx, done, pending)  # once per round, as the engine asks
        skip = {id(r) for r in decision.prune}
        done += [
            {**r, "status": "pruned", "success": float("nan")} for r in pending if id(r) in skip
        ]
        pending = [r for r in pending if id(r) not in skip]
        if not pending:
            break
        held = {id(r) for r in decision.hold}
        now = [r for r in pending if id(r) not in held] or pending
        first = min(r["K"] for r in now)  # the ladder is the grid order
        now = [r for r in now if r["K"] == first]
        for r in now:
            ok = retrieves(r["degree"], r["seed"], r["K"], r["alpha_c"])
            done.append(
                {**r, "status": "done", "success": float(ok), "rk4_steps": 100.0 / r["alpha_c"]}
            )
        ran += now
        pending = [r for r in pending if all(r is not x for x in now)]
    cap = {}
    for r in done:
        pair = (r["degree"], r["seed"])
        cap[pair] = max(cap.get(pair, 0), r["K"] if r["success"] == 1 else 0)
    return ran, cap


def test_gallop_finds_the_climb_capacity_with_less_work():
    """On an oracle where retrieval is monotone in K (each (degree, seed, α_c) retrieves every K
    up to its own limit), ``gallop`` and ``climb`` find the same capacity for every (degree,
    seed) — the largest K of the ladder retrieved at any α_c — and gallop runs less K-weighted
    work (Σ K² over the rows run). Also on the edges (nothing retrieved, everything retrieved)
    and where retrieval is not monotone."""
    ladder = [4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64]
    alphas = [0.1, 0.5, 1.0]
    rng = np.random.default_rng(0)
    limit = {  # per (degree, seed, α_c): the largest K retrieved (0: none, 99: all)
        (d, s, a): int(rng.choice([0, 5, 9, 13, 21, 33, 47, 60, 99]))
        for d in (1, 2, 3, 4) for s in range(3) for a in alphas
    }  # fmt: skip
    grid = dict(degree=[1, 2, 3, 4], alpha_c=alphas, K=ladder, seeds=3, ladder_patience=2)
    caps, work = {}, {}
    for mode in ("climb", "gallop"):
        ran, caps[mode] = _simulate_ladder(
            _ctx(**grid, ladder_search=mode), lambda d, s, k, a: k <= limit[(d, s, a)]
        )
        work[mode] = sum(r["K"] ** 2 for r in ran)
    want = {
        (d, s): max([k for k in ladder if any(k <= limit[(d, s, a)] for a in alphas)], default=0)
        for d in (1, 2, 3, 4) for s in range(3)
    }  # fmt: skip
    assert caps["climb"] == want and caps["gallop"] == want
    assert work["gallop"] < work["climb"], work
    # a pair retrieving every K: gallop runs 4, 8, 16, 32, 64 only (the incumbent α_c)
    ran, cap = _simulate_ladder(
        _ctx(degree=[1], alpha_c=alphas, K=ladder, seeds=1), lambda d, s, k, a: a == 1.0
    )
    assert cap == {(1, 0): 64}
    assert sorted({r["K"] for r in ran}) == [4, 8, 16, 32, 64]
    assert all(r["alpha_c"] == 1.0 for r in ran)  # the largest α_c first, even at K = 4
    ran, cap = _simulate_ladder(
        _ctx(degree=[1], alpha_c=alphas, K=ladder, seeds=1), lambda d, s, k, a: False
    )
    assert cap == {(1, 0): 0} and sorted({r["K"] for r in ran}) == [4, 6]
    # not monotone (measured at degree 1: a seed retrieves K = 4, 6 and 10 but not 8): gallop
    # stops, as climb does, only after two consecutive K above the largest retrieved fail
    for mode in ("climb", "gallop"):
        ran, cap = _simulate_ladder(
            _ctx(degree=[1], alpha_c=alphas, K=ladder, seeds=1, ladder_search=mode),
            lambda d, s, k, a: k in (4, 6, 10),
        )
        assert cap == {(1, 0): 10}, mode


@pytest.mark.slow
def test_incumbent_search_same_capacity_as_every_alpha_c(tmp_path):
    """The default ladder (galloping K search, incumbent α_c search, patience 2) gives the
    capacity of the full grid (every α_c at every K) on a reduced grid, and runs fewer rows and
    RK4 steps."""
    base = {
        "experiment": "gsemm_capacity",
        "seeds": 2,
        "degree": [1, 3],
        "alpha_c": [0.1, 0.2, 0.5, 1.0],
        "K": [4, 6, 8, 10, 12],
        "dt": 0.05,
        "plot": {"dpi": 50},
    }
    runs = {}
    for name, extra in {
        "incumbent": {"ladder_search": "gallop", "alpha_c_search": "incumbent"},
        "every": {"ladder_search": "climb", "alpha_c_search": "every", "ladder_patience": 0},
    }.items():
        cfg = load_experiment_config({**base, **extra})[1]
        runs[name] = run_sweep(cfg, tmp_path / name, progress=False).summary
    cap = {n: {d: v["capacities"] for d, v in s["capacity"].items()} for n, s in runs.items()}
    assert cap["incumbent"] == cap["every"]
    assert cap["every"]["3"] == [12.0, 12.0]  # degree 3 retrieves the whole ladder
    inc, every = runs["incumbent"]["work"], runs["every"]["work"]
    assert inc["rows_run"] < every["rows_run"] == 80
    assert inc["rk4_steps_executed"] < 0.5 * every["rk4_steps_executed"]


@pytest.mark.slow
def test_softmax_sits_beside_the_degrees_and_old_folders_resume(tmp_path):
    """``hidden = ["polynomial", "softmax"]``: the softmax model runs once per (α_c, K, seed)
    and its capacity is reported under "softmax" beside the degrees (measured: it retrieves
    K = 8 at α_c = 1 on seeds 0, 1). A folder written before the ``hidden`` key existed (no
    column, no key in config.toml) resumes: the column is added with its one value, and the
    result equals an undisturbed run's."""
    import csv

    base = {
        "experiment": "gsemm_capacity",
        "seeds": 2,
        "degree": [1],
        "alpha_c": [1.0],
        "K": [4, 8],
        "dt": 0.05,
        "plot": {"dpi": 30},
    }
    cfg = load_experiment_config({**base, "hidden": ["polynomial", "softmax"]})[1]
    res = run_sweep(cfg, tmp_path / "both", progress=False)
    cap = res.summary["capacity"]
    assert list(cap) == ["1", "softmax"]
    assert cap["softmax"]["capacities"] == [8.0, 8.0]
    assert sum(r["hidden"] == "softmax" for r in res.rows) == 2 * 2

    cfg = load_experiment_config(base)[1]
    ref = run_sweep(cfg, tmp_path / "ref", progress=False)
    old = tmp_path / "old"
    run_sweep(cfg, old, progress=False, max_chunks=1)
    with open(old / "results.csv") as fh:  # as an older hopjax wrote it
        rows = list(csv.DictReader(fh))
    cols = [c for c in rows[0] if c != "hidden"]
    with open(old / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    import tomli_w

    raw = load_toml(old / "config.toml")
    del raw["hidden"]
    (old / "config.toml").write_text(tomli_w.dumps(raw))
    res = run_sweep(cfg, old, progress=False)
    assert res.metadata["complete"]
    assert (old / "results.csv").read_bytes() == (tmp_path / "ref" / "results.csv").read_bytes()
    assert res.summary["capacity"] == ref.summary["capacity"]


def test_committed_softmax_alpha_c_map_is_what_the_readme_says():
    """The README's softmax α_c statements come from results/gsemm_capacity_softmax (every α_c
    at every K ≤ 32, 3 seeds); this keeps the sentence and the committed run in step (the slow
    test below reruns the config)."""
    import csv

    root = Path(__file__).resolve().parents[2]
    with open(root / "results" / "gsemm_capacity_softmax" / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    ok = {}
    for r in rows:
        ok.setdefault(float(r["alpha_c"]), []).append(float(r["success"]))
    assert all(v == 1 for ac in (0.5, 1.0, 2.0) for v in ok[ac])
    assert sum(ok[0.1]) == 0 and sum(ok[4.9]) == 1


@pytest.mark.slow
def test_softmax_capacity_config_reproduces_the_committed_run(tmp_path):
    """configs/gsemm_capacity_softmax.toml rerun: the committed verdicts and integer metrics
    (continuous dynamics: float sums may differ in their last bits on another CPU)."""
    import csv

    from hopjax.sweep import load_config

    root = Path(__file__).resolve().parents[2]
    exp, cfg = load_config(root / "configs" / "gsemm_capacity_softmax.toml", [])
    run_sweep(cfg, tmp_path, exp=exp, progress=False)
    cols = ("alpha_c", "K", "seed", "success", "correct_steps", "n_retrieved", "capacity")

    def table(path):
        with open(path) as fh:
            return [tuple(r[c] for c in cols) for r in csv.DictReader(fh)]

    want = table(root / "results" / "gsemm_capacity_softmax" / "results.csv")
    assert table(tmp_path / "results.csv") == want


def test_committed_full_figure_is_what_the_readme_says():
    """results/gsemm_capacity (the full Fig. 3 protocol, 30 seeds) holds the README's numbers:
    degree-1 maximum 12 (the paper's baseline), mean 4.2, median 4; 128 on every seed at
    degrees 2–15."""
    import json

    root = Path(__file__).resolve().parents[2]
    s = json.loads((root / "results" / "gsemm_capacity" / "summary.json").read_text())
    d1 = s["capacity"]["1"]
    assert (d1["max"], d1["median"], round(d1["mean"], 1), d1["seeds"]) == (12, 4, 4.2, 30)
    for deg in range(2, 16):
        assert s["capacity"][str(deg)]["capacities"] == [128.0] * 30
    assert s["work"]["rows_run"] == 5686 and s["all_finite"]
    # censored: every pair of degrees 2-15 at the top; 12 degree-1 seeds retrieved no K >= 4
    assert s["censoring"] == {
        "K_max": 128,
        "pairs": 450,
        "censored": 420,
        "below_ladder": 12,
        "mean_bound": "lower",
    }
    assert round(s["capacity"]["2"]["mean_best_alpha_c"], 2) == 0.39
    assert all(s["capacity"][str(d)]["mean_best_alpha_c"] == 1.0 for d in range(3, 16))


def test_censoring_is_counted_and_the_power_key_reaches_the_model():
    """Summaries count what the ladder cannot resolve: at its top (``≥ max(K)``, a lower bound)
    and below it (recorded 0, ``< min(K)``); either makes the mean a lower bound. The ``power``
    key gives the model σ_h = hⁿ; a folder written before the key existed resumes (``signed``)."""
    from experiments.gsemm_capacity import _model, censoring
    from hopjax.sweep.config import config_to_dict
    from hopjax.sweep.folder import config_changes

    ladder = [4, 8, 16]
    assert censoring([0, 4, 8, 16, 16], ladder) == {
        "censored": 2,
        "below_ladder": 1,
        "mean_bound": "lower",
    }
    assert censoring([4, 8], ladder)["mean_bound"] == "none"
    base = {"experiment": "gsemm_capacity", "degree": [2]}
    cfg = load_experiment_config({**base, "power": "plain"})[1]
    p = {**config_to_dict(cfg), "degree": 2, "alpha_c": 0.3, "hidden": "polynomial"}
    xi = np.ones((4, cfg.N_f), np.float32)
    assert _model(p, xi).power == "plain"
    signed = load_experiment_config(base)[1]
    old_folder = {k: v for k, v in config_to_dict(signed).items() if k != "power"}
    assert config_changes(old_folder, signed) == []
    assert config_changes(old_folder, cfg) == ["power"]


def test_integer_power_key_sets_the_model_and_guards_old_folders():
    """``integer_power`` (default true) gives the model ``integer_degree = max(degree)``; a run
    folder written before the key existed (computed with ``pow``) resumes only with
    ``integer_power = false``, so rows of the two never mix."""
    from hopjax.sweep.config import config_to_dict
    from hopjax.sweep.folder import config_changes

    base = {"experiment": "gsemm_capacity", "degree": [1, 3, 15]}
    on = load_experiment_config(base)[1]
    off = load_experiment_config({**base, "integer_power": False})[1]
    assert on.prepare({"K": 8})["integer_degree"] == 15
    assert off.prepare({"K": 8})["integer_degree"] is None
    old_folder = {k: v for k, v in config_to_dict(on).items() if k != "integer_power"}
    assert config_changes(old_folder, on) == ["integer_power"]
    assert config_changes(old_folder, off) == []
    assert config_changes(config_to_dict(on), on) == []


@pytest.mark.slow
def test_integer_power_gives_the_verdicts_of_pow(tmp_path):
    """σ_h by squaring (``integer_power``, the default) against ``pow`` on the whole grid
    (every α_c at every K) of degrees 1–15 × α_c {0.01, 0.05, 0.1, 0.3, 0.6, 1} × K {4, 8, 12,
    16, 32} × 2 seeds at the paper's dt = 0.01: 900 rows, the same verdicts, integer metrics,
    decision times and RK4 steps on every row (docs/reproductions.md; measured 415 successes)."""
    import csv

    grid = {
        "experiment": "gsemm_capacity",
        "seeds": 2,
        "degree": list(range(1, 16)),
        "alpha_c": [0.01, 0.05, 0.1, 0.3, 0.6, 1.0],
        "K": [4, 8, 12, 16, 32],
        "ladder_search": "climb",
        "alpha_c_search": "every",
        "ladder_patience": 0,
        "plot": {"dpi": 50},
    }
    cols = ("success", "correct_steps", "n_retrieved", "finite", "decided_at", "rk4_steps")
    tables = []
    for power in (True, False):
        cfg = load_experiment_config({**grid, "integer_power": power})[1]
        run_sweep(cfg, tmp_path / str(power), progress=False)
        with open(tmp_path / str(power) / "results.csv") as fh:
            tables.append(
                {
                    (r["degree"], r["alpha_c"], r["K"], r["seed"]): tuple(r[c] for c in cols)
                    for r in csv.DictReader(fh)
                }
            )
    squared, pow_ = tables
    assert len(squared) == 900 and squared == pow_
    assert 300 <= sum(float(v[0]) for v in squared.values()) <= 600  # successes and failures


def test_alpha_c_batch_runs_the_nearest_alpha_c_first_and_stops_at_a_success():
    """``alpha_c_batch = 2``: after the incumbent fails at a K, the two α_c nearest to it run
    (the rest wait); a success there prunes the rest; the capacity equals the one-batch search
    on an oracle where retrieval depends on α_c, with fewer rows run."""
    from experiments.gsemm_capacity import schedule

    grid = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
    ctx = _ctx(alpha_c=grid, K=[4, 8], alpha_c_batch=2, ladder_search="climb")
    done = [_row(1, 0.5, 4, success=1.0, steps=100.0)] + [
        _row(1, a, 4, status="pruned") for a in grid if a != 0.5
    ]
    pending = [_row(1, a, 8, status="") for a in grid]
    held = {r["alpha_c"] for r in schedule(ctx, done, pending).hold}
    assert held == set(grid) - {0.5}  # the incumbent first
    failed = [*done, _row(1, 0.5, 8)]
    rest = [r for r in pending if r["alpha_c"] != 0.5]
    held = {r["alpha_c"] for r in schedule(ctx, failed, rest).hold}
    assert set(grid) - {0.5} - held == {0.3, 0.7}  # the two nearest in grid order
    won = [*failed, _row(1, 0.3, 8, success=1.0), _row(1, 0.7, 8)]
    rest = [r for r in rest if r["alpha_c"] not in (0.3, 0.7)]
    assert schedule(ctx, won, rest).prune == rest  # retrieved: the others are not needed

    def retrieves(degree, seed, K, alpha_c):  # only small α_c carry long episodes
        return alpha_c <= {4: 1.0, 8: 0.5, 12: 0.2, 16: 0.1}[K]

    results = {}
    for batch in (0, 1):
        c = _ctx(
            alpha_c=grid, K=[4, 8, 12, 16], seeds=2, degree=[1], alpha_c_batch=batch,
            ladder_search="climb", ladder_patience=1,
        )  # fmt: skip
        results[batch] = _simulate_ladder(c, retrieves)
    assert results[0][1] == results[1][1] == {(1, 0): 16, (1, 1): 16}
    assert len(results[1][0]) < len(results[0][0])


def test_a_folder_resumes_under_another_alpha_c_batch_and_records_it(tmp_path):
    """``alpha_c_batch`` decides which rows run, not the capacity: a folder resumes under another
    value (a search key), each invocation's value is kept in ``metadata.json``, and a changed
    key that does change results (``K``) is still refused."""
    import json
    import time

    from hopjax.sweep.config import config_to_dict
    from hopjax.sweep.folder import config_changes, write_metadata

    base = {"experiment": "gsemm_capacity", "degree": [2]}
    first = load_experiment_config(base)[1]
    later = load_experiment_config({**base, "alpha_c_batch": 2})[1]
    folder = config_to_dict(first)
    assert config_changes(folder, later) == []
    assert config_changes(folder, load_experiment_config({**base, "K": [4, 8]})[1]) == ["K"]
    for started, cfg in (("a", first), ("b", later)):
        search = {k: getattr(cfg, k) for k in type(cfg).SEARCH_KEYS}
        write_metadata(tmp_path, started, time.perf_counter(), [], 1, 1, False, [], True, search)
    runs = json.loads((tmp_path / "metadata.json").read_text())["runs"]
    assert [r["search"] for r in runs] == [{"alpha_c_batch": 0}, {"alpha_c_batch": 2}]


@pytest.mark.slow
def test_bucket_k_gives_the_results_of_one_program_per_k(tmp_path):
    """``bucket_K``: one compiled program per power-of-two bucket of K, rows padded with inert
    memories and their own horizons — results.csv equal byte for byte to one program per K on
    the whole grid (every α_c at every K, degrees 1–5 and the softmax model) at dt = 0.05, with
    fewer programs."""
    import json

    grid = {
        "experiment": "gsemm_capacity",
        "seeds": 2,
        "degree": [1, 2, 5],
        "hidden": ["polynomial", "softmax"],
        "alpha_c": [0.1, 0.3, 1.0],
        "K": [4, 6, 10, 12, 20],
        "ladder_search": "climb",
        "alpha_c_search": "every",
        "ladder_patience": 0,
        "dt": 0.05,
        "plot": {"dpi": 30},
    }
    texts, programs = [], []
    for bucket in (False, True):
        out = tmp_path / str(bucket)
        cfg = load_experiment_config({**grid, "bucket_K": bucket})[1]
        run_sweep(cfg, out, progress=False)
        texts.append((out / "results.csv").read_text())
        groups = json.loads((out / "metadata.json").read_text())["runs"][-1]["groups"]
        programs.append({(g["K"], g["hidden"]) for g in groups if g.get("programs")})
    assert texts[0] == texts[1]
    assert 100 < sum(line.count(",1.0,") > 0 for line in texts[0].splitlines())  # successes
    # polynomial: K 4 | 6 | 10, 12 | 20 → buckets 4, 8, 16, 20 (capped at max K); softmax per K
    assert {k for k, h in programs[1] if h == "polynomial"} == {4, 8, 16, 20}
    assert {k for k, h in programs[1] if h == "softmax"} == {4, 6, 10, 12, 20}


def test_bucket_k_groups_rows_by_bucket_and_traces_k():
    """The plan of a ``bucket_K`` config: polynomial rows grouped by the next power of two of K
    (at most max(K)), K traced; softmax rows one group per K; the horizon tables of a bucket
    match the unbucketed horizons."""
    import math

    from experiments.gsemm_capacity import EXPERIMENT, k_bucket
    from hopjax.sweep.plan import Plan

    cfg = load_experiment_config(
        {
            "experiment": "gsemm_capacity",
            "K": [4, 6, 8, 12, 40],
            "hidden": ["polynomial", "softmax"],
            "degree": [1],
            "alpha_c": [0.1],
            "bucket_K": True,
        }
    )[1]
    plan = Plan(EXPERIMENT, cfg)
    assert "K" in plan.dynamic
    groups = {v: sorted({r["K"] for r in rows}) for v, rows in plan.groups().items()}
    assert groups[(8, "polynomial")] == [6, 8] and groups[(16, "polynomial")] == [12]
    assert groups[(40, "polynomial")] == [40] and groups[(6, "softmax")] == [6]
    assert [k_bucket(k, 40) for k in (2, 3, 4, 5, 33)] == [2, 4, 4, 8, 40]
    p = plan.static_params({"K": 16, "hidden": "polynomial"})
    assert p["K_pad"] == 16 and p["t1"] == 16 * 210.0
    for K in (12, 16):
        assert p["horizon_saves"][K] == math.ceil(max(600.0, 210.0 * K) / cfg.save_every)
    assert plan.params(plan.rows[0])["K"].dtype == np.int32


@pytest.mark.slow
def test_rounds_forced_into_larger_programs_give_the_same_results(tmp_path, monkeypatch):
    """Every round of the default ladder search run in a program with 2 more PRNG streams and
    7 more rows per stream than it holds (so more pool slots): results.csv byte for byte that
    of the run in its own shapes — what lets the engine reuse programs across rounds
    (:class:`hopjax.sweep.program.ShapePolicy`)."""
    import hopjax.sweep.program as program

    raw = {"experiment": "gsemm_capacity", "seeds": 3, "degree": [1, 4], "dt": 0.05}
    raw |= {"alpha_c": [0.1, 0.3, 1.0], "K": [4, 6, 8, 12, 16], "plot": {"dpi": 30}}
    cfg = load_experiment_config(raw)[1]
    monkeypatch.setenv("HOPJAX_SHAPE_REUSE", "0")
    run_sweep(cfg, tmp_path / "own", progress=False)
    monkeypatch.setattr(
        program.ShapePolicy, "_choose", lambda self, need, known, p: (need[0] + 2, need[1] + 7)
    )
    res = run_sweep(cfg, tmp_path / "padded", progress=False)
    assert (tmp_path / "own" / "results.csv").read_text() == (
        tmp_path / "padded" / "results.csv"
    ).read_text()
    groups = res.metadata["runs"][0]["groups"]
    assert sum(g.get("padded", 0) for g in groups) >= 5
