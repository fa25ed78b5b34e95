"""The dependencies a handler needs, built once per process and injectable.

Handlers call ``get_services()``; tests build ``Services`` with their own store,
clients, clock and explicit ``AppSecrets`` (no AWS needed).

On AWS, ``build_services`` reads the app secrets from Secrets Manager (once, on
the first call in the process) and gives the store a ``TokenVault`` on the
token KMS key. ``get_services`` keeps that instance; when Powertools' cache of
the secret expires (``APP_SECRETS_MAX_AGE_SECONDS``) and the refetched values
differ (a rotation), it rebuilds the clients with the new values. A failed
refetch keeps the current services.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from workflows import aws, secrets
from workflows.app_token import SharedAppToken
from workflows.config import Settings, get_settings
from workflows.crypto import TokenVault
from workflows.ebay import EbayClient
from workflows.ebay_budget import DailyBudget
from workflows.executions import ExecutionControl
from workflows.observability import logger
from workflows.postmark import PostmarkClient
from workflows.secrets import AppSecrets, AppSecretsUnavailable, load_app_secrets
from workflows.store import SnipeStore
from workflows.table_access import Table
from workflows.timing import utc_now


@dataclass
class Services:
    settings: Settings
    store: SnipeStore
    ebay: EbayClient
    postmark: PostmarkClient
    secrets: AppSecrets
    executions: ExecutionControl | None = None
    now: Callable[[], datetime] = field(default=utc_now)


def build_services(
    settings: Settings, app_secrets: AppSecrets | None = None
) -> Services:
    """Services for ``settings``; reads the app secrets unless given.

    The eBay client counts its metered calls in the daily budget
    (``workflows.ebay_budget``) and takes its application token from the one
    shared in the table (``workflows.app_token``).
    """
    app_secrets = app_secrets or load_app_secrets(settings)
    timeout = httpx.Timeout(settings.http_timeout_seconds, connect=3.0)
    vault = TokenVault(settings.token_kms_key_id)
    snipe_store = SnipeStore(settings.table_name, vault=vault)
    table = Table.of(snipe_store)
    budget = DailyBudget(table)
    ebay_client = EbayClient(
        api_base_url=settings.ebay_api_base_url,
        client_id=app_secrets.ebay_client_id,
        client_secret=app_secrets.ebay_client_secret.get_secret_value(),
        marketplace_id=settings.ebay_marketplace_id,
        timeout=timeout,
        on_call=lambda api: budget.record(api, utc_now()),
    )
    ebay_client.use_app_tokens(SharedAppToken(table, vault, ebay_client.mint_app_token))
    return Services(
        settings=settings,
        store=snipe_store,
        ebay=ebay_client,
        postmark=PostmarkClient(
            base_url=settings.postmark_api_base_url,
            server_token=app_secrets.postmark_server_token.get_secret_value(),
            timeout=timeout,
        ),
        secrets=app_secrets,
        executions=ExecutionControl(settings.state_machine_arn)
        if settings.state_machine_arn
        else None,
    )


_lock = threading.Lock()
_current: list[Services] = []  # zero or one: the process' services


def get_services() -> Services:
    """The process' services, rebuilt if the app secrets were rotated."""
    with _lock:
        if not _current:
            _current.append(build_services(get_settings()))
            return _current[0]
        services = _current[0]
        try:
            latest = load_app_secrets(services.settings)  # cached by Powertools
        except AppSecretsUnavailable:
            logger.warning("app secrets not refreshed; keeping the loaded ones")
            return services
        if latest != services.secrets:
            logger.info("app secrets changed; rebuilding the clients")
            services = _current[0] = build_services(services.settings, latest)
        return services


def reset_services() -> None:
    """Forget cached settings, secrets and clients (tests, local stack restarts)."""
    with _lock:
        _current.clear()
    get_settings.cache_clear()
    secrets.reset_cache()
    aws.reset_clients()
