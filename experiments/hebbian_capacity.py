"""Experiment ``hebbian_capacity``: the critical capacity of a fully connected network trained by
local Hebbian rules, over the expanded rule's coefficients and N (the survey's question:
McAlister et al. 2025, §2.8 and §3 — the expanded rule of Gerstner & Kistler 2002).

**Learning.** ``N`` units learn ``P = round(α N)`` bipolar patterns by *streaming* the expanded
rule (:func:`hopjax.rules.expanded_hebbian`, one ``lax.scan`` step per presentation, ``epochs``
passes, a fresh random order per epoch and seed), pre- and post-synaptic activity clamped to
the presented pattern ``ξ``:

``Δw_ij = c₀(w) + c₁^pre(w) ξ_j + c₁^post(w) ξ_i + c₂^pre(w) ξ_j² + c₂^post(w) ξ_i²
+ c₂^corr(w) ξ_i ξ_j``,

each coefficient ``c(w) = c + c_w · w`` (the ``_w`` keys; e.g. Oja's ``c₂^post = −η w``). The
diagonal is zeroed after learning. **What ±1 patterns imply**: ``ξ² = 1``, so the ``c₂^pre`` and
``c₂^post`` terms are not quadratic at all — their constant parts add to ``c₀`` (a uniform
coupling, i.e. a ferromagnetic bias towards all-equal states) and their ``w``-parts are a
weight decay; ``c₁`` terms add rank-one couplings ``1 ξᵀ`` / ``ξ 1ᵀ`` (state-dependent
thresholds). The whole rule is therefore *exponentially weighted Hebbian learning plus biases*:
``W = Σ_t g^{P−t} (C + c₁^pre 1ξ_tᵀ + c₁^post ξ_t 1ᵀ + c₂^corr ξ_t ξ_tᵀ)`` with
``g = 1 + c₀_w + c₂^pre_w + c₂^post_w`` and ``C = c₀ + c₂^pre + c₂^post`` —
:func:`closed_form` (tested equal to the stream).

**Named corners** (``rule``, traced: one compiled program per N for all of them):
``activity_product`` (``c₂^corr = 1``: Hebbian), ``oja`` (``c₂^corr = 1``, ``c₂^post = −η w``:
Oja's rule divided by its η, which sign dynamics do not see; for ±1 patterns it is Hebbian
learning with forgetting rate η), ``covariance`` (``(ξ_i − a)(ξ_j − a)`` with the patterns'
mean activity ``a = 0``: equal to the activity product for unbiased patterns), ``forgetting``
(``c₂^corr = 1``, ``c₀ = −λ w``: a palimpsest, Mézard, Nadal & Toulouse 1986), and ``expanded``
(the coefficient keys: grids over two of them are 2-D slices of coefficient space).

**Retrieval** is ``hopfield_capacity``'s protocol on the *same draws* (the same PRNG stream per
(N, flip, seed): the same patterns and cues): synchronous updates from the first ``cues``
patterns with a fraction ``flip`` of bits flipped; retrieved when the final overlap ≥
``threshold``. Metrics: ``retrieved_frac`` (as ``hopfield_capacity``), and for palimpsests
``recent_retrieved`` — how many of the ``recent`` most recently presented patterns are retrieved
from their own 10%-flipped cues — and ``recent_span`` (consecutive from the newest).

Summary: ``alpha_c`` — each named corner's extrapolated ``α_∞`` (``α_c(N) = α_∞ + a/√N`` over
≥ 3 sizes; ``null`` otherwise), ``alpha_c_per_N`` — its crossings of ``retrieved_frac`` = 0.5
per N; ``slices`` — α_c over each 2-D
coefficient slice (heat maps ``slice_*.png``); ``palimpsest`` — the most-recent patterns
retrieved per N and decay, the optimum decay and its capacity per N.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.classical import Hopfield, run
from hopjax.measure import crossing
from hopjax.patterns import flip, random_bipolar
from hopjax.rules import HebbianCoefficients, expanded_hebbian
from hopjax.sweep import (
    ConfigError,
    Experiment,
    Params,
    Report,
    Row,
    RunContext,
    SweepConfig,
    param,
)

from ._common import cued_mean, extrapolate

Rule = Literal["activity_product", "oja", "covariance", "forgetting", "expanded"]
RULES: tuple[str, ...] = typing.get_args(Rule)
CORNERS = RULES[:-1]
COEFFS = ("c0", "c1_pre", "c1_post", "c2_pre", "c2_post", "c2_corr")
"""Constant parts of the expanded rule's coefficients (grid keys)."""
W_COEFFS = ("c0_w", "c2_pre_w", "c2_post_w")
"""Their parts linear in ``w`` (grid keys); ``c1`` has none here."""


