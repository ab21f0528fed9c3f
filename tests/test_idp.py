"""IDP Hopfield, reasoning and Kleinfeld models (hopjax.idp; docs/notes/idp.md)."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax import idp_theory as th
from hopjax.idp import IDPHopfield, Kleinfeld, Reasoning, ThreeLayer, circulant
from hopjax.measure import measure_transitions
from hopjax.patterns import orthogonal_patterns, random_bipolar
from hopjax.solve import simulate
from tests.conftest import enable_x64

# ----------------------------------------------------------------------------- theory


def test_theory_fixed_points_threshold_and_period():
    am, ap = th.a_pm(5.0)
    assert float(am) == pytest.approx((5 - 5**0.5) / 2) and float(ap) == pytest.approx(
        (5 + 5**0.5) / 2
    )
    assert np.isnan(th.a_plus(3.9)) and np.isnan(th.period(3.0, 4, 100.0))
    assert float(th.a_minus(4.0)) == float(th.a_plus(4.0)) == 2.0
    for g in (4.5, 8.0, 20.0):  # fixed points of the peak map, both > 1
        for a in th.a_pm(g):
            assert float(th.peak_map(a, g)) == pytest.approx(float(a), rel=1e-5)
            assert float(a) > 1
    assert float(th.period(8.0, 4, 500.0)) == pytest.approx(4 * 500 * np.log(th.a_plus(8.0)))
    assert float(th.escape_time(np.e, 7.0)) == pytest.approx(7.0)
    # convergence: to a+ from above a-, collapse from below it; never below 4
    seq = th.peak_sequence(1.1 * th.a_minus(5.0), 5.0, 200)
    assert float(seq[-1]) == pytest.approx(float(th.a_plus(5.0)), rel=1e-4)
    assert np.isnan(th.peak_sequence(0.95 * th.a_minus(5.0), 5.0, 200)[-1])
    assert np.all(np.diff(np.asarray(seq)) >= 0)  # monotone (non-decreasing)
    assert bool(th.converges(3.0, 5.0)) and not bool(th.converges(1.2, 5.0))
    assert not bool(th.converges(10.0, 3.99)) and bool(th.converges(2.0, 4.0))
    assert int(th.transitions_before_collapse(3.0, 3.0)) == 2  # 3 → 2 → 1.5 → 1 (collapse)


def test_reduced_slow_dynamics_leftovers():
    """The first peak is the map's exactly; for long cycles leftovers vanish (threshold 4), for
    P = 4 they lower the threshold to ~3.61 and raise the γ = 5 peak (measured: 3.651)."""
    peaks, dwells = th.reduced_peaks(3.0, 5.0, 4, 400)
    assert float(peaks[1]) == pytest.approx(float(th.peak_map(3.0, 5.0)))
    assert float(dwells[0]) == pytest.approx(np.log(3.0))
    assert float(peaks[-1]) == pytest.approx(3.651, abs=2e-3)
    p16 = th.reduced_peaks(3.0, 5.0, 16, 400)[0]
    assert float(p16[-1]) == pytest.approx(float(th.a_plus(5.0)), rel=1e-4)
    assert th.reduced_threshold(16) == pytest.approx(4.0, abs=0.01)
    assert 3.55 < th.reduced_threshold(4) < 3.65
    assert float(th.reduced_period(8.0, 16, 100.0)) == pytest.approx(
        float(th.period(8.0, 16, 100.0)), rel=1e-4
    )


# ----------------------------------------------------------------------------- IDP network


@pytest.mark.parametrize("activation", ["hardtanh", "tanh"])
def test_energy_never_increases_at_constant_alpha(activation):
    xi = random_bipolar(jax.random.PRNGKey(0), 5, 40)
    model = IDPHopfield(xi, jnp.array([2.0, 1.5, 0.5, 3.0, 1.0]), activation=activation)
    x0 = 2.0 * jax.random.normal(jax.random.PRNGKey(1), (40,))
    ts = jnp.linspace(0, 30, 300)
    sol = simulate(model, x0, t1=30.0, ts=ts, save_fn=lambda t, y, a: model.energy(y))
    e = np.asarray(sol.ys)
    assert np.all(np.diff(e) <= 1e-5 * (1 + np.abs(e[:-1]))), np.diff(e).max()
    assert e[-1] < e[0] - 1.0  # it actually descends


def test_memory_equilibria_and_their_stability():
    """Appendix 5.1 (HardTanh): α_μ > 1 → α_μ ξ^μ is an equilibrium with Jacobian −I/τ_x;
    α_μ = 1 → the segment λ ξ^μ, λ ∈ [0, 1]; α_μ < 1 → decay to the origin."""
    xi = orthogonal_patterns(4, 32)
    alpha = jnp.array([2.5, 0.5, 1.0, 1.7])
    model = IDPHopfield(xi, alpha, tau_x=2.0)
    x_star = 2.5 * xi[0]
    assert float(jnp.max(jnp.abs(model.vector_field(0.0, x_star, None)))) < 1e-6
    jac = jax.jacfwd(lambda x: model.vector_field(0.0, x, None))(x_star)
    np.testing.assert_allclose(jac, -0.5 * np.eye(32), atol=1e-6)
    for lam in (0.0, 0.3, 0.7, 1.0):  # the segment of equilibria of α = 1
        assert float(jnp.max(jnp.abs(model.vector_field(0.0, lam * xi[2], None)))) < 1e-6
    assert float(jnp.max(jnp.abs(model.vector_field(0.0, 1.3 * xi[2], None)))) > 0.1
    # α < 1: decays to the origin; α = 1.7: a perturbed memory returns to 1.7 ξ
    x_end = simulate(model, 0.9 * xi[1], t1=80.0).ys[-1]
    assert float(jnp.linalg.norm(x_end)) < 1e-3
    noise = 0.1 * jax.random.normal(jax.random.PRNGKey(2), (32,))
    x_end = simulate(model, 1.7 * xi[3] + noise, t1=80.0).ys[-1]
    np.testing.assert_allclose(x_end, 1.7 * xi[3], atol=1e-3)
    dense = model.weights()
    np.testing.assert_allclose(dense, (xi.T * alpha) @ xi / 32, atol=1e-6)


def test_filtered_input_and_time_varying_alpha():
    xi = orthogonal_patterns(4, 32)
    model = IDPHopfield.with_input(xi, lambda t: 2.0 * xi[1], tau_u=5.0)
    x_end, a_end = simulate(model, (0.1 * xi[1], jnp.zeros(4)), t1=150.0).ys
    np.testing.assert_allclose(a_end[-1], [0, 2, 0, 0], atol=1e-4)
    np.testing.assert_allclose(x_end[-1], 2.0 * xi[1], atol=1e-3)
    ramp = IDPHopfield(xi, lambda t: jnp.array([2.0, 0.0, 0.0, 0.0]) * jnp.minimum(t / 10, 1.0))
    x_end = simulate(ramp, 0.5 * xi[0], t1=60.0).ys[-1]
    np.testing.assert_allclose(x_end, 2.0 * xi[0], atol=1e-3)


def test_three_layer_limits():
    """F = identity with τ_h → 0 is the IDP network (1); F = softmax retrieves the nearest
    memory (modern Hopfield)."""
    xi = orthogonal_patterns(4, 32)
    alpha = jnp.array([2.0, 1.5, 0.5, 3.0])
    x0 = 0.6 * xi[1] + 0.3 * xi[3]
    ref = simulate(IDPHopfield(xi, alpha), x0, t1=5.0).ys[-1]
    three = ThreeLayer(xi, tau_h=1e-3, tau_alpha=1e9)
    h0 = alpha * three.overlaps(x0)
    _, x, _ = simulate(three, (h0, x0, alpha), t1=5.0).ys
    np.testing.assert_allclose(x[-1], ref, atol=1e-2)
    soft = ThreeLayer(xi, F="softmax", beta=20.0, tau_h=0.1, tau_alpha=1e9)
    cue = xi[2].at[:6].multiply(-1)
    _, x, _ = simulate(soft, (jnp.zeros(4), cue, jnp.ones(4)), t1=30.0).ys
    assert float(soft.overlaps(x[-1])[2]) > 0.95


# ----------------------------------------------------------------------------- reasoning


def _reasoning_runs(xi, gammas, tau_alpha, duration=30.0, n_save=4000, eps=1e-4):
    """One vmapped diffrax solve over ``gammas``: transitions with the saved saliencies."""

    def one(g):
        model = Reasoning(xi, gamma=g, tau_alpha=tau_alpha, eps=eps)
        t1 = duration * tau_alpha
        ts = jnp.linspace(0.0, t1, n_save)
        sol = simulate(
            model,
            model.initial_state(3.0),
            t1=t1,
            ts=ts,
            save_fn=lambda t, y, a: (model.overlaps(y[0]), y[1]),
            max_steps=500_000,
        )
        return measure_transitions(ts, sol.ys[0], sol.ys[1], max_transitions=128)

    return jax.jit(jax.vmap(one))(jnp.asarray(gammas))


@pytest.mark.slow
def test_reasoning_period_collapse_and_peak_map():
    """Seed 001 (37): period P τ_α ln a₊(γ) within 2% for γ ∈ {5, 8} at τ_α/τ_x = 2000
    (measured 1.011, 1.002; against the reduced slow dynamics with leftovers 1.004, 1.001);
    collapse at γ = 3; measured peaks follow a_{k+1} = γ(1 − 1/a_k) to 2%."""
    xi = orthogonal_patterns(4, 64, key=jax.random.PRNGKey(3))
    gammas = [3.0, 5.0, 8.0]
    tr = _reasoning_runs(xi, gammas, 2000.0)
    assert not bool(tr.active_end[0]) and int(tr.count[0]) <= 4
    assert np.asarray(jax.vmap(lambda t: t.sustained(60_000.0))(tr)).tolist() == [0, 1, 1]
    for i, g in enumerate(gammas[1:], start=1):
        run = jax.tree_util.tree_map(lambda a, i=i: a[i], tr)
        assert bool(run.active_end)
        period = float(run.period(4))
        assert period == pytest.approx(float(th.period(g, 4, 2000.0)), rel=0.02)
        assert period == pytest.approx(float(th.reduced_period(g, 4, 2000.0)), rel=0.008)
        pk = np.asarray(run.peaks)
        pk = pk[np.isfinite(pk)]
        assert len(pk) >= 10
        np.testing.assert_allclose(pk[1:], np.asarray(th.peak_map(pk[:-1], g)), rtol=0.02)
        assert pk[-1] == pytest.approx(float(th.a_plus(g)), rel=0.02)


def test_reasoning_at_separation_500():
    """At τ_α/τ_x = 500 (measured: γ = 8 ratio 1.004, γ = 5 ratio 1.019; docs/notes/idp.md)."""
    xi = orthogonal_patterns(4, 64)
    tr = _reasoning_runs(xi, [5.0, 8.0], 500.0)
    for i, g in enumerate([5.0, 8.0]):
        run = jax.tree_util.tree_map(lambda a, i=i: a[i], tr)
        assert float(run.period(4)) == pytest.approx(float(th.period(g, 4, 500.0)), rel=0.02)


def test_symmetry_breaking_input_shortens_the_period_as_predicted():
    """A strong input ε Ξ α escapes earlier: the ε-corrected reduced dynamics predicts it
    (measured at ε = 0.1, τ_α = 500: ratios 0.737 / 0.734 to the paper's formula, predicted
    0.759 / 0.743)."""
    xi = orthogonal_patterns(4, 64)
    tr = _reasoning_runs(xi, [5.0, 8.0], 500.0, eps=0.1)
    for i, g in enumerate([5.0, 8.0]):
        period = float(jax.tree_util.tree_map(lambda a, i=i: a[i], tr).period(4))
        assert period < 0.8 * float(th.period(g, 4, 500.0))
        assert period == pytest.approx(float(th.reduced_period(g, 4, 500.0, eps=0.1)), rel=0.04)


def test_reasoning_with_random_patterns():
    """Random (non-orthogonal) memories: the crosstalk ξ^μ·ξ^{μ+1}/N ~ ±1/√N sets the sign of
    each escape, so the symmetry-breaking input must dominate it (with ε = 1e-4 most seeds
    escape to −ξ^{μ+1} and collapse), and it acts as an extra ε of either sign on each
    transition. Tolerance: period within 6% of the ε-corrected reduced theory at N = 1024,
    ε = 0.1 (measured over 4 seeds: 0.97–1.02; at N = 256 the spread is 0.96–1.13). Crosstalk
    and input also drive transitions by themselves: random memories still cycle at γ = 2.5–3
    where Hadamard ones with the same ε collapse; at γ = 2 they collapse."""
    xi = random_bipolar(jax.random.PRNGKey(4), 4, 1024)
    tr = _reasoning_runs(xi, [2.0, 5.0, 8.0], 500.0, eps=0.1)
    assert not bool(tr.active_end[0])
    for i, g in ((1, 5.0), (2, 8.0)):
        run = jax.tree_util.tree_map(lambda a, i=i: a[i], tr)
        assert bool(run.active_end) and int(run.count) >= 12
        expected = float(th.reduced_period(g, 4, 500.0, eps=0.1))
        assert float(run.period(4)) == pytest.approx(expected, rel=0.06)


@pytest.mark.slow
def test_grad_through_simulate_matches_finite_differences():
    """∂L/∂γ and ∂L/∂τ_α through diffrax (RecursiveCheckpointAdjoint) vs central differences,
    smooth loss (tanh, mean saliency over a short run), float64."""
    with enable_x64():
        xi = orthogonal_patterns(4, 16, dtype=jnp.float64)

        def loss(params):
            g, ta = params
            model = Reasoning(xi, gamma=g, tau_alpha=ta, activation="tanh", eps=1e-3)
            ts = jnp.linspace(0.0, 40.0, 41)
            sol = simulate(
                model,
                model.initial_state(3.0),
                t1=40.0,
                ts=ts,
                save_fn=lambda t, y, a: y[1],
                rtol=1e-9,
                atol=1e-9,
                max_steps=4096,  # bounds the checkpointing of RecursiveCheckpointAdjoint
            )
            return jnp.mean(sol.ys * jnp.arange(1.0, 5.0))

        p0 = jnp.array([5.0, 20.0])
        grad = jax.jit(jax.grad(loss))(p0)
        assert np.all(np.isfinite(grad))
        h = 1e-5
        f = jax.jit(loss)
        fd = [(f(p0.at[i].add(h)) - f(p0.at[i].add(-h))) / (2 * h) for i in range(2)]
        np.testing.assert_allclose(grad, fd, rtol=1e-4)
    # HardTanh in float32: finite gradients as well
    xi32 = orthogonal_patterns(4, 16)
    g = jax.grad(
        lambda gm: simulate(
            Reasoning(xi32, gamma=gm, tau_alpha=20.0),
            (3.0 * xi32[0], 3.0 * jnp.eye(4)[0]),
            t1=60.0,
            max_steps=4096,
        ).ys[1][-1, 1]
    )(5.0)
    assert np.isfinite(float(g))


def test_solver_failures_raise_never_truncate():
    xi = orthogonal_patterns(4, 16)
    model = Reasoning(xi, gamma=5.0, tau_alpha=50.0)
    with pytest.raises(Exception, match=r"max_steps|maximum number of solver steps"):
        simulate(model, model.initial_state(), t1=1000.0, max_steps=20)

    def batched(gs):
        return jax.vmap(
            lambda g: simulate(
                Reasoning(xi, gamma=g, tau_alpha=50.0),
                model.initial_state(),
                t1=1000.0,
                max_steps=20,
            ).ys[0]
        )(gs)

    with pytest.raises(Exception, match=r"max_steps|maximum number of solver steps"):
        jax.block_until_ready(jax.jit(batched)(jnp.array([5.0, 8.0])))


def test_throw_false_reports_a_failed_solve_and_holds_no_host_callback():
    """``simulate(throw=False)``: a solve out of ``max_steps`` returns (``succeeded`` is false
    for it, true for one that finishes) and the compiled program holds no host callback, so
    the sweeps' programs can be cached; the sweep experiments report it as ``solved = 0``."""
    import sys
    from pathlib import Path

    from hopjax._checks import traced_checks
    from hopjax.solve import succeeded

    xi = orthogonal_patterns(4, 16)

    def solve(g, steps):
        model = Reasoning(xi, gamma=g, tau_alpha=50.0)
        sol = simulate(model, model.initial_state(), t1=1000.0, max_steps=steps, throw=False)
        return succeeded(sol)

    ok = jax.jit(jax.vmap(lambda g: solve(g, 20)))(jnp.array([5.0, 8.0]))
    assert not np.any(np.asarray(ok))
    assert bool(solve(5.0, 100_000))
    with traced_checks(False):  # as a sweep traces its programs
        text = jax.jit(lambda g: solve(g, 20)).lower(5.0).as_text()
        model = Reasoning(xi, gamma=5.0, tau_alpha=50.0)
        raising = jax.jit(
            lambda y: simulate(model, (y, model.initial_state()[1]), t1=10.0, max_steps=20).ys
        ).lower(model.initial_state()[0])
        # save times, even constant ones (np.linspace): diffrax checks them with a callback,
        # which is why idp_reasoning, idp_threshold and kleinfeld are not cached (benchmarks page)
        saving = jax.jit(
            lambda g: (
                simulate(
                    Reasoning(xi, gamma=g, tau_alpha=50.0),
                    Reasoning(xi, gamma=5.0, tau_alpha=50.0).initial_state(),
                    t1=100.0,
                    ts=np.linspace(0.0, 100.0, 5),
                    max_steps=20,
                    throw=False,
                ).ys
            )
        ).lower(5.0)
    assert "callback" not in text
    assert "callback" in raising.as_text()  # the default form raises through a host callback
    assert "callback" in saving.as_text()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from experiments.idp_retrieval import idp_retrieval_point

    p = {
        "N": 64, "P": 4, "patterns": "random", "flip": 0.1, "method": "idp", "gain": 2.0,
        "tau_x": 1.0, "t1": 20.0, "rtol": 1e-6, "atol": 1e-6, "threshold": 0.95,
    }  # fmt: skip
    key = jax.random.PRNGKey(0)
    assert float(idp_retrieval_point({**p, "max_steps": 3}, key)["solved"]) == 0.0
    assert float(idp_retrieval_point({**p, "max_steps": 100_000}, key)["solved"]) == 1.0


