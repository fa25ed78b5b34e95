"""Execution control: one Step Functions execution per snipe version.

The only module that talks to Step Functions. A snipe's first execution is
named by the snipe id, each later one (an edit's new offset, an end that moved)
``<id>-v2``, ``<id>-v3``... (``next_execution_name``), and the snipe records
which one is current (``execution_name``): starting twice with the same name and
input is idempotent, only the current execution may claim the snipe, and an
operator finds a snipe's executions by its id in the console.

``ExecutionControl`` wraps the Step Functions calls; the helpers below are what
the use cases share: start a successor, stop an execution that is not (or no
longer) the snipe's, and the ARN of an execution name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from workflows import aws
from workflows.errors import SnipeNotFound, StoreUnavailable, WorkflowUnavailable
from workflows.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from workflows.models import Snipe
    from workflows.services import Services
    from workflows.timing import SnipePlan

T = TypeVar("T")
# An offset change tries this many execution names.
MAX_EXECUTION_NAME_TRIES = 5
_THROTTLING = {"ThrottlingException", "ServiceUnavailable", "InternalServerError"}


class ExecutionNameTaken(Exception):
    """An execution of that name exists with another input or has finished."""


class ExecutionControl:
    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client or aws.client("stepfunctions")

    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        with aws.translate_errors(
            WorkflowUnavailable,
            busy_codes=_THROTTLING,
            busy="the workflow engine is busy",
            unreachable="the workflow engine is unreachable",
        ):
            return fn(**kwargs)

    def start(self, name: str, execution_input: Mapping[str, Any]) -> str:
        """Start (or find, if already started with the same input) the execution.

        Raises ``ExecutionNameTaken`` if the name is in use by an execution with
        another input or by one that has finished.
        """
        try:
            response = self._call(
                self._client.start_execution,
                stateMachineArn=self.state_machine_arn,
                name=name,
                input=json.dumps(execution_input, separators=(",", ":")),
            )
        except ClientError as exc:
            if aws.error_code(exc) == "ExecutionAlreadyExists":
                raise ExecutionNameTaken(name) from exc
            raise
        return response["executionArn"]

    def stop(self, execution_arn: str, *, cause: str) -> None:
        """Stop a running execution; stopping a finished one is not an error."""
        try:
            self._call(
                self._client.stop_execution,
                executionArn=execution_arn,
                error="SnipeCancelled",
                cause=cause,
            )
        except ClientError as exc:
            if aws.error_code(exc) != "ExecutionDoesNotExist":
                raise

    def describe(self, execution_arn: str) -> dict[str, Any]:
        response = self._call(
            self._client.describe_execution, executionArn=execution_arn
        )
        return dict(response)


def next_execution_name(current: str, snipe_id: str) -> str:
    """``<id>`` -> ``<id>-v2`` -> ``<id>-v3`` ... (traceable in the console)."""
    if current == snipe_id:
        return f"{snipe_id}-v2"
    prefix, _, number = current.rpartition("-v")
    if prefix == snipe_id and number.isdigit():
        return f"{snipe_id}-v{int(number) + 1}"
    return f"{snipe_id}-v2"


def execution_input(snipe: Snipe, plan: SnipePlan) -> dict[str, Any]:
    """The input of an execution of ``snipe`` with ``plan``: the snipe and its
    timing only (the tasks read everything else, email and tokens, from the
    store)."""
    return {
        "snipe_id": snipe.snipe_id,
        "item_id": snipe.item.item_id,
        "plan": plan.as_execution_input(),
    }


def require_executions(services: Services) -> ExecutionControl:
    if services.executions is None:
        raise RuntimeError("STATE_MACHINE_ARN is not configured")
    return services.executions


def current_execution_name(snipe: Snipe) -> str:
    if snipe.execution_name:
        return snipe.execution_name
    if snipe.execution_arn:
        return snipe.execution_arn.rsplit(":", 1)[-1]
    return snipe.snipe_id


def start_successor(
    services: Services, snipe: Snipe, plan: SnipePlan
) -> tuple[str, str]:
    """Start ``<id>-v<n+1>`` with the new plan: (name, ARN).

    Not current until the edit's write names it. A name left taken by an
    earlier attempt that did not finish (another input, or ended) is skipped.
    """
    executions = require_executions(services)
    successor_input = execution_input(snipe, plan)
    name = current_execution_name(snipe)
    for _ in range(MAX_EXECUTION_NAME_TRIES):
        name = next_execution_name(name, snipe.snipe_id)
        try:
            return name, executions.start(name, successor_input)
        except ExecutionNameTaken:
            logger.warning(
                "execution name taken; trying the next",
                extra={"snipe_id": snipe.snipe_id, "execution": name},
            )
    raise WorkflowUnavailable("no free execution name for the rescheduled snipe")


def stop_unless_current(
    services: Services, snipe_id: str, successor: tuple[str, str]
) -> None:
    """Stop a successor whose edit did not land, unless another edit made the
    same execution current meanwhile (StartExecution with an identical name
    and input returns the running execution)."""
    try:
        if services.store.get(snipe_id).execution_name == successor[0]:
            return
    except SnipeNotFound:
        pass
    except StoreUnavailable:
        logger.warning(
            "successor left running; it cannot claim the snipe",
            extra={"snipe_id": snipe_id, "execution": successor[0]},
        )
        return
    executions = require_executions(services)
    try:
        executions.stop(successor[1], cause="the edit that started it was refused")
    except Exception:
        logger.warning(
            "could not stop the successor; it cannot claim the snipe",
            extra={"snipe_id": snipe_id, "execution": successor[0]},
            exc_info=True,
        )


def stop_execution(
    services: Services, snipe: Snipe, *, cause: str = "cancelled by the user"
) -> None:
    """Stop the snipe's execution as ``snipe`` records it. Not fatal: a woken
    execution that is no longer the snipe's (cancelled, or replaced) cannot
    claim it and ends quietly."""
    executions = services.executions
    if executions is None:
        return
    arn = snipe.execution_arn or execution_arn_for(
        executions.state_machine_arn, current_execution_name(snipe)
    )
    try:
        executions.stop(arn, cause=cause)
    except Exception:
        logger.warning(
            "could not stop the execution; it will end on its own",
            extra={"snipe_id": snipe.snipe_id},
            exc_info=True,
        )


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives the execution ``name`` of a state machine."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"
