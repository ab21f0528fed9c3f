"""Equinox Hopfield layers (hopfield-layers vocabulary; Ramsauer et al. 2021)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hopjax as hj
from hopjax.nn import Hopfield, HopfieldLayer, HopfieldPooling

KEY = jax.random.PRNGKey(0)


def test_one_step_hopfield_equals_softmax_attention():
    layer = Hopfield(6, 5, 4, hidden_size=8, output_size=3, key=KEY)
    ks = jax.random.split(jax.random.PRNGKey(1), 3)
    Y, R, P = (jax.random.normal(k, s) for k, s in zip(ks, [(7, 5), (2, 6), (7, 4)], strict=True))
    Q, K, V = R @ layer.W_Q.weight.T, Y @ layer.W_K.weight.T, P @ layer.W_V.weight.T
    logits = Q @ K.T / np.sqrt(8)
    A = np.exp(logits - logits.max(1, keepdims=True))
    A /= A.sum(1, keepdims=True)
    expected = A @ V @ layer.W_O.weight.T
    np.testing.assert_allclose(layer(Y, R, P), expected, rtol=1e-5, atol=1e-6)
    mask = jnp.array([True, False, True, True, False, True, True])
    logits = np.where(np.asarray(mask), logits, -np.inf)
    A = np.exp(logits - logits.max(1, keepdims=True))
    A /= A.sum(1, keepdims=True)
    np.testing.assert_allclose(layer(Y, R, P, mask=mask), A @ V @ layer.W_O.weight.T, rtol=1e-5)


def test_iterated_update_converges_to_a_stored_pattern_and_vmaps():
    """With identity projections and a large β, update steps move a noisy query onto the
    nearest stored key (the modern Hopfield update inside the layer)."""
    d = 16
    layer = Hopfield(d, hidden_size=d, scaling=20.0, update_steps_max=3, key=KEY)
    eye = jnp.eye(d)
    layer = eqx.tree_at(
        lambda m: (m.W_Q.weight, m.W_K.weight, m.W_V.weight, m.W_O.weight),
        layer,
        (eye, eye, eye, eye),
    )
    Y = jnp.sign(jax.random.normal(jax.random.PRNGKey(2), (5, d))) / 4
    R = Y[3:4] + 0.05 * jax.random.normal(jax.random.PRNGKey(3), (1, d))
    np.testing.assert_allclose(layer(Y, R), Y[3:4], atol=1e-3)
    batch = jax.vmap(layer)(jnp.stack([Y, Y]), jnp.stack([R, R]))
    assert batch.shape == (2, 1, d)


def test_gradients_match_finite_differences():
    layer = Hopfield(4, hidden_size=5, update_steps_max=1, key=KEY)
    Y = jax.random.normal(jax.random.PRNGKey(4), (6, 4))
    R = jax.random.normal(jax.random.PRNGKey(5), (2, 4))

    def loss(R):
        return jnp.sum(jnp.sin(layer(Y, R)))

    g = jax.grad(loss)(R)
    h = 1e-3
    for idx in [(0, 0), (1, 2), (0, 3)]:
        e = jnp.zeros_like(R).at[idx].set(h)
        fd = (loss(R + e) - loss(R - e)) / (2 * h)
        assert float(g[idx]) == pytest.approx(float(fd), rel=2e-2, abs=2e-3)


def test_pooling_composes_with_an_mlp_and_trains():
    """HopfieldPooling → eqx.nn.MLP on a toy set task (is the max element above 0?): a few
    optax Adam steps lower the loss."""
    k1, k2, k3 = jax.random.split(KEY, 3)

    class Model(eqx.Module):
        pool: HopfieldPooling
        mlp: eqx.nn.MLP

        def __call__(self, x):
            return self.mlp(self.pool(x))

    model = Model(
        HopfieldPooling(3, hidden_size=8, num_queries=2, key=k1), eqx.nn.MLP(6, 1, 16, 1, key=k2)
    )
    X = jax.random.normal(k3, (64, 10, 3))
    y = (X[:, :, 0].max(axis=1) > 1.0).astype(jnp.float32)

    def loss(m):
        logits = jax.vmap(m)(X)[:, 0]
        return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, y))

    opt = optax.adam(1e-2)
    state = opt.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(m, s):
        val, g = eqx.filter_value_and_grad(loss)(m)
        updates, s = opt.update(g, s, m)
        return eqx.apply_updates(m, updates), s, val

    losses = []
    for _ in range(40):
        model, state, val = step(model, state)
        losses.append(float(val))
    assert losses[-1] < 0.8 * losses[0]
    assert HopfieldLayer(3, quantity=5, key=k1)(X[0]).shape == (10, 3)


def test_bad_shapes_and_masks_are_named():
    layer = Hopfield(4, hidden_size=5, key=KEY)
    Y, R = jnp.ones((6, 4)), jnp.ones((2, 4))
    with pytest.raises(ValueError, match="stored must have 4 features"):
        layer(jnp.ones((6, 3)), R)
    with pytest.raises(ValueError, match="state must have shape"):
        layer(Y, jnp.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="mask must have shape"):
        layer(Y, R, mask=jnp.ones((5,), bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        layer(Y, R, mask=jnp.ones((6,)))
    with pytest.raises(ValueError, match="update_steps_max"):
        Hopfield(4, update_steps_max=-1, key=KEY)


# ----------------------------------------------------------------------------- dense and ODE layers


def test_dense_am_layer_equals_dense_am_gradient_step():
    from hopjax.dense import DenseAM
    from hopjax.nn import DenseAMLayer

    xi = hj.random_bipolar(jax.random.PRNGKey(0), 20, 101)
    s = hj.random_bipolar(jax.random.PRNGKey(1), 5, 101)
    layer = DenseAMLayer(101, memories=xi, degree=3, beta=1e4)
    ref = DenseAM(xi, separation="rectified", degree=3, update="gradient")
    np.testing.assert_array_equal(np.sign(layer(s)), jax.vmap(ref.step)(s))
    assert layer(s[0]).shape == (101,)
    with pytest.raises(ValueError, match="shape"):
        layer(s[:, :50])
    with pytest.raises(ValueError, match="separation"):
        DenseAMLayer(8, separation="cubic", key=jax.random.PRNGKey(0))


def test_dense_am_layer_trains_inside_a_model():
    from hopjax.nn import DenseAMLayer

    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    model = eqx.nn.Sequential(
        [
            DenseAMLayer(16, quantity=8, separation="exponential", beta=2.0, key=k1),
            eqx.nn.MLP(16, 1, 16, 1, key=k2),
        ]
    )
    x = jax.random.normal(k3, (32, 16))
    y = jnp.sign(x[:, :1])

    def loss(m):
        return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    opt = optax.adam(1e-2)
    state = opt.init(eqx.filter(model, eqx.is_inexact_array))
    losses = []
    for _ in range(15):
        val, g = eqx.filter_jit(eqx.filter_value_and_grad(loss))(model)
        upd, state = opt.update(g, state)
        model = eqx.apply_updates(model, upd)
        losses.append(float(val))
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.slow
def test_ode_memory_replays_and_differentiates():
    from hopjax.nn import ODEMemory

    xi = hj.orthogonal_patterns(3, 32)
    ts = jnp.linspace(5.0, 600.0, 120)
    layer = ODEMemory(xi, ts, kind="reasoning", gamma=6.0, tau_alpha=50.0, eps=1e-3)
    m = eqx.filter_jit(layer)(xi[0])
    assert m.shape == (120, 3)
    lead = np.asarray(jnp.argmax(m, axis=1))
    changes = lead[np.r_[True, lead[1:] != lead[:-1]]]
    assert list(changes[:4]) == [0, 1, 2, 0]  # replays the stored order

    # grad through diffrax inside the forward pass: finite for the replay; equal to finite
    # differences for continuous retrieval (kind="hopfield", a smooth readout)
    def f(g):
        return jnp.sum(eqx.tree_at(lambda m: m.params["gamma"], layer, g)(xi[0])[:, 1])

    assert np.isfinite(float(jax.grad(f)(jnp.float32(6.0))))
    cue = 0.3 * xi[0] + 0.1 * xi[1]
    hop = ODEMemory(xi, jnp.linspace(0.5, 4.0, 8), kind="hopfield", alpha=1.5, dt=0.01)

    def h(a):
        return jnp.sum(eqx.tree_at(lambda m: m.params["alpha"], hop, a)(cue)[:, 0])

    g = jax.grad(h)(jnp.float32(1.5))
    fd = (h(jnp.float32(1.51)) - h(jnp.float32(1.49))) / 0.02
    assert float(g) == pytest.approx(float(fd), rel=0.02)
    batch = jax.vmap(layer)(jnp.stack([xi[0], -xi[1]]))
    assert batch.shape == (2, 120, 3)
    with pytest.raises(ValueError, match="kind"):
        ODEMemory(xi, ts, kind="lstm")
    with pytest.raises(ValueError, match="unknown parameters"):
        ODEMemory(xi, ts, kind="reasoning", alpha_c=0.1)
    with pytest.raises(ValueError, match="cue"):
        layer(xi[:2])


def _inputs(seed=1, lk=7, lq=3, d=6):
    ks = jax.random.split(jax.random.PRNGKey(seed), 3)
    return (jax.random.normal(k, s) for k, s in zip(ks, [(lk, d), (lq, d), (lk, d)], strict=True))


def test_multi_head_is_the_concatenation_of_single_heads():
    """num_heads = H: each head is a one-head layer on its slice of the projections; the
    outputs are concatenated before W_O (with updates too)."""
    H, d = 3, 4
    layer = Hopfield(6, hidden_size=d, num_heads=H, output_size=5, update_steps_max=2, key=KEY)
    Y, R, P = _inputs()
    heads = []
    for h in range(H):
        one = Hopfield(6, hidden_size=d, output_size=d, update_steps_max=2, key=KEY)
        rows = slice(h * d, (h + 1) * d)
        one = eqx.tree_at(
            lambda m: (m.W_Q.weight, m.W_K.weight, m.W_V.weight, m.W_O.weight),
            one,
            (
                layer.W_Q.weight[rows],
                layer.W_K.weight[rows],
                layer.W_V.weight[rows],
                jnp.eye(d),
            ),
        )
        heads.append(one(Y, R, P))
        np.testing.assert_allclose(layer.association(Y, R)[h], one.association(Y, R), atol=1e-6)
    want = jnp.concatenate(heads, axis=1) @ layer.W_O.weight.T
    np.testing.assert_allclose(layer(Y, R, P), want, rtol=1e-5, atol=1e-6)
    assert layer.energy(Y, R).shape == (H, 3)


def test_energy_decreases_along_update_steps():
    """E(Q) = −β⁻¹ lse(β Q Kᵀ) + ½|Q|² never increases along the updates (Ramsauer et al.
    2021, Theorem 1), for every head and query, in the layer and its pooling / lookup forms."""
    layer = Hopfield(6, hidden_size=4, num_heads=2, scaling=2.0, key=KEY)
    Y, R, _ = _inputs(lq=5)
    E = jnp.stack([layer.energy(Y, R, steps=k) for k in range(6)])
    assert np.all(np.diff(np.asarray(E), axis=0) <= 1e-5)
    assert np.all(E[-1] < E[0] - 1e-3)
    pool = HopfieldPooling(6, num_queries=2, num_heads=2, key=KEY)
    assert pool.energy(Y, steps=3).shape == (2, 2) and pool.association(Y).shape == (2, 2, 7)
    look = HopfieldLayer(6, quantity=9, key=KEY)
    assert np.all(look.energy(R, steps=2) <= look.energy(R) + 1e-5)
    assert np.allclose(look.association(R).sum(-1), 1.0, atol=1e-6)


def test_update_steps_eps_stops_early():
    """update_steps_eps: a head stops once an update moves no entry by more than ε (huge ε:
    exactly one update; tiny ε: all of them); gradients still flow (lax.scan, no while)."""
    Y, R, P = _inputs()
    mk = lambda **kw: Hopfield(6, hidden_size=4, scaling=3.0, key=KEY, **kw)  # noqa: E731
    np.testing.assert_allclose(
        mk(update_steps_max=5, update_steps_eps=1e9)(Y, R, P), mk(update_steps_max=1)(Y, R, P)
    )
    np.testing.assert_allclose(
        mk(update_steps_max=5, update_steps_eps=1e-12)(Y, R, P),
        mk(update_steps_max=5)(Y, R, P),
        rtol=1e-6,
    )
    g = jax.grad(lambda y: jnp.sum(mk(update_steps_max=4, update_steps_eps=1e-3)(y, R, P)))(Y)
    assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_dropout_needs_a_key_and_is_unbiased():
    """dropout drops association weights only with a key (inference without); the mean over
    keys is the inference output (rescaled by 1/(1−p))."""
    layer = Hopfield(6, hidden_size=4, num_heads=2, dropout=0.3, key=KEY)
    Y, R, P = _inputs()
    plain = layer(Y, R, P)
    one = layer(Y, R, P, key=jax.random.PRNGKey(5))
    assert not np.allclose(one, plain)
    many = jax.vmap(lambda k: layer(Y, R, P, key=k))(jax.random.split(jax.random.PRNGKey(6), 4000))
    np.testing.assert_allclose(many.mean(0), plain, atol=0.05)
    with pytest.raises(ValueError, match="dropout"):
        Hopfield(6, dropout=1.0, key=KEY)


def test_multi_head_gradients_match_finite_differences():
    layer = Hopfield(6, hidden_size=4, num_heads=2, update_steps_max=2, key=KEY)
    Y, R, P = _inputs()
    f = lambda y: jnp.sum(layer(y, R, P) ** 2)  # noqa: E731
    v = jax.random.normal(jax.random.PRNGKey(7), Y.shape)
    eps = 1e-2
    fd = (f(Y + eps * v) - f(Y - eps * v)) / (2 * eps)
    assert float(jnp.sum(jax.grad(f)(Y) * v)) == pytest.approx(float(fd), rel=2e-2)


@pytest.mark.slow
def test_encoder_and_decoder_blocks():
    """Shapes, pre/post norm, dropout only with a key, and the decoder's causal mask: output t
    does not depend on tokens after t (its Jacobian there is exactly 0)."""
    from hopjax.nn import HopfieldDecoderLayer, HopfieldEncoderLayer

    x = jax.random.normal(jax.random.PRNGKey(8), (5, 8))
    mem = jax.random.normal(jax.random.PRNGKey(9), (4, 8))
    for norm_first in (True, False):
        enc = HopfieldEncoderLayer(8, num_heads=2, dropout=0.2, norm_first=norm_first, key=KEY)
        dec = HopfieldDecoderLayer(8, num_heads=2, dropout=0.2, norm_first=norm_first, key=KEY)
        assert enc(x).shape == (5, 8) and dec(x, mem).shape == (5, 8)
        assert np.array_equal(enc(x), enc(x))
        assert not np.allclose(enc(x, key=jax.random.PRNGKey(1)), enc(x))
        jac = jax.jacfwd(lambda v, dec=dec: dec(v, mem, causal=True))(x)  # (5, 8, 5, 8)
        later = np.triu(np.ones((5, 5), bool), k=1)
        assert np.all(np.asarray(jac).transpose(0, 2, 1, 3)[later] == 0)
        assert np.any(np.asarray(jac).transpose(0, 2, 1, 3)[~later] != 0)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        HopfieldEncoderLayer(10, num_heads=3, key=KEY)
    with pytest.raises(ValueError, match="d_model = 8"):
        HopfieldEncoderLayer(8, key=KEY)(jnp.ones((5, 7)))


@pytest.mark.slow  # trains for 600 steps (~20 s on 2 cores)
def test_readme_encoder_example_trains_to_the_stated_accuracy(capsys):
    """The README's HopfieldEncoderLayer digits example, verbatim: test accuracy ≥ 0.93
    (README: 0.957)."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = text.index("<!-- encoder-example -->")
    code = re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    acc = float(capsys.readouterr().out.split("test accuracy")[1].split()[0])
    assert acc >= 0.93


