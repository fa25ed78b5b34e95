"""The dependencies a handler needs, built once per process and injectable.

Handlers call ``get_services()``; tests build ``Services`` with their own store,
clients and clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import httpx

from workflows import executions, store
from workflows.config import Settings, get_settings
from workflows.ebay import EbayClient
from workflows.executions import ExecutionControl
from workflows.postmark import PostmarkClient
from workflows.store import SnipeStore
from workflows.timing import utc_now


@dataclass
class Services:
    settings: Settings
    store: SnipeStore
    ebay: EbayClient
    postmark: PostmarkClient
    executions: ExecutionControl | None = None
    now: Callable[[], datetime] = field(default=utc_now)


def build_services(settings: Settings) -> Services:
    timeout = httpx.Timeout(settings.http_timeout_seconds, connect=3.0)
    return Services(
        settings=settings,
        store=SnipeStore(settings.table_name),
        ebay=EbayClient(
            api_base_url=settings.ebay_api_base_url,
            client_id=settings.ebay_client_id,
            client_secret=settings.ebay_client_secret.get_secret_value(),
            marketplace_id=settings.ebay_marketplace_id,
            timeout=timeout,
        ),
        postmark=PostmarkClient(
            base_url=settings.postmark_api_base_url,
            server_token=settings.postmark_server_token.get_secret_value(),
            timeout=timeout,
        ),
        executions=ExecutionControl(settings.state_machine_arn)
        if settings.state_machine_arn
        else None,
    )


@lru_cache(maxsize=1)
def get_services() -> Services:
    return build_services(get_settings())


def reset_services() -> None:
    """Forget cached settings and clients (tests, local stack restarts)."""
    get_services.cache_clear()
    get_settings.cache_clear()
    store.reset_client()
    executions.reset_client()
