"""Plot helpers shared by the experiments (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["plt", "save"]


def save(fig: Figure, path: Path, dpi: int) -> Path:
    """Write ``fig`` to ``path`` as PNG and close it."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
