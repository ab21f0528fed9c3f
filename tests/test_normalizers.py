"""Normalisers (hopjax.normalizers) against brute-force references, their derivatives against
finite differences, their Fenchel–Young conjugates, and the sparse modern Hopfield models and
layers built on them (energy descent, exact one-step retrieval)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hopjax as hj
from hopjax.normalizers import Normalizer, entmax, get_normalizer, normmax, sparsemax
from tests.conftest import enable_x64

RNG = np.random.default_rng(0)
Z = RNG.normal(size=(6, 9)) * 0.8


def _project(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the simplex (Held et al. 1974; sort and threshold)."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    k = np.arange(1, len(v) + 1)
    r = k[u - (css - 1) / k > 0][-1]
    return np.maximum(v - (css[r - 1] - 1) / r, 0.0)


def _bisect(mass, lo: float, hi: float) -> float:
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mass(mid) >= 1 else (lo, mid)
    return 0.5 * (lo + hi)


def _entmax_ref(v: np.ndarray, a: float) -> np.ndarray:
    zs = (a - 1) * v
    tau = _bisect(lambda t: np.sum(np.maximum(zs - t, 0) ** (1 / (a - 1))), zs.max() - 1, zs.max())
    p = np.maximum(zs - tau, 0) ** (1 / (a - 1))
    return p / p.sum()


def _normmax_ref(v: np.ndarray, g: float) -> np.ndarray:
    q = g / (g - 1)
    tau = _bisect(lambda t: np.sum(np.maximum(v - t, 0) ** q), v.max() - 1, v.max())
    w = np.maximum(v - tau, 0) ** (1 / (g - 1))
    return w / w.sum()


def test_sparsemax_is_the_euclidean_projection_onto_the_simplex():
    with enable_x64():
        got = np.asarray(sparsemax(jnp.asarray(Z)))
        np.testing.assert_allclose(got, [_project(v) for v in Z], atol=1e-14)
        np.testing.assert_array_equal(np.asarray(entmax(jnp.asarray(Z), 2.0)), got)
    assert (got == 0).any() and np.allclose(got.sum(-1), 1)


@pytest.mark.parametrize("alpha", [1.25, 1.5, 1.75])
def test_entmax_matches_a_float64_bisection(alpha):
    with enable_x64():
        got = np.asarray(entmax(jnp.asarray(Z), alpha))
    np.testing.assert_allclose(got, [_entmax_ref(v, alpha) for v in Z], atol=1e-12)
    # float32: within a few roundings of the float64 answer
    np.testing.assert_allclose(np.asarray(entmax(Z.astype(np.float32), alpha)), got, atol=2e-6)


def test_entmax_tends_to_softmax_as_alpha_tends_to_one():
    with enable_x64():
        near = np.asarray(entmax(jnp.asarray(Z), 1.0001))
    np.testing.assert_allclose(near, np.asarray(jax.nn.softmax(Z)), atol=3e-4)


@pytest.mark.parametrize("gamma", [1.5, 2.0, 3.0])
def test_normmax_matches_a_float64_bisection_and_maximises_its_objective(gamma):
    with enable_x64():
        got = np.asarray(normmax(jnp.asarray(Z), gamma))
    np.testing.assert_allclose(got, [_normmax_ref(v, gamma) for v in Z], atol=1e-12)
    # no point of the simplex does better on p·z − ‖p‖_γ
    for v, p in zip(Z, got, strict=True):
        best = p @ v - np.linalg.norm(p, gamma)
        others = RNG.dirichlet(np.ones(len(v)) * 0.3, size=2000)
        assert np.all(others @ v - np.linalg.norm(others, gamma, axis=1) <= best + 1e-12)


@pytest.mark.parametrize(
    "spec", ["sparsemax", "entmax", Normalizer("entmax", 1.3), "normmax", Normalizer("normmax", 3)]
)
def test_derivatives_match_finite_differences(spec):
    norm = get_normalizer(spec)
    w_np = RNG.normal(size=Z.shape[1])
    with enable_x64():
        w = jnp.asarray(w_np)
        for v in jnp.asarray(Z[:3]):

            @jax.jit
            def f(x):
                return norm(x) @ w

            grad = np.asarray(jax.grad(f)(v))
            eps = 1e-6
            fd = [(f(v.at[i].add(eps)) - f(v.at[i].add(-eps))) / (2 * eps) for i in range(9)]
            np.testing.assert_allclose(grad, fd, atol=1e-6)  # FD's own error ~1e-7
            # forward mode (the closed-form JVP / the implicit derivative) agrees
            jvp = jax.jvp(f, (v,), (w,))[1]
            assert float(jvp) == pytest.approx(float(grad @ w_np), abs=1e-9)


@pytest.mark.parametrize("spec", ["softmax", "sparsemax", "entmax", "normmax"])
def test_conjugate_is_the_max_and_its_gradient_is_the_normaliser(spec):
    norm = get_normalizer(spec)
    with enable_x64():
        for v in jnp.asarray(Z[:3]):
            p = norm(v)
            np.testing.assert_allclose(jax.grad(norm.conjugate)(v), p, atol=1e-10)
            others = jnp.asarray(RNG.dirichlet(np.ones(9), size=500))
            vals = others @ v - norm.penalty(others)
            assert float(jnp.max(vals)) <= float(norm.conjugate(v)) + 1e-12
            assert float(norm.penalty(jax.nn.one_hot(2, 9))) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("spec", ["sparsemax", "entmax", "normmax"])
def test_one_hot_exactly_beyond_the_margin_and_not_before(spec):
    norm = get_normalizer(spec)
    m = norm.margin
    assert np.array_equal(np.asarray(norm(jnp.array([2.0 + m, 2.0, 0.0]))), [1.0, 0.0, 0.0])
    assert np.asarray(norm(jnp.array([2.0 + 0.9 * m, 2.0, 0.0])))[1] > 0
    assert np.all(np.asarray(jax.nn.softmax(jnp.array([2.0 + m, 2.0, 0.0]))) > 0)
    assert Normalizer("softmax").margin == float("inf")


def test_bad_normalizers_are_refused():
    for bad, match in (("sparsemaxx", "normalizer must be"), (Normalizer, None)):
        if match:
            with pytest.raises(ValueError, match=match):
                get_normalizer(bad)
    with pytest.raises(ValueError, match=r"alpha in \(1, 2\]"):
        Normalizer("entmax", 2.5)
    with pytest.raises(ValueError, match="gamma > 1"):
        Normalizer("normmax", 1.0)
    with pytest.raises(ValueError, match=r"alpha must lie in \(1, 2\]"):
        entmax(jnp.ones(3), 1.0)
    assert get_normalizer("entmax15") == Normalizer("entmax", 1.5)


@pytest.mark.parametrize("spec", ["softmax", "sparsemax", "entmax", "normmax"])
def test_modern_hopfield_energy_never_increases_and_sparse_retrieval_is_exact(spec):
    """``E(q) = −β⁻¹ Ω*(β X q) + ½|q|² + const`` never increases along the update, from 20
    random queries; a sparse normaliser retrieves a stored pattern exactly in one step when
    β times its separation exceeds the margin (Santos et al. 2024), softmax does not."""
    X = jax.random.normal(jax.random.PRNGKey(0), (12, 24))
    net = hj.ModernHopfield(X, beta=0.3, normalizer=spec)

    @jax.jit
    @jax.vmap
    def energies(q):
        def body(q, _):
            return net.step(q), net.energy(q)

        return jax.lax.scan(body, q, None, length=8)[1]

    E = np.asarray(energies(jax.random.normal(jax.random.PRNGKey(1), (20, 24))))
    assert np.all(np.diff(E, axis=1) <= 1e-4 * np.abs(E[:, :-1])) and E.min() >= -1e-4
    sharp = hj.ModernHopfield(X, beta=1.0, normalizer=spec)
    gap = float(jnp.min(sharp.separation()))
    assert gap * sharp.beta > sharp.normalizer.margin or spec == "softmax"
    exact = bool(jnp.all(jax.vmap(sharp.step)(X) == X))
    assert exact is (spec != "softmax")


@pytest.mark.parametrize("spec", ["sparsemax", "entmax", "normmax"])
def test_layers_take_every_normaliser(spec):
    """``hopjax.nn.Hopfield(normalizer=…)``: association rows on the simplex with exact zeros,
    masked keys at weight 0, a fully masked query at 0 (no NaN, finite gradients), the energy
    non-increasing in the update steps, early stopping, several heads, and the pooling and
    lookup layers and blocks accepting it."""
    k = jax.random.split(jax.random.PRNGKey(3), 4)
    layer = hj.nn.Hopfield(8, num_heads=2, hidden_size=6, scaling=2.0, normalizer=spec, key=k[0])
    stored = jax.random.normal(k[1], (7, 8))
    state = jax.random.normal(k[2], (3, 8))
    A = layer.association(stored, state)
    assert A.shape == (2, 3, 7) and np.allclose(A.sum(-1), 1, atol=1e-5) and (A == 0).any()
    mask = jnp.array([[True] * 4 + [False] * 3, [True] * 7, [False] * 7])
    Am = layer.association(stored, state, mask)
    assert np.all(np.asarray(Am[:, 0, 4:]) == 0) and np.all(np.asarray(Am[:, 2]) == 0)
    g = jax.grad(lambda s: jnp.sum(layer(stored, s, mask=mask) ** 2))(state)
    assert np.all(np.isfinite(np.asarray(g)))
    E = [layer.energy(stored, state, steps=s) for s in range(4)]
    for a, b in itertools.pairwise(E):
        assert np.all(np.asarray(b) <= np.asarray(a) + 1e-4)
    early = hj.nn.Hopfield(8, update_steps_max=5, update_steps_eps=1e-4, normalizer=spec, key=k[0])
    assert early(stored, state).shape == (3, 8)
    pool = hj.nn.HopfieldPooling(8, num_queries=2, normalizer=spec, key=k[3])
    assert pool(stored).shape == (16,) and np.allclose(pool.association(stored).sum(-1), 1)
    look = hj.nn.HopfieldLayer(8, quantity=5, normalizer=spec, key=k[3])
    assert look(state).shape == (3, 8)
    enc = hj.nn.HopfieldEncoderLayer(8, normalizer=spec, key=k[3])
    assert enc(state).shape == (3, 8)


def test_universal_hopfield_takes_the_sparse_separations():
    A = hj.random_bipolar(jax.random.PRNGKey(0), 6, 32)
    q = hj.flip(jax.random.PRNGKey(1), A[2], fraction=0.2)
    for sep in ("sparsemax", "entmax", "normmax"):
        net = hj.UniversalHopfield(A, separation=sep, beta=1.0)
        assert np.array_equal(np.asarray(net(q)), np.asarray(A[2]))  # one-hot: exactly ξ3
