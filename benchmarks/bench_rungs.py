"""Throughput per K rung of a finished ``gsemm_capacity`` / ``gsemm_scaling`` run folder, against
numpy's batched GEMM on the same shapes measured in this process.

For every rung (static group: K, and N_f where it is a grid axis) of the folder: rows run, RK4
steps executed (``rk4_steps`` of its rows), seconds integrating (the group's chunk seconds in
``metadata.json``), the rate in GFLOP/s under the model ``24 K N_f`` FLOP per RK4 step (per
stage one ``(2, N_f) × (N_f, K)`` product for both hidden currents and one ``(K,) × (K, N_f)``
back: ``6 K N_f``; elementwise work not counted), and that rate as a fraction of numpy's rate
on the same products batched over ``--batch`` rows (the pool's slots). A rung whose pool slots
idle once most rows are decided shows as a low fraction. Writes
``runs/benchmarks/rungs-<folder>-<device>.json`` (``--update``: ``benchmarks/results/``).
Run: ``python benchmarks/bench_rungs.py results/gsemm_capacity``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import device_name, output_args, output_dir, save_results

FLOP_PER_STEP = 24  # × K × N_f (module docstring)


def numpy_rate(K: int, N_f: int, batch: int, repeats: int = 5) -> float:
    """numpy's GFLOP/s on one RK4 stage's products for ``batch`` rows of their own memories."""
    rng = np.random.default_rng(0)
    xi = rng.choice([-1.0, 1.0], size=(batch, K, N_f)).astype(np.float32)
    v = rng.standard_normal((batch, 2, N_f)).astype(np.float32)
    w = rng.standard_normal((batch, 1, K)).astype(np.float32)
    xi_t = np.ascontiguousarray(np.swapaxes(xi, 1, 2))

    def stage() -> None:
        h = v @ xi_t  # (batch, 2, K)
        (w + h[:, :1]) @ xi  # (batch, 1, N_f)

    stage()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(10):
            stage()
        best = min(best, (time.perf_counter() - t0) / 10)
    return batch * 6 * K * N_f / best / 1e9


def rungs(folder: Path, batch: int) -> list[dict]:
    """One entry per rung that ran (module docstring)."""
    meta = json.loads((folder / "metadata.json").read_text())
    cfg_n_f = None
    cfg_text = (folder / "config.toml").read_text()
    for line in cfg_text.splitlines():
        if line.startswith("N_f") and "[" not in line:
            cfg_n_f = int(line.split("=")[1])
    steps: dict[tuple, float] = {}
    rows: dict[tuple, int] = {}
    with open(folder / "results.csv") as fh:
        for r in csv.DictReader(fh):
            if r["status"] != "done":
                continue
            key = (int(r["K"]), int(r["N_f"]) if "N_f" in r else cfg_n_f)
            steps[key] = steps.get(key, 0.0) + float(r["rk4_steps"])
            rows[key] = rows.get(key, 0) + 1
    seconds: dict[tuple, float] = {}
    for run in meta["runs"]:
        for g in run["groups"]:
            key = (int(g["K"]), int(g.get("N_f", cfg_n_f)))
            seconds[key] = seconds.get(key, 0.0) + float(sum(g["chunk_seconds"]))
    out = []
    for key in sorted(steps):
        K, N_f = key
        secs = seconds.get(key, 0.0)
        if secs <= 0:
            continue
        rate = steps[key] * FLOP_PER_STEP * K * N_f / secs / 1e9
        ref = numpy_rate(K, N_f, batch)
        out.append(
            {
                "K": K,
                "N_f": N_f,
                "rows": rows[key],
                "rk4_steps": steps[key],
                "seconds": secs,
                "gflops": rate,
                "numpy_gflops": ref,
                "fraction_of_numpy": rate / ref,
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, nargs="?", default=Path("results/gsemm_capacity"))
    ap.add_argument("--batch", type=int, default=64, help="rows per batched product (slots)")
    output_args(ap)
    args = ap.parse_args(argv)
    table = rungs(args.folder, args.batch)
    print(
        f"{'K':>5} {'N_f':>4} {'rows':>6} {'RK4 steps':>11} {'seconds':>8} {'GFLOP/s':>8} "
        f"{'numpy':>8} {'fraction':>8}"
    )
    for r in table:
        print(
            f"{r['K']:>5} {r['N_f']:>4} {r['rows']:>6} {r['rk4_steps']:>11.3g} "
            f"{r['seconds']:>8.1f} {r['gflops']:>8.2f} {r['numpy_gflops']:>8.2f} "
            f"{r['fraction_of_numpy']:>8.2f}"
        )
    result = {"device": device_name(), "folder": str(args.folder), "batch": args.batch}
    result["rungs"] = table
    name = f"rungs-{args.folder.name}-{device_name()}"
    save_results(output_dir(args), name, result)


if __name__ == "__main__":
    main()