def test_bad_input_is_rejected_early():
    xi = orthogonal_patterns(4, 16)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        Reasoning(xi, gamma=0.0, tau_alpha=10.0)
    with pytest.raises(ValueError, match="tau_alpha must be > 0"):
        Reasoning(xi, gamma=5.0, tau_alpha=-1.0)
    with pytest.raises(ValueError, match="tau_x must be > 0"):
        IDPHopfield(xi, tau_x=-2.0)
    with pytest.raises(ValueError, match=r"A must be a \(P, P\)"):
        Reasoning(xi, gamma=5.0, tau_alpha=10.0, A=jnp.eye(3))
    with pytest.raises(ValueError, match=r"alpha must have shape \(P,\)"):
        IDPHopfield(xi, jnp.ones(5))
    with pytest.raises(TypeError, match="floating-point"):
        IDPHopfield(xi.astype(jnp.int32))
    with pytest.raises(ValueError, match="activation must be one of"):
        IDPHopfield(xi, activation="relu")
    model = Reasoning(xi, gamma=5.0, tau_alpha=10.0)
    with pytest.raises(ValueError, match="y0 must be the tuple"):
        simulate(model, jnp.zeros(16), t1=1.0)
    with pytest.raises(ValueError, match="y0 x has last axis 8"):
        simulate(model, (jnp.zeros(8), jnp.zeros(4)), t1=1.0)
    # traced parameters are checked at run time
    bad = jax.jit(lambda g: Reasoning(xi, gamma=g, tau_alpha=10.0).gamma)
    with pytest.raises(Exception, match="gamma must be > 0"):
        jax.block_until_ready(bad(-1.0))


