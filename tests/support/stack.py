"""Helpers for tests on the local stack: the consent flow as a browser plays it,
and executions that must be waited for before they can be stopped."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from sandbox.stack import LocalStack
from tests.support.apigw import api_event, call


def agree(consent_url: str, ebay_user: str) -> tuple[str, str]:
    """``ebay_user`` agrees on the simulator's consent page: (code, state) from
    the redirect's ``Location``, which is not followed."""
    response = httpx.get(
        f"{consent_url}&sim_user={quote(ebay_user, safe='')}", follow_redirects=False
    )
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0], query["state"][0]


def wait_until_waiting(stack: LocalStack, execution_arn: str) -> None:
    """Until the execution sits in its first Wait state.

    moto's StopExecution fails (AttributeError in its execution worker) when it
    arrives before the worker thread has set up; on AWS a stop is accepted at
    once. Users cancel seconds after creating, so the tests wait too.
    """
    deadline = time.monotonic() + 5
    while not any(
        event["type"] == "WaitStateEntered"
        for event in stack.aws.execution_history(execution_arn)
    ):
        assert time.monotonic() < deadline, "the execution never started waiting"
        time.sleep(0.01)


def stop_running(stack: LocalStack, user_id: str) -> None:
    """Stop the user's executions that are still running (test cleanup)."""
    sfn = stack.aws.stepfunctions
    items, _ = stack.services.store.list_for_user(user_id, limit=100)
    for arn in (snipe.execution_arn for snipe in items if snipe.execution_arn):
        if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            wait_until_waiting(stack, arn)
            sfn.stop_execution(executionArn=arn, cause="test cleanup")


def post_snipe(
    user: tuple[str, str], item_id: str, max_bid: str = "25.00", **fields: Any
) -> tuple[int, dict[str, str], Any]:
    """``POST /api/snipes`` as ``user``: the item, a USD max bid, ``fields``."""
    body = {"item_id": item_id, "max_bid": {"value": max_bid, "currency": "USD"}}
    return call(api_event("POST", "/api/snipes", user=user, body={**body, **fields}))