@dataclasses.dataclass
class HebbianCapacityConfig(SweepConfig):
    """Config of ``hebbian_capacity`` (grid keys: rule, N, alpha, flip, eta, decay, and the
    expanded rule's coefficients)."""

    rule: list[Rule] = dataclasses.field(default_factory=lambda: list(CORNERS))
    N: list[int] = param([250], ge=2)
    alpha: list[float] = dataclasses.field(default_factory=lambda: [0.05, 0.1, 0.15, 0.2])
    flip: list[float] = param([0.1], ge=0, le=1)
    eta: list[float] = dataclasses.field(default_factory=lambda: [0.01])
    """Oja's learning rate (= its forgetting rate for ±1 patterns)."""
    decay: list[float] = dataclasses.field(default_factory=lambda: [0.01])
    """λ of the ``forgetting`` corner: ``c₀ = −λ w`` per presentation."""
    c0: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c1_pre: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c1_post: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c2_pre: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c2_post: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c2_corr: list[float] = dataclasses.field(default_factory=lambda: [1.0])
    c0_w: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c2_pre_w: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    c2_post_w: list[float] = dataclasses.field(default_factory=lambda: [0.0])
    epochs: int = param(1, ge=1)
    cues: int = param(64, ge=1)
    """Patterns cued per network (the first ones, as in ``hopfield_capacity``)."""
    recent: int = 0
    """Most recently presented patterns probed for ``recent_retrieved`` (0: not measured)."""
    max_steps: int = param(100, ge=1)
    threshold: float = param(0.95, gt=0, le=1)

    def check(self) -> None:
        super().check()
        if min(self.alpha) <= 0 or round(min(self.alpha) * min(self.N)) < 1:
            raise ConfigError(f"'alpha' must store at least one pattern; got {self.alpha}.")
        if not all(0 <= v < 1 for v in (*self.eta, *self.decay)):
            raise ConfigError("'eta' and 'decay' must lie in [0, 1) (rates per presentation).")
        if self.recent < 0 or self.recent > round(min(self.alpha) * min(self.N)):
            raise ConfigError(
                f"'recent' must lie in [0, P] for the smallest load (P = "
                f"{round(min(self.alpha) * min(self.N))}); got {self.recent}."
            )

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        loads = sorted({round(a * static["N"]) for a in self.alpha})
        return {"P_max": loads[-1], "n_cues": min(self.cues, loads[-1]), "loads": loads}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * (3 * p["N"] ** 2 + 4 * p["P_max"] * p["N"])


def coefficients(p: dict[str, Any]) -> HebbianCoefficients:
    """The row's expanded-rule coefficients (``rule`` is the traced index of a corner)."""
    eta, lam = p["eta"], p["decay"]
    z = jnp.zeros(())

    def table(name: str, const: Array, slope: Array) -> Array:
        """``[c, c_w]`` of one coefficient under each rule, picked by the row's rule index."""
        per_rule = {
            "activity_product": (1.0 if name == "c2_corr" else z, z),
            "oja": (1.0 if name == "c2_corr" else z, -eta if name == "c2_post" else z),
            "covariance": (1.0 if name == "c2_corr" else z, z),  # mean activity a = 0
            "forgetting": (1.0 if name == "c2_corr" else z, -lam if name == "c0" else z),
            "expanded": (const, slope),
        }
        rows = jnp.stack([jnp.stack([jnp.asarray(c, jnp.float32), jnp.asarray(s, jnp.float32)])
                          for c, s in (per_rule[r] for r in RULES)])  # fmt: skip
        return rows[p["rule"]]

    slope = {"c0": p["c0_w"], "c2_pre": p["c2_pre_w"], "c2_post": p["c2_post_w"]}
    return HebbianCoefficients(**{k: table(k, p[k], slope.get(k, z)) for k in COEFFS})


def closed_form(c: HebbianCoefficients, xi: Array, P: Array | int) -> Array:
    """The weights one epoch of the stream gives for ±1 patterns ``xi[:P]`` presented in order,
    from ``ξ² = 1`` (described in :mod:`experiments.hebbian_capacity`): ``Σ_t g^{P−1−t}(C + c₁^pre
    1ξ_tᵀ + c₁^post ξ_t 1ᵀ +
    c₂^corr ξ_t ξ_tᵀ)``, for coefficients at most linear in ``w``."""
    const = lambda v: v[0]  # noqa: E731
    lin = lambda v: v[1] if v.shape[0] > 1 else 0.0  # noqa: E731
    g = 1.0 + lin(c.c0) + lin(c.c2_pre) + lin(c.c2_post)
    t = jnp.arange(xi.shape[0])
    wts = jnp.where(t < P, g ** (P - 1 - t), 0.0)
    C = const(c.c0) + const(c.c2_pre) + const(c.c2_post)
    s = wts @ xi  # Σ_t g^{P−1−t} ξ_t
    ones = jnp.ones(xi.shape[1])
    return (
        C * jnp.sum(wts)
        + const(c.c1_pre) * jnp.outer(ones, s)
        + const(c.c1_post) * jnp.outer(s, ones)
        + const(c.c2_corr) * (xi.T * wts) @ xi
    )


