"""Reproduction of the classical Hopfield capacity (Hopfield 1982: ~0.14 N; theory 0.138 N)."""

import numpy as np
import pytest

from experiments.hopfield_capacity import ALPHA_THEORY, extrapolate
from hopjax.sweep import load_experiment_config, run_sweep


def test_extrapolation_helper():
    ns = np.array([100.0, 400.0, 1600.0])
    inf, slope = extrapolate(ns, 0.14 + 0.5 / np.sqrt(ns))
    assert inf == pytest.approx(0.14) and slope == pytest.approx(0.5)


@pytest.mark.slow  # a reproduction (CI runs it with -m slow); ~30 s on 2 cores
def test_capacity_curve_shape_at_small_n(tmp_path):
    """Fast check (N = 100, 200): retrieval near 1 well below 0.138 N, near 0 well above it,
    crossing between 0.12 and 0.22 (finite-size capacities exceed 0.138), larger N sharper;
    Storkey and the pseudo-inverse rule store more than Hebbian.

    Measured (seed 0..5): Hebbian α_c ≈ 0.19 (N = 100) and 0.17 (N = 200); Storkey and
    pseudo-inverse still retrieve > 0.9 at α = 0.3.
    """
    cfg = load_experiment_config(
        {
            "experiment": "hopfield_capacity",
            "seeds": 6,
            "rule": ["hebbian", "storkey", "pseudo_inverse"],
            "N": [100, 200],
            "alpha": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
            "flip": 0.1,
            "cues": 40,
            "bootstrap": 0,
        }
    )[1]
    res = run_sweep(cfg, tmp_path, progress=False)
    ac = res.summary["alpha_c"]

    def mean_frac(rule, n, alpha):
        vals = [
            r["retrieved_frac"]
            for r in res.rows
            if (r["rule"], r["N"], r["alpha"]) == (rule, n, alpha)
        ]
        return float(np.mean(vals))

    for n in (100, 200):
        assert mean_frac("hebbian", n, 0.05) >= 0.97
        assert mean_frac("hebbian", n, 0.3) <= 0.1
        assert 0.12 <= ac["hebbian"]["sync"][str(n)] <= 0.22
        for rule in ("storkey", "pseudo_inverse"):
            assert mean_frac(rule, n, 0.3) >= 0.9
            assert ac[rule]["sync"][str(n)] is None  # not crossed below α = 0.3
    assert mean_frac("hebbian", 200, 0.25) < mean_frac("hebbian", 100, 0.25)  # sharper


@pytest.mark.slow
def test_hebbian_capacity_extrapolates_to_0138(tmp_path):
    """Finite-size extrapolation α_c(N) = α_∞ + a/√N over N = 250 … 2000 (sync, 10% flips,
    8 seeds × 64 cues): α_∞ must lie within ±0.02 of 0.138 (Amit et al.; Hopfield's ~0.14 N).
    """
    cfg = load_experiment_config(
        {
            "experiment": "hopfield_capacity",
            "seeds": 8,
            "N": [250, 500, 1000, 2000],
            "alpha": [0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.20],
            "flip": 0.1,
            "cues": 64,
            "bootstrap": 200,
        }
    )[1]
    res = run_sweep(cfg, tmp_path, progress=False)
    fit = res.summary["extrapolation"]["hebbian"]["sync"]["0.1"]
    assert abs(res.summary["hebbian_alpha_inf"] - ALPHA_THEORY) <= 0.02, fit
    assert fit["alpha_inf_err"] < 0.02
    assert fit["slope"] > 0  # finite networks hold more than 0.138 N
    assert np.all(np.diff(fit["alpha_c"]) < 0)  # α_c(N) decreases towards the limit


@pytest.mark.slow
def test_quickstart_gives_the_documented_extrapolation(tmp_path):
    """configs/quickstart.toml as shipped (the README's main job, ~15 s): the reproductions
    page's quickstart row — crossings 0.181 / 0.159 / 0.157 at N = 200 / 400 / 800 and
    α_∞ = 0.128 ± 0.004 — and α_∞ within 0.02 of 0.138 (Amit et al. 1985). Hebbian ties are
    exact, so the numbers are reproducible to the digit on any machine and batch size."""
    from pathlib import Path

    from hopjax.sweep import load_config, run_sweep

    root = Path(__file__).resolve().parents[2]
    exp, cfg = load_config(root / "configs" / "quickstart.toml", ["plot.dpi=30"])
    s = run_sweep(cfg, tmp_path, exp=exp, progress=False).summary
    crossings = s["alpha_c"]["hebbian"]["sync"]
    assert [round(crossings[n], 3) for n in ("200", "400", "800")] == [0.181, 0.159, 0.157]
    assert (round(s["hebbian_alpha_inf"], 3), round(s["hebbian_alpha_inf_err"], 3)) == (
        0.128,
        0.004,
    )
    assert abs(s["hebbian_alpha_inf"] - 0.138) < 0.02


