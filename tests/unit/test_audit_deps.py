"""scripts/audit_deps.py: pip-audit never passes without having audited."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
_SPEC = importlib.util.spec_from_file_location("audit_deps", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
audit_deps: Any = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(audit_deps)

AUDITED = {"name": "httpx", "version": "0.28.1", "vulns": []}
SKIPPED = {
    "name": "boto3",
    "skip_reason": "Dependency not found on PyPI and could not be audited: boto3",
}
VULNERABLE = {
    "name": "urllib3",
    "version": "1.26.0",
    "vulns": [
        {
            "id": "PYSEC-2021-108",
            "fix_versions": ["1.26.5"],
            "aliases": ["CVE-2021-33503"],
        }
    ],
}


def verdict(*dependencies: dict[str, Any], allow: bool = False) -> tuple[int, str]:
    code, lines = audit_deps.verdict(
        {"dependencies": list(dependencies), "fixes": []}, allow_unaudited=allow
    )
    return code, "\n".join(lines)


def test_everything_audited_and_clean_passes() -> None:
    code, text = verdict(AUDITED)

    assert code == 0
    assert "1 audited, 0 NOT audited, 0 known vulnerabilities" in text


@pytest.mark.parametrize("allow", [False, True])
def test_a_vulnerability_fails_even_when_unaudited_ones_are_allowed(
    allow: bool,
) -> None:
    code, text = verdict(AUDITED, VULNERABLE, SKIPPED, allow=allow)

    assert code == 1
    assert "VULNERABLE urllib3==1.26.0: PYSEC-2021-108 (CVE-2021-33503)" in text
    assert "fixed in: 1.26.5" in text


def test_an_unaudited_dependency_fails_loudly() -> None:
    code, text = verdict(AUDITED, SKIPPED)

    assert code == 2
    assert "DEPENDENCIES NOT AUDITED" in text
    assert "boto3: Dependency not found on PyPI" in text


def test_unaudited_dependencies_can_be_allowed_explicitly_and_visibly() -> None:
    code, text = verdict(AUDITED, SKIPPED, allow=True)

    assert code == 0
    assert "DEPENDENCIES NOT AUDITED" in text
    assert "continuing WITHOUT a dependency audit" in text
