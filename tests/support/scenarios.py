"""State machine scenarios: the real ASL run by moto's interpreter, driven
through the API Lambda (the ``scenario`` fixture is in
``tests/scenarios/conftest.py``)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox.stack import LocalStack
from tests.support.apigw import api_event, call
from workflows.models import Snipe, SnipeStatus
from workflows.timing import parse_utc

# The states of a snipe that bids and settles without a retry.
HAPPY_PATH = [
    "Wait until wake-up",
    "Refresh eBay token",
    "Place bid",
    "Wait for auction end",
    "Check result",
    "Notify user",
    "Final status?",
    "Snipe finished",
]


def compressed_reconciliation(
    pending_email_after_s: float, patience_s: float
) -> dict[str, str]:
    """Stack environment for result reconciliation compressed to seconds:
    re-checks 1-2 s apart, the "result pending" email after
    ``pending_email_after_s`` and RESULT_UNKNOWN after ``patience_s``."""
    return {
        "SNIPE_RECHECK_FIRST_SECONDS": "1",
        "SNIPE_RECHECK_MAX_SECONDS": "2",
        "SNIPE_PENDING_EMAIL_AFTER_SECONDS": str(pending_email_after_s),
        "SNIPE_RESULT_PATIENCE_SECONDS": str(patience_s),
    }


@dataclass
class Run:
    """One snipe's execution, finished."""

    snipe: Snipe
    description: dict[str, Any]
    history: list[dict[str, Any]]

    @property
    def states(self) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history
            if "stateEnteredEventDetails" in e
        ]

    def errors(self) -> list[str]:
        """Error names of failed task attempts, in order."""
        names = []
        for event in self.history:
            for key in ("lambdaFunctionFailedEventDetails", "taskFailedEventDetails"):
                if key in event:
                    names.append(event[key].get("error", ""))
        return names


@dataclass
class Scenario:
    stack: LocalStack
    user: tuple[str, str]

    def auction(self, **kwargs: Any) -> str:
        kwargs.setdefault("title", f"Vintage camera {uuid.uuid4().hex[:6]}")
        kwargs.setdefault("start_price", "10.00")
        return self.stack.ebay.create_auction(**kwargs).item_id

    def create(
        self,
        item_id: str,
        *,
        max_bid: str = "50.00",
        offset: int = 2,
        group_id: str | None = None,
    ) -> dict[str, Any]:
        extra = {} if group_id is None else {"group_id": group_id}
        status, _, body = call(
            api_event(
                "POST",
                "/api/snipes",
                user=self.user,
                body={
                    "item_id": item_id,
                    "max_bid": {"value": max_bid, "currency": "USD"},
                    "bid_offset_seconds": offset,
                    **extra,
                },
            )
        )
        assert status == 201, body
        return dict(body)

    def auction_and_snipe(
        self,
        end_in_s: float,
        *,
        max_bid: str = "50.00",
        offset: int = 2,
        **auction: Any,
    ) -> tuple[str, dict[str, Any]]:
        """A new auction ending in ``end_in_s`` and the user's snipe on it:
        (item id, the created snipe)."""
        item = self.auction(end_in_s=end_in_s, **auction)
        return item, self.create(item, max_bid=max_bid, offset=offset)

    def cancel(self, snipe_id: str) -> tuple[int, Any]:
        status, _, body = call(
            api_event("DELETE", f"/api/snipes/{snipe_id}", user=self.user)
        )
        return status, body

    def snipe(self, snipe_id: str) -> Snipe:
        return self.stack.services.store.get(snipe_id)

    def finish(self, snipe_id: str, timeout: float = 90) -> Run:
        arn = self.snipe(snipe_id).execution_arn
        assert arn, "the snipe records its execution"
        description = self.stack.aws.wait_for_execution(arn, timeout=timeout)
        return Run(
            snipe=self.snipe(snipe_id),
            description=description,
            history=self.stack.aws.execution_history(arn),
        )

    def wait_for_status(
        self, snipe_id: str, status: SnipeStatus, timeout: float = 20
    ) -> Snipe:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snipe = self.snipe(snipe_id)
            if snipe.status is status:
                return snipe
            time.sleep(0.02)
        raise AssertionError(f"snipe never reached {status}: {self.snipe(snipe_id)}")

    def offer_requests(self, item_id: str, endpoint: str) -> list[dict[str, Any]]:
        return self.stack.ebay.requests(endpoint=endpoint, item_id=item_id)

    def emails(self) -> list[dict[str, Any]]:
        return self.stack.postmark.outbox(to=self.user[1])


def seconds_between(later: str | float, earlier: str) -> float:
    late = later if isinstance(later, float) else parse_utc(later).timestamp()
    return late - parse_utc(earlier).timestamp()


def assert_settled(run: Run, status: SnipeStatus, final_price: str) -> None:
    """The execution took the happy path and recorded ``status`` at the price."""
    assert run.description["status"] == "SUCCEEDED"
    assert run.states == HAPPY_PATH
    assert run.snipe.status is status
    assert run.snipe.result is not None and run.snipe.result.final_price is not None
    assert run.snipe.result.final_price.value == final_price
