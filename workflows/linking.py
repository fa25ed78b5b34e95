"""Linking a user's eBay account: consent URL, callback, status, unlink, warnings.

No HTTP types here (``api/ebay.py`` adapts these use cases), and no token value
ever leaves this module except into the store and the eBay client.

The ``state`` of the consent flow
---------------------------------
``connect_url`` returns eBay's consent URL with a ``state`` of the form
``<nonce>.<exp>.<mac>``:

* ``nonce``: 128 random bits (base64url); recorded in the table
  (``OAUTHSTATE#<nonce>``, owner and expiry, DynamoDB TTL ``ttl``) so that
  it can be used once;
* ``exp``: expiry, epoch seconds, ``STATE_TTL`` (10 min) after issue;
* ``mac``: HMAC-SHA256 with ``state_signing_key`` (Secrets Manager) over
  ``ebay-link-state/v1|<user>|<nonce>|<exp>``.

The user id is bound by the MAC but not sent to eBay. ``complete_link`` checks,
in this order: the MAC against the *caller's* user id, in constant time (a
tampered state, or another user's, is 400 ``INVALID_STATE``); the expiry (400
``STATE_EXPIRED``); then it consumes the nonce with a conditional delete (a
replay is 400 ``STATE_ALREADY_USED``). Only then is the code exchanged, so a
state is spent even if the exchange fails: the user starts again from
``GET /api/ebay/connect`` (the code is single use at eBay anyway).

Unlinking
---------
``unlink`` deletes the link item (refresh token, cached access token), then ends
every SCHEDULED snipe of the user SKIPPED with reason ``EBAY_NOT_LINKED``
(conditional SCHEDULED -> SKIPPED, then its execution is stopped). No email is
sent for those: the user asked for it and the response counts them. Snipes
already BIDDING or BID_PLACED are left to their execution: without a link their
token step ends them SKIPPED ``EBAY_NOT_LINKED`` if no bid was sent yet; a bid
already sent stays on eBay and the result check, which can no longer read it,
ends the snipe FAILED ``RESULT_UNKNOWN`` (both emailed by the notify task). A
snipe created while the unlink runs meets the same token step when it wakes.

Expiry warnings
---------------
eBay refresh tokens live about 18 months. ``warn_expiring_links`` (the daily
``EbayTokenExpiryFunction``) emails every user whose refresh token expires
within ``EXPIRY_WARNING_WINDOW`` (14 days), once per expiry: the link records
the expiry it warned about, and a new link has a new expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict

from workflows import ebay, postmark
from workflows.errors import (
    EbayCodeRejected,
    EmailUnavailable,
    InvalidState,
    StateAlreadyUsed,
    StateExpired,
    TransitionRejected,
    UpstreamUnavailable,
)
from workflows.models import Reason, Snipe, SnipeStatus, text_field
from workflows.observability import logger, metrics
from workflows.services import Services

if TYPE_CHECKING:
    from workflows.models import Identity

STATE_TTL = timedelta(minutes=10)
EXPIRY_WARNING_WINDOW = timedelta(days=14)
SCOPES = (ebay.OFFER_SCOPE,)

_STATE_CONTEXT = b"ebay-link-state/v1"
_NONCE_BYTES = 16
_STATE_PATTERN = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
_UNLINK_PAGE = 100


# --- inputs and results --------------------------------------------------------


class EbayCallbackRequest(BaseModel):
    """What eBay appended to the accept URL, passed on by the web app."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Annotated[
        str,
        text_field(
            2048, "The `code` query parameter of eBay's redirect (URL-decoded or not)"
        ),
    ]
    state: Annotated[
        str,
        text_field(512, "The `state` query parameter of eBay's redirect, unchanged"),
    ]


@dataclass(frozen=True)
class ConnectUrl:
    url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkStatus:
    linked: bool
    linked_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    needs_reconnect: bool = False


@dataclass(frozen=True)
class UnlinkResult:
    was_linked: bool
    skipped_snipes: int


@dataclass(frozen=True)
class WarningRun:
    """What one run of the expiry warning job did."""

    expiring: int
    warned: int
    already_warned: int
    rejected: int
    failed: int


# --- the state -----------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(key: bytes, user_id: str, nonce: str, exp: int) -> str:
    message = b"|".join(
        (_STATE_CONTEXT, user_id.encode(), nonce.encode(), str(exp).encode())
    )
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


def _signing_key(services: Services) -> bytes:
    key = services.secrets.state_signing_key.get_secret_value().encode()
    if len(key) < 32:
        raise RuntimeError("the state signing key is missing or too short")
    return key


def sign_state(key: bytes, user_id: str, nonce: str, exp: int) -> str:
    """The ``state`` value for ``user_id`` (exposed for tests)."""
    return f"{nonce}.{exp}.{_mac(key, user_id, nonce, exp)}"


