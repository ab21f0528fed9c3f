"""sparse_retrieval (one-step retrieval per normaliser) and digits_mil (multiple-instance bags
with sparse Hopfield pooling): the exact-retrieval theorem on the point function, the bags'
construction, and the committed results the reproductions page and README quote."""

import itertools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.digits_mil import draw_bags
from experiments.sparse_retrieval import digit_patterns, sparse_retrieval_point
from hopjax.sweep import ConfigError, load_experiment_config

ROOT = Path(__file__).resolve().parents[2]
SPARSE = ("sparsemax", "entmax", "normmax")


def _point(**kw):
    p = {
        "normalizer": "sparsemax",
        "patterns": "random",
        "P": 16,
        "beta": 2.0,
        "cues": 16,
        "cue": "noise",
        "noise": 0.5,
        "steps": 1,
        "digits": None,
        **kw,
    }
    if p["patterns"] == "digits":
        p["digits"] = digit_patterns()
    return {k: float(v) for k, v in sparse_retrieval_point(p, jax.random.PRNGKey(3)).items()}


@pytest.mark.parametrize("patterns", ["random", "digits"])
def test_a_sparse_update_is_one_hot_exactly_when_the_margin_holds(patterns):
    """Santos et al. (2024): entmax-α is one-hot iff the cued score leads by 1/(α − 1) (1 for
    sparsemax and normmax-2), so ``exact`` equals ``margin_holds`` and nothing violates it, at β
    from mixed to exact; softmax's margin never holds, and its weights stay positive (support P)
    at moderate β."""
    fractions = []
    for name in ("sparsemax", "entmax", "normmax"):
        for beta in (0.5, 2.0, 4.0, 8.0, 64.0):
            m = _point(normalizer=name, patterns=patterns, beta=beta)
            assert m["violations"] == 0.0 and m["exact"] == m["margin_holds"], (name, beta, m)
            fractions.append(m["exact"])
            if m["exact"] == 1.0:
                assert m["error"] == 0.0 and m["support"] == 1.0
    assert min(fractions) == 0.0 and max(fractions) == 1.0  # both sides of the margin seen
    soft = _point(normalizer="softmax", patterns=patterns, beta=8.0)
    assert soft["margin_holds"] == 0.0 and soft["exact"] == 0.0 and soft["support"] == 16.0
    assert soft["error"] > 0.0


def test_masked_cues_and_several_steps():
    """``cue = "mask"`` zeroes half the coordinates; more ``steps`` never raise the error of a
    sparse network at a β where one step already retrieves exactly."""
    one = _point(cue="mask", beta=16.0, steps=1)
    three = _point(cue="mask", beta=16.0, steps=3)
    assert 0.0 <= three["error"] <= one["error"] + 1e-6
    assert _point(cue="mask", beta=0.5)["error"] > 0.1


def test_sparse_retrieval_config_errors_name_the_key():
    base = {"experiment": "sparse_retrieval"}
    with pytest.raises(ConfigError, match="'P' must be <= 1797"):
        load_experiment_config({**base, "P": [2048]})
    with pytest.raises(ConfigError, match="'beta_plot' must be one of 'beta'"):
        load_experiment_config({**base, "beta_plot": 3.0})
    with pytest.raises(ConfigError, match="'max_witnesses' must be <= 'bag_size'"):
        load_experiment_config({"experiment": "digits_mil", "bag_size": 3, "max_witnesses": 4})


def test_bags_hold_their_witnesses_and_only_pool_images():
    """A positive bag holds 1 … max_witnesses target images at the witness places and
    non-targets elsewhere; a negative bag holds no target; every image comes from the pool."""
    y = jnp.asarray(np.arange(200) % 10)
    pool = jnp.asarray(np.arange(200) < 150)
    p = {"bag_size": 6, "max_witnesses": 2, "target": 9}
    idx, witness, label = draw_bags(jax.random.PRNGKey(0), p, y, pool, 400)
    idx, witness, label = map(np.asarray, (idx, witness, label))
    assert np.all(idx < 150)
    counts = witness.sum(axis=1)
    assert np.all((counts >= 1) & (counts <= 2) | ~label) and np.all(counts[~label] == 0)
    assert np.array_equal(np.asarray(y)[idx] == 9, witness)
    assert 0.4 < label.mean() < 0.6 and {1, 2} <= set(counts[label].tolist())


