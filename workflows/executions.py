"""Execution control: one Step Functions execution per snipe.

The only module that talks to Step Functions. The execution name is the snipe id,
so starting twice with the same input is idempotent and an operator can find a
snipe's execution by its id in the console.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workflows import budget
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
        self._client = client or default_client()

    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in _THROTTLING:
                raise WorkflowUnavailable("the workflow engine is busy") from exc
            raise
        except BotoCoreError as exc:
            raise WorkflowUnavailable("the workflow engine is unreachable") from exc

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
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
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
            if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise

    def describe(self, execution_arn: str) -> dict[str, Any]:
        response = self._call(
            self._client.describe_execution, executionArn=execution_arn
        )
        return dict(response)


def default_client() -> SFNClient:
    return _cached_client()


@lru_cache(maxsize=1)
def _cached_client() -> SFNClient:
    # Timeouts and attempts: workflows.budget (per function, from the environment).
    return boto3.client("stepfunctions", config=budget.aws_client_config())


def reset_client() -> None:
    """Forget the cached client (the endpoint or credentials changed)."""
    _cached_client.cache_clear()
