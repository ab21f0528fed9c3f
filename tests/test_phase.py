"""Stochastic (Glauber) binary dynamics, the monitored run, save/load, and the
Amit–Gutfreund–Sompolinsky phase diagram (RS theory vs Monte Carlo)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hopjax as hj
from hopjax import ags


@pytest.fixture(scope="module")
def boundary_curve():
    Ts = jnp.asarray([0.005, 0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95], jnp.float32)
    return np.asarray(Ts), np.asarray(jax.jit(jax.vmap(ags.boundary))(Ts))


def test_rs_boundary_meets_alpha_c_at_zero_temperature(boundary_curve):
    """AGS 1985: α_c = 0.138 at T = 0 (tolerance 0.001 at T = 0.005); the RS line's slight
    re-entrance keeps it within 0.0005 above that up to T = 0.02."""
    _, a = boundary_curve
    assert a[0] == pytest.approx(0.138, abs=1e-3)
    assert 0 <= a[1] - a[0] < 5e-4


def test_rs_boundary_meets_t_one_at_zero_load(boundary_curve):
    """T_M → 1 as α → 0, with AGS's asymptote T_M ≈ 1 − 1.95 √α (within 10% of α at
    T = 0.9, 0.95); in between the line falls monotonically (AGS 1987, Fig. 1: α_M(0.5) ≈ 0.06)."""
    Ts, a = boundary_curve
    for T, am in zip(Ts[-2:], a[-2:], strict=True):
        assert am == pytest.approx(((1 - T) / 1.95) ** 2, rel=0.1)
    assert np.all(np.diff(a[2:]) < 0)
    assert a[4] == pytest.approx(0.06, abs=0.005)


def test_rs_fixed_point_inside_and_outside():
    m_in, q_in = ags.fixed_point(0.05, 0.3)
    m_out, _ = ags.fixed_point(0.2, 0.3)
    assert float(m_in) > 0.95 and 0 < float(q_in) <= 1
    assert abs(float(m_out)) < 0.05


def test_glauber_temperature_convention_curie_weiss():
    """One stored pattern (the Mattis model): the equilibrium overlap solves m = tanh(m/T)
    (m* = 0.9575 at T = 0.5, 0.5 ... measured at N = 2000 within 0.02), so T is in the
    units of AGS's phase diagram."""
    N, T = 2000, 0.5
    xi = hj.random_bipolar(jax.random.PRNGKey(0), 1, N)
    net = hj.Hopfield.from_patterns(xi)
    res = hj.run(
        net,
        xi[0],
        max_steps=30,
        mode="async",
        key=jax.random.PRNGKey(1),
        temperature=T,
        record=True,
        patterns=xi,
    )
    m = float(jnp.mean(res.overlaps[10:, 0]))
    m_star = 1.0
    for _ in range(200):
        m_star = np.tanh(m_star / T)
    assert m == pytest.approx(m_star, abs=0.02)
    assert int(res.period) == 0 and not bool(res.converged)


@pytest.mark.parametrize(
    ("alpha", "T", "inside"),
    [(0.05, 0.3, True), (0.2, 0.3, False), (0.05, 0.8, False), (0.1, 0.1, True)],
)
def test_monte_carlo_points_fall_on_the_theory_side(alpha, T, inside):
    """Glauber Monte Carlo at N = 500 started on a pattern (4 starts, overlap averaged over
    sweeps 20–40): inside the RS retrieval region m > 0.85, outside m < 0.4 — the points are at
    least 0.03 in α from the RS line (finite-N margin: at N = 500 the measured boundary lies
    within 0.03 of it, README)."""
    a_m = float(ags.boundary(T))
    assert (alpha < a_m - 0.03) if inside else (alpha > a_m + 0.03)
    N, P = 500, round(alpha * 500)
    xi = hj.random_bipolar(jax.random.PRNGKey(2), P, N)
    net = hj.Hopfield.from_patterns(xi)

    def one(i, k):
        r = hj.run(net, xi[i], max_steps=40, mode="async", key=k, temperature=T, record=True,
                   patterns=xi[i][None])  # fmt: skip
        return jnp.mean(r.overlaps[20:, 0])

    m = float(jnp.mean(jax.vmap(one)(jnp.arange(4), jax.random.split(jax.random.PRNGKey(3), 4))))
    assert (m > 0.85) if inside else (m < 0.4), m


