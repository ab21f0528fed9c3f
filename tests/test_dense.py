"""Dense associative memories, modern Hopfield, Minerva2, universal Hopfield (hopjax.dense)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax import rules
from hopjax.classical import Hopfield, run
from hopjax.dense import DenseAM, Minerva2, ModernHopfield, UniversalHopfield
from hopjax.patterns import flip, random_bipolar

XI = random_bipolar(jax.random.PRNGKey(0), 12, 64)
S = random_bipolar(jax.random.PRNGKey(1), 6, 64)


def test_degree_two_is_the_classical_hebbian_network():
    """F_2 = x²/2: the exact update is sgn(Σ_μ ξ^μ_i (ξ^μ·σ − ξ^μ_i σ_i)) = the zero-diagonal
    Hebbian field (Krotov & Hopfield 2016), synchronous and asynchronous (same order)."""
    dam, hop = DenseAM(XI, degree=2), Hopfield(rules.hebbian(XI))
    np.testing.assert_array_equal(jax.vmap(dam.step)(S), jax.vmap(hop.step)(S))
    k = jax.random.PRNGKey(2)
    for s in S[:3]:
        np.testing.assert_array_equal(dam.async_sweep(s, k), hop.async_sweep(s, k))


@pytest.mark.parametrize("sep", ["polynomial", "rectified", "exponential"])
def test_exact_update_picks_the_lower_energy_and_async_never_increases_it(sep):
    dam = DenseAM(XI, sep, degree=3, beta=0.3)
    s = S[0]
    h = np.asarray(dam.field(s))
    for i in range(64):
        dE = float(dam.energy(s.at[i].set(-1.0)) - dam.energy(s.at[i].set(1.0)))
        assert np.sign(h[i]) == np.sign(dE), (i, h[i], dE)  # flip toward the lower energy
    energies = [float(dam.energy(s))]
    for t in range(5):
        s = dam.async_sweep(s, jax.random.PRNGKey(10 + t))
        energies.append(float(dam.energy(s)))
    assert all(b <= a + 1e-4 * abs(a) for a, b in itertools.pairwise(energies))


def test_exponential_dam_retrieves_a_thousand_patterns_at_n64():
    """Demircigil et al.: exponential capacity. N = 64, P = 1000 (15.6 N) random patterns, cues
    with 10% flipped bits: ≥ 99% return exactly (measured 100%)."""
    xi = random_bipolar(jax.random.PRNGKey(5), 1000, 64)
    dam = DenseAM(xi, "exponential")
    keys = jax.random.split(jax.random.PRNGKey(6), 1000)
    cues = jax.vmap(lambda k, x: flip(k, x, fraction=0.1))(keys, xi)
    res = jax.jit(jax.vmap(lambda c: run(dam, c, max_steps=20)))(cues)
    assert float(jnp.mean(jnp.all(res.state == xi, axis=1))) >= 0.99


@pytest.mark.slow
def test_no_overflow_at_n1000_p1e5():
    xi = random_bipolar(jax.random.PRNGKey(7), 100_000, 1000)
    for dam in (DenseAM(xi, "exponential"), DenseAM(xi, "polynomial", degree=4)):
        cue = flip(jax.random.PRNGKey(8), xi[3], fraction=0.1)
        h = dam.field(cue)
        assert bool(jnp.all(jnp.isfinite(h)))
        assert bool(jnp.isfinite(dam.energy(cue)))
    assert bool(jnp.all(DenseAM(xi, "exponential").step(cue) == xi[3]))


def test_num_patterns_masks_like_truncation():
    for sep in ("polynomial", "exponential"):
        full, masked = DenseAM(XI[:5], sep), DenseAM(XI, sep, num_patterns=5)
        np.testing.assert_allclose(full.field(S[0]), masked.field(S[0]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(full.energy(S[0]), masked.energy(S[0]), rtol=1e-6)
        k = jax.random.PRNGKey(3)
        np.testing.assert_array_equal(full.async_sweep(S[1], k), masked.async_sweep(S[1], k))


def test_modern_hopfield_softmax_step_large_and_small_beta():
    """One step = Xᵀ softmax(β X q) (numpy); β = 8 retrieves a stored pattern from a noisy
    query in one step; β = 1e-3 gives the global average (metastable: no pattern dominates)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 32)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    q = X[3] + 0.1 * rng.normal(size=32).astype(np.float32)
    for beta in (0.5, 8.0):
        z = beta * X @ q
        w = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(ModernHopfield(X, beta).step(q), w @ X, rtol=1e-5, atol=1e-6)
    big = ModernHopfield(X * 4.0, beta=8.0)  # well-separated stored patterns
    np.testing.assert_allclose(big.step(q * 4.0), X[3] * 4.0, atol=1e-3)
    assert not bool(big.is_metastable(q * 4.0))
    small = ModernHopfield(X, beta=1e-3)
    np.testing.assert_allclose(small.step(q), X.mean(axis=0), atol=1e-3)
    assert bool(small.is_metastable(q))
    m = ModernHopfield(X, beta=2.0)
    q1, _ = m.retrieve(q)
    assert float(m.energy(q1)) <= float(m.energy(q)) + 1e-6
    assert float(jnp.min(big.separation())) > 0


