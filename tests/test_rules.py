"""Tests for hopjax.rules: storage rules and Hebbian learning rules (Gerstner & Kistler 2002)."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopjax import patterns as hp
from hopjax import rules
from tests.conftest import enable_x64

KEY = jax.random.PRNGKey(0)


def test_hebbian_matches_outer_product_sum():
    xi = hp.random_bipolar(KEY, 7, 30)
    x = np.asarray(xi, dtype=np.float64)
    want = sum(np.outer(p, p) for p in x) / 30
    np.testing.assert_allclose(rules.hebbian(xi, keep_diagonal=True), want, atol=1e-6)
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(rules.hebbian(xi), want, atol=1e-6)


def _storkey_reference(xi: np.ndarray) -> np.ndarray:
    """Storkey (1997) written elementwise, straight from the formula (slow, for testing only)."""
    n = xi.shape[1]
    w = np.zeros((n, n))
    for x in xi:
        new = w.copy()
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                h_ij = sum(w[i, k] * x[k] for k in range(n) if k not in (i, j))
                h_ji = sum(w[j, k] * x[k] for k in range(n) if k not in (i, j))
                new[i, j] += (x[i] * x[j] - x[i] * h_ji - h_ij * x[j]) / n
        w = new
    return w


def test_storkey_vectorised_matches_elementwise_formula():
    xi = hp.random_bipolar(KEY, 5, 12)
    w = rules.storkey(xi)
    np.testing.assert_allclose(w, _storkey_reference(np.asarray(xi, np.float64)), atol=1e-5)
    np.testing.assert_allclose(w, w.T, atol=1e-6)
    np.testing.assert_array_equal(jnp.diag(w), 0)


def _step(w, s):
    return jnp.where(w @ s > 0, 1.0, jnp.where(w @ s < 0, -1.0, s))


def _pseudo_inverse_case(seed: int, p: int, n: int, correlated: bool, dtype) -> None:
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    xi = hp.random_bipolar(k1, p, n, dtype=dtype)
    if correlated:  # all patterns within 15% flips of one prototype: strongly correlated
        keys = jax.random.split(k2, p)
        xi = jax.vmap(partial(hp.flip, fraction=0.15))(keys, jnp.broadcast_to(xi[0], (p, n)))
    if np.linalg.matrix_rank(np.asarray(xi, np.float64)) < p:
        return  # dependent draw: covered by the error test below
    w = rules.pseudo_inverse(xi)
    np.testing.assert_array_equal(jax.vmap(partial(_step, w))(xi), xi)
    tol = 1e-3 if dtype == jnp.float32 else 1e-9
    np.testing.assert_allclose(rules.pseudo_inverse(xi, keep_diagonal=True) @ xi.T, xi.T, atol=tol)


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), p=st.sampled_from([1, 12, 30, 47]), correlated=st.booleans())
def test_pseudo_inverse_stores_any_independent_patterns_exactly(seed, p, correlated):
    """Every P < N independent patterns are fixed points (float64: exact up to P = N − 1).

    With the diagonal removed a pattern's margin is 1 − W_ii, which near P = N can be far below
    float32 round-off (P = 47, N = 48: the null vector v gives 1 − W_ii = v_i² ~ 1e-6).
    """
    with enable_x64():
        _pseudo_inverse_case(seed, p, 48, correlated, jnp.float64)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), p=st.sampled_from([5, 48, 96]), correlated=st.booleans())
def test_pseudo_inverse_stores_exactly_in_float32_up_to_three_quarter_load(seed, p, correlated):
    _pseudo_inverse_case(seed, p, 128, correlated, jnp.float32)


def test_pseudo_inverse_rejects_impossible_inputs():
    xi = hp.random_bipolar(KEY, 20, 20)
    with pytest.raises(ValueError, match="xi: the pseudo-inverse rule needs P < N"):
        rules.pseudo_inverse(xi)
    dup = hp.random_bipolar(KEY, 5, 20).at[4].set(hp.random_bipolar(KEY, 5, 20)[0])
    with pytest.raises(ValueError, match="xi: the 5 rows must be linearly independent"):
        rules.pseudo_inverse(dup)
    rules.pseudo_inverse(dup, allow_dependent=True)  # projector on the span: allowed
    with pytest.raises(Exception, match="linearly independent"):
        jax.jit(rules.pseudo_inverse)(dup).block_until_ready()  # eqx.error_if inside jit


def test_rule_registry():
    assert rules.get_rule("storkey") is rules.storkey
    assert rules.get_rule(rules.hebbian) is rules.hebbian
    with pytest.raises(ValueError, match="rule must be one of hebbian, pseudo_inverse, storkey"):
        rules.get_rule("hebbb")


def test_rules_reject_wrong_shapes_and_dtypes():
    with pytest.raises(TypeError, match="xi must be a floating-point array"):
        rules.hebbian(jnp.ones((3, 8), jnp.int32))
    with pytest.raises(ValueError, match="xi must have 2 dimension"):
        rules.storkey(jnp.ones(8))


# ----------------------------------------------------------------- learning rules


def test_activity_product_builds_the_correlation_matrix():
    """Seed 003 eqs. (2)–(4): W⁰ = 0, W ← W + ξξᵀ over the patterns gives ΞᵀΞ."""
    xi = hp.random_bipolar(KEY, 9, 40)
    w, hist = rules.learn(partial(rules.activity_product, eta=1 / 40), jnp.zeros((40, 40)), xi, xi)
    assert hist is None
    np.testing.assert_allclose(w, rules.hebbian(xi, keep_diagonal=True), atol=1e-6)


def test_expanded_form_reduces_to_activity_product_and_oja():
    """The activity product and Oja's rule are corners of the expanded rule."""
    k1, k2, k3 = jax.random.split(KEY, 3)
    w = 0.3 * jax.random.normal(k1, (5, 12))
    x = jax.random.normal(k2, (12,))
    y = jax.random.normal(k3, (5,))
    for eta in [0.01, 0.5]:
        ap = rules.HebbianCoefficients.activity_product(eta)
        np.testing.assert_allclose(
            rules.expanded_hebbian(w, x, y, coefficients=ap),
            rules.activity_product(w, x, y, eta=eta),
            rtol=1e-6,
        )
        oj = rules.HebbianCoefficients.oja(eta)
        for post in [y, None]:  # clamped post activity, and the linear neuron y = w x
            np.testing.assert_allclose(
                rules.expanded_hebbian(w, x, post, coefficients=oj),
                rules.oja(w, x, post, eta=eta),
                rtol=1e-5,
                atol=1e-6,
            )
    # Single post-synaptic neuron: w (N,), scalar y.
    np.testing.assert_allclose(
        rules.oja(w[0], x, eta=0.1),
        w[0] + 0.1 * (w[0] @ x) * (x - (w[0] @ x) * w[0]),
        rtol=1e-6,
    )


