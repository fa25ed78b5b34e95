"""``python -m ops``: the operator's commands (docs/operations.md).

Where the stack is (first match wins):

* ``--local``: the local stack of ``make dev`` (its ``.sandbox/stack.json``;
  moto at ``AWS_ENDPOINT_URL``, fake credentials);
* ``--stack NAME``: the outputs of a deployed CloudFormation stack;
* otherwise the variables the Lambdas read: ``TABLE_NAME``,
  ``STATE_MACHINE_ARN``, ``NOTIFY_FUNCTION_NAME`` (and
  ``NOTIFY_FUNCTION_QUALIFIER``, default ``live``, ``SNIPE_SETTLE_SECONDS``).

``--table``, ``--state-machine-arn`` and ``--notify-function`` override any.
AWS credentials, region and endpoints are boto3's usual ones
(``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL*``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops import aws
from ops.operator import Operator, OpsConfig, OpsError, Stuck
from ops.timeline import timeline
from workflows.errors import DomainError
from workflows.models import Snipe, SnipeStatus
from workflows.timing import to_z

LOCAL_STATE_FILE = Path(__file__).resolve().parent.parent / ".sandbox" / "stack.json"
LOCAL_NOTIFY_FUNCTION = "NotifyFunction"  # sandbox.aws: function name = logical id
DEFAULT_MARGIN_MINUTES = 30.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description="Operate the sniper: inspect, find, redrive, re-send, cancel.",
        epilog="Runbook: docs/operations.md (every alarm -> what to run).",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--local", action="store_true", help="the local stack of `make dev`"
    )
    where.add_argument("--stack", metavar="NAME", help="a deployed stack's outputs")
    parser.add_argument("--table", help="the snipes table (overrides)")
    parser.add_argument("--state-machine-arn", help="the state machine (overrides)")
    parser.add_argument("--notify-function", help="the Notify function (overrides)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    show = commands.add_parser(
        "show", help="the snipe record and its execution timeline in plain words"
    )
    show.add_argument("snipe_id")

    find = commands.add_parser("find", help="snipes by user, item or status")
    find.add_argument("--user", help="user id (Cognito subject)")
    find.add_argument("--item", help="eBay item id (RESTful or legacy)")
    find.add_argument(
        "--status", type=SnipeStatus, choices=list(SnipeStatus), metavar="STATUS"
    )
    find.add_argument("--limit", type=int, default=50)

    stuck = commands.add_parser(
        "stuck", help="active snipes past their end + settle + margin"
    )
    stuck.add_argument(
        "--margin-minutes",
        type=float,
        default=DEFAULT_MARGIN_MINUTES,
        help=f"grace after end + settle (default {DEFAULT_MARGIN_MINUTES:g})",
    )

    redrive = commands.add_parser(
        "redrive", help="redrive the snipe's FAILED/TIMED_OUT/ABORTED execution"
    )
    redrive.add_argument("snipe_id")
    redrive.add_argument(
        "--force", action="store_true", help="also for a CANCELLED snipe"
    )

    resend = commands.add_parser(
        "resend-email", help="send the snipe's result email again (Notify function)"
    )
    resend.add_argument("snipe_id")

    cancel = commands.add_parser(
        "cancel", help="cancel a SCHEDULED snipe and stop its execution"
    )
    cancel.add_argument("snipe_id")
    return parser


def _local_config() -> OpsConfig:
    path = Path(os.environ.get("SANDBOX_STATE_FILE", LOCAL_STATE_FILE))
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise OpsError(
            f"no local stack ({path}: {exc}); start it with `make dev`"
        ) from exc
    os.environ["AWS_ENDPOINT_URL"] = state["moto_url"]
    region = state["state_machine_arn"].split(":")[3]
    os.environ.setdefault("AWS_REGION", region)
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")  # moto's fake credentials
    return OpsConfig(
        table_name=state["table_name"],
        state_machine_arn=state["state_machine_arn"],
        notify_function=LOCAL_NOTIFY_FUNCTION,
        notify_qualifier=None,
        settle_seconds=float(os.environ.get("SNIPE_SETTLE_SECONDS", "2")),
    )


def _stack_config(name: str) -> OpsConfig:
    stack = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {
        p["ParameterKey"]: p.get("ParameterValue", "")
        for p in stack.get("Parameters", [])
    }
    try:
        return OpsConfig(
            table_name=outputs["TableName"],
            state_machine_arn=outputs["StateMachineArn"],
            notify_function=outputs.get("NotifyFunctionName", ""),
            settle_seconds=float(parameters.get("SettleSeconds") or 10),
        )
    except KeyError as exc:
        raise OpsError(f"stack {name} has no output {exc}") from exc


def _env_config() -> OpsConfig:
    return OpsConfig(
        table_name=os.environ.get("TABLE_NAME", ""),
        state_machine_arn=os.environ.get("STATE_MACHINE_ARN", ""),
        notify_function=os.environ.get("NOTIFY_FUNCTION_NAME", ""),
        notify_qualifier=os.environ.get("NOTIFY_FUNCTION_QUALIFIER", "live") or None,
        settle_seconds=float(os.environ.get("SNIPE_SETTLE_SECONDS", "10")),
    )


def resolve_config(args: argparse.Namespace) -> OpsConfig:
    if args.local:
        config = _local_config()
    elif args.stack:
        config = _stack_config(args.stack)
    else:
        config = _env_config()
    overrides = {
        key: value
        for key, value in (
            ("table_name", args.table),
            ("state_machine_arn", args.state_machine_arn),
            ("notify_function", args.notify_function),
        )
        if value
    }
    config = replace(config, **overrides)
    if not config.table_name or not config.state_machine_arn:
        raise OpsError(
            "where is the stack? Use --local, --stack NAME, or set TABLE_NAME and"
            " STATE_MACHINE_ARN"
        )
    return config


def _snipe_row(snipe: Snipe) -> str:
    reason = f" {snipe.reason}" if snipe.reason else ""
    return (
        f"{snipe.snipe_id}  {snipe.status}{reason}  user={snipe.user_id}"
        f"  item={snipe.item.item_id}  ends={to_z(snipe.plan.end_at)}"
    )


def _snipe_json(snipe: Snipe) -> dict[str, Any]:
    return snipe.model_dump(mode="json")


def _stuck_row(entry: Stuck) -> str:
    return (
        f"{_snipe_row(entry.snipe)}\n    due {to_z(entry.due_at)}: {entry.why}"
        f"\n    next: python -m ops show {entry.snipe.snipe_id}"
    )


def run(args: argparse.Namespace, operator: Operator) -> Any:
    """Run one command; returns what to print (lines or JSON-able data)."""
    if args.command == "show":
        if args.json:
            snipe = operator.store.get(args.snipe_id)
            return {
                "snipe": _snipe_json(snipe),
                "executions": [
                    {**view.__dict__, "timeline": timeline(operator.history(view.arn))}
                    for view in operator.executions(snipe)
                ],
            }
        return operator.show(args.snipe_id)
    if args.command == "find":
        snipes = operator.find(
            user_id=args.user, item_id=args.item, status=args.status, limit=args.limit
        )
        if args.json:
            return [_snipe_json(s) for s in snipes]
        return [_snipe_row(s) for s in snipes] or ["no snipe found"]
    if args.command == "stuck":
        entries = operator.stuck(margin=timedelta(minutes=args.margin_minutes))
        if args.json:
            return [
                {
                    "snipe": _snipe_json(e.snipe),
                    "due_at": to_z(e.due_at),
                    "why": e.why,
                    "execution_status": e.execution.status if e.execution else None,
                }
                for e in entries
            ]
        return [_stuck_row(e) for e in entries] or ["no stuck snipe"]
    if args.command == "redrive":
        view = operator.redrive(args.snipe_id, force=args.force)
        if args.json:
            return view.__dict__
        return [f"execution {view.name}: {view.status} (redrive {view.redrive_status})"]
    if args.command == "resend-email":
        outcome = operator.resend_email(args.snipe_id)
        if args.json:
            return outcome
        return [f"{args.snipe_id}: email {outcome.get('email')} ({outcome})"]
    if args.command == "cancel":
        snipe = operator.cancel(args.snipe_id)
        if args.json:
            return _snipe_json(snipe)
        return [f"{snipe.snipe_id}: {snipe.status}; its execution was stopped"]
    raise OpsError(f"unknown command {args.command}")  # pragma: no cover


def main(argv: Sequence[str] | None = None, operator: Operator | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        operator = operator or Operator(resolve_config(args))
        output = run(args, operator)
    except (DomainError, OpsError) as exc:  # no snipe, a refusal, AWS busy
        print(f"ops: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"ops: AWS error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(output, indent=2, default=str))
    else:
        print("\n".join(output))
    return 0
