"""I/O budget of a request: AWS client limits and the create path's deadline.

A Lambda function is killed at its ``Timeout``. The API's create path writes
the snipe, starts its execution and, if the start fails, deletes the snipe
again (``workflows.scheduling.create_snipe``). Killed in between, it would
leave a SCHEDULED snipe with no execution: a snipe that never fires while the
user believes it will. So the create path checks, before its first write,
that the rest of the function's time covers the worst case of that write
chain (:data:`CRITICAL_WRITES` calls at :func:`worst_case_call_seconds`
each); if not, it answers 503 ``WORKFLOW_UNAVAILABLE`` (retryable, nothing
written) instead of starting something it may not finish.

The AWS clients' timeouts and attempts come from the environment, so that the
API (``template.yaml``: ``ApiFunction``) can use tighter limits than the
tasks: ``AWS_CLIENT_CONNECT_TIMEOUT``, ``AWS_CLIENT_READ_TIMEOUT`` (seconds)
and ``AWS_CLIENT_MAX_ATTEMPTS`` (botocore "standard" retries, attempts
including the first). The defaults are the values the clients always had.
``tests/unit/test_budget.py`` checks that the template's API settings fit its
``Timeout``.
"""

from __future__ import annotations

import os
import time
from contextvars import ContextVar

from botocore.config import Config

from workflows.errors import WorkflowUnavailable

DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 5.0
DEFAULT_MAX_ATTEMPTS = 3
# botocore's standard mode waits rand(0, 1) * 2**attempt seconds, at most 20.
_MAX_BACKOFF_SECONDS = 20.0
# PutItem (the snipe), StartExecution, and DeleteItem (the snipe again) when
# the start failed: the calls that must all finish once the first has begun.
CRITICAL_WRITES = 3
SAFETY_SECONDS = 1.0

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def connect_timeout() -> float:
    return _env_float("AWS_CLIENT_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)


def read_timeout() -> float:
    return _env_float("AWS_CLIENT_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)


def max_attempts() -> int:
    return int(_env_float("AWS_CLIENT_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def aws_client_config() -> Config:
    """The botocore configuration of every AWS client of our functions."""
    return Config(
        connect_timeout=connect_timeout(),
        read_timeout=read_timeout(),
        retries={"max_attempts": max_attempts(), "mode": "standard"},
    )


def worst_case_call_seconds() -> float:
    """The longest one AWS call can take with these settings (all attempts)."""
    attempts = max_attempts()
    backoff = sum(min(_MAX_BACKOFF_SECONDS, 2.0**n) for n in range(attempts - 1))
    return attempts * (connect_timeout() + read_timeout()) + backoff


def critical_writes_seconds() -> float:
    return CRITICAL_WRITES * worst_case_call_seconds() + SAFETY_SECONDS


def start_request(remaining_ms: int | None) -> None:
    """Remember when this request's function is killed (None: never)."""
    deadline = None if remaining_ms is None else time.monotonic() + remaining_ms / 1000
    _deadline.set(deadline)


def remaining_seconds() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def require_time_for_critical_writes() -> None:
    """Raise ``WorkflowUnavailable`` unless the write chain can still finish."""
    remaining = remaining_seconds()
    if remaining is not None and remaining < critical_writes_seconds():
        raise WorkflowUnavailable(
            "not enough time left in this request to schedule the snipe safely; retry"
        )
