"""What the operator commands do (``ops.cli`` prints it).

The table is read through :class:`workflows.store.SnipeStore` without a token
vault (an operator never sees an eBay token); finding by item or status across
users, and ``stuck``, scan the table (an operator's tool, never the API's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ops import aws
from ops.timeline import timeline
from workflows.errors import (
    SnipeAlreadyBidding,
    SnipeAlreadyFinished,
    SnipeNotFound,
)
from workflows.executions import (
    ExecutionControl,
    current_execution_name,
    execution_arn_for,
)
from workflows.models import ACTIVE_STATUSES, Snipe, SnipeStatus
from workflows.scheduling import cancel_scheduled
from workflows.store import SnipeStore
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_stepfunctions import SFNClient

_VERSION_SUFFIX = re.compile(r"^(?P<id>.+)-v(?P<n>[0-9]+)$")
# Executions that can be redriven (RedriveExecution) once they have ended.
REDRIVABLE = {"FAILED", "TIMED_OUT", "ABORTED"}
OPERATOR_CANCEL_CAUSE = "cancelled by an operator"


class OpsError(Exception):
    """The command cannot do what was asked; the message says why."""


@dataclass(frozen=True)
class OpsConfig:
    table_name: str
    state_machine_arn: str
    notify_function: str = ""
    # The Notify function's alias on AWS (AutoPublishAlias); None locally.
    notify_qualifier: str | None = "live"
    settle_seconds: float = 10.0


@dataclass(frozen=True)
class ExecutionView:
    name: str
    arn: str
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    error: str | None
    cause: str | None
    redrive_status: str | None


@dataclass(frozen=True)
class Stuck:
    snipe: Snipe
    due_at: datetime
    execution: ExecutionView | None

    @property
    def why(self) -> str:
        if self.execution is None:
            return "no execution found"
        if self.execution.status == "RUNNING":
            return "execution still RUNNING past the end + settle + margin"
        return f"execution {self.execution.status} but the snipe is still active"


def snipe_id_of(execution_name: str) -> str:
    """``snp_X`` and ``snp_X-v3`` both belong to snipe ``snp_X``."""
    match = _VERSION_SUFFIX.match(execution_name)
    return match.group("id") if match else execution_name


def execution_names(snipe: Snipe) -> list[str]:
    """Every execution name the snipe has had, oldest first."""
    current = snipe.execution_name or snipe.snipe_id
    match = _VERSION_SUFFIX.match(current)
    last = int(match.group("n")) if match else 1
    return [snipe.snipe_id] + [f"{snipe.snipe_id}-v{n}" for n in range(2, last + 1)]


class Operator:
    def __init__(
        self,
        config: OpsConfig,
        *,
        store: SnipeStore | None = None,
        dynamodb: DynamoDBClient | None = None,
        stepfunctions: SFNClient | None = None,
        lambda_client: Any = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self._dynamodb = dynamodb or aws.dynamodb()
        self.store = store or SnipeStore(config.table_name, client=self._dynamodb)
        self._sfn = stepfunctions or aws.stepfunctions()
        self._executions = ExecutionControl(config.state_machine_arn, self._sfn)
        self._lambda = lambda_client
        self._clock = clock

    # --- executions -----------------------------------------------------
    def execution_arn(self, name: str) -> str:
        return execution_arn_for(self.config.state_machine_arn, name)

    def describe(self, name: str) -> ExecutionView | None:
        arn = self.execution_arn(name)
        try:
            found = self._sfn.describe_execution(executionArn=arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None
            raise
        data: dict[str, Any] = dict(found)
        return ExecutionView(
            name=name,
            arn=arn,
            status=str(data["status"]),
            started_at=data.get("startDate"),
            stopped_at=data.get("stopDate"),
            error=data.get("error"),
            cause=data.get("cause"),
            redrive_status=data.get("redriveStatus"),
        )

    def executions(self, snipe: Snipe) -> list[ExecutionView]:
        views = [self.describe(name) for name in execution_names(snipe)]
        return [view for view in views if view is not None]

    def history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self._sfn.get_execution_history(**kwargs)
            events.extend(dict(event) for event in page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    # --- show -----------------------------------------------------------
    def show(self, snipe_id: str) -> list[str]:
        snipe = self.store.get(snipe_id)
        lines = describe_snipe(snipe)
        views = self.executions(snipe)
        if not views:
            lines.append("no execution found")
        for view in views:
            current = view.name == (snipe.execution_name or snipe.snipe_id)
            lines.append("")
            lines.append(
                f"execution {view.name}: {view.status}"
                + (" (current)" if current else " (superseded)")
                + (f", redrive {view.redrive_status}" if view.redrive_status else "")
            )
            if view.error or view.cause:
                lines.append(f"  error {view.error}: {view.cause or ''}".rstrip())
            lines.extend(f"  {line}" for line in timeline(self.history(view.arn)))
        return lines

    # --- find -----------------------------------------------------------
    def find(
        self,
        *,
        user_id: str | None = None,
        item_id: str | None = None,
        status: SnipeStatus | None = None,
        limit: int = 50,
    ) -> list[Snipe]:
        if not (user_id or item_id or status):
            raise OpsError("give at least one of --user, --item, --status")
        found: list[Snipe] = []
        if user_id:
            cursor: str | None = None
            while len(found) < limit:
                page, cursor = self.store.list_for_user(
                    user_id, status=status, limit=min(100, limit), cursor=cursor
                )
                found.extend(s for s in page if item_id is None or _is_item(s, item_id))
                if cursor is None:
                    break
            return found[:limit]
        for snipe in self._scan():
            if status is not None and snipe.status is not status:
                continue
            if item_id is not None and not _is_item(snipe, item_id):
                continue
            found.append(snipe)
            if len(found) >= limit:
                break
        return sorted(found, key=lambda s: s.created_at, reverse=True)

    def _scan(self) -> Iterator[Snipe]:
        kwargs: dict[str, Any] = {
            "TableName": self.config.table_name,
            "FilterExpression": "#kind = :snipe",
            "ProjectionExpression": "snipe_id",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":snipe": {"S": "snipe"}},
        }
        while True:
            page = self._dynamodb.scan(**kwargs)
            for item in page.get("Items", []):
                try:
                    yield self.store.get(item["snipe_id"]["S"])
                except SnipeNotFound:  # deleted meanwhile
                    continue
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- stuck ----------------------------------------------------------
    def stuck(self, *, margin: timedelta) -> list[Stuck]:
        """Active snipes past end + settle + margin, whatever their execution."""
        now = self._clock()
        found: list[Stuck] = []
        for snipe in self._scan():
            if snipe.status not in ACTIVE_STATUSES:
                continue
            due = snipe.plan.settle_at + margin
            if now <= due:
                continue
            views = self.executions(snipe)
            current = next(
                (
                    v
                    for v in views
                    if v.name == (snipe.execution_name or snipe.snipe_id)
                ),
                None,
            )
            found.append(Stuck(snipe=snipe, due_at=due, execution=current))
        return sorted(found, key=lambda s: s.due_at)

    # --- redrive --------------------------------------------------------
    def redrive(self, snipe_id: str, *, force: bool = False) -> ExecutionView:
        """Redrive the snipe's current execution if it FAILED/TIMED_OUT/ABORTED."""
        snipe = self.store.get(snipe_id)
        name = snipe.execution_name or snipe.snipe_id
        view = self.describe(name)
        if view is None:
            raise OpsError(f"execution {name} does not exist")
        if view.status not in REDRIVABLE:
            raise OpsError(
                f"execution {name} is {view.status}; only a FAILED, TIMED_OUT or"
                " ABORTED execution can be redriven"
            )
        if snipe.status is SnipeStatus.CANCELLED and not force:
            raise OpsError(
                f"snipe {snipe_id} is CANCELLED; nothing to redrive (--force to"
                " redrive anyway: its tasks will not bid)"
            )
        try:
            self._sfn.redrive_execution(executionArn=view.arn)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise OpsError(
                f"Step Functions refused the redrive of {name}:"
                f" {error.get('Code')}: {error.get('Message')}"
            ) from exc
        redriven = self.describe(name)
        return redriven or view

    # --- resend-email ---------------------------------------------------
    def resend_email(self, snipe_id: str) -> dict[str, Any]:
        """Have the Notify function send the snipe's result email again."""
        snipe = self.store.get(snipe_id)
        if not snipe.status.is_final:
            raise OpsError(
                f"snipe {snipe_id} is {snipe.status}; its result is not known yet"
            )
        if snipe.status is SnipeStatus.CANCELLED:
            raise OpsError(f"snipe {snipe_id} is CANCELLED; no result email exists")
        if not self.config.notify_function:
            raise OpsError("the Notify function is not configured (--notify-function)")
        lambda_client = self._lambda or aws.client("lambda")
        kwargs: dict[str, Any] = {
            "FunctionName": self.config.notify_function,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps({"snipe_id": snipe_id, "resend": True}).encode(),
        }
        if self.config.notify_qualifier:
            kwargs["Qualifier"] = self.config.notify_qualifier
        response = lambda_client.invoke(**kwargs)
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            error = payload if isinstance(payload, dict) else {}
            raise OpsError(
                f"Notify failed: {error.get('errorType')}: {error.get('errorMessage')}"
            )
        return payload if isinstance(payload, dict) else {"result": payload}

    # --- cancel ---------------------------------------------------------
    def cancel(self, snipe_id: str) -> Snipe:
        """SCHEDULED -> CANCELLED and stop its execution, as the user's cancel.

        A snipe already BIDDING or BID_PLACED cannot be cancelled: its bid may
        be on its way to eBay (the API refuses the same).
        """
        snipe = self.store.get(snipe_id)
        try:
            cancelled = cancel_scheduled(self.store, snipe)
        except (SnipeAlreadyBidding, SnipeAlreadyFinished) as exc:
            raise OpsError(
                f"snipe {snipe_id} is {exc.details['status']}; only a SCHEDULED"
                " snipe can be cancelled"
            ) from exc
        self._executions.stop(
            self.execution_arn(current_execution_name(cancelled)),
            cause=OPERATOR_CANCEL_CAUSE,
        )
        return cancelled


