"""``GET /api/items/{ref}``: preview an eBay listing before sniping it
(``workflows.live``: shared 30 s cache, daily eBay budget, last known values
when eBay fails).

``ref`` is a RESTful item id (``v1|123456789012|0``), a legacy item number
or a URL-encoded listing URL. A listing URL has slashes, which no single path
segment may carry once API Gateway (or the local gateway) decodes the path:
``api.app.lambda_handler`` re-encodes everything after ``/api/items/`` into
one segment (``item_path``) and the route decodes it again.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from api import examples
from api.clock import request_now
from api.models import ItemPreview
from api.params import AppServices, CallerIdentity
from api.responses import json_response
from api.routes import Routes
from workflows import live, scheduling
from workflows.errors import EbayBadResponse, NotAnAuction
from workflows.scheduling import CreateSnipeRequest

router = Router()  # type: ignore[no-untyped-call]  # untyped __init__
route = Routes(router, "items")

PREFIX = "/api/items/"
# The offset a snipe gets when POST /api/snipes is not told one.
DEFAULT_OFFSET_SECONDS: int = CreateSnipeRequest.model_fields[
    "bid_offset_seconds"
].default

ItemRefPath = Annotated[
    str,
    Path(
        description=(
            "RESTful item id (v1|123456789012|0), legacy item number"
            " (123456789012) or URL-encoded listing URL"
        ),
        examples=["v1|123456789012|0"],
    ),
]


def item_path(path: str) -> str:
    """``/api/items/<anything>`` with ``<anything>`` as one encoded segment."""
    if not path.startswith(PREFIX) or len(path) == len(PREFIX):
        return path
    return PREFIX + quote(path[len(PREFIX) :], safe="")


def _decoded(ref: str) -> str:
    """Undo every layer of percent-encoding (at most a few)."""
    for _ in range(4):
        decoded = unquote(ref)
        if decoded == ref:
            break
        ref = decoded
    return ref


@route(
    "GET",
    "/api/items/<ref>",
    operation_id="getItem",
    summary="Preview an eBay listing",
    description=(
        "Title, image, current price, minimum bid, bid count, end time and time"
        " left, and whether a snipe can be scheduled on it (and why not)."
        " Values are at most 30 s old; when eBay cannot be read they are the"
        " last known ones (see `as_of` and `age_seconds`)."
    ),
    ok=json_response("The listing now", ItemPreview, examples.ITEM_PREVIEW_EXAMPLES),
    errors=(404, 422, 502),
    descriptions={
        404: "eBay has no such item (ITEM_NOT_FOUND)",
        422: ("Not an item id, item number or eBay listing URL (INVALID_ITEM_ID)"),
        502: "eBay unavailable and nothing known about the item yet",
        503: (
            "EBAY_BUDGET_EXHAUSTED (today's eBay calls for previews are"
            " spent), STORE_UNAVAILABLE"
        ),
    },
)
def get_item(
    ref: ItemRefPath, identity: CallerIdentity, services: AppServices
) -> ItemPreview:
    item = live.preview_item(services, _decoded(ref))
    now = request_now(services)
    earliest_end = scheduling.earliest_end_for(services, DEFAULT_OFFSET_SECONDS, now)
    if item.end_at is None and "AUCTION" not in item.buying_options:
        # A fixed-price listing without an end (good 'til cancelled): there
        # is no end time to show, and nothing to snipe.
        raise NotAnAuction(
            "the listing is not an auction and has no end time",
            details={"buying_options": list(item.buying_options)},
        )
    try:
        return ItemPreview.of(item, now=now, earliest_end=earliest_end)
    except ValueError as exc:
        raise EbayBadResponse("eBay returned an incomplete listing") from exc
