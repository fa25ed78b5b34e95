"""workflows.secrets and the services built from it: Powertools' get_secret against
moto Secrets Manager, caching (max_age) counted at the client, rotation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider
from moto import mock_aws

from workflows import secrets as app_secrets
from workflows.config import Settings
from workflows.secrets import (
    APP_SECRETS_MAX_AGE_SECONDS,
    AppSecrets,
    AppSecretsUnavailable,
    load_app_secrets,
)
from workflows.services import get_services, reset_services

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

REGION = "us-east-1"
VALUES = {
    "ebay_client_id": "SnipeApp-PRD-0123",
    "ebay_client_secret": "PRD-client-secret-CANARY-5e1f",
    "postmark_server_token": "postmark-token-CANARY-77aa",
    "state_signing_key": "state-signing-key-CANARY-0123456789abcdef",
}
SECRET_VALUES = [v for k, v in VALUES.items() if k != "ebay_client_id"]


class Clock:
    """Stands in for Powertools' ``datetime`` (its cache expiry clock)."""

    current = datetime(2026, 5, 1, 12, 0)  # noqa: DTZ001 - Powertools uses naive now()

    @classmethod
    def now(cls, tz: Any = None) -> datetime:
        return cls.current


@dataclass
class Env:
    client: SecretsManagerClient
    arn: str
    calls: list[str]
    monkeypatch: pytest.MonkeyPatch

    def settings(self, arn: str | None = None) -> Settings:
        return Settings(
            table_name="snipes-unit",
            app_secrets_arn=arn or self.arn,
            token_kms_key_id="alias/unit",
            email_from="sniper@example.com",
        )

    def rotate(self, **changes: str) -> None:
        self.client.put_secret_value(
            SecretId=self.arn, SecretString=json.dumps({**VALUES, **changes})
        )

    def advance(self, seconds: float) -> None:
        Clock.current += timedelta(seconds=seconds)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    app_secrets.reset_cache()
    monkeypatch.setattr(parameters_base, "datetime", Clock)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(
            Name="sniper/app-secrets", SecretString=json.dumps(VALUES)
        )["ARN"]
        calls: list[str] = []
        client.meta.events.register(
            "provide-client-params.secrets-manager.GetSecretValue",
            lambda params, **_: calls.append(params["SecretId"]),
        )
        # get_secret's default provider, on this (counted) client
        DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=client)
        try:
            yield Env(client, arn, calls, monkeypatch)
        finally:
            app_secrets.reset_cache()
            reset_services()


def test_load_app_secrets_reads_the_json_secret(env: Env) -> None:
    loaded = load_app_secrets(env.settings())

    assert loaded.ebay_client_id == VALUES["ebay_client_id"]
    assert loaded.ebay_client_secret.get_secret_value() == VALUES["ebay_client_secret"]
    assert (
        loaded.postmark_server_token.get_secret_value()
        == (VALUES["postmark_server_token"])
    )
    assert loaded.state_signing_key.get_secret_value() == VALUES["state_signing_key"]
    assert env.calls == [env.arn]


def test_no_value_in_repr_str_or_json(env: Env) -> None:
    loaded = load_app_secrets(env.settings())

    for text in (repr(loaded), str(loaded), loaded.model_dump_json()):
        for value in SECRET_VALUES:
            assert value not in text


def test_a_second_load_within_max_age_does_not_call_secrets_manager(env: Env) -> None:
    first = load_app_secrets(env.settings())
    env.rotate(postmark_server_token="rotated-postmark-token")
    env.advance(APP_SECRETS_MAX_AGE_SECONDS - 1)

    second = load_app_secrets(env.settings())

    assert env.calls == [env.arn]
    assert second == first


