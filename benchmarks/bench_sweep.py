"""Work the sweep engine avoids, measured in one process: each line runs a small grid twice,
with the feature and without it (the reference), and reports work and wall time of both.

1. Shared draws: ``gsemm_capacity`` rows of a seed share its memories (``share_draws``).
2. Early decision: ``gsemm_capacity`` rows stop at their verdict (``early_stop``); work =
   RK4 steps executed against the full protocol's horizons.
3. Adaptive ladder: the galloping K search with the incumbent α_c search (the defaults) against
   every α_c at every K (``ladder_search = "climb"``, ``alpha_c_search = "every"``,
   ``ladder_patience = 0``).
4. Storkey once per seed: ``hopfield_capacity`` with the Storkey rule, one nested scan per
   stream against a scan per row (``share_draws = false``); work = Storkey pattern updates.
5. Persistent compilation cache: ``hopjax run`` of the quickstart config twice in fresh
   processes sharing an empty cache folder; compile seconds of each.
6. Asynchronous runs through a pool of lanes: one ``hopfield_capacity`` stream (Hebbian,
   N = 500, its 21 loads × 64 cues) by :func:`hopjax.classical.run_async_pool` against the
   vmapped :func:`hopjax.classical.run` of every (load, cue) pair; work = lane-events (a flip or
   a sweep's end, times the lanes that advance together), run time without compiling.

Results are the same with and without 1, 2 and 4 (tested byte for byte in tests/); 3 is
validated in the README (capacity per (degree, seed) against the full grid).
Writes ``runs/benchmarks/sweep-<device>.json`` (``--update``: ``benchmarks/results/``).
Run: ``python benchmarks/bench_sweep.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, device_name, output_args, output_dir, save_results

from hopjax.classical import Hopfield, run, run_async_pool
from hopjax.sweep import load_config, load_experiment_config, run_sweep

GSEMM = {
    "experiment": "gsemm_capacity",
    "seeds": 1,
    "degree": [1, 3, 8, 15],
    "alpha_c": [0.2, 0.5, 1.0],
    "K": [16, 24],
    "ladder_patience": 0,
    "ladder_search": "climb",
    "alpha_c_search": "every",
    "plot": {"dpi": 50},
}
LADDER = {
    **GSEMM,
    "degree": [1, 2, 3, 8, 15],
    "alpha_c": [0.1, 0.2, 0.5, 1.0],
    "K": [4, 8, 12, 16, 24, 32],
}
STORKEY = {
    "experiment": "hopfield_capacity",
    "seeds": 1,
    "rule": ["storkey"],
    "update": ["sync"],
    "N": [500],
    "alpha": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    "cues": 16,
    "plot": {"dpi": 50},
}


def sweep(raw: dict[str, Any], tmp: Path, name: str) -> dict[str, Any]:
    """Run one config into ``tmp/name``: wall/compile/run seconds, rows, summary."""
    cfg = load_experiment_config(raw)[1]
    res = run_sweep(cfg, tmp / name, progress=False)
    m = res.metadata
    return {
        "wall_seconds": m["wall_seconds"],
        "compile_seconds": m["compile_seconds"],
        "run_seconds": m["run_seconds"],
        "rows": res.rows,
        "summary": res.summary,
    }


def same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Rows equal value for value, NaN equal to NaN (``best_alpha_c`` is NaN where nothing
    was retrieved; ``nan != nan`` made equal results compare unequal)."""
    return [json.dumps(r, sort_keys=True) for r in a] == [json.dumps(r, sort_keys=True) for r in b]


def gsemm_work(run: dict[str, Any]) -> dict[str, Any]:
    w = run["summary"]["work"]
    return {k: run[k] for k in ("wall_seconds", "compile_seconds", "run_seconds")} | w


def line(label: str, new: dict[str, Any], ref: dict[str, Any], work: str) -> dict[str, Any]:
    saved = ref["run_seconds"] / new["run_seconds"]
    print(
        f"[{label}] run {new['run_seconds']:.1f} s vs {ref['run_seconds']:.1f} s "
        f"({saved:.1f}x); {work}"
    )
    return {"with": new, "without": ref, "run_time_ratio": saved}


