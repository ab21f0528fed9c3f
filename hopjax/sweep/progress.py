"""The sweep's progress bar (rich): rows done of the total, rate and time left."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Progress"]


class Progress:
    """A rich progress bar over rows (done/total, rate, ETA); silent when disabled."""

    def __init__(self, enabled: bool, total: int, done: int, where: str = ""):
        self.enabled, self.total, self.done = enabled, total, done
        self.label = f"sweep ({where})" if where else "sweep"

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn(f"[bold]{self.label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        self.bar.start()
        self.t0 = time.perf_counter()
        self.task = self.bar.add_task("rows", total=self.total, completed=self.done, rate="")
        self.new = 0

        def advance(n: int) -> None:
            self.new += n
            rate = self.new / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.update(self.task, advance=n, rate=f"{rate:.1f} rows/s")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()
