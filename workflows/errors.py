"""Domain errors.

Two families live here:

* Errors the API maps to HTTP responses (``ApiError`` subclasses carry an HTTP
  status and a machine-readable ``code``).
* Errors a task Lambda raises to Step Functions. The exception *class name* is the
  Step Functions error name that ``Retry``/``Catch`` match in
  ``statemachines/snipe.asl.json``; renaming a class is a breaking change for the
  state machine (``tests/unit/test_template.py`` guards this).

Messages never contain tokens, secrets or Authorization headers.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with an HTTP status and a stable, machine-readable code."""

    status: int = 400
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


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"


class Unprocessable(ApiError):
    status = 422
    code = "UNPROCESSABLE"


class UpstreamUnavailable(ApiError):
    """A dependency (eBay) failed transiently; the client may retry."""

    status = 502
    code = "EBAY_UNAVAILABLE"


class ServiceUnavailable(ApiError):
    """Our own storage or workflow engine is throttled or unavailable."""

    status = 503
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


# --- task errors: class name == Step Functions error name ----------------------


class TaskError(Exception):
    """Base of errors a task raises to the state machine."""


class SnipeNotActive(TaskError):
    """The snipe left SCHEDULED (e.g. cancelled) before the bid task claimed it.

    The state machine ends quietly: no bid, no email.
    """


class EbayUnavailable(TaskError):
    """eBay answered 5xx/429 or timed out. Transient: the state machine retries."""


class BidOutcomeUnknown(TaskError):
    """The bid may have reached eBay but its outcome could not be confirmed
    before the end (lost answer, reset after the write, 5xx, getBidding down).

    Never a failure of the snipe: the state machine asks eBay after the end
    (*Check result*), which records what really happened.
    """


class EmailUnavailable(TaskError):
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


# Error names the state machine retries: only transient ones.
TRANSIENT_TASK_ERRORS = (
    EbayUnavailable,
    EmailUnavailable,
)
