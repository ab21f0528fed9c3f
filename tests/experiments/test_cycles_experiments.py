"""The cycles experiments through the sweep engine: census, robustness, scaling."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from hopjax.sweep import load_experiment_config, run_sweep
from hopjax.sweep.config import ConfigError, load_toml

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _cfg(raw):
    return load_experiment_config(raw)[1]


def test_shipped_cycles_configs_validate():
    for name in ("cycles_census", "cycles_robustness", "cycles_scaling"):
        raw = load_toml(CONFIGS / f"{name}.toml")
        assert load_experiment_config(raw)[0].name == name


def test_census_sweep_rings_equal_closed_forms_and_symmetric_nets_have_periods_le_2(tmp_path):
    cfg = _cfg(
        {
            "experiment": "cycles_census",
            "seeds": 3,
            "network": ["rings:1:2,3,5,7", "rings:3:2,3", "symmetric:10", "asymmetric:10"],
            "plot": {"dpi": 40},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)
    assert len(res.rows) == 1 + 1 + 3 + 3  # deterministic rings: one row each
    rings = [r for r in res.rows if r["network"].startswith("rings")]
    assert [r["num_cycles"] for r in rings] == [1920.0, 12.0]
    assert [r["max_period"] for r in rings] == [210.0, 6.0]
    assert all(r["matches_closed_form"] == 1.0 for r in rings)
    assert all(r["max_period"] <= 2 for r in res.rows if r["network"] == "symmetric:10")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["closed_forms_match"] is True and summary["symmetric_max_period"] <= 2
    assert (tmp_path / "census.png").stat().st_size > 0
    with open(tmp_path / "results.csv") as fh:
        header = next(csv.reader(fh))
    for col in ("network", "seed", "num_cycles", "max_period", "mean_basin"):
        assert col in header


@pytest.mark.slow
def test_robustness_sweep_matches_the_exact_survival(tmp_path):
    cfg = _cfg(
        {
            "experiment": "cycles_robustness",
            "model": ["prime_rings", "sequence_hebbian"],
            "m": [5, 11],
            "eps": [0.0, 0.1, 0.2],
            "rho": [1.0, 0.6],
            "beta": [0.0, 0.2],
            "primes": [2, 3, 5],
            "T": 10,
            "trials": 400,
            "seeds": 1,
            "plot": {"dpi": 40},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)
    # rings: 3 eps × (ρ, β) ∈ {(1, 0), (.6, 0), (1, .2)}; baselines only unperturbed
    assert len(res.rows) == 2 * 3 * 3 + 2 * 3
    exact = [r for r in res.rows if not np.isnan(r["survival_exact"])]
    assert len(exact) == 2 * 3 * 2
    inside = [r["ci_low"] <= r["survival_exact"] <= r["ci_high"] for r in exact]
    assert sum(inside) >= len(inside) - 1  # 99% intervals: at most one miss in 12
    assert [r["within_ci"] == 1.0 for r in exact] == inside  # the metric the summary counts
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["within_ci_fraction"] >= 11 / 12
    tol = summary["eps_tolerated"]
    assert tol["11"]["exact"] > tol["5"]["exact"]  # larger clusters tolerate more flips
    assert tol["5"]["measured"] == pytest.approx(tol["5"]["exact"], abs=0.03)
    assert (tmp_path / "robustness.png").stat().st_size > 0


def test_scaling_sweep_simulated_periods_equal_the_closed_forms(tmp_path):
    cfg = _cfg(
        {
            "experiment": "cycles_scaling",
            "construction": ["design_cycles", "design_period", "sequence_hebbian"],
            "n": [200, 1000],
            "eps": 0.1,
            "horizon": 1000,
            "fail_prob": 0.01,
            "baseline_max_n": 200,
            "ladder": [0.8, 1.0, 1.2],
            "trials": 4,
            "seeds": 1,
            "plot": {"dpi": 40},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)
    assert len(res.rows) == 2 * 2 + 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["periods_match"] is True and summary["periods_simulated"] == 4
    d = summary["design_period"]["1000"]
    assert d["log_period"] == pytest.approx(np.log(3 * 5 * 7 * 11 * 13), rel=1e-6)
    assert summary["design_cycles"]["1000"]["log_cycles"] > d["log_cycles"]
    hebb = summary["sequence_hebbian"]["200"]
    assert hebb["capacity"] == pytest.approx(0.269 * 200, rel=0.25)
    assert (tmp_path / "scaling.png").stat().st_size > 0


def test_bad_cycles_configs_name_the_key():
    with pytest.raises(ConfigError, match="'network' entry 'rings:2:3,5'"):
        _cfg({"experiment": "cycles_census", "network": ["rings:2:3,5"]})
    with pytest.raises(ConfigError, match="n <= 24"):
        _cfg({"experiment": "cycles_census", "network": ["asymmetric:30"]})
    with pytest.raises(ConfigError, match="'network' entry 'torus:5'"):
        _cfg({"experiment": "cycles_census", "network": ["torus:5"]})
    with pytest.raises(ConfigError, match="'m' must hold odd"):
        _cfg({"experiment": "cycles_robustness", "m": [4]})
    with pytest.raises(ConfigError, match="'primes'"):
        _cfg({"experiment": "cycles_robustness", "primes": [4, 5]})
    with pytest.raises(ConfigError, match="'n' = 20"):
        _cfg({"experiment": "cycles_scaling", "n": [20], "eps": 0.3})


def test_wilson_interval_is_exact_at_zero_and_one():
    """A Monte-Carlo survival of 0 (or 1) has a 99% Wilson interval starting exactly at 0 (or
    ending exactly at 1). float32 left ~1e-10 there, so an exact survival of ~1e-16 counted as
    a miss: a fresh run of the shipped config reported 84 of 320 rows inside instead of the
    README's 319. (The sweep test above never had a row at survival 0, so nothing caught it.)"""
    import jax.numpy as jnp

    from experiments.cycles_robustness import _wilson

    lo, hi = _wilson(jnp.asarray(0.0, jnp.float32), 500)
    assert float(lo) == 0.0 and 0 < float(hi) < 0.02
    lo, hi = _wilson(jnp.asarray(1.0, jnp.float32), 500)
    assert float(hi) == 1.0 and 0.98 < float(lo) < 1
    lo, hi = _wilson(jnp.asarray(0.5, jnp.float32), 500)
    assert float(lo) == pytest.approx(0.4427, abs=1e-3) and float(hi) == pytest.approx(
        0.5573, abs=1e-3
    )


def test_committed_robustness_run_is_what_the_readme_says():
    """results/cycles_robustness (the shipped config): 320 of 320 rows with an exact survival
    lie inside their 99% interval; the tolerated flip rates are the README's."""
    root = Path(__file__).resolve().parents[2]
    s = json.loads((root / "results" / "cycles_robustness" / "summary.json").read_text())
    assert s["rows_with_exact"] == 320 and s["within_ci_fraction"] == 1.0
    tol = {m: round(v["measured"], 3) for m, v in s["eps_tolerated"].items()}
    assert tol == {"1": 0.025, "5": 0.065, "21": 0.218, "61": 0.322}
