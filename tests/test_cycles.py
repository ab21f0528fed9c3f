"""Prime-ring construction, Brent cycle detection and the exhaustive census (seed 000, spec)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax.cycles import (
    PrimeRings,
    census,
    cluster_error_prob,
    find_cycle,
    noisy_survival,
    pack_bits,
    sign_step,
    sparsify,
    survival_exact,
)
from hopjax.patterns import random_bipolar


@pytest.mark.parametrize(("m", "primes"), [(1, (2, 3, 5)), (3, (2, 3)), (1, (3, 7)), (3, (2, 5))])
def test_census_equals_the_closed_forms(m, primes):
    """Every cycle of the prime-ring network, counted exhaustively over all 2^n states, matches
    the closed forms: Π(2 + (2^p − 2)/p) cycles, period Π p for Π (2^p − 2)/p of them, the full
    length distribution; every state reaches its cycle after ≤ 1 step."""
    net = PrimeRings(m, primes)
    W, b = net.weights()
    c = census(W, b)
    assert c.num_cycles == net.num_cycles
    assert c.length_counts() == net.cycle_length_counts()
    assert c.length_counts()[net.max_period] == net.num_max_period_cycles
    assert int(c.basin_sizes.sum()) == 2**net.n
    # transients ≤ 1: the image of one step already lies on cycles
    step = sign_step(W, b)
    s = jax.vmap(step)(random_bipolar(jax.random.PRNGKey(0), 64, net.n))
    assert bool(
        jnp.all(jax.vmap(step)(jax.vmap(step)(s)) == jax.vmap(net.step)(jax.vmap(net.step)(s)))
    )


def test_closed_forms_are_exact_integers_beyond_machine_range():
    net = PrimeRings(5, tuple(p for p in range(2, 200) if all(p % d for d in range(2, p))))
    assert net.num_cycles > 2**64 and isinstance(net.num_cycles, int)
    assert net.max_period == math.prod(net.primes)
    small = PrimeRings(3, (2, 3, 5, 7, 11, 13))
    assert sum(small.cycle_length_counts().values()) == small.num_cycles


def test_sparse_step_equals_dense_weights_and_names_are_invariant():
    net = PrimeRings(3, (2, 3, 5, 7))
    W, b = net.weights()
    s = random_bipolar(jax.random.PRNGKey(1), 32, net.n)
    dense = jax.vmap(sign_step(W, b))(s)
    np.testing.assert_array_equal(dense, jax.vmap(net.step)(s))
    for x in dense[:8]:
        assert net.cycle_name(x) == net.cycle_name(net.step(x))
        assert net.period_of(x) in (1, 2, 3, 5, 7, 6, 10, 14, 15, 21, 35, 30, 42, 70, 105, 210)


def test_find_cycle_brent_matches_the_construction():
    """Brent (vmapped over starts) finds transient ≤ 1 and the period Π of non-constant rings."""
    net = PrimeRings(3, (3, 5, 7, 11))
    starts = random_bipolar(jax.random.PRNGKey(2), 16, net.n)
    mu, lam, _, found = jax.jit(jax.vmap(lambda s: find_cycle(net.step, s)))(starts)
    assert bool(jnp.all(found)) and int(jnp.max(mu)) <= 1
    for i in range(16):
        assert int(lam[i]) == net.period_of(starts[i])
    assert int(jnp.max(lam)) == net.max_period  # random words are aperiodic w.h.p.


def test_find_cycle_reports_failure_within_max_steps():
    net = PrimeRings(1, (5, 7))
    *_, found = find_cycle(net.step, random_bipolar(jax.random.PRNGKey(3), 1, 12)[0], max_steps=8)
    assert not bool(found)


def test_symmetric_hopfield_census_has_only_fixed_points_and_two_cycles():
    """Goles: symmetric W with synchronous updates → periods 1 or 2 only (exhaustive, n = 14);
    random asymmetric Gaussian networks have longer cycles (measured, keys 4–8: every one has
    a cycle of length ≥ 4; up to 48)."""
    key = jax.random.PRNGKey(4)
    A = jax.random.normal(key, (14, 14))
    sym = (A + A.T) * (1 - jnp.eye(14))
    assert set(census(sym).length_counts()) <= {1, 2}
    for k in range(4, 9):
        A = jax.random.normal(jax.random.PRNGKey(k), (14, 14))
        assert max(census(A * (1 - jnp.eye(14))).length_counts()) >= 4


def test_pack_bits_and_bad_input():
    s = jnp.array([1.0, -1.0, 1.0] + [-1.0] * 30 + [1.0])
    words = pack_bits(s)
    assert words.shape == (2,) and int(words[0]) == 0b101 and int(words[1]) == 0b10
    with pytest.raises(ValueError, match="m must be an odd"):
        PrimeRings(2, (3, 5))
    with pytest.raises(ValueError, match="must be primes"):
        PrimeRings(3, (4, 5))
    with pytest.raises(ValueError, match="distinct"):
        PrimeRings(3, (5, 5))
    with pytest.raises(ValueError, match="n must be <= 24"):
        census(jnp.zeros((25, 25)))


def test_flip_noise_survival_matches_the_exact_formula():
    """Monte-Carlo survival over T steps under flip noise equals (1 − q(m, ε))^{T Σp} within
    4 binomial standard errors (2000 runs, m = 5, ε = 0.1, T = 10, primes 2, 3, 5)."""
    net = PrimeRings(5, (2, 3, 5))
    assert cluster_error_prob(5, 0.1) == pytest.approx(0.00856, abs=1e-5)
    assert cluster_error_prob(101, 0.3) < np.exp(-2 * 0.2**2 * 101)
    expected = survival_exact(net, 0.1, 10)
    runs = 2000
    keys = jax.random.split(jax.random.PRNGKey(5), runs)
    starts = random_bipolar(jax.random.PRNGKey(6), runs, net.n)
    ok = jax.jit(jax.vmap(lambda k, s: noisy_survival(net, k, s, 0.1, 10)))(keys, starts)
    se = np.sqrt(expected * (1 - expected) / runs)
    assert float(jnp.mean(ok)) == pytest.approx(expected, abs=4 * se)
    assert bool(
        jnp.all(jax.vmap(lambda k, s: noisy_survival(net, k, s, 0.0, 10))(keys[:8], starts[:8]))
    )


def test_sparsify_keeps_the_expected_fraction():
    W = jnp.ones((200, 200))
    kept = float(jnp.mean(sparsify(jax.random.PRNGKey(7), W, 0.3) != 0))
    assert kept == pytest.approx(0.3, abs=0.01)
