"""template.yaml's operations section (issue 14): alarms to one topic, logs
with retention, the dashboard, the layer, releases, least privilege, limits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sandbox.aws import load_template
from workflows.ebay_limits import MAX_USED_METRIC
from workflows.failure_metrics import BY_REASON_METRIC
from workflows.models import Reason

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE["Globals"]["Function"]


def _of_type(type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == type_}


FUNCTIONS = _of_type("AWS::Serverless::Function")
ALARMS = _of_type("AWS::CloudWatch::Alarm")
LOG_GROUPS = _of_type("AWS::Logs::LogGroup")
OPERATIONS_DOC = (ROOT / "docs" / "operations.md").read_text()


def _statements(function_id: str) -> list[dict[str, Any]]:
    policies = FUNCTIONS[function_id]["Properties"].get("Policies", [])
    return [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]


def test_at_least_six_alarms_all_to_the_one_topic() -> None:
    [(topic_id, _)] = _of_type("AWS::SNS::Topic").items()
    assert len(ALARMS) >= 6
    for alarm_id, alarm in ALARMS.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic_id}], alarm_id
        assert props["TreatMissingData"] in {"notBreaching", "breaching", "missing"}
    [subscription] = _of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def _alarm_on(metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in ALARMS.values()
        if a["Properties"].get("MetricName") == metric
        or metric in json.dumps(a["Properties"].get("Metrics", []))
    ]


@pytest.mark.parametrize(
    "metric",
    [
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "5XXError",
        "Latency",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "FireErrorMs",
        "ApproximateNumberOfMessagesVisible",
        MAX_USED_METRIC,
    ],
)
def test_each_listed_kind_has_an_alarm(metric: str) -> None:
    assert _alarm_on(metric), f"no alarm on {metric}"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_errors_and_throttles_alarms(
    function_id: str, metric: str
) -> None:
    dimensions = [
        a["Dimensions"] for a in _alarm_on(metric) if a["Namespace"] == "AWS/Lambda"
    ]
    assert [{"Name": "FunctionName", "Value": {"Ref": function_id}}] in dimensions


def test_fire_error_p99_over_250_ms_and_call_limit_at_80_percent() -> None:
    [fire] = _alarm_on("FireErrorMs")
    assert (fire["ExtendedStatistic"], float(fire["Threshold"])) == ("p99", 250.0)
    [limit] = _alarm_on(MAX_USED_METRIC)
    assert float(limit["Threshold"]) == 80.0


@pytest.mark.parametrize(
    "reason", [Reason.BID_WINDOW_MISSED, Reason.EBAY_UNAVAILABLE, Reason.INTERNAL_ERROR]
)
def test_failure_reasons_alarm_on_the_reason_dimension(reason: Reason) -> None:
    dimensions = [a["Dimensions"] for a in _alarm_on(BY_REASON_METRIC)]
    assert [
        {"Name": "service", "Value": "snipe"},
        {"Name": "Reason", "Value": reason.value},
    ] in dimensions


@pytest.mark.parametrize("alarm_id", sorted(ALARMS))
def test_every_alarm_is_in_the_runbook(alarm_id: str) -> None:
    headings = [line for line in OPERATIONS_DOC.splitlines() if line.startswith("#")]
    documented = {name for line in headings for name in re.findall(r"`(\w+)`", line)}
    assert alarm_id in documented, f"docs/operations.md has no heading {alarm_id}"


def test_every_function_and_the_state_machine_log_with_retention() -> None:
    for function_id, function in FUNCTIONS.items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in LOG_GROUPS, function_id
    machine = RESOURCES["SnipeStateMachine"]["Properties"]
    [destination] = machine["Logging"]["Destinations"]
    machine_group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
    assert machine_group["Fn::GetAtt"][0] in LOG_GROUPS
    for group_id, group in LOG_GROUPS.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert group["DeletionPolicy"] == "Delete", group_id
    assert TEMPLATE["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_api_access_logs_are_json_without_headers() -> None:
    props = RESOURCES["SnipeApi"]["Properties"]["AccessLogSetting"]
    assert props["DestinationArn"]["Fn::GetAtt"][0] in LOG_GROUPS
    fields = json.loads(props["Format"])
    assert {"requestId", "status", "httpMethod", "resourcePath"} <= set(fields)
    assert "authorization" not in props["Format"].lower()
    assert "header" not in props["Format"].lower()


def test_the_daily_job_has_a_dlq_for_failures_and_undelivered_events() -> None:
    job = FUNCTIONS["EbayTokenExpiryFunction"]["Properties"]
    destination = job["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    queue = destination["Destination"]["Fn::GetAtt"][0]
    assert RESOURCES[queue]["Type"] == "AWS::SQS::Queue"
    event = job["Events"]["Daily"]["Properties"]
    assert event["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] == queue


def test_the_dashboard_is_json_and_shows_the_listed_figures() -> None:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    text = json.dumps(dashboard)
    for metric in (
        "SnipesCreated",
        "BidsPlaced",
        "SnipesWon",
        "SnipesLost",
        "FireErrorMs",
        BY_REASON_METRIC,
        "Duration",
        "ConcurrentExecutions",
        "Latency",
        "5XXError",
    ):
        assert metric in text, metric


def test_functions_ship_our_code_and_one_layer_the_dependencies() -> None:
    [(layer_id, layer)] = _of_type("AWS::Serverless::LayerVersion").items()
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert GLOBAL_FUNCTION["Layers"] == [{"Ref": layer_id}]
    build_mk = (ROOT / "build.mk").read_text()
    assert re.search(rf"^build-{layer_id}:", build_mk, re.M)


def test_executions_invoke_published_versions() -> None:
    assert GLOBAL_FUNCTION["AutoPublishAlias"] == "live"
    substitutions = RESOURCES["SnipeStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]
    for name, value in substitutions.items():
        if name.endswith("FunctionArn"):
            assert value["Ref"].endswith(".Version"), name


def test_least_privilege_on_the_table() -> None:
    for function_id in FUNCTIONS:
        policies = FUNCTIONS[function_id]["Properties"].get("Policies", [])
        assert not [p for p in policies if "DynamoDBCrudPolicy" in json.dumps(p)]
        actions = {
            action
            for statement in _statements(function_id)
            for action in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            )
        }
        assert not actions & {
            "dynamodb:Scan",
            "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:*",
        }, function_id


def test_place_bid_reserved_concurrency_is_a_parameter() -> None:
    reserved = FUNCTIONS["PlaceBidFunction"]["Properties"][
        "ReservedConcurrentExecutions"
    ]
    assert reserved["Fn::If"][0] == "HasBidReservation"
    assert reserved["Fn::If"][1] == {"Ref": "PlaceBidReservedConcurrency"}


STATEFUL = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::Cognito::UserPool",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
}


@pytest.mark.parametrize(
    "resource_id", sorted(k for k, v in RESOURCES.items() if v["Type"] in STATEFUL)
)
def test_stateful_resources_have_deletion_policies(resource_id: str) -> None:
    resource = RESOURCES[resource_id]
    assert resource.get("DeletionPolicy") in {"Retain", "Delete", "Snapshot"}
    assert resource.get("UpdateReplacePolicy") == resource["DeletionPolicy"]


def test_required_parameters_are_constrained() -> None:
    for name, parameter in TEMPLATE["Parameters"].items():
        if "Default" in parameter or parameter["Type"] != "String":
            continue
        assert "AllowedPattern" in parameter or "AllowedValues" in parameter, name
        assert parameter.get("Description"), name


# --- redrive (docs/operations.md, "Redrive") ------------------------------------

ASL = json.loads((ROOT / "statemachines" / "snipe.asl.json").read_text())
STATES: dict[str, Any] = ASL["States"]


def test_every_fail_state_carries_its_reason_through_cause_path() -> None:
    fails = {name: s for name, s in STATES.items() if s["Type"] == "Fail"}
    assert fails
    for name, state in fails.items():
        assert state.get("ErrorPath") and state.get("CausePath"), name


def test_an_unsent_email_fails_in_notify_itself() -> None:
    notify = STATES["Notify user"]
    # A caught failure would end in a Fail state, which a redrive cannot fix.
    assert "Catch" not in notify
    assert any("EmailUnavailable" in r["ErrorEquals"] for r in notify["Retry"])


def test_result_unknown_ends_in_a_task_a_redrive_reruns() -> None:
    routes = [
        c
        for c in STATES["Final status?"]["Choices"]
        if "RESULT_UNKNOWN" in json.dumps(c)
    ]
    [route] = routes
    target = STATES[route["Next"]]
    assert target["Type"] == "Task" and "Catch" not in target
    assert target["Parameters"]["recheck_unknown"] is True
    assert target["Next"] == "Notify user"
    order = [c["Next"] for c in STATES["Final status?"]["Choices"]]
    assert order.index(route["Next"]) < order.index("Snipe failed")
