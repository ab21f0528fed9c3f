"""Digits classifier with a Hopfield pooling layer (issue 9's layer demonstration).

Each 8 × 8 digits image (scikit-learn, 1797 images) is a *set* of 8 row tokens: the row's 8
pixel values (scaled to [0, 1]) and a one-hot of the row index (16 features). A
:class:`hopjax.layers.HopfieldPooling` with ``num_queries`` learned state patterns pools the set;
an ``eqx.nn.MLP`` maps the pooled vector to 10 logits. Trained with optax Adam (cosine-decayed
learning rate, weight decay) on a fixed train/test split (``test_fraction``); reports the test
accuracy.

Run: ``python -m hopjax.experiments.digits_pooling`` (a minute or two on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, PRNGKeyArray

from hopjax.layers import HopfieldPooling


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

    def __init__(self, *, num_queries: int = 4, hidden: int = 32, key: PRNGKeyArray):
        k1, k2 = jax.random.split(key)
        self.pool = HopfieldPooling(16, hidden_size=hidden, num_queries=num_queries, key=k1)
        self.head = eqx.nn.MLP(16 * num_queries, 10, 64, 1, key=k2)

    def __call__(self, x: Array) -> Array:
        return self.head(self.pool(x))


def train(
    *,
    steps: int = 2000,
    batch: int = 128,
    lr: float = 3e-3,
    num_queries: int = 4,
    weight_decay: float = 0.05,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> dict[str, Any]:
    """Train and evaluate; returns test accuracy, final loss and timings."""
    X, y = tokens()
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    n_test = round(test_fraction * len(X))
    test, tr = perm[:n_test], perm[n_test:]
    Xtr, ytr, Xte, yte = map(jnp.asarray, (X[tr], y[tr], X[test], y[test]))
    key = jax.random.PRNGKey(seed)
    model = Classifier(num_queries=num_queries, key=key)
    schedule = optax.cosine_decay_schedule(lr, steps)
    opt = optax.adamw(schedule, weight_decay=weight_decay)
    state = opt.init(eqx.filter(model, eqx.is_array))

    def loss_fn(m: Classifier, xb: Array, yb: Array) -> Array:
        logits = jax.vmap(m)(xb)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, yb))

    @eqx.filter_jit
    def step(m: Classifier, s: Any, k: PRNGKeyArray) -> tuple[Classifier, Any, Array]:
        idx = jax.random.choice(k, Xtr.shape[0], (batch,), replace=False)
        val, g = eqx.filter_value_and_grad(loss_fn)(m, Xtr[idx], ytr[idx])
        upd, s = opt.update(g, s, eqx.filter(m, eqx.is_array))
        return eqx.apply_updates(m, upd), s, val

    t0 = time.perf_counter()
    losses = []
    for k in jax.random.split(jax.random.PRNGKey(seed + 1), steps):
        model, state, val = step(model, state, k)
        losses.append(float(val))
    acc = float(jnp.mean(jnp.argmax(jax.vmap(model)(Xte), axis=1) == yte))
    return {
        "test_accuracy": acc,
        "final_loss": float(np.mean(losses[-20:])),
        "first_loss": losses[0],
        "train_seconds": time.perf_counter() - t0,
        "test_images": n_test,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    res = train(steps=args.steps, seed=args.seed)
    print(
        f"test accuracy {res['test_accuracy']:.3f} on {res['test_images']} images "
        f"(loss {res['first_loss']:.2f} -> {res['final_loss']:.3f}, {res['train_seconds']:.0f} s)"
    )


if __name__ == "__main__":
    main()
