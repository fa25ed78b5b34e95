"""The API Lambda in-process with fakes around it: the ``env`` fixture.

DynamoDB is moto (the table built from ``template.yaml``), eBay is a small respx
fake (OAuth client credentials + Browse getItem), Step Functions is a recording
fake of ``ExecutionControl``. The services reach the routes through
``app.dependency_overrides``. Used by the API test modules (the fixture is
registered in ``tests/unit/conftest.py``).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
import respx

from api.app import app
from tests.support.apigw import api_event, call
from tests.support.clock import Clock
from tests.support.table import moto_table, moto_vault
from workflows.config import Settings
from workflows.ebay import EbayClient
from workflows.executions import ExecutionControl, execution_arn_for
from workflows.postmark import PostmarkClient
from workflows.secrets import AppSecrets
from workflows.services import Services, get_services
from workflows.store import SnipeStore

REGION = "us-east-1"
EBAY_BASE = "https://api.ebay.test"
STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:snipe"
CLIENT_SECRET = "ebay-client-secret-value"
APP_TOKEN = "v^1.1#APP-TOKEN-VALUE"
REFRESH_TOKEN = "v^1.1#REFRESH-TOKEN-VALUE"
POSTMARK_TOKEN = "postmark-server-token-value"
STATE_SIGNING_KEY = "state-signing-key-value-0123456789abcdef"
SECRETS = (CLIENT_SECRET, APP_TOKEN, REFRESH_TOKEN, POSTMARK_TOKEN, STATE_SIGNING_KEY)
LEAD_SECONDS = 10.0
SETTLE_SECONDS = 15.0
ALLOWED_ORIGIN = "https://app.example.com"
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEGACY_ID = "123456789012"
ITEM_ID = f"v1|{LEGACY_ID}|0"


# --- fakes -------------------------------------------------------------------


class FakeEbay:
    """OAuth client credentials and Browse getItem, served from ``items``."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}  # legacy id -> Browse item
        self.browse_status: int | None = None  # answer every getItem with this
        self.token_status: int | None = None
        self.item_requests: list[httpx.Request] = []
        self.router = respx.Router(base_url=EBAY_BASE, assert_all_called=False)
        self.router.post("/identity/v1/oauth2/token").mock(side_effect=self._token)
        self.router.get(path__startswith="/buy/browse/v1/item/").mock(
            side_effect=self._item
        )

    def add_auction(
        self, end_at: datetime, legacy_id: str = LEGACY_ID, **fields: Any
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "itemId": f"v1|{legacy_id}|0",
            "legacyItemId": legacy_id,
            "title": "Vintage Omega Seamaster 1968",
            "buyingOptions": ["AUCTION"],
            "itemEndDate": end_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "currentBidPrice": {"value": "127.50", "currency": "USD"},
            "minimumPriceToBid": {"value": "130.00", "currency": "USD"},
            "price": {"value": "127.50", "currency": "USD"},
            "bidCount": 7,
            "image": {"imageUrl": "https://i.ebayimg.com/images/g/abc/s-l1600.jpg"},
            "itemWebUrl": f"https://www.ebay.com/itm/{legacy_id}",
            "seller": {"username": "watch_seller", "feedbackScore": 1520},
            "listingMarketplaceId": "EBAY_US",
        }
        item.update(fields)
        self.items[legacy_id] = item
        return item

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_status is not None:
            return httpx.Response(self.token_status, json={"error": "unavailable"})
        return httpx.Response(
            200,
            json={
                "access_token": APP_TOKEN,
                "expires_in": 7200,
                "token_type": "Application Access Token",
            },
        )

    def _item(self, request: httpx.Request) -> httpx.Response:
        self.item_requests.append(request)
        if self.browse_status is not None:
            return httpx.Response(self.browse_status, json={"errors": []})
        tail = unquote(request.url.path.rsplit("/", 1)[1])
        if tail == "get_item_by_legacy_id":
            legacy_id = request.url.params["legacy_item_id"]
        else:
            legacy_id = tail.split("|")[1]
        if legacy_id not in self.items:
            return httpx.Response(
                404,
                json={
                    "errors": [
                        {
                            "errorId": 11001,
                            "domain": "API_BROWSE",
                            "category": "REQUEST",
                            "message": "The specified item ID was not found.",
                        }
                    ]
                },
            )
        return httpx.Response(200, json=self.items[legacy_id])


@dataclass
class FakeExecutions(ExecutionControl):
    """Records starts and stops instead of calling Step Functions."""

    state_machine_arn: str = STATE_MACHINE_ARN
    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    start_error: Exception | None = None
    stop_error: Exception | None = None

    def start(self, name: str, execution_input: Any) -> str:
        if self.start_error is not None:
            raise self.start_error
        self.started[name] = json.loads(json.dumps(execution_input))
        return self.arn(name)

    def arn(self, name: str) -> str:
        """The ARN of this state machine's execution ``name``."""
        return execution_arn_for(self.state_machine_arn, name)

    def stop(self, execution_arn: str, *, cause: str) -> None:
        if self.stop_error is not None:
            raise self.stop_error
        self.stopped.append(execution_arn)


