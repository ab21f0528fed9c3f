"""The layer experiments: digits_pooling (HopfieldPooling classifier) and sequence_memory
(ODEMemory replay), through the sweep engine."""

import pytest

from experiments.digits_pooling import EXPERIMENT as DIGITS
from experiments.sequence_memory import EXPERIMENT as SEQUENCE
from hopjax.sweep import run_sweep


@pytest.mark.slow
def test_digits_classifier_with_hopfield_pooling_reaches_95_percent(tmp_path):
    """scikit-learn digits, 8 row tokens per image → HopfieldPooling (4 learned queries) → MLP,
    AdamW 2000 steps, 2 seeds trained in one vmapped scan: test accuracy ≥ 0.95 on 449 held-out
    images for every seed, and the loss falls tenfold."""
    cfg = DIGITS.parse({"seeds": 2})
    res = run_sweep(cfg, tmp_path, exp=DIGITS, progress=False)
    for r in res.rows:
        assert r["test_accuracy"] >= 0.95
        assert r["final_loss"] < 0.1 * r["first_loss"]
    assert res.summary["test_images"] == 449


def test_sequence_memory_experiment_replays_from_noisy_cues(tmp_path):
    """Both ODEMemory kinds replay a 5-pattern sequence in order ≥ 3 times from every noisy cue
    (10% flipped bits), starting from the cued pattern."""
    cfg = SEQUENCE.parse({"K": 5, "batch": 2, "plot": {"dpi": 40}})
    res = run_sweep(cfg, tmp_path, exp=SEQUENCE, progress=False)
    by_kind = {r["kind"]: r for r in res.rows}
    for kind in ("gsemm", "reasoning"):
        assert by_kind[kind]["success_rate"] == 1.0
        assert by_kind[kind]["correct_min"] >= 15
        assert by_kind[kind]["first_steps"] == 12345
        assert (tmp_path / f"sequence_{kind}.png").stat().st_size > 0
