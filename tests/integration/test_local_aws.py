"""sandbox.aws: the local AWS built from template.yaml and the ASL, in both modes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import aws, engine
from tests.support.local import HAPPY_TASKS, PAST

TEMPLATE = aws.load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
TABLE = next(r for r in RESOURCES.values() if r["Type"] == "AWS::DynamoDB::Table")
FUNCTIONS = {
    logical_id: resource["Properties"]["Handler"]
    for logical_id, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def _check_table(local: aws.LocalAws) -> None:
    table = local.dynamodb.describe_table(TableName=local.table_name)["Table"]
    expected = TABLE["Properties"]
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(
        table["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    ) == sorted(expected["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    indexes = {
        index["IndexName"]: (index["KeySchema"], index["Projection"])
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    assert indexes == {
        index["IndexName"]: (index["KeySchema"], index["Projection"])
        for index in expected["GlobalSecondaryIndexes"]
    }
    assert set(indexes) == {"GSI1", "GSI2", "GSI3"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = local.dynamodb.describe_time_to_live(TableName=local.table_name)
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"


def _check_key_and_secret(local: aws.LocalAws) -> None:
    """The token key (rotation on, reached by its alias) and the app secret."""
    kms = local.client("kms")
    assert local.token_kms_key_id.startswith("alias/")
    key = kms.describe_key(KeyId=local.token_kms_key_id)["KeyMetadata"]
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    secretsmanager = local.client("secretsmanager")
    secret = secretsmanager.get_secret_value(SecretId=local.app_secrets_arn)
    value = json.loads(secret["SecretString"])
    assert set(value) == {
        "ebay_client_id",
        "ebay_client_secret",
        "postmark_server_token",
        "state_signing_key",
    }
    assert len(value["state_signing_key"]) == 64  # generated as in the template
    environment = local.environment()
    assert environment["APP_SECRETS_ARN"] == local.app_secrets_arn
    assert environment["TOKEN_KMS_KEY_ID"] == local.token_kms_key_id


def _check_functions_and_machine(local: aws.LocalAws) -> None:
    configurations = {
        f["FunctionName"]: f for f in local.lambda_.list_functions()["Functions"]
    }
    assert set(configurations) == set(FUNCTIONS)
    assert {name: f["Handler"] for name, f in configurations.items()} == FUNCTIONS
    assert configurations["PlaceBidFunction"]["Timeout"] == 60
    assert local.function_names == {name: name for name in FUNCTIONS}

    definition = local.stepfunctions.describe_state_machine(
        stateMachineArn=local.state_machine_arn
    )["definition"]
    assert "${" not in definition
    arns = {f["FunctionArn"] for f in configurations.values()}
    resources = {
        state["Resource"]
        for state in json.loads(definition)["States"].values()
        if state["Type"] == "Task"
    }
    assert resources
    # Published versions (`!Ref Fn.Version`), as on AWS: <function ARN>:<n>
    assert {resource.rpartition(":")[0] for resource in resources} <= arns
    assert all(resource.rpartition(":")[2].isdigit() for resource in resources)


def _run_happy_path(local: aws.LocalAws) -> dict[str, Any]:
    execution_arn = local.stepfunctions.start_execution(
        stateMachineArn=local.state_machine_arn,
        name="snipe-1",
        input=json.dumps(
            {"snipe_id": "snipe-1", "plan": {"wake_at": PAST, "settle_at": PAST}}
        ),
    )["executionArn"]
    return local.wait_for_execution(execution_arn, timeout=20)


# --------------------------------------------------------------------------- #
# In-process
# --------------------------------------------------------------------------- #
def test_in_process_provision_builds_the_template() -> None:
    tz_before = os.environ.get("TZ")
    handlers_before = dict(engine.HANDLERS)
    with aws.in_process_aws() as local:
        _check_table(local)
        _check_key_and_secret(local)
        _check_functions_and_machine(local)
        # Functions resolve lazily from their Handler strings
        for name, handler in FUNCTIONS.items():
            registered = engine.HANDLERS[name]
            assert isinstance(registered, engine.LazyHandler)
            assert registered.path == handler
        # The harness' environment is exported
        assert os.environ["TABLE_NAME"] == local.table_name
        assert os.environ["STATE_MACHINE_ARN"] == local.state_machine_arn
        assert os.environ["TZ"] == "UTC"
        assert local.environment()["AWS_ENDPOINT_URL"] == ""
        # The real state machine runs with stand-in task handlers
        with engine.registered_handlers(HAPPY_TASKS):
            described = _run_happy_path(local)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"])["outcome"] == {"status": "WON"}
    assert os.environ.get("TZ") == (tz_before or "UTC")
    assert handlers_before == engine.HANDLERS


def test_provision_fails_loudly_on_an_unknown_placeholder(tmp_path: Path) -> None:
    asl = aws.REPO_ROOT / "statemachines" / "snipe.asl.json"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(
        asl.read_text().replace("${NotifyFunctionArn}", "${NoSuchFunctionArn}")
    )
    with (
        pytest.raises(aws.TemplateError, match="NoSuchFunctionArn"),
        aws.in_process_aws(asl_path=broken),
    ):
        pass


def test_render_definition_checks_both_directions() -> None:
    with pytest.raises(aws.TemplateError, match="no value for \\['B'\\]"):
        aws.render_definition('{"a": "${A}", "b": "${B}"}', {"A": "x"})
    with pytest.raises(aws.TemplateError, match="no placeholder for \\['C'\\]"):
        aws.render_definition('{"a": "${A}"}', {"A": "x", "C": "y"})
    assert aws.render_definition('{"a": "${A}"}', {"A": "x"}) == '{"a": "x"}'


# --------------------------------------------------------------------------- #
# Server mode
# --------------------------------------------------------------------------- #
@pytest.fixture
def server() -> Iterator[aws.MotoServer]:
    with aws.MotoServer() as moto_server:
        yield moto_server


def test_server_mode_provision_and_run(server: aws.MotoServer) -> None:
    # Given the template provisioned against a moto server
    assert os.environ["MOTO_PORT"] == server.url.rsplit(":", 1)[1]
    local = server.provision()
    assert local.endpoint_url == server.url
    assert local.environment()["AWS_ENDPOINT_URL"] == server.url
    _check_table(local)
    _check_key_and_secret(local)
    _check_functions_and_machine(local)

    # DynamoDB through boto3 with endpoint_url
    key = {"PK": {"S": "USER#1"}, "SK": {"S": "SNIPE#1"}}
    local.dynamodb.put_item(
        TableName=local.table_name, Item={**key, "status": {"S": "SCHEDULED"}}
    )
    item = local.dynamodb.get_item(TableName=local.table_name, Key=key)["Item"]
    assert item["status"] == {"S": "SCHEDULED"}

    # The interpreter reaches the server through MOTO_PORT, and the invoke hook
    # runs our handlers inside the server's thread
    with engine.registered_handlers(HAPPY_TASKS):
        described = _run_happy_path(local)
    assert described["status"] == "SUCCEEDED", described
    executions = local.stepfunctions.list_executions(
        stateMachineArn=local.state_machine_arn
    )["executions"]
    assert [(e["name"], e["status"]) for e in executions] == [("snipe-1", "SUCCEEDED")]


def test_server_reset_and_prefixed_stacks(server: aws.MotoServer) -> None:
    first = server.provision(name_prefix="a-")
    second = server.provision(name_prefix="b-")
    assert (first.table_name, second.table_name) == ("a-SnipesTable", "b-SnipesTable")
    server.reset()
    assert first.dynamodb.list_tables()["TableNames"] == []
    assert server.provision().table_name == "SnipesTable"
