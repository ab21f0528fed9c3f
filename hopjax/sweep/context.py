"""The run context handed to an experiment's reporting hooks: the config, the run folder, and
the sweep's :class:`~hopjax.sweep.plan.Plan` — the engine's own params and keys for any row, so a
row can be re-run exactly as the sweep ran it (static params, ``prepare``'s derived values,
traced grid values, PRNG key)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from hopjax.sweep.config import SweepConfig
from hopjax.sweep.experiment import Experiment, Params, Row
from hopjax.sweep.plan import Plan
from hopjax.sweep.results import read_history

__all__ = ["RunContext"]


@dataclasses.dataclass
class RunContext:
    """What a sweep's reporting hooks see (``ctx`` below).

    ``ctx.cfg`` is the config, ``ctx.out_dir`` the run folder and ``ctx.plan`` the sweep's
    :class:`~hopjax.sweep.plan.Plan`. ``ctx.params(row)`` and ``ctx.key(row)`` are the params
    and PRNG key the engine evaluated ``row`` with; ``ctx.rerun(rows, fn)`` evaluates
    ``fn(params, key)`` (default: the experiment's own function) for ``rows`` — one jitted
    ``vmap`` per static group, exactly as the engine does — and returns one output per row
    (numpy pytrees), e.g. a trajectory to plot. ``ctx.history()`` reads ``history.csv``;
    ``ctx.save(fig, name)`` writes a figure into the run folder at the config's ``plot.dpi``.
    """

    exp: Experiment
    cfg: SweepConfig
    out_dir: Path
    plan: Plan = dataclasses.field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.plan is None:
            self.plan = Plan(self.exp, self.cfg)

    def static_params(self, static: dict[str, Any]) -> dict[str, Any]:
        """The params shared by one static group (:meth:`Plan.static_params`)."""
        return self.plan.static_params(static)

    def params(self, row: Row) -> Params:
        """The params ``exp.fn`` received for ``row`` (traced grid values as 0-d arrays)."""
        return self.plan.params(row)

    def keys(self, rows: list[Row]) -> PRNGKeyArray:
        """The PRNG keys of ``rows`` (stacked)."""
        return self.plan.keys(rows)

    def key(self, row: Row) -> PRNGKeyArray:
        """The PRNG key of one row."""
        return self.plan.keys([row])[0]

    def rerun(
        self,
        rows: list[Row],
        fn: Callable[[Params, PRNGKeyArray], Any] | None = None,
    ) -> list[Any]:
        """``fn(params, key)`` for every row (default the experiment's row function), batched
        per static group; outputs as numpy pytrees, in the order of ``rows``."""
        fn = self.exp.row_fn if fn is None else fn
        plan = self.plan
        out: list[Any] = [None] * len(rows)
        positions: dict[tuple[Any, ...], list[int]] = {}
        for i, r in enumerate(rows):
            positions.setdefault(plan.group_of(r), []).append(i)
        for static_values, idx in positions.items():
            p_static = plan.static_params(plan.static_dict(static_values))
            group = [rows[i] for i in idx]

            def point(dyn: dict[str, Any], key: PRNGKeyArray, _p: dict = p_static) -> Any:
                return fn(Params({**_p, **dyn}), key)

            res = jax.device_get(jax.jit(jax.vmap(point))(plan.arrays(group), plan.keys(group)))
            for j, i in enumerate(idx):
                out[i] = jax.tree.map(lambda a, j=j: np.asarray(a[j]), res)
        return out

    def history(self) -> list[Row]:
        """The rows of ``history.csv`` (empty when the experiment keeps no history)."""
        return read_history(self.out_dir, self.cfg)

    def save(self, fig: Any, name: str) -> Path:
        """Write ``fig`` as ``out_dir / name`` at ``cfg.plot.dpi``; returns the path."""
        path = self.out_dir / name
        fig.savefig(path, dpi=self.cfg.plot.dpi, bbox_inches="tight")
        return path
