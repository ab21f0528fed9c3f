"""Experiment ``uhn_images``: universal Hopfield networks on correlated real images
(Millidge, Salvatori, Song, Lukasiewicz & Bogacz 2022, arXiv:2202.04557).

Memories: the first ``P`` images of scikit-learn's digits set (8 × 8, 1797 images shipped with
the package), scaled to ``[−1, 1]`` — strongly correlated patterns, unlike random ones. Per row
(similarity, separation, corruption, P, level, seed): ``cues`` stored images chosen at random
are corrupted — ``mask``: a random fraction ``level`` of the pixels set to 0; ``noise``:
Gaussian noise of standard deviation ``level`` added — and retrieved in one step
``f(q) = Ξᵀ sep(sim(Ξ, q))`` (auto-associative :class:`hopjax.dense.UniversalHopfield`). A cue
is retrieved when ``cos(f(q), x) >= threshold`` (scale-free, so every separation competes on
equal terms). Metric: ``retrieved`` (fraction of the cues), ``cosine`` (mean).

Summary: the fraction retrieved per (similarity, separation), averaged over the other axes, and
the best pair; plot: a heat map per corruption.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.dense import UniversalHopfield
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

Similarity = Literal["dot", "euclidean", "manhattan", "cosine"]
Separation = Literal["identity", "polynomial", "softmax", "max", "topk"]
Corruption = Literal["mask", "noise"]


@functools.lru_cache(maxsize=1)
def digits() -> np.ndarray:
    """scikit-learn's digits images as ``(1797, 64)`` float32 in ``[−1, 1]``."""
    from sklearn.datasets import load_digits

    return (load_digits().data / 8.0 - 1.0).astype(np.float32)


@dataclasses.dataclass
class UHNImagesConfig(SweepConfig):
    """Config of ``uhn_images`` (grid keys: similarity, separation, corruption, P, level)."""

    similarity: list[Similarity] = dataclasses.field(
        default_factory=lambda: ["dot", "euclidean", "manhattan", "cosine"]
    )
    separation: list[Separation] = dataclasses.field(
        default_factory=lambda: ["identity", "polynomial", "softmax", "max", "topk"]
    )
    corruption: list[Corruption] = dataclasses.field(default_factory=lambda: ["mask", "noise"])
    P: list[int] = dataclasses.field(default_factory=lambda: [100, 500])
    level: list[float] = param([0.25, 0.5], ge=0)
    beta: float = param(1.0, gt=0)
    """Softmax inverse temperature (applied to the raw similarity)."""
    degree: int = param(4, ge=1)
    """Polynomial degree."""
    topk: int = param(3, ge=1)
    """``k`` of the ``topk`` separation."""
    cues: int = param(64, ge=1)
    threshold: float = param(0.95, gt=0, le=1)

    def check(self) -> None:
        super().check()
        if not (2 <= min(self.P) and max(self.P) <= 1797):
            raise ConfigError(f"'P' must lie in [2, 1797] (digits images); got {self.P}.")
        if "mask" in self.corruption and max(self.level) > 1:
            raise ConfigError("'level' is a pixel fraction for 'mask' and must be <= 1.")

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        return {"images": jnp.asarray(digits()[: static["P"]])}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 4 * self.cues * p["P"] * 64 * 3 + (1 << 16)


SIMILARITIES: tuple[str, ...] = typing.get_args(Similarity)
SEPARATIONS: tuple[str, ...] = typing.get_args(Separation)
CORRUPTIONS: tuple[str, ...] = typing.get_args(Corruption)


