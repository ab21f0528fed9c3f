"""Experiment ``digits_pooling``: a digits classifier with a Hopfield pooling layer.

Each 8 × 8 image of scikit-learn's digits set (1797 images shipped with the package) is a *set*
of 8 row tokens: the row's 8 pixel values (scaled to [0, 1]) and a one-hot of the row index (16
features). A :class:`hopjax.nn.HopfieldPooling` with ``num_queries`` learned state patterns pools
the set; an ``eqx.nn.MLP`` maps the pooled vector to 10 logits. Per seed: a random train/test
split (``test_fraction`` held out), optax AdamW (cosine-decayed learning rate, weight decay) for
``steps`` minibatch steps — a ``lax.scan``, so the seeds train as one vmapped program. Metrics:
``test_accuracy``, ``first_loss`` and ``final_loss`` (mean of the last 20 steps). The grid key
``normalizer`` picks the pooling layer's normaliser (:mod:`hopjax.normalizers`); a seed's split
and initial weights are the same for every normaliser.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, PRNGKeyArray

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


@functools.lru_cache(maxsize=1)
def tokens() -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: images as ``(1797, 8, 16)`` row tokens and their labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rows = (d.images / 16.0).astype(np.float32)  # (n, 8, 8)
    pos = np.broadcast_to(np.eye(8, dtype=np.float32), (len(rows), 8, 8))
    return np.concatenate([rows, pos], axis=-1), d.target.astype(np.int32)


class Classifier(eqx.Module):
    """``MLP(HopfieldPooling(tokens))``."""

    pool: HopfieldPooling
    head: eqx.nn.MLP

    def __init__(
        self,
        *,
        num_queries: int = 4,
        hidden: int = 32,
        normalizer: str = "softmax",
        key: PRNGKeyArray,
    ):
        k1, k2 = jax.random.split(key)
        self.pool = HopfieldPooling(
            16, hidden_size=hidden, num_queries=num_queries, normalizer=normalizer, key=k1
        )
        self.head = eqx.nn.MLP(16 * num_queries, 10, 64, 1, key=k2)

    def __call__(self, x: Array) -> Array:
        return self.head(self.pool(x))


@dataclasses.dataclass
class DigitsPoolingConfig(SweepConfig):
    """Config of ``digits_pooling`` (grid key: normalizer)."""

    normalizer: list[Literal["softmax", "sparsemax", "entmax", "normmax"]] = dataclasses.field(
        default_factory=lambda: ["softmax"]
    )
    """The pooling layer's normaliser(s) (:mod:`hopjax.normalizers`)."""
    seeds: int = 4
    steps: int = param(2000, ge=1)
    batch: int = param(128, ge=1)
    learning_rate: float = param(3e-3, gt=0)
    weight_decay: float = param(0.05, ge=0)
    num_queries: int = param(4, ge=1)
    hidden: int = param(32, ge=1)
    test_fraction: float = param(0.25, gt=0, lt=1)

    def check(self) -> None:
        super().check()
        n_train = 1797 - round(self.test_fraction * 1797)
        if self.batch > n_train:
            raise ConfigError(f"'batch' = {self.batch} exceeds the {n_train} training images.")

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (added to its rows' params)."""
        X, y = tokens()
        return {"X": X, "y": y, "n_test": round(self.test_fraction * len(X))}

    def row_bytes(self, p: Params) -> int:
        """Memory of one row of a static group (chunk sizing)."""
        return 64 << 20


def digits_pooling_point(p: dict[str, Any], key: PRNGKeyArray) -> dict[str, Array]:
    """Split, train (``lax.scan`` over steps) and evaluate one classifier (described in
    :mod:`experiments.digits_pooling`)."""
    k_split, k_init, k_train = jax.random.split(key, 3)
    X, y, n_test = jnp.asarray(p["X"]), jnp.asarray(p["y"]), p["n_test"]
    perm = jax.random.permutation(k_split, X.shape[0])
    Xte, yte, Xtr, ytr = X[perm[:n_test]], y[perm[:n_test]], X[perm[n_test:]], y[perm[n_test:]]
    model = Classifier(
        num_queries=p["num_queries"], hidden=p["hidden"], normalizer=p["normalizer"], key=k_init
    )

    def loss(model: Classifier, xb: Array, yb: Array) -> Array:
        logits = jax.vmap(model)(xb)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, yb))

    def draw(k: PRNGKeyArray) -> tuple[Array, Array]:
        idx = jax.random.choice(k, Xtr.shape[0], (p["batch"],), replace=False)
        return Xtr[idx], ytr[idx]

    trained, losses = train_adamw(model, loss, draw, p, k_train)
    acc = jnp.mean(jnp.argmax(jax.vmap(trained)(Xte), axis=1) == yte)
    return {
        "test_accuracy": acc.astype(jnp.float32),
        "first_loss": losses[0],
        "final_loss": jnp.mean(losses[-20:]),
    }


def summarize(ctx: RunContext, rows: list[Row]) -> dict[str, Any]:
    """Test accuracy over seeds (min, mean, max; over every row) and per normaliser
    (``by_normalizer``), and the held-out image count."""
    acc = np.array([r["test_accuracy"] for r in rows])
    by = {}
    for name in ctx.cfg.normalizer:
        a = np.array([r["test_accuracy"] for r in rows if r["normalizer"] == name])
        by[name] = {"min": float(a.min()), "mean": float(a.mean()), "max": float(a.max())}
    return {
        "test_accuracy_min": float(acc.min()),
        "test_accuracy_mean": float(acc.mean()),
        "test_accuracy_max": float(acc.max()),
        "by_normalizer": by,
        "test_images": round(ctx.cfg.test_fraction * 1797),
        "seeds": ctx.cfg.seeds,
    }


EXPERIMENT = Experiment(
    name="digits_pooling",
    config=DigitsPoolingConfig,
    fn=digits_pooling_point,
    static=("normalizer",),
    metrics=("test_accuracy", "first_loss", "final_loss"),
    key_exclude=("normalizer",),
    description="digits as token sets: HopfieldPooling + MLP classifier trained with optax",
    report=Report(
        summarize=summarize,
        headline=("test_accuracy_mean", "test_accuracy_min", "test_accuracy_max"),
    ),
)
