"""Static checks that keep template.yaml, the ASL and the code in step."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import load as load_cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE: dict[str, Any] = json.loads(
    json.dumps(load_cfn_yaml(str(ROOT / "template.yaml")))
)
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
    "EbayUnavailable",
    "BidSendFailed",
    "AuctionNotSettled",
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
    try:
        errors = importlib.import_module("workflows.errors")
    except ModuleNotFoundError:
        pytest.skip("workflows.errors does not exist yet")
    cls = getattr(errors, name, None)
    assert isinstance(cls, type), f"workflows.errors has no class {name}"
    assert issubclass(cls, Exception)
    assert cls.__name__ == name, "the error name is the class' own __name__"


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
    if not (base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()):
        pytest.skip(
            f"{function_id}: {module} ({base.relative_to(ROOT)}.py) not written yet"
        )


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_makefile_built_functions_have_a_build_target(function_id: str) -> None:
    metadata = FUNCTIONS[function_id].get("Metadata", {})
    if metadata.get("BuildMethod") != "makefile":
        pytest.skip(f"{function_id} is not built by make")
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
