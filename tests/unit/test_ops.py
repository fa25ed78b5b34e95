"""ops: where the stack is (--local, environment, overrides) and the plain
words of failure events. The commands themselves run against the local stack
in tests/scenarios/test_ops_cli.py."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops import cli
from ops.operator import OpsError, execution_names, snipe_id_of
from ops.timeline import timeline

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:sniper-snipe"


def _args(*argv: str) -> argparse.Namespace:
    return cli._parser().parse_args([*argv, "stuck"])


def test_local_reads_the_dev_stack_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "stack.json"
    state.write_text(
        json.dumps(
            {
                "moto_url": "http://127.0.0.1:8503",
                "state_machine_arn": MACHINE,
                "table_name": "SnipesTable",
            }
        )
    )
    monkeypatch.setenv("SANDBOX_STATE_FILE", str(state))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    config = cli.resolve_config(_args("--local"))
    assert (config.table_name, config.state_machine_arn) == ("SnipesTable", MACHINE)
    assert (config.notify_function, config.notify_qualifier) == ("NotifyFunction", None)

    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:8503"


def test_no_local_stack_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_STATE_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(OpsError, match="make dev"):
        cli.resolve_config(_args("--local"))


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t-env")
    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    monkeypatch.setenv("NOTIFY_FUNCTION_NAME", "notify-fn")
    config = cli.resolve_config(_args("--table", "t-flag"))
    assert (config.table_name, config.notify_function) == ("t-flag", "notify-fn")
    assert config.notify_qualifier == "live"
    monkeypatch.setenv("STATE_MACHINE_ARN", "")
    with pytest.raises(OpsError, match="where is the stack"):
        cli.resolve_config(_args())


def test_execution_names_follow_the_versions() -> None:
    assert snipe_id_of("snp_A-v3") == "snp_A" and snipe_id_of("snp_A") == "snp_A"

    class _Snipe:
        snipe_id = "snp_A"
        execution_name = "snp_A-v3"

    assert execution_names(_Snipe()) == ["snp_A", "snp_A-v2", "snp_A-v3"]  # type: ignore[arg-type]


def test_failures_read_as_words_with_the_error_message_only() -> None:
    t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    cause = json.dumps(
        {"errorType": "EbayUnavailable", "errorMessage": "eBay unavailable (HTTP 503)"}
    )
    lines = timeline(
        [
            {"type": "ExecutionStarted", "timestamp": t0},
            {
                "type": "TaskStateEntered",
                "timestamp": t0,
                "stateEnteredEventDetails": {"name": "Check result"},
            },
            {
                "type": "LambdaFunctionFailed",
                "timestamp": t0,
                "lambdaFunctionFailedEventDetails": {
                    "error": "EbayUnavailable",
                    "cause": cause,
                },
            },
            {
                "type": "ExecutionFailed",
                "timestamp": t0,
                "executionFailedEventDetails": {
                    "error": "RESULT_UNKNOWN",
                    "cause": "eBay did not answer",
                },
            },
        ]
    )
    assert lines[2].endswith(
        "'Check result' failed: EbayUnavailable: eBay unavailable (HTTP 503)"
    )
    assert lines[3].endswith("execution FAILED: RESULT_UNKNOWN: eBay did not answer")
