"""The API's create path fits its function timeout (workflows/budget.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.aws import load_template
from workflows import budget
from workflows.errors import WorkflowUnavailable

ROOT = Path(__file__).resolve().parents[2]
API = load_template(ROOT / "template.yaml")["Resources"]["ApiFunction"]["Properties"]
# What the create path may spend before its first write (Cognito-authorized
# reads of the store and one Browse lookup) on a healthy day.
READ_PHASE_SECONDS = 5.0


@pytest.fixture
def api_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    variables: dict[str, Any] = API["Environment"]["Variables"]
    for name in ("AWS_CLIENT_CONNECT_TIMEOUT", "AWS_CLIENT_READ_TIMEOUT"):
        monkeypatch.setenv(name, str(variables[name]))
    monkeypatch.setenv(
        "AWS_CLIENT_MAX_ATTEMPTS", str(variables["AWS_CLIENT_MAX_ATTEMPTS"])
    )
    yield variables
    budget.start_request(None)


def test_the_write_chain_and_a_read_phase_fit_the_api_timeout(
    api_environment: dict[str, Any],
) -> None:
    timeout = float(API["Timeout"])
    assert timeout <= 29, "API Gateway's integration timeout is 29 s"
    config: Any = budget.aws_client_config()
    assert (config.connect_timeout, config.read_timeout) == (1.0, 2.0)
    assert config.retries == {"max_attempts": 2, "mode": "standard"}
    # 2 attempts x (1 + 2) s + 1 s backoff = 7 s per call, 3 calls + 1 s
    assert budget.critical_writes_seconds() == 22.0
    assert budget.critical_writes_seconds() + READ_PHASE_SECONDS <= timeout
    assert float(api_environment["HTTP_TIMEOUT_SECONDS"]) <= 3


def test_the_tasks_keep_their_client_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_CLIENT_CONNECT_TIMEOUT",
        "AWS_CLIENT_READ_TIMEOUT",
        "AWS_CLIENT_MAX_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    config: Any = budget.aws_client_config()
    assert (config.connect_timeout, config.read_timeout) == (2.0, 5.0)
    assert config.retries == {"max_attempts": 3, "mode": "standard"}


def test_no_write_starts_without_time_to_finish_it(
    api_environment: dict[str, Any],
) -> None:
    budget.start_request(None)
    budget.require_time_for_critical_writes()  # no deadline: no limit
    budget.start_request(30_000)
    budget.require_time_for_critical_writes()
    budget.start_request(21_000)
    with pytest.raises(WorkflowUnavailable):
        budget.require_time_for_critical_writes()