def _stream(key, t=6000):
    """Zero-mean Gaussian data with covariance C = A Aᵀ and a well separated top eigenvalue."""
    k1, k2 = jax.random.split(key)
    a = jnp.diag(jnp.array([2.0, 1.0, 0.7, 0.5, 0.3, 0.2])) @ jax.random.orthogonal(k1, 6)
    return jax.random.normal(k2, (t, 6)) @ a.T, a @ a.T


def test_oja_converges_to_first_principal_component():
    xs, cov = _stream(KEY)
    w0 = jax.random.normal(jax.random.PRNGKey(3), (6,)) * 0.1
    w, _ = jax.jit(lambda w0, xs: rules.learn(partial(rules.oja, eta=2e-3), w0, xs))(w0, xs)
    pc1 = np.linalg.eigh(np.asarray(cov, np.float64))[1][:, -1]
    assert abs(float(jnp.linalg.norm(w)) - 1) < 0.05  # Oja normalises the weights
    assert abs(float(w @ pc1)) / float(jnp.linalg.norm(w)) > 0.995


def test_activity_product_diverges_without_normalisation():
    xs, _ = _stream(KEY, t=2000)
    w0 = jnp.full((6,), 0.1)
    _, hist = rules.learn(partial(rules.activity_product, eta=2e-3), w0, xs, history=True)
    norms = jnp.linalg.norm(hist, axis=1)
    assert float(norms[-1]) > 1e3 * float(jnp.linalg.norm(w0))
    assert bool(jnp.all(jnp.diff(norms[100:]) > -1e-3 * norms[101:]))  # keeps growing


def test_learning_rules_vmap_over_streams_and_differentiate():
    keys = jax.random.split(KEY, 3)
    xs = jax.vmap(lambda k: _stream(k, 500)[0])(keys)
    ws, _ = jax.vmap(lambda x: rules.learn(partial(rules.oja, eta=1e-2), jnp.full(6, 0.2), x))(xs)
    assert ws.shape == (3, 6)

    def loss(c):
        w, _ = rules.learn(
            partial(rules.expanded_hebbian, coefficients=c), jnp.full(6, 0.2), xs[0][:50]
        )
        return jnp.sum(w**2)

    grads = jax.grad(loss)(rules.HebbianCoefficients.oja(1e-2))
    assert np.isfinite(np.asarray(grads.c2_corr)).all() and float(jnp.abs(grads.c2_corr[0])) > 0
