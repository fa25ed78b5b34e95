"""Task Lambda faults over HTTP (``/dev/task-faults`` on the local gateway):
validation, listing with hits and kill times, clearing, and the
``after_ebay_request`` cue of one invocation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from sandbox import task_faults
from sandbox.dev_task_faults import PATH, TaskFaultAdmin
from tests.support.apigw import dev_gateway
from tests.support.local import crash_after_the_send

KEY = b"test-signing-key-0123456789abcdef0123456789"
WEB = "http://127.0.0.1:3000"
ITEM = "v1|110000000001|0"
FUNCTIONS = {
    "ApiFunction": "ApiFunction",
    "PlaceBidFunction": "PlaceBidFunction",
    "NotifyFunction": "test-NotifyFunction",  # a prefixed engine name
}
CRASH_AFTER_BID = crash_after_the_send("snipe-1")


class RequestLog:
    """The eBay simulator's request log, as the cue reads it."""

    def __init__(self) -> None:
        self.logged: list[dict[str, Any]] = []

    def requests(
        self, endpoint: str | None = None, item_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            r
            for r in self.logged
            if endpoint in (None, r["endpoint"]) and item_id in (None, r["item_id"])
        ]

    def log(self, endpoint: str, item_id: str = ITEM) -> None:
        self.logged.append({"endpoint": endpoint, "item_id": item_id})


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    task_faults.clear_task_faults()
    yield
    task_faults.clear_task_faults()


@pytest.fixture
def ebay() -> RequestLog:
    return RequestLog()


@pytest.fixture
def client(ebay: RequestLog) -> Client:
    admin = TaskFaultAdmin(
        functions=FUNCTIONS, ebay=ebay, item_of={"snipe-1": ITEM}.get
    )
    return dev_gateway(key=KEY, origins=[WEB], task_faults=admin)


def _faults(client: Client) -> list[dict[str, Any]]:
    answer = client.get(PATH)
    assert answer.status_code == 200
    faults: list[dict[str, Any]] = answer.get_json()["faults"]
    return faults


def test_inject_a_crash_after_the_bid_request(client: Client) -> None:
    answer = client.post(PATH, json=CRASH_AFTER_BID)
    assert answer.status_code == 201
    fault = answer.get_json()
    assert fault | {"fault_id": "-"} == {
        "fault_id": "-",
        "function": "PlaceBidFunction",
        "kind": "crash",
        "after_s": None,
        "after_ebay_request": "place_proxy_bid",
        "snipe_id": "snipe-1",
        "count": 1,
        "remaining": 1,
        "active": True,
        "hits": 0,
        "killed_at": [],
    }
    (injected,) = task_faults.task_faults()
    assert injected.fault_id == fault["fault_id"]
    assert injected.when_for is not None and injected.snipe_id == "snipe-1"
    assert _faults(client) == [fault]


@pytest.mark.parametrize("name", ["NotifyFunction", "test-NotifyFunction"])
def test_the_logical_id_or_the_engine_name(client: Client, name: str) -> None:
    body = {"function": name, "kind": "timeout", "after_s": 2.5, "count": None}
    fault = client.post(PATH, json=body).get_json()
    assert fault["function"] == "test-NotifyFunction"  # as the engine names it
    assert (fault["after_s"], fault["count"], fault["remaining"]) == (2.5, None, None)
    assert task_faults.task_faults()[0].function == "test-NotifyFunction"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"function": None}, ["function"]),
        ({"function": "ApiFunction"}, ["function"]),  # runs in the gateway
        ({"function": "PlaceBid"}, ["function"]),
        ({"function": ["PlaceBidFunction"]}, ["function"]),
        ({"kind": "explode"}, ["kind"]),
        ({"kind": None}, ["kind"]),
        ({"after_ebay_request": None}, ["after_s", "after_ebay_request"]),
        ({"after_s": 1}, ["after_s", "after_ebay_request"]),
        ({"after_ebay_request": "token"}, ["after_ebay_request"]),
        ({"after_ebay_request": "placeProxyBid"}, ["after_ebay_request"]),
        ({"after_ebay_request": None, "after_s": -1}, ["after_s"]),
        ({"after_ebay_request": None, "after_s": 901}, ["after_s"]),
        ({"after_ebay_request": None, "after_s": True}, ["after_s"]),
        ({"after_ebay_request": None, "after_s": "1"}, ["after_s"]),
        ({"snipe_id": "snipe-404"}, ["snipe_id"]),
        ({"snipe_id": 7}, ["snipe_id"]),
        ({"count": 0}, ["count"]),
        ({"count": 1.5}, ["count"]),
        ({"count": True}, ["count"]),
        ({"count": 1001}, ["count"]),
        ({"crash": True}, ["crash"]),
        ({"function": "x", "kind": "y", "count": -1}, ["function", "kind", "count"]),
    ],
)
def test_bad_input_is_422_with_an_error_per_field(
    client: Client, change: dict[str, Any], fields: list[str]
) -> None:
    answer = client.post(PATH, json={**CRASH_AFTER_BID, **change})
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert [e["loc"] for e in error["details"]["errors"]] == [
        ["body", name] for name in fields
    ]
    assert all(e["message"] for e in error["details"]["errors"])
    assert task_faults.task_faults() == []


