"""Measurements on trajectories, shared by every model family and experiment.

* **Level crossings.** :func:`crossing` — where a sampled curve (a retrieved fraction over
  loads, a sustained fraction over gains, a survival over noise rates) first or last crosses a
  level, linearly interpolated (host-side numpy, for summaries); :func:`crossing_times` /
  :func:`crossing_period` — the same inside JAX, differentiable: ``t_c = t_k +
  (c − x_k)/(x_{k+1} − x_k) Δt``. By the implicit-function theorem ``dt_c/dθ =
  −(∂x/∂θ)/(∂x/∂t)`` at the crossing, which the interpolation reproduces when the saves resolve
  the signal's rise: use a *slow* signal (the reasoning model's saliency ``α``, not the overlap
  that jumps on the fast timescale ``τ_x``, whose gradient vanishes between coarse saves).
  :func:`autocorr_period` — the lag of the highest autocorrelation peak.
* **Leader transitions** of continuous dynamics: :func:`measure_transitions` (hysteresis,
  interpolated transition times, saliency peaks; :class:`Transitions`).
* **What a run ended in.** :func:`classify` labels a final state against the stored patterns
  (retrieved, another pattern, a k-mixture, a spin-glass state, a partial overlap, a cycle);
  :func:`label_names` / :func:`label_fractions` read the labels on the host.
* **Sequences and episodes.** :func:`leader` (the leading memory and its overlap),
  :func:`decode_sequence` (the retrieved sequence), :func:`episode_success` (the GSEMM paper's
  criterion, Karuvally et al. 2023, appendix C), :func:`judge_episode` (both, as an
  :class:`Episode`), :func:`successor`; and their smooth versions for tuning,
  :func:`soft_transitions` / :func:`soft_order` (soft leader ``p_t = softmax(β m_t)``, soft
  transition counts ``M = Σ_t p_t p_{t+1}ᵀ``; as ``β → ∞`` the hard counts of
  :func:`decode_sequence`).

Everything but :func:`crossing` is pure ``jnp``: jit-, vmap- (and where it makes sense grad-)
compatible.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

__all__ = [
    "LABELS",
    "Attractor",
    "Episode",
    "EpisodeState",
    "SoftOrder",
    "Transitions",
    "autocorr_period",
    "classify",
    "crossing",
    "crossing_period",
    "crossing_times",
    "cycle_lengths",
    "decode_sequence",
    "episode_success",
    "episode_update",
    "judge_episode",
    "label_fractions",
    "label_names",
    "leader",
    "measure_transitions",
    "soft_order",
    "soft_transitions",
    "successor",
]


# ----------------------------------------------------------------------------- crossings


def crossing(
    x: Float[ArrayLike, " n"],
    y: Float[ArrayLike, " n"],
    level: float = 0.5,
    *,
    direction: str = "down",
    last: bool = False,
) -> float | None:
    """The ``x`` at which the sampled curve ``y(x)`` crosses ``level``, linearly interpolated
    between the two samples that bracket it: ``x_k + (y_k − c)(x_{k+1} − x_k)/(y_k − y_{k+1})``.

    ``direction="down"``: a crossing is ``y_k ≥ c > y_{k+1}`` (e.g. a retrieved fraction falling
    through ½ as the load grows); ``"up"``: ``y_k < c ≤ y_{k+1}`` (e.g. a sustained fraction
    rising through ½ as the gain grows). The first crossing, or the last with ``last=True``;
    ``None`` when there is none (the level is never crossed inside the grid). Host-side (numpy),
    for summaries.
    """
    if direction not in ("down", "up"):
        raise ValueError(f"direction must be 'down' or 'up'; got {direction!r}.")
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of equal length; got {x.shape}, {y.shape}.")
    if direction == "down":
        (hits,) = np.nonzero((y[:-1] >= level) & (y[1:] < level))
    else:
        (hits,) = np.nonzero((y[:-1] < level) & (y[1:] >= level))
    if len(hits) == 0:
        return None
    i = hits[-1] if last else hits[0]
    x0, x1, y0, y1 = x[i], x[i + 1], y[i], y[i + 1]
    return float(x0 + (y0 - level) * (x1 - x0) / (y0 - y1))


def _crossings(ts: Array, x: Array, level: float | Array, direction: str) -> tuple[Array, Array]:
    """Per save interval: whether ``x`` crosses ``level`` and the interpolated crossing time."""
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be 'up', 'down' or 'both'; got {direction!r}.")
    ts, x = jnp.asarray(ts), jnp.asarray(x)
    if x.ndim != 1 or ts.shape != x.shape or x.shape[0] < 2:
        raise ValueError(f"ts and x must be 1-D of equal length >= 2; got {ts.shape}, {x.shape}.")
    d = x - level
    d0, d1 = d[:-1], d[1:]
    up = (d0 < 0) & (d1 >= 0)
    down = (d0 >= 0) & (d1 < 0)
    hit = {"up": up, "down": down, "both": up | down}[direction]
    denom = jnp.where(hit, d1 - d0, 1.0)
    frac = jnp.where(hit, -d0 / denom, 0.0)
    return hit, ts[:-1] + frac * (ts[1:] - ts[:-1])


def crossing_times(
    ts: Float[ArrayLike, " T"],
    x: Float[ArrayLike, " T"],
    level: float | Array,
    *,
    direction: str = "up",
    max_crossings: int = 32,
) -> tuple[Float[Array, " K"], Array]:
    """Times at which ``x`` crosses ``level`` (``"up"``, ``"down"`` or ``"both"``), linearly
    interpolated between saves (described in :mod:`hopjax.measure`); differentiable in ``x`` and
    ``ts``.

    Returns ``(times, count)``: the first ``max_crossings`` times (NaN-padded) and how many
    crossings there were in all.
    """
    hit, t = _crossings(ts, x, level, direction)
    (idx,) = jnp.nonzero(hit, size=max_crossings, fill_value=0)
    valid = jnp.arange(max_crossings) < jnp.sum(hit)
    return jnp.where(valid, t[idx], jnp.nan), jnp.sum(hit)


def crossing_period(
    ts: Float[ArrayLike, " T"],
    x: Float[ArrayLike, " T"],
    level: float | Array,
    *,
    cycles: int = 1,
    direction: str = "up",
) -> Float[Array, ""]:
    """Mean spacing of the last ``cycles + 1`` crossings of ``level``: ``(t_n − t_{n−c}) / c``.

    A smooth surrogate of a trajectory's period (one crossing per cycle in the chosen direction;
    the last cycles are used, after the transient). NaN with fewer than ``cycles + 1`` crossings.
    """
    if cycles < 1:
        raise ValueError(f"cycles must be >= 1; got {cycles}.")
    hit, t = _crossings(ts, x, level, direction)
    rank = jnp.cumsum(hit)
    n = rank[-1]
    last = jnp.sum(jnp.where(hit & (rank == n), t, 0.0))
    first = jnp.sum(jnp.where(hit & (rank == n - cycles), t, 0.0))
    return jnp.where(n >= cycles + 1, (last - first) / cycles, jnp.nan)


def autocorr_period(
    ts: Float[ArrayLike, " T"],
    x: Float[ArrayLike, "T *D"],
    *,
    min_lag: float,
    max_lag: float | None = None,
) -> Float[Array, ""]:
    """Period from the autocorrelation ``C(k) = Σ_t ⟨x_t − x̄, x_{t+k} − x̄⟩ / (T − k)``.

    The lag ``k ∈ [min_lag, max_lag]`` (time units; default up to half the record) of the
    largest ``C`` is refined by the vertex of the parabola through ``C(k−1), C(k), C(k+1)``:
    ``(k + ½ (C_{k−1} − C_{k+1}) / (C_{k−1} − 2C_k + C_{k+1})) Δt``. Needs uniform ``ts``;
    ``C`` by FFT (``O(T log T)``). ``x`` may carry trailing feature axes (overlaps ``(T, P)``).
    """
    ts = jnp.asarray(ts)
    x = jnp.asarray(x)
    if ts.ndim != 1 or x.shape[0] != ts.shape[0] or ts.shape[0] < 8:
        raise ValueError(f"need ts (T,) and x (T, ...) with T >= 8; got {ts.shape}, {x.shape}.")
    T = ts.shape[0]
    dt = (ts[-1] - ts[0]) / (T - 1)
    xc = (x - x.mean(axis=0)).reshape(T, -1)
    n = 2 * T
    f = jnp.fft.rfft(xc, n=n, axis=0)
    c = jnp.fft.irfft(f * jnp.conj(f), n=n, axis=0)[:T].sum(axis=1) / (T - jnp.arange(T))
    k = jnp.arange(T)
    lo = jnp.ceil(min_lag / dt)
    hi = T // 2 if max_lag is None else jnp.floor(max_lag / dt)
    allowed = (k >= jnp.maximum(lo, 1)) & (k <= jnp.minimum(hi, T - 2))
    kbest = jnp.argmax(jnp.where(allowed, c, -jnp.inf))
    cm, c0, cp = c[kbest - 1], c[kbest], c[kbest + 1]
    curv = cm - 2 * c0 + cp
    shift = jnp.where(curv < 0, 0.5 * (cm - cp) / jnp.where(curv < 0, curv, -1.0), 0.0)
    return (kbest + jnp.clip(shift, -0.5, 0.5)) * dt


class SoftOrder(eqx.Module):
    """Soft transition statistics of an overlap trajectory (:func:`soft_order`).

    ``correct``: soft count of moves along ``Φ``; ``wrong``: of other moves between memories;
    ``quality``: mean of ``Σ_k p_t[k] m_t[k]`` (the soft leader's overlap); ``visits``: soft
    number of saves each memory led, ``(P,)``.
    """

    correct: Array
    wrong: Array
    quality: Array
    visits: Array

    @property
    def order_score(self) -> Array:
        """``correct / (correct + wrong)`` — the soft fraction of moves in the right order."""
        return self.correct / jnp.maximum(self.correct + self.wrong, 1e-12)


def soft_transitions(
    m: Float[ArrayLike, "T P"], *, beta: float | Array = 20.0
) -> Float[Array, "P P"]:
    """Soft transition counts ``M = Σ_t p_t p_{t+1}ᵀ`` with ``p_t = softmax(β m_t)``.

    ``M[i, j]`` → the number of save-to-save moves from leader ``i`` to leader ``j`` as
    ``β → ∞`` (the diagonal counts stays).
    """
    m = jnp.asarray(m)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(f"m must be overlaps of shape (T, P) with T >= 2; got {m.shape}.")
    p = jax.nn.softmax(beta * m, axis=-1)
    return p[:-1].T @ p[1:]


def soft_order(
    m: Float[ArrayLike, "T P"], phi: Float[ArrayLike, "P P"], *, beta: float | Array = 20.0
) -> SoftOrder:
    """Soft order-correctness of a retrieved episode: the overlaps ``m`` (saved at a spacing
    shorter than a dwell) judged against the successor matrix ``phi`` (``phi[i, j] = 1`` when
    ``j`` follows ``i``); see :class:`SoftOrder` and :mod:`hopjax.measure`."""
    m = jnp.asarray(m)
    phi = jnp.asarray(phi, m.dtype)
    if phi.shape != (m.shape[-1],) * 2:
        raise ValueError(f"phi must be (P, P) with P = {m.shape[-1]}; got {phi.shape}.")
    M = soft_transitions(m, beta=beta)
    off = 1.0 - jnp.eye(phi.shape[0], dtype=m.dtype)
    correct = jnp.sum(M * phi * off)
    wrong = jnp.sum(M * off) - correct
    p = jax.nn.softmax(beta * m, axis=-1)
    quality = jnp.mean(jnp.sum(p * m, axis=-1))
    return SoftOrder(correct, wrong, quality, p.sum(axis=0))


# ----------------------------------------------------------------------------- transitions


class Transitions(eqx.Module):
    """Transitions of the leading memory in a saved trajectory (fixed-size, vmappable).

    ``times[k]`` is the ``k``-th time the leading overlap changed (interpolated crossing of the old
    and new leader's overlaps), ``to[k]`` the new leader; ``peaks[k]`` is the largest saliency of
    the leader during its ``k``-th dwell (``peaks[0]`` for the initial memory), i.e. the measured
    ``a_k`` of the peak map. Unused entries are NaN (``to``: −1). ``count`` transitions happened
    (it may exceed the capacity ``len(times)``; then only the first ones are stored).
    ``active_end``: the leading overlap at the end is at least ``active``.
    """

    times: Float[Array, " K"]
    to: Int[Array, " K"]
    peaks: Float[Array, " K1"]
    count: Int[Array, ""]
    active_end: Array
    last_time: Float[Array, ""]

    def sustained(self, t1: float | Array, window: float = 0.25) -> Array:
        """Active at the end and a transition within the last ``window · t1`` (not collapsed to
        the origin, not stuck on a fixed point)."""
        return self.active_end & (self.last_time >= (1.0 - window) * t1)

    def period(self, cycle_length: int, cycles: int = 1) -> Float[Array, ""]:
        """Mean period over the last ``cycles`` full cycles: ``(t_K − t_{K−L·c}) / c``.

        NaN when fewer than ``L·c + 1`` transitions were stored.
        """
        K = jnp.minimum(self.count, self.times.shape[0])
        lag = cycle_length * cycles
        t_last = self.times[jnp.clip(K - 1, 0)]
        t_first = self.times[jnp.clip(K - 1 - lag, 0)]
        return jnp.where(K >= lag + 1, (t_last - t_first) / cycles, jnp.nan)


def measure_transitions(
    ts: Float[Array, " T"],
    m: Float[Array, "T P"],
    alpha: Float[Array, "T P"] | None = None,
    *,
    max_transitions: int = 64,
    active: float = 0.5,
    margin: float = 0.05,
) -> Transitions:
    """Find the transitions between memories in overlaps ``m`` saved at times ``ts``.

    The leader is tracked with hysteresis (``lax.scan`` over the save points): memory ``ν`` takes
    over when ``m_ν ≥ active`` and ``m_ν > m_leader + margin``, so near-ties of mixed states and
    activity near the origin never count as transitions. A transition's time is the linearly
    interpolated last crossing ``m_ν = m_leader`` before the take-over (event-free, exact for fine
    saves). With ``alpha`` the peaks ``a_k`` (the leader's largest saliency during each dwell) are
    measured too (otherwise NaN). Pure ``jnp``: ``vmap`` over runs.
    """
    _T, P = m.shape
    dtype = m.dtype
    K = max_transitions

    def body(carry: tuple, inp: tuple) -> tuple:
        lead, cross, m_prev, t_prev, count, times, to, peaks = carry
        t, m_t, a_t = inp
        valid = lead >= 0
        m_lead = m_t[jnp.clip(lead, 0)]
        d_now = m_t - m_lead
        d_prev = m_prev - m_prev[jnp.clip(lead, 0)]
        up = valid & (d_prev <= 0) & (d_now > 0)
        frac = -d_prev / jnp.where(up, d_now - d_prev, 1.0)
        cross = jnp.where(up, t_prev + frac * (t - t_prev), cross)
        cand = jnp.argmax(m_t)
        take = (m_t[cand] >= active) & (~valid | (m_t[cand] > m_lead + margin)) & (cand != lead)
        is_tr = take & valid
        slot = jnp.where(is_tr, count, K)
        times = times.at[slot].set(cross[cand], mode="drop")
        to = to.at[slot].set(cand, mode="drop")
        count = count + is_tr
        new_lead = jnp.where(take, cand, lead)
        # crossings are relative to the leader: restart them when it changes
        cross = jnp.where(take, jnp.where(m_t > m_t[cand], t, jnp.nan), cross)
        seg = jnp.where(new_lead >= 0, jnp.minimum(count, K), K + 1)
        a_lead = a_t[jnp.clip(new_lead, 0)]
        peaks = peaks.at[seg].max(a_lead, mode="drop")
        return (new_lead, cross, m_t, t, count, times, to, peaks), None

    a_in = jnp.zeros_like(m) if alpha is None else alpha
    init = (
        jnp.asarray(-1),
        jnp.full((P,), jnp.nan, ts.dtype),
        m[0],
        ts[0],
        jnp.asarray(0, jnp.int32),
        jnp.full((K,), jnp.nan, ts.dtype),
        jnp.full((K,), -1, jnp.int32),
        jnp.full((K + 1,), -jnp.inf, dtype),
    )
    (_lead, _, _, _, count, times, to, peaks), _ = jax.lax.scan(body, init, (ts, m, a_in))
    stored = jnp.minimum(count, K)
    has = jnp.arange(K + 1) <= stored
    if alpha is None:
        peaks = jnp.full((K + 1,), jnp.nan, dtype)
    else:
        peaks = jnp.where(has & jnp.isfinite(peaks), peaks, jnp.nan)
    active_end = jnp.max(m[-1]) >= active
    last = jnp.where(count > 0, times[jnp.clip(stored - 1, 0)], jnp.nan)
    return Transitions(times, to, peaks, count, active_end, last)


# ----------------------------------------------------------------------------- sequences


def successor(phi: Float[Array, "P P"]) -> Int[Array, " P"]:
    """The next memory of each memory under ``Φ`` (``−1`` if it has none)."""
    has = jnp.any(phi != 0, axis=1)
    return jnp.where(has, jnp.argmax(phi != 0, axis=1), -1).astype(jnp.int32)


def decode_sequence(
    lead: Int[Array, " T"], top: Float[Array, " T"], *, threshold: float = 0.8, max_len: int = 256
) -> tuple[Int[Array, " L"], Int[Array, ""]]:
    """The retrieved sequence: the leading memory ``lead[t]`` whenever its overlap ``top[t]``
    exceeds ``threshold``, recorded on change (``lax.scan``; vmappable).

    Returns ``(seq, count)``: ``seq[:count]`` (capped at ``max_len``; unused entries −1); the
    first entry is the first memory retrieved (normally the cue).
    """

    def body(carry: tuple, inp: tuple) -> tuple:
        cur, count, seq = carry
        i, v = inp
        rec = (v > threshold) & (i != cur)
        seq = seq.at[jnp.where(rec, count, max_len)].set(i, mode="drop")
        return (jnp.where(rec, i, cur), count + rec, seq), None

    init = (
        jnp.asarray(-1, jnp.int32),
        jnp.asarray(0, jnp.int32),
        jnp.full((max_len,), -1, jnp.int32),
    )
    (_, count, seq), _ = jax.lax.scan(body, init, (lead.astype(jnp.int32), top))
    return seq, count


def cycle_lengths(succ: Int[Array, " P"]) -> Int[Array, " P"]:
    """Length of the cycle of ``succ`` through every memory (0 where following ``succ`` from it
    never returns to it)."""
    P = succ.shape[0]

    def step(c: tuple, _: None) -> tuple:
        node, length, back = c
        nxt = succ[jnp.clip(node, 0)]
        length = jnp.where(back | (node < 0), length, length + 1)
        return (nxt, length, back | (nxt == jnp.arange(P))), None

    start = jnp.arange(P, dtype=succ.dtype)
    init = (start, jnp.zeros((P,), jnp.int32), jnp.zeros((P,), bool))
    (_, length, back), _ = jax.lax.scan(step, init, None, length=P)
    return jnp.where(back, length, 0)


def episode_success(
    seq: Int[Array, " L"], count: Int[Array, ""], succ: Int[Array, " P"], *, repeats: int = 3
) -> tuple[Array, Array]:
    """The GSEMM paper's criterion (appendix C): the model "retrieves the memories in the cycle
    in the correct order at least ``repeats`` times with no errors" — the first ``repeats · L``
    recorded steps all follow ``Φ`` (``seq[k+1] = succ[seq[k]]``), ``L`` the length of the cycle
    through the first memory. What happens after those steps does not count.

    Returns ``(success, n_correct)`` with ``n_correct`` the number of correct steps before the
    first error (all stored steps when there is none). A count beyond ``len(seq)`` counts only
    the stored steps. The rule is :func:`episode_update`'s, record by record (one
    implementation for the judgement after a run and during it).
    """
    L_max = seq.shape[0]
    stored = jnp.minimum(count, L_max)
    need = repeats * cycle_lengths(succ)
    ts = jnp.arange(L_max)

    def step(state: EpisodeState, x: tuple[Array, Array]) -> tuple[EpisodeState, None]:
        k, m = x
        return _record(state, k < stored, m, k.astype(jnp.float32), succ, need, None, None), None

    state = jax.lax.scan(step, EpisodeState.initial(), (ts, seq.astype(jnp.int32)))[0]
    return state.success, state.correct


class EpisodeState(eqx.Module):
    """The judgement of an episode, one record (or save) at a time (:func:`episode_update`), so
    an integration can stop once the verdict is known.

    ``cur``: the last recorded memory (−1 before the first); ``count``: records; ``correct``:
    correct steps before the first wrong one; ``erred``: a wrong step was recorded; ``need``:
    ``repeats · L`` once the first memory is known; ``t_last``: time of the last record;
    ``decided`` / ``success`` / ``t_decided``: the verdict and when it was reached.
    """

    cur: Array
    count: Array
    correct: Array
    erred: Array
    need: Array
    t_last: Array
    decided: Array
    success: Array
    t_decided: Array

    @classmethod
    def initial(cls, dtype: jnp.dtype = jnp.float32) -> EpisodeState:
        i, f = jnp.asarray(0, jnp.int32), jnp.asarray(0.0, dtype)
        no = jnp.asarray(False)
        return cls(i - 1, i, i, no, i, f, no, no, jnp.asarray(jnp.nan, dtype))


def _record(
    state: EpisodeState,
    rec: Array,
    lead: Array,
    t: Array,
    succ: Int[Array, " P"],
    need_per_memory: Int[Array, " P"],
    start: int | Array | None,
    max_len: int | None,
) -> EpisodeState:
    """Appendix C's rule on one record (``rec``: memory ``lead`` was recorded at ``t``) — the
    one implementation behind :func:`episode_update` (during a run) and
    :func:`episode_success` / :func:`judge_episode` (after it).

    The first record fixes ``need = repeats · L`` and must be a memory (and ``start`` when
    given) on a cycle; every later record is a step, correct when it follows ``succ``. The
    verdict: failure at the first wrong record, success once ``need`` correct steps are made.
    Correct steps are counted up to the first wrong one, over the first ``max_len`` records
    (``None``: all), whatever the verdict (so a failed start still reports its steps).
    """
    first = state.count == 0
    ok_first = lead >= 0 if start is None else (lead >= 0) & (lead == start)
    step_ok = lead == succ[jnp.clip(state.cur, 0)]
    ok = jnp.where(first, ok_first, step_ok)
    need = jnp.where(rec & first, need_per_memory[jnp.clip(lead, 0)], state.need)
    counted = rec & ~first & ~state.erred
    if max_len is not None:
        counted = counted & (state.count < max_len)
    correct = state.correct + (counted & step_ok)
    fail = rec & (~ok | (first & (need == 0)))
    win = rec & ok & ~first & (correct >= need) & ~state.decided
    now = (fail | win) & ~state.decided
    return EpisodeState(
        cur=jnp.where(rec, lead, state.cur),
        count=state.count + rec,
        correct=correct,
        erred=state.erred | (counted & ~step_ok),
        need=need,
        t_last=jnp.where(rec, t, state.t_last),
        decided=state.decided | now,
        success=state.success | win,
        t_decided=jnp.where(now, t, state.t_decided),
    )


def episode_update(
    state: EpisodeState,
    t: Array,
    lead: Array,
    top: Array,
    succ: Int[Array, " P"],
    need_per_memory: Int[Array, " P"],
    *,
    threshold: float = 0.8,
    start: int | Array | None = None,
    stall_time: float | Array = jnp.inf,
) -> EpisodeState:
    """Advance the online episode judgement by one save ``(t, lead, top)``.

    A save records its leading memory when ``top > threshold`` and it differs from the last one
    (:func:`decode_sequence`'s rule); the record is judged by the rule of :func:`episode_success`
    (with ``start``, like :func:`judge_episode`): failure at the first wrong record (or a first
    record other than ``start``), success once ``need`` correct steps are made
    (``need_per_memory`` = ``repeats · cycle_lengths(succ)``); plus one rule of its own: no
    record for ``stall_time`` after the last one (or after ``t = 0``) decides failure — a run
    stalled in a mixed state. Once decided, nothing more is recorded (the state is frozen).
    """
    rec = (top > threshold) & (lead != state.cur) & ~state.decided
    new = _record(state, rec, lead, t, succ, need_per_memory, start, None)
    stall = ~state.decided & ~rec & (t - new.t_last > stall_time)
    return dataclasses.replace(
        new,
        decided=new.decided | stall,
        t_decided=jnp.where(stall, t, new.t_decided),
    )


# ----------------------------------------------------------------------------- episodes


def leader(m: Float[Array, "*T P"]) -> tuple[Int[Array, "*T"], Float[Array, "*T"]]:
    """The leading memory ``argmax_k m_k`` (int32) and its overlap ``max_k m_k`` (last axis)."""
    return jnp.argmax(m, axis=-1).astype(jnp.int32), jnp.max(m, axis=-1)


class Episode(eqx.Module):
    """A judged episode (:func:`judge_episode`; batched by ``vmap`` like any pytree).

    ``success``: appendix C's criterion (and the decoded sequence starts at ``start`` when one
    was given); ``correct_steps``: correct steps before the first error; ``n_retrieved``:
    memories recorded; ``seq``: the decoded sequence (``seq[:n_retrieved]``, capped; unused
    entries −1); ``lead`` / ``top``: the leader and its overlap at every save; ``finite``: the
    final state was finite (set by the integrating caller, e.g.
    :func:`hopjax.episodes.run_episode`; ``None`` otherwise).
    """

    success: Array
    correct_steps: Array
    n_retrieved: Array
    seq: Int[Array, " L"]
    lead: Int[Array, " T"]
    top: Float[Array, " T"]
    finite: Array | None = None


def judge_episode(
    lead: Int[Array, " T"],
    top: Float[Array, " T"],
    succ: Int[Array, " P"],
    *,
    threshold: float = 0.8,
    repeats: int = 3,
    start: int | Array | None = None,
    max_len: int | None = None,
) -> Episode:
    """Decode the retrieved sequence from the leader trace ``(lead, top)``
    (:func:`decode_sequence`) and judge it against the successor map ``succ``: appendix C's
    rule (:func:`episode_success`) on every record, the records never frozen by the verdict, so
    ``correct_steps`` counts on to the first error; with ``start``, success also needs the
    sequence to begin at memory ``start`` (the cue). ``max_len`` defaults to the number of
    saves."""
    max_len = lead.shape[0] if max_len is None else max_len
    seq, count = decode_sequence(lead, top, threshold=threshold, max_len=max_len)
    need = repeats * cycle_lengths(succ)
    lead = lead.astype(jnp.int32)

    def step(state: EpisodeState, x: tuple[Array, Array, Array]) -> tuple[EpisodeState, None]:
        t, le, to = x
        rec = (to > threshold) & (le != state.cur)
        return _record(state, rec, le, t, succ, need, start, max_len), None

    ts = jnp.arange(lead.shape[0], dtype=top.dtype)
    state = jax.lax.scan(step, EpisodeState.initial(top.dtype), (ts, lead, top))[0]
    return Episode(state.success, state.correct, count, seq, lead, top)


# ----------------------------------------------------------------------------- attractors

LABELS = ("retrieved", "other_pattern", "mixture", "spin_glass", "partial", "cycle", "unconverged")
"""The labels of :func:`classify`, by code (``Attractor.label``)."""


class Attractor(eqx.Module):
    """What :func:`classify` returns for one run (batched by ``vmap``): ``label`` (an index of
    :data:`LABELS`), ``k`` (the mixture's order, the cycle's period, else 0), ``pattern`` (the
    pattern with the largest ``|m|``), ``overlap`` (its signed overlap), ``symmetric`` (a
    mixture whose ``k`` overlaps all lie within the tolerance of the symmetric ``k``-mixture's
    ``m_k = 2^{1−k} C(k−1, (k−1)/2)``: 0.5 at ``k = 3``, 0.375 at 5) and ``energy`` (when
    given)."""

    label: Int[Array, ""]
    k: Int[Array, ""]
    pattern: Int[Array, ""]
    overlap: Float[Array, ""]
    symmetric: Array
    energy: Array | None = None


def _symmetric_overlap(k: Array) -> Array:
    """``m_k = 2^{1−k} C(k−1, (k−1)/2)`` for odd ``k`` (the symmetric mixture ``sgn Σ_{μ≤k} ξ^μ``
    of Amit, Gutfreund & Sompolinsky 1985), by ``lgamma``."""
    k = k.astype(jnp.float32)
    h = (k - 1.0) / 2.0
    logc = jax.lax.lgamma(k) - 2.0 * jax.lax.lgamma(h + 1.0)
    return jnp.exp(logc + (1.0 - k) * jnp.log(2.0))


def classify(
    patterns: Float[ArrayLike, "P N"],
    state: Float[ArrayLike, " N"],
    *,
    target: int | Array | None = None,
    period: int | Array | None = None,
    energy: float | Array | None = None,
    threshold: float = 0.95,
    significant: float = 0.2,
    tolerance: float = 0.1,
) -> Attractor:
    """Label the state a run ended in by its overlaps ``m_μ = ξ^μ·s/N`` with the patterns.

    In order: ``cycle`` when ``period ≥ 2`` (``k`` = the period; a synchronous 2-cycle),
    ``unconverged`` when ``period = 0`` (no attractor within the run); ``retrieved`` when the
    overlap with ``target`` is ``≥ threshold``; ``other_pattern`` when another pattern (or a
    reversed one, ``−ξ^μ``) has ``|m| ≥ threshold`` (or when no ``target`` is given and one
    has); ``mixture`` when no overlap reaches ``threshold`` but ``k ≥ 2`` overlaps have
    ``|m| ≥ significant`` (``k`` their number; ``symmetric`` when each lies within
    ``tolerance`` of the symmetric ``k``-mixture's ``m_k``: the mixtures of Amit, Gutfreund &
    Sompolinsky 1985); ``partial`` when exactly one does; ``spin_glass`` when none does (no
    macroscopic overlap). Pure ``jnp``: ``vmap`` it over runs.

    Args:
        patterns: stored patterns ``(P, N)``.
        state: the final state ``(N,)``.
        target: the cued pattern's index (``None``: none).
        period: the run's period (1: a fixed point, 2: a 2-cycle, 0: not converged;
            ``None``: a fixed point), e.g. :class:`hopjax.RunResult`'s ``period``.
        energy: the state's energy, carried into the result.
        threshold: the overlap counting as a pattern.
        significant: the overlap counting as part of a mixture.
        tolerance: the distance from ``m_k`` still counted as a symmetric mixture.

    Returns:
        An :class:`Attractor`.

    Example:
        ```python
        res = hj.run(net, cue, max_steps=20)
        lab = hj.measure.classify(xi, res.state, target=0, period=res.period)
        hj.measure.label_names(lab)  # e.g. "retrieved"
        ```
    """
    xi = jnp.asarray(patterns)
    s = jnp.asarray(state, xi.dtype)
    m = xi @ s / xi.shape[1]
    a = jnp.abs(m)
    top = jnp.argmax(a).astype(jnp.int32)
    big = a[top] >= threshold
    if target is None:
        hit = jnp.asarray(False)
    else:
        hit = m[jnp.asarray(target)] >= threshold
    k = jnp.sum(a >= significant).astype(jnp.int32)
    mk = _symmetric_overlap(jnp.maximum(k, 1))
    sym = (
        (k >= 3)
        & (k % 2 == 1)
        & jnp.all(jnp.where(a >= significant, jnp.abs(a - mk) <= tolerance, True))
    )
    label = jnp.where(
        hit, 0, jnp.where(big, 1, jnp.where(k >= 2, 2, jnp.where(k == 1, 4, 3)))
    ).astype(jnp.int32)
    out_k = jnp.where(label == 2, k, 0)
    if period is not None:
        period = jnp.asarray(period, jnp.int32)
        label = jnp.where(period >= 2, 5, jnp.where(period == 0, 6, label)).astype(jnp.int32)
        out_k = jnp.where(period >= 2, period, out_k)
    e = None if energy is None else jnp.asarray(energy)
    return Attractor(label, out_k.astype(jnp.int32), top, m[top], sym & (label == 2), e)


def label_names(att: Attractor) -> str | list:
    """The labels of one result or a batch as text: ``"mixture(3)"``, ``"cycle(2)"``,
    ``"retrieved"`` … (host-side).

    Args:
        att: a :class:`Attractor` (one run, or batched).

    Returns:
        One name, or a nested list of names shaped like the batch.
    """
    label, k = np.asarray(att.label), np.asarray(att.k)

    def one(lab: int, kk: int) -> str:
        name = LABELS[int(lab)]
        return f"{name}({int(kk)})" if name in ("mixture", "cycle") else name

    if label.ndim == 0:
        return one(label, k)
    return np.vectorize(one, otypes=[object])(label, k).tolist()


def label_fractions(att: Attractor) -> dict[str, float]:
    """The fraction of runs per label (every label of :data:`LABELS`, mixtures and cycles of
    every order together), host-side.

    Args:
        att: a batched :class:`Attractor`.

    Returns:
        ``{label: fraction}``.
    """
    label = np.asarray(att.label).ravel()
    n = max(len(label), 1)
    return {name: float(np.sum(label == i)) / n for i, name in enumerate(LABELS)}