def _verify_state(key: bytes, user_id: str, state: str) -> tuple[str, int]:
    """The nonce and expiry of a state this API issued to ``user_id``."""
    match = _STATE_PATTERN.fullmatch(state)
    if match is None:
        raise InvalidState("the state is not one this API issued")
    nonce, exp_text, mac = match.groups()
    exp = int(exp_text)
    if not hmac.compare_digest(mac, _mac(key, user_id, nonce, exp)):
        raise InvalidState("the state is not one this API issued to you")
    return nonce, exp


# --- use cases -----------------------------------------------------------------


def connect_url(
    services: Services, identity: Identity, *, ttl: timedelta = STATE_TTL
) -> ConnectUrl:
    """eBay's consent URL with a fresh, signed, single-use state for the caller."""
    ru_name = services.settings.ebay_ru_name
    if not ru_name:
        raise RuntimeError("EBAY_RU_NAME is not configured")
    key = _signing_key(services)
    nonce = _b64(secrets.token_bytes(_NONCE_BYTES))
    exp = int((services.now() + ttl).timestamp())
    expires_at = datetime.fromtimestamp(exp, UTC)
    services.store.put_oauth_state(nonce, identity.user_id, expires_at)
    state = sign_state(key, identity.user_id, nonce, exp)
    url = services.ebay.consent_url(
        auth_base_url=services.settings.ebay_auth_base_url,
        redirect_uri=ru_name,
        state=state,
        scopes=SCOPES,
    )
    logger.info("eBay consent URL issued", extra={"state_expires_at": exp})
    return ConnectUrl(url=url, state=state, expires_at=expires_at)


def complete_link(
    services: Services, identity: Identity, code: str, state: str
) -> LinkStatus:
    """Check the state, exchange the code, store the refresh token."""
    nonce, exp = _verify_state(_signing_key(services), identity.user_id, state)
    if services.now().timestamp() >= exp:
        raise StateExpired(
            "the connection attempt has expired; connect your eBay account again"
        )
    if not services.store.consume_oauth_state(nonce, identity.user_id):
        raise StateAlreadyUsed(
            "this connection attempt was already used; connect your eBay account again"
        )
    try:
        tokens = services.ebay.exchange_code(
            _decoded(code), services.settings.ebay_ru_name
        )
    except ebay.EbayInvalidGrant as exc:
        logger.info("eBay refused the authorization code")
        raise EbayCodeRejected(
            "eBay did not accept the authorization code: it has expired, was"
            " already used, or was issued for another eBay environment or"
            " application. Connect your eBay account again."
        ) from exc
    except ebay.EbayUnavailable as exc:
        raise UpstreamUnavailable(
            "eBay is unavailable; connect your eBay account again shortly"
        ) from exc
    except ebay.EbayError as exc:
        logger.error(
            "unexpected answer from eBay's token endpoint",
            extra={"error": type(exc).__name__, "http_status": exc.http_status},
        )
        # Imported here, not at module level: the daily expiry task imports
        # this module for warn_expiring_links only, and workflows.scheduling
        # (with groups and recheck) is not otherwise on its path. The API,
        # which links accounts, has imported it already (api.auth).
        from workflows.errors import EbayBadResponse

        raise EbayBadResponse("eBay returned an unexpected answer") from exc
    services.store.put_ebay_account(
        identity.user_id, tokens.refresh_token, tokens.refresh_expires_at
    )
    services.store.set_ebay_link_email(identity.user_id, identity.email)
    metrics.add_metric(name="EbayAccountsLinked", unit="Count", value=1)
    logger.info("eBay account linked")
    return link_status(services, identity)


def link_status(services: Services, identity: Identity) -> LinkStatus:
    """Linked or not, until when, and whether the user must connect again."""
    link = services.store.ebay_link_status(identity.user_id)
    if link is None:
        return LinkStatus(linked=False)
    expires_at = link.refresh_expires_at
    expired = expires_at is not None and expires_at <= services.now()
    return LinkStatus(
        linked=True,
        linked_at=link.linked_at,
        refresh_expires_at=expires_at,
        needs_reconnect=link.needs_reconnect or expired,
    )


def unlink(services: Services, identity: Identity) -> UnlinkResult:
    """Delete the tokens; the user's SCHEDULED snipes end SKIPPED EBAY_NOT_LINKED."""
    was_linked = services.store.delete_ebay_account(identity.user_id)
    skipped = 0
    cursor: str | None = None
    while True:
        page, cursor = services.store.list_for_user(
            identity.user_id,
            status=SnipeStatus.SCHEDULED,
            limit=_UNLINK_PAGE,
            cursor=cursor,
        )
        skipped += sum(_skip_unlinked(services, snipe) for snipe in page)
        if cursor is None:
            break
    metrics.add_metric(name="EbayAccountsUnlinked", unit="Count", value=1)
    logger.info(
        "eBay account unlinked",
        extra={"was_linked": was_linked, "skipped_snipes": skipped},
    )
    return UnlinkResult(was_linked=was_linked, skipped_snipes=skipped)


