"""A settable clock for code that takes ``now`` as a callable."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: float | timedelta) -> None:
        """Move on by ``by`` (seconds, or a timedelta)."""
        self.now += by if isinstance(by, timedelta) else timedelta(seconds=by)
