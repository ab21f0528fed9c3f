"""Typed experiment configs: TOML files validated into dataclasses, with ``--set`` overrides.

Every experiment's config is a dataclass deriving from :class:`SweepConfig`. Fields annotated
``list[...]`` are *grid keys*: the sweep runs the product of their values (a scalar given for a
grid key is a one-point grid). Validation is strict: an unknown key, a value of the wrong type or
an impossible value raises :class:`ConfigError` naming the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w

__all__ = [
    "ConfigError",
    "PlotConfig",
    "SweepConfig",
    "apply_overrides",
    "bounds_text",
    "config_to_dict",
    "describe_type",
    "dump_config",
    "grid_keys",
    "grid_types",
    "param",
    "parse_config",
]


class ConfigError(ValueError):
    """An invalid config: the message names the key and what was expected."""


@dataclasses.dataclass
class PlotConfig:
    """Plot settings (``[plot]`` table)."""

    dpi: int = 150
    """Resolution of the PNG files."""


@dataclasses.dataclass
class SweepConfig:
    """Keys shared by every experiment.

    ``seeds`` networks are simulated per grid point, with seeds ``base_seed … base_seed+seeds−1``.
    ``memory_mb`` bounds the memory of one vectorised chunk (the engine sizes chunks from each
    experiment's per-row estimate); ``chunk_size`` > 0 fixes the chunk size instead (in rows, or
    in PRNG streams for experiments that share draws). ``share_draws = false`` evaluates an
    experiment that shares random draws between rows (``Experiment.shared``) row by row
    instead — the reference the shared evaluation is tested against. These keys only change how
    the sweep is executed, not what it computes, so a rerun may change them.
    """

    experiment: str
    seeds: int = 3
    base_seed: int = 0
    memory_mb: int = 512
    chunk_size: int = 0
    share_draws: bool = True
    plot: PlotConfig = dataclasses.field(default_factory=PlotConfig)

    ALLOW_INF: typing.ClassVar[tuple[str, ...]] = ()
    """Float keys for which ``inf`` means something (e.g. "never"); NaN is refused everywhere."""

    MAX_SEEDS: typing.ClassVar[int] = 1_000_000

    BEFORE_KEY: typing.ClassVar[dict[str, typing.Any]] = {}
    """For keys added to an experiment with a default that computes something else than before:
    the value that run folders written before the key existed were computed with. Resuming such
    a folder needs that value (a different one is a changed config), so old and new rows never
    mix."""

    SEARCH_KEYS: typing.ClassVar[frozenset[str]] = frozenset()
    """Keys that decide which rows a scheduled search runs, never a row's result nor the
    quantity the search measures (e.g. how many candidates are tried at once). A run folder
    resumes under other values of them (each invocation's values are kept in
    ``metadata.json`` → ``runs``); the folder's ``config.toml`` holds the latest."""

    # -- the grid an experiment's config describes (override in a subclass) -------------
    def include(self, row: dict[str, Any]) -> bool:
        """Whether the grid point ``row`` (its grid values and ``seed``) applies: the grid need
        not be a full product. Default: every point."""
        return True

    def prepare(self, static: dict[str, Any]) -> dict[str, Any]:
        """Values derived once per static group (``static``: its static grid values), added to
        the params every row of the group sees (e.g. a horizon computed from ``K``). Default:
        none."""
        return {}

    def buckets(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        """Static grid keys compiled per *bucket* of values: ``{key: bucket}``, ``bucket(row)``
        giving the value a row's group is compiled for (e.g. the next power of two of an array
        size, rows padded to it with inert entries). Rows are grouped by their buckets, the
        group's static value of ``key`` is the bucket, and each row's own value is traced (``fn``
        receives it under ``key``, overriding the static one; ``prepare`` sees the bucket).
        One program then serves every value of a bucket. Default: none (one program per
        value)."""
        return {}

    def row_bytes(self, params: Mapping[str, Any]) -> int | None:
        """Memory one row of a static group needs (``params``: the group's static params), for
        chunk sizing and the size check; ``None`` (default): unknown, chunks are sized at 1 MiB
        a row."""
        return None

    # -- validation -------------------------------------------------------------------------
    def check(self) -> None:
        """Value checks beyond types; subclasses extend (and call ``super().check()``) with
        relations between keys — bounds on one key are declared with :func:`param`.

        Here, for every experiment: each key's declared bounds (:func:`param`), no NaN (and no
        ``inf`` outside :attr:`ALLOW_INF`) in any float key or list, no empty or duplicated
        list, seeds within the PRNG's range."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            items = value if isinstance(value, list) else [value]
            _check_bounds(f, value, items)
            if isinstance(value, list):
                if not value:
                    raise ConfigError(f"'{f.name}' must not be empty.")
                seen = [v for i, v in enumerate(value) if v in value[:i]]
                if seen and f.metadata.get("unique", True):
                    raise ConfigError(f"'{f.name}' lists {seen[0]!r} twice; got {value}.")
            for v in items:
                if isinstance(v, float) and (
                    math.isnan(v) or (math.isinf(v) and f.name not in self.ALLOW_INF)
                ):
                    raise ConfigError(f"'{f.name}' must be a finite number; got {value}.")
        if not 1 <= self.seeds <= self.MAX_SEEDS:
            raise ConfigError(f"'seeds' must be >= 1 and <= {self.MAX_SEEDS:,}; got {self.seeds}.")
        if not 0 <= self.base_seed <= 2**32 - self.seeds:
            raise ConfigError(
                "'base_seed' must lie in [0, 2**32 - seeds] (seeds are 32-bit PRNG keys); "
                f"got {self.base_seed}."
            )
        if self.memory_mb < 1:
            raise ConfigError(f"'memory_mb' must be >= 1; got {self.memory_mb}.")
        if self.chunk_size < 0:
            raise ConfigError(
                f"'chunk_size' must be >= 0 (0 = from memory_mb); got {self.chunk_size}."
            )
        if not 10 <= self.plot.dpi <= 1200:
            raise ConfigError(f"'plot.dpi' must lie in [10, 1200]; got {self.plot.dpi}.")


EXECUTION_KEYS = frozenset({"memory_mb", "chunk_size", "share_draws", "plot"})
"""Keys that change how a sweep runs or looks but not its results (ignored when resuming)."""


def param(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    grid: bool = True,
    unique: bool = True,
) -> Any:
    """A config key with declared bounds, checked by :meth:`SweepConfig.check` with an error
    naming the key: ``alpha: list[float] = param([0.1], gt=0, lt=1)`` (every value of a list).
    A list default is copied per instance; ``grid=False`` makes a list-valued key a plain
    option instead of a grid axis (see :func:`grid_keys`); ``unique=False`` lets such an
    option repeat a value (e.g. one cap per degree, two degrees with the same cap)."""
    meta: dict[str, Any] = {"bounds": (ge, gt, le, lt)} if (ge, gt, le, lt) != (None,) * 4 else {}
    if not grid:
        meta["grid"] = False
    if not unique:
        meta["unique"] = False
    if isinstance(default, list):
        values = list(default)
        return dataclasses.field(default_factory=lambda: list(values), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def bounds_text(ge: Any, gt: Any, le: Any, lt: Any) -> str:
    """``"lie in (0, 1]"``, ``"be >= 2"``… — what :func:`param`'s bounds require, in words."""
    low = f"[{ge}" if ge is not None else f"({gt}" if gt is not None else None
    high = f"{le}]" if le is not None else f"{lt})" if lt is not None else None
    if low and high:
        return f"lie in {low}, {high}"
    if low:
        return f"be >= {ge}" if ge is not None else f"be > {gt}"
    return f"be <= {le}" if le is not None else f"be < {lt}"


def _check_bounds(f: dataclasses.Field, value: Any, items: list[Any]) -> None:
    if "bounds" not in f.metadata:
        return
    ge, gt, le, lt = f.metadata["bounds"]
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if (
            (ge is not None and not v >= ge)
            or (gt is not None and not v > gt)
            or (le is not None and not v <= le)
            or (lt is not None and not v < lt)
        ):
            raise ConfigError(f"'{f.name}' must {bounds_text(ge, gt, le, lt)}; got {value}.")


def grid_keys(cls: type[SweepConfig]) -> list[str]:
    """Names of the fields annotated ``list[...]``, in declaration order.

    A list-valued field declared with ``dataclasses.field(..., metadata={"grid": False})`` is a
    plain option, not a grid axis (e.g. a ladder of sizes searched inside one row).
    """
    return list(grid_types(cls))


def grid_types(cls: type[SweepConfig]) -> dict[str, Any]:
    """``{grid key: element type}`` (``list[float]`` → ``float``), in declaration order; read
    from the class's annotations once per class (a config class is never changed after its
    definition)."""
    return dict(_grid_types(cls))


@functools.cache
def _grid_types(cls: type[SweepConfig]) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, get_args(hints[f.name])[0])
        for f in dataclasses.fields(cls)
        if get_origin(hints[f.name]) is list and f.metadata.get("grid", True)
    )


