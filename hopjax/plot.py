"""Looking at memories: patterns, overlaps, runs, weights, energies and capacity curves.

Every function returns matplotlib objects — ``(figure, axes)`` — built without pyplot's global
state, so they work headless, inside notebooks and inside the experiments' plot hooks alike.
matplotlib is imported inside the functions, never by ``import hopjax``. Pass ``ax=`` to draw
into an axes of your own (then the returned figure is that axes' figure). For example::

    xi = hj.random_bipolar(jax.random.PRNGKey(0), 3, 64)
    fig, axes = hj.plot.patterns(xi, shape=(8, 8))
    hj.plot.save(fig, "patterns.png")
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "capacity_curve",
    "colormap",
    "colors",
    "energy",
    "html",
    "overlap_matrix",
    "overlap_traces",
    "patterns",
    "save",
    "state_sequence",
    "subplots",
    "text_color",
    "weights",
]


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``(figure, axes)`` like ``pyplot.subplots`` (``figsize`` and ``constrained_layout`` go to
    the figure, everything else to :meth:`~matplotlib.figure.Figure.subplots`)."""
    from matplotlib.figure import Figure

    constrained = kwargs.pop("constrained_layout", False)
    fig = Figure(figsize=kwargs.pop("figsize", None), layout="constrained" if constrained else None)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save(fig: Any, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix) at ``dpi``; returns the path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def html(fig: Any, dpi: int = 160, alt: str | None = None) -> str:
    """``fig`` — a figure, or the path of a PNG file (e.g. a run folder's plot) — as an HTML
    ``<img>`` tag with the PNG inline (for HTML output: notebooks' rich display, generated
    pages such as the documentation's executed tutorials).

    Args:
        fig: a matplotlib figure, or the path of a PNG file.
        dpi: resolution of a figure's PNG.
        alt: the image's alternative text (default: the figure's titles, or the file's name).

    Returns:
        The ``<img>`` tag.
    """
    if isinstance(fig, str | Path):
        png = Path(fig).read_bytes()
        alt = alt or Path(fig).stem.replace("_", " ")
    else:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        png = buf.getvalue()
        alt = alt or _titles(fig)
    data = base64.b64encode(png).decode("ascii")
    alt = (alt or "figure").replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return f'<img alt="{alt}" src="data:image/png;base64,{data}" />'


def _titles(fig: Any) -> str:
    """A figure's suptitle and axes titles, mathtext's ``$`` and backslashes removed."""
    parts = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    parts += [ax.get_title() for ax in fig.axes if ax.get_title()]
    text = "; ".join(parts)
    return text.replace("$", "").replace("\\mathrm", "").replace("\\", "")


def text_color(value: float, cmap: Any, vmin: float, vmax: float) -> str:
    """``"black"`` or ``"white"``, whichever reads better on the colour ``cmap`` gives
    ``value`` (scaled from ``[vmin, vmax]``): by the colour's relative luminance.

    Args:
        value: the cell's value.
        cmap: a colormap (or its name).
        vmin: the value at the colormap's start.
        vmax: the value at its end.

    Returns:
        ``"black"`` on light colours, ``"white"`` on dark ones.
    """
    cmap = colormap(cmap) if isinstance(cmap, str) else cmap
    x = 0.5 if vmax == vmin or not np.isfinite(value) else (value - vmin) / (vmax - vmin)
    r, g, b, _ = cmap(float(np.clip(x, 0.0, 1.0)))
    lum = 0.2126 * r**2.2 + 0.7152 * g**2.2 + 0.0722 * b**2.2
    return "black" if lum > 0.18 else "white"


def colormap(name: str) -> Any:
    """A registered matplotlib colormap (e.g. ``"viridis"``)."""
    import matplotlib

    return matplotlib.colormaps[name]


