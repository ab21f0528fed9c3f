"""Tests for hopjax.patterns: memories, corruption and overlaps."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax import patterns as hp

KEY = jax.random.PRNGKey(0)


def test_random_bipolar_shape_dtype_values():
    xi = hp.random_bipolar(KEY, 50, 400)
    assert xi.shape == (50, 400) and xi.dtype == jnp.float32
    assert set(np.unique(np.asarray(xi))) == {-1.0, 1.0}
    assert abs(float(xi.mean())) < 0.02  # 20000 fair ±1 draws: std of the mean 0.007


def test_random_bipolar_depends_only_on_key():
    a = hp.random_bipolar(KEY, 3, 16)
    assert jnp.array_equal(a, hp.random_bipolar(KEY, 3, 16))
    assert not jnp.array_equal(a, hp.random_bipolar(jax.random.PRNGKey(1), 3, 16))


@pytest.mark.parametrize("activity", [0.05, 0.3])
def test_random_sparse_activity(activity):
    x = hp.random_sparse(KEY, 200, 500, activity)
    assert set(np.unique(np.asarray(x))) <= {0.0, 1.0}
    assert abs(float(x.mean()) - activity) < 0.01
    exact = hp.random_sparse(KEY, 20, 500, activity, exact=True)
    np.testing.assert_array_equal(exact.sum(1), round(activity * 500))


def test_hadamard_is_orthogonal():
    h = hp.hadamard(64)
    np.testing.assert_array_equal(h @ h.T, 64 * np.eye(64))
    assert set(np.unique(np.asarray(h))) == {-1.0, 1.0}


@pytest.mark.parametrize("key", [None, KEY])
def test_orthogonal_patterns(key):
    xi = hp.orthogonal_patterns(10, 32, key=key)
    assert xi.shape == (10, 32)
    np.testing.assert_array_equal(xi @ xi.T, 32 * np.eye(10))
    if key is None:
        np.testing.assert_array_equal(xi, hp.hadamard(32)[:10])


def test_flip_exact_count_and_fraction():
    s = hp.random_bipolar(KEY, 1, 1000)[0]
    for num in [0, 1, 37, 1000]:
        out = hp.flip(jax.random.PRNGKey(num), s, num=num)
        assert int(jnp.sum(out != s)) == num
    out = hp.flip(KEY, s, fraction=0.1)
    assert int(jnp.sum(out != s)) == 100
    loose = hp.flip(KEY, s, fraction=0.1, exact=False)
    assert 60 < int(jnp.sum(loose != s)) < 140  # Binomial(1000, 0.1): mean 100, std 9.5


def test_flip_vmaps_over_traced_counts():
    s = jnp.ones(64)
    nums = jnp.array([0, 3, 10, 64])
    keys = jax.random.split(KEY, 4)
    out = jax.jit(jax.vmap(lambda k, n: hp.flip(k, s, num=n)))(keys, nums)
    np.testing.assert_array_equal(jnp.sum(out != s, axis=1), nums)
    batch = jax.vmap(partial(hp.flip, fraction=0.25))(keys, jnp.ones((4, 64)))
    np.testing.assert_array_equal(jnp.sum(batch == -1, axis=1), 16)


def test_mask():
    s = hp.random_bipolar(KEY, 1, 200)[0]
    out = hp.mask(KEY, s, fraction=0.25)
    zero = out == 0
    assert int(zero.sum()) == 50
    np.testing.assert_array_equal(out[~zero], s[~zero])


def test_overlaps_single_and_batch():
    xi = hp.orthogonal_patterns(8, 16)
    np.testing.assert_allclose(hp.overlaps(xi, xi), np.eye(8))
    np.testing.assert_allclose(hp.overlaps(xi, xi[3]), np.eye(8)[3])
    assert hp.overlaps(xi, jnp.ones((2, 5, 16))).shape == (2, 5, 8)
    s = -xi[2].at[:4].multiply(-1)  # anti-aligned with 4 of 16 bits restored
    assert float(hp.overlaps(xi, s)[2]) == pytest.approx(-0.5)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="power of two"):
        hp.hadamard(12)
    with pytest.raises(ValueError, match="N must be a power of two"):
        hp.orthogonal_patterns(4, 12)
    with pytest.raises(ValueError, match="P must be <= N"):
        hp.orthogonal_patterns(40, 32)
    with pytest.raises(ValueError, match="P must be >= 1"):
        hp.random_bipolar(KEY, 0, 10)
    with pytest.raises(TypeError, match="N must be an integer"):
        hp.random_bipolar(KEY, 3, 10.0)
    with pytest.raises(ValueError, match="activity must lie in"):
        hp.random_sparse(KEY, 3, 10, 1.5)
    s = jnp.ones(10)
    with pytest.raises(ValueError, match="num must be <= N"):
        hp.flip(KEY, s, num=11)
    with pytest.raises(ValueError, match="fraction must lie in"):
        hp.flip(KEY, s, fraction=-0.1)
    with pytest.raises(ValueError, match="exactly one of"):
        hp.flip(KEY, s, num=1, fraction=0.1)
    with pytest.raises(ValueError, match="s has last axis 9"):
        hp.overlaps(jnp.ones((2, 10)), jnp.ones(9))
