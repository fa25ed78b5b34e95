"""Static checks that keep template.yaml, the ASL and the code in step."""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.template import load_template
from workflows import errors

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE: dict[str, Any] = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE.get("Globals", {}).get("Function", {})
STATE_MACHINES = {
    logical_id: resource["Properties"]
    for logical_id, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::StateMachine"
}
FUNCTIONS = {
    logical_id: resource
    for logical_id, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
}
ASL_PATH = ROOT / "statemachines" / "snipe.asl.json"

# Our own error names in the state machine's Retry/Catch rules.  Each one is
# the class name of an exception raised by a task handler (the Lambda runtime
# reports ``type(exc).__name__`` as the error).
CUSTOM_ERROR_NAMES = {
    "SnipeNotActive",
    "SnipeRescheduled",
    "StoreUnavailable",
    "AppSecretsUnavailable",
    "EbayUnavailable",
    "BidRejected",
    "BidWindowMissed",
    "SnipeSkipped",
    "EbayReconnectRequired",
    "EmailUnavailable",
}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _asl_error_names() -> set[str]:
    definition = json.loads(ASL_PATH.read_text())
    return {
        name
        for node in _walk(definition)
        for name in node.get("ErrorEquals", [])
        if not name.startswith(("States.", "Lambda."))
    }


def test_custom_error_names_are_the_known_ones() -> None:
    assert _asl_error_names() == CUSTOM_ERROR_NAMES, (
        "Update CUSTOM_ERROR_NAMES (and workflows.errors) with the ASL's names"
    )


@pytest.mark.parametrize("name", sorted(CUSTOM_ERROR_NAMES))
def test_custom_error_names_are_exception_classes(name: str) -> None:
    cls = getattr(errors, name, None)
    assert isinstance(cls, type), f"workflows.errors has no class {name}"
    assert issubclass(cls, Exception)
    assert cls.__name__ == name, "the error name is the class' own __name__"


# --- Retry lists against the errors the code raises -----------------------------

# Every task uses the store and the app secrets: both are retried on every task.
INFRASTRUCTURE_ERRORS = {"StoreUnavailable", "AppSecretsUnavailable"}
# Tasks that retry nothing of ours and go on whatever happens (none today).
BEST_EFFORT: set[str] = set()


def _task_states() -> dict[str, dict[str, Any]]:
    definition = json.loads(ASL_PATH.read_text())
    return {
        name: state
        for node in _walk(definition)
        for name, state in node.get("States", {}).items()
        if state.get("Type") == "Task"
    }


def _use_case_modules(state: dict[str, Any]) -> list[Path]:
    """The workflows modules whose use cases the state's task handler calls
    (Check result's handler also serves Check result after failure)."""
    placeholder = re.fullmatch(r"\$\{(\w+)Arn\}", state["Resource"])
    assert placeholder, f"task resource {state['Resource']} is not a function ARN"
    props = FUNCTIONS[placeholder.group(1)]["Properties"]
    handler = props.get("Handler", GLOBAL_FUNCTION.get("Handler"))
    source = (ROOT / Path(*handler.rpartition(".")[0].split("."))).with_suffix(".py")
    modules = {
        node.module
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("workflows.")
        and node.module not in {"workflows.observability", "workflows.services"}
    }
    assert 1 <= len(modules) <= 2, f"{source.name} calls into {modules}"
    return [ROOT / Path(*m.split(".")).with_suffix(".py") for m in sorted(modules)]


def _raised_names(source: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name):
                names.add(target.id)
    return names


def _retried(state: dict[str, Any]) -> set[str]:
    return {
        name
        for rule in state.get("Retry", [])
        for name in rule["ErrorEquals"]
        if not name.startswith(("States.", "Lambda."))
    }


TRANSIENT = {
    cls.__name__
    for cls in vars(errors).values()
    if isinstance(cls, type)
    and issubclass(cls, errors.TransientTaskError)
    and cls is not errors.TransientTaskError
}


