"""Task Lambda faults of the local engine: a killed invocation does nothing more."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import task_faults


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    task_faults.clear_task_faults()
    yield
    task_faults.clear_task_faults()


def test_a_crash_on_cue_kills_the_handler_before_its_next_step() -> None:
    sent = threading.Event()
    effects: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> str:
        sent.set()  # "the bid left"
        time.sleep(0.3)  # waiting for the answer (blocked in C)
        effects.append("recorded")  # must never happen
        return "ok"

    fault = task_faults.inject_task_fault(
        "PlaceBidFunction", "crash", when=sent.is_set, snipe_id="s1"
    )
    assert task_faults.take_task_fault("PlaceBidFunction", {"snipe_id": "s2"}) is None
    taken = task_faults.take_task_fault("PlaceBidFunction", {"snipe_id": "s1"})
    assert taken is fault
    with pytest.raises(task_faults.TaskDied) as died:
        task_faults.run_with_fault(fault, handler, {"snipe_id": "s1"}, None)
    assert died.value.error_type == "Runtime.ExitError"
    time.sleep(0.5)
    assert effects == []
    assert task_faults.task_faults() == []  # count=1 used up


def test_a_timeout_after_some_seconds_reports_sandbox_timedout() -> None:
    fault = task_faults.inject_task_fault("F", "timeout", after_s=0.05, count=None)

    def slow(event: dict[str, Any], context: Any) -> None:
        time.sleep(1)

    with pytest.raises(task_faults.TaskDied) as died:
        task_faults.run_with_fault(fault, slow, {}, None)
    assert died.value.error_type == "Sandbox.Timedout"
    assert "Task timed out after" in died.value.message
    assert task_faults.task_faults() == [fault]  # count=None: stays


def test_a_handler_that_finishes_first_is_untouched() -> None:
    fault = task_faults.inject_task_fault("F", "crash", after_s=5)
    assert task_faults.run_with_fault(fault, lambda e, c: {"ok": 1}, {}, None) == {
        "ok": 1
    }

    def boom(event: dict[str, Any], context: Any) -> None:
        raise ValueError("its own error")

    with pytest.raises(ValueError, match="its own error"):
        task_faults.run_with_fault(fault, boom, {}, None)


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError):
        task_faults.inject_task_fault("F", "crash")
    with pytest.raises(ValueError):
        task_faults.inject_task_fault("F", "crash", after_s=1, when=lambda: True)
    with pytest.raises(ValueError):
        task_faults.inject_task_fault(
            "F", "crash", when=lambda: True, when_for=lambda event: lambda: True
        )
    with pytest.raises(ValueError):
        task_faults.inject_task_fault("F", "explode", after_s=1)  # type: ignore[arg-type]
