"""``template.yaml`` and the state machine's ASL, read as the local stack needs
them: the parsed template (short-form tags included), its resources by type, and
the ASL with its ``DefinitionSubstitutions`` rendered (failing loudly on a
mismatch)."""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from cfnlint.decode.cfn_yaml import load as load_cfn_yaml

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
TEMPLATE_PATH: Final = REPO_ROOT / "template.yaml"
_PLACEHOLDER: Final = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """template.yaml or the ASL cannot be turned into local resources."""


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (short-form tags included).

    Returns plain ``dict``/``list``/``str`` values; intrinsic functions appear in
    their long form (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``).
    """
    node = load_cfn_yaml(str(path))
    return cast(dict[str, Any], json.loads(json.dumps(node)))


def _resources(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource.get("Type") == type_
    }


def _only(template: Mapping[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = _resources(template, type_)
    if len(found) != 1:
        raise TemplateError(f"Expected exactly one {type_}, found {sorted(found)}")
    logical_id, resource = next(iter(found.items()))
    return logical_id, resource.get("Properties", {})


def _has_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            key == "Ref" or key.startswith("Fn::") or _has_intrinsic(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_intrinsic(item) for item in value)
    return False


def asl_placeholders(definition: str) -> set[str]:
    """The ``${Name}`` placeholders of an ASL definition."""
    return set(_PLACEHOLDER.findall(definition))


def render_definition(definition: str, substitutions: Mapping[str, str]) -> str:
    """Replace every ``${Name}`` of ``definition``, failing loudly on a mismatch.

    Raises:
        TemplateError: a placeholder has no value, a value has no placeholder,
            or the result still contains ``${`` or is not JSON.
    """
    placeholders = asl_placeholders(definition)
    missing = placeholders - substitutions.keys()
    unused = substitutions.keys() - placeholders
    if missing or unused:
        raise TemplateError(
            f"DefinitionSubstitutions mismatch: no value for {sorted(missing)}, "
            f"no placeholder for {sorted(unused)}"
        )
    rendered = _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition)
    if "${" in rendered:
        raise TemplateError("The rendered definition still contains '${'")
    try:
        json.loads(rendered)
    except ValueError as exc:
        raise TemplateError(f"The rendered definition is not JSON: {exc}") from exc
    return rendered


def _function_setting(
    props: Mapping[str, Any], globals_: Mapping[str, Any], key: str
) -> Any:
    value = props.get(key, globals_.get(key))
    return None if _has_intrinsic(value) else value


def _generated_secret(props: Mapping[str, Any]) -> dict[str, str]:
    """What ``GenerateSecretString`` (template + one generated key) produces."""
    spec = props.get("GenerateSecretString") or {}
    values: dict[str, str] = json.loads(spec.get("SecretStringTemplate") or "{}")
    key = spec.get("GenerateStringKey")
    if key:
        alphabet = string.ascii_letters + string.digits
        if not spec.get("ExcludePunctuation"):
            alphabet += "!#$%&()*+,-./:;<=>?@[]^_{|}~"
        length = int(spec.get("PasswordLength", 32))
        values[key] = "".join(secrets.choice(alphabet) for _ in range(length))
    return values
