"""Task ``notify``: make sure the snipe has a final status, then email the user.

On a failure path the state machine passes ``$.failure`` (Error/Cause); if the
failing task did not already record a final status, it is recorded here as
FAILED with a reason derived from the error name (``RESULT_UNKNOWN`` when a bid
may be on eBay: the snipe was BIDDING or BID_PLACED).

The output says whether the ending is a *system failure* (``system_failure``,
``error`` = the reason code, ``cause``): the state machine ends those in its
Fail state, and every market outcome (WON, LOST, SKIPPED, eBay refusing the
bid) in its Succeed state, so a failed execution always means something is
broken.

Emails are at least once: a send whose answer is lost (Postmark 5xx or a
timeout after it accepted the message) is retried by the state machine and may
reach the user twice; a definite answer (sent, or a 4xx rejection) is recorded
and never sent again (``docs/reliability.md``). While the result check says the
auction is not settled (``$.result.settled`` false), Notify sends the one
"result pending" email instead when it is due, at most once: it is claimed on
the snipe before the send and never retried. Postmark 4xx (e.g. 406
inactive recipient) is recorded on the snipe and does not fail it; 429/5xx raise
``EmailUnavailable`` for the state machine to retry.

The user's notification preferences (``GET/PUT /api/me/preferences``) may turn
an outcome's email off: the snipe then records the notification ``SUPPRESSED``
and nothing is sent; the final status is the same either way.
"""

from __future__ import annotations

import contextlib
import html
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from workflows import postmark
from workflows.errors import EmailUnavailable, TransitionRejected
from workflows.failure_metrics import count_failed
from workflows.models import (
    ACTIVE_STATUSES,
    BID_CLAIMED_STATUSES,
    REASON_TEXT,
    NotificationRecord,
    NotificationStatus,
    Reason,
    Snipe,
    SnipeStatus,
)
from workflows.observability import logger
from workflows.services import Services

# Step Functions error name -> reason, for failures no task recorded itself.
_FAILURE_REASONS: dict[str, Reason] = {
    "EbayUnavailable": Reason.EBAY_UNAVAILABLE,
    "BidOutcomeUnknown": Reason.RESULT_UNKNOWN,
}


