"""The sweep engine's error for a run that cannot go on for a reason the user can act on."""

from __future__ import annotations

__all__ = ["RunError"]


class RunError(RuntimeError):
    """A run that cannot start or go on for a reason the user can act on (its folder is held by
    a live run or cannot be written, a process of a multi-process run died); the message names
    the folder or the process and the cause."""
