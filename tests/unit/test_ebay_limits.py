"""eBay call limits: the client reads the rate-limit report, the job publishes
the used share of each daily limit (EMF on stdout, as Lambda ships it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import respx

from workflows.ebay import EbayClient, EbayUnavailable, RateLimit
from workflows.ebay_limits import (
    MAX_USED_METRIC,
    USED_METRIC,
    daily_uses,
    publish_call_limits,
)
from workflows.observability import metrics
from workflows.services import Services

BASE = "https://api.ebay.com"
TOKEN_URL = f"{BASE}/identity/v1/oauth2/token"
LIMITS_URL = f"{BASE}/developer/analytics/v1_beta/rate_limit/"
APP_TOKEN = "v^1.1#APP-TOKEN-LIMITS"
REPORT = {
    "rateLimits": [
        {
            "apiContext": "buy",
            "apiName": "Browse",
            "apiVersion": "v1",
            "resources": [
                {
                    "name": "buy.browse",
                    "rates": [
                        {
                            "count": 4100,
                            "limit": 5000,
                            "remaining": 900,
                            "reset": "2026-05-02T07:00:00.000Z",
                            "timeWindow": 86400,
                        },
                        # a short window is not a daily limit: ignored
                        {"limit": 10, "remaining": 0, "timeWindow": 1},
                    ],
                }
            ],
        },
        {
            "apiContext": "buy",
            "apiName": "Offer",
            "apiVersion": "v1_beta",
            "resources": [
                {
                    "name": "buy.offer.auction",
                    "rates": [
                        {
                            "limit": 20000,
                            "remaining": 19000,
                            "reset": "2026-05-02T07:00:00.000Z",
                            "timeWindow": 86400,
                        }
                    ],
                }
            ],
        },
    ]
}


def _client() -> EbayClient:
    return EbayClient(
        api_base_url=BASE,
        client_id="app-id",
        client_secret="app-secret-limits",
        clock=lambda: datetime(2026, 5, 1, 12, tzinfo=UTC),
    )


def _token_route(router: respx.MockRouter) -> None:
    router.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            200,
            json={"access_token": APP_TOKEN, "expires_in": 7200, "token_type": "x"},
        )
    )


@respx.mock
def test_the_client_reads_the_report_with_the_app_token() -> None:
    _token_route(respx.mock)
    route = respx.get(LIMITS_URL).mock(return_value=httpx.Response(200, json=REPORT))
    rates = _client().get_rate_limits()
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert [r.resource for r in rates] == [
        "buy.browse",
        "buy.browse",
        "buy.offer.auction",
    ]
    assert rates[0] == RateLimit(
        api_context="buy",
        api_name="Browse",
        resource="buy.browse",
        limit=5000,
        remaining=900,
        time_window_seconds=86400,
        reset_at=datetime(2026, 5, 2, 7, tzinfo=UTC),
    )


@respx.mock
def test_an_ebay_outage_is_an_error_not_a_zero() -> None:
    _token_route(respx.mock)
    respx.get(LIMITS_URL).mock(return_value=httpx.Response(503))
    with pytest.raises(EbayUnavailable):
        _client().get_rate_limits()


def test_only_daily_windows_count_and_the_most_used_rate_wins() -> None:
    rates = [
        RateLimit("buy", "Browse", "buy.browse", 5000, 900, 86400, None),
        RateLimit("buy", "Browse", "buy.browse", 100, 0, 60, None),
        RateLimit("buy", "Browse", "buy.browse", 8000, 7000, 172800, None),
        RateLimit("buy", "Offer", "buy.offer", 0, 0, 86400, None),
    ]
    [use] = daily_uses(rates)
    assert (use.api, use.used_percent) == ("buy.browse", 82.0)


def _emf_documents(out: str) -> list[dict[str, Any]]:
    documents = []
    for line in out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def _value(value: Any) -> Any:
    """EMF values are a number or a list of numbers."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


@respx.mock
def test_the_job_publishes_each_api_and_the_maximum(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _token_route(respx.mock)
    respx.get(LIMITS_URL).mock(return_value=httpx.Response(200, json=REPORT))
    services = cast(Services, SimpleNamespace(ebay=_client()))
    report = publish_call_limits(services)
    metrics.flush_metrics()

    assert report.max_used_percent == 82.0
    documents = _emf_documents(capsys.readouterr().out)
    per_api = {
        d["Api"]: _value(d[USED_METRIC])
        for d in documents
        if USED_METRIC in d and "Api" in d
    }
    assert per_api == {"buy.browse": 82.0, "buy.offer.auction": 5.0}
    [maximum] = [d for d in documents if MAX_USED_METRIC in d]
    assert _value(maximum[MAX_USED_METRIC]) == 82.0
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == metrics.namespace
        assert "service" in directive["Dimensions"][0]
