"""App secrets: one Secrets Manager secret (JSON), read through Powertools.

The secret (``AppSecrets`` in ``template.yaml``, its ARN in ``APP_SECRETS_ARN``)
holds::

    {"ebay_client_id": "...", "ebay_client_secret": "...",
     "postmark_server_token": "...", "state_signing_key": "<random, >= 32 chars>"}

``load_app_secrets`` reads it with ``parameters.get_secret(..., transform="json",
max_age=APP_SECRETS_MAX_AGE_SECONDS)``: Powertools caches the parsed value in
the process, so Secrets Manager is asked at most once per ``max_age``.
``workflows.services`` builds its clients from these values and rebuilds them
when a refetch shows new values (rotation without a cold start).

No value ever appears in a repr, a validation error or a log line.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from workflows.config import Settings
from workflows.errors import AppSecretsUnavailable as AppSecretsUnavailable

APP_SECRETS_MAX_AGE_SECONDS = 300


class AppSecrets(BaseModel):
    """eBay app credentials, the Postmark server token, the OAuth state key."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    # Not a secret (it is part of every consent URL), but it lives with its secret.
    ebay_client_id: str = Field(min_length=1)
    ebay_client_secret: SecretStr = Field(min_length=1)
    postmark_server_token: SecretStr = Field(min_length=1)
    # HMAC key of the OAuth ``state`` (workflows.linking).
    state_signing_key: SecretStr = Field(min_length=32)


def load_app_secrets(settings: Settings) -> AppSecrets:
    """The app secrets (Powertools-cached for ``APP_SECRETS_MAX_AGE_SECONDS``).

    Raises:
        AppSecretsUnavailable: Secrets Manager refused or failed, the value is
            not JSON, or fields are missing/invalid (named, never shown).
    """
    try:
        raw: Any = parameters.get_secret(
            settings.app_secrets_arn,
            transform="json",
            max_age=APP_SECRETS_MAX_AGE_SECONDS,
        )
    except TransformParameterError:
        raise AppSecretsUnavailable("the app secrets are not a JSON object") from None
    except GetParameterError as exc:
        raise AppSecretsUnavailable(
            "the app secrets could not be read from Secrets Manager"
        ) from exc
    try:
        return AppSecrets.model_validate(raw)
    except ValidationError as exc:
        fields = sorted(
            {
                ".".join(str(part) for part in error["loc"]) or "(root)"
                for error in exc.errors(include_input=False, include_url=False)
            }
        )
        raise AppSecretsUnavailable(
            f"the app secrets are incomplete or invalid: {', '.join(fields)}"
        ) from None


def reset_cache() -> None:
    """Forget Powertools' providers and cached values (endpoint changed, tests)."""
    DEFAULT_PROVIDERS.clear()
