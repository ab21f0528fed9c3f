"""hj.save / hj.load: every field kept, the model rebuilt from the file, clear errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hopjax as hj
from hopjax import nn

K = jax.random.PRNGKey(0)
XI = hj.random_bipolar(jax.random.PRNGKey(10), 6, 32)


def _models():
    xi = XI
    phi = jnp.roll(jnp.eye(6), 1, axis=0)
    return {
        "hopfield-hebbian": hj.Hopfield.from_patterns(xi),
        "hopfield-storkey": hj.Hopfield.from_patterns(xi, "storkey"),
        "lowrank": hj.LowRankHebbian(xi),
        "dense-poly": hj.DenseAM(xi, degree=3),
        "dense-exp": hj.DenseAM(xi, separation="exponential", beta=0.5),
        "modern": hj.ModernHopfield(xi, beta=2.0),
        "minerva2": hj.Minerva2(xi),
        "uhn": hj.UniversalHopfield(xi, separation="max"),
        "correlation": hj.CorrelationMemory(xi, xi[:, :8], xi),
        "seq-hebbian": hj.SequenceHebbian(xi, symmetric=0.5, delay=2),
        "seq-dense": hj.DenseSequence(xi, degree=3),
        "gsemm": hj.GSEMM(xi, phi),
        "dense-gsemm": hj.DenseGSEMM(xi, phi, degree=3, power="plain"),
        "softmax-gsemm": hj.SoftmaxGSEMM(xi, phi),
        "idp": hj.IDPHopfield(xi, jnp.linspace(0.0, 1.0, 6), activation="tanh"),
        "reasoning": hj.Reasoning(xi, gamma=6.0, tau_alpha=5.0),
        "kleinfeld": hj.Kleinfeld(xi, gamma=2.0, delayed=True),
        "three-layer": hj.ThreeLayer(xi, F="softmax", beta=3.0),
        "nn-hopfield": nn.Hopfield(8, hidden_size=4, scaling=0.5, update_steps_max=2, key=K),
        "nn-pooling": nn.HopfieldPooling(8, hidden_size=4, num_queries=2, key=K),
        "nn-layer": nn.HopfieldLayer(8, quantity=5, hidden_size=4, key=K),
        "nn-dense": nn.DenseAMLayer(8, quantity=4, degree=2, key=K),
        "nn-encoder": nn.HopfieldEncoderLayer(8, num_heads=2, dropout=0.1, key=K),
        "nn-decoder": nn.HopfieldDecoderLayer(8, num_heads=2, key=K),
        "nn-ode": nn.ODEMemory(xi, jnp.linspace(0.0, 2.0, 3), kind="gsemm", dt=0.1),
        "nn-ode-reasoning": nn.ODEMemory(xi, jnp.linspace(0.0, 2.0, 3), gamma=6.0),
    }


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_then_load_rebuilds_every_field(tmp_path, name):
    """save → load(path) with no skeleton gives a model of the same class with the same
    static fields (the tree structure compares them) and bit-identical arrays, so every run
    of it equals the original's."""
    model = MODELS[name]
    back = hj.load(hj.save(tmp_path / "m.eqx", model))
    assert type(back) is type(model)
    assert jax.tree.structure(back) == jax.tree.structure(model)
    for a, b in zip(jax.tree.leaves(model), jax.tree.leaves(back), strict=True):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_a_loaded_hebbian_network_retrieves_as_the_saved_one(tmp_path):
    """F3: the recipe ``load(path, Hopfield(zeros))`` kept the skeleton's ``quantum=None`` and
    244 of 2000 cues ended elsewhere; the file's quantum is kept (with or without skeleton)."""
    xi = hj.random_bipolar(jax.random.PRNGKey(3), 8, 100)
    net = hj.Hopfield.from_patterns(xi)
    path = hj.save(tmp_path / "net.eqx", net)
    keys = jax.random.split(jax.random.PRNGKey(4), 2000)
    cues = jax.vmap(lambda k, s: hj.flip(k, s, fraction=0.3))(keys, jnp.tile(xi, (250, 1)))

    def ends(model):
        one = lambda s, k: hj.run(model, s, max_steps=20, mode="async", key=k).state  # noqa: E731
        return jax.vmap(one)(cues, keys)

    want = ends(net)
    for back in (hj.load(path), hj.load(path, hj.Hopfield(jnp.zeros((100, 100))))):
        assert back.quantum == net.quantum == 0.01
        assert np.array_equal(ends(back), want)


def test_a_layer_loads_inside_a_users_module(tmp_path):
    """An equinox model of the user's own holding a hopjax layer and a lambda: saved as
    arrays only, loaded into a skeleton; without one, a clear error says to pass it."""

    class Mine(eqx.Module):
        layer: nn.HopfieldPooling
        head: object = eqx.field(static=True)

    model = Mine(nn.HopfieldPooling(8, hidden_size=4, key=K), lambda x: x)
    path = hj.save(tmp_path / "m.eqx", model)
    like = Mine(nn.HopfieldPooling(8, hidden_size=4, key=jax.random.PRNGKey(1)), model.head)
    back = hj.load(path, like)
    x = jax.random.normal(K, (5, 8))
    assert np.array_equal(back.layer(x), model.layer(x))
    with pytest.raises(ValueError, match="pass a skeleton"):
        hj.load(path)


def test_damaged_files_and_wrong_skeletons_are_one_clear_error(tmp_path):
    """U3: empty, truncated, trailing bytes, not a model, a skeleton of another class or
    shape: one ValueError naming the file (it was equinox's "Error at leaf …", trailing
    garbage was accepted, and a Hopfield file loaded into an eqx.nn.Linear)."""
    net = hj.Hopfield.from_patterns(XI)
    path = hj.save(tmp_path / "net.eqx", net)
    data = path.read_bytes()
    cases = {
        "empty": (b"", "empty"),
        "header cut": (data[:30], "truncated"),
        "arrays cut": (data[:-10], "truncated or damaged"),
        "trailing": (data + b"xx", "trailing bytes"),
        "text": (b"hello", "not a saved model"),
    }
    for name, (content, words) in cases.items():
        bad = tmp_path / f"{name}.eqx"
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=words) as info:
            hj.load(bad)
        assert str(bad) in str(info.value)
    with pytest.raises(ValueError, match="not a Linear"):
        hj.load(path, eqx.nn.Linear(32, 32, key=K))
    with pytest.raises(ValueError, match="shapes"):
        hj.load(path, hj.Hopfield(jnp.zeros((16, 16))))
    with pytest.raises(FileNotFoundError, match="path"):
        hj.load(tmp_path / "missing.eqx")


def test_files_of_equinox_and_older_hopjax_load_into_a_skeleton(tmp_path):
    """A file of equinox's own format (what hj.save wrote before the header) still loads
    into a skeleton."""
    net = hj.Hopfield.from_patterns(XI, "storkey")
    path = tmp_path / "old.eqx"
    eqx.tree_serialise_leaves(path, net)
    back = hj.load(path, hj.Hopfield(jnp.zeros((32, 32))))
    assert np.array_equal(back.weights, net.weights)
    with pytest.raises(ValueError, match="pass a skeleton"):
        hj.load(path)
