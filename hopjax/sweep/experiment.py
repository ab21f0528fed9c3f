"""What an experiment is: a pure per-row function, its config, its metrics, and two optional
hooks around the rows (a schedule and a report)."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from jaxtyping import Array, PRNGKeyArray

from hopjax.sweep.config import SweepConfig, grid_keys, grid_types, parse_config
from hopjax.sweep.stepper import Stepper, run_row

if TYPE_CHECKING:
    from hopjax.sweep.context import RunContext

__all__ = ["Decision", "Experiment", "Params", "Report", "Row"]

Row = dict[str, Any]
"""One row of ``results.csv``: the grid values, ``seed`` and the metrics."""


class Params(Mapping[str, Any]):
    """The params one row is evaluated with: every config value by its key — static grid keys,
    non-grid keys and the config's :meth:`~hopjax.sweep.config.SweepConfig.prepare` values as
    Python objects, the other grid keys as traced scalars — read as ``p.alpha`` or
    ``p["alpha"]``. Frozen; a key that is not there is an error naming the keys that are (a typo
    fails when the row function is traced, not by falling back to a default)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(self._unknown(key)) from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(self._unknown(key)) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"params are read-only (setting {key!r}); use p.replace({key}=…).")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"

    def replace(self, **values: Any) -> Params:
        """A copy with ``values`` set (added or replaced)."""
        return Params({**self._values, **values})

    def _unknown(self, key: str) -> str:
        return f"no param {key!r}; the params are: {', '.join(sorted(self._values))}"


class Decision(NamedTuple):
    """What an experiment's ``schedule`` decides in one round: ``prune`` — pending rows not to
    run (written with ``status = "pruned"`` and NaN metrics); ``hold`` — pending rows to keep
    for a later round."""

    prune: Sequence[Row] = ()
    hold: Sequence[Row] = ()


