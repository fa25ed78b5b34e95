"""Routes under ``/api/snipes``: thin adapters from HTTP to ``workflows.scheduling``.

Each route gets the caller from the Cognito claims (``api.auth``), the services
through ``Depends(get_services)`` (tests swap them with
``app.dependency_overrides``), calls one use case and returns a view model.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api.auth import current_identity
from api.errors import error_responses
from api.models import SnipeListView, SnipeView
from workflows import scheduling
from workflows.models import SnipeStatus
from workflows.scheduling import CreateSnipeRequest, Identity
from workflows.services import Services, get_services

SECURITY_SCHEME = "CognitoIdToken"
SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
TAGS = ["snipes"]

router = Router()  # type: ignore[no-untyped-call]  # untyped __init__

CallerIdentity = Annotated[Identity, Depends(current_identity)]
AppServices = Annotated[Services, Depends(get_services)]
SnipeId = Annotated[
    str,
    Path(description="The snipe's id", examples=["snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"]),
]

_CREATE_422 = (
    "VALIDATION_FAILED (details.errors lists each field), INVALID_ITEM_ID,"
    " NOT_AN_AUCTION, CURRENCY_MISMATCH, MAX_BID_TOO_LOW (details.minimum_bid)"
)
_CREATE_409 = (
    "AUCTION_ENDED, AUCTION_ENDING_TOO_SOON (details.earliest_end_at),"
    " EBAY_NOT_LINKED, EBAY_RECONNECT_REQUIRED"
)


@router.post(
    "/api/snipes",
    status_code=HTTPStatus.CREATED,
    summary="Schedule a snipe",
    description=(
        "Looks the item up on eBay, refuses what cannot be sniped and schedules"
        " one workflow execution that bids `max_bid` `bid_offset_seconds` before"
        " the auction ends."
    ),
    tags=TAGS,
    security=SECURITY,
    responses={
        HTTPStatus.CREATED: {"description": "The scheduled snipe"},
        **error_responses(
            401,
            404,
            409,
            422,
            500,
            502,
            503,
            descriptions={
                404: "eBay has no such item (ITEM_NOT_FOUND)",
                409: _CREATE_409,
                422: _CREATE_422,
            },
        ),
    },
)
def create_snipe(
    request: Annotated[CreateSnipeRequest, Body()],
    identity: CallerIdentity,
    services: AppServices,
) -> SnipeView:
    return SnipeView.of(scheduling.create_snipe(services, identity, request))


@router.get(
    "/api/snipes",
    summary="List your snipes",
    description="Newest first, one page at a time.",
    tags=TAGS,
    security=SECURITY,
    responses={
        HTTPStatus.OK: {"description": "One page of snipes"},
        **error_responses(400, 401, 422, 500, 503),
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
    cursor: Annotated[
        str | None,
        Query(max_length=2048, description="next_cursor of the previous page"),
    ] = None,
) -> SnipeListView:
    page = scheduling.list_snipes(
        services, identity, status=status, limit=limit, cursor=cursor
    )
    return SnipeListView(
        items=[SnipeView.of(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/api/snipes/<snipe_id>",
    summary="Get one of your snipes",
    tags=TAGS,
    security=SECURITY,
    responses={
        HTTPStatus.OK: {"description": "The snipe"},
        **error_responses(401, 404, 422, 500, 503),
    },
)
def get_snipe(
    snipe_id: SnipeId, identity: CallerIdentity, services: AppServices
) -> SnipeView:
    return SnipeView.of(scheduling.get_snipe(services, identity, snipe_id))


@router.delete(
    "/api/snipes/<snipe_id>",
    summary="Cancel a scheduled snipe",
    description=(
        "Only a SCHEDULED snipe can be cancelled; once the bid task has claimed it"
        " the answer is 409 SNIPE_ALREADY_BIDDING."
    ),
    tags=TAGS,
    security=SECURITY,
    responses={
        HTTPStatus.OK: {"description": "The cancelled snipe"},
        **error_responses(
            401,
            404,
            409,
            422,
            500,
            503,
            descriptions={409: "SNIPE_ALREADY_BIDDING or SNIPE_ALREADY_FINISHED"},
        ),
    },
)
def cancel_snipe(
    snipe_id: SnipeId, identity: CallerIdentity, services: AppServices
) -> SnipeView:
    return SnipeView.of(scheduling.cancel_snipe(services, identity, snipe_id))