def test_monitored_run_matches_the_plain_run_and_energy_descends():
    """record=True: the same state, steps, convergence and period as without; overlaps
    (T+1, P) starting with the cue's; for asynchronous deterministic updates the energy never
    increases (Hopfield 1982)."""
    xi = hj.random_bipolar(jax.random.PRNGKey(4), 30, 300)
    net = hj.Hopfield.from_patterns(xi)
    cues = jax.vmap(lambda k: hj.flip(k, xi[0], fraction=0.3))(
        jax.random.split(jax.random.PRNGKey(5), 6)
    )
    for mode in ("sync", "async"):
        kw = {"max_steps": 12, "mode": mode, "key": jax.random.PRNGKey(6)}
        plain = jax.vmap(lambda s, kw=kw: hj.run(net, s, **kw))(cues)
        rec = jax.vmap(lambda s, kw=kw: hj.run(net, s, record=True, patterns=xi, **kw))(cues)
        assert plain.overlaps is None and plain.energy is None
        for f in ("state", "steps", "converged", "period"):
            assert np.array_equal(getattr(plain, f), getattr(rec, f)), (mode, f)
        assert rec.overlaps.shape == (6, 13, 30) and rec.energy.shape == (6, 13)
        assert np.allclose(rec.overlaps[:, 0], hj.overlaps(xi, cues))
        assert np.allclose(rec.energy[:, -1], jax.vmap(net.energy)(rec.state), atol=1e-3)
        if mode == "async":
            assert np.all(np.diff(np.asarray(rec.energy), axis=1) <= 1e-3)


def test_dense_energy_gap_and_glauber():
    """DenseAM.energy_gap is E(σ_i = −1) − E(σ_i = +1) of DenseAM.energy (polynomial,
    rectified, exponential); degree 2 with T' = N·T is the Hebbian network's Glauber dynamics
    (ΔE = 2N h_i), draw for draw."""
    N = 64
    xi = hj.random_bipolar(jax.random.PRNGKey(7), 5, N)
    s = hj.flip(jax.random.PRNGKey(8), xi[1], fraction=0.25)
    for sep, deg in (("polynomial", 3), ("rectified", 3), ("exponential", 1)):
        d = hj.DenseAM(xi, sep, degree=deg, beta=0.1)
        for i in (0, 17):
            e = [d.energy(s.at[i].set(v)) for v in (-1.0, 1.0)]
            gap = d.unit_energy_gap(xi @ s, s[i], i)
            assert float(gap) == pytest.approx(float(e[0] - e[1]), rel=1e-4, abs=1e-3), sep
    d2, net = hj.DenseAM(xi, degree=2), hj.Hopfield.from_patterns(xi)
    k = jax.random.PRNGKey(9)
    assert np.array_equal(d2.glauber_sweep(s, k, N * 0.4), net.glauber_sweep(s, k, 0.4))
    assert d2.glauber_step(s, k, N * 0.4).shape == (N,)
    with pytest.raises(ValueError, match="temperature"):
        net.glauber_sweep(s, k, 0.0)


def test_save_and_load_round_trip(tmp_path):
    """hj.save / hj.load (equinox leaf serialisation) restore every array exactly."""
    xi = hj.random_bipolar(jax.random.PRNGKey(10), 4, 32)
    for model, like in (
        (hj.Hopfield.from_patterns(xi, "storkey"), hj.Hopfield(jnp.zeros((32, 32)))),
        (hj.DenseAM(xi, degree=3), hj.DenseAM(jnp.ones((4, 32)), degree=3)),
    ):
        path = hj.save(tmp_path / "model.eqx", model)
        back = hj.load(path, like)
        leaves = zip(jax.tree.leaves(model), jax.tree.leaves(back), strict=True)
        assert all(np.array_equal(a, b) for a, b in leaves)
    with pytest.raises(FileNotFoundError, match="path"):
        hj.load(tmp_path / "missing.eqx", like)


def test_readme_phase_example_runs(tmp_path, monkeypatch):
    """The reproductions page's temperature / monitored-run / save-load example, verbatim."""
    import contextlib
    import io
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "reproductions.md").read_text()
    start = text.index("<!-- phase-example -->")
    code = re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "(31, 25) (31,)"
    assert float(lines[1]) > 0.97
    assert float(lines[2]) == pytest.approx(0.1034, abs=1e-4)
    assert (tmp_path / "net.eqx").exists()