@dataclasses.dataclass(frozen=True)
class Report:
    """What an experiment makes of its rows once every row is done (all optional).

    * ``summarize(ctx, rows) -> dict`` — the content of ``summary.json``;
    * ``plot(ctx, rows, summary) -> [paths]`` — PNG files written into ``ctx.out_dir``
      (``ctx.save(fig, name)``);
    * ``derive(ctx, rows) -> (names, rows)`` — columns computed across rows, added to
      ``results.csv`` before the summary (rewritten atomically);
    * ``headline`` — dotted keys of ``summary.json`` (a key may name a whole table) holding the
      numbers the documentation quotes: the end-of-run table shows these, and the tests check
      that every experiment's summary holds them.
    """

    summarize: Callable[[RunContext, list[Row]], dict[str, Any]] | None = None
    plot: Callable[[RunContext, list[Row], dict[str, Any]], list[Path]] | None = None
    derive: Callable[[RunContext, list[Row]], tuple[list[str], list[Row]]] | None = None
    headline: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Experiment:
    """An experiment the sweep engine runs: a module in ``experiments/`` exports one as
    ``EXPERIMENT`` (nothing registers at import time; the engine is handed the value).

    ``fn(p, key) -> {metric: scalar}`` evaluates one row from its :class:`Params` ``p`` and
    PRNG key. ``static`` names the grid keys that fix shapes or Python branches (one compiled
    program per combination); every other grid key is vmapped: numeric keys as their values,
    keys typed ``list[Literal["a", "b", …]]`` as the int32 index of the value among the options
    (:func:`choices`; branch with ``lax.switch``). ``metrics`` names ``fn``'s scalar outputs
    (the columns of ``results.csv``), ``history`` its per-step outputs (``history.csv``).
    Which grid points exist, what a static group derives and what a row needs in memory are
    the config's own methods (:meth:`~hopjax.sweep.config.SweepConfig.include`,
    :meth:`~hopjax.sweep.config.SweepConfig.prepare`,
    :meth:`~hopjax.sweep.config.SweepConfig.row_bytes`).

    ``key_exclude`` names grid keys that do not enter a row's PRNG key: rows differing only in
    them share their random draws (e.g. every storage rule sees the same patterns).

    **Shared draws.** With ``shared(p, key) -> pytree`` the experiment computes, once per PRNG
    stream, what every row of the stream shares (rows of one static group with the same seed
    and the same values of the keys not in ``key_exclude``; ``p`` holds the static params and
    the stream's traced keys), and ``fn(p, key, shared)`` evaluates one row from it: the rows
    of a stream run as an inner ``vmap`` with the shared arrays unbatched, and chunks count
    streams. ``share_draws = false`` (config) computes ``shared`` per row instead, the reference
    the shared evaluation is tested against.

    **Early decision.** ``fn`` may be a :class:`~hopjax.sweep.Stepper` instead of a function: a
    row is then advanced in blocks until its result is final, and the rows of a PRNG stream run
    through a pool of slots that refill as rows are decided (:mod:`hopjax.sweep.stepper`).

    **Hooks** (optional, the run context first). ``schedule(ctx, done, pending) ->``
    :class:`Decision` is asked once per round, with the rows finished so far and every pending
    row: it prunes rows and holds rows back (e.g. a capacity ladder that stops climbing once
    capacity is settled, or tries the value that worked at the previous rung first); the round
    runs the remaining rows of the first static group, in grid order, that has any (a round
    that would hold everything back runs the first group's pending rows). It must decide from
    ``done`` and ``pending`` alone, so a resumed run takes the same decisions; a scheduled
    experiment gets a ``status`` column (``"done"`` / ``"pruned"``). ``report`` (a
    :class:`Report`) turns the finished rows into ``summary.json``, plots and derived columns.
    """

    name: str
    config: type[SweepConfig]
    fn: Callable[..., dict[str, Array]] | Stepper
    static: tuple[str, ...]
    metrics: tuple[str, ...]
    description: str = ""
    key_exclude: tuple[str, ...] = ()
    shared: Callable[[Params, PRNGKeyArray], Any] | None = None
    history: tuple[str, ...] = ()
    schedule: Callable[[RunContext, list[Row], list[Row]], Decision] | None = None
    report: Report = Report()

    def __post_init__(self) -> None:
        if not (callable(self.fn) or isinstance(self.fn, Stepper)):
            raise ValueError(f"{self.name}: fn must be a row function or a Stepper.")
        if not isinstance(self.report, Report):
            raise ValueError(f"{self.name}: report must be a hopjax.sweep.Report.")
        types = grid_types(self.config)
        keys = list(types)
        for k in (*self.static, *self.key_exclude):
            if k not in keys:
                raise ValueError(f"{self.name}: {k!r} is not a grid key of {keys}")
        for k, elem in types.items():
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
    def stepper(self) -> Stepper | None:
        """``fn`` when it is a :class:`~hopjax.sweep.Stepper`."""
        return self.fn if isinstance(self.fn, Stepper) else None

    @property
    def row_fn(self) -> Callable[..., dict[str, Array]]:
        """The row function: ``fn``, or for a stepper one row run to its decision."""
        stepper = self.stepper
        if stepper is None:
            return self.fn  # type: ignore[return-value]
        if self.shared is not None:
            return lambda p, key, sh: run_row(stepper, p, key, sh)
        return lambda p, key: run_row(stepper, p, key, None)

    @property
    def columns(self) -> list[str]:
        """The columns of ``results.csv`` (before ``derive``'s)."""
        status = ["status"] if self.schedule is not None else []
        return [*self.grid_keys, "seed", *status, *self.metrics]

    @property
    def grid_keys(self) -> list[str]:
        """The config's grid keys (its list-valued fields), in declaration order."""
        return grid_keys(self.config)

    def parse(self, raw: Mapping[str, Any]) -> SweepConfig:
        """Validate a raw mapping (e.g. from TOML) into this experiment's config dataclass
        (:class:`~hopjax.sweep.config.ConfigError` naming the key otherwise); ``experiment``
        may be left out."""
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
