"""Execution control: one Step Functions execution per snipe.

The only module that talks to Step Functions. The execution name is the snipe id,
so starting twice with the same input is idempotent and an operator can find a
snipe's execution by its id in the console.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from workflows import aws
from workflows.errors import WorkflowUnavailable

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

T = TypeVar("T")
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
