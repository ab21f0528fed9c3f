"""Plot helpers: matplotlib figures without pyplot's global state.

matplotlib is imported inside the functions, never by ``import hopjax``, and no backend is
forced: figures are :class:`matplotlib.figure.Figure` objects written with :func:`save`, so
they work headless and leave an interactive session's pyplot state alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["colormap", "colors", "save", "subplots"]


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``(figure, axes)`` like ``pyplot.subplots`` (``figsize`` and ``constrained_layout`` go to
    the figure, everything else to :meth:`~matplotlib.figure.Figure.subplots`)."""
    from matplotlib.figure import Figure

    constrained = kwargs.pop("constrained_layout", False)
    fig = Figure(figsize=kwargs.pop("figsize", None), layout="constrained" if constrained else None)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save(fig: Any, path: str | Path, dpi: int) -> Path:
    """Write ``fig`` to ``path`` (PNG by its suffix) at ``dpi``; returns the path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def colormap(name: str) -> Any:
    """A registered matplotlib colormap (e.g. ``"viridis"``)."""
    import matplotlib

    return matplotlib.colormaps[name]


def colors() -> list[str]:
    """The default colour cycle."""
    import matplotlib

    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
