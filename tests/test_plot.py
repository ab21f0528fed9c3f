"""hopjax.plot: what each figure contains (images, lines, labels, marks), not only that it
returns; inputs it cannot draw are refused naming the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hopjax as hj
from hopjax import plot as hplot


@pytest.fixture(scope="module")
def xi():
    return hj.random_bipolar(jax.random.PRNGKey(0), 5, 64)


def test_patterns_one_image_per_pattern_with_the_given_shape(xi):
    _fig, axes = hplot.patterns(xi, shape=(8, 8), ncols=3)
    assert axes.shape == (2, 3)
    shown = [ax for ax in axes.flat if ax.images]
    assert len(shown) == 5
    assert shown[0].images[0].get_array().shape == (8, 8)
    np.testing.assert_array_equal(shown[2].images[0].get_array(), np.asarray(xi[2]).reshape(8, 8))
    assert [ax.get_title() for ax in shown] == ["ξ1", "ξ2", "ξ3", "ξ4", "ξ5"]
    assert not axes.flat[5].images and not axes.flat[5].axison


def test_patterns_default_shape_is_the_squarest_and_bad_shapes_are_refused(xi):
    _, axes = hplot.patterns(xi[0])
    assert axes.flat[0].images[0].get_array().shape == (8, 8)
    _, axes = hplot.patterns(jnp.ones((1, 12)))
    assert axes.flat[0].images[0].get_array().shape == (3, 4)
    with pytest.raises(ValueError, match=r"shape \(5, 5\) has 25 pixels; patterns have N = 64"):
        hplot.patterns(xi, shape=(5, 5))
    with pytest.raises(ValueError, match="titles has 2 entries for 5 patterns"):
        hplot.patterns(xi, titles=["a", "b"])
    with pytest.raises(ValueError, match="x must be 1-D or 2-D"):
        hplot.patterns(jnp.ones((2, 2, 2)))


def test_overlap_matrix_holds_the_overlaps_with_annotations(xi):
    fig, ax = hplot.overlap_matrix(xi)
    m = ax.images[0].get_array()
    np.testing.assert_allclose(m, np.asarray(hj.overlaps(xi, xi)).T, atol=1e-6)
    np.testing.assert_allclose(np.diag(m), 1.0)
    assert len(ax.texts) == 25 and ax.texts[0].get_text() == "1.00"
    assert ax.get_xlabel() == "pattern ν" and ax.get_ylabel() == "pattern μ"
    assert len(fig.axes) == 2  # the colour bar
    with pytest.raises(ValueError, match="same N"):
        hplot.overlap_matrix(xi, jnp.ones((2, 10)))


def test_state_sequence_raster_and_one_overlap_line_per_memory(xi):
    model = hj.Hopfield(hj.hebbian(xi))
    cue = hj.flip(jax.random.PRNGKey(1), xi[1], fraction=0.2)
    states = hj.run(model, cue, max_steps=6, record=True).states
    assert states.shape == (7, 64)
    _fig, (raster, over) = hplot.state_sequence(states, xi)
    assert raster.images[0].get_array().shape == (64, len(states))
    assert len(over.lines) == 5
    np.testing.assert_allclose(over.lines[1].get_ydata()[-1], 1.0)  # retrieved ξ2
    assert over.get_ylabel() == "overlap $m$" and over.get_xlabel() == "step"
    assert [t.get_text() for t in over.get_legend().get_texts()][:2] == ["ξ1", "ξ2"]


def test_overlap_traces_mark_the_decoded_sequence():
    t = np.linspace(0, 30, 301)
    m = np.zeros((301, 3))
    for k, (a, b) in enumerate([(0, 10), (10, 20), (20, 30)]):
        m[(t >= a) & (t < b), (k + 1) % 3] = 0.95  # 2 → 3 → 1
    _fig, ax = hplot.overlap_traces(t, m)
    assert len([ln for ln in ax.lines if ln.get_label().startswith("ξ")]) == 3
    assert ax.get_title() == "decoded: 2 → 3 → 1"
    assert [a.get_text() for a in ax.texts] == ["2", "3", "1"]
    _, ax = hplot.overlap_traces(t, 0.5 * m)
    assert ax.get_title().startswith("nothing decoded")


def test_energy_and_weights(xi):
    model = hj.Hopfield(hj.hebbian(xi))
    e = np.array([float(model.energy(s)) for s in (xi[0], -xi[1], xi[2])])
    _, ax = hplot.energy(e, label="run")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), e)
    assert ax.get_ylabel() == "energy $E$" and ax.get_xlabel() == "step"
    _, ax = hplot.energy(np.ones((4, 10)), t=np.linspace(0, 1, 10))
    assert len(ax.lines) == 4 and ax.get_xlabel() == "t"
    _fig, ax = hplot.weights(model.weights, title="Hebbian")
    im = ax.images[0]
    assert im.get_array().shape == (64, 64) and im.get_clim()[0] == -im.get_clim()[1]
    assert ax.get_title() == "Hebbian"


def test_capacity_curve_from_rows_and_from_a_run_folder(tmp_path):
    rows = [
        {"N": n, "alpha": a, "seed": s, "retrieved_frac": float(a < 0.14) + 0.01 * s,
         "status": "pruned" if (n, a, s) == (200, 0.2, 2) else "ok"}
        for n in (100, 200) for a in (0.1, 0.2) for s in range(3)
    ]  # fmt: skip
    _fig, ax = hplot.capacity_curve(rows, reference=(0.138, "α = 0.138"))
    bars = ax.containers
    assert len(bars) == 2  # one errorbar line per N
    line = bars[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), [1.01, 0.01])
    np.testing.assert_allclose(bars[1].lines[0].get_ydata(), [1.01, 0.005])  # pruned row left out
    assert "s.e.m." in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["α = 0.138", "N=100", "N=200"]
    _, ax = hplot.capacity_curve(rows, where={"N": 100}, by=None)
    assert len(ax.containers) == 1
    with pytest.raises(KeyError, match="no column 'rule'"):
        hplot.capacity_curve(rows, by="rule")

    import csv

    with open(tmp_path / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    _, ax = hplot.capacity_curve(tmp_path)
    np.testing.assert_allclose(ax.containers[1].lines[0].get_ydata(), [1.01, 0.005])


def test_html_inlines_a_png(xi, tmp_path):
    """The PNG inline; the alt text from the figure's titles (mathtext stripped), a file's
    name, or what is given; untitled figures say "figure"."""
    fig, _ = hplot.patterns(xi[:2])
    assert hplot.html(fig).startswith('<img alt="ξ1; ξ2" src="data:image/png;base64,iVBOR')
    assert hplot.html(hplot.subplots()[0]).startswith('<img alt="figure" src=')
    fig, ax = hplot.subplots()
    ax.set_title("state $s_i(t)$")
    fig.suptitle('a "run"')
    assert hplot.html(fig).startswith('<img alt="a &quot;run&quot;; state s_i(t)" src=')
    path = hplot.save(fig, tmp_path / "my_plot.png")
    assert hplot.html(path).startswith('<img alt="my plot" src=')
    assert hplot.html(path, alt="saved").startswith(
        '<img alt="saved" src="data:image/png;base64,iVBOR'
    )


def test_text_color_reads_on_its_cell():
    """Dark text on light cells, light text on dark ones (viridis: dark at 0, yellow at 1)."""
    assert hplot.text_color(0.0, "viridis", 0.0, 1.0) == "white"
    assert hplot.text_color(1.0, "viridis", 0.0, 1.0) == "black"
    assert hplot.text_color(0.0, "RdBu_r", -1.0, 1.0) == "black"
    assert hplot.text_color(float("nan"), "gray", 0.0, 1.0) in ("black", "white")