def draws(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """What the rows of an (N, flip, seed) stream share — the same patterns and cues as
    ``hopfield_capacity``'s stream (same key, same calls) — plus presentation orders and the
    cues of the recency probe (from keys folded off the stream's, so the first are unchanged)."""
    n, p_max, c = p["N"], p["P_max"], p["n_cues"]
    k_xi, k_cue, _ = jax.random.split(key, 3)
    xi = random_bipolar(k_xi, p_max, n)
    cues = jax.vmap(lambda k, s: flip(k, s, fraction=p["flip"]))(jax.random.split(k_cue, c), xi[:c])
    k_order, k_recent = jax.random.split(jax.random.fold_in(key, 1))
    order_keys = jax.random.uniform(k_order, (p["epochs"], p_max))
    recent_flips = jax.random.split(k_recent, max(p["recent"], 1))
    return {"xi": xi, "cues": cues, "order_keys": order_keys, "recent_flips": recent_flips}


def hebbian_capacity_point(
    p: dict[str, Any], key: PRNGKeyArray, shared: dict[str, Array]
) -> dict[str, Array]:
    """Stream the stored patterns through the rule, zero the diagonal, retrieve (module
    docstring)."""
    n, c, xi = p["N"], p["n_cues"], shared["xi"]
    P = jnp.round(p["alpha"] * n).astype(jnp.int32)
    p_max = xi.shape[0]
    idx = jnp.arange(p_max)
    # every epoch a random order of the P stored patterns (unstored ones sort last, skipped)
    order = jnp.argsort(jnp.where(idx < P, shared["order_keys"], 2.0), axis=1)
    seq = order.reshape(-1)
    active = jnp.tile(idx < P, p["epochs"])
    coeffs = coefficients(p)

    def present(w: Array, sample: tuple[Array, Array]) -> tuple[Array, None]:
        i, on = sample
        x = xi[i]
        return jnp.where(on, expanded_hebbian(w, x, x, coefficients=coeffs), w), None

    w, _ = jax.lax.scan(present, jnp.zeros((n, n), jnp.float32), (seq, active))
    w = w * (1.0 - jnp.eye(n, dtype=w.dtype))
    model = Hopfield(w)

    def retrieve(cues: Array, targets: Array) -> tuple[Array, Array]:
        res = jax.vmap(lambda s: run(model, s, max_steps=p["max_steps"]))(cues)
        return jnp.sum(res.state * targets, axis=1), res.steps  # N m: an exact integer

    dot, steps = retrieve(shared["cues"], xi[:c])
    out = {  # as hopfield_capacity's rows: integer counts over the cued patterns
        "retrieved_frac": cued_mean(dot / n >= p["threshold"], P),
        "overlap_mean": cued_mean(dot, P) / n,
        "steps_mean": cued_mean(steps, P),
        "P": P.astype(jnp.float32),
    }
    if p["recent"] > 0:  # the most recently presented patterns, newest first
        newest = order[-1][jnp.clip(P - 1 - jnp.arange(p["recent"]), 0, p_max - 1)]
        targets = xi[newest]
        cues = jax.vmap(lambda k, s: flip(k, s, fraction=p["flip"]))(
            shared["recent_flips"], targets
        )
        ok, _ = retrieve(cues, targets)
        ok = ok / n >= p["threshold"]
        out["recent_retrieved"] = jnp.sum(ok).astype(jnp.float32)
        out["recent_span"] = jnp.argmin(jnp.append(ok, False)).astype(jnp.float32)
    else:
        out["recent_retrieved"] = out["recent_span"] = jnp.asarray(jnp.nan, jnp.float32)
    return out


# ----------------------------------------------------------------------------- summary

SETTING = ("rule", "flip", "eta", "decay", *COEFFS, *W_COEFFS)


def _curves(rows: list[Row]) -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """(setting…, N) → (alphas, mean retrieved fraction over seeds)."""
    by: dict[tuple, dict[float, list[float]]] = {}
    for r in rows:
        by.setdefault((*(r[k] for k in SETTING), r["N"]), {}).setdefault(r["alpha"], []).append(
            r["retrieved_frac"]
        )
    return {
        k: (np.array(sorted(v)), np.array([np.mean(v[a]) for a in sorted(v)]))
        for k, v in by.items()
    }


def _fit(per_n: dict[int, float | None]) -> dict[str, Any]:
    pts = [(n, a) for n, a in sorted(per_n.items()) if a is not None]
    out: dict[str, Any] = {"per_N": {str(n): a for n, a in sorted(per_n.items())}}
    if len(pts) >= 3:
        inf, slope = extrapolate(
            np.array([n for n, _ in pts], float), np.array([a for _, a in pts])
        )
        out.update(alpha_inf=inf, slope=slope)
    else:
        out.update(alpha_inf=None, note="alpha_inf needs >= 3 sizes N with a crossing")
    return out


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """α_c per corner (and per N, extrapolated), α_c over 2-D coefficient slices, palimpsest."""
    cfg = ctx.cfg
    curves = _curves(rows)
    crossings = {k: crossing(a, f) for k, (a, f) in curves.items()}
    summary: dict[str, Any] = {
        "threshold": cfg.threshold,
        "alpha_c": {},  # corner → extrapolated α_∞ (null: fewer than 3 sizes with a crossing)
        "alpha_c_per_N": {},  # corner → N → crossing of retrieved_frac = 0.5
        "alpha_c_fit": {},  # corner → the fit's slope (or why there is none)
        "slices": {},
    }
    for rule in cfg.rule:
        if rule == "expanded":
            continue
        keys = [k for k in crossings if k[0] == rule]
        settings = sorted({k[1:-1] for k in keys})
        if len(settings) == 1:  # one setting of the other keys: the corner's curve
            fit = _fit({k[-1]: crossings[k] for k in keys})
            summary["alpha_c"][rule] = fit.pop("alpha_inf")
            summary["alpha_c_per_N"][rule] = fit.pop("per_N")
            if rule in ("oja", "forgetting"):
                fit["note"] = (
                    "a fixed forgetting rate keeps ~1/rate patterns whatever N, so the cued "
                    "(oldest) patterns are lost at a load that falls with N: this alpha_inf "
                    "is a fit, not a capacity (see the palimpsest config)"
                )
            summary["alpha_c_fit"][rule] = fit
    varied = [k for k in (*COEFFS, *W_COEFFS) if len(getattr(cfg, k)) > 1]
    if "expanded" in cfg.rule:
        for a, b in itertools.combinations(varied, 2):
            table: dict[str, Any] = {}
            for k, ac in crossings.items():
                s = dict(zip(SETTING, k[:-1], strict=True))
                others = [v for v in varied if v not in (a, b)]  # held at their first value
                if k[0] != "expanded" or any(s[v] != getattr(cfg, v)[0] for v in others):
                    continue
                cell = table.setdefault(str(k[-1]), {}).setdefault(f"{a}={s[a]:g}", {})
                cell[f"{b}={s[b]:g}"] = ac
            summary["slices"][f"{a}__{b}"] = table
    summary["palimpsest"] = _palimpsest(cfg, rows) if cfg.recent > 0 else None
    return summary


def _palimpsest(cfg: HebbianCapacityConfig, rows: list[Row]) -> dict[str, Any]:
    """Per forgetting rule, N and rate: the mean most-recent patterns retrieved at the largest
    load (the stationary regime), as a fraction of N; the best rate per N."""
    out: dict[str, Any] = {}
    top = max(cfg.alpha)
    for rule, rate_key in (("forgetting", "decay"), ("oja", "eta")):
        if rule not in cfg.rule:
            continue
        per_n: dict[str, Any] = {}
        for n in cfg.N:
            rs = [r for r in rows if r["rule"] == rule and r["N"] == n and r["alpha"] == top]
            rates = sorted({r[rate_key] for r in rs})
            frac = {
                f"{v:g}": float(np.mean([r["recent_retrieved"] for r in rs if r[rate_key] == v]))
                / n
                for v in rates
            }
            best = max(frac, key=frac.get) if frac else None
            per_n[str(n)] = {
                "recent_over_N": frac,
                "best_rate": float(best) if best is not None else None,
                "best_rate_times_N": float(best) * n if best is not None else None,
                "capacity_over_N": frac[best] if best is not None else None,
            }
        out[rule] = {"rate_key": rate_key, "alpha": top, "per_N": per_n}
    return out


def _coef_label(key: str) -> str:
    """A coefficient key as mathtext: ``c2_post_w`` → ``$c_2^{\\mathrm{post}}$`` (the weight
    coefficients' ``_w`` suffix dropped); other keys as they are."""
    parts = key.removesuffix("_w").split("_")
    if not parts[0][:1] == "c" or not parts[0][1:].isdigit():
        return key
    sup = f"^{{\\mathrm{{{parts[1]}}}}}" if len(parts) > 1 else ""
    return f"$c_{parts[0][1:]}{sup}$"


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``capacity.png`` (retrieved fraction vs α per corner and N), ``slice_*.png`` (α_c heat
    maps over each 2-D coefficient slice, largest N) and ``palimpsest.png``."""
    cfg = ctx.cfg
    paths = []
    corners = [r for r in cfg.rule if r in summary["alpha_c_per_N"]]
    if corners:
        fig, axes = hplot.subplots(
            1, len(corners), figsize=(4.2 * len(corners), 3.6), squeeze=False, sharey=True,
            constrained_layout=True,
        )  # fmt: skip
        for ax, rule in zip(axes[0], corners, strict=True):
            hplot.capacity_curve(rows, where={"rule": rule}, ax=ax, reference=(0.138, "0.138"))
            ac = summary["alpha_c"][rule]
            ax.set_title(rule + (f": α_∞ = {ac:.3f}" if ac is not None else ""), fontsize=10)
            ax.set_xlabel("α = P / N")
            ax.set_ylabel("")
        axes[0][0].set_ylabel(f"retrieved fraction (m ≥ {cfg.threshold})\nmean ± s.e.m.")
        fig.suptitle("Hebbian rules: retrieval from 10%-flipped cues vs load")
        paths.append(ctx.save(fig, "capacity.png"))
    for name, table in summary["slices"].items():
        a, b = name.split("__")
        n = str(max(cfg.N))
        va, vb = getattr(cfg, a), getattr(cfg, b)
        grid = np.array(
            [[np.nan if (v := table[n][f"{a}={x:g}"][f"{b}={y:g}"]) is None else v for y in vb]
             for x in va]
        )  # fmt: skip
        fig, ax = hplot.subplots(figsize=(5, 4), constrained_layout=True)
        im = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
        fig.colorbar(im, ax=ax, label="$\\alpha_c$ (—: no crossing in the grid)")
        ax.set_xticks(range(len(vb)), [f"{y:g}" for y in vb])
        ax.set_yticks(range(len(va)), [f"{x:g}" for x in va])
        lo, hi = im.get_clim()
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, "—" if np.isnan(v) else f"{v:.3f}", ha="center", va="center",
                    fontsize=7, color=hplot.text_color(v, "viridis", lo, hi))  # fmt: skip
        la, lb = _coef_label(a), _coef_label(b)
        ax.set(
            xlabel=lb,
            ylabel=la,
            title=f"$\\alpha_c$ over ({la}, {lb}), N = {n}, $c_2^{{\\mathrm{{corr}}}} = 1$",
        )
        paths.append(ctx.save(fig, f"slice_{a}__{b}.png"))
    pal = summary.get("palimpsest") or {}
    if pal:
        fig, ax = hplot.subplots(figsize=(5.5, 3.8), constrained_layout=True)
        for rule, d in pal.items():
            for n, e in d["per_N"].items():
                rates = [float(v) for v in e["recent_over_N"]]
                ax.plot([r * int(n) for r in rates], list(e["recent_over_N"].values()), "o-",
                        label=f"{rule}, N = {n}")  # fmt: skip
        ax.axhline(0.05, color="k", ls=":", lw=1, label="≈ 0.05 (Mézard, Nadal & Toulouse 1986)")
        ax.set(xscale="log", xlabel="forgetting rate × N", ylabel="recent patterns retrieved / N",
               title=f"Palimpsest after α = {max(cfg.alpha):g} N presentations")  # fmt: skip
        ax.legend(fontsize=7)
        paths.append(ctx.save(fig, "palimpsest.png"))
    return paths


EXPERIMENT = Experiment(
    name="hebbian_capacity",
    config=HebbianCapacityConfig,
    fn=hebbian_capacity_point,
    shared=draws,
    static=("N",),
    metrics=(
        "retrieved_frac",
        "overlap_mean",
        "steps_mean",
        "P",
        "recent_retrieved",
        "recent_span",
    ),
    description="capacity of Hebbian rules over the expanded rule's coefficients; palimpsests",
    key_exclude=("rule", "alpha", "eta", "decay", *COEFFS, *W_COEFFS),
    report=Report(
        summarize=summarize, plot=plot, headline=("alpha_c", "alpha_c_per_N", "palimpsest")
    ),
)
