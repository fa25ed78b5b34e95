"""``/api/groups`` end to end in-process: events in, responses out (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from api.app import app
from tests.support.apigw import USER_B, api_event, call
from tests.support.groups import GroupWorld, make_services
from tests.support.table import moto_table
from workflows.models import SnipeStatus
from workflows.services import get_services

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

USER_A = ("user-a", "a@example.com")


@pytest.fixture
def world() -> Iterator[GroupWorld]:
    with moto_table("groups-api") as (client, table):
        services, fake = make_services(client, table)
        app.dependency_overrides[get_services] = lambda: services
        try:
            yield GroupWorld(services=services, ebay=fake, user_id=USER_A[0])
        finally:
            app.dependency_overrides.pop(get_services, None)


def request(
    method: str, path: str, body: Any = None, user: tuple[str, str] | None = USER_A
) -> tuple[int, Any]:
    status, _, payload = call(api_event(method, path, user=user, body=body))
    return status, payload


def create(name: str = "Cameras", wins_wanted: int = 1) -> dict[str, Any]:
    status, body = request(
        "POST", "/api/groups", {"name": name, "wins_wanted": wins_wanted}
    )
    assert status == 201, body
    return dict(body)


def test_create_answers_the_new_empty_group(world: GroupWorld) -> None:
    body = create("Film cameras", 2)

    assert body["group_id"].startswith("grp_")
    assert body["name"] == "Film cameras"
    assert (body["wins_wanted"], body["wins"], body["pending"]) == (2, 0, 0)
    assert (body["slots_free"], body["members"]) == (2, [])
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "wins_wanted": 1},
        {"name": "x" * 101, "wins_wanted": 1},
        {"name": "x", "wins_wanted": 0},
        {"name": "x", "wins_wanted": "1"},
        {"name": "x", "wins_wanted": 1, "extra": True},
        {"wins_wanted": 1},
    ],
)
def test_create_refuses_invalid_bodies(world: GroupWorld, body: Any) -> None:
    status, answer = request("POST", "/api/groups", body)
    assert (status, answer["error"]["code"]) == (422, "VALIDATION_FAILED")


def test_wins_wanted_defaults_to_one(world: GroupWorld) -> None:
    status, body = request("POST", "/api/groups", {"name": "One of these"})
    assert (status, body["wins_wanted"]) == (201, 1)


def test_list_is_per_user_and_paged(world: GroupWorld) -> None:
    ids = [create(f"g{i}")["group_id"] for i in range(3)]

    status, _, first = call(api_event("GET", "/api/groups", query={"limit": "2"}))
    second = call(
        api_event(
            "GET", "/api/groups", query={"limit": "2", "cursor": first["next_cursor"]}
        )
    )[2]
    _, other = request("GET", "/api/groups", user=USER_B)

    assert status == 200
    listed = [g["group_id"] for g in first["items"] + second["items"]]
    assert sorted(listed) == sorted(ids)
    assert second["next_cursor"] is None
    assert set(first["items"][0]) == {
        "group_id",
        "name",
        "wins_wanted",
        "slots_used",
        "created_at",
        "updated_at",
    }
    assert other == {"items": [], "next_cursor": None}


def test_get_shows_members_and_wins(world: GroupWorld) -> None:
    group_id = create(wins_wanted=2)["group_id"]
    won = world.snipe(group_id)
    waiting = world.snipe(group_id)
    world.settle(world.bid(world.claim_and_check(won.snipe_id)), SnipeStatus.WON)

    status, body = request("GET", f"/api/groups/{group_id}")

    assert status == 200, body
    assert (body["wins"], body["pending"], body["slots_free"]) == (1, 0, 1)
    members = {m["snipe_id"]: m for m in body["members"]}
    assert members[won.snipe_id]["status"] == "WON"
    assert members[won.snipe_id]["holds_slot"] is True
    assert members[waiting.snipe_id] == {
        "snipe_id": waiting.snipe_id,
        "status": "SCHEDULED",
        "reason": None,
        "title": waiting.item.title,
        "end_at": waiting.plan.end_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "holds_slot": False,
    }


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_users_group_is_not_found(world: GroupWorld, method: str) -> None:
    group_id = create()["group_id"]
    body = {"name": "mine now"} if method == "PATCH" else None

    status, answer = request(method, f"/api/groups/{group_id}", body, user=USER_B)

    assert (status, answer["error"]["code"]) == (404, "GROUP_NOT_FOUND")
    assert world.store.get_group(group_id).name == "Cameras"


@pytest.mark.parametrize("group_id", ["grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", "nope"])
def test_an_unknown_group_is_not_found(world: GroupWorld, group_id: str) -> None:
    status, answer = request("GET", f"/api/groups/{group_id}")
    assert (status, answer["error"]["code"]) == (404, "GROUP_NOT_FOUND")


def test_patch_renames_and_changes_wins_wanted(world: GroupWorld) -> None:
    group_id = create()["group_id"]

    status, body = request(
        "PATCH", f"/api/groups/{group_id}", {"name": "Lenses", "wins_wanted": 3}
    )

    assert status == 200, body
    assert (body["name"], body["wins_wanted"], body["slots_free"]) == ("Lenses", 3, 3)
    status, empty = request("PATCH", f"/api/groups/{group_id}", {})
    assert (status, empty["error"]["code"]) == (422, "VALIDATION_FAILED")


def test_wins_wanted_below_the_slots_in_use_is_refused(world: GroupWorld) -> None:
    group_id = create(wins_wanted=2)["group_id"]
    for _ in range(2):
        world.claim_and_check(world.snipe(group_id).snipe_id)

    status, body = request("PATCH", f"/api/groups/{group_id}", {"wins_wanted": 1})

    assert (status, body["error"]["code"]) == (409, "WINS_WANTED_TOO_LOW")
    assert body["error"]["details"] == {"slots_used": 2}
    assert world.store.get_group(group_id).wins_wanted == 2


def test_delete_detaches_the_members(world: GroupWorld) -> None:
    group_id = create()["group_id"]
    members = sorted(world.snipe(group_id).snipe_id for _ in range(2))

    status, body = request("DELETE", f"/api/groups/{group_id}")

    assert status == 200, body
    assert body == {"group_id": group_id, "deleted": True, "detached_snipes": members}
    assert all(world.store.get(m).group_id is None for m in members)
    status, again = request("GET", f"/api/groups/{group_id}")
    assert (status, again["error"]["code"]) == (404, "GROUP_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/groups"),
        ("GET", "/api/groups"),
        ("GET", "/api/groups/grp_x"),
        ("PATCH", "/api/groups/grp_x"),
        ("DELETE", "/api/groups/grp_x"),
    ],
)
def test_every_group_route_needs_a_caller(
    world: GroupWorld, method: str, path: str
) -> None:
    body = {"name": "x"} if method in ("POST", "PATCH") else None
    status, answer = request(method, path, body, user=None)
    assert (status, answer["error"]["code"]) == (401, "UNAUTHORIZED")


def test_the_openapi_document_covers_the_group_routes(world: GroupWorld) -> None:
    status, document = request("GET", "/api/openapi.json", user=None)
    assert status == 200
    paths = document["paths"]

    assert set(paths["/api/groups"]) == {"post", "get"}
    assert set(paths["/api/groups/{group_id}"]) == {"get", "patch", "delete"}
    for path in ("/api/groups", "/api/groups/{group_id}"):
        for operation in paths[path].values():
            assert operation["security"] == [{"CognitoIdToken": []}]
            assert operation["tags"] == ["groups"]
    create_body = paths["/api/groups"]["post"]["requestBody"]["content"]
    assert create_body["application/json"]["examples"]["one_of_these"]["value"] == {
        "name": "Film cameras: one is enough",
        "wins_wanted": 1,
    }
    patch_body = paths["/api/groups/{group_id}"]["patch"]["requestBody"]["content"]
    assert "rename" in patch_body["application/json"]["examples"]
    assert "409" in paths["/api/groups/{group_id}"]["patch"]["responses"]
    view = document["components"]["schemas"]["GroupView"]["properties"]
    assert view["group_id"]["examples"] == ["grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"]


def test_the_answers_match_their_openapi_schemas(world: GroupWorld) -> None:
    _, document = request("GET", "/api/openapi.json", user=None)
    paths = document["paths"]

    def check(path: str, method: str, code: str, body: Any) -> None:
        content = paths[path][method]["responses"][code]["content"]
        schema = {**content["application/json"]["schema"], **document}
        jsonschema.Draft202012Validator(schema).validate(body)

    created = create(wins_wanted=2)
    group_id = created["group_id"]
    world.claim_and_check(world.snipe(group_id).snipe_id)
    item = "/api/groups/{group_id}"
    check("/api/groups", "post", "201", created)
    check("/api/groups", "get", "200", request("GET", "/api/groups")[1])
    check(item, "get", "200", request("GET", f"/api/groups/{group_id}")[1])
    patched = request("PATCH", f"/api/groups/{group_id}", {"wins_wanted": 3})[1]
    check(item, "patch", "200", patched)
    too_low = request("PATCH", f"/api/groups/{group_id}", {"wins_wanted": 0})[1]
    check(item, "patch", "422", too_low)
    check(item, "delete", "200", request("DELETE", f"/api/groups/{group_id}")[1])
    check(item, "get", "404", request("GET", f"/api/groups/{group_id}")[1])
