"""Broken object level authorization: every route x user B acting on user A's data.

User A has a linked eBay account (through the consent flow), snipes, a listing
cursor and a pending consent ``state``. For each route of the API, user B
(authenticated, with data of their own) tries it with A's ids. Routes with an
id answer 404 as if A's object did not exist; user-scoped routes without ids
act on B's own data only. No answer ever contains anything of A's, and A's
data is unchanged afterwards.

The routes come from the app itself (and must match the OpenAPI document): a
new route without a case here fails ``test_every_route_has_a_case``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from api.app import app
from sandbox.stack import LocalStack
from tests.support.apigw import api_event, call
from tests.support.stack import agree, post_snipe, stop_running, wait_until_waiting
from workflows.groups import new_group_id
from workflows.models import EmailOn, NotificationPreferences, SnipeStatus
from workflows.scheduling import new_snipe_id
from workflows.timing import utc_now

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

User = tuple[str, str]
Result = tuple[int, dict[str, str], Any]


@dataclass
class Victim:
    """User A and everything of theirs B must neither see nor touch."""

    user: User
    snipe_ids: list[str]
    item_titles: list[str]
    cursor: str
    state: str
    code: str
    link: dict[str, Any]
    secrets: list[str] = field(default_factory=list)

    def markers(self) -> list[str]:
        """Strings that betray A's data if they appear in a response."""
        return [
            *self.user,
            *self.snipe_ids,
            *self.item_titles,
            self.cursor,
            self.state,
            self.code,
            *self.secrets,
        ]


def _new_user(prefix: str) -> User:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    return name, f"{name}@example.com"


def _consent(user: User) -> tuple[str, str]:
    status, _, body = call(api_event("GET", "/api/ebay/connect", user=user))
    assert status == 200, body
    return agree(body["url"], user[0])


def _create(stack: LocalStack, user: User, title: str) -> str:
    auction = stack.ebay.create_auction(title=title, start_price="10.00", end_in_s=900)
    status, _, body = post_snipe(user, auction.item_id)
    assert status == 201, body
    return str(body["snipe_id"])


@pytest.fixture(scope="module")
def victim(stack: LocalStack) -> Iterator[Victim]:
    user = _new_user("victim")
    code, state = _consent(user)
    status, _, link = call(
        api_event(
            "POST", "/api/ebay/callback", user=user, body={"code": code, "state": state}
        )
    )
    assert status == 200, link
    titles = [f"Victim's secret listing {uuid.uuid4().hex[:8]}" for _ in range(2)]
    snipe_ids = [_create(stack, user, title) for title in titles]
    for snipe_id in snipe_ids:
        wait_until_waiting(
            stack, stack.services.store.get(snipe_id).execution_arn or ""
        )
    _, _, page = call(api_event("GET", "/api/snipes", user=user, query={"limit": "1"}))
    assert page["next_cursor"]
    # A consent attempt of A's still in flight: its state and code.
    pending_code, pending_state = _consent(user)
    account = stack.services.store.get_ebay_account(user[0])
    assert account is not None
    yield Victim(
        user=user,
        snipe_ids=snipe_ids,
        item_titles=titles,
        cursor=page["next_cursor"],
        state=pending_state,
        code=pending_code,
        link=link,
        secrets=[account.refresh_token],
    )
    stop_running(stack, user[0])


@pytest.fixture
def intruder(stack: LocalStack) -> Iterator[User]:
    """User B: authenticated, linked, with a snipe of their own."""
    user = _new_user("intruder")
    stack.link_ebay(user[0])
    snipe_id = _create(stack, user, "Intruder's own listing")
    wait_until_waiting(stack, stack.services.store.get(snipe_id).execution_arn or "")
    yield user
    stop_running(stack, user[0])


def _victim_unchanged(stack: LocalStack, victim: Victim) -> None:
    status, _, link = call(api_event("GET", "/api/ebay/status", user=victim.user))
    assert (status, link) == (200, victim.link)
    for snipe_id in victim.snipe_ids:
        snipe = stack.services.store.get(snipe_id)
        assert (snipe.status, snipe.user_id) == (SnipeStatus.SCHEDULED, victim.user[0])


# --- the cases: one per route ------------------------------------------------------

