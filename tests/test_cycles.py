"""Prime rings, Brent cycle detection and the exhaustive census (docs/notes/cycles.md)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax.cycles import (
    PrimeRings,
    _encode,
    adversarial_flips,
    census,
    census_stats,
    cluster_error_prob,
    design,
    find_cycle,
    noisy_survival,
    pack_bits,
    primes_upto,
    sign_step,
    sparsify,
    survival_exact,
)
from hopjax.patterns import random_bipolar


@pytest.mark.parametrize(
    ("m", "primes"), [(1, (2, 3, 5, 7)), (3, (2, 3)), (1, (3, 7)), (3, (2, 5)), (5, (3,))]
)
def test_census_equals_the_closed_forms(m, primes):
    """Every cycle of the prime-ring network, counted exhaustively over all 2^n states, matches
    the closed forms: Π(2 + (2^p − 2)/p) cycles, period Π p for Π (2^p − 2)/p of them, the full
    length distribution; every state reaches its cycle after ≤ 1 step."""
    net = PrimeRings(m, primes)
    W, b = net.weights()
    c = census(W, b)
    assert c.num_cycles == net.num_cycles
    assert c.length_counts() == net.cycle_length_counts()
    assert c.length_counts()[net.max_period] == net.num_max_period_cycles
    assert int(c.basin_sizes.sum()) == 2**net.n
    # transients ≤ 1: the image of one step already lies on cycles
    step = sign_step(W, b)
    s = jax.vmap(step)(random_bipolar(jax.random.PRNGKey(0), 64, net.n))
    assert bool(
        jnp.all(jax.vmap(step)(jax.vmap(step)(s)) == jax.vmap(net.step)(jax.vmap(net.step)(s)))
    )


def test_closed_forms_are_exact_integers_beyond_machine_range():
    net = PrimeRings(5, tuple(p for p in range(2, 200) if all(p % d for d in range(2, p))))
    assert net.num_cycles > 2**64 and isinstance(net.num_cycles, int)
    assert net.max_period == math.prod(net.primes)
    small = PrimeRings(3, (2, 3, 5, 7, 11, 13))
    assert sum(small.cycle_length_counts().values()) == small.num_cycles


def test_sparse_step_equals_dense_weights_and_names_are_invariant():
    net = PrimeRings(3, (2, 3, 5, 7))
    W, b = net.weights()
    s = random_bipolar(jax.random.PRNGKey(1), 32, net.n)
    dense = jax.vmap(sign_step(W, b))(s)
    np.testing.assert_array_equal(dense, jax.vmap(net.step)(s))
    for x in dense[:8]:
        assert net.cycle_name(x) == net.cycle_name(net.step(x))
        assert net.period_of(x) in (1, 2, 3, 5, 7, 6, 10, 14, 15, 21, 35, 30, 42, 70, 105, 210)


def test_find_cycle_brent_matches_the_construction():
    """Brent (vmapped over starts) finds transient ≤ 1 and the period Π of non-constant rings."""
    net = PrimeRings(3, (3, 5, 7, 11))
    starts = random_bipolar(jax.random.PRNGKey(2), 16, net.n)
    mu, lam, _, found = jax.jit(jax.vmap(lambda s: find_cycle(net.step, s)))(starts)
    assert bool(jnp.all(found)) and int(jnp.max(mu)) <= 1
    for i in range(16):
        assert int(lam[i]) == net.period_of(starts[i])
    assert int(jnp.max(lam)) == net.max_period  # random words are aperiodic w.h.p.


def test_find_cycle_reports_failure_within_max_steps():
    net = PrimeRings(1, (5, 7))
    *_, found = find_cycle(net.step, random_bipolar(jax.random.PRNGKey(3), 1, 12)[0], max_steps=8)
    assert not bool(found)


def test_symmetric_hopfield_census_has_only_fixed_points_and_two_cycles():
    """Goles: symmetric W with synchronous updates → periods 1 or 2 only (exhaustive, n = 14);
    random asymmetric Gaussian networks have longer cycles (measured, keys 4–8: every one has
    a cycle of length ≥ 4; up to 48)."""
    key = jax.random.PRNGKey(4)
    A = jax.random.normal(key, (14, 14))
    sym = (A + A.T) * (1 - jnp.eye(14))
    assert set(census(sym).length_counts()) <= {1, 2}
    for k in range(4, 9):
        A = jax.random.normal(jax.random.PRNGKey(k), (14, 14))
        assert max(census(A * (1 - jnp.eye(14))).length_counts()) >= 4


def test_pack_bits_and_bad_input():
    s = jnp.array([1.0, -1.0, 1.0] + [-1.0] * 30 + [1.0])
    words = pack_bits(s)
    assert words.shape == (2,) and int(words[0]) == 0b101 and int(words[1]) == 0b10
    with pytest.raises(ValueError, match="m must be an odd"):
        PrimeRings(2, (3, 5))
    with pytest.raises(ValueError, match="must be primes"):
        PrimeRings(3, (4, 5))
    with pytest.raises(ValueError, match="distinct"):
        PrimeRings(3, (5, 5))
    with pytest.raises(ValueError, match="n must be <= 24"):
        census(jnp.zeros((25, 25)))


def _ci99(successes: int, runs: int) -> tuple[float, float]:
    """Exact (Clopper–Pearson) 99% binomial interval."""
    from scipy.stats import binomtest

    ci = binomtest(successes, runs).proportion_ci(confidence_level=0.99)
    return ci.low, ci.high


@pytest.mark.parametrize(("m", "eps", "beta"), [(5, 0.1, 0.0), (5, 0.05, 0.2), (11, 0.2, 0.0)])
def test_noisy_survival_matches_the_exact_formula_within_its_99_percent_interval(m, eps, beta):
    """Monte-Carlo survival over T = 10 steps (flip noise ε, worst-case adversary β) lies in the
    exact 99% binomial interval around the measured fraction of (1 − q)^{T Σp},
    q = P[Bin(m, ε) > (m − 1)/2 − ⌊β m⌋] (4000 runs, primes 2, 3, 5)."""
    net = PrimeRings(m, (2, 3, 5))
    expected = survival_exact(net, eps, 10, beta=beta)
    assert 0.05 < expected < 0.95  # a test that can fail in both directions
    runs = 4000
    keys = jax.random.split(jax.random.PRNGKey(5), runs)
    starts = net.sample_cycles(jax.random.PRNGKey(6), 8)
    starts = jnp.tile(starts, (runs // 8, 1))
    ok = jax.jit(jax.vmap(lambda k, s: noisy_survival(net, k, s, eps, 10, beta=beta)))(keys, starts)
    lo, hi = _ci99(int(jnp.sum(ok)), runs)
    assert lo <= expected <= hi, (lo, expected, hi)


def test_cluster_error_probability_closed_form_and_bound():
    assert cluster_error_prob(5, 0.1) == pytest.approx(0.00856, abs=1e-5)
    assert cluster_error_prob(101, 0.3) < np.exp(-2 * 0.2**2 * 101)
    # k adversarial flips shift the majority threshold: P[Bin(5, .1) > 2 − 1] = P[Bin >= 2]
    assert cluster_error_prob(5, 0.1, flips=1) == pytest.approx(1 - 0.9**5 - 5 * 0.1 * 0.9**4)
    assert cluster_error_prob(5, 0.0, flips=3) == 1.0


def test_adversary_without_noise_breaks_the_cycle_iff_half_the_inputs_flip():
    """Noiseless: the worst-case adversary keeps every cycle iff ⌊β m⌋ < m/2 (β < (m+1)/2m →
    1/2); static random sign flips of ⌊β m⌋ inputs per neuron keep the cycle and its period."""
    net = PrimeRings(7, (2, 3, 5))
    s0 = net.sample_cycles(jax.random.PRNGKey(0), 4)
    keys = jax.random.split(jax.random.PRNGKey(1), 4)
    for beta, alive in [(0.0, True), (0.3, True), (0.45, True), (0.5, True), (0.58, False)]:
        ok = jax.vmap(lambda k, s, b=beta: noisy_survival(net, k, s, 0.0, 30, beta=b))(keys, s0)
        assert bool(jnp.all(ok)) is alive, beta
        assert (survival_exact(net, 0.0, 30, beta=beta) == 1.0) is alive
    W, b = net.weights()
    Wa = adversarial_flips(jax.random.PRNGKey(2), W, 0.4)
    assert bool(jnp.all(jnp.sum(Wa < 0, axis=1) == 2)) and bool(jnp.all((Wa != 0) == (W != 0)))
    traj_a = jax.lax.scan(lambda s, _: (sign_step(Wa, b)(s), s), s0[0], None, length=40)[1]
    traj = jax.lax.scan(lambda s, _: (net.step(s), s), s0[0], None, length=40)[1]
    np.testing.assert_array_equal(traj_a, traj)


def test_sparsification_is_harmless_alone_and_costly_under_noise():
    """Keeping ρ = 0.9 of the weights leaves every cluster's majority intact without noise
    (m = 21); under flip noise ε = 0.15 survival drops from ≈ 1 at ρ = 1 to below 0.8 at
    ρ = 0.5 (fewer inputs → noisier majorities)."""
    net = PrimeRings(21, (2, 3, 5, 7))
    s0 = jnp.tile(net.sample_cycles(jax.random.PRNGKey(3), 16), (4, 1))
    keys = jax.random.split(jax.random.PRNGKey(4), 64)
    run = jax.jit(
        jax.vmap(lambda k, s, e, r: noisy_survival(net, k, s, e, 20, rho=r), (0, 0, None, None))
    )
    assert float(jnp.mean(run(keys, s0, 0.0, 0.9))) == 1.0
    assert float(jnp.mean(run(keys, s0, 0.15, 1.0))) >= 0.9
    assert float(jnp.mean(run(keys, s0, 0.15, 0.5))) < 0.8


def test_sparsify_keeps_the_expected_fraction():
    W = jnp.ones((200, 200))
    kept = float(jnp.mean(sparsify(jax.random.PRNGKey(7), W, 0.3) != 0))
    assert kept == pytest.approx(0.3, abs=0.01)


def test_find_cycle_agrees_with_the_census_on_every_start_state():
    """Brent from each of the 2^11 states of a random asymmetric network: the period equals the
    census length of the cycle the state ends on, and the returned state lies on that cycle."""
    from hopjax.sequence import gaussian_couplings

    n = 11
    W = gaussian_couplings(jax.random.PRNGKey(8), n)
    c = census(W)
    states = jnp.arange(1 << n, dtype=jnp.int32)
    s = (2 * ((states[:, None] >> jnp.arange(n)) & 1) - 1).astype(jnp.float32)
    _, lam, on, found = jax.jit(jax.vmap(lambda x: find_cycle(sign_step(W, jnp.zeros(n)), x)))(s)
    assert bool(jnp.all(found))
    length = dict(zip(c.labels.tolist(), c.lengths.tolist(), strict=True))
    np.testing.assert_array_equal(np.asarray(lam), [length[x] for x in c.ends_on.tolist()])
    np.testing.assert_array_equal(c.ends_on[np.asarray(_encode(on))], c.ends_on)


def test_census_stats_traced_equals_host_census():
    W = jax.random.normal(jax.random.PRNGKey(9), (12, 12)) * (1 - jnp.eye(12))
    c = census(W)
    st = jax.jit(census_stats)(W)
    assert int(st["num_cycles"]) == c.num_cycles
    assert int(st["max_period"]) == int(c.lengths.max())
    assert int(st["num_fixed_points"]) == int(np.sum(c.lengths == 1))
    assert float(st["largest_basin"]) == pytest.approx(c.basin_sizes.max() / 2**12)


def test_period_in_the_1e5_1e6_range_returns_exactly_with_the_linear_time_stepper():
    """A trajectory on a maximal cycle of primes 2…17 returns to its start after exactly
    Π p = 510510 steps and not before (O(n) stepper, bit-packed comparison)."""
    net = PrimeRings(3, (2, 3, 5, 7, 11, 13, 17))
    assert net.max_period == 510510
    s0 = net.sample_cycles(jax.random.PRNGKey(10), 1)[0]
    start = pack_bits(s0)

    def cond(c):
        s, t = c
        return (t == 0) | (jnp.any(pack_bits(s) != start) & (t < 2 * net.max_period))

    _, t = jax.jit(
        lambda s: jax.lax.while_loop(cond, lambda c: (net.step(c[0]), c[1] + 1), (s, 0))
    )(s0)
    assert int(t) == net.max_period


def test_sample_cycles_are_distinct_and_complete():
    net = PrimeRings(3, (3, 5))
    total = net.num_max_period_cycles
    assert total == 2 * 6
    S = net.sample_cycles(jax.random.PRNGKey(11), total)
    assert len({net.cycle_name(s) for s in S}) == total
    assert all(net.period_of(s) == net.max_period for s in S)
    with pytest.raises(ValueError, match="exceeds the 12 cycles"):
        net.sample_cycles(jax.random.PRNGKey(0), total + 1)


def _brute_force_best(cap: int, value) -> float:
    ps = primes_upto(cap)
    best = 0.0
    for mask in range(1 << len(ps)):
        chosen = [p for i, p in enumerate(ps) if mask >> i & 1]
        if sum(chosen) <= cap:
            best = max(best, sum(value(p) for p in chosen))
    return best


@pytest.mark.parametrize("objective", ["cycles", "period"])
def test_design_is_optimal_and_reliable(objective):
    """``design`` meets the reliability bound and, at its m, its primes are the brute-force
    optimum over all sets of distinct primes fitting the cap (n = 60, no noise: m = 1)."""
    net = design(60, 0.0, 100, 0.01, objective=objective)
    assert net.m == 1 and net.n <= 60
    value = (lambda p: math.log(2 + (2**p - 2) // p)) if objective == "cycles" else math.log
    got = sum(value(p) for p in net.primes)
    assert got == pytest.approx(_brute_force_best(60, value))
    noisy = design(3000, 0.2, 1000, 0.01, objective=objective)
    assert noisy.n <= 3000 and noisy.failure_prob(0.2, 1000) <= 0.01
    bigger_m = PrimeRings(noisy.m - 2, noisy.primes)  # one size smaller breaks the bound
    assert bigger_m.failure_prob(0.2, 1000) > 0.01 or noisy.m == 1


def test_design_objectives_trade_cycles_for_period():
    by = {
        o: design(10_000, 0.1, 1000, 0.01, objective=o)
        for o in ("cycles", "period", "first_primes")
    }
    assert by["cycles"].num_cycles >= by["period"].num_cycles
    assert by["period"].max_period >= by["cycles"].max_period
    assert by["period"].max_period >= by["first_primes"].max_period
    assert by["first_primes"].primes == tuple(primes_upto(100))[: len(by["first_primes"].primes)]


def test_design_rejects_impossible_parameters():
    with pytest.raises(ValueError, match="eps must lie in"):
        design(100, 0.5, 10, 0.01)
    with pytest.raises(ValueError, match="no prime-ring design"):
        design(20, 0.3, 10**6, 1e-6)
    with pytest.raises(ValueError, match="objective"):
        design(100, 0.1, 10, 0.01, objective="longest")
