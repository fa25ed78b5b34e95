"""Routes under ``/api/groups``: win-N groups, thin adapters to ``workflows.groups``.

A group is the caller's own: another user's group answers 404
``GROUP_NOT_FOUND`` like one that does not exist. Snipes join a group through
``group_id`` on create or edit (``/api/snipes``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api import examples
from api.models import GroupDeletedView, GroupListView, GroupSummaryView, GroupView
from api.params import AppServices, CallerIdentity, PageCursor
from api.responses import json_response
from api.routes import Routes
from workflows import groups
from workflows.groups import CreateGroupRequest, UpdateGroupRequest

_NOT_FOUND = "No such group of yours (GROUP_NOT_FOUND)"
router = Router()  # type: ignore[no-untyped-call]  # untyped __init__
route = Routes(router, "groups", descriptions={404: _NOT_FOUND})

GroupIdPath = Annotated[
    str,
    Path(description="The group's id", examples=["grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"]),
]
_CREATE_EXAMPLES: dict[str, Any] = {
    "one_of_these": {
        "summary": "Win one of these",
        "value": {"name": "Film cameras: one is enough", "wins_wanted": 1},
    },
    "two_of_these": {
        "summary": "Win two of these",
        "value": {"name": "Lens caps", "wins_wanted": 2},
    },
}
_UPDATE_EXAMPLES: dict[str, Any] = {
    "rename": {"summary": "Rename", "value": {"name": "Rangefinders"}},
    "more_wins": {"summary": "Want one more", "value": {"wins_wanted": 2}},
}


@route(
    "POST",
    "/api/groups",
    operation_id="createGroup",
    summary="Create a win-N group",
    description=(
        "At most `wins_wanted` of the group's snipes win: when a member's bid"
        " time comes and the group has (or may have) that many wins, the member"
        " ends SKIPPED (GROUP_SATISFIED) without a bid. Snipes join with"
        " `group_id` on create or edit."
    ),
    ok={"description": "The new, empty group"},
    status=HTTPStatus.CREATED,
    json_body=True,
    errors=(413,),
    descriptions={422: "VALIDATION_FAILED: name 1-100 characters, wins_wanted 1-100"},
)
def create_group(
    request: Annotated[CreateGroupRequest, Body(openapi_examples=_CREATE_EXAMPLES)],
    identity: CallerIdentity,
    services: AppServices,
) -> GroupView:
    return GroupView.of(groups.create_group(services, identity.user_id, request))


@route(
    "GET",
    "/api/groups",
    operation_id="listGroups",
    summary="List your groups",
    description="Newest first, one page at a time.",
    ok=json_response("One page of groups", GroupListView, examples.GROUP_LIST_EXAMPLES),
    errors=(400, 422),
)
def list_groups(
    identity: CallerIdentity,
    services: AppServices,
    limit: Annotated[
        int, Query(ge=1, le=groups.MAX_PAGE_SIZE, description="Page size")
    ] = groups.DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> GroupListView:
    page = groups.list_groups(services, identity.user_id, limit=limit, cursor=cursor)
    return GroupListView(
        items=[GroupSummaryView.of(g) for g in page.items],
        next_cursor=page.next_cursor,
    )


@route(
    "GET",
    "/api/groups/<group_id>",
    operation_id="getGroup",
    summary="Get one of your groups",
    description="With its members (ids, statuses) and its wins so far.",
    ok=json_response("The group", GroupView, examples.GROUP_EXAMPLES),
    errors=(404,),
)
def get_group(
    group_id: GroupIdPath, identity: CallerIdentity, services: AppServices
) -> GroupView:
    return GroupView.of(groups.get_group(services, identity.user_id, group_id))


@route(
    "PATCH",
    "/api/groups/<group_id>",
    operation_id="updateGroup",
    summary="Rename a group or change wins_wanted",
    description=(
        "`wins_wanted` cannot go below the slots in use (wins plus bids whose"
        " result is not known yet): 409 WINS_WANTED_TOO_LOW"
        " (details.slots_used)."
    ),
    ok={"description": "The changed group"},
    json_body=True,
    errors=(404, 409, 413),
    descriptions={
        409: "WINS_WANTED_TOO_LOW (details.slots_used)",
        422: "VALIDATION_FAILED: give name and/or wins_wanted",
    },
)
def update_group(
    group_id: GroupIdPath,
    request: Annotated[UpdateGroupRequest, Body(openapi_examples=_UPDATE_EXAMPLES)],
    identity: CallerIdentity,
    services: AppServices,
) -> GroupView:
    return GroupView.of(
        groups.update_group(services, identity.user_id, group_id, request)
    )


@route(
    "DELETE",
    "/api/groups/<group_id>",
    operation_id="deleteGroup",
    summary="Delete a group",
    description=(
        "Its snipes leave the group (their group_id is cleared) and go on as"
        " ordinary snipes; one already bidding keeps its bid."
    ),
    ok=json_response(
        "The group is gone", GroupDeletedView, examples.GROUP_DELETED_EXAMPLES
    ),
    errors=(404,),
)
def delete_group(
    group_id: GroupIdPath, identity: CallerIdentity, services: AppServices
) -> GroupDeletedView:
    deleted = groups.delete_group(services, identity.user_id, group_id)
    return GroupDeletedView(
        group_id=deleted.group.group_id,
        deleted=True,
        detached_snipes=deleted.detached,
    )
