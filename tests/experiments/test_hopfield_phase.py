"""Reproduction of the Amit–Gutfreund–Sompolinsky phase diagram (PRL 55, 1530 (1985))."""

import pytest

from experiments.hopfield_phase import _crossing
from hopjax.sweep import load_experiment_config, run_sweep


def test_crossing_helper():
    assert _crossing([0.1, 0.2, 0.3], [0.9, 0.7, 0.1], 0.5) == pytest.approx(0.2 + 0.1 / 3)
    assert _crossing([0.1, 0.2], [0.9, 0.8], 0.5) is None


@pytest.mark.slow  # a reproduction (CI runs it with -m slow); ~60 s on 2 cores
def test_measured_boundary_approaches_the_rs_line(tmp_path):
    """Glauber Monte Carlo at N = 250 and 1000, T = 0.3 and 0.5: the measured boundary (seed-mean
    overlap crosses 0.5) lies above the RS line α_M(T) (finite N lets retrieval outlive it) by
    less than 0.025 at N = 1000, and no farther at N = 1000 than at N = 250 (+0.005 noise).
    Measured in results/hopfield_phase (2 seeds): T = 0.3: 0.118 / 0.115 vs 0.103;
    T = 0.5: 0.074 / 0.064 vs 0.059 (N = 250 / 1000)."""
    cfg = load_experiment_config(
        {
            "experiment": "hopfield_phase",
            "seeds": 2,
            "N": [250, 1000],
            "T": [0.3, 0.5],
            "alpha": [0.03, 0.05, 0.07, 0.09, 0.11, 0.13, 0.15],
            "plot": {"dpi": 30},
        }
    )[1]
    res = run_sweep(cfg, tmp_path, progress=False)
    s = res.summary
    assert s["alpha_c_T0"] == pytest.approx(0.138, abs=1e-3)
    for T in ("0.3", "0.5"):
        theory = s["alpha_theory"][T]
        small, large = (s["alpha_measured"][n][T] for n in ("250", "1000"))
        assert theory - 0.005 < large < theory + 0.025, (T, large, theory)
        assert large - theory <= small - theory + 0.005, (T, small, large)
    assert (tmp_path / "phase_diagram.png").exists()
