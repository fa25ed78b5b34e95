"""Configuration read from the environment (one frozen pydantic model).

Every Lambda and the local stack read the same variables; ``template.yaml`` sets
them on AWS, the sandbox sets them locally. Each field is read from the
variable of the same name in upper case (``table_name`` from ``TABLE_NAME``;
names are matched case-insensitively, other variables are ignored). Missing
required values and invalid values fail fast: ``SettingsError`` names every
offending variable.

``Settings(...)`` is a plain model (explicit values, defaults for the rest);
``Settings.from_env()`` reads the environment, which ``get_settings()`` does
once per process. (No pydantic-settings: importing it added 15-65 ms to every
cold start for what this module does in a few lines; docs/benchmarks.md.)

Secrets are not configuration: the eBay app credentials, the Postmark token and
the OAuth state signing key live in one Secrets Manager secret
(``APP_SECRETS_ARN``, read by ``workflows.secrets``), and user tokens are sealed
under the KMS key ``TOKEN_KMS_KEY_ID`` (``workflows.crypto``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(ValueError):
    """The environment does not give a valid configuration (variables named)."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=1)
    state_machine_arn: str = ""
    # The Secrets Manager secret of the app secrets (workflows.secrets) and the
    # KMS key (id, ARN or alias) that seals user tokens (workflows.crypto).
    app_secrets_arn: str = Field(min_length=1)
    token_kms_key_id: str = Field(min_length=1)

    ebay_api_base_url: str = "https://api.ebay.com"
    ebay_auth_base_url: str = "https://auth.ebay.com"
    ebay_marketplace_id: str = "EBAY_US"
    ebay_ru_name: str = ""

    postmark_api_base_url: str = "https://api.postmarkapp.com"
    email_from: str = Field(min_length=3)

    # Seconds the bid task wakes before fire_at (cold start, token refresh,
    # connection set-up), and seconds after the end before the result is read.
    snipe_lead_seconds: float = Field(default=10.0, ge=1.0, le=40.0)
    snipe_settle_seconds: float = Field(default=10.0, ge=0.0, le=600.0)
    http_timeout_seconds: float = Field(default=5.0, gt=0.0, le=30.0)
    # Patient reconciliation (workflows.settlement, docs/reliability.md): while
    # eBay has not reported the end (or cannot be asked), the result is checked
    # again after the time since the end, bounded to [first, max]; one "result
    # pending" email once pending_email_after has passed; RESULT_UNKNOWN after
    # patience. Tests compress the schedule.
    snipe_recheck_first_seconds: float = Field(default=5.0, gt=0.0, le=3600.0)
    snipe_recheck_max_seconds: float = Field(default=3600.0, gt=0.0, le=86400.0)
    snipe_pending_email_after_seconds: float = Field(default=1800.0, ge=0.0, le=86400.0)
    snipe_result_patience_seconds: float = Field(
        default=86400.0, gt=0.0, le=7 * 86400.0
    )

    cors_allowed_origins: str = ""

    # Abuse limits (docs/security.md, "Abuse limits"): active snipes (SCHEDULED,
    # BIDDING, BID_PLACED) one user may have, and the largest request body the
    # API reads (API Gateway itself accepts up to 10 MB).
    max_active_snipes_per_user: int = Field(default=200, ge=1, le=10_000)
    max_request_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); ``overrides`` win.

        Raises:
            SettingsError: a required variable is missing or a value is
                invalid; the message names each variable and the reason.
        """
        source = os.environ if environ is None else environ
        by_name = {key.lower(): value for key, value in source.items()}
        values: dict[str, Any] = {
            name: by_name[name] for name in cls.model_fields if name in by_name
        }
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = []
            for error in exc.errors(include_url=False):
                name = ".".join(str(part) for part in error["loc"])
                variable = name.upper()
                if error["type"] == "missing":
                    problems.append(f"{variable} is not set")
                elif name in overrides:
                    problems.append(f"{name}: {error['msg']}")
                else:
                    problems.append(f"{variable}={error['input']!r}: {error['msg']}")
            raise SettingsError(
                f"invalid configuration from the environment: {'; '.join(problems)}"
            ) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
