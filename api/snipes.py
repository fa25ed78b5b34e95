"""Routes under ``/api/snipes``: thin adapters from HTTP to ``workflows.scheduling``.

Each route gets the caller from the Cognito claims (``api.auth``), the services
through ``Depends(get_services)`` (tests swap them with
``app.dependency_overrides``), calls one use case and returns a view model.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import (
    Body,
    Header,
    Path,
    Query,
)

from api import examples
from api.clock import request_now
from api.models import ScheduledSnipeView, SnipeListView, SnipeView
from api.params import AppServices, CallerIdentity, PageCursor
from api.requests import QueryDateTime
from api.responses import json_response
from api.routes import Routes
from workflows import idempotency, live, scheduling
from workflows.models import Snipe, SnipeStatus
from workflows.scheduling import CreateSnipeRequest, EditSnipeRequest
from workflows.timing import to_z

router = Router()  # type: ignore[no-untyped-call]  # untyped __init__
route = Routes(router, "snipes")

SnipeId = Annotated[
    str,
    Path(description="The snipe's id", examples=["snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"]),
]

_CREATE_404 = (
    "eBay has no such item (ITEM_NOT_FOUND); group_id is not a group of yours"
    " (GROUP_NOT_FOUND)"
)
_CREATE_422 = (
    "VALIDATION_FAILED (details.errors lists each field), INVALID_ITEM_ID,"
    " NOT_AN_AUCTION, CURRENCY_MISMATCH, MAX_BID_TOO_LOW (details.minimum_bid)"
)
_CREATE_409 = (
    "AUCTION_ENDED, AUCTION_ENDING_TOO_SOON (details.earliest_end_at),"
    " EBAY_NOT_LINKED, EBAY_RECONNECT_REQUIRED, SNIPE_EXISTS (you have an active"
    " snipe on this item: details.snipe_id); with an Idempotency-Key:"
    " IDEMPOTENCY_KEY_REUSED (another body), IDEMPOTENCY_IN_PROGRESS"
)
_EDIT_404 = (
    "SNIPE_NOT_FOUND (also another user's snipe), GROUP_NOT_FOUND (also another"
    " user's group)"
)
_EDIT_409 = (
    "SNIPE_ALREADY_BIDDING (the bid task claimed it), SNIPE_ALREADY_FINISHED,"
    " AUCTION_ENDED, AUCTION_ENDING_TOO_SOON (the new offset's wake-up has"
    " passed; details.earliest_wake_at), SNIPE_MODIFIED (concurrent edits)"
)
_EDIT_422 = (
    "VALIDATION_FAILED (details.errors lists each field; an empty body too),"
    " CURRENCY_MISMATCH, MAX_BID_TOO_LOW (details.minimum_bid)"
)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=idempotency.KEY_PATTERN,
        description=(
            "Makes the create safe to retry: for 24 hours the same key and body"
            " return the same snipe (201) instead of a second one. 1-255 visible"
            " ASCII characters, e.g. a UUID; unique per intended snipe."
        ),
        examples=["5f0c7a7e-2a43-4f43-9a49-3f1b0f0c2d11"],
    ),
]


@route(
    "POST",
    "/api/snipes",
    operation_id="createSnipe",
    summary="Schedule a snipe",
    description=(
        "Looks the item up on eBay, refuses what cannot be sniped and schedules"
        " one workflow execution that bids `max_bid` `bid_offset_seconds` before"
        " the auction ends."
    ),
    ok=json_response(
        "The scheduled snipe, with warnings about its group",
        ScheduledSnipeView,
        examples.SCHEDULED_SNIPE_EXAMPLES,
    ),
    status=HTTPStatus.CREATED,
    json_body=True,
    errors=(404, 409, 413, 429, 502),
    descriptions={404: _CREATE_404, 409: _CREATE_409, 422: _CREATE_422},
)
def create_snipe(
    request: Annotated[
        CreateSnipeRequest, Body(openapi_examples=examples.CREATE_EXAMPLES)
    ],
    identity: CallerIdentity,
    services: AppServices,
    idempotency_key: IdempotencyKey = None,
) -> ScheduledSnipeView:
    snipe: Snipe
    if idempotency_key is None:
        snipe = scheduling.create_snipe(services, identity, request)
    else:
        snipe = idempotency.create_snipe_once(
            services,
            identity,
            request,
            key=idempotency_key,
            lambda_context=router.lambda_context,
        )
    return _scheduled_view(services, snipe)


@route(
    "GET",
    "/api/snipes",
    operation_id="listSnipes",
    summary="List your snipes",
    description=(
        "Newest first, one page at a time. Filters combine: `status`, and the"
        " auction's end (the plan's `end_at`) in [`ends_after`, `ends_before`)."
        " A filtered page is full unless it is the last (`next_cursor` null);"
        " a page cut short by the per-request scan bound still has a"
        " `next_cursor`. Keep the same filters while following the cursor."
    ),
    ok=json_response("One page of snipes", SnipeListView, examples.SNIPE_LIST_EXAMPLES),
    errors=(400, 422),
    descriptions={
        422: (
            "VALIDATION_FAILED (details.errors lists each field; a time"
            " without a zone too), INVALID_TIME_RANGE (ends_before is not"
            " after ends_after)"
        )
    },
)
def list_snipes(
    identity: CallerIdentity,
    services: AppServices,
    status: Annotated[
        SnipeStatus | None, Query(description="Only snipes in this status")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=scheduling.MAX_PAGE_SIZE, description="Page size")
    ] = scheduling.DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
    ends_after: Annotated[
        QueryDateTime | None,
        Query(
            description=(
                "Only snipes whose auction ends at or after this time (ISO 8601"
                " with a zone, e.g. 2026-05-01T00:00:00Z; 1970 to 2199)"
            ),
            examples=["2026-05-01T00:00:00Z"],
        ),
    ] = None,
    ends_before: Annotated[
        QueryDateTime | None,
        Query(
            description=(
                "Only snipes whose auction ends before this time (1970 to 2199)"
            ),
            examples=["2026-06-01T00:00:00Z"],
        ),
    ] = None,
) -> SnipeListView:
    page = scheduling.list_snipes(
        services,
        identity,
        status=status,
        limit=limit,
        cursor=cursor,
        ends_after=ends_after,
        ends_before=ends_before,
    )
    now = request_now(services)
    values = live.live_for_snipes(services, page.items)
    return SnipeListView(
        items=[
            SnipeView.of(s, now=now, live=values.get(s.snipe_id)) for s in page.items
        ],
        next_cursor=page.next_cursor,
        server_time=to_z(now),
    )


@route(
    "GET",
    "/api/snipes/<snipe_id>",
    operation_id="getSnipe",
    summary="Get one of your snipes",
    ok=json_response("The snipe", SnipeView, examples.SNIPE_EXAMPLES),
    errors=(404, 422),
)
def get_snipe(
    snipe_id: SnipeId, identity: CallerIdentity, services: AppServices
) -> SnipeView:
    return _view(services, scheduling.get_snipe(services, identity, snipe_id))


@route(
    "DELETE",
    "/api/snipes/<snipe_id>",
    operation_id="cancelSnipe",
    summary="Cancel a scheduled snipe",
    description=(
        "Only a SCHEDULED snipe can be cancelled; once the bid task has claimed it"
        " the answer is 409 SNIPE_ALREADY_BIDDING."
    ),
    ok=json_response(
        "The cancelled snipe", SnipeView, examples.CANCELLED_SNIPE_EXAMPLES
    ),
    errors=(404, 409, 422),
    descriptions={409: "SNIPE_ALREADY_BIDDING or SNIPE_ALREADY_FINISHED"},
)
def cancel_snipe(
    snipe_id: SnipeId, identity: CallerIdentity, services: AppServices
) -> SnipeView:
    return _view(services, scheduling.cancel_snipe(services, identity, snipe_id))


@route(
    "PATCH",
    "/api/snipes/<snipe_id>",
    operation_id="updateSnipe",
    summary="Change a scheduled snipe",
    description=(
        "Changes the max bid, the bid offset and/or the group of a SCHEDULED"
        " snipe in one conditional write: once the bid task has claimed the"
        " snipe the answer is 409 SNIPE_ALREADY_BIDDING, and the bid is placed"
        " with the max bid in force when it was claimed. A new max bid is"
        " checked like at creation (same currency, at least eBay's current"
        " minimum to bid). A new offset moves the wake-up: the snipe gets a new"
        " execution (`<snipe id>-v<n>`) and the old one is stopped."
        " `group_id: null` leaves the group; `warnings` lists members of the"
        " group ending within 30 s of this snipe."
    ),
    ok=json_response(
        "The changed snipe, with warnings about its group",
        ScheduledSnipeView,
        examples.EDITED_SNIPE_EXAMPLES,
    ),
    json_body=True,
    errors=(404, 409, 413, 415, 502),
    descriptions={404: _EDIT_404, 409: _EDIT_409, 422: _EDIT_422},
)
def edit_snipe(
    snipe_id: SnipeId,
    request: Annotated[EditSnipeRequest, Body(openapi_examples=examples.EDIT_EXAMPLES)],
    identity: CallerIdentity,
    services: AppServices,
) -> ScheduledSnipeView:
    snipe = scheduling.edit_snipe(services, identity, snipe_id, request)
    return _scheduled_view(services, snipe)


def _view(services: AppServices, snipe: Snipe) -> SnipeView:
    values = live.live_for_snipes(services, [snipe])
    now = request_now(services)
    return SnipeView.of(snipe, now=now, live=values.get(snipe.snipe_id))


def _scheduled_view(services: AppServices, snipe: Snipe) -> ScheduledSnipeView:
    return ScheduledSnipeView.with_warnings(
        _view(services, snipe), scheduling.group_warnings(services, snipe)
    )