def compile_cache(tmp: Path) -> dict[str, float]:
    """Compile seconds of two fresh ``hopjax run`` processes sharing one cache folder."""
    env = {**os.environ, "HOPJAX_CACHE_DIR": str(tmp / "cache")}
    out = {}
    for name in ("first", "second"):
        cmd = [sys.executable, "-c", "from hopjax.cli import main; main()", "run"]
        cmd += [str(ROOT / "configs" / "quickstart.toml"), "--out", str(tmp / f"quick-{name}")]
        subprocess.run(
            [*cmd, "--quiet"],
            check=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        meta = json.loads((tmp / f"quick-{name}" / "metadata.json").read_text())
        out[name] = meta["compile_seconds"]
    return out


def async_pool(n: int = 500, seed: int = 0) -> dict[str, Any]:
    """Line 6: one Hebbian stream's asynchronous runs, pooled vs vmapped (module docstring)."""
    import time

    sys.path.insert(0, str(ROOT / "experiments"))
    import hopfield_capacity as hc

    alphas = load_config(ROOT / "configs" / "hopfield_capacity.toml")[1].alpha
    loads = sorted({round(a * n) for a in alphas})
    p = {"N": n, "P_max": loads[-1], "n_cues": 64, "loads": loads, "rule": "hebbian"}
    # update "sync": draws() returns the stream's arrays without running the pool itself
    p |= {"flip": 0.1, "update": "sync", "max_steps": 100}
    sh = hc.draws(p, jax.random.key(seed))
    w, cues, keys = sh["weights"], sh["cues"], sh["run_keys"]
    pairs = np.array(
        [(a, c) for a in reversed(range(len(loads))) for c in range(min(64, loads[a]))]
    )
    q = 1.0 / n

    def vmapped(w, cues, keys):
        def one(a, c):
            return run(Hopfield(w[a], quantum=q), cues[c], mode="async", key=keys[c], max_steps=100)

        return jax.vmap(one)(jnp.asarray(pairs[:, 0]), jnp.asarray(pairs[:, 1]))

    def pooled(w, cues, keys):
        return run_async_pool(w, cues, keys, pairs, max_steps=100, quantum=q)

    out: dict[str, Any] = {"N": n, "runs": len(pairs)}
    states = {}
    for name, fn in (("pool", pooled), ("vmap", vmapped)):
        f = jax.jit(fn).lower(w, cues, keys).compile()
        jax.block_until_ready(f(w, cues, keys))
        t0 = time.perf_counter()
        res = jax.block_until_ready(f(w, cues, keys))
        out[f"{name}_seconds"] = time.perf_counter() - t0
        states[name] = res
    assert all(
        bool(jnp.all(getattr(states["pool"], k) == getattr(states["vmap"], k)))
        for k in ("state", "steps", "converged")
    ), "the pool changed a run"
    out["run_time_ratio"] = out["vmap_seconds"] / out["pool_seconds"]
    print(
        f"[6 async pool] {len(pairs)} runs at N = {n}: {out['pool_seconds']:.1f} s vs "
        f"{out['vmap_seconds']:.1f} s vmapped ({out['run_time_ratio']:.1f}x), same states"
    )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    output_args(ap)
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"device": device_name()}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        # 1. shared draws (early decision on in both)
        a = sweep(GSEMM, tmp, "shared")
        b = sweep({**GSEMM, "share_draws": False}, tmp, "per-row")
        assert same_rows(a["rows"], b["rows"]), "shared draws changed a result"
        result["1_shared_draws"] = line(
            "1 shared draws", gsemm_work(a), gsemm_work(b), "same RK4 steps, same rows"
        )
        # 2. early decision
        c = sweep({**GSEMM, "early_stop": False}, tmp, "horizon")
        assert [r["success"] for r in a["rows"]] == [r["success"] for r in c["rows"]]
        wa, wc = gsemm_work(a), gsemm_work(c)
        result["2_early_decision"] = line(
            "2 early decision",
            wa,
            wc,
            f"RK4 steps {wa['rk4_steps_executed']:.3g} vs {wc['rk4_steps_executed']:.3g} "
            f"(full protocol {wa['rk4_steps_full_protocol']:.3g})",
        )
        # 3. adaptive ladder
        adaptive = {"ladder_search": "gallop", "alpha_c_search": "incumbent", "ladder_patience": 2}
        d = sweep({**LADDER, **adaptive}, tmp, "inc")
        e = sweep(LADDER, tmp, "every")
        wd, we = gsemm_work(d), gsemm_work(e)
        # the capacity per (degree, seed); best_alpha_c differs by design (the incumbent search
        # stops at the first α_c that works, the full grid reports the smallest one)
        caps = lambda run: {k: v["capacities"] for k, v in run["summary"]["capacity"].items()}  # noqa: E731
        same = caps(d) == caps(e)
        result["3_adaptive_ladder"] = line(
            "3 adaptive ladder",
            wd,
            we,
            f"rows run {wd['rows_run']} vs {we['rows_run']}, RK4 steps "
            f"{wd['rk4_steps_executed']:.3g} vs {we['rk4_steps_executed']:.3g}, "
            f"same capacities: {same}",
        )
        result["3_adaptive_ladder"]["same_capacity"] = same
        # 4. Storkey once per seed
        f = sweep(STORKEY, tmp, "nested")
        g = sweep({**STORKEY, "share_draws": False}, tmp, "storkey-per-row")
        assert same_rows(f["rows"], g["rows"]), "nested Storkey changed a result"
        n = STORKEY["N"][0]
        loads = [round(a * n) for a in STORKEY["alpha"]]
        per_row, nested = sum(loads) * len(STORKEY["update"]), max(loads)
        result["4_storkey_once"] = line(
            "4 Storkey once per seed",
            {k: f[k] for k in ("wall_seconds", "compile_seconds", "run_seconds")},
            {k: g[k] for k in ("wall_seconds", "compile_seconds", "run_seconds")},
            f"Storkey pattern updates {nested} vs {per_row} per seed",
        )
        result["4_storkey_once"] |= {"pattern_updates": nested, "per_row_pattern_updates": per_row}
        # 5. compilation cache
        cc = compile_cache(tmp)
        print(
            f"[5 compile cache] quickstart compile {cc['second']:.1f} s with the cache filled "
            f"vs {cc['first']:.1f} s empty"
        )
        result["5_compile_cache"] = cc
        result["6_async_pool"] = async_pool()
    for key in ("1_shared_draws", "2_early_decision", "3_adaptive_ladder"):
        for side in ("with", "without"):
            result[key][side].pop("rows", None)
    save_results(output_dir(args), f"sweep-{result['device']}", result)


if __name__ == "__main__":
    main()
