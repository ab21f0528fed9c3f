"""What an experiment is: a pure per-row function plus its config, metrics and reporting hooks."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxtyping import Array, PRNGKeyArray

from hopjax.sweep.config import SweepConfig, grid_keys, parse_config
from hopjax.sweep.stepper import Stepper, run_row

if TYPE_CHECKING:
    from hopjax.sweep.context import RunContext

__all__ = ["Experiment", "Row"]

Row = dict[str, Any]
"""One row of ``results.csv``: the grid values, ``seed`` and the metrics."""


@dataclasses.dataclass(frozen=True)
class Experiment:
    """An experiment the sweep engine runs: a module in ``experiments/`` exports one as
    ``EXPERIMENT`` (nothing registers at import time; the engine is handed the value).

    ``fn(params, key)`` evaluates one row: ``params`` holds every config value — static grid
    keys, the non-grid keys and ``prepare``'s derived values as Python objects, the other grid
    keys as traced scalars (float32 / int32) — and ``key`` is the row's PRNG key. It returns a
    dict of scalar metrics named in ``metrics`` (and of per-step arrays named in ``history``).
    ``static`` names the grid keys that fix shapes or Python branches (one compilation per
    combination); every other grid key is vmapped: numeric keys as their values, and keys typed
    ``list[Literal["a", "b", …]]`` as the int32 index of the value among the Literal's options
    (:func:`choices`; branch with ``lax.switch``, which under ``vmap`` evaluates every option —
    worth it where compiling one program per option costs more than running them all).

    Hooks (all optional):

    * ``prepare(cfg, static) -> dict`` — derived values of one static group, merged into
      ``params`` (e.g. a horizon computed from ``K``);
    * ``row_bytes(cfg, params) -> int`` — memory of one row, for chunk sizing;
    * ``include(cfg, row) -> bool`` — drop grid points that do not apply (the grid need not be a
      full product);
    * ``derive(ctx, rows) -> (names, rows)`` — columns computed across rows once every row is
      done (added to ``results.csv``, rewritten atomically);
    * ``summarize(ctx, rows) -> dict`` — the content of ``summary.json``;
    * ``plot(ctx, rows, summary) -> [paths]`` — PNG files written into ``ctx.out_dir``.

    ``derive``, ``summarize`` and ``plot`` receive a :class:`~hopjax.sweep.RunContext`: the
    config (``ctx.cfg``), the run folder, and the engine's own params and keys for any row, so
    they can re-run rows (``ctx.rerun``) exactly as the sweep did.

    ``key_exclude`` names grid keys that do not enter a row's PRNG key: rows differing only in
    them share their random draws (e.g. every storage rule sees the same patterns).
    ``history`` names outputs of ``fn`` with a leading step axis (all of one length); they go to
    ``history.csv`` (long format), not to ``results.csv``.

    **Shared draws.** With ``shared(params, key) -> pytree`` the experiment computes, once per
    PRNG stream, what every row of the stream shares (rows of one static group with the same
    seed and the same values of the keys not in ``key_exclude``; ``params`` holds the static
    params and the stream's traced keys), and ``fn(params, key, shared)`` evaluates one row from
    it. The engine then evaluates a stream's rows as an inner ``vmap`` with the shared arrays
    unbatched — products against them become matrix–matrix products — and chunks count
    streams. ``share_draws = false`` (config) computes ``shared`` per row instead, the reference
    the shared evaluation is tested against.

    **Early decision.** With a :class:`~hopjax.sweep.Stepper` (``fn`` may then be ``None``: it
    runs one row to its decision) a row is advanced in blocks until its result is final, and
    the rows of a PRNG stream run through a pool of slots that refill as rows are decided
    (:mod:`hopjax.sweep.stepper`): work stops where the verdict is known.

    **Rounds.** A sweep runs in rounds. Each round asks ``prune(ctx, done, pending) -> rows``
    (with the rows finished so far and *every* pending row, of all static groups): the rows it
    returns are not run but written with ``status = "pruned"`` (NaN metrics) — e.g. a capacity
    ladder that stops climbing once capacity is settled. Then ``defer(ctx, done, pending) ->
    rows`` holds rows back, and the round runs the remaining rows of the first static group (in
    grid order) that has any; a round that would hold everything back runs the first group's
    pending rows. So an experiment can order its work across groups — try the hyperparameter
    that worked at the previous rung of a ladder first and the others only where it failed, or
    jump up a ladder and bisect — and without ``defer`` the groups run one after the other.
    Both hooks must decide from ``done`` and ``pending`` alone, so a resumed run takes the same
    decisions. Experiments with ``prune`` or ``defer`` get a ``status`` column (``"done"`` /
    ``"pruned"``), which resume, ``derive`` and summaries see.
    """

    name: str
    config: type[SweepConfig]
    fn: Callable[..., dict[str, Array]] | None
    static: tuple[str, ...]
    metrics: tuple[str, ...]
    description: str = ""
    key_exclude: tuple[str, ...] = ()
    prepare: Callable[[SweepConfig, dict[str, Any]], dict[str, Any]] | None = None
    row_bytes: Callable[[SweepConfig, dict[str, Any]], int] | None = None
    summarize: Callable[[RunContext, list[Row]], dict[str, Any]] | None = None
    plot: Callable[[RunContext, list[Row], dict[str, Any]], list[Path]] | None = None
    derive: Callable[[RunContext, list[Row]], tuple[list[str], list[Row]]] | None = None
    include: Callable[[SweepConfig, Row], bool] | None = None
    history: tuple[str, ...] = ()
    shared: Callable[[dict[str, Any], PRNGKeyArray], Any] | None = None
    prune: Callable[[RunContext, list[Row], list[Row]], list[Row]] | None = None
    defer: Callable[[RunContext, list[Row], list[Row]], list[Row]] | None = None
    stepper: Stepper | None = None
    headline: tuple[str, ...] = ()
    """Dotted keys of ``summary.json`` (a key may name a whole table) holding the numbers the
    documentation quotes: the end-of-run table shows these, and the tests check that every
    experiment's summary holds them."""

    def __post_init__(self) -> None:
        if self.fn is None:
            if self.stepper is None:
                raise ValueError(f"{self.name}: give fn or a stepper.")
            object.__setattr__(self, "fn", _row_function(self.stepper, self.shared is not None))
        hints = typing.get_type_hints(self.config)
        keys = grid_keys(self.config)
        for k in (*self.static, *self.key_exclude):
            if k not in keys:
                raise ValueError(f"{self.name}: {k!r} is not a grid key of {keys}")
        for k in keys:
            elem = typing.get_args(hints[k])[0]
            if elem not in (int, float) and k not in self.static and not choices(elem):
                raise ValueError(
                    f"{self.name}: non-numeric grid key {k!r} must be static (or typed "
                    "list[Literal[...]] of strings, passed to fn as its index)"
                )
        overlap = set(self.metrics) & set(self.history)
        if overlap:
            raise ValueError(f"{self.name}: {sorted(overlap)} are both metrics and history")
        for m in (*self.metrics, *self.history):
            if m in keys or m in ("seed", "step", "status"):
                raise ValueError(f"{self.name}: metric {m!r} names a grid key or column")

    @property
    def columns(self) -> list[str]:
        """The columns of ``results.csv`` (before ``derive``'s)."""
        status = ["status"] if self.prune is not None or self.defer is not None else []
        return [*self.grid_keys, "seed", *status, *self.metrics]

    @property
    def grid_keys(self) -> list[str]:
        """The config's grid keys (its list-valued fields), in declaration order."""
        return grid_keys(self.config)

    def parse(self, raw: Mapping[str, Any]) -> SweepConfig:
        """Validate a raw mapping (e.g. from TOML) into this experiment's config dataclass
        (:class:`~hopjax.sweep.config.ConfigError` naming the key otherwise); ``experiment`` may be
        left out."""
        return parse_config({"experiment": self.name, **raw}, self.config)


def choices(elem: Any) -> tuple[str, ...]:
    """The options of a grid key whose elements are typed ``Literal["a", "b", …]`` (strings);
    ``()`` for any other type. Such a key, when not static, is traced: ``fn`` receives the int32
    index of the row's value among these options (branch on it with ``lax.switch``), so every
    option runs in one compiled program instead of one program each."""
    if typing.get_origin(elem) is typing.Literal:
        args = typing.get_args(elem)
        if args and all(isinstance(a, str) for a in args):
            return args
    return ()


def _row_function(stepper: Stepper, shared: bool) -> Callable[..., dict[str, Array]]:
    """``fn`` of a stepped experiment: one row run to its decision."""
    if shared:
        return lambda p, key, sh: run_row(stepper, p, key, sh)
    return lambda p, key: run_row(stepper, p, key, None)
