"""dam_generalisation: stored noisy examples stay attractors at small M and give way to their
prototypes as M grows, later for a higher degree (the survey's memorisation → generalisation)."""

import json
from pathlib import Path

import pytest

from hopjax.sweep import load_config, run_sweep

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_transition_moves_to_more_examples_with_the_degree(tmp_path):
    """Reduced grid (N = 100, 4 seeds): one stored example per prototype is memorised exactly by
    every model; the Hebbian network (n = 2) generalises first, n = 3 later, and the
    exponential memory still memorises at M = 32 (committed full run: M* = 3.6 / 8.0 / 23.7 for
    n = 2 / 3 / 4, none for exp up to 128)."""
    exp, cfg = load_config(
        ROOT / "configs" / "dam_generalisation.toml",
        ["model=['poly2', 'poly3', 'exp']", "M=[1, 2, 4, 8, 16, 32]", "seeds=4", "plot.dpi=20"],
    )
    res = run_sweep(cfg, tmp_path, exp=exp, progress=False)
    t = res.summary["transition"]
    assert t["poly2"]["100"] < t["poly3"]["100"] and t["exp"]["100"] is None
    at = {(r["model"], r["M"], r["seed"]): r for r in res.rows}
    assert all(
        at[(m, 1, s)]["memorised"] == 1.0 for m in ("poly2", "poly3", "exp") for s in range(4)
    )
    assert all(at[("poly2", 32, s)]["generalised"] == 1.0 for s in range(4))
    assert all(at[("exp", 32, s)]["memorised"] == 1.0 for s in range(4))


def test_committed_run_holds_the_documented_transitions():
    s = json.loads((ROOT / "results" / "dam_generalisation" / "summary.json").read_text())
    t = {m: s["transition"][m]["100"] for m in ("poly2", "poly3", "poly4", "exp")}
    assert [round(t[m], 1) for m in ("poly2", "poly3", "poly4")] == [3.6, 8.0, 23.7]
    assert t["exp"] is None
