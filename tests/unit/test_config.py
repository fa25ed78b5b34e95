"""Settings from the environment (``workflows.config``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from workflows.config import Settings, SettingsError, get_settings

REQUIRED = {
    "TABLE_NAME": "snipes",
    "APP_SECRETS_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:app",
    "TOKEN_KMS_KEY_ID": "alias/tokens",
    "EMAIL_FROM": "sniper@example.com",
}


def test_fields_come_from_their_upper_case_variables() -> None:
    texts = {
        **REQUIRED,
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:s",
        "EBAY_API_BASE_URL": "https://api.sandbox.ebay.com",
        "EBAY_RU_NAME": "ru",
    }
    parsed: dict[str, tuple[str, float]] = {  # variable: (value, setting)
        "SNIPE_LEAD_SECONDS": ("12.5", 12.5),
        "SNIPE_SETTLE_SECONDS": ("0", 0.0),
        "MAX_ACTIVE_SNIPES_PER_USER": ("7", 7),
        "MAX_REQUEST_BODY_BYTES": ("2048", 2048),
    }
    origins = "https://a.example, https://b.example"

    settings = Settings.from_env(
        {
            **texts,
            **{variable: value for variable, (value, _) in parsed.items()},
            "CORS_ALLOWED_ORIGINS": origins,
        }
    )

    for variable, text in texts.items():
        assert getattr(settings, variable.lower()) == text, variable
    for variable, (_, setting) in parsed.items():
        assert getattr(settings, variable.lower()) == setting, variable
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_unset_optional_variables_take_the_defaults() -> None:
    settings = Settings.from_env(REQUIRED)

    for name, field in Settings.model_fields.items():
        if not field.is_required():
            assert getattr(settings, name) == field.default, name


def test_names_are_case_insensitive_and_other_variables_ignored() -> None:
    settings = Settings.from_env(
        {
            "table_name": "lower",
            "App_Secrets_Arn": "arn:x",
            "TOKEN_KMS_KEY_ID": "alias/k",
            "EMAIL_FROM": "a@b.c",
            "PATH": "/usr/bin",
            "UNRELATED_SETTING": "x",
        }
    )

    assert settings.table_name == "lower"
    assert settings.app_secrets_arn == "arn:x"
    assert not hasattr(settings, "unrelated_setting")


def test_missing_required_variables_are_named() -> None:
    env = {k: v for k, v in REQUIRED.items() if k not in {"TABLE_NAME", "EMAIL_FROM"}}

    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    message = str(caught.value)
    assert "TABLE_NAME is not set" in message
    assert "EMAIL_FROM is not set" in message
    assert "APP_SECRETS_ARN" not in message


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("SNIPE_LEAD_SECONDS", "soon", "valid number"),
        ("SNIPE_LEAD_SECONDS", "99", "less than or equal to 40"),
        ("SNIPE_LEAD_SECONDS", "0.5", "greater than or equal to 1"),
        ("HTTP_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("MAX_ACTIVE_SNIPES_PER_USER", "1.5", "valid integer"),
        ("MAX_REQUEST_BODY_BYTES", "10", "greater than or equal to 1024"),
        ("TABLE_NAME", "", "at least 1 character"),
        ("EMAIL_FROM", "x", "at least 3 characters"),
    ],
)
def test_invalid_values_name_the_variable_value_and_reason(
    variable: str, value: str, reason: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**REQUIRED, variable: value})

    message = str(caught.value)
    assert f"{variable}={value!r}" in message
    assert reason in message
    assert isinstance(caught.value.__cause__, ValidationError)


def test_overrides_win_over_the_environment() -> None:
    settings = Settings.from_env(
        {**REQUIRED, "SNIPE_LEAD_SECONDS": "20"},
        table_name="given",
        snipe_lead_seconds=3.0,
    )

    assert settings.table_name == "given"
    assert settings.snipe_lead_seconds == 3.0
    assert settings.token_kms_key_id == "alias/tokens"


def test_invalid_overrides_are_named_by_field() -> None:
    with pytest.raises(SettingsError, match="snipe_lead_seconds: Input should be"):
        Settings.from_env(REQUIRED, snipe_lead_seconds=100.0)


def test_the_constructor_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNIPE_LEAD_SECONDS", "30")

    settings = Settings(
        table_name="t", app_secrets_arn="arn", token_kms_key_id="k", email_from="a@b"
    )

    assert settings.snipe_lead_seconds == 10.0


def test_settings_are_frozen() -> None:
    settings = Settings.from_env(REQUIRED)

    with pytest.raises(ValidationError):
        settings.table_name = "other"  # type: ignore[misc]


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_get_settings_reads_the_process_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SNIPE_SETTLE_SECONDS", "42")

    first = get_settings()
    monkeypatch.setenv("SNIPE_SETTLE_SECONDS", "43")

    assert first.snipe_settle_seconds == 42.0
    assert get_settings() is first


@pytest.mark.usefixtures("fresh_settings")
def test_get_settings_fails_fast_without_required_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)

    with pytest.raises(SettingsError, match="TABLE_NAME is not set"):
        get_settings()
