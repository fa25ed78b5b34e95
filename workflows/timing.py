"""Timing: the snipe plan in UTC and a precise sleep on the monotonic clock.

All timestamps handed to Step Functions are UTC with a ``Z`` suffix and
millisecond precision (``2026-11-26T13:30:55.123Z``): Wait states accept only
that form on every engine we run on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_z(moment: datetime) -> str:
    """Format an aware datetime as UTC ``...Z`` with milliseconds (truncated)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; times must be timezone-aware UTC")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone; returns UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return moment.astimezone(UTC)


class SnipePlan(BaseModel):
    """When the execution wakes, when the bid fires, when the result is read.

    ``wake_at = end - offset - lead``; ``fire_at = end - offset``;
    ``settle_at = end + settle``.
    """

    model_config = ConfigDict(frozen=True)

    wake_at: AwareDatetime
    fire_at: AwareDatetime
    end_at: AwareDatetime
    settle_at: AwareDatetime

    @classmethod
    def for_auction(
        cls,
        end_at: datetime,
        *,
        bid_offset_seconds: float,
        lead_seconds: float,
        settle_seconds: float,
    ) -> SnipePlan:
        end = end_at.astimezone(UTC)
        fire = end - timedelta(seconds=bid_offset_seconds)
        return cls(
            wake_at=fire - timedelta(seconds=lead_seconds),
            fire_at=fire,
            end_at=end,
            settle_at=end + timedelta(seconds=settle_seconds),
        )

    def as_execution_input(self) -> dict[str, str]:
        return {
            "wake_at": to_z(self.wake_at),
            "fire_at": to_z(self.fire_at),
            "end_at": to_z(self.end_at),
            "settle_at": to_z(self.settle_at),
        }


def seconds_until(target: datetime, *, now: Callable[[], datetime] = utc_now) -> float:
    return (target - now()).total_seconds()


def monotonic_deadline(
    target: datetime,
    *,
    now: Callable[[], datetime] = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
) -> float:
    """Convert a wall-clock target into a deadline on the monotonic clock.

    The wall clock is read once; from then on only the monotonic clock counts, so a
    clock step (NTP slew, manual change) cannot make the bid fire early or late.
    """
    return monotonic() + seconds_until(target, now=now)


def sleep_until_deadline(
    deadline: float,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Sleep until ``monotonic() >= deadline`` (returns at once if already past)."""
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            return
        sleep(remaining)
