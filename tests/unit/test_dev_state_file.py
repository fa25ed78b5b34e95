"""``make dev`` replaces a state file an earlier stack left behind, and says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sandbox import dev


def test_a_stale_state_file_is_replaced_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"pid": 2**22 + 12345, "api_url": "http://x"}))
    monkeypatch.setattr(dev, "STATE_FILE", state)

    dev._replace_stale_state_file()

    assert not state.exists()
    assert "did not stop" in capsys.readouterr().out


def test_a_running_stack_s_state_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"pid": os.getppid()}))
    monkeypatch.setattr(dev, "STATE_FILE", state)

    dev._replace_stale_state_file()

    assert f"another stack (pid {os.getppid()})" in capsys.readouterr().out


def test_the_consent_redirect_and_cors_follow_the_web_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANDBOX_CONSENT_REDIRECT_URL", raising=False)
    monkeypatch.setenv("SANDBOX_WEB_PORT", "3100")
    assert dev.consent_redirect_url() == "http://127.0.0.1:3100/ebay/callback"
    assert dev.cors_origins() == "http://localhost:3100,http://127.0.0.1:3100"
    monkeypatch.setenv("SANDBOX_CONSENT_REDIRECT_URL", "http://app.test/cb")
    assert dev.consent_redirect_url() == "http://app.test/cb"