def _is_item(snipe: Snipe, item_id: str) -> bool:
    return item_id in {snipe.item.item_id, snipe.item.legacy_item_id}


def describe_snipe(snipe: Snipe) -> list[str]:
    """The snipe record in plain words."""
    reason = f" ({snipe.reason})" if snipe.reason else ""
    lines = [
        f"snipe {snipe.snipe_id}: {snipe.status}{reason}",
        f"  user {snipe.user_id} <{snipe.user_email}>",
        f"  item {snipe.item.item_id}: {snipe.item.title}",
        f"  max bid {snipe.max_bid}, {snipe.bid_offset_seconds} s before the end",
        f"  wake {to_z(snipe.plan.wake_at)}  fire {to_z(snipe.plan.fire_at)}",
        f"  end  {to_z(snipe.plan.end_at)}  settle {to_z(snipe.plan.settle_at)}",
        f"  created {to_z(snipe.created_at)}  updated {to_z(snipe.updated_at)}",
    ]
    if snipe.group_id:
        lines.append(f"  group {snipe.group_id}")
    if snipe.bid is not None:
        lines.append(
            f"  bid sent {to_z(snipe.bid.sent_at)} ({snipe.bid.fire_error_ms:+.1f} ms"
            f" from fire_at, attempt {snipe.bid.attempt})"
        )
    if snipe.result is not None:
        price = snipe.result.final_price
        lines.append(
            f"  result checked {to_z(snipe.result.checked_at)}"
            + (f", final price {price}" if price else "")
        )
    if snipe.notification is not None:
        note = snipe.notification
        lines.append(
            f"  email {note.status} at {to_z(note.at)}"
            + (f" (message {note.message_id})" if note.message_id else "")
            + (f" ({note.error_code} {note.detail})" if note.error_code else "")
        )
    else:
        lines.append("  email not sent yet")
    return lines