def describe_type(tp: Any) -> str:
    """A type annotation in words (``list[float]`` → "a list of a number (or a single
    value)"): what error messages and ``hopjax show`` say a key expects."""
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is list:
        return f"a list of {describe_type(get_args(tp)[0])} (or a single value)"
    if origin in (Union, types.UnionType):
        return " or ".join(describe_type(a) for a in get_args(tp))
    if tp is type(None):
        return "none"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _coerce(value: Any, tp: Any, key: str, unique: bool = True) -> Any:
    """Check ``value`` against the annotation ``tp``; return it (ints widened to float)."""
    origin = get_origin(tp)
    bad = ConfigError(f"'{key}' must be {describe_type(tp)}; got {value!r}.")
    if origin is Literal:
        if value not in get_args(tp) or isinstance(value, bool):
            raise bad
        return value
    if origin is list:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ConfigError(f"'{key}' must be a non-empty list; got [].")
        try:
            out = [_coerce(v, get_args(tp)[0], key) for v in items]
        except ConfigError:
            raise bad from None
        if unique and len({repr(v) for v in out}) != len(out):
            raise ConfigError(f"'{key}' has repeated values: {out!r}.")
        return out
    if tp is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad
        return value
    raise TypeError(f"unsupported config annotation {tp!r} for '{key}'")  # programming error


