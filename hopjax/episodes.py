"""Integrating a GSEMM from a cue and judging the episode it retrieves — the one "integrate and
judge" of every GSEMM experiment.

:func:`run_episode` integrates to a fixed horizon (RK4 at constant ``dt``, keeping only the
leading memory at every save) and judges the decoded sequence afterwards
(:func:`hopjax.measure.judge_episode`); :class:`EpisodeJudge` / :func:`decide_episode` judge
while integrating (:func:`hopjax.measure.episode_update`), so integration stops once the
verdict is known. The criterion is appendix C of Karuvally, Sejnowski and Siegelmann, ICML 2023
(arXiv:2212.05563): the memories of the cycle retrieved in order at least ``repeats`` times with
no error.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from hopjax.gsemm import GSEMM, AbstractGSEMM
from hopjax.measure import (
    Episode,
    EpisodeState,
    cycle_lengths,
    episode_update,
    judge_episode,
    leader,
    successor,
)
from hopjax.solve import rk4_scan, rk4_step

__all__ = ["EpisodeJudge", "EpisodeRun", "Verdict", "decide_episode", "run_episode"]


def run_episode(
    model: AbstractGSEMM | GSEMM,
    cue: Float[ArrayLike, " Nf"],
    *,
    t1: float,
    dt: float = 0.01,
    save_every: float = 1.0,
    threshold: float = 0.8,
    repeats: int = 3,
    start: int | Array | None = 0,
    max_len: int | None = None,
) -> Episode:
    """Integrate ``model`` from ``cue`` and judge the episode it retrieves.

    RK4 at the constant step ``dt`` (:func:`hopjax.solve.rk4_scan`, the paper's integrator) for
    ``ceil(t1 / save_every)`` saves of ``round(save_every / dt)`` steps each, keeping only the
    leading memory and its overlap at every save; then the retrieved sequence is decoded (leader
    above ``threshold``, recorded on change) and judged by appendix C's criterion against the
    model's episode matrix (in order ≥ ``repeats`` times, no error, starting at memory
    ``start``; :func:`hopjax.measure.judge_episode`). ``t1``, ``dt``, ``save_every`` and
    ``max_len`` (default: one entry per save) are static. The returned :class:`Episode` carries
    the leader trace and whether the final state stayed finite. Pure JAX: ``vmap`` over models
    and cues runs a whole ensemble.
    """
    n_save = math.ceil(t1 / save_every)
    per = round(save_every / dt)

    def save(t: Array, y: Any, args: Any) -> tuple[Array, Array]:
        return leader(model.overlaps(y[0]))

    y_end, (lead, top) = rk4_scan(
        model.vector_field,
        model.initial_state(cue),
        dt=dt,
        n_save=n_save,
        steps_per_save=per,
        save_fn=save,
    )
    ep = judge_episode(
        lead,
        top,
        successor(model.phi),
        threshold=threshold,
        repeats=repeats,
        start=start,
        max_len=n_save if max_len is None else max_len,
    )
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(y_end)]))
    return dataclasses.replace(ep, finite=finite)


class Verdict(eqx.Module):
    """What :func:`decide_episode` returns: ``success``, ``correct_steps`` and ``n_retrieved``
    at the decision, the time ``decided_at`` (``t1`` when the horizon decided), ``finite`` (the
    state stayed finite) and ``rk4_steps`` (steps integrated: the work done)."""

    success: Array
    correct_steps: Array
    n_retrieved: Array
    decided_at: Array
    finite: Array
    rk4_steps: Array


class EpisodeRun(eqx.Module):
    """An episode being judged online (:class:`EpisodeJudge`): the state ``y``, the saves
    integrated ``k`` and the judgement so far ``state``."""

    y: Any
    k: Array
    state: EpisodeState


class EpisodeJudge(eqx.Module):
    """Appendix C's verdict (the first ``repeats`` passes in order, no error) judged while the
    episode is integrated, so integration stops once the verdict is known.

    ``start(model, cue)`` → :class:`EpisodeRun`; ``advance(model, run)`` integrates one block of
    ``block`` saves (RK4 at ``dt``, ``round(save_every / dt)`` steps per save) and updates the
    judgement at every save (:func:`hopjax.measure.episode_update`): a wrong record decides
    failure, ``repeats · L`` correct steps decide success, and — the one rule of its own — no
    record for ``stall_time`` decides failure (a run stalled in a mixed state); ``t1`` decides
    what is left open. ``decided(run)`` says whether the verdict is known; ``verdict(model,
    run)`` reads it. The judgement is frozen once decided, so integrating further changes
    nothing: a block-wise run (:func:`decide_episode`, a sweep's pool of slots) gives the
    verdict of the full-horizon run. All fields but ``saves`` are static (they fix the program).

    ``saves`` (optional, may be traced): the horizon as a number of saves, overriding
    ``ceil(t1 / save_every)`` — so that rows of different horizons share one program (``t1``
    then only bounds it: ``saves`` must not exceed ``ceil(t1 / save_every)``). The time a
    horizon-decided verdict reports is then computed in the model's dtype.
    """

    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True, default=0.01)
    save_every: float = eqx.field(static=True, default=1.0)
    threshold: float = eqx.field(static=True, default=0.8)
    repeats: int = eqx.field(static=True, default=3)
    start_memory: int | None = eqx.field(static=True, default=0)
    stall_time: float = eqx.field(static=True, default=float("inf"))
    block: int = eqx.field(static=True, default=10)
    saves: Array | None = None

    def __check_init__(self) -> None:
        if not self.t1 > 0 or not self.dt > 0 or not self.save_every >= self.dt:
            raise ValueError(
                f"need t1 > 0 and save_every >= dt > 0; got t1={self.t1}, dt={self.dt}, "
                f"save_every={self.save_every}."
            )
        if self.repeats < 1 or self.block < 1:
            raise ValueError(f"repeats and block must be >= 1; got {self.repeats}, {self.block}.")
        if not self.stall_time > 0:
            raise ValueError(f"stall_time must be > 0; got {self.stall_time}.")

    @property
    def n_save(self) -> int | Array:
        """Saves up to the horizon: ``ceil(t1 / save_every)``, or ``saves`` when given."""
        if self.saves is not None:
            return self.saves
        return math.ceil(self.t1 / self.save_every)

    @property
    def per_save(self) -> int:
        """RK4 steps per save: ``round(save_every / dt)``."""
        return round(self.save_every / self.dt)

    def start(self, model: AbstractGSEMM | GSEMM, cue: Float[ArrayLike, " Nf"]) -> EpisodeRun:
        """The run at ``t = 0`` from ``cue``."""
        y = model.initial_state(cue)
        return EpisodeRun(y, jnp.asarray(0, jnp.int32), EpisodeState.initial(model.xi.dtype))

    def advance(self, model: AbstractGSEMM | GSEMM, run: EpisodeRun) -> EpisodeRun:
        """``block`` more saves (nothing changes past ``t1`` or once decided)."""
        per, n_save = self.per_save, self.n_save
        succ = successor(model.phi)
        need = self.repeats * cycle_lengths(succ)
        dt = jnp.asarray(self.dt, model.xi.dtype)

        def save_step(run: EpisodeRun, _: None) -> tuple[EpisodeRun, None]:
            t0 = run.k * per * dt
            y = jax.lax.fori_loop(
                0, per, lambda i, y: rk4_step(model.vector_field, t0 + i * dt, y, dt), run.y
            )
            lead, top = leader(model.overlaps(y[0]))
            new = episode_update(
                run.state,
                (run.k + 1) * per * dt,
                lead,
                top,
                succ,
                need,
                threshold=self.threshold,
                start=self.start_memory,
                stall_time=self.stall_time,
            )
            state = jax.tree.map(lambda a, b: jnp.where(run.k < n_save, a, b), new, run.state)
            return EpisodeRun(y, run.k + 1, state), None

        return jax.lax.scan(save_step, run, None, length=self.block)[0]

    def decided(self, run: EpisodeRun) -> Array:
        """The verdict is known (or the horizon is reached)."""
        return run.state.decided | (run.k >= self.n_save)

    def verdict(self, model: AbstractGSEMM | GSEMM, run: EpisodeRun) -> Verdict:
        """The :class:`Verdict` of ``run`` (``decided_at = t1`` when the horizon decided)."""
        leaves = jax.tree.leaves(run.y)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in leaves]))
        if self.saves is None:
            t_end = jnp.asarray(self.n_save * self.per_save * self.dt, model.xi.dtype)
        else:
            t_end = (self.saves * self.per_save).astype(model.xi.dtype) * self.dt
        return Verdict(
            success=run.state.success,
            correct_steps=run.state.correct,
            n_retrieved=run.state.count,
            decided_at=jnp.where(run.state.decided, run.state.t_decided, t_end),
            finite=finite,
            rk4_steps=run.k * self.per_save,
        )


def decide_episode(
    model: AbstractGSEMM | GSEMM,
    cue: Float[ArrayLike, " Nf"],
    *,
    t1: float,
    dt: float = 0.01,
    save_every: float = 1.0,
    threshold: float = 0.8,
    repeats: int = 3,
    start: int | None = 0,
    stall_time: float = float("inf"),
    block: int = 10,
    early: bool = True,
) -> Verdict:
    """Integrate ``model`` from ``cue`` only as long as the episode's verdict is open.

    :class:`EpisodeJudge` in a ``lax.while_loop``: blocks of ``block`` saves until the verdict
    is known (``early``) or ``t1``; under ``vmap`` the loop runs until every member is decided.
    With ``early=False`` the integration runs to ``t1`` and gives the same verdict (the
    judgement is frozen once decided).
    """
    judge = EpisodeJudge(t1, dt, save_every, threshold, repeats, start, stall_time, block)
    horizon = lambda run: run.k < judge.n_save  # noqa: E731
    cond = (lambda run: ~judge.decided(run)) if early else horizon
    run = jax.lax.while_loop(cond, lambda run: judge.advance(model, run), judge.start(model, cue))
    return judge.verdict(model, run)
