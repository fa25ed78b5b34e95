"""What a redriven execution re-runs (issue 14, docs/operations.md "Redrive").

``RedriveExecution`` restarts a failed execution at the state that failed,
with that state's input. When that state is a Fail state, a redrive only
fails again; so the two failures an operator can fix later end in a *Task*
instead, and re-running that task does the right thing:

* the result email (*Notify user* has no Catch: after its retries the
  execution fails there with ``EmailUnavailable``; a redrive runs Notify
  again, which sends the email the snipe has not recorded as sent);
* a result eBay never reported (``RESULT_UNKNOWN``, after the patient
  re-checks of ``workflows.settlement``): after the user was told, *Check
  result after failure* asks eBay once more (:func:`recheck_unknown_result`).
  Still unknown, it raises :class:`RESULT_UNKNOWN`, so the execution fails
  there with the reason code as its error; a redrive asks eBay again and, if
  eBay now knows, records the truth (WON, LOST, or the FAILED reason eBay's
  answer implies) and *Notify user* emails it.

Safe for cancelled and superseded snipes: anything but a FAILED
``RESULT_UNKNOWN`` snipe is answered as recorded, and Notify never sends for a
CANCELLED snipe nor twice for a recorded email.
"""

from __future__ import annotations

from pydantic import BaseModel

from workflows.errors import TransitionRejected
from workflows.models import Reason, SnipeStatus
from workflows.observability import logger
from workflows.services import Services
from workflows.settlement import CheckResultInput, CheckResultOutput, check_result


class ResultStillUnknown(Exception):
    """eBay still does not report the auction's result."""


class RESULT_UNKNOWN(ResultStillUnknown):
    """Raised by *Check result after failure*: the Step Functions error of the
    failed execution is the reason code, as for every system failure."""


class RecheckInput(BaseModel):
    snipe_id: str
    execution_name: str | None = None


def recheck_unknown_result(
    services: Services, request: RecheckInput
) -> CheckResultOutput:
    """Ask eBay again for a snipe that ended FAILED ``RESULT_UNKNOWN``.

    The snipe is re-opened (FAILED -> BID_PLACED, reason and email record
    cleared, one conditional write) and checked as after the auction's end;
    if eBay still cannot tell, it goes back to FAILED ``RESULT_UNKNOWN`` and
    :class:`RESULT_UNKNOWN` is raised.
    """
    snipe = services.store.get(request.snipe_id)
    if snipe.status is not SnipeStatus.FAILED or snipe.reason is not (
        Reason.RESULT_UNKNOWN
    ):
        return check_result(services, _as_check(request))  # answered as recorded
    try:
        services.store.transition(
            snipe.snipe_id,
            allowed_from={SnipeStatus.FAILED},
            to=SnipeStatus.BID_PLACED,
            fields={"reason": None, "notification": None},
            user_id=snipe.user_id,
        )
    except TransitionRejected:
        return check_result(services, _as_check(request))
    logger.info("re-checking a result that was unknown")
    answer = check_result(services, _as_check(request))
    if answer.settled and not (
        answer.status is SnipeStatus.FAILED and answer.reason is Reason.RESULT_UNKNOWN
    ):
        logger.info(
            "result known after all",
            extra={"status": answer.status, "reason": answer.reason},
        )
        return answer
    # Still unknown: back to what it was, with the email record it had (the
    # user was told; a later redrive that learns the truth emails it).
    services.store.transition(
        snipe.snipe_id,
        allowed_from={SnipeStatus.BID_PLACED, SnipeStatus.FAILED},
        to=SnipeStatus.FAILED,
        reason=Reason.RESULT_UNKNOWN,
        fields={"notification": _json(snipe.notification)},
        user_id=snipe.user_id,
    )
    raise RESULT_UNKNOWN(
        f"eBay still does not report the result of snipe {snipe.snipe_id}; "
        "redrive this execution to ask again"
    )


def _as_check(request: RecheckInput) -> CheckResultInput:
    return CheckResultInput(
        snipe_id=request.snipe_id, execution_name=request.execution_name
    )


def _json(value: BaseModel | None) -> object:
    return None if value is None else value.model_dump(mode="json")