def test_an_unknown_function_names_the_task_functions(client: Client) -> None:
    answer = client.post(PATH, json={**CRASH_AFTER_BID, "function": "PlaceBid"})
    (error,) = answer.get_json()["error"]["details"]["errors"]
    assert "PlaceBidFunction" in error["message"]
    assert "NotifyFunction" in error["message"]
    assert "ApiFunction" not in error["message"]


@pytest.mark.parametrize("body", ["[1]", '"crash"', "NaN"])
def test_not_an_object_is_422(client: Client, body: str) -> None:
    answer = client.post(PATH, data=body, content_type="application/json")
    assert answer.status_code == 422
    (error,) = answer.get_json()["error"]["details"]["errors"]
    assert (error["loc"], error["type"]) == (["body"], "model_type")


@pytest.mark.parametrize("seconds", ["NaN", "Infinity"])
def test_after_s_is_a_finite_number(client: Client, seconds: str) -> None:
    body = f'{{"function": "PlaceBidFunction", "kind": "crash", "after_s": {seconds}}}'
    answer = client.post(PATH, data=body, content_type="application/json")
    assert answer.status_code == 422
    (error,) = answer.get_json()["error"]["details"]["errors"]
    assert error["loc"] == ["body", "after_s"]


def test_not_json_is_400_and_other_methods_405(client: Client) -> None:
    answer = client.post(PATH, data="{", content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "INVALID_JSON"
    refused = client.put(PATH, json=CRASH_AFTER_BID)
    assert refused.status_code == 405
    assert refused.get_json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert set(refused.headers["Allow"].split(",")) == {
        "OPTIONS",
        "POST",
        "GET",
        "DELETE",
    }


def test_the_cue_kills_the_invocation_once_its_bid_is_logged(
    client: Client, ebay: RequestLog
) -> None:
    ebay.log("place_proxy_bid")  # an earlier attempt's bid: not this one's
    fault_id = client.post(PATH, json=CRASH_AFTER_BID).get_json()["fault_id"]
    effects: list[str] = []

    def place_bid(event: dict[str, Any], context: Any) -> str:
        time.sleep(0.05)
        ebay.log("get_bidding")
        time.sleep(0.05)
        ebay.log("place_proxy_bid")  # eBay processed the bid
        time.sleep(0.3)  # waiting for its answer
        effects.append("recorded")  # never: killed before
        return "BID_PLACED"

    event = {"snipe_id": "snipe-1"}
    assert task_faults.take_task_fault("PlaceBidFunction", {"snipe_id": "s2"}) is None
    fault = task_faults.take_task_fault("PlaceBidFunction", event)
    assert fault is not None and fault.fault_id == fault_id
    with pytest.raises(task_faults.TaskDied) as died:
        task_faults.run_with_fault(fault, place_bid, event, None)
    assert died.value.error_type == "Runtime.ExitError"
    time.sleep(0.4)
    assert effects == []
    (listed,) = _faults(client)
    assert (listed["active"], listed["hits"], listed["remaining"]) == (False, 1, 0)
    (killed_at,) = listed["killed_at"]
    assert killed_at.endswith("Z")
    assert task_faults.task_faults() == []  # spent


def test_without_a_known_item_the_cue_never_fires(ebay: RequestLog) -> None:
    unknown: dict[str, str] = {}
    when_for = task_faults.after_request(ebay, "place_proxy_bid", unknown.get)
    cue = when_for({"snipe_id": "snipe-1"})
    ebay.log("place_proxy_bid")
    assert not cue()
    assert not when_for({})()


def test_delete_clears_every_task_fault(client: Client) -> None:
    client.post(PATH, json=CRASH_AFTER_BID)
    task_faults.inject_task_fault("NotifyFunction", "crash", after_s=1)
    listed = _faults(client)
    assert [f["function"] for f in listed] == ["PlaceBidFunction", "NotifyFunction"]
    assert listed[1]["after_ebay_request"] is None  # injected from Python
    answer = client.delete(PATH)
    assert answer.status_code == 200
    assert answer.get_json() == {"removed": 2}
    assert _faults(client) == []
    assert task_faults.task_faults() == []


def test_cors_preflight_for_the_web_app(client: Client) -> None:
    preflight = client.options(
        PATH, headers={"Origin": WEB, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == WEB
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]


def test_a_gateway_without_the_admin_has_no_such_route() -> None:
    answer = dev_gateway(key=KEY, origins=[WEB]).post(PATH, json=CRASH_AFTER_BID)
    assert answer.status_code == 403  # API Gateway's answer outside /api
    assert task_faults.task_faults() == []