def test_after_max_age_the_secret_is_read_again(env: Env) -> None:
    load_app_secrets(env.settings())
    env.rotate(postmark_server_token="rotated-postmark-token")
    env.advance(APP_SECRETS_MAX_AGE_SECONDS + 1)

    loaded = load_app_secrets(env.settings())

    assert env.calls == [env.arn, env.arn]
    assert loaded.postmark_server_token.get_secret_value() == "rotated-postmark-token"


def test_get_secret_is_called_with_json_and_max_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def stub(name: str, **kwargs: Any) -> dict[str, str]:
        seen.append((name, kwargs))
        return dict(VALUES)

    monkeypatch.setattr(parameters, "get_secret", stub)
    settings = Settings(
        table_name="t",
        app_secrets_arn="arn:aws:secretsmanager:us-east-1:1:secret:x",
        token_kms_key_id="alias/k",
        email_from="sniper@example.com",
    )

    load_app_secrets(settings)

    assert seen == [
        (settings.app_secrets_arn, {"transform": "json", "max_age": 300}),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ebay_client_secret": ""}, "ebay_client_secret"),
        ({"state_signing_key": "too-short-CANARY"}, "state_signing_key"),
        ({"postmark_server_token": None}, "postmark_server_token"),
    ],
)
def test_invalid_values_are_named_never_shown(
    env: Env, change: dict[str, Any], field: str
) -> None:
    value = {**VALUES, **change}
    env.client.put_secret_value(SecretId=env.arn, SecretString=json.dumps(value))

    with pytest.raises(AppSecretsUnavailable, match=field) as caught:
        load_app_secrets(env.settings())

    message = str(caught.value)
    assert "CANARY" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_secret_that_is_not_json_is_refused(env: Env) -> None:
    env.client.put_secret_value(SecretId=env.arn, SecretString="CANARY not json")

    with pytest.raises(AppSecretsUnavailable, match="not a JSON object") as caught:
        load_app_secrets(env.settings())
    assert "CANARY" not in str(caught.value)


def test_a_missing_secret_is_unavailable(env: Env) -> None:
    arn = env.arn.replace("app-secrets", "no-such-secret")

    with pytest.raises(AppSecretsUnavailable, match="could not be read"):
        load_app_secrets(env.settings(arn))


# --- services ------------------------------------------------------------------


@pytest.fixture
def process_env(env: Env) -> Env:
    for key, value in {
        "TABLE_NAME": "snipes-unit",
        "APP_SECRETS_ARN": env.arn,
        "TOKEN_KMS_KEY_ID": "alias/unit",
        "EMAIL_FROM": "sniper@example.com",
    }.items():
        env.monkeypatch.setenv(key, value)
    reset_services()
    # reset_services() dropped the providers: count on our client again
    DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=env.client)
    return env


def test_services_load_the_secrets_once_and_give_the_store_a_vault(
    process_env: Env,
) -> None:
    services = get_services()

    assert isinstance(services.secrets, AppSecrets)
    assert services.secrets.ebay_client_id == VALUES["ebay_client_id"]
    assert services.store._vault is not None
    assert services.store._vault.kms_key_id == "alias/unit"
    assert get_services() is services
    assert process_env.calls == [process_env.arn]


def test_services_pick_up_a_rotation_after_max_age(process_env: Env) -> None:
    before = get_services()
    process_env.rotate(ebay_client_secret="rotated-client-secret")

    process_env.advance(APP_SECRETS_MAX_AGE_SECONDS - 1)
    assert get_services() is before

    process_env.advance(2)
    after = get_services()
    assert after is not before
    assert after.secrets.ebay_client_secret.get_secret_value() == (
        "rotated-client-secret"
    )
    assert len(process_env.calls) == 2


def test_services_keep_the_loaded_secrets_if_a_refresh_fails(
    process_env: Env,
) -> None:
    before = get_services()
    process_env.client.delete_secret(
        SecretId=process_env.arn, ForceDeleteWithoutRecovery=True
    )
    process_env.advance(APP_SECRETS_MAX_AGE_SECONDS + 1)

    assert get_services() is before
