"""Sequence networks (the baselines of the prime-ring cycles; docs/notes/cycles.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax.cycles import census
from hopjax.patterns import random_bipolar
from hopjax.sequence import DenseSequence, SequenceHebbian, gaussian_couplings, recall_overlaps


def test_sequence_hebbian_capacity_matches_the_parallel_dynamics_value():
    """Sequence capacity of W = (1/n) Σ ξ^{μ+1} ξ^{μᵀ} with synchronous updates: the largest
    α = P/n at which the run started on ξ^0 keeps overlap ≥ 0.5 with ξ^t for 100 steps in half
    the networks. Literature (Düring, Coolen & Sherrington 1998): α_c = 0.269; measured at
    n = 1000 (8 networks per α, one compiled program vmapped over α via ``length``): within
    ±0.02 (finite-size shift and the α grid of 0.01)."""
    n, alphas = 1000, np.arange(0.22, 0.33, 0.01)
    lengths = jnp.asarray(np.round(alphas * n).astype(np.int32))
    Pmax = int(lengths.max())

    def recalled(L, key):
        model = SequenceHebbian(random_bipolar(key, Pmax, n), length=L)
        return jnp.min(recall_overlaps(model, 100)) >= 0.5

    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    frac = np.asarray(
        jax.jit(jax.vmap(lambda L: jnp.mean(jax.vmap(lambda k: recalled(L, k))(keys))))(lengths)
    )
    assert frac[0] == 1.0 and frac[-1] == 0.0
    i = int(np.argmax(frac < 0.5))  # first α below half
    alpha_c = alphas[i - 1] + (frac[i - 1] - 0.5) / (frac[i - 1] - frac[i]) * 0.01
    assert alpha_c == pytest.approx(0.269, abs=0.02), (alpha_c, frac)


def test_length_masks_the_unused_patterns():
    xi = random_bipolar(jax.random.PRNGKey(1), 12, 200)
    full = SequenceHebbian(xi[:5])
    masked = SequenceHebbian(xi, length=5)
    for a, b in zip(full.weights(), masked.weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    d_full, d_mask = DenseSequence(xi[:5], degree=3), DenseSequence(xi, degree=3, length=5)
    s = xi[2]
    np.testing.assert_array_equal(d_full.step(s), d_mask.step(s))
    e_full = DenseSequence(xi[:5], "exponential", beta=0.1)
    e_mask = DenseSequence(xi, "exponential", beta=0.1, length=5)
    np.testing.assert_array_equal(e_full.step(xi[4]), e_mask.step(xi[4]))
    assert bool(jnp.all(e_mask.step(xi[4]) == xi[0]))  # cyclic: ξ^4 → ξ^0


def test_dense_sequences_exceed_the_linear_capacity():
    """Chaudhry et al.: polynomial F (d = 3) recalls P = 2n transitions exactly at n = 100
    (Hebbian capacity ≈ 0.27 n); exponential F: P = 5000 at n = 64, no overflow."""
    xi = random_bipolar(jax.random.PRNGKey(2), 200, 100)
    assert float(jnp.min(recall_overlaps(DenseSequence(xi, degree=3), 200))) == 1.0
    assert float(jnp.min(recall_overlaps(SequenceHebbian(xi[:100]), 50))) < 0.5
    xi = random_bipolar(jax.random.PRNGKey(3), 5000, 64)
    m = recall_overlaps(DenseSequence(xi, "exponential"), 300)
    assert float(jnp.min(m)) == 1.0 and bool(jnp.all(jnp.isfinite(m)))


def test_sompolinsky_kanter_delay_holds_each_pattern_for_delay_plus_one_steps():
    """h = a J_sym s(t) + λ J_seq s(t − τ), a = 1, λ = 2, τ = 6: each pattern is held for
    τ + 1 = 7 steps, then the delayed term moves the state to the next one (cyclically)."""
    n, P, tau = 500, 5, 6
    xi = random_bipolar(jax.random.PRNGKey(1), P, n)
    traj = SequenceHebbian(xi, symmetric=1.0, lam=2.0, delay=tau).run(xi[0], 60)
    leader = np.argmax(np.asarray(traj @ xi.T / n), axis=1)
    expected = (1 + np.arange(60) // (tau + 1)) % P
    np.testing.assert_array_equal(leader, expected)


def test_sequence_hebbian_census_finds_the_stored_cycle():
    """Exhaustive census at n = 16: the stored sequence ξ^0 → ξ^1 → ξ^2 → ξ^0 is a cycle."""
    xi = random_bipolar(jax.random.PRNGKey(5), 3, 16)
    W, _ = SequenceHebbian(xi).weights()
    c = census(W)
    code = lambda s: int(np.sum((np.asarray(s) > 0) * (1 << np.arange(16))))  # noqa: E731
    labels = {int(c.ends_on[code(x)]) for x in xi}
    assert len(labels) == 1
    assert c.lengths[list(c.labels).index(labels.pop())] == 3


def test_noise_and_symmetry_of_the_couplings():
    J = gaussian_couplings(jax.random.PRNGKey(6), 50, symmetry=1.0)
    np.testing.assert_allclose(J, J.T, atol=1e-6)
    assert float(jnp.max(jnp.abs(jnp.diag(J)))) == 0.0
    J = gaussian_couplings(jax.random.PRNGKey(6), 400)
    assert float(jnp.corrcoef(J.ravel(), J.T.ravel())[0, 1]) == pytest.approx(0.0, abs=0.02)
    assert float(jnp.std(J) * 20) == pytest.approx(1.0, abs=0.02)
    xi = random_bipolar(jax.random.PRNGKey(7), 20, 400)
    clean = recall_overlaps(SequenceHebbian(xi), 20)
    noisy = recall_overlaps(SequenceHebbian(xi), 20, key=jax.random.PRNGKey(8), eps=0.1)
    assert float(jnp.min(clean)) > 0.99 and float(jnp.mean(noisy)) < float(jnp.mean(clean))


def test_bad_input_is_named():
    xi = random_bipolar(jax.random.PRNGKey(0), 4, 10)
    with pytest.raises(ValueError, match="at least 2 patterns"):
        SequenceHebbian(xi[:1])
    with pytest.raises(ValueError, match="xi must be bipolar"):
        SequenceHebbian(xi * 0.5)
    with pytest.raises(ValueError, match="length must lie in"):
        DenseSequence(xi, length=7)
    with pytest.raises(ValueError, match="separation"):
        DenseSequence(xi, "gaussian")
    with pytest.raises(ValueError, match="s0 has last axis"):
        SequenceHebbian(xi).run(jnp.ones(11), 5)
    with pytest.raises(ValueError, match="symmetry must lie"):
        gaussian_couplings(jax.random.PRNGKey(0), 5, symmetry=2.0)
