"""hopjax.lowrank: the Hebbian network held as its patterns equals the W-form bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hopjax as hj
from hopjax.lowrank import LowRankHebbian


def _cues(key, xi, count, fraction=0.2):
    keys = jax.random.split(key, count)
    cues = jax.vmap(lambda k, x: hj.flip(k, x, fraction=fraction))(keys, xi[:count])
    return cues.at[:, :5].set(0.0)  # a few unknown (masked) units too


def _run_all(model, cues, keys, mode):
    run = lambda s, k: hj.run(model, s, max_steps=30, mode=mode, key=k)  # noqa: E731
    return jax.jit(jax.vmap(run))(cues, keys)


def test_fields_and_runs_equal_the_hopfield_network():
    """Fields, synchronous and asynchronous runs of LowRankHebbian(xi) equal those of
    Hopfield.from_patterns(xi) (Hebbian, fields rounded to the 1/N lattice) exactly — also with
    a traced num_patterns against the network of the first rows; the energy agrees."""
    N, P = 120, 18
    xi = hj.random_bipolar(jax.random.PRNGKey(0), P, N)
    cues = _cues(jax.random.PRNGKey(1), xi, 8)
    keys = jax.random.split(jax.random.PRNGKey(2), 8)
    for stored in (P, 11):
        net = hj.Hopfield.from_patterns(xi[:stored])
        low = LowRankHebbian(xi, num_patterns=jnp.asarray(stored) if stored < P else None)
        assert isinstance(low, hj.AbstractBinaryMemory)
        np.testing.assert_array_equal(jax.vmap(low.field)(cues), jax.vmap(net.field)(cues))
        for mode in ("sync", "async"):
            a, b = (_run_all(m, cues, keys, mode) for m in (low, net))
            np.testing.assert_array_equal(a.state, b.state)
            np.testing.assert_array_equal(a.steps, b.steps)
        s = jnp.sign(cues[0] + 0.5)
        assert float(low.energy(s)) == pytest.approx(float(net.energy(s)), rel=1e-5)
    # a load sweep vmaps over num_patterns with one shape
    loads = jnp.asarray([3, 9, 18])
    fields = jax.vmap(lambda c: LowRankHebbian(xi, num_patterns=c).field(cues[0]))(loads)
    for f, c in zip(fields, (3, 9, 18), strict=True):
        np.testing.assert_array_equal(f, hj.Hopfield.from_patterns(xi[:c]).field(cues[0]))


def test_fields_are_exact_beyond_float32_integers():
    """Where Ξᵀ(Ξ s) leaves float32's exact integers (here 2.1·10⁷, odd) one float32 product
    is wrong at every unit; the split product still equals the integer computation. Sizes
    whose fields cannot be exact are refused."""
    N, P = 16384, 1401
    rand = hj.random_bipolar(jax.random.PRNGKey(3), P, N)
    xi = rand.at[:1301].set(rand[0])  # 1301 copies of one pattern: |Ξᵀ(Ξ s)| reaches 2.1e7
    s = rand[0].at[:100].multiply(-1.0).at[100].set(0.0)  # odd overlaps: odd sums
    xi_i, s_i = np.asarray(xi, np.int64), np.asarray(s, np.int64)
    want = xi_i.T @ (xi_i @ s_i) - P * s_i
    naive = np.asarray((xi.T @ (xi @ s)).astype(jnp.int32)) - P * s_i
    assert np.all(naive != want)  # one float32 product is not exact here
    np.testing.assert_array_equal(np.asarray(LowRankHebbian(xi).lattice_field(s)), want)
    with pytest.raises(ValueError, match="exact integer range"):
        jax.eval_shape(LowRankHebbian, jax.ShapeDtypeStruct((70000, 65536), jnp.float32))
