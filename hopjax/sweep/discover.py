"""Finding experiments: a config names its experiment, the engine resolves it at run time.

Nothing registers at import time, and the library never imports the experiments: the value of
a config's ``experiment`` key says where the :class:`~hopjax.sweep.Experiment` lives —

* a bare name ``NAME`` — the module ``experiments/NAME.py`` of the project: the folder
  ``experiments/`` beside the config's ``configs/`` folder (``<config dir>/../experiments``),
  else ``<config dir>/experiments``, else ``./experiments``; the module's ``EXPERIMENT``, whose
  ``name`` must be ``NAME``;
* a dotted module path ``pkg.module`` or ``pkg.module:ATTR`` — imported from ``sys.path``;
* a file ``path/to/file.py`` or ``path/to/file.py:ATTR`` — relative to the config's folder (or
  the working directory).

``ATTR`` defaults to ``EXPERIMENT``. A project's ``experiments/`` folder with an
``__init__.py`` is imported as a package (so its modules may share code by relative imports);
one without is read file by file.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from hopjax.sweep.config import ConfigError, SweepConfig, apply_overrides, load_toml
from hopjax.sweep.experiment import Experiment

__all__ = [
    "experiment_folders",
    "list_experiments",
    "load_config",
    "load_experiment_config",
    "resolve_experiment",
]


def shipped_folder() -> Path | None:
    """The folder holding the shipped ``configs/`` and ``experiments/``: ``pip install`` puts
    them under ``<prefix>/share/hopjax``; an editable install (``pip install -e``) finds them
    in its source checkout. ``None`` when neither exists."""
    import sysconfig

    import hopjax

    cands = [Path(b) / "share" / "hopjax" for b in (sysconfig.get_path("data"), sys.prefix)]
    cands.append(Path(hopjax.__file__).resolve().parents[1])  # an editable install's checkout
    for folder in cands:
        if (folder / "configs").is_dir() and (folder / "experiments").is_dir():
            return folder
    return None


def experiment_folders(base: Path | None = None) -> list[Path]:
    """Where bare experiment names are looked up, in order (existing folders only): beside
    the config's folder, ``./experiments``, then the shipped experiments."""
    cands = []
    if base is not None:
        base = Path(base)
        cands += [base.parent / "experiments", base / "experiments"]
    cands.append(Path.cwd() / "experiments")
    shipped = shipped_folder()
    if shipped is not None:
        cands.append(shipped / "experiments")
    seen, out = set(), []
    for c in cands:
        r = c.resolve()
        if r.is_dir() and r not in seen:
            seen.add(r)
            out.append(r)
    return out


def _module_from_file(path: Path, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load experiment module {str(path)!r}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _package(folder: Path) -> str | None:
    """Import ``folder`` (which has an ``__init__.py``) as a package; returns its module name:
    ``experiments`` unless a different module already holds that name."""
    init = folder / "__init__.py"
    if not init.exists():
        return None
    for name in ("experiments", "_hopjax_experiments_" + _digest(folder)):
        mod = sys.modules.get(name)
        if mod is None:
            spec = importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=[str(folder)]
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return name
        paths = [Path(p).resolve() for p in getattr(mod, "__path__", [])]
        if folder in paths:
            return name
    raise ConfigError(f"cannot import {folder} as a package (module name taken).")


def _digest(folder: Path) -> str:
    return hashlib.sha1(str(folder).encode()).hexdigest()[:10]


def _load_from_folder(folder: Path, name: str) -> ModuleType:
    pkg = _package(folder)
    if pkg is not None:
        return importlib.import_module(f"{pkg}.{name}")
    return _module_from_file(folder / f"{name}.py", f"_hopjax_exp_{_digest(folder)}_{name}")


def _experiment(module: ModuleType, attr: str, where: str) -> Experiment:
    obj = getattr(module, attr, None)
    if not isinstance(obj, Experiment):
        raise ConfigError(f"{where} defines no Experiment named {attr!r}.")
    return obj


def resolve_experiment(spec: str, *, base: str | Path | None = None) -> Experiment:
    """The :class:`Experiment` a config's ``experiment`` value names (described in
    :mod:`hopjax.sweep.discover`);
    ``base`` is the config file's folder. :class:`ConfigError` when it cannot be found."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("'experiment' must name an experiment (a non-empty string).")
    target, attr = spec.strip(), "EXPERIMENT"
    head, sep, tail = target.rpartition(":")
    if sep and tail.isidentifier() and not (len(head) == 1 and head.isalpha()):  # not "C:\\"
        target, attr = head, tail
    base_path = Path(base) if base is not None else None
    if target.endswith(".py") or "/" in target or "\\" in target:
        cands = [Path(target)] if Path(target).is_absolute() else []
        if base_path is not None:
            cands.append(base_path / target)
        cands.append(Path.cwd() / target)
        path = next((c.resolve() for c in cands if c.is_file()), None)
        if path is None:
            raise ConfigError(f"'experiment' file {target!r} does not exist.")
        module = _module_from_file(path, f"_hopjax_exp_{_digest(path)}_{path.stem}")
        return _experiment(module, attr, str(path))
    if "." in target:
        try:
            module = importlib.import_module(target)
        except ImportError as err:
            raise ConfigError(f"'experiment' module {target!r} cannot be imported: {err}") from None
        return _experiment(module, attr, f"module {target}")
    folders = experiment_folders(base_path)
    for folder in folders:
        if (folder / f"{target}.py").is_file():
            exp = _experiment(_load_from_folder(folder, target), attr, f"{folder}/{target}.py")
            if exp.name != target:
                raise ConfigError(
                    f"{folder}/{target}.py defines experiment {exp.name!r}, not {target!r}."
                )
            return exp
    known = sorted({n for f in folders for n in _names(f)})
    where = ", ".join(str(f) for f in folders) or "no experiments/ folder found"
    raise ConfigError(
        f"unknown 'experiment' {target!r}; expected one of: {', '.join(known) or '-'} "
        f"(searched {where}), a dotted module path or a file.py."
    )


def _names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def list_experiments(folder: str | Path) -> list[tuple[str, Experiment | Exception]]:
    """``(name, experiment)`` for every module of an ``experiments/`` folder (the exception in
    place of the experiment when a module fails to load)."""
    folder = Path(folder).resolve()
    out: list[tuple[str, Experiment | Exception]] = []
    for name in _names(folder):
        try:
            out.append((name, _experiment(_load_from_folder(folder, name), "EXPERIMENT", name)))
        except Exception as err:  # report, don't hide, a broken module
            out.append((name, err))
    return out


def load_experiment_config(
    raw: dict[str, Any], *, base: str | Path | None = None
) -> tuple[Experiment, SweepConfig]:
    """Validate a raw config mapping: resolve its ``experiment`` (relative to ``base``, the
    config's folder) and parse the rest into that experiment's config."""
    name = raw.get("experiment")
    if not isinstance(name, str):
        raise ConfigError("missing required key 'experiment' (a string naming the experiment).")
    exp = resolve_experiment(name, base=base)
    return exp, exp.parse(raw)


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> tuple[Experiment, SweepConfig]:
    """Read a TOML config, apply ``KEY=VALUE`` overrides and validate it: ``(experiment, cfg)``."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config {str(path)!r} is a folder; give a .toml file.")
    raw = apply_overrides(load_toml(path), list(overrides))
    return load_experiment_config(raw, base=path.resolve().parent)
