"""The ensemble sweep engine: grid × seeds → vectorised, sharded, chunked, resumable evaluation.

An :class:`Experiment` is a pure function ``fn(p, key) -> {metric: scalar}`` (``p``: the row's
:class:`Params`) plus its config dataclass (a module of ``experiments/`` exports one; a config
names it, :mod:`.discover` resolves the name). :func:`run_sweep`

1. expands the grid — the product of the config's list-valued keys — times the seeds
   (:mod:`.plan`: a :class:`Plan` owns the rows, groups, row ids, params and keys);
2. groups the rows by their *static* keys (values that set array shapes or Python branches,
   e.g. ``N``, ``rule``): **one compilation per group**; every other grid key is a traced scalar,
   ``vmap``-ped together with the row's PRNG key (:mod:`.keys`: from the seed and the grid
   values only, so results never depend on chunking or devices);
3. evaluates each group in equal-sized chunks (sized from ``memory_mb`` and the experiment's
   per-row memory estimate, or ``chunk_size``; the last chunk is padded), the chunk's leading
   axis sharded over all ``jax.devices()`` with a ``Mesh`` + ``NamedSharding``
   (:mod:`.program`, :mod:`.run`);
4. appends each chunk's rows to ``results.csv`` as soon as it finishes (flushed and fsynced,
   :mod:`.results`), so a rerun into the same folder with the same config skips finished rows.
   Per-step arrays (``history``) go to ``history.csv`` just before their row; a rerun first
   drops history rows whose results row is missing, so neither file holds duplicates;
5. once every row is done, hands a :class:`RunContext` (:mod:`.context`) to the experiment's
   :class:`Report` (``derive``, ``summarize``, ``plot``), which can re-run any row with the
   engine's own params and key.

Experiments may share random draws between the rows of a PRNG stream (``Experiment.shared``:
one draw, the rows an inner ``vmap`` over it) and schedule their rows — prune rows not yet run,
hold rows back for a later round (``Experiment.schedule`` → :class:`Decision`).
:func:`enable_compilation_cache` (:mod:`.cache`) keeps compiled programs across processes.
Started as several processes (:func:`init_distributed`, JAX's ``jax.distributed``), the same
loop runs every chunk as one SPMD program over the devices of all processes, and process 0
writes the folder (:mod:`.cluster`).
"""

from hopjax.sweep.cache import default_cache_dir as default_cache_dir
from hopjax.sweep.cache import enable_compilation_cache as enable_compilation_cache
from hopjax.sweep.cluster import Cluster as Cluster
from hopjax.sweep.cluster import init_distributed as init_distributed
from hopjax.sweep.config import ConfigError as ConfigError
from hopjax.sweep.config import PlotConfig as PlotConfig
from hopjax.sweep.config import SweepConfig as SweepConfig
from hopjax.sweep.config import param as param
from hopjax.sweep.context import RunContext as RunContext
from hopjax.sweep.discover import list_experiments as list_experiments
from hopjax.sweep.discover import load_config as load_config
from hopjax.sweep.discover import load_experiment_config as load_experiment_config
from hopjax.sweep.discover import resolve_experiment as resolve_experiment
from hopjax.sweep.errors import RunError as RunError
from hopjax.sweep.experiment import Decision as Decision
from hopjax.sweep.experiment import Experiment as Experiment
from hopjax.sweep.experiment import Params as Params
from hopjax.sweep.experiment import Report as Report
from hopjax.sweep.experiment import Row as Row
from hopjax.sweep.folder import Run as Run
from hopjax.sweep.folder import load_run as load_run
from hopjax.sweep.keys import row_keys as row_keys
from hopjax.sweep.plan import Plan as Plan
from hopjax.sweep.plan import expand_grid as expand_grid
from hopjax.sweep.plan import group_rows as group_rows
from hopjax.sweep.results import read_history as read_history
from hopjax.sweep.results import read_results as read_results
from hopjax.sweep.run import SweepResult as SweepResult
from hopjax.sweep.run import run_sweep as run_sweep
from hopjax.sweep.stepper import Stepper as Stepper

__all__ = [
    "Cluster",
    "ConfigError",
    "Decision",
    "Experiment",
    "Params",
    "Plan",
    "PlotConfig",
    "Report",
    "Row",
    "Run",
    "RunContext",
    "RunError",
    "Stepper",
    "SweepConfig",
    "SweepResult",
    "default_cache_dir",
    "enable_compilation_cache",
    "expand_grid",
    "group_rows",
    "init_distributed",
    "list_experiments",
    "load_config",
    "load_experiment_config",
    "load_run",
    "param",
    "read_history",
    "read_results",
    "resolve_experiment",
    "row_keys",
    "run_sweep",
]
