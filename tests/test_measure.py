"""hopjax.measure: level crossings (host and JAX), episode judgement, leaders."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hopjax.gsemm import episodes_matrix
from hopjax.measure import (
    Episode,
    EpisodeState,
    crossing,
    crossing_times,
    cycle_lengths,
    episode_success,
    episode_update,
    judge_episode,
    leader,
    successor,
)


def test_crossing_down_first_and_up_last():
    a = np.array([0.1, 0.2, 0.3])
    assert crossing(a, [1.0, 0.6, 0.2]) == pytest.approx(0.225)  # falls through 0.5
    assert crossing(a, [1.0, 0.9, 0.8]) is None  # never falls below: beyond the grid
    assert crossing(a, [0.4, 0.2, 0.0]) is None  # starts below: no crossing
    assert crossing(a, [0.4, 0.6, 0.2]) == pytest.approx(0.225)  # the first fall through
    g = np.array([3.5, 3.7, 3.9, 4.1])
    up = dict(direction="up", last=True)
    assert crossing(g, [0, 0, 1, 1.0], **up) == pytest.approx(3.8)
    assert crossing(g, [1, 1, 1, 1.0], **up) is None and crossing(g, [0, 0, 0, 0.0], **up) is None
    assert crossing(g, [0, 1, 0, 1.0], **up) == pytest.approx(4.0)  # the last rise
    assert crossing(g, [0, 1, 0, 1.0], direction="up") == pytest.approx(3.6)
    # a sample exactly at the level counts as "at or above": the crossing is that sample
    assert crossing([0.0, 1.0, 2.0], [1.0, 0.5, 0.0]) == 1.0
    assert crossing([0.0, 1.0, 2.0], [0.0, 0.5, 1.0], direction="up") == 1.0
    with pytest.raises(ValueError, match="direction"):
        crossing(a, a, direction="sideways")
    with pytest.raises(ValueError, match="equal length"):
        crossing(a, a[:2])


def test_host_and_jax_crossings_agree():
    ts = np.linspace(0.0, 10.0, 101)
    x = np.sin(ts)
    times, n = crossing_times(jnp.asarray(ts), jnp.asarray(x), 0.0, direction="down")
    assert int(n) == 2
    assert float(times[0]) == pytest.approx(crossing(ts, x, 0.0), abs=1e-5)
    assert float(times[0]) == pytest.approx(np.pi, abs=1e-3)


def test_judge_episode_and_leader():
    phi = episodes_matrix([[0, 1, 2], [3, 4, 5, 6]], 7)
    succ = successor(phi)
    m = jax.nn.one_hot(jnp.array([4, 5, 6, 3] * 3 + [4]), 7) * 0.9
    lead, top = leader(m)
    assert lead.dtype == jnp.int32 and float(top[0]) == pytest.approx(0.9)
    ep = judge_episode(lead, top, succ, start=4)
    assert isinstance(ep, Episode) and bool(ep.success)
    assert int(ep.correct_steps) == 12 and int(ep.n_retrieved) == 13 and ep.finite is None
    assert not bool(judge_episode(lead, top, succ, start=3).success)  # must start at the cue
    assert not bool(judge_episode(lead, top, succ, repeats=4).success)  # 3 cycles only
    # vmappable over traces
    eps = jax.vmap(lambda le, to: judge_episode(le, to, succ))(
        jnp.stack([lead, lead]), jnp.stack([top, 0.5 * top])
    )
    assert eps.success.tolist() == [True, False]  # below the 0.8 threshold nothing is recorded


def test_online_judgement_equals_judging_the_whole_trace():
    """episode_update save by save (no stall rule) decides exactly what judge_episode decides
    from the whole trace, on 200 random traces of a 3- and a 4-cycle (mostly correct steps,
    occasional wrong leaders and sub-threshold saves); a failure keeps its correct steps
    (none when the first record is not the start, which judge_episode counts on from there)."""
    phi = episodes_matrix([[0, 1, 2], [3, 4, 5, 6]], 7)
    succ = successor(phi)
    need = 3 * cycle_lengths(succ)
    rng = np.random.default_rng(0)
    L = 120
    leads, tops, starts = [], [], []
    for _ in range(200):
        start = int(rng.integers(7))
        lead, cur = [], start
        while len(lead) < L:
            lead += [cur] * int(rng.integers(1, 4))
            cur = int(succ[cur]) if rng.random() > 0.04 else int(rng.integers(7))
        leads.append(lead[:L])
        tops.append(np.where(rng.random(L) < 0.1, 0.5, 0.9))
        starts.append(start)
    lead = jnp.asarray(leads, jnp.int32)
    top = jnp.asarray(np.array(tops), jnp.float32)
    start = jnp.asarray(starts, jnp.int32)

    def online(lead, top, start):
        def step(st, x):
            t, le, to = x
            return episode_update(st, t, le, to, succ, need, start=start), None

        xs = (jnp.arange(L, dtype=jnp.float32), lead, top)
        return jax.lax.scan(step, EpisodeState.initial(), xs)[0]

    st = jax.jit(jax.vmap(online))(lead, top, start)
    want = jax.vmap(lambda le, to, s: judge_episode(le, to, succ, start=s, max_len=L))(
        lead, top, start
    )
    ok = np.asarray(want.success)
    np.testing.assert_array_equal(np.asarray(st.success), ok)
    assert 0 < ok.sum() < len(ok)
    right_start = ~ok & (np.asarray(want.seq[:, 0]) == np.asarray(start))
    np.testing.assert_array_equal(
        np.asarray(st.correct)[right_start], np.asarray(want.correct_steps)[right_start]
    )
    assert np.all(np.asarray(st.correct)[~ok & ~right_start] == 0)  # a wrong first record


def _reference_judgement(lead, top, succ, cyclen, threshold, repeats, start, max_len):
    """Appendix C written directly on the decoded sequence (numpy, no shared code with the
    library's record-by-record rule): the reference the one implementation is tested against."""
    seq, cur = [], -1
    for le, to in zip(lead, top, strict=True):
        if to > threshold and le != cur:
            seq.append(int(le))
            cur = le
    count, stored = len(seq), min(len(seq), max_len)
    bad = [k for k in range(stored - 1) if seq[k + 1] != succ[max(seq[k], 0)]]
    first_bad = bad[0] if bad else max(stored - 1, 0)
    need = repeats * int(cyclen[max(seq[0], 0)]) if seq else 0
    ok = stored > 0 and first_bad >= need and stored - 1 >= need and need > 0 and seq[0] >= 0
    if start is not None:
        ok = ok and seq[0] == start
    return ok, first_bad, count


def test_judge_episode_equals_the_criterion_written_on_the_sequence():
    """judge_episode (a scan of the rule episode_update applies online) gives the success,
    correct steps and records of appendix C written directly on the decoded sequence, on 120
    random traces with wrong leaders, sub-threshold saves, wrong starts, a memory on no cycle
    and sequences longer than max_len; episode_success agrees on the decoded sequences."""
    phi = episodes_matrix([[0, 1, 2], [3, 4, 5, 6]], 8)  # memory 7: on no cycle
    succ = successor(phi)
    succ_np, cyclen = np.asarray(succ), np.asarray(cycle_lengths(succ))
    rng = np.random.default_rng(1)
    T = 90
    judge = jax.jit(judge_episode, static_argnames=("repeats", "max_len"))
    success = jax.jit(episode_success, static_argnames=("repeats",))
    for trial in range(120):
        cur = int(rng.integers(8))
        lead = []
        while len(lead) < T:
            lead += [cur] * int(rng.integers(1, 4))
            nxt = succ_np[cur]
            cur = int(nxt) if nxt >= 0 and rng.random() > 0.03 else int(rng.integers(8))
        lead = np.asarray(lead[:T], np.int32)
        top = np.where(rng.random(T) < 0.1, 0.5, 0.9).astype(np.float32)
        start = [None, int(lead[0]), int(rng.integers(8))][trial % 3]
        max_len = [T, 12, 30][trial % 3]
        repeats = [3, 2][trial % 2]
        ep = judge(
            jnp.asarray(lead), jnp.asarray(top), succ, repeats=repeats, max_len=max_len,
            start=None if start is None else jnp.asarray(start),
        )  # fmt: skip
        want = _reference_judgement(lead, top, succ_np, cyclen, 0.8, repeats, start, max_len)
        got = (bool(ep.success), int(ep.correct_steps), int(ep.n_retrieved))
        assert got == want, (trial, got, want)
        ok, correct = success(ep.seq, ep.n_retrieved, succ, repeats=repeats)
        assert (bool(ok), int(correct)) == _reference_judgement(
            lead, top, succ_np, cyclen, 0.8, repeats, None, max_len
        )[:2]


def test_classify_labels_constructed_states():
    """:func:`hopjax.measure.classify` on states built to be each kind: the cued pattern, another
    and a reversed one, the symmetric 3- and 5-mixtures (overlaps ≈ 0.5 and 0.375), an
    asymmetric mixture, a random (spin-glass) state, a partial overlap, a 2-cycle and an
    unconverged run; vmapped over a batch, with names and fractions."""
    import jax
    import jax.numpy as jnp

    import hopjax as hj
    from hopjax.measure import LABELS, classify, label_fractions, label_names

    xi = hj.random_bipolar(jax.random.PRNGKey(0), 10, 2000)
    glass = hj.random_bipolar(jax.random.PRNGKey(5), 1, 2000)[0]
    mix3 = jnp.sign(xi[0] + xi[1] + xi[2])
    mix5 = jnp.sign(xi[:5].sum(0))
    lopsided = jnp.where(jnp.arange(2000) < 1200, xi[0], xi[1])  # overlaps ≈ 0.6 and 0.4
    partial = hj.flip(jax.random.PRNGKey(2), xi[0], fraction=0.3)  # m ≈ 0.4 with ξ1 only
    cases = [
        (xi[0], 1, "retrieved", False),
        (xi[3], 1, "other_pattern", False),
        (-xi[0], 1, "other_pattern", False),
        (mix3, 1, "mixture(3)", True),
        (mix5, 1, "mixture(5)", True),
        (lopsided, 1, "mixture(2)", False),
        (glass, 1, "spin_glass", False),
        (partial, 1, "partial", False),
        (xi[0], 2, "cycle(2)", False),
        (xi[0], 0, "unconverged", False),
    ]
    for state, period, name, symmetric in cases:
        att = classify(xi, state, target=0, period=period, energy=-1.5)
        assert label_names(att) == name, name
        assert bool(att.symmetric) is symmetric, name
        assert float(att.energy) == -1.5
    states = jnp.stack([c[0] for c in cases[:8]])
    batch = jax.jit(jax.vmap(lambda s: classify(xi, s, target=0)))(states)
    assert label_names(batch) == [c[2] for c in cases[:8]]
    frac = label_fractions(batch)
    assert set(frac) == set(LABELS) and sum(frac.values()) == pytest.approx(1.0)
    assert frac["mixture"] == pytest.approx(3 / 8) and frac["other_pattern"] == pytest.approx(2 / 8)
    # without a target, a pattern is just a pattern
    assert label_names(classify(xi, xi[0])) == "other_pattern"