def test_minerva2_echo_by_hand():
    T = jnp.array([[1.0, -1.0, 0.0, 1.0], [0.0, 1.0, 1.0, -1.0]])
    p = jnp.array([1.0, -1.0, 0.0, 0.0])
    m = Minerva2(T)
    S_ = np.array([2 / 3, -1 / 4])  # N_R = 3 and 4 features relevant
    np.testing.assert_allclose(m.similarity(p), S_, rtol=1e-6)
    intensity, content = m.echo(p)
    assert float(intensity) == pytest.approx(float(np.sum(S_**3)))
    np.testing.assert_allclose(content, (S_**3) @ np.asarray(T), rtol=1e-6)


def test_universal_hopfield_instances_coincide_with_the_dedicated_classes():
    classical = Hopfield(rules.hebbian(XI, keep_diagonal=True))
    uhn = UniversalHopfield(XI, similarity="dot", separation="identity")
    np.testing.assert_array_equal(jax.vmap(uhn.step)(S), jax.vmap(classical.step)(S))
    for n in (3, 4):
        dam = DenseAM(XI, degree=n, update="gradient")
        uhn = UniversalHopfield(XI, similarity="dot", separation="polynomial", degree=n - 1)
        np.testing.assert_array_equal(jax.vmap(uhn.step)(S), jax.vmap(dam.step)(S))
    X = XI / 8.0
    np.testing.assert_allclose(
        UniversalHopfield(X, separation="softmax", beta=3.0)(S[0] / 8),
        ModernHopfield(X, 3.0).step(S[0] / 8),
        rtol=1e-6,
    )
    uhn = UniversalHopfield(XI, similarity="cosine", separation="polynomial", degree=3)
    np.testing.assert_array_equal(jax.vmap(uhn.step)(S), jax.vmap(Minerva2(XI).step)(S))
    top1 = UniversalHopfield(XI, separation="max")(flip(jax.random.PRNGKey(4), XI[2], num=5))
    np.testing.assert_array_equal(top1, XI[2])
    hetero = UniversalHopfield(XI, projection=jnp.eye(12), separation="max")
    assert int(jnp.argmax(hetero(XI[7]))) == 7
    for sim in ("euclidean", "manhattan"):
        out = UniversalHopfield(XI, similarity=sim, separation="topk", degree=1)(XI[5])
        assert bool(jnp.all(jnp.sign(out) == jnp.sign(XI[5])))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="xi must be bipolar"):
        DenseAM(XI * 0.5)
    with pytest.raises(ValueError, match="separation must be"):
        DenseAM(XI, "cubic")
    with pytest.raises(ValueError, match="num_patterns must lie"):
        DenseAM(XI, num_patterns=13)
    with pytest.raises(ValueError, match="beta must be > 0"):
        ModernHopfield(XI, beta=0.0)
    with pytest.raises(ValueError, match="q has last axis"):
        ModernHopfield(XI).step(jnp.ones(5))
    with pytest.raises(ValueError, match="projection must have P = 12 rows"):
        UniversalHopfield(XI, projection=jnp.eye(5))
    with pytest.raises(ValueError, match="traces must be bipolar"):
        Minerva2(XI * 2)


def test_modern_hopfield_update_is_a_gradient_step_on_its_energy():
    """Ramsauer et al.: ∇E(q) = q − Xᵀ softmax(β X q), so the update is q − ∇E (jax.grad)."""
    X = jax.random.normal(jax.random.PRNGKey(9), (10, 16)) / 4
    m = ModernHopfield(X, beta=2.0)
    q = jax.random.normal(jax.random.PRNGKey(10), (16,))
    np.testing.assert_allclose(q - jax.grad(m.energy)(q), m.step(q), rtol=1e-5, atol=1e-6)
    g = jax.grad(lambda b: jnp.sum(ModernHopfield(X, b).step(q)))(2.0)
    assert bool(jnp.isfinite(g))
