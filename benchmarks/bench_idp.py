"""IDP reasoning benchmark: the γ × τ_α grid of ``configs/idp_threshold.toml`` (one seed) solved as
one vmapped diffrax program against the same runs solved one at a time with
``scipy.integrate.solve_ivp`` (RK45, same rtol/atol, same save points) in the same process.

Prints the wall times, the speed-up ratio and how many runs agree (same sustained/collapsed
verdict; periods within 1%). Writes ``runs/benchmarks/idp-<device>.json`` (``--update``:
``benchmarks/results/``).
Run: ``python benchmarks/bench_idp.py`` (``--tau-alpha 50 500`` for a shorter run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, device_name, output_args, output_dir, save_results

sys.path.insert(0, str(ROOT))  # the experiments/ folder
from experiments.idp_reasoning import reasoning_point
from hopjax.measure import measure_transitions
from hopjax.patterns import orthogonal_patterns
from hopjax.sweep import load_config


def scipy_run(xi: np.ndarray, p: dict, gamma: float, tau_alpha: float) -> tuple[float, float]:
    """One run with solve_ivp: returns ``(sustained, period)`` measured like the sweep does."""
    P, N = xi.shape
    A = np.roll(np.eye(P), 1, axis=0)
    eps, tau_x = p["eps"], p["tau_x"]

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        x, alpha = y[:N], y[N:]
        m = xi @ np.clip(x, -1.0, 1.0) / N
        dx = ((alpha * m + eps * alpha) @ xi - x) / tau_x
        da = (gamma * (A @ m) - alpha) / tau_alpha
        return np.concatenate([dx, da])

    t1 = p["duration"] * tau_alpha
    ts = np.linspace(0.0, t1, p["n_save"])
    y0 = np.concatenate([p["a0"] * xi[0], p["a0"] * np.eye(P)[0]])
    sol = solve_ivp(rhs, (0.0, t1), y0, method="RK45", t_eval=ts, rtol=p["rtol"], atol=p["atol"])
    if not sol.success:
        raise RuntimeError(sol.message)
    x, alpha = sol.y[:N].T, sol.y[N:].T
    m = np.clip(x, -1, 1) @ xi.T / N
    tr = measure_transitions(
        jnp.asarray(ts, jnp.float32),
        jnp.asarray(m, jnp.float32),
        jnp.asarray(alpha, jnp.float32),
        max_transitions=p["max_transitions"],
        active=p["active"],
    )
    sustained = bool(tr.active_end) and float(tr.last_time) >= 0.75 * t1
    return float(sustained), float(tr.period(P, p["cycles"])) if sustained else float("nan")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tau-alpha", type=float, nargs="*", default=None)
    output_args(ap)
    args = ap.parse_args(argv)

    cfg = load_config(ROOT / "configs" / "idp_threshold.toml")[1]
    taus = args.tau_alpha or cfg.tau_alpha
    grid = [(g, t) for t in taus for g in cfg.gamma]
    P, N = cfg.P[0], cfg.N[0]
    p = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}
    p.update(P=P, N=N, eps=cfg.eps[0])
    key = jax.random.PRNGKey(0)
    xi = np.asarray(orthogonal_patterns(P, N, key=key))  # what reasoning_point draws for key

    gammas = jnp.asarray([g for g, _ in grid], jnp.float32)
    tau_as = jnp.asarray([t for _, t in grid], jnp.float32)
    batched = jax.jit(
        jax.vmap(lambda g, t: reasoning_point({**p, "gamma": g, "tau_alpha": t}, key))
    )
    t0 = time.perf_counter()
    compiled = batched.lower(gammas, tau_as).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = jax.block_until_ready(compiled(gammas, tau_as))
    jax_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = [scipy_run(xi, p, g, t) for g, t in grid]
    scipy_s = time.perf_counter() - t0

    agree = 0
    for i, (s_ref, per_ref) in enumerate(ref):
        same = float(ours["sustained"][i]) == s_ref
        if same and s_ref == 1.0:
            same = abs(float(ours["period_measured"][i]) / per_ref - 1) < 0.01
        agree += same
    result = {
        "device": device_name(),
        "runs": len(grid),
        "tau_alpha": taus,
        "gamma": cfg.gamma,
        "N": N,
        "P": P,
        "hopjax_compile_seconds": compile_s,
        "hopjax_run_seconds": jax_s,
        "scipy_seconds": scipy_s,
        "speedup": scipy_s / jax_s,
        "speedup_including_compile": scipy_s / (jax_s + compile_s),
        "runs_agreeing": agree,
    }
    print(
        f"idp_threshold grid, {len(grid)} runs (N={N}, P={P}, tau_alpha={taus}): "
        f"hopjax vmapped diffrax {jax_s:.1f} s (+ compile {compile_s:.1f} s), "
        f"scipy solve_ivp one at a time {scipy_s:.1f} s -> speed-up {result['speedup']:.1f}x "
        f"({result['speedup_including_compile']:.1f}x with compile); "
        f"{agree}/{len(grid)} runs agree"
    )
    save_results(output_dir(args), f"idp-{result['device']}", result)


if __name__ == "__main__":
    main()