@pytest.mark.parametrize("state_name", sorted(_task_states()))
def test_each_task_retries_exactly_the_transient_errors_it_raises(
    state_name: str,
) -> None:
    state = _task_states()[state_name]
    if state_name in BEST_EFFORT:
        assert _retried(state) == set()
        assert ["States.ALL"] in [c["ErrorEquals"] for c in state["Catch"]]
        return
    raised = set().union(*map(_raised_names, _use_case_modules(state))) & TRANSIENT
    assert _retried(state) == raised | INFRASTRUCTURE_ERRORS


def test_every_transient_task_error_is_retried_somewhere() -> None:
    retried = set().union(*(_retried(s) for s in _task_states().values()))
    assert retried >= TRANSIENT
    assert retried - INFRASTRUCTURE_ERRORS <= TRANSIENT, "a permanent error retried"


@pytest.mark.parametrize("machine_id", sorted(STATE_MACHINES))
def test_definition_substitutions_match_the_asl_placeholders(machine_id: str) -> None:
    props = STATE_MACHINES[machine_id]
    asl = (ROOT / props["DefinitionUri"]).read_text()
    placeholders = set(re.findall(r"\$\{([^}]*)\}", asl))
    assert set(props.get("DefinitionSubstitutions", {})) == placeholders


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_handler_module_exists(function_id: str) -> None:
    props = FUNCTIONS[function_id]["Properties"]
    handler = props.get("Handler", GLOBAL_FUNCTION.get("Handler"))
    code_uri = props.get("CodeUri", GLOBAL_FUNCTION.get("CodeUri", "."))
    assert isinstance(handler, str) and handler.count(".") >= 1, handler
    assert isinstance(code_uri, str), "CodeUri must be a local directory"
    module = handler.rpartition(".")[0]
    base = ROOT / code_uri / Path(*module.split("."))
    assert base.with_suffix(".py").is_file() or (base / "__init__.py").is_file(), (
        f"{function_id}: {module} ({base.relative_to(ROOT)}.py) does not exist"
    )
    handler_module = importlib.import_module(module)
    assert callable(getattr(handler_module, handler.rpartition(".")[2], None))


MAKEFILE_BUILT = sorted(
    logical_id
    for logical_id, resource in FUNCTIONS.items()
    if resource.get("Metadata", {}).get("BuildMethod") == "makefile"
)


def test_some_functions_are_built_by_make() -> None:
    assert MAKEFILE_BUILT, "no function has Metadata.BuildMethod: makefile"


@pytest.mark.parametrize("function_id", MAKEFILE_BUILT)
def test_makefile_built_functions_have_a_build_target(function_id: str) -> None:
    build_mk = (ROOT / "build.mk").read_text()
    assert re.search(rf"(^|\s)build-{function_id}(\s|:)", build_mk, re.M), (
        f"build.mk has no build-{function_id} target"
    )


def test_no_echo_parameters_have_no_default() -> None:
    offenders = [
        name
        for name, parameter in TEMPLATE["Parameters"].items()
        if str(parameter.get("NoEcho", "false")).lower() == "true"
        and "Default" in parameter
    ]
    assert offenders == []


# --- secrets at rest (docs/security.md, "Secrets at rest") ----------------------

# Functions that open eBay tokens (workflows.store's vault), and the one that
# only seals them (the API stores the refresh token of a new link).
TOKEN_TASKS = {"RefreshTokenFunction", "PlaceBidFunction", "CheckResultFunction"}
SEALS_ONLY = {"ApiFunction"}
_SECRET_SETTINGS = ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET", "POSTMARK_SERVER_TOKEN")