def test_infinite_scaling_is_refused_and_a_fully_masked_query_is_not_nan():
    """U4: ``scaling=inf`` is refused at construction, and a query whose keys are all masked
    attends to nothing (association 0, output W_O's bias, energy ½|Q|²) instead of NaN."""
    with pytest.raises(ValueError, match="scaling must be a finite number"):
        Hopfield(6, scaling=float("inf"), key=KEY)
    for steps in (0, 2):
        layer = Hopfield(6, hidden_size=4, update_steps_max=steps, key=KEY)
        Y = jax.random.normal(jax.random.PRNGKey(2), (5, 6))
        mask = jnp.zeros((3, 5), bool).at[0].set(True)  # query 0 sees every key; 1, 2 none
        R = Y[:3]
        out = layer(Y, R, mask=mask)
        A = layer.association(Y, R, mask=mask)
        E = layer.energy(Y, R, mask=mask)
        assert np.isfinite(out).all() and np.isfinite(A).all() and np.isfinite(E).all()
        assert np.allclose(A[1:], 0.0) and np.allclose(A[0].sum(), 1.0, atol=1e-6)
        np.testing.assert_allclose(out[0], layer(Y, R)[0], rtol=1e-5, atol=1e-6)
    grads = jax.grad(lambda m: m(Y, R, mask=mask).sum())(layer)
    assert all(np.isfinite(g).all() for g in jax.tree.leaves(eqx.filter(grads, eqx.is_array)))