def uhn_images_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """One row. ``similarity``, ``separation`` and ``corruption`` arrive as indices into their
    Literal options (traced: ``lax.switch`` picks the branch, so all pairs of one ``P`` share a
    compiled program); each branch is :class:`UniversalHopfield`'s own ``sim`` / ``sep``."""
    X = p["images"]
    P, N = X.shape

    def branch(net: UniversalHopfield, stage: str) -> Callable[[Array], Array]:
        return lambda v: getattr(net, stage)(v)  # a plain function: lax.switch hashes branches

    sims = [branch(UniversalHopfield(X, similarity=s), "sim") for s in SIMILARITIES]
    seps = [
        branch(
            UniversalHopfield(
                X, separation=s, beta=p["beta"], degree=p["topk"] if s == "topk" else p["degree"]
            ),
            "sep",
        )
        for s in SEPARATIONS
    ]

    def mask(x: Array, k: PRNGKeyArray) -> Array:
        return jnp.where(jax.random.uniform(k, (N,)) < p["level"], 0.0, x)

    def noise(x: Array, k: PRNGKeyArray) -> Array:
        return x + p["level"] * jax.random.normal(k, (N,))

    corrupt = dict(zip(CORRUPTIONS, (mask, noise), strict=True))
    k_idx, k_c = jax.random.split(key)
    idx = jax.random.randint(k_idx, (p["cues"],), 0, P)

    def one(i: Array, k: PRNGKeyArray) -> Array:
        x = X[i]
        q = jax.lax.switch(p["corruption"], [corrupt[c] for c in CORRUPTIONS], x, k)
        out = jax.lax.switch(p["separation"], seps, jax.lax.switch(p["similarity"], sims, q)) @ X
        return out @ x / jnp.maximum(jnp.linalg.norm(out) * jnp.linalg.norm(x), 1e-12)

    cos = jax.vmap(one)(idx, jax.random.split(k_c, p["cues"]))
    cos = jnp.nan_to_num(cos, nan=0.0)
    return {
        "retrieved": jnp.mean((cos >= p["threshold"]).astype(jnp.float32)),
        "cosine": jnp.mean(cos),
    }


def _table(cfg: UHNImagesConfig, rows: list[Row], corruption: str | None = None) -> np.ndarray:
    T = np.zeros((len(cfg.similarity), len(cfg.separation)))
    for i, sim in enumerate(cfg.similarity):
        for j, sep in enumerate(cfg.separation):
            vals = [
                r["retrieved"]
                for r in rows
                if r["similarity"] == sim
                and r["separation"] == sep
                and (corruption is None or r["corruption"] == corruption)
            ]
            T[i, j] = np.mean(vals)
    return T


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Fraction retrieved per (similarity, separation), averaged over the other axes; the best."""
    cfg = ctx.cfg
    T = _table(cfg, rows)
    i, j = np.unravel_index(np.argmax(T), T.shape)
    return {
        "retrieved": {
            sim: {sep: float(T[a, b]) for b, sep in enumerate(cfg.separation)}
            for a, sim in enumerate(cfg.similarity)
        },
        "best": {
            "similarity": cfg.similarity[i],
            "separation": cfg.separation[j],
            "retrieved": float(T[i, j]),
        },
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``uhn_images.png``: a similarity × separation heat map per corruption."""
    cfg = ctx.cfg
    fig, axes = hplot.subplots(
        1, len(cfg.corruption), figsize=(6.2 * len(cfg.corruption), 4.4), constrained_layout=True
    )
    axes = np.atleast_1d(axes)
    for ax, corr in zip(axes, cfg.corruption, strict=True):
        T = _table(cfg, rows, corr)
        im = ax.imshow(T, vmin=0, vmax=1, cmap="viridis")
        for (a, b), v in np.ndenumerate(T):
            ax.text(
                b,
                a,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="w" if v < 0.6 else "k",
            )
        ax.set_xticks(range(len(cfg.separation)), cfg.separation, rotation=30)
        ax.set_yticks(range(len(cfg.similarity)), cfg.similarity)
        ax.set_title(f"cues: {corr}", fontsize=10)
    fig.colorbar(im, ax=axes.tolist(), shrink=0.8, label="fraction retrieved")
    sizes = ", ".join(map(str, cfg.P))
    levels = ", ".join(map(str, cfg.level))
    fig.suptitle(
        f"Fraction of cues retrieved (cos ≥ {cfg.threshold}), mean over P ∈ {{{sizes}}} "
        f"and corruption level ∈ {{{levels}}}"
    )
    return [ctx.save(fig, "uhn_images.png")]


EXPERIMENT = Experiment(
    name="uhn_images",
    config=UHNImagesConfig,
    fn=uhn_images_point,
    static=("P",),  # similarity, separation, corruption: traced indices (one program per P)
    key_exclude=("similarity", "separation"),  # every pair sees the same cues
    metrics=("retrieved", "cosine"),
    description="universal Hopfield networks on digits images: similarity × separation",
    report=Report(summarize=summarize, plot=plot, headline=("best", "retrieved")),
)