def test_committed_sparse_retrieval():
    """``results/sparse_retrieval`` (the shipped config, 1600 rows): no row violates the
    exact-retrieval theorem; a sparse normaliser's exactness equals its margin condition on
    average too; entmax-1.5 (margin 2) needs twice sparsemax's β (one step of the doubling β
    grid); softmax is never exact below β = 128 (its one-hot rows at β ≥ 128 are float32
    underflow of exp(−β Δ)); and no sparse normaliser's mean error is higher than softmax's in
    any (P, β) cell, on random or digit patterns."""
    s = json.loads((ROOT / "results" / "sparse_retrieval" / "summary.json").read_text())
    norms = s["normalizers"]
    for name in ("sparsemax", "entmax", "normmax"):
        assert norms[name]["violations_max"] == 0.0
        assert norms[name]["exact_mean"] == norms[name]["margin_holds_mean"] > 0.5
    assert norms["softmax"]["margin_holds_mean"] == 0.0
    # the page: "mean support over all rows: 3.0 weights for sparsemax, 220 for softmax"
    assert f"{norms['sparsemax']['support_mean']:.1f}" == "3.0"
    assert round(norms["softmax"]["support_mean"]) == 220
    betas = s["beta"]
    for pat in ("random", "digits"):
        sparse = s["curves"][f"{pat}/sparsemax"]["exact_by_beta"]
        ent = s["curves"][f"{pat}/entmax"]["exact_by_beta"]
        assert ent[1:] == sparse[:-1] and all(b == 2 * a for a, b in itertools.pairwise(betas))
        soft = s["curves"][f"{pat}/softmax"]["exact_by_beta"]
        assert all(e == 0.0 for b, e in zip(betas, soft, strict=True) if b < 128)
        for name in ("sparsemax", "entmax", "normmax"):
            assert s["error_vs_softmax"][f"{pat}/{name}"]["higher"] == 0
    # the page: "on digits at P = 1024 and β = 16 it is 5–17× lower"
    soft = s["curves"]["digits/softmax"]["error_by_P"][-1]
    ratios = [soft / s["curves"][f"digits/{n}"]["error_by_P"][-1] for n in SPARSE]
    assert s["P"][-1] == 1024 and s["beta_plot"] == 16
    assert (round(min(ratios)), round(max(ratios))) == (5, 17)
    readme = (ROOT / "README.md").read_text()
    rows = sum(1 for _ in (ROOT / "results" / "sparse_retrieval" / "results.csv").open()) - 1
    assert f"(0 of {rows * 3 // 4} rows violate it)" in readme and "5–17× lower on digits" in readme


def test_committed_digits_mil():
    """``results/digits_mil`` (4 seeds): every normaliser classifies bags (mean ≥ 0.9); sparse
    pooling attends to a few of the 10 instances (support ≤ 4) while softmax weighs all 10, and
    puts at least as much attention on the witnesses as softmax does (means)."""
    s = json.loads((ROOT / "results" / "digits_mil" / "summary.json").read_text())
    by = s["by_normalizer"]
    assert all(v["test_accuracy"]["mean"] >= 0.9 for v in by.values())
    assert by["softmax"]["support"]["min"] == 10.0
    for name in SPARSE:
        assert by[name]["support"]["max"] <= 4.0
        assert by[name]["witness_mass"]["mean"] >= by["softmax"]["witness_mass"]["mean"]
    # the page: 2–3 instances, 92–94% on the witnesses vs softmax's 91%, accuracy 0.94
    assert {round(by[n]["support"]["mean"]) for n in SPARSE} <= {2, 3}
    assert {round(100 * by[n]["witness_mass"]["mean"]) for n in SPARSE} <= {92, 93, 94}
    assert round(100 * by["softmax"]["witness_mass"]["mean"]) == 91
    assert {round(v["test_accuracy"]["mean"], 2) for v in by.values()} == {0.94}
    assert (
        "2–3 of 10 instances with 92–94% on the witnesses (softmax: all 10, 91%)"
        in (ROOT / "README.md").read_text()
    )