def test_committed_full_run_holds_the_documented_table():
    """results/hopfield_capacity (all 4032 rows of configs/hopfield_capacity.toml) holds the
    reproductions page's crossings and extrapolations: Hebbian α_∞ 0.144 (within ±0.02 of
    0.138), Storkey and pseudo-inverse above Hebbian at every N and update."""
    import csv
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    folder = root / "results" / "hopfield_capacity"
    with open(folder / "results.csv") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == 4032
    s = json.loads((folder / "summary.json").read_text())
    ac = s["alpha_c"]
    row = lambda r, u: [round(ac[r][u][n], 3) for n in ("250", "500", "1000", "2000")]  # noqa: E731
    assert row("hebbian", "sync") == [0.163, 0.156, 0.154, 0.151]
    assert row("hebbian", "async") == [0.162, 0.155, 0.153, 0.150]
    assert row("storkey", "sync") == [0.413, 0.394, 0.382, 0.379]
    assert (round(s["hebbian_alpha_inf"], 3), round(s["hebbian_alpha_inf_err"], 3)) == (
        0.144,
        0.001,
    )
    assert abs(s["hebbian_alpha_inf"] - ALPHA_THEORY) < 0.02
    for u in ("sync", "async"):
        for n in ("250", "500", "1000", "2000"):
            assert ac["hebbian"][u][n] < ac["storkey"][u][n] < ac["pseudo_inverse"][u][n]


def test_pattern_fields_give_the_rows_of_the_weight_fields(tmp_path):
    """``hebbian_fields = "patterns"`` (LowRankHebbian, no W) writes the same results.csv as the
    default weights, row for row and bit for bit; it is refused where it does not apply."""
    from hopjax.sweep import ConfigError

    base = {
        "experiment": "hopfield_capacity",
        "seeds": 2,
        "N": [64, 96],
        "alpha": [0.1, 0.15, 0.2, 0.3],
        "cues": 12,
        "bootstrap": 0,
    }
    text = {}
    for fields in ("weights", "patterns"):
        cfg = load_experiment_config({**base, "hebbian_fields": fields})[1]
        run_sweep(cfg, tmp_path / fields, progress=False)
        text[fields] = (tmp_path / fields / "results.csv").read_text()
    assert text["patterns"] == text["weights"]
    with pytest.raises(ConfigError, match="hebbian_fields"):
        load_experiment_config({**base, "hebbian_fields": "patterns", "update": ["async"]})


def test_committed_large_n_run_and_the_combined_fit():
    """results/hopfield_capacity_large (configs/hopfield_capacity_large.toml: Hebbian, sync,
    N = 4096-32768, 8 seeds x 64 cues, no N x N weights; grown from 4 seeds) holds the
    reproductions page's crossings 0.148 / 0.146 / 0.145 / 0.144 (the same at the third decimal
    as with its first 4 seeds) and its own fit 0.142; with the N = 250-2000
    crossings of results/hopfield_capacity the fit alpha_inf + a / sqrt(N) gives 0.143 — below
    the 0.144 of N <= 2000 alone, still above 0.138 (the page says why this is not settled)."""
    import csv
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    folder = root / "results" / "hopfield_capacity_large"
    with open(folder / "results.csv") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == 4 * 7 * 8
    large = json.loads((folder / "summary.json").read_text())
    small = json.loads((root / "results" / "hopfield_capacity" / "summary.json").read_text())
    ac = large["alpha_c"]["hebbian"]["sync"]
    assert [round(ac[n], 3) for n in ("4096", "8192", "16384", "32768")] == [
        0.148,
        0.146,
        0.145,
        0.144,
    ]
    assert round(large["hebbian_alpha_inf"], 3) == 0.142
    assert round(large["hebbian_alpha_inf_err"], 4) == 0.0005
    four_seeds = [0.14787, 0.14586, 0.14510, 0.14390]  # the folder's first invocation
    assert [round(v, 3) for v in four_seeds] == [round(ac[n], 3) for n in sorted(ac, key=int)]
    small_inf = small["hebbian_alpha_inf"]  # the page: "0.1440 vs 0.1442"
    assert (round(ac["32768"], 4), round(small_inf, 4)) == (0.144, 0.1442)
    both = {**small["alpha_c"]["hebbian"]["sync"], **ac}
    ns = np.array(sorted(int(n) for n in both), float)
    alpha_inf, _ = extrapolate(ns, np.array([both[str(int(n))] for n in ns]))
    assert round(alpha_inf, 3) == 0.143
    assert ALPHA_THEORY < alpha_inf < small["hebbian_alpha_inf"]
    acs = np.array([both[str(int(n))] for n in ns])
    assert round(extrapolate(ns[ns >= 1000], acs[ns >= 1000])[0], 3) == 0.142
    # the page's comparison of forms: a / sqrt(N) fits these crossings better than a / N
    rms = {}
    for p in (0.5, 1.0):
        design = np.vstack([np.ones_like(ns), ns**-p]).T
        coef = np.linalg.lstsq(design, acs, rcond=None)[0]
        rms[p] = float(np.sqrt(np.mean((design @ coef - acs) ** 2)))
    assert (round(rms[0.5], 4), round(rms[1.0], 4)) == (0.0006, 0.0018)