def colors() -> list[str]:
    """The default colour cycle."""
    import matplotlib

    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def _array(x: Any, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in dims:
        want = " or ".join(f"{d}-D" for d in dims)
        raise ValueError(f"{name} must be {want}; got shape {a.shape}.")
    return a


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    return subplots(figsize=figsize, constrained_layout=True)


def patterns(
    x: Any,
    shape: tuple[int, int] | None = None,
    *,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    cmap: str = "gray_r",
) -> tuple[Any, np.ndarray]:
    """Patterns ``x`` ``(P, N)`` (or one ``(N,)``) as images of ``shape`` ``(rows, cols)``
    (default: the squarest factorisation of ``N``), ``ncols`` per row of panels.

    Bipolar ``±1`` (and ``0`` = unknown, e.g. a masked cue) map to ``[−1, 1]`` of ``cmap``:
    ``+1`` dark with the default. Returns ``(figure, axes)`` with one image per pattern and the
    unused panels hidden.
    """
    a = _array(x, "x", (1, 2))
    a = a[None] if a.ndim == 1 else a
    P, N = a.shape
    if shape is None:
        rows = max(d for d in range(1, math.isqrt(N) + 1) if N % d == 0)
        shape = (rows, N // rows)
    if shape[0] * shape[1] != N:
        raise ValueError(
            f"shape {tuple(shape)} has {shape[0] * shape[1]} pixels; patterns have N = {N}."
        )
    if titles is not None and len(titles) != P:
        raise ValueError(f"titles has {len(titles)} entries for {P} patterns.")
    ncols = min(P, ncols or 8)
    nrows = -(-P // ncols)
    w = 1.4 * ncols * max(1.0, shape[1] / shape[0])
    fig, axes = subplots(
        nrows, ncols, figsize=(w, 1.5 * nrows), squeeze=False, constrained_layout=True
    )
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < P:
            ax.imshow(a[i].reshape(shape), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
            ax.set_title(titles[i] if titles is not None else f"ξ{i + 1}", fontsize=9)
    return fig, axes


def overlap_matrix(
    a: Any,
    b: Any | None = None,
    *,
    ax: Any = None,
    labels: tuple[str, str] = ("pattern μ", "pattern ν"),
    annotate: bool | None = None,
) -> tuple[Any, Any]:
    """Heat map of the overlaps ``m_{μν} = (1/N) Σ_i a^μ_i b^ν_i`` (``b = a`` by default: the
    patterns' correlation matrix; ``b`` = states gives which memory each state is near).

    Colour scale ``[−1, 1]`` with a colour bar; values are written in the cells when
    ``annotate`` (default: at most 12 × 12 cells). Returns ``(figure, axes)``.
    """
    a = _array(a, "a", 2)
    b = a if b is None else _array(b, "b", 2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b need the same N; got shapes {a.shape} and {b.shape}.")
    m = a @ b.T / a.shape[1]
    fig, ax = _axes(ax, (4.2, 3.6))
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="overlap")
    ax.set_xlabel(labels[1])
    ax.set_ylabel(labels[0])
    ax.set_xticks(range(m.shape[1]), [str(i + 1) for i in range(m.shape[1])])
    ax.set_yticks(range(m.shape[0]), [str(i + 1) for i in range(m.shape[0])])
    if annotate is None:
        annotate = max(m.shape) <= 12
    if annotate:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9,
                    color=text_color(v, "RdBu_r", -1.0, 1.0))  # fmt: skip
    return fig, ax


def _overlap_lines(ax: Any, t: np.ndarray, m: np.ndarray, names: Sequence[str] | None) -> None:
    P = m.shape[1]
    cmap = colormap("tab10" if P <= 10 else "viridis")
    for k in range(P):
        color = cmap(k) if P <= 10 else cmap(k / max(P - 1, 1))
        ax.plot(t, m[:, k], lw=1.2, color=color, label=names[k] if names else f"ξ{k + 1}")
    ax.set_ylabel("overlap $m$")
    if P <= 12:
        ax.legend(fontsize=7, ncol=1 if P <= 7 else 2, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def state_sequence(
    states: Any,
    memories: Any,
    *,
    t: Any | None = None,
    names: Sequence[str] | None = None,
) -> tuple[Any, np.ndarray]:
    """A run at a glance: the states ``(T, N)`` as a raster (time down the x axis, units up the
    y axis) above the overlap of every memory ``(P, N)`` with them over time.

    ``t``: the times of the states (default ``0, 1, …``: update steps). Returns
    ``(figure, axes)`` with ``axes = [raster, overlaps]`` and one line per memory.
    """
    s = _array(states, "states", 2)
    xi = _array(memories, "memories", 2)
    if s.shape[1] != xi.shape[1]:
        raise ValueError(f"states and memories need the same N; got {s.shape} and {xi.shape}.")
    t = np.arange(len(s)) if t is None else _array(t, "t", 1)
    if len(t) != len(s):
        raise ValueError(f"t has {len(t)} entries for {len(s)} states.")
    fig, axes = subplots(2, 1, figsize=(7, 4.6), sharex=True, constrained_layout=True)
    axes[0].imshow(
        s.T,
        aspect="auto",
        cmap="gray_r",
        vmin=-1,
        vmax=1,
        interpolation="nearest",
        extent=(t[0] - 0.5, t[-1] + 0.5, s.shape[1] - 0.5, -0.5),
    )
    axes[0].set_ylabel("unit $i$")
    axes[0].set_title("state $s_i(t)$")
    _overlap_lines(axes[1], t, s @ xi.T / s.shape[1], names)
    steps = not (len(t) and not np.array_equal(t, np.arange(len(t))))
    axes[1].set_xlabel("step" if steps else "$t$")
    if steps:  # integer ticks: the states are steps 0, 1, …
        from matplotlib.ticker import MaxNLocator

        axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].set_ylim(-1.05, 1.05)
    return fig, axes


def overlap_traces(
    t: Any,
    overlaps: Any,
    *,
    threshold: float = 0.8,
    names: Sequence[str] | None = None,
    ax: Any = None,
) -> tuple[Any, Any]:
    """Overlaps ``(T, P)`` over time ``t`` — IDP or GSEMM trajectories — with the decoded
    sequence marked: wherever the leading memory changes and its overlap exceeds ``threshold``
    (the decoding of :func:`hopjax.measure.decode_sequence`), a dotted line and the memory's
    number. The decoded sequence is the title. Returns ``(figure, axes)``.
    """
    t = _array(t, "t", 1)
    m = _array(overlaps, "overlaps", 2)
    if len(t) != len(m):
        raise ValueError(f"t has {len(t)} entries; overlaps has {len(m)} rows.")
    fig, ax = _axes(ax, (7.5, 3.0))
    _overlap_lines(ax, t, m, names)
    lead, top = m.argmax(axis=1), m.max(axis=1)
    seq, cur = [], -1
    for i in range(len(t)):
        if top[i] > threshold and lead[i] != cur:
            cur = int(lead[i])
            seq.append(cur)
            ax.axvline(t[i], color="gray", lw=0.6, ls=":")
            ax.annotate(
                names[cur] if names else str(cur + 1),
                (t[i], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -10),
                textcoords="offset points",
                fontsize=7,
                color="dimgray",
            )
    ax.axhline(threshold, color="gray", lw=0.5, ls="--")
    ax.set_xlabel("t")
    label = [names[k] if names else str(k + 1) for k in seq]
    shown = " → ".join(label[:12]) + (" → …" if len(label) > 12 else "")
    ax.set_title(f"decoded: {shown}" if seq else f"nothing decoded (no overlap > {threshold})")
    return fig, ax


def energy(
    values: Any,
    t: Any | None = None,
    *,
    ax: Any = None,
    label: str | None = None,
) -> tuple[Any, Any]:
    """Energy along a run: ``values`` ``(T,)`` against ``t`` (default: steps), or several runs
    ``(B, T)`` as one line each. Returns ``(figure, axes)``."""
    e = _array(values, "values", (1, 2))
    e = e[None] if e.ndim == 1 else e
    t = np.arange(e.shape[1]) if t is None else _array(t, "t", 1)
    if len(t) != e.shape[1]:
        raise ValueError(f"t has {len(t)} entries; values have {e.shape[1]} per run.")
    fig, ax = _axes(ax, (5.0, 3.2))
    for i, row in enumerate(e):
        ax.plot(t, row, lw=1.2, label=label if i == 0 else None)
    ax.set_xlabel("step" if np.array_equal(t, np.arange(len(t))) else "t")
    ax.set_ylabel("energy $E$")
    if label:
        ax.legend(fontsize=8)
    return fig, ax


def weights(w: Any, *, ax: Any = None, title: str | None = None) -> tuple[Any, Any]:
    """A weight matrix ``(N, N)`` (or any 2-D coupling / projection) as a heat map on a colour
    scale symmetric about 0, with a colour bar. Returns ``(figure, axes)``."""
    a = _array(w, "w", 2)
    lim = float(np.abs(a).max()) or 1.0
    fig, ax = _axes(ax, (4.2, 3.6))
    im = ax.imshow(a, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="$w_{ij}$")
    ax.set_xlabel("j (presynaptic)")
    ax.set_ylabel("i (postsynaptic)")
    if title:
        ax.set_title(title)
    return fig, ax


def _columns(run: Any) -> dict[str, np.ndarray]:
    if isinstance(run, str | Path):
        from hopjax.sweep.folder import load_run

        run = load_run(run)
    if hasattr(run, "columns"):
        return dict(run.columns)
    if isinstance(run, Mapping):
        return {k: np.asarray(v) for k, v in run.items()}
    rows = list(run)
    if not rows:
        raise ValueError("run holds no rows.")
    return {k: np.asarray([r[k] for r in rows]) for k in rows[0]}


def capacity_curve(
    run: Any,
    *,
    x: str = "alpha",
    y: str = "retrieved_frac",
    by: str | Sequence[str] | None = "N",
    where: Mapping[str, Any] | None = None,
    ax: Any = None,
    level: float | None = 0.5,
    reference: tuple[float, str] | None = None,
    label: str | None = None,
    legend: bool = True,
    **line: Any,
) -> tuple[Any, Any]:
    """Mean of column ``y`` over seeds against column ``x``, one line per value of the ``by``
    column(s), error bars = standard error of the mean over seeds (said in the y label).

    ``run``: a run folder (path), a :class:`hopjax.sweep.Run` from
    :func:`hopjax.sweep.load_run`, a mapping of columns, or the rows (dicts) a ``plot`` hook
    receives. ``where`` keeps only rows whose columns equal the given values; rows with
    ``status = "pruned"`` (not run) and non-finite ``y`` are left out. ``level`` draws a
    horizontal line (the crossing that defines α_c); ``reference = (x₀, label)`` a vertical one
    (e.g. ``(0.138, "α = 0.138")``). ``label``: a format string over the ``by`` columns
    (default ``"N={N}"``); ``legend=False`` leaves the legend to the caller; other keywords go
    to :meth:`~matplotlib.axes.Axes.errorbar` (e.g.
    ``ls="--"``). Returns ``(figure, axes)``.
    """
    cols = _columns(run)
    by = [] if by is None else [by] if isinstance(by, str) else list(by)
    for name in [x, y, *by, *(where or {})]:
        if name not in cols:
            raise KeyError(f"no column {name!r} in the run; columns: {', '.join(cols)}.")
    n = len(cols[x])
    keep = np.ones(n, bool)
    if "status" in cols:
        keep &= cols["status"] != "pruned"
    for k, v in (where or {}).items():
        keep &= cols[k] == v
    yv = np.asarray(cols[y], float)
    keep &= np.isfinite(yv)
    fig, ax = _axes(ax, (5.0, 3.6))
    groups = sorted({tuple(cols[b][i] for b in by) for i in np.flatnonzero(keep)})
    cmap = colormap("viridis")
    for g_i, g in enumerate(groups):
        sel = keep.copy()
        for b, v in zip(by, g, strict=True):
            sel &= cols[b] == v
        xs = np.asarray(cols[x], float)[sel]
        ux = np.unique(xs)
        mean = np.array([yv[sel][xs == u].mean() for u in ux])
        cnt = np.array([(xs == u).sum() for u in ux])
        sd = np.array(
            [yv[sel][xs == u].std(ddof=1) if c > 1 else 0.0 for u, c in zip(ux, cnt, strict=True)]
        )
        values = {b: _fmt(v) for b, v in zip(by, g, strict=True)}
        text = label.format(**values) if label else ", ".join(f"{b}={v}" for b, v in values.items())
        style = {"marker": "o", "ms": 3, "lw": 1.2, "capsize": 2}
        style["color"] = cmap(0.85 * g_i / max(len(groups) - 1, 1))
        ax.errorbar(ux, mean, yerr=sd / np.sqrt(cnt), label=text or None, **(style | line))
    if level is not None:
        ax.axhline(level, color="gray", lw=0.6)
    if reference is not None:
        ax.axvline(reference[0], color="k", lw=1, ls=":", label=reference[1])
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean ± s.e.m. over seeds)")
    if legend and groups and (by or reference):
        ax.legend(fontsize=7)
    return fig, ax


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)
