"""Experiment ``digits_mil``: multiple-instance learning on bags of digits with a Hopfield pooling
layer — does a sparse normaliser's attention pick the instances that make a bag positive?

A bag is ``bag_size`` images of scikit-learn's digits (64 pixels scaled to [0, 1]); it is
positive when it holds the ``target`` digit (the *witnesses*). Bags are drawn fresh at every
training step from a seed's training images: half positive, with 1 to ``max_witnesses``
witnesses at random places, the rest non-target images; negative bags hold no target. A fixed
set of ``test_bags`` is drawn the same way from the held-out images (``test_fraction`` of the
1797). The model is :class:`hopjax.nn.HopfieldPooling` (``num_queries`` learned queries; the
grid key ``normalizer`` sets its normaliser) followed by a linear map to one logit, trained with
optax AdamW on the logistic loss for ``steps`` steps (a ``lax.scan``; the seeds train as one
vmapped program, and a seed's split, bags and initial weights are the same for every
normaliser).

Metrics on the test bags: ``test_accuracy``; on the positive ones, ``witness_mass`` (the
attention weight that falls on witnesses, mean over queries and bags) and ``witness_top`` (the
fraction whose most-attended instance is a witness); on all, ``support`` (instances with
nonzero weight per query; ``bag_size`` for softmax).

The task follows the multiple-instance benchmarks of Ilse, Tomczak & Welling (ICML 2018,
arXiv:1802.04712), which Santos et al. (ICML 2024, arXiv:2402.13725) use for their sparse
Hopfield pooling: sparse normalisers give the witnesses the attention and zero weight to most
other instances.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, PRNGKeyArray

from hopjax import plot as hplot
from hopjax.nn import HopfieldPooling
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

from ._common import train_adamw

N_IMAGES = 1797


@functools.lru_cache(maxsize=1)
def images() -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: the digits as ``(1797, 64)`` pixel rows in [0, 1] and their labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int32)


class BagClassifier(eqx.Module):
    """``Linear(HopfieldPooling(bag))``: one logit per bag."""

    pool: HopfieldPooling
    head: eqx.nn.Linear

    def __init__(
        self,
        *,
        num_queries: int = 1,
        hidden: int = 32,
        normalizer: str = "softmax",
        key: PRNGKeyArray,
    ):
        k1, k2 = jax.random.split(key)
        self.pool = HopfieldPooling(
            64, hidden_size=hidden, num_queries=num_queries, normalizer=normalizer, key=k1
        )
        self.head = eqx.nn.Linear(64 * num_queries, "scalar", key=k2)

    def __call__(self, bag: Array) -> Array:
        return self.head(self.pool(bag))


@dataclasses.dataclass
class DigitsMILConfig(SweepConfig):
    """Config of ``digits_mil`` (grid key: normalizer)."""

    normalizer: list[Literal["softmax", "sparsemax", "entmax", "normmax"]] = dataclasses.field(
        default_factory=lambda: ["softmax", "sparsemax", "entmax", "normmax"]
    )
    """The pooling layer's normaliser(s) (:mod:`hopjax.normalizers`)."""
    seeds: int = 4
    target: int = param(9, ge=0, le=9)
    """The digit that makes a bag positive."""
    bag_size: int = param(10, ge=2)
    max_witnesses: int = param(2, ge=1)
    """A positive bag holds 1 … this many target images."""
    steps: int = param(1500, ge=1)
    batch: int = param(64, ge=1)
    """Bags per training step."""
    test_bags: int = param(500, ge=2)
    learning_rate: float = param(3e-3, gt=0)
    weight_decay: float = param(0.01, ge=0)
    num_queries: int = param(1, ge=1)
    hidden: int = param(32, ge=1)
    test_fraction: float = param(0.3, gt=0, lt=1)

    def check(self) -> None:
        super().check()
        if self.max_witnesses > self.bag_size:
            raise ConfigError(
                f"'max_witnesses' must be <= 'bag_size' ({self.bag_size}); "
                f"got {self.max_witnesses}."
            )

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params): the images."""
        X, y = images()
        return {"X": X, "y": y, "n_test": round(self.test_fraction * N_IMAGES)}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 64 << 20


def draw_bags(
    key: PRNGKeyArray, p: dict[str, Any], y: Array, pool: Array, n: int
) -> tuple[Array, Array, Array]:
    """``n`` bags of image indices drawn from the images where ``pool`` is true: ``(idx (n, L),
    witness (n, L), label (n,))`` — half positive (1 … ``max_witnesses`` witnesses, placed at
    random), the rest of every bag non-target images."""
    L = p["bag_size"]
    k_lab, k_num, k_pos, k_w, k_o = jax.random.split(key, 5)
    label = jax.random.bernoulli(k_lab, 0.5, (n,))
    count = jax.random.randint(k_num, (n,), 1, p["max_witnesses"] + 1) * label
    place = jnp.argsort(jax.random.uniform(k_pos, (n, L)), axis=1)  # a random order per bag
    witness = place < count[:, None]
    is_target = y == p["target"]
    p_w = (pool & is_target).astype(jnp.float32)
    p_o = (pool & ~is_target).astype(jnp.float32)
    idx_w = jax.random.choice(k_w, y.shape[0], (n, L), p=p_w / jnp.sum(p_w))
    idx_o = jax.random.choice(k_o, y.shape[0], (n, L), p=p_o / jnp.sum(p_o))
    return jnp.where(witness, idx_w, idx_o), witness, label


def digits_mil_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Split, train and evaluate one bag classifier (described in :mod:`experiments.digits_mil`)."""
    k_split, k_test, k_init, k_train = jax.random.split(key, 4)
    X, y = jnp.asarray(p["X"]), jnp.asarray(p["y"])
    perm = jax.random.permutation(k_split, N_IMAGES)
    test = jnp.zeros(N_IMAGES, bool).at[perm[: p["n_test"]]].set(True)
    model = BagClassifier(
        num_queries=p["num_queries"], hidden=p["hidden"], normalizer=p["normalizer"], key=k_init
    )

    def loss(model: BagClassifier, bags: Array, label: Array) -> Array:
        logits = jax.vmap(model)(bags)
        return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, label.astype(jnp.float32)))

    def draw(k: PRNGKeyArray) -> tuple[Array, Array]:
        idx, _, label = draw_bags(k, p, y, ~test, p["batch"])
        return X[idx], label

    trained, losses = train_adamw(model, loss, draw, p, k_train)
    idx, witness, label = draw_bags(k_test, p, y, test, p["test_bags"])
    bags = X[idx]
    correct = (jax.vmap(trained)(bags) > 0) == label
    att = jax.vmap(trained.pool.association)(bags)  # (n, [H,] nq, L)
    att = att.reshape(att.shape[0], -1, att.shape[-1])  # (n, heads·queries, L)
    mass = jnp.mean(jnp.sum(att * witness[:, None, :], axis=-1), axis=1)
    top = jnp.mean(jnp.take_along_axis(witness, jnp.argmax(att, axis=-1), axis=1), axis=1)
    pos = label.astype(jnp.float32)
    return {
        "test_accuracy": jnp.mean(correct.astype(jnp.float32)),
        "witness_mass": jnp.sum(pos * mass) / jnp.sum(pos),
        "witness_top": jnp.sum(pos * top) / jnp.sum(pos),
        "support": jnp.mean(jnp.sum(att > 0, axis=-1).astype(jnp.float32)),
        "final_loss": jnp.mean(losses[-20:]),
    }


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Per normaliser (``by_normalizer``): each metric's mean, min and max over seeds."""
    by: dict[str, Any] = {}
    for name in ctx.cfg.normalizer:
        sel = [r for r in rows if r["normalizer"] == name]
        by[name] = {
            m: {
                "mean": float(np.mean([r[m] for r in sel])),
                "min": float(np.min([r[m] for r in sel])),
                "max": float(np.max([r[m] for r in sel])),
            }
            for m in ("test_accuracy", "witness_mass", "witness_top", "support")
        }
    return {
        "by_normalizer": by,
        "target": ctx.cfg.target,
        "bag_size": ctx.cfg.bag_size,
        "test_bags": ctx.cfg.test_bags,
        "seeds": ctx.cfg.seeds,
    }