def _build(cls: type, raw: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in raw if k not in fields]
    if unknown:
        key = prefix + unknown[0]
        known = ", ".join(prefix + k for k in fields)
        raise ConfigError(f"unknown key '{key}'; expected one of: {known}.")
    kwargs = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"missing required key '{key}' ({describe_type(hints[name])}).")
            continue
        value = raw[name]
        if dataclasses.is_dataclass(hints[name]):
            if not isinstance(value, Mapping):
                raise ConfigError(f"'{key}' must be a table; got {value!r}.")
            kwargs[name] = _build(hints[name], value, key + ".")
        else:
            kwargs[name] = _coerce(value, hints[name], key, f.metadata.get("unique", True))
    return cls(**kwargs)


def parse_config(raw: Mapping[str, Any], cls: type[SweepConfig]) -> SweepConfig:
    """Validate a raw mapping (from TOML) into the dataclass ``cls`` (or raise ConfigError)."""
    cfg = _build(cls, raw, "")
    cfg.check()
    return cfg


def parse_value(text: str) -> Any:
    """Parse the VALUE of ``--set KEY=VALUE`` as a TOML value; a bare word stays a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``KEY=VALUE`` overrides (dotted keys reach nested tables) to a copy of ``raw``."""
    out = _deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE; got {item!r}.")
        *parents, leaf = key.split(".")
        node = out
        for i, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                table = ".".join(parents[: i + 1])
                raise ConfigError(f"'{table}' is not a table; cannot set '{key}'.")
            node = child
        node[leaf] = parse_value(text.strip())
    return out


def _deepcopy(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deepcopy(v) if isinstance(v, Mapping) else v for k, v in raw.items()}


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error becomes a :class:`ConfigError` naming the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a TOML config file.") from None
    except OSError as err:
        raise ConfigError(f"cannot read the config {path}: {err.strerror or err}.") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (TOML must be UTF-8): {err.reason}.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None


def config_to_dict(cfg: SweepConfig) -> dict[str, Any]:
    """The resolved config as plain data (what ``config.toml`` holds)."""
    return dataclasses.asdict(cfg)


def dump_config(cfg: SweepConfig) -> str:
    """The resolved config as TOML text."""
    return tomli_w.dumps(config_to_dict(cfg))