def _skip_unlinked(services: Services, snipe: Snipe) -> bool:
    try:
        skipped = services.store.transition(
            snipe.snipe_id,
            allowed_from={SnipeStatus.SCHEDULED},
            to=SnipeStatus.SKIPPED,
            reason=Reason.EBAY_NOT_LINKED,
            user_id=snipe.user_id,
        )
    except TransitionRejected:  # claimed or cancelled meanwhile: its own path
        return False
    executions = services.executions
    if executions is not None:
        # Not at module level, see complete_link (unlinking is an API action).
        from workflows.executions import execution_arn_for

        arn = skipped.execution_arn or execution_arn_for(
            executions.state_machine_arn, skipped.snipe_id
        )
        try:
            executions.stop(arn, cause="eBay account unlinked by the user")
        except Exception:
            # A woken execution finds the snipe SKIPPED and ends quietly.
            logger.warning(
                "could not stop the execution; it will end on its own",
                extra={"snipe_id": skipped.snipe_id},
                exc_info=True,
            )
    logger.info("snipe skipped: eBay unlinked", extra={"snipe_id": snipe.snipe_id})
    return True


def _decoded(code: str) -> str:
    """The code as eBay issued it, also when passed still URL-encoded.

    eBay's codes contain ``^`` and ``#``, never ``%``; the redirect's query
    string carries them percent-encoded.
    """
    return unquote(code) if "%" in code else code


# --- expiry warnings ---------------------------------------------------------


def warn_expiring_links(
    services: Services, *, window: timedelta = EXPIRY_WARNING_WINDOW
) -> WarningRun:
    """Email every user whose refresh token expires within ``window``, once.

    Postmark refusing a recipient (4xx) counts as warned: it would refuse again
    tomorrow. A transient Postmark failure leaves the link unmarked and, after
    every other user was handled, raises ``EmailUnavailable`` so that the
    scheduled invocation is retried (already warned users are not emailed
    twice).
    """
    now = services.now()
    links = services.store.list_links_expiring_before(now + window)
    warned = already = rejected = failed = 0
    for link in links:
        expires_at = link.refresh_expires_at
        if expires_at is None:
            continue
        if link.expiry_warned_for == expires_at:
            already += 1
            continue
        if not link.email:
            logger.warning(
                "no address to warn about an expiring eBay link",
                extra={"user": link.user_id},
            )
            continue
        message = compose_expiry_email(
            link.email, expires_at, now, services.settings.email_from
        )
        try:
            services.postmark.send(message)
        except postmark.PostmarkRejected as exc:
            logger.warning(
                "Postmark rejected the expiry warning",
                extra={"http_status": exc.http_status, "error_code": exc.error_code},
            )
            rejected += 1
        except postmark.PostmarkError as exc:
            logger.warning(
                "expiry warning not sent; will retry",
                extra={"error": type(exc).__name__},
            )
            failed += 1
            continue
        else:
            warned += 1
        services.store.mark_expiry_warned(link.user_id, expires_at)
    run = WarningRun(
        expiring=len(links),
        warned=warned,
        already_warned=already,
        rejected=rejected,
        failed=failed,
    )
    metrics.add_metric(name="EbayExpiryWarningsSent", unit="Count", value=warned)
    logger.info("eBay link expiry warnings", extra=run.__dict__)
    if failed:
        raise EmailUnavailable(f"{failed} expiry warnings could not be sent")
    return run


def compose_expiry_email(
    to: str, expires_at: datetime, now: datetime, from_address: str
) -> postmark.EmailMessage:
    day = expires_at.astimezone(UTC).strftime("%d %B %Y")
    if expires_at <= now:
        subject = "Your eBay connection has expired: reconnect to keep sniping"
        lines = [
            f"eBay's authorization for your account expired on {day} (UTC). Your"
            " snipes cannot bid until you reconnect.",
        ]
    else:
        subject = f"Your eBay connection expires on {day}: reconnect to keep sniping"
        lines = [
            f"eBay's authorization for your account expires on {day} (UTC). After"
            " that your snipes cannot bid.",
        ]
    lines += [
        "Reconnect your eBay account in the app (Settings → eBay → Connect) and"
        " agree on eBay's page; it takes a minute. Your scheduled snipes stay as"
        " they are.",
        "We never see your eBay password: eBay asks for it on its own page.",
    ]
    text = "\n\n".join(lines)
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return postmark.EmailMessage(
        from_address=from_address,
        to=to,
        subject=subject,
        text_body=text,
        html_body=f"<html><body>{body}</body></html>",
        tag="ebay-link-expiring",
    )
