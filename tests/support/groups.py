"""Win-N group tests without the state machine: a moto table (from
template.yaml), a scriptable getBidding, snipes made directly in the store and
a stand-in for the bid task's first steps (claim, then ``claim_group_slot``).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from tests.support.snipes import make_snipe
from workflows import ebay
from workflows.config import Settings
from workflows.errors import TransitionRejected
from workflows.groups import CreateGroupRequest, claim_group_slot, create_group
from workflows.models import (
    BidRecord,
    Group,
    Reason,
    Snipe,
    SnipeStatus,
)
from workflows.money import Money
from workflows.postmark import PostmarkClient
from workflows.secrets import AppSecrets
from workflows.services import Services
from workflows.store import SnipeStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TOKEN = ebay.AccessToken("user-access-token", START + timedelta(days=1))
_item_numbers = itertools.count(100000000000)


class ScriptedBidding(ebay.EbayClient):
    """getBidding answers from ``state``: item id -> "ACTIVE" | "WON" | "LOST" |
    "NONE" (no bidding activity) | "DOWN" (eBay unavailable)."""

    def __init__(self) -> None:
        super().__init__(
            api_base_url="https://api.ebay.test", client_id="id", client_secret="s"
        )
        self.state: dict[str, str] = {}
        self.calls: list[str] = []
        self.guard = threading.Lock()

    def get_bidding(
        self,
        item_id: str,
        user_token: ebay.AccessToken,
        *,
        timeout: httpx.Timeout | float | None = None,
    ) -> ebay.Bidding:
        with self.guard:
            self.calls.append(item_id)
            state = self.state.get(item_id, "ACTIVE")
        if state == "DOWN":
            raise ebay.EbayUnavailable("getBidding: HTTP 503", http_status=503)
        if state == "NONE":
            raise ebay.EbayApiError(
                "no bidding activity",
                http_status=404,
                error_id=ebay.NO_BIDDING_ACTIVITY,
                errors=[],
            )
        return ebay.Bidding(
            item_id=item_id,
            auction_status="ACTIVE" if state == "ACTIVE" else "ENDED",
            high_bidder=state in ("ACTIVE", "WON"),
            current_price=ebay.Amount(Decimal("31.00"), "USD"),
            proxy_bid_id="pb-1",
            max_amount=ebay.Amount(Decimal("50.00"), "USD"),
            bid_count=3,
            auction_end_at=None,
            reserve_price_met=None,
        )


def make_services(
    client: DynamoDBClient, table: str
) -> tuple[Services, ScriptedBidding]:
    fake = ScriptedBidding()
    settings = Settings(
        table_name=table,
        app_secrets_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:app",
        token_kms_key_id="alias/unit",
        email_from="sniper@example.com",
        snipe_lead_seconds=3.0,
        snipe_settle_seconds=1.0,
    )
    services = Services(
        settings=settings,
        store=SnipeStore(table, client=client),
        ebay=fake,
        postmark=PostmarkClient(base_url="https://postmark.test", server_token="pm"),
        secrets=AppSecrets(
            ebay_client_id="id",
            ebay_client_secret="s",  # type: ignore[arg-type]
            postmark_server_token="pm",  # type: ignore[arg-type]
            state_signing_key="k" * 32,  # type: ignore[arg-type]
        ),
        now=lambda: START,
    )
    return services, fake


@dataclass
class GroupWorld:
    """One user's snipes and groups in a fresh table."""

    services: Services
    ebay: ScriptedBidding
    user_id: str = "user-g"
    bids: list[str] = field(default_factory=list)

    @property
    def store(self) -> SnipeStore:
        return self.services.store

    def group(self, wins_wanted: int = 1, user_id: str | None = None) -> Group:
        details = create_group(
            self.services,
            user_id or self.user_id,
            CreateGroupRequest(name="cameras", wins_wanted=wins_wanted),
        )
        return details.group

    def snipe(
        self,
        group_id: str | None,
        *,
        ends_in: float = 600,
        user_id: str | None = None,
    ) -> Snipe:
        number = next(_item_numbers)
        end = START + timedelta(seconds=ends_in)
        snipe = make_snipe(
            snipe_id=f"snp_{number}",
            user_id=user_id or self.user_id,
            user_email="g@example.com",
            item_id=f"v1|{number}|0",
            title=f"Camera {number}",
            end_at=end,
            max_bid=Money.from_decimal("50.00", "USD"),
            created_at=START,
            bid_offset_seconds=5,
            lead_seconds=3,
            settle_seconds=1,
            group_id=group_id,
        )
        self.store.create(snipe)
        return snipe

    def claim(self, snipe_id: str) -> Snipe:
        """The bid task's claim (SCHEDULED -> BIDDING)."""
        return self.store.transition(
            snipe_id,
            allowed_from={SnipeStatus.SCHEDULED},
            to=SnipeStatus.BIDDING,
            claimed_by=snipe_id,
            user_id=self.user_id,
        )

    def placed(self, group_id: str | None) -> Snipe:
        """A new snipe in ``group_id`` that claimed, passed the group check and
        bid (BID_PLACED)."""
        return self.bid(self.claim_and_check(self.snipe(group_id).snipe_id))

    def claim_and_check(self, snipe_id: str) -> Snipe:
        """Claim, then the group check: the snipe that may bid (raises
        ``SnipeSkipped`` when the group is satisfied)."""
        return claim_group_slot(self.services, self.claim(snipe_id), TOKEN)

    def end_bidding(
        self, snipe: Snipe, to: SnipeStatus, reason: Reason | None
    ) -> Snipe:
        """A claimed snipe leaves BIDDING for ``to``, no bid recorded."""
        return self._leave_bidding(snipe, to, reason=reason)

    def bid(self, snipe: Snipe) -> Snipe:
        """BIDDING -> BID_PLACED (what ``_record_bid`` writes)."""
        self.bids.append(snipe.snipe_id)
        record = BidRecord(
            proxy_bid_id="pb-1",
            max_bid=snipe.max_bid,
            sent_at=START,
            fire_error_us=0,
        )
        bid = record.model_dump(mode="json")
        return self._leave_bidding(snipe, SnipeStatus.BID_PLACED, fields={"bid": bid})

    def _leave_bidding(self, snipe: Snipe, to: SnipeStatus, **changes: Any) -> Snipe:
        """The bid task moves its claimed snipe from BIDDING to ``to``."""
        return self.store.transition(
            snipe.snipe_id,
            allowed_from={SnipeStatus.BIDDING},
            to=to,
            user_id=snipe.user_id,
            **changes,
        )

    def settle(self, snipe: Snipe, status: SnipeStatus) -> SnipeStatus:
        """BID_PLACED -> WON/LOST like ``check_result`` (a result recorded
        meanwhile by another member's claim is kept)."""
        self.ebay.state[snipe.item.item_id] = status.value
        try:
            return self.store.transition(
                snipe.snipe_id,
                allowed_from={SnipeStatus.BID_PLACED},
                to=status,
                user_id=snipe.user_id,
            ).status
        except TransitionRejected as exc:
            assert exc.current_status in ("WON", "LOST"), exc
            return SnipeStatus(exc.current_status)

    def raw_snipe(self, snipe_id: str) -> dict[str, Any]:
        response = self.store._client.get_item(
            TableName=self.store.table_name,
            Key={"PK": {"S": f"SNIPE#{snipe_id}"}, "SK": {"S": "SNIPE"}},
            ConsistentRead=True,
        )
        return dict(response["Item"])
