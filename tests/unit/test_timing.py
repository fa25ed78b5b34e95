from datetime import UTC, datetime, timedelta, timezone

import pytest

from workflows.timing import (
    SnipePlan,
    monotonic_deadline,
    parse_utc,
    sleep_until_deadline,
    to_z,
)

END = datetime(2026, 11, 26, 18, 0, 0, 500000, tzinfo=UTC)


def test_plan_follows_the_documented_formulas() -> None:
    plan = SnipePlan.for_auction(
        END, bid_offset_seconds=6, lead_seconds=10, settle_seconds=15
    )
    assert plan.fire_at == END - timedelta(seconds=6)
    assert plan.wake_at == END - timedelta(seconds=16)
    assert plan.settle_at == END + timedelta(seconds=15)
    assert plan.as_execution_input() == {
        "wake_at": "2026-11-26T17:59:44.500Z",
        "fire_at": "2026-11-26T17:59:54.500Z",
        "end_at": "2026-11-26T18:00:00.500Z",
        "settle_at": "2026-11-26T18:00:15.500Z",
    }


def test_plan_normalises_other_zones_to_utc() -> None:
    plus_one = END.astimezone(timezone(timedelta(hours=1)))
    plan = SnipePlan.for_auction(
        plus_one, bid_offset_seconds=2, lead_seconds=3, settle_seconds=1
    )
    assert plan.as_execution_input()["end_at"] == "2026-11-26T18:00:00.500Z"


def test_to_z_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        to_z(datetime(2026, 1, 1))  # noqa: DTZ001


def test_parse_utc_accepts_z_and_offsets_but_not_naive() -> None:
    assert parse_utc("2026-11-26T18:00:00.500Z") == END
    assert parse_utc("2026-11-26T19:00:00.500+01:00") == END
    with pytest.raises(ValueError):
        parse_utc("2026-11-26T18:00:00")


class FakeClock:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        # The first sleep wakes early (as an OS may): the loop must sleep again.
        self.mono += seconds * (0.6 if not self.sleeps else 1.0)
        self.sleeps.append(seconds)


def test_sleep_until_deadline_never_returns_early() -> None:
    clock = FakeClock()
    wall = END - timedelta(seconds=2)
    deadline = monotonic_deadline(END, now=lambda: wall, monotonic=clock.monotonic)
    assert deadline == pytest.approx(1002.0)
    sleep_until_deadline(deadline, monotonic=clock.monotonic, sleep=clock.sleep)
    assert clock.mono >= deadline
    assert len(clock.sleeps) == 2


def test_sleep_until_past_deadline_returns_at_once() -> None:
    clock = FakeClock()
    sleep_until_deadline(999.0, monotonic=clock.monotonic, sleep=clock.sleep)
    assert clock.sleeps == []
