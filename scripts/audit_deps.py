"""Audit the pinned dependencies with pip-audit, and never pass without auditing.

Usage: ``python scripts/audit_deps.py -r requirements-dev.txt [pip-audit args]``
(``make security``). Arguments go to pip-audit unchanged; this script adds a
JSON report and reads it.

pip-audit looks each pinned release up in PyPI's JSON API
(``/pypi/<name>/<version>/json``). When it cannot get that data (no network, or
an index or proxy without that API) it *skips* the dependency and, without
``--strict``, still exits 0 saying "No known vulnerabilities found". With
``--strict`` it stops at the first skip and reports nothing else. So this
script runs pip-audit without ``--strict`` and decides itself:

* exit 0: every dependency was audited and none has a known vulnerability;
* exit 1: a known vulnerability (each printed with its fix versions), or
  pip-audit itself failed (e.g. the requirements did not resolve);
* exit 2: some dependency could not be audited, printed loudly. Setting
  ``PIP_AUDIT_ALLOW_UNAUDITED=1`` turns this case into a warning (exit 0); the
  banner is printed all the same.

Ignoring an advisory: pass ``--ignore-vuln <ID>`` in the Makefile and justify it
in docs/security.md ("Scanning").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ALLOW_UNAUDITED = "PIP_AUDIT_ALLOW_UNAUDITED"
PIP_NOISE = "WARNING: Location "  # pip's notes about absent local indexes


def pip_audit_command() -> str:
    local = ROOT / ".venv" / "bin" / "pip-audit"
    if local.exists():
        return str(local)
    found = shutil.which("pip-audit")
    if found is None:
        raise SystemExit("audit_deps: pip-audit not found (make venv installs it)")
    return found


def verdict(report: dict[str, Any], *, allow_unaudited: bool) -> tuple[int, list[str]]:
    """Exit code and the lines to print for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    lines = [
        f"pip-audit: {len(dependencies)} dependencies, {audited} audited,"
        f" {len(skipped)} NOT audited,"
        f" {sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities"
    ]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            lines.append(
                f"  VULNERABLE {dep['name']}=={dep.get('version')}: {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in: {fixes}"
            )
    if vulnerable:
        return 1, lines
    if skipped:
        lines += [
            "",
            "#" * 78,
            "# DEPENDENCIES NOT AUDITED: pip-audit could not get vulnerability data",
            "# for the packages below (PyPI's per-release JSON API unreachable?).",
            "# 'No known vulnerabilities' would mean nothing here.",
            "#" * 78,
        ]
        lines += [f"  {d['name']}: {d['skip_reason']}" for d in skipped]
        if allow_unaudited:
            lines.append(f"{ALLOW_UNAUDITED}=1: continuing WITHOUT a dependency audit")
            return 0, lines
        lines.append(
            f"failing (set {ALLOW_UNAUDITED}=1 to continue without the audit);"
            " see docs/security.md, 'Scanning'"
        )
        return 2, lines
    return 0, lines


def main(args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "pip-audit.json"
        command = [
            pip_audit_command(),
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report_path),
            *args,
        ]
        completed = subprocess.run(  # noqa: S603 - our pip-audit, no shell
            command, cwd=ROOT, capture_output=True, text=True, check=False
        )
        output = [
            line
            for line in (completed.stdout + completed.stderr).splitlines()
            if line.strip() and not line.startswith(PIP_NOISE)
        ]
        try:
            report = json.loads(report_path.read_text())
        except (OSError, ValueError):
            print("\n".join(output), file=sys.stderr)
            print(
                f"audit_deps: pip-audit failed (exit {completed.returncode})"
                " without a report",
                file=sys.stderr,
            )
            return 1
    code, lines = verdict(
        report, allow_unaudited=os.environ.get(ALLOW_UNAUDITED) == "1"
    )
    if completed.returncode not in (0, 1):  # 1 = vulnerabilities found
        print("\n".join(output), file=sys.stderr)
        code = code or 1
    print("\n".join(lines), file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