def _only_resource(type_: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [
        (logical_id, resource)
        for logical_id, resource in RESOURCES.items()
        if resource["Type"] == type_
    ]
    return logical_id, resource


def test_no_secret_value_reaches_a_function_environment() -> None:
    variables = GLOBAL_FUNCTION["Environment"]["Variables"]
    secret_id, _ = _only_resource("AWS::SecretsManager::Secret")
    assert variables["APP_SECRETS_ARN"] == {"Ref": secret_id}
    environments = [variables] + [
        f["Properties"].get("Environment", {}).get("Variables", {})
        for f in FUNCTIONS.values()
    ]
    for environment in environments:
        assert not set(environment) & set(_SECRET_SETTINGS)
    no_echo = [
        name
        for name, parameter in TEMPLATE["Parameters"].items()
        if str(parameter.get("NoEcho", "false")).lower() == "true"
    ]
    assert not {"EbayClientSecret", "PostmarkServerToken"} & set(no_echo)


def test_the_app_secret_generates_the_state_signing_key() -> None:
    _, secret = _only_resource("AWS::SecretsManager::Secret")
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate["GenerateStringKey"] == "state_signing_key"
    assert int(generate["PasswordLength"]) >= 32
    assert set(json.loads(generate["SecretStringTemplate"])) == {
        "ebay_client_id",
        "ebay_client_secret",
        "postmark_server_token",
    }


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_every_function_may_read_only_the_app_secret(function_id: str) -> None:
    secret_id, _ = _only_resource("AWS::SecretsManager::Secret")
    policies = FUNCTIONS[function_id]["Properties"].get("Policies", [])
    assert {
        "AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": secret_id}}
    } in policies
    statements = [
        s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])
    ]
    assert not [s for s in statements if "secretsmanager" in json.dumps(s)]


def test_the_token_key_rotates_is_retained_and_is_used_through_its_alias() -> None:
    key_id, key = _only_resource("AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    _, alias = _only_resource("AWS::KMS::Alias")
    assert alias["Properties"]["TargetKeyId"] == {"Ref": key_id}
    # The functions get the alias name (a !Ref to the key would close a
    # dependency cycle through the key policy's role ARNs).
    variables = GLOBAL_FUNCTION["Environment"]["Variables"]
    assert variables["TOKEN_KMS_KEY_ID"] == alias["Properties"]["AliasName"]


def test_only_the_token_functions_use_the_key_and_only_with_the_context() -> None:
    _, key = _only_resource("AWS::KMS::Key")
    usage = {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}
    granted: dict[str, set[str]] = {}
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        actions = statement["Action"]
        actions = {actions} if isinstance(actions, str) else set(actions)
        assert statement["Effect"] == "Allow"
        assert "kms:*" not in actions and "kms:CreateGrant" not in actions
        if not actions & usage:
            continue
        principals = statement["Principal"]["AWS"]
        principals = principals if isinstance(principals, list) else [principals]
        for principal in principals:
            granted.setdefault(principal["Fn::GetAtt"][0], set()).update(actions)
        condition = statement["Condition"]
        assert set(
            condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]
        ) == {"user_id", "purpose", "value_id", "part"}
        assert condition["Null"] == {"kms:EncryptionContextKeys": "false"}
        if principals == [{"Fn::GetAtt": ["ApiFunctionRole", "Arn"]}] and (
            "kms:Decrypt" in actions
        ):
            # The API opens the shared eBay application token, never a user's.
            assert condition["StringEquals"] == {
                "kms:EncryptionContext:purpose": "ebay_app_token",
                "kms:EncryptionContext:user_id": "ebay-application",
            }
    assert granted == {
        **{f"{f}Role": {"kms:Encrypt", "kms:Decrypt"} for f in TOKEN_TASKS},
        **{f"{f}Role": {"kms:Encrypt", "kms:Decrypt"} for f in SEALS_ONLY},
    }


def test_the_tasks_share_one_table_policy() -> None:
    policy_id, policy = _only_resource("AWS::IAM::ManagedPolicy")
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Sid"] == "SnipesTableReadWrite"
    assert not {"dynamodb:DeleteItem", "dynamodb:Scan"} & set(statement["Action"])
    definition = ASL_PATH.read_text()
    tasks = {
        logical_id for logical_id in FUNCTIONS if f"${{{logical_id}Arn}}" in definition
    }
    assert tasks
    for logical_id in tasks:
        policies = FUNCTIONS[logical_id]["Properties"]["Policies"]
        assert {"Ref": policy_id} in policies, logical_id