class Failure(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class CheckSummary(BaseModel):
    """The part of *Check result*'s output (``$.result``) Notify acts on."""

    model_config = ConfigDict(extra="ignore")

    settled: bool = True
    recheck_at: str | None = None
    pending_email: bool = False
    active_elsewhere: bool = False


class NotifyInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    snipe_id: str
    failure: Failure | None = None
    result: CheckSummary | None = None
    # An operator's re-send (``python -m ops resend-email``): email a final
    # snipe again even if an email was recorded; never touches its status.
    resend: bool = False


class ResendRefused(Exception):
    """A re-send was asked for a snipe whose result is not final."""


class EmailOutcome(StrEnum):
    SENT = "SENT"
    REJECTED = "REJECTED"
    ALREADY_SENT = "ALREADY_SENT"
    NOT_SENT = "NOT_SENT"
    SUPPRESSED = "SUPPRESSED"  # the user's preferences turned this outcome off


# FAILED reasons that are system failures (the execution fails). Every other
# ending, FAILED because eBay refused the bid included, is a market outcome.
SYSTEM_FAILURES = frozenset(
    {
        Reason.BID_WINDOW_MISSED,
        Reason.BID_NOT_PLACED,
        Reason.EBAY_UNAVAILABLE,
        Reason.EBAY_AUTH_FAILED,
        Reason.RESULT_UNKNOWN,
        Reason.INTERNAL_ERROR,
    }
)


class NotifyOutput(BaseModel):
    status: SnipeStatus
    reason: Reason | None = None
    email: EmailOutcome
    message_id: str | None = None
    # For the state machine's "Final status?" choice: always present.
    settled: bool = True
    recheck_at: str | None = None
    active_elsewhere: bool = False
    system_failure: bool = False
    error: str | None = None
    cause: str | None = None

    @classmethod
    def of(
        cls, snipe: Snipe, email: EmailOutcome, message_id: str | None = None
    ) -> NotifyOutput:
        failed = snipe.status is SnipeStatus.FAILED and (
            snipe.reason is None or snipe.reason in SYSTEM_FAILURES
        )
        reason = snipe.reason or Reason.INTERNAL_ERROR
        return cls(
            status=snipe.status,
            reason=snipe.reason,
            email=email,
            message_id=message_id,
            system_failure=failed,
            error=reason.value if failed else None,
            cause=(
                f"Snipe {snipe.snipe_id} ended FAILED ({reason.value}): "
                f"{REASON_TEXT[reason]}"
                if failed
                else None
            ),
        )


class PendingOutput(BaseModel):
    email: EmailOutcome


def finish_and_notify(services: Services, request: NotifyInput) -> NotifyOutput:
    if request.resend:
        snipe = services.store.get(request.snipe_id)
        if not snipe.status.is_final:
            raise ResendRefused(f"snipe is {snipe.status}; no result to email yet")
        logger.info("result email re-sent by an operator")
        return _email_final(services, snipe, resend=True)
    check = request.result
    if check is not None and check.active_elsewhere:
        snipe = services.store.get(request.snipe_id)
        return NotifyOutput(
            status=snipe.status, email=EmailOutcome.NOT_SENT, active_elsewhere=True
        )
    if check is not None and not check.settled:
        # eBay has not reported the result yet: maybe the one "result
        # pending" email, then the state machine waits and checks again.
        snipe = services.store.get(request.snipe_id)
        email = EmailOutcome.NOT_SENT
        if check.pending_email:
            email = notify_pending(services, snipe).email
        return NotifyOutput(
            status=snipe.status,
            email=email,
            settled=False,
            recheck_at=check.recheck_at,
        )
    snipe = _ensure_final(services, request)
    return _email_final(services, snipe, resend=False)


def _email_final(services: Services, snipe: Snipe, *, resend: bool) -> NotifyOutput:
    """Email the final outcome (once; again when ``resend``)."""
    if snipe.status is SnipeStatus.CANCELLED:
        return NotifyOutput.of(snipe, EmailOutcome.NOT_SENT)
    if snipe.notification is not None and not resend:
        suppressed = snipe.notification.status is NotificationStatus.SUPPRESSED
        return NotifyOutput.of(
            snipe,
            EmailOutcome.SUPPRESSED if suppressed else EmailOutcome.ALREADY_SENT,
            snipe.notification.message_id,
        )
    if not services.store.get_preferences(snipe.user_id).emails(snipe.status):
        logger.info("email turned off by the user", extra={"status": snipe.status})
        suppressed_record = NotificationRecord(
            status=NotificationStatus.SUPPRESSED, at=services.now()
        )
        _record(services, snipe, suppressed_record)
        return NotifyOutput.of(snipe, EmailOutcome.SUPPRESSED)

    message = compose_email(snipe, services.settings.email_from)
    try:
        result = services.postmark.send(message)
    except postmark.PostmarkRejected as exc:
        logger.warning(
            "Postmark rejected the email",
            extra={"http_status": exc.http_status, "error_code": exc.error_code},
        )
        record = NotificationRecord(
            status=NotificationStatus.REJECTED,
            error_code=exc.error_code,
            detail=f"HTTP {exc.http_status}",
            at=services.now(),
        )
        _record(services, snipe, record)
        return NotifyOutput.of(snipe, EmailOutcome.REJECTED)
    except postmark.PostmarkError as exc:  # 429/5xx/timeout or a garbled answer
        raise EmailUnavailable(f"Postmark unavailable ({type(exc).__name__})") from exc
    record = NotificationRecord(
        status=NotificationStatus.SENT, message_id=result.message_id, at=services.now()
    )
    _record(services, snipe, record)
    return NotifyOutput.of(snipe, EmailOutcome.SENT, result.message_id)


def notify_pending(services: Services, snipe: Snipe) -> PendingOutput:
    """The one "result pending" email: claimed on the snipe, then sent once.

    The claim is a conditional write (no ``pending_notice`` yet, still
    BIDDING/BID_PLACED), so two invocations cannot both send; a send that
    fails is not retried (at most once; the final email still follows).
    ``snipe`` is as just read; the claim's condition guards against a newer one.
    """
    if snipe.pending_notice is not None or snipe.status not in BID_CLAIMED_STATUSES:
        return PendingOutput(email=EmailOutcome.ALREADY_SENT)
    claim = NotificationRecord(status=NotificationStatus.ATTEMPTED, at=services.now())
    try:
        services.store.claim_pending_notice(snipe, claim.model_dump(mode="json"))
    except TransitionRejected:
        return PendingOutput(email=EmailOutcome.ALREADY_SENT)
    preferences = services.store.get_preferences(snipe.user_id)
    if not (
        preferences.emails(SnipeStatus.WON) or preferences.emails(SnipeStatus.LOST)
    ):
        return PendingOutput(email=EmailOutcome.SUPPRESSED)
    message = compose_pending_email(snipe, services.settings.email_from)
    try:
        result = services.postmark.send(message)
    except postmark.PostmarkError as exc:
        logger.warning(
            "result pending email not sent", extra={"error": type(exc).__name__}
        )
        return PendingOutput(email=EmailOutcome.NOT_SENT)
    sent = NotificationRecord(
        status=NotificationStatus.SENT, message_id=result.message_id, at=services.now()
    )
    # If the status moved meanwhile the claim record stays; the email went out.
    with contextlib.suppress(TransitionRejected):
        services.store.record_fields(
            snipe, {"pending_notice": sent.model_dump(mode="json")}
        )
    return PendingOutput(email=EmailOutcome.SENT)


def _ensure_final(services: Services, request: NotifyInput) -> Snipe:
    snipe = services.store.get(request.snipe_id)
    if snipe.status.is_final:
        return snipe
    reason = Reason.INTERNAL_ERROR
    if request.failure is not None:
        reason = _FAILURE_REASONS.get(request.failure.error, Reason.INTERNAL_ERROR)
    if snipe.status in BID_CLAIMED_STATUSES:
        # A bid may be on eBay and the result check could not tell: we do not
        # know, and say so (never "failed" as if no bid had gone out).
        reason = Reason.RESULT_UNKNOWN
    if request.failure is not None:
        logger.warning(
            "snipe failed", extra={"error": request.failure.error, "reason": reason}
        )
    else:
        logger.error(
            "notify reached with an active snipe", extra={"status": snipe.status}
        )
    try:
        snipe = services.store.end(
            snipe, SnipeStatus.FAILED, reason, allowed_from=ACTIVE_STATUSES
        )
    except TransitionRejected:  # another writer finished it meanwhile
        return services.store.get(request.snipe_id)
    count_failed(reason)
    return snipe


def _record(services: Services, snipe: Snipe, record: NotificationRecord) -> None:
    services.store.record_fields(
        snipe, {"notification": record.model_dump(mode="json")}
    )


def compose_pending_email(snipe: Snipe, from_address: str) -> postmark.EmailMessage:
    title = snipe.item.title
    lines = [
        f"Your snipe on “{title}” was sent to eBay, but eBay has not reported the"
        " auction's result yet.",
        "We keep asking and will email you the final result (for up to 24 hours).",
        f"Your maximum bid was {snipe.max_bid}.",
    ]
    return _message(
        snipe, from_address, f"Result pending: {title}", lines, tag="snipe-pending"
    )


def compose_email(snipe: Snipe, from_address: str) -> postmark.EmailMessage:
    title = snipe.item.title
    price = snipe.result.final_price if snipe.result else None
    lines: list[str]
    if snipe.status is SnipeStatus.WON:
        subject = f"You won: {title}"
        lines = [f"You won “{title}” for {price}." if price else f"You won “{title}”."]
        lines.append(f"Your maximum bid was {snipe.max_bid}.")
    elif snipe.status is SnipeStatus.LOST:
        subject = f"Outbid: {title}"
        sold = f" It sold for {price}." if price else ""
        lines = [f"You did not win “{title}”.{sold}"]
        lines.append(f"Your maximum bid was {snipe.max_bid}.")
    else:
        verb = "was skipped" if snipe.status is SnipeStatus.SKIPPED else "failed"
        subject = f"Snipe {verb}: {title}"
        reason = snipe.reason or Reason.INTERNAL_ERROR
        lines = [f"Your snipe on “{title}” {verb}: {REASON_TEXT[reason]} ({reason})"]
        if reason is Reason.EBAY_RECONNECT_REQUIRED:
            lines.append(
                "Reconnect your eBay account in the app (Settings → eBay) so that "
                "your other snipes can bid."
            )
        lines.append(f"Your maximum bid was {snipe.max_bid}.")
    if snipe.bid is not None:
        lines.append(
            f"Our bid reached eBay {snipe.bid.fire_error_ms:+.1f} ms from the planned "
            "time."
        )
    tag = f"snipe-{snipe.status.value.lower()}"
    return _message(snipe, from_address, subject, lines, tag=tag)


def _message(
    snipe: Snipe, from_address: str, subject: str, lines: list[str], *, tag: str
) -> postmark.EmailMessage:
    """The email of ``lines`` (and the listing and snipe id), text and HTML."""
    if snipe.item.item_url:
        lines.append(f"Listing: {snipe.item.item_url}")
    lines.append(f"Snipe id: {snipe.snipe_id}")
    text = "\n\n".join(lines)
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return postmark.EmailMessage(
        from_address=from_address,
        to=snipe.user_email,
        subject=subject,
        text_body=text,
        html_body=f"<html><body>{body}</body></html>",
        tag=tag,
        metadata={"snipe_id": snipe.snipe_id},
    )
