"""The IDP experiments through the sweep engine: reasoning, threshold, retrieval, Kleinfeld."""

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


def test_shipped_idp_configs_validate():
    for name in ("idp_reasoning", "idp_threshold", "idp_retrieval", "kleinfeld"):
        raw = load_toml(CONFIGS / f"{name}.toml")
        assert load_experiment_config(raw)[0].name == name


@pytest.mark.slow  # a reproduction (CI runs it with -m slow); ~30 s on 2 cores
def test_idp_reasoning_sweep_files_and_metrics(tmp_path):
    cfg = _cfg(
        {
            "experiment": "idp_reasoning",
            "gamma": [3.0, 8.0],
            "tau_alpha": 200.0,
            "duration": 20.0,
            "n_save": 1500,
            "plot": {"dpi": 50},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)
    for name in ("results.csv", "summary.json", "overlaps.png", "peak_map.png", "period.png"):
        assert (tmp_path / name).stat().st_size > 0
    with open(tmp_path / "results.csv") as fh:
        header = next(csv.reader(fh))
    for col in ("gamma", "tau_alpha", "N", "P", "eps", "seed", "sustained", "transitions"):
        assert col in header
    for col in ("period_measured", "period_theory", "ratio"):
        assert col in header
    low, high = res.rows
    assert low["sustained"] == 0 and np.isnan(low["period_theory"])
    assert high["sustained"] == 1 and high["ratio"] == pytest.approx(1.0, abs=0.02)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["max_abs_ratio_error_gamma_ge_5"] < 0.02


@pytest.mark.slow
def test_idp_threshold_approaches_4(tmp_path):
    """Measured γ_c(τ_α/τ_x) rises toward 4 as the separation grows (P = 8; full config:
    3.55, 3.88, 3.96 for τ_α = 50, 500, 5000)."""
    cfg = _cfg(
        {
            "experiment": "idp_threshold",
            "seeds": 1,
            "gamma": [3.4, 3.7, 3.8, 3.9, 3.95, 4.0, 4.1],
            "tau_alpha": [50.0, 500.0, 5000.0],
            "n_save": 3000,
            "plot": {"dpi": 50},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)
    gc = res.summary["gamma_c"]
    assert gc["50"] < gc["500"] < gc["5000"] < 4.02
    assert 3.45 < gc["50"] < 3.75 and abs(4.0 - gc["5000"]) < 0.1
    assert res.summary["approaches_4"] is True
    assert (tmp_path / "threshold.png").stat().st_size > 0


def test_idp_retrieval_existence_and_robustness(tmp_path):
    """flip = 0: α_1 = gain > 1 settles at gain·ξ, gain < 1 decays; the input-driven network
    retrieves from 20% flipped cues at load P/N = 0.25 where the classical one (α = 3·1) fails."""
    cfg = _cfg(
        {
            "experiment": "idp_retrieval",
            "seeds": 3,
            "method": ["idp", "classical"],
            "N": [128],
            "P": [32],
            "gain": [0.8, 3.0],
            "flip": [0.0, 0.2],
            "plot": {"dpi": 50},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)

    def rows(**kw):
        return [r for r in res.rows if all(r[k] == v for k, v in kw.items())]

    for r in rows(method="idp", gain=3.0, flip=0.0):
        assert r["dist"] < 0.1 and r["retrieved"] == 1 and r["speed"] < 1e-3
    for r in rows(method="idp", gain=0.8):
        assert r["norm"] < 1e-3 and r["retrieved"] == 0
    assert np.mean([r["retrieved"] for r in rows(method="idp", gain=3.0, flip=0.2)]) == 1
    assert np.mean([r["retrieved"] for r in rows(method="classical", gain=3.0, flip=0.2)]) < 0.5
    assert (tmp_path / "retrieval.png").stat().st_size > 0


@pytest.mark.slow
def test_kleinfeld_sweep_regimes(tmp_path):
    cfg = _cfg(
        {
            "experiment": "kleinfeld",
            "seeds": 1,
            "gamma": [0.2, 5.0],
            "t1": 1000.0,
            "n_save": 2000,
            "plot": {"dpi": 50},
        }
    )
    res = run_sweep(cfg, tmp_path, progress=False)
    regime = {(r["model"], r["gamma"]): r["regime"] for r in res.rows}
    assert regime[("kleinfeld", 0.2)] == 2 and regime[("kleinfeld", 5.0)] == 1
    assert regime[("kleinfeld_delayed", 0.2)] == 2
    assert regime[("reasoning", 0.2)] == 0 and regime[("reasoning", 5.0)] == 2
    seen = res.summary["regimes_seen"]
    assert set(seen["reasoning"]) == {"collapse", "cycle"}
    assert (tmp_path / "kleinfeld_traces.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"gamma": [-1.0]}, "'gamma' must be > 0"),
        ({"tau_alpha": 0.0}, "'tau_alpha' must be > 0"),
        ({"N": 48}, "powers of two"),
        ({"P": 1}, "'P' must be >= 2"),
        ({"a0": 0.5}, "'a0' must be > 1"),
        ({"patterns": "gaussian"}, "'patterns' must be one of"),
        ({"eps": [-1e-3]}, "'eps' must be >= 0"),
    ],
)
def test_idp_config_errors_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        _cfg({"experiment": "idp_reasoning", **raw})
