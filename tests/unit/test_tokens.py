"""workflows.tokens: the user token the bid and result tasks use.

The common path (a cached access token still valid) reads the link once and
opens only the access token: one KMS call, the refresh token stays sealed.
moto in-process: DynamoDB (the table from template.yaml) and KMS.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.support.groups import START, GroupWorld, make_services
from tests.support.table import moto_table, moto_vault
from workflows import ebay
from workflows.errors import EbayReconnectRequired
from workflows.models import Reason, SnipeStatus
from workflows.store import SnipeStore
from workflows.tokens import user_access_token

REGION = "us-east-1"
REFRESH = "v^1.1#i^1#r^1#REFRESH-unit"
ACCESS = "v^1.1#i^1#p^3#ACCESS-unit"


class RefreshingEbay(ebay.EbayClient):
    """Mints ``minted-<n>`` tokens valid for two hours, or refuses the grant."""

    def __init__(self) -> None:
        super().__init__(
            api_base_url="https://api.ebay.test", client_id="id", client_secret="s"
        )
        self.refreshed_with: list[str] = []
        self.refuse = False

    def refresh_user_token(
        self, refresh_token: str, scopes: Any = (ebay.OFFER_SCOPE,)
    ) -> ebay.AccessToken:
        self.refreshed_with.append(refresh_token)
        if self.refuse:
            raise ebay.EbayInvalidGrant("invalid_grant", http_status=400)
        n = len(self.refreshed_with)
        return ebay.AccessToken(f"minted-{n}", START + timedelta(hours=2))


@dataclass
class World:
    groups: GroupWorld
    ebay: RefreshingEbay
    kms_calls: list[str] = field(default_factory=list)

    @property
    def store(self) -> SnipeStore:
        return self.groups.store


@pytest.fixture
def world() -> Iterator[World]:
    with moto_table("snipes-tokens") as (dynamodb, table):
        kms, vault = moto_vault()
        services, _ = make_services(dynamodb, table)
        fake = RefreshingEbay()
        store = SnipeStore(table, client=dynamodb, vault=vault)
        services = dataclasses.replace(services, store=store, ebay=fake)
        w = World(GroupWorld(services, fake), fake)  # type: ignore[arg-type]
        kms.meta.events.register(
            "before-call.kms.*", lambda model, **_: w.kms_calls.append(model.name)
        )
        yield w


def test_a_valid_cached_token_costs_one_read_and_one_kms_call(world: World) -> None:
    world.store.put_ebay_account(
        world.groups.user_id, REFRESH, START + timedelta(days=500)
    )
    world.store.cache_access_token(
        world.groups.user_id, ACCESS, START + timedelta(hours=2)
    )
    snipe = world.groups.snipe(None)
    world.kms_calls.clear()

    token, how = user_access_token(
        world.groups.services, snipe, valid_until=snipe.plan.settle_at
    )

    assert (token.value, how) == (ACCESS, "CACHED")
    assert world.kms_calls == ["Decrypt"]  # the refresh token stayed sealed
    assert world.ebay.refreshed_with == []


def test_an_expiring_cached_token_is_refreshed_with_the_opened_refresh_token(
    world: World,
) -> None:
    world.store.put_ebay_account(
        world.groups.user_id, REFRESH, START + timedelta(days=500)
    )
    # Valid now, but not until the result is read (+ the 5-minute margin).
    world.store.cache_access_token(
        world.groups.user_id, ACCESS, START + timedelta(minutes=6)
    )
    snipe = world.groups.snipe(None, ends_in=600)

    token, how = user_access_token(
        world.groups.services, snipe, valid_until=snipe.plan.settle_at
    )

    assert (token.value, how) == ("minted-1", "REFRESHED")
    assert world.ebay.refreshed_with == [REFRESH]
    cached = world.store.get_ebay_access(world.groups.user_id)
    assert cached is not None and cached.access_token == "minted-1"


def test_no_cached_token_refreshes(world: World) -> None:
    world.store.put_ebay_account(
        world.groups.user_id, REFRESH, START + timedelta(days=500)
    )
    snipe = world.groups.snipe(None)

    token, how = user_access_token(
        world.groups.services, snipe, valid_until=snipe.plan.settle_at
    )

    assert (token.value, how) == ("minted-1", "REFRESHED")


def test_an_unlinked_user_skips_the_snipe(world: World) -> None:
    snipe = world.groups.snipe(None)

    with pytest.raises(EbayReconnectRequired):
        user_access_token(
            world.groups.services, snipe, valid_until=snipe.plan.settle_at
        )

    after = world.store.get(snipe.snipe_id)
    assert (after.status, after.reason) == (SnipeStatus.SKIPPED, Reason.EBAY_NOT_LINKED)


def test_a_link_needing_reconnect_skips_even_with_a_cached_token(world: World) -> None:
    world.store.put_ebay_account(
        world.groups.user_id, REFRESH, START + timedelta(days=500)
    )
    world.store.cache_access_token(
        world.groups.user_id, ACCESS, START + timedelta(hours=2)
    )
    world.store.mark_needs_reconnect(world.groups.user_id)
    snipe = world.groups.snipe(None)

    with pytest.raises(EbayReconnectRequired):
        user_access_token(
            world.groups.services, snipe, valid_until=snipe.plan.settle_at
        )

    after = world.store.get(snipe.snipe_id)
    assert after.reason is Reason.EBAY_RECONNECT_REQUIRED
    assert world.ebay.refreshed_with == []


def test_a_refused_refresh_marks_the_link_and_skips(world: World) -> None:
    world.store.put_ebay_account(
        world.groups.user_id, REFRESH, START + timedelta(days=500)
    )
    world.ebay.refuse = True
    snipe = world.groups.snipe(None)

    with pytest.raises(EbayReconnectRequired):
        user_access_token(
            world.groups.services, snipe, valid_until=snipe.plan.settle_at
        )

    access = world.store.get_ebay_access(world.groups.user_id)
    assert access is not None and access.needs_reconnect
    assert world.store.get(snipe.snipe_id).status is SnipeStatus.SKIPPED


def test_get_ebay_access_never_holds_the_refresh_token(world: World) -> None:
    world.store.put_ebay_account(
        world.groups.user_id, REFRESH, START + timedelta(days=500)
    )
    world.store.cache_access_token(
        world.groups.user_id, ACCESS, START + timedelta(hours=2)
    )

    access = world.store.get_ebay_access(world.groups.user_id)

    assert access is not None
    assert REFRESH not in access.model_dump_json()
    assert ACCESS not in repr(access)
    assert world.store.get_ebay_access("nobody") is None
