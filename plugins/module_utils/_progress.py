# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Where progress of long waits goes.

The ARM client calls ``report`` after every poll of a long-running operation. Nothing listens in a
module process (it cannot stream; its result says how long it waited instead). On the controller,
the action plugins install a listener for the time of a task that prints through Ansible's display.
"""

from __future__ import annotations

import contextlib
import typing as t

__all__ = ("ProgressEvent", "listening", "report")


class ProgressEvent(t.NamedTuple):
    """One poll of an operation: what is being waited for, its status, time waited, polls made."""

    action: str
    status: str | None
    elapsed: float
    polls: int
    request_id: str | None = None


_LISTENERS: list[t.Callable[[ProgressEvent], None]] = []


def report(event: ProgressEvent) -> None:
    for listener in tuple(_LISTENERS):
        listener(event)


@contextlib.contextmanager
def listening(listener: t.Callable[[ProgressEvent], None]) -> t.Iterator[None]:
    """Send progress events to ``listener`` within the block."""
    _LISTENERS.append(listener)
    try:
        yield
    finally:
        _LISTENERS.remove(listener)
