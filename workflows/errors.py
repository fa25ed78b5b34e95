"""Domain errors.

Two families live here:

* Domain errors (``DomainError`` subclasses) carry a stable, machine-readable
  ``code``, a message and details, and no HTTP status: the API's one error map
  (``api/errors.py``) gives each family its status. The rule is written in
  ``docs/architecture.md`` ("Errors").
* Errors a task Lambda raises to Step Functions. The exception *class name* is the
  Step Functions error name that ``Retry``/``Catch`` match in
  ``statemachines/snipe.asl.json``; renaming a class is a breaking change for the
  state machine (``tests/unit/test_template.py`` guards this).

Messages never contain tokens, secrets or Authorization headers.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a stable, machine-readable code (no HTTP status)."""

    code: str = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}


# The former name, kept while branches written against it merge.
ApiError = DomainError


class Unauthorized(DomainError):
    code = "UNAUTHORIZED"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class Unprocessable(DomainError):
    code = "UNPROCESSABLE"


class UpstreamUnavailable(DomainError):
    """A dependency (eBay) failed transiently; the client may retry."""

    code = "EBAY_UNAVAILABLE"


class ServiceUnavailable(DomainError):
    """Our own storage or workflow engine is throttled or unavailable."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after_seconds: int = 2) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


# --- store-level errors (raised by workflows.store, mapped by callers) ---------


class SnipeNotFound(NotFound):
    code = "SNIPE_NOT_FOUND"


class GroupNotFound(NotFound):
    """No such group, or another user's (``workflows.groups``)."""

    code = "GROUP_NOT_FOUND"


class WinsWantedTooLow(Conflict):
    """``wins_wanted`` may not go below the group's slots in use (won or bidding)."""

    code = "WINS_WANTED_TOO_LOW"


class TransitionRejected(Exception):
    """A conditional status write failed: the snipe is not in an allowed state."""

    def __init__(self, snipe_id: str, current_status: str | None) -> None:
        super().__init__(
            f"snipe {snipe_id} is {current_status or 'missing'}; transition refused"
        )
        self.snipe_id = snipe_id
        self.current_status = current_status


class StoreUnavailable(ServiceUnavailable):
    """DynamoDB throttled the request or is unavailable."""

    code = "STORE_UNAVAILABLE"


class AppSecretsUnavailable(RuntimeError):
    """The app secrets cannot be read or are not valid (no value in the message).

    Raised by a task at cold start; transient, the state machine retries it.
    """


class WorkflowUnavailable(ServiceUnavailable):
    """Step Functions throttled the request or is unavailable."""

    code = "WORKFLOW_UNAVAILABLE"


# --- use-case errors (workflows.scheduling, workflows.linking, the store) ------


class InvalidItemId(Unprocessable):
    code = "INVALID_ITEM_ID"


class ItemNotFound(NotFound):
    code = "ITEM_NOT_FOUND"


class NotAnAuction(Unprocessable):
    code = "NOT_AN_AUCTION"


class AuctionEnded(Conflict):
    code = "AUCTION_ENDED"


class AuctionEndingTooSoon(Conflict):
    code = "AUCTION_ENDING_TOO_SOON"


class CurrencyMismatch(Unprocessable):
    code = "CURRENCY_MISMATCH"


class MaxBidTooLow(Unprocessable):
    code = "MAX_BID_TOO_LOW"


class EbayNotLinked(Conflict):
    code = "EBAY_NOT_LINKED"


class EbayRelinkRequired(Conflict):
    """eBay refused the stored authorization; the user has to link again."""

    code = "EBAY_RECONNECT_REQUIRED"


class EbayBadResponse(UpstreamUnavailable):
    """eBay answered, but not with anything usable (protocol or auth problem)."""

    code = "EBAY_ERROR"


class SnipeAlreadyBidding(Conflict):
    code = "SNIPE_ALREADY_BIDDING"


class SnipeAlreadyFinished(Conflict):
    code = "SNIPE_ALREADY_FINISHED"


class InvalidTimeRange(Unprocessable):
    code = "INVALID_TIME_RANGE"


class SnipeModified(Conflict):
    """Concurrent edits kept changing the snipe; read it again and retry."""

    code = "SNIPE_MODIFIED"


class TooManyActiveSnipes(DomainError):
    """The user already has ``Settings.max_active_snipes_per_user`` active snipes."""

    code = "TOO_MANY_ACTIVE_SNIPES"


class InvalidState(DomainError):
    """The state is malformed, tampered with, or was issued to another user."""

    code = "INVALID_STATE"


class StateExpired(DomainError):
    code = "STATE_EXPIRED"


class StateAlreadyUsed(DomainError):
    code = "STATE_ALREADY_USED"


class EbayCodeRejected(DomainError):
    """eBay's ``invalid_grant`` for the authorization code."""

    code = "EBAY_CODE_REJECTED"


class InvalidCursor(DomainError):
    code = "INVALID_CURSOR"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"


# --- task errors: class name == Step Functions error name ----------------------


class TaskError(Exception):
    """Base of errors a task raises to the state machine."""


class SnipeNotActive(TaskError):
    """The snipe left SCHEDULED (e.g. cancelled) before the bid task claimed it.

    The state machine ends quietly: no bid, no email.
    """


class TransientTaskError(TaskError):
    """Transient: the state machine's Retry lists name every subclass a task
    raises (``tests/unit/test_template.py`` checks both ways)."""


class EbayUnavailable(TransientTaskError):
    """eBay answered 5xx/429 or timed out. Transient: the state machine retries."""


class BidOutcomeUnknown(TaskError):
    """The bid may have reached eBay but its outcome could not be confirmed
    before the end (lost answer, reset after the write, 5xx, getBidding down).

    Never a failure of the snipe: the state machine asks eBay after the end
    (*Check result*), which records what really happened.
    """


class EmailUnavailable(TransientTaskError):
    """Postmark answered 429/5xx or timed out. Retried by the state machine."""


class SnipeFailedPermanently(TaskError):
    """A permanent failure; the task has already recorded the final status.

    Subclasses name the kind of failure for the execution history.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class BidRejected(SnipeFailedPermanently):
    """eBay refused the bid (auction ended, too low, not eligible, ...)."""


class BidWindowMissed(SnipeFailedPermanently):
    """No bid could be placed before the auction ended."""


class SnipeSkipped(SnipeFailedPermanently):
    """The wake-time re-check found nothing worth bidding on (SKIPPED recorded)."""


class SnipeRescheduled(TaskError):
    """The auction's end moved later: a new execution took over the snipe.

    The state machine ends this execution quietly (*Snipe rescheduled*).
    """


class EbayReconnectRequired(SnipeFailedPermanently):
    """eBay refused the user's refresh token (revoked or expired)."""
