"""An execution's history in plain words, one line per meaningful event."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

_CAUSE_CHARS = 200


def _when(event: Mapping[str, Any], started: datetime | None) -> str:
    at = event.get("timestamp")
    if not isinstance(at, datetime):
        return "          "
    stamp = at.strftime("%H:%M:%S.%f")[:-3]
    if started is None:
        return stamp
    return f"{stamp} (+{(at - started).total_seconds():.1f}s)"


def _short(text: str | None) -> str:
    if not text:
        return ""
    text = " ".join(str(text).split())
    try:  # Lambda errors carry a JSON cause: show its message only
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and "errorMessage" in data:
        text = str(data["errorMessage"])
    return text if len(text) <= _CAUSE_CHARS else text[: _CAUSE_CHARS - 1] + "…"


def _failure(details: Mapping[str, Any]) -> str:
    error = str(details.get("error") or "")
    cause = _short(details.get("cause"))
    return ": ".join(part for part in (error, cause) if part) or "no reason given"


# Events whose line names a failure: (the event's details key, the line).
_FAILURES: dict[str, tuple[str, str]] = {
    "LambdaFunctionFailed": (
        "lambdaFunctionFailedEventDetails",
        "{where} failed: {failure}",
    ),
    "LambdaFunctionTimedOut": (
        "lambdaFunctionTimedOutEventDetails",
        "{where} timed out: {failure}",
    ),
    "LambdaFunctionStartFailed": (
        "lambdaFunctionStartFailedEventDetails",
        "{where} could not start: {failure}",
    ),
    "TaskFailed": ("taskFailedEventDetails", "{where} failed: {failure}"),
    "ExecutionFailed": ("executionFailedEventDetails", "execution FAILED: {failure}"),
    "ExecutionAborted": (
        "executionAbortedEventDetails",
        "execution STOPPED: {failure}",
    ),
}
# Events with a fixed line.
_PLAIN = {
    "LambdaFunctionSucceeded": "{where} succeeded",
    "ExecutionSucceeded": "execution SUCCEEDED",
    "ExecutionTimedOut": "execution TIMED OUT",
}


def describe_event(event: Mapping[str, Any], state: str | None) -> str | None:
    """The plain-words line of one history event (None: not worth a line)."""
    kind = str(event.get("type", ""))
    where = f"'{state}'" if state else "the task"
    if kind == "ExecutionStarted":
        return "execution started"
    if kind == "ExecutionRedriven":
        count = event.get("executionRedrivenEventDetails", {}).get("redriveCount")
        return f"execution redriven (redrive #{count})" if count else "redriven"
    if kind.endswith("StateEntered"):
        name = event.get("stateEnteredEventDetails", {}).get("name", "?")
        if kind.startswith("Wait"):
            return f"waiting in '{name}'"
        if kind.startswith("Fail"):
            return f"reached the Fail state '{name}'"
        if kind.startswith("Succeed"):
            return f"reached the Succeed state '{name}'"
        if kind.startswith("Choice"):
            return None
        return f"entered '{name}'"
    if kind in _FAILURES:
        details_key, template = _FAILURES[kind]
        failure = _failure(event.get(details_key) or {})
        return template.format(where=where, failure=failure)
    return _PLAIN.get(kind, "").format(where=where) or None
    return None


def timeline(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Plain-words lines of an execution history (oldest first)."""
    lines: list[str] = []
    started: datetime | None = None
    state: str | None = None
    for event in events:
        if event.get("type") == "ExecutionStarted":
            at = event.get("timestamp")
            started = at if isinstance(at, datetime) else None
        entered = event.get("stateEnteredEventDetails")
        if entered:
            state = str(entered.get("name"))
        text = describe_event(event, state)
        if text:
            lines.append(f"{_when(event, started)}  {text}")
    return lines