def plot(ctx: RunContext, rows: list[Row], summary: dict[str, Any]) -> list[Path]:
    """``digits_mil.png``: per normaliser, test accuracy, the attention on witnesses and the
    attention's support (every seed a dot, the mean a bar)."""
    names = list(ctx.cfg.normalizer)
    fig, axes = hplot.subplots(1, 3, figsize=(11.0, 3.4), constrained_layout=True)
    colors = hplot.colormap("tab10")
    panels = (
        ("test_accuracy", "bag test accuracy", (0.5, 1.0)),
        ("witness_mass", "attention on witnesses (positive bags)", (0.0, 1.0)),
        ("support", "instances with nonzero weight", (0, ctx.cfg.bag_size + 0.5)),
    )
    for ax, (metric, title, ylim) in zip(axes, panels, strict=True):
        for i, name in enumerate(names):
            vals = [r[metric] for r in rows if r["normalizer"] == name]
            ax.bar(i, np.mean(vals), color=colors(i), alpha=0.6)
            ax.plot([i] * len(vals), vals, "o", color="black", ms=3)
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.set(title=title, ylim=ylim)
    fig.suptitle(
        f"Bags of {ctx.cfg.bag_size} digits, positive if one holds a {ctx.cfg.target}",
        fontsize=10,
    )
    return [ctx.save(fig, "digits_mil.png")]


EXPERIMENT = Experiment(
    name="digits_mil",
    config=DigitsMILConfig,
    fn=digits_mil_point,
    static=("normalizer",),
    metrics=("test_accuracy", "witness_mass", "witness_top", "support", "final_loss"),
    key_exclude=("normalizer",),
    description="Multiple-instance digit bags: Hopfield pooling with each normaliser",
    report=Report(
        summarize=summarize,
        plot=plot,
        headline=("by_normalizer",),
    ),
)
