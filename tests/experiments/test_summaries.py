"""Every experiment's summary.json: strict JSON (no NaN / Infinity: ``null``) holding the
experiment's ``headline`` keys — the numbers the documentation quotes and the end-of-run table
shows. Each experiment runs its shipped config on a tiny grid (the reproductions themselves are
tested elsewhere; here only what the summary holds)."""

import json
from pathlib import Path

import pytest

from hopjax.sweep import load_config, run_sweep

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "attractor_labels": ["N=[64]", "alpha=[0.05, 0.5]", "seeds=1", "cues=6", "mode=['sync']"],
    "basins": ["N=[64]", "alpha=[0.05, 0.3]", "flip=[0.1, 0.3]", "seeds=1", "cues=6"],
    "cycles_census": ["network=['rings:3:2,3', 'symmetric:12']", "seeds=2"],
    "cycles_robustness": [
        "model=['prime_rings']",
        "m=[1, 5]",
        "eps=[0.0, 0.1, 0.3, 0.45]",
        "rho=[1.0]",
        "beta=[0.0]",
        "trials=40",
    ],
    "cycles_scaling": [
        "construction=['design_cycles', 'design_period']",
        "n=[100, 200]",
        "seeds=1",
        "trials=2",
    ],
    "dam_capacity": ["model=['poly2', 'exp']", "N=[12, 16, 32, 48]", "seeds=2", "cues=8"],
    "dam_generalisation": ["model=['poly2']", "M=[1, 8]", "seeds=1"],
    "digits_pooling": ["seeds=1", "steps=20"],
    "digits_mil": ["seeds=1", "steps=5", "test_bags=20", "normalizer=['softmax', 'sparsemax']"],
    "sparse_retrieval": [
        "normalizer=['softmax', 'entmax']",
        "patterns=['digits']",
        "P=[4, 16]",
        "beta=[1.0, 16.0]",
        "P_plot=16",
        "seeds=1",
        "cues=4",
    ],
    "gsemm_capacity": ["degree=[1]", "alpha_c=[0.1]", "K=[4]", "seeds=1", "dt=0.05"],
    "gsemm_episodes": ["t1=40.0"],
    "hebbian_capacity": ["N=[40]", "alpha=[0.05, 0.3]", "seeds=1", "cues=4", "recent=2"],
    "hebbian_rules": ["rule=['oja', 'activity_product']", "eta=[0.01]", "T=200", "seeds=1"],
    "quickstart": ["N=[100, 200]", "alpha=[0.05, 0.15, 0.3]", "seeds=2", "cues=8"],
    "hopfield_phase": [
        "N=[100]",
        "T=[0.3]",
        "alpha=[0.05, 0.2]",
        "sweeps=6",
        "measure=3",
        "starts=2",
        "seeds=1",
    ],
    "idp_reasoning": ["gamma=[3.0, 8.0]", "tau_alpha=[500.0]", "seeds=1", "duration=8.0"],
    "idp_retrieval": ["method=['idp']", "P=[8]", "gain=[3.0]", "flip=[0.1]", "seeds=1"],
    "idp_threshold": ["gamma=[3.5, 4.5]", "tau_alpha=[50.0]", "seeds=1", "duration=10.0"],
    "kleinfeld": ["model=['reasoning']", "gamma=[5.0]", "seeds=1", "t1=300.0"],
    "sequence_memory": ["batch=2"],
    "tune_gsemm": ["steps=2"],
    "tune_idp_period": ["target_period=[3600.0]", "steps=2"],
    "uhn_images": ["P=[100]", "level=[0.5]", "seeds=1", "cues=8"],
    "gsemm_scaling": [
        "degree=[1]",
        "N_f=[12]",
        "N_f_max=[12]",
        "alpha_c=[1.0]",
        "K=[2, 3]",
        "seeds=1",
        "dt=0.05",
        "t_min=60.0",
    ],
    "sequence_capacity": ["model=['poly1']", "N=[16]", "K=[2, 3, 4]", "seeds=1", "compare_with=''"],
}
# compile-bound (10-25 s each on 2 cores): run in the slow set, which CI runs too
SLOW = {
    "digits_pooling",
    "digits_mil",
    "tune_gsemm",
    "tune_idp_period",
    "sequence_memory",
    "cycles_scaling",
    "idp_reasoning",
    "hopfield_phase",
    "cycles_robustness",
    "kleinfeld",
    "idp_threshold",
    "dam_capacity",
}


def _refuse(name: str) -> None:
    raise ValueError(f"summary.json holds {name}: not JSON")


def _lookup(summary: dict, dotted: str) -> object:
    node = summary
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"summary.json has no {dotted!r}"
        node = node[part]
    return node


def test_every_experiment_names_headline_keys_and_has_a_tiny_grid_here():
    experiments = {
        p.stem for p in (ROOT / "experiments").glob("*.py") if not p.stem.startswith("_")
    }
    configs = {load_config(ROOT / "configs" / f"{c}.toml")[0].name for c in TINY}
    assert configs == experiments
    for c in TINY:
        assert load_config(ROOT / "configs" / f"{c}.toml")[0].report.headline, c


@pytest.mark.parametrize(
    "config", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in TINY]
)
def test_summary_is_strict_json_with_the_headline_keys(config, tmp_path):
    exp, cfg = load_config(ROOT / "configs" / f"{config}.toml", [*TINY[config], "plot.dpi=20"])
    run_sweep(cfg, tmp_path, exp=exp, progress=False)
    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=_refuse)
    for key in exp.report.headline:
        _lookup(summary, key)