Case = Callable[[LocalStack, Victim, User], list[Result]]


def _as_if_missing(method: str, b: User, victim: Victim) -> list[Result]:
    """B's answer for each of A's snipe ids is the answer for an id that never
    existed (the id B sent aside): nothing tells B that A's snipe exists.
    Returns that answer, which carries nothing of A's, for the leak check."""
    missing = new_snipe_id(utc_now())
    baseline = call(api_event(method, f"/api/snipes/{missing}", user=b))
    assert (baseline[0], baseline[2]["error"]["code"]) == (404, "SNIPE_NOT_FOUND")
    expected = json.dumps(baseline[2]).replace(missing, "<id>")
    for snipe_id in victim.snipe_ids:
        status, headers, body = call(
            api_event(method, f"/api/snipes/{snipe_id}", user=b)
        )
        assert status == 404
        assert json.dumps(body).replace(snipe_id, "<id>") == expected
        assert set(headers) == set(baseline[1])
        others = [m for m in victim.markers() if m != snipe_id]
        assert not any(m in json.dumps([body, headers]) for m in others)
    return [baseline]


def get_snipe(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    return _as_if_missing("GET", b, victim)


def cancel_snipe(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    return _as_if_missing("DELETE", b, victim)


def list_snipes(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    own = {s.snipe_id for s in stack.services.store.list_for_user(b[0])[0]}
    results = [
        call(api_event("GET", "/api/snipes", user=b)),
        call(api_event("GET", "/api/snipes", user=b, query={"status": "SCHEDULED"})),
    ]
    for status, _, body in results:
        assert status == 200, body
        assert {s["snipe_id"] for s in body["items"]} == own
    stolen_cursor = call(
        api_event("GET", "/api/snipes", user=b, query={"cursor": victim.cursor})
    )
    assert (stolen_cursor[0], stolen_cursor[2]["error"]["code"]) == (
        400,
        "INVALID_CURSOR",
    )
    return [*results, stolen_cursor]


def create_snipe(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=900)
    # Identity comes from the authorizer only; body fields naming a user are
    # refused.
    result = post_snipe(b, auction.item_id, user_id=victim.user[0])
    assert result[0] == 422, result[2]
    own = post_snipe(b, auction.item_id)
    assert own[0] == 201, own[2]
    wait_until_waiting(
        stack, stack.services.store.get(own[2]["snipe_id"]).execution_arn or ""
    )
    victims = {
        s.snipe_id for s in stack.services.store.list_for_user(victim.user[0])[0]
    }
    assert victims == set(victim.snipe_ids)
    return [result, own]


def connect(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(api_event("GET", "/api/ebay/connect", user=b))
    assert result[0] == 200, result[2]
    # B's state is B's own: A cannot finish with it either.
    status, _, body = call(
        api_event(
            "POST",
            "/api/ebay/callback",
            user=victim.user,
            body={"code": "v^1.1#unused", "state": result[2]["state"]},
        )
    )
    assert (status, body["error"]["code"]) == (400, "INVALID_STATE")
    return [result]


def callback(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(
        api_event(
            "POST",
            "/api/ebay/callback",
            user=b,
            body={"code": victim.code, "state": victim.state},
        )
    )
    assert (result[0], result[2]["error"]["code"]) == (400, "INVALID_STATE")
    # B still has their own link; A's account was not bound to B.
    account = stack.services.store.get_ebay_account(b[0])
    assert account is not None and account.refresh_token not in victim.secrets
    return [result]


def status(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(api_event("GET", "/api/ebay/status", user=b))
    assert result[0] == 200, result[2]
    assert result[2]["linked"] is True
    assert result[2]["linked_at"] != victim.link["linked_at"]
    return [result]


def unlink(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(api_event("DELETE", "/api/ebay/connection", user=b))
    assert result[0] == 200, result[2]
    assert result[2] == {"unlinked": True, "was_linked": True, "skipped_snipes": 1}
    assert stack.services.store.get_ebay_account(victim.user[0]) is not None
    return [result]


def health(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(api_event("GET", "/api/health", user=b))
    assert result[0] == 200
    return [result]


def edit_snipe(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    """PATCH with a valid body: A's snipes answer like an id that never existed,
    and neither their max bid nor their execution changes."""
    body = {"max_bid": {"value": "99.00", "currency": "USD"}, "bid_offset_seconds": 4}
    missing = new_snipe_id(utc_now())
    baseline = call(api_event("PATCH", f"/api/snipes/{missing}", user=b, body=body))
    assert (baseline[0], baseline[2]["error"]["code"]) == (404, "SNIPE_NOT_FOUND")
    expected = json.dumps(baseline[2]).replace(missing, "<id>")
    for snipe_id in victim.snipe_ids:
        before = stack.services.store.get(snipe_id)
        status, _, answer = call(
            api_event("PATCH", f"/api/snipes/{snipe_id}", user=b, body=body)
        )
        assert status == 404
        assert json.dumps(answer).replace(snipe_id, "<id>") == expected
        after = stack.services.store.get(snipe_id)
        assert (after.max_bid, after.execution_arn, after.version) == (
            before.max_bid,
            before.execution_arn,
            before.version,
        )
    return [baseline]


def stats(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(api_event("GET", "/api/stats", user=b))
    assert result[0] == 200, result[2]
    own = stack.services.store.list_for_user(b[0])[0]
    [usd] = result[2]["currencies"]
    assert sum(usd["counts"].values()) == len(own)
    return [result]


def get_preferences(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    quiet = {"WON": True, "LOST": False, "SKIPPED": False, "FAILED": False}
    stack.services.store.put_preferences(
        victim.user[0], NotificationPreferences(email_on=EmailOn(**quiet))
    )
    try:
        result = call(api_event("GET", "/api/me/preferences", user=b))
        assert result[0] == 200, result[2]
        assert result[2]["email_on"] != quiet  # B's own: the defaults
    finally:
        stack.services.store.put_preferences(victim.user[0], NotificationPreferences())
    return [result]


def put_preferences(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    quiet = {"WON": False, "LOST": False, "SKIPPED": False, "FAILED": False}
    result = call(
        api_event("PUT", "/api/me/preferences", user=b, body={"email_on": quiet})
    )
    assert result[0] == 200, result[2]
    assert stack.services.store.get_preferences(victim.user[0]) == (
        NotificationPreferences()
    )
    return [result]


def _victim_group(victim: Victim) -> dict[str, Any]:
    """A group of A's; its id and name become markers of A's data."""
    name = f"Victim's secret group {uuid.uuid4().hex[:8]}"
    status, _, body = call(
        api_event(
            "POST",
            "/api/groups",
            user=victim.user,
            body={"name": name, "wins_wanted": 2},
        )
    )
    assert status == 201, body
    victim.secrets.extend([name, body["group_id"]])
    return dict(body)


def _group_as_if_missing(
    stack: LocalStack, victim: Victim, b: User, method: str, body: Any = None
) -> list[Result]:
    """B's answer for A's group id is the answer for an id that never existed,
    and A's group is unchanged (not renamed, not deleted)."""
    group = _victim_group(victim)
    missing = new_group_id(utc_now())
    baseline = call(api_event(method, f"/api/groups/{missing}", user=b, body=body))
    assert (baseline[0], baseline[2]["error"]["code"]) == (404, "GROUP_NOT_FOUND")
    expected = json.dumps(baseline[2]).replace(missing, "<id>")
    group_id = group["group_id"]
    status, headers, answer = call(
        api_event(method, f"/api/groups/{group_id}", user=b, body=body)
    )
    assert status == 404
    assert json.dumps(answer).replace(group_id, "<id>") == expected
    assert set(headers) == set(baseline[1])
    after = stack.services.store.get_group(group_id)
    assert (after.name, after.wins_wanted, after.version) == (group["name"], 2, 1)
    return [baseline]


def get_group(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    return _group_as_if_missing(stack, victim, b, "GET")


def edit_group(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    body = {"name": "Taken over", "wins_wanted": 1}
    return _group_as_if_missing(stack, victim, b, "PATCH", body)


def delete_group(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    return _group_as_if_missing(stack, victim, b, "DELETE")


def list_groups(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    _victim_group(victim)
    own = call(api_event("POST", "/api/groups", user=b, body={"name": "B's own"}))
    assert own[0] == 201, own[2]
    result = call(api_event("GET", "/api/groups", user=b))
    assert result[0] == 200, result[2]
    assert [g["group_id"] for g in result[2]["items"]] == [own[2]["group_id"]]
    return [own, result]


def create_group(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    before = stack.services.store.list_groups(victim.user[0])[0]
    refused = call(
        api_event(
            "POST",
            "/api/groups",
            user=b,
            body={"name": "Mine", "user_id": victim.user[0]},
        )
    )
    assert refused[0] == 422, refused[2]
    own = call(api_event("POST", "/api/groups", user=b, body={"name": "Mine"}))
    assert own[0] == 201, own[2]
    assert stack.services.store.list_groups(victim.user[0])[0] == before
    return [refused, own]


def openapi_document(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    result = call(api_event("GET", "/api/openapi.json", user=b))
    assert result[0] == 200
    return [result]


def preview_item(stack: LocalStack, victim: Victim, b: User) -> list[Result]:
    """Listings are public eBay data: B may preview A's item, and the answer
    (from the one shared cache) says nothing about A or A's snipe."""
    item_id = stack.services.store.get(victim.snipe_ids[0]).item.item_id
    theirs = call(api_event("GET", f"/api/items/{quote(item_id, safe='')}", user=b))
    assert theirs[0] == 200, theirs[2]
    private = [*victim.user, *victim.snipe_ids, victim.cursor, victim.state]
    assert not any(marker in json.dumps(theirs) for marker in private)
    other = stack.ebay.create_auction(title="Unrelated lot", end_in_s=600)
    own = call(api_event("GET", f"/api/items/{quote(other.item_id, safe='')}", user=b))
    assert own[0] == 200, own[2]
    return [own]


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/items/<ref>"): preview_item,
    ("GET", "/api/snipes/<snipe_id>"): get_snipe,
    ("DELETE", "/api/snipes/<snipe_id>"): cancel_snipe,
    ("PATCH", "/api/snipes/<snipe_id>"): edit_snipe,
    ("GET", "/api/stats"): stats,
    ("GET", "/api/me/preferences"): get_preferences,
    ("PUT", "/api/me/preferences"): put_preferences,
    ("GET", "/api/snipes"): list_snipes,
    ("POST", "/api/snipes"): create_snipe,
    ("GET", "/api/ebay/connect"): connect,
    ("POST", "/api/ebay/callback"): callback,
    ("GET", "/api/ebay/status"): status,
    ("DELETE", "/api/ebay/connection"): unlink,
    ("GET", "/api/health"): health,
    ("GET", "/api/openapi.json"): openapi_document,
    ("POST", "/api/groups"): create_group,
    ("GET", "/api/groups"): list_groups,
    ("GET", "/api/groups/<group_id>"): get_group,
    ("PATCH", "/api/groups/<group_id>"): edit_group,
    ("DELETE", "/api/groups/<group_id>"): delete_group,
}


def _app_routes() -> set[tuple[str, str]]:
    routes = [*app._static_routes, *app._dynamic_routes]
    return {(route.method.upper(), route.path) for route in routes}


def test_every_route_has_a_case(stack: LocalStack) -> None:
    status, _, document = call(api_event("GET", "/api/openapi.json", user=None))
    assert status == 200
    documented = {
        (method.upper(), re.sub(r"\{(\w+)\}", r"<\1>", path))
        for path, methods in document["paths"].items()
        for method in methods
    }

    assert _app_routes() == documented, "every route is in the OpenAPI document"
    assert set(CASES) == documented, "add a BOLA case for each new route"


@pytest.mark.parametrize("route", sorted(CASES), ids=" ".join)
def test_other_users_ids_are_not_found_and_nothing_leaks(
    stack: LocalStack, victim: Victim, intruder: User, route: tuple[str, str]
) -> None:
    results = CASES[route](stack, victim, intruder)

    text = json.dumps([body for _, _, body in results])
    leaked = [marker for marker in victim.markers() if marker in text]
    assert leaked == []
    for _, headers, _ in results:
        assert not any(m in json.dumps(headers) for m in victim.markers())
    _victim_unchanged(stack, victim)
