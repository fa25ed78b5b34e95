"""The user's eBay access token: refreshed server-side, cached in the store.

Token values stay inside this module, the store and the eBay client. What a task
returns to Step Functions says only whether the token is ready and until when.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import AwareDatetime, BaseModel

from workflows import ebay
from workflows.errors import EbayReconnectRequired, EbayUnavailable, SnipeNotActive
from workflows.models import (
    ACTIVE_STATUSES,
    EbayAccess,
    EbayAccount,
    Reason,
    Snipe,
    SnipeStatus,
)
from workflows.observability import logger
from workflows.services import Services

# eBay's reference client treats tokens as expired 5 minutes early.
EXPIRY_MARGIN = timedelta(minutes=5)


class TokenStatus(BaseModel):
    status: str  # CACHED | REFRESHED
    expires_at: AwareDatetime


def user_access_token(
    services: Services, snipe: Snipe, *, valid_until: datetime
) -> tuple[ebay.AccessToken, str]:
    """A user token valid until ``valid_until`` (+ margin): cached or refreshed.

    Returns the token and ``"CACHED"`` or ``"REFRESHED"``. On a revoked refresh
    token the snipe ends SKIPPED (EBAY_RECONNECT_REQUIRED; EBAY_NOT_LINKED when
    the user unlinked) and ``EbayReconnectRequired`` is raised; a snipe whose
    bid was already placed ends FAILED (RESULT_UNKNOWN) instead.
    """
    # The common path opens only the cached access token (one KMS call); the
    # refresh token is opened only when a refresh is due.
    access = _require_link(
        services, snipe, services.store.get_ebay_access(snipe.user_id)
    )
    if access.access_token and access.access_expires_at:
        cached = ebay.AccessToken(
            value=access.access_token, expires_at=access.access_expires_at
        )
        if cached.expires_at - EXPIRY_MARGIN > valid_until:
            return cached, "CACHED"
    account = _require_link(
        services, snipe, services.store.get_ebay_account(snipe.user_id)
    )
    try:
        token = services.ebay.refresh_user_token(account.refresh_token)
    except ebay.EbayInvalidGrant as exc:
        logger.warning("eBay refused the refresh token", extra={"user": snipe.user_id})
        services.store.mark_needs_reconnect(snipe.user_id)
        _skip(services, snipe, Reason.EBAY_RECONNECT_REQUIRED)
        raise EbayReconnectRequired(
            Reason.EBAY_RECONNECT_REQUIRED.value, "eBay refused the refresh token"
        ) from exc
    except ebay.EbayUnavailable as exc:
        raise EbayUnavailable("eBay's token endpoint is unavailable") from exc
    services.store.cache_access_token(snipe.user_id, token.value, token.expires_at)
    return token, "REFRESHED"


_Link = TypeVar("_Link", EbayAccess, EbayAccount)


def _require_link(services: Services, snipe: Snipe, link: _Link | None) -> _Link:
    """No link, or one eBay refused: the snipe ends and the task raises."""
    if link is None or link.needs_reconnect:
        reason = (
            Reason.EBAY_NOT_LINKED if link is None else Reason.EBAY_RECONNECT_REQUIRED
        )
        _skip(services, snipe, reason)
        raise EbayReconnectRequired(reason.value, "no usable eBay authorization")
    return link


def _skip(services: Services, snipe: Snipe, reason: Reason) -> None:
    if snipe.status in ACTIVE_STATUSES:
        # A bid already sent stays on eBay (e.g. the user unlinked after it):
        # nothing was skipped, the result just cannot be read any more.
        placed = snipe.status is SnipeStatus.BID_PLACED or (
            snipe.status is SnipeStatus.BIDDING and bool(snipe.bid_sends)
        )
        services.store.transition(
            snipe.snipe_id,
            allowed_from=ACTIVE_STATUSES,
            to=SnipeStatus.FAILED if placed else SnipeStatus.SKIPPED,
            reason=Reason.RESULT_UNKNOWN if placed else reason,
            user_id=snipe.user_id,
        )


def refresh_for_snipe(services: Services, snipe_id: str) -> TokenStatus:
    """Task ``refresh_token``: cache a user token valid past the settle time."""
    snipe = services.store.get(snipe_id)
    if snipe.status is not SnipeStatus.SCHEDULED:
        raise SnipeNotActive(f"snipe is {snipe.status}; nothing to do")
    token, how = user_access_token(services, snipe, valid_until=snipe.plan.settle_at)
    logger.info("eBay user token ready", extra={"token_status": how})
    return TokenStatus(status=how, expires_at=token.expires_at)
