"""Routes under ``/api/ebay``: link, inspect and unlink the caller's eBay account.

Thin adapters to ``workflows.linking``. The web app calls ``GET /connect``,
sends the browser to the returned URL, and eBay redirects to the app's accept
URL (the RuName's) with ``code`` and ``state``; the app passes both to
``POST /callback``. No route ever returns a token.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import examples
from api.models import EbayConnectView, EbayLinkView, EbayUnlinkView
from api.params import AppServices, CallerIdentity
from api.responses import json_response
from api.routes import Routes
from workflows import linking
from workflows.linking import EbayCallbackRequest, LinkStatus
from workflows.timing import to_z

router = Router()  # type: ignore[no-untyped-call]  # untyped __init__
route = Routes(router, "eBay account")


_CALLBACK_400 = (
    "INVALID_STATE (malformed, tampered with or issued to another user),"
    " STATE_EXPIRED, STATE_ALREADY_USED, EBAY_CODE_REJECTED (eBay's invalid_grant:"
    " the code expired, was used, or comes from another eBay environment)"
)


def _link_view(status: LinkStatus) -> EbayLinkView:
    return EbayLinkView(
        linked=status.linked,
        linked_at=to_z(status.linked_at) if status.linked_at else None,
        refresh_expires_at=to_z(status.refresh_expires_at)
        if status.refresh_expires_at
        else None,
        needs_reconnect=status.needs_reconnect,
    )


@route(
    "GET",
    "/api/ebay/connect",
    operation_id="connectEbay",
    summary="Start linking your eBay account",
    description=(
        "eBay's consent URL (scope buy.offer.auction) with a signed, single-use"
        " state bound to you that expires in 10 minutes."
    ),
    ok=json_response(
        "The consent URL and its state", EbayConnectView, examples.EBAY_CONNECT_EXAMPLES
    ),
)
def connect(identity: CallerIdentity, services: AppServices) -> EbayConnectView:
    result = linking.connect_url(services, identity)
    return EbayConnectView(
        url=result.url, state=result.state, expires_at=to_z(result.expires_at)
    )


@route(
    "POST",
    "/api/ebay/callback",
    operation_id="completeEbayConnect",
    summary="Finish linking your eBay account",
    description=(
        "Checks the state, exchanges eBay's authorization code and stores the"
        " authorization (encrypted). Answers the link status, never a token."
    ),
    ok=json_response(
        "The account is linked", EbayLinkView, examples.EBAY_LINK_EXAMPLES
    ),
    json_body=True,
    errors=(415, 502),
    descriptions={400: _CALLBACK_400},
)
def callback(
    request: Annotated[
        EbayCallbackRequest, Body(openapi_examples=examples.EBAY_CALLBACK_EXAMPLES)
    ],
    identity: CallerIdentity,
    services: AppServices,
) -> EbayLinkView:
    status = linking.complete_link(services, identity, request.code, request.state)
    return _link_view(status)


@route(
    "GET",
    "/api/ebay/status",
    operation_id="getEbayStatus",
    summary="Your eBay link",
    ok=json_response(
        "Linked or not, and until when", EbayLinkView, examples.EBAY_LINK_EXAMPLES
    ),
)
def status(identity: CallerIdentity, services: AppServices) -> EbayLinkView:
    return _link_view(linking.link_status(services, identity))


@route(
    "DELETE",
    "/api/ebay/connection",
    operation_id="unlinkEbay",
    summary="Unlink your eBay account",
    description=(
        "Deletes the stored eBay authorization. Your SCHEDULED snipes end SKIPPED"
        " with reason EBAY_NOT_LINKED; snipes already bidding finish on their own."
        " Unlinking twice is not an error."
    ),
    ok=json_response("Unlinked", EbayUnlinkView, examples.EBAY_UNLINK_EXAMPLES),
)
def disconnect(identity: CallerIdentity, services: AppServices) -> EbayUnlinkView:
    result = linking.unlink(services, identity)
    return EbayUnlinkView(
        unlinked=True,
        was_linked=result.was_linked,
        skipped_snipes=result.skipped_snipes,
    )