@dataclass
class Env:
    services: Services
    store: SnipeStore
    ebay: FakeEbay
    executions: FakeExecutions
    clock: Clock

    def link(self, user_id: str = "user-a") -> None:
        self.store.put_ebay_account(user_id, REFRESH_TOKEN)

    def auction(self, ends_in: float = 3600, **fields: Any) -> dict[str, Any]:
        return self.ebay.add_auction(
            self.clock.now + timedelta(seconds=ends_in), **fields
        )


def make_settings(table_name: str) -> Settings:
    # The environment for anything not given (test_api_limits sets limits).
    return Settings.from_env(
        table_name=table_name,
        state_machine_arn=STATE_MACHINE_ARN,
        ebay_api_base_url=EBAY_BASE,
        app_secrets_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:app",
        token_kms_key_id="alias/snipes-unit-ebay-tokens",
        email_from="sniper@example.com",
        snipe_lead_seconds=LEAD_SECONDS,
        snipe_settle_seconds=SETTLE_SECONDS,
        cors_allowed_origins=f"{ALLOWED_ORIGIN}, https://admin.example.com",
    )


@pytest.fixture
def env() -> Iterator[Env]:
    with moto_table("snipes-unit") as (dynamodb, table):
        _, vault = moto_vault()
        store = SnipeStore(table, client=dynamodb, vault=vault)
        fake_ebay = FakeEbay()
        http = httpx.Client(transport=httpx.MockTransport(fake_ebay.router.handler))
        clock = Clock(START)
        executions = FakeExecutions()
        services = Services(
            settings=make_settings(table),
            store=store,
            ebay=EbayClient(
                api_base_url=EBAY_BASE,
                client_id="SnipeApp-PRD-0123",
                client_secret=CLIENT_SECRET,
                http=http,
                clock=clock,
            ),
            postmark=PostmarkClient(
                base_url="https://postmark.test", server_token=POSTMARK_TOKEN
            ),
            secrets=AppSecrets(
                ebay_client_id="SnipeApp-PRD-0123",
                ebay_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
                postmark_server_token=POSTMARK_TOKEN,  # type: ignore[arg-type]
                state_signing_key=STATE_SIGNING_KEY,  # type: ignore[arg-type]
            ),
            executions=executions,
            now=clock,
        )
        app.dependency_overrides[get_services] = lambda: services
        try:
            yield Env(services, store, fake_ebay, executions, clock)
        finally:
            app.dependency_overrides.pop(get_services, None)
            http.close()


def create_body(
    item_id: str = ITEM_ID, value: str = "250.00", currency: str = "USD", **extra: Any
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "max_bid": {"value": value, "currency": currency},
        **extra,
    }


_MORE_LEGACY_IDS = itertools.count(310000000000)


def create(env: Env, user: tuple[str, str] = ("user-a", "a@example.com")) -> str:
    """A snipe on the default auction, or (one active snipe per user and
    item) on a copy of it under a new item id when the user has one there."""
    status, _, body = call(
        api_event("POST", "/api/snipes", user=user, body=create_body())
    )
    if status == 409 and body["error"]["code"] == "SNIPE_EXISTS":
        legacy = str(next(_MORE_LEGACY_IDS))
        env.ebay.items[legacy] = {
            **env.ebay.items[LEGACY_ID],
            "itemId": f"v1|{legacy}|0",
            "legacyItemId": legacy,
            "itemWebUrl": f"https://www.ebay.com/itm/{legacy}",
        }
        status, _, body = call(
            api_event(
                "POST",
                "/api/snipes",
                user=user,
                body=create_body(item_id=f"v1|{legacy}|0"),
            )
        )
    assert status == 201, body
    snipe_id: str = body["snipe_id"]
    return snipe_id


def scheduled_snipe(env: Env, **auction: Any) -> str:
    """The default user links eBay and snipes the default auction (with
    ``auction``'s fields for ``env.auction``): the snipe id."""
    env.link()
    env.auction(**auction)
    return create(env)


def assert_error(
    result: tuple[int, dict[str, str], Any], status: int, code: str
) -> dict[str, Any]:
    got_status, _, body = result
    assert (got_status, body["error"]["code"]) == (status, code), body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    details: dict[str, Any] = body["error"]["details"]
    return details


def openapi(env: Env) -> dict[str, Any]:
    status, _, document = call(api_event("GET", "/api/openapi.json", user=None))
    assert status == 200
    assert isinstance(document, dict)
    return document


def schema_validator(document: dict[str, Any], ref: dict[str, Any]) -> Any:
    """A JSON Schema validator for ``ref`` resolved inside ``document``."""
    schema = {**ref, "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def outcome_counts(**counts: int) -> dict[str, int]:
    """``GET /api/stats``' counts of one currency: ``counts``, zero elsewhere."""
    keys = ("WON", "LOST", "SKIPPED", "FAILED", "CANCELLED", "active")
    return {key: counts.get(key, 0) for key in keys}


def example_value(examples: dict[str, Any], name: str, **changes: Any) -> Any:
    """A deep copy of the value of ``examples[name]`` (one of
    ``api/examples.py``'s OpenAPI examples) with top-level ``changes``.

    The examples are what the env fixture's default auction shows, so tests
    compare with them instead of restating them."""
    value = copy.deepcopy(examples[name]["value"])
    value.update(changes)
    return value