def test_any_reasoning_matrix_two_cycles():
    """A with two cycles (1→2→1 and 3→4→3): started on memory 1, memories 3, 4 never lead."""
    xi = orthogonal_patterns(4, 32)
    A = jnp.zeros((4, 4)).at[1, 0].set(1).at[0, 1].set(1).at[3, 2].set(1).at[2, 3].set(1)
    model = Reasoning(xi, gamma=8.0, tau_alpha=100.0, A=A)
    ts = jnp.linspace(0.0, 3000.0, 3000)
    sol = simulate(
        model,
        model.initial_state(),
        t1=3000.0,
        ts=ts,
        save_fn=lambda t, y, a: model.overlaps(y[0]),
    )
    tr = measure_transitions(ts, sol.ys)
    to = np.asarray(tr.to)[: int(tr.count)]
    assert len(to) >= 6 and set(to.tolist()) == {0, 1}
    assert float(tr.period(2)) == pytest.approx(float(th.period(8.0, 2, 100.0)), rel=0.05)
    np.testing.assert_array_equal(circulant(3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_measure_transitions_synthetic():
    """Known switch times are recovered by interpolation; near-ties never count."""
    ts = jnp.linspace(0.0, 9.99, 1000)
    lead = (ts // 2.5).astype(int) % 3  # switches at 2.5, 5, 7.5
    m = jax.nn.one_hot(lead, 3) * 0.9 + 0.05
    tr = measure_transitions(ts, m, jnp.asarray(m) * 4, max_transitions=8)
    assert int(tr.count) == 3
    np.testing.assert_allclose(np.asarray(tr.times)[:3], [2.5, 5.0, 7.5], atol=0.01)
    np.testing.assert_array_equal(np.asarray(tr.to)[:3], [1, 2, 0])
    np.testing.assert_allclose(np.asarray(tr.peaks)[:4], 3.8, atol=1e-6)
    assert np.isnan(float(tr.period(3)))  # needs 4 transitions
    assert float(tr.period(2)) == pytest.approx(5.0, abs=0.02)  # t_3 − t_1
    noise = 0.01 * jax.random.normal(jax.random.PRNGKey(0), (1000, 3))
    tie = jnp.full((1000, 3), 0.375) + noise  # a mixed state with equal overlaps
    assert int(measure_transitions(ts, tie, active=0.3).count) == 0
    quiet = 0.01 * jnp.abs(noise)  # near the origin: never active
    assert int(measure_transitions(ts, quiet).count) == 0


def test_kleinfeld_regimes():
    """γ = 0: a memory is a fixed point; small γ: a cycle; the delayed variant cycles with high
    overlaps (Kleinfeld 1986); larger γ without delay: a mixed fixed point (overlaps 0.375)."""
    xi = orthogonal_patterns(4, 64, key=jax.random.PRNGKey(1))

    def run(g, delayed):
        model = Kleinfeld(xi, gamma=g, delayed=delayed, tau_d=20.0)
        ts = jnp.linspace(0.0, 2000.0, 4000)
        sol = simulate(
            model,
            model.initial_state(),
            t1=2000.0,
            ts=ts,
            save_fn=lambda t, y, a: model.overlaps(y[0] if delayed else y),
        )
        return ts, sol.ys

    ts, m = run(0.0, False)
    np.testing.assert_allclose(m[-1], [1, 0, 0, 0], atol=1e-5)
    ts, m = run(1.0, False)
    tail = np.asarray(m[3000:])
    assert np.ptp(tail, axis=0).max() < 1e-3 and tail.max() < 0.5  # a mixed fixed point
    np.testing.assert_allclose(np.abs(tail[-1]).max(), 0.375, atol=1e-3)
    ts, m = run(0.2, True)
    tail = np.asarray(m[3000:])
    assert tail.max() > 0.9 and np.ptp(tail, axis=0).max() > 0.5  # a sequence with high overlap
    assert int(measure_transitions(ts, m).count) >= 8


def test_vector_field_is_pure_and_vmappable():
    xi = orthogonal_patterns(4, 16)
    model = Reasoning(xi, gamma=5.0, tau_alpha=10.0)
    ys = jax.vmap(lambda a: model.initial_state(a))(jnp.array([2.0, 3.0]))
    out = jax.vmap(lambda y: model.vector_field(0.0, y, None))(ys)
    assert out[0].shape == (2, 16) and out[1].shape == (2, 4)
    assert isinstance(simulate(model, model.initial_state(), t1=1.0), diffrax.Solution)
    assert eqx.is_array(model.gamma)
