"""One eBay application token for all containers (workflows.app_token):
stored sealed in the table, refreshed by the one container that wins the
lease, re-read by the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tests.support.table import create_table
from workflows.app_token import LEASE, REFRESH_AHEAD, SharedAppToken
from workflows.crypto import TokenVault
from workflows.ebay import AccessToken
from workflows.table_access import Table

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Mint:
    """eBay's client-credentials grant: a new 2-hour token per call."""

    clock: list[datetime]
    issued: list[str] = field(default_factory=list)

    def __call__(self) -> AccessToken:
        value = f"app-token-{len(self.issued) + 1}"
        self.issued.append(value)
        return AccessToken(value, self.clock[0] + timedelta(hours=2))


@dataclass
class World:
    table: Table
    vault: TokenVault
    clock: list[datetime]
    mint: Mint

    def container(self) -> SharedAppToken:
        return SharedAppToken(
            self.table,
            self.vault,
            self.mint,
            clock=lambda: self.clock[0],
            sleep=lambda seconds: None,
        )


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb, "app-token")
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        clock = [START]
        yield World(
            Table(dynamodb, "app-token"), TokenVault(key, kms), clock, Mint(clock)
        )


def test_containers_share_one_token(world: World) -> None:
    first, second, third = (world.container() for _ in range(3))

    tokens = {c.get().value for c in (first, second, third)}

    assert tokens == {"app-token-1"}
    assert world.mint.issued == ["app-token-1"]


def test_the_token_is_stored_sealed(world: World) -> None:
    world.container().get()
    item = world.table.client.get_item(
        TableName=world.table.name, Key={"PK": {"S": "APPTOKEN"}, "SK": {"S": "EBAY"}}
    )["Item"]
    assert "app-token-1" not in json.dumps(item)


def test_one_container_refreshes_before_expiry_and_the_others_read_it(
    world: World,
) -> None:
    first, second = world.container(), world.container()
    first.get()
    second.get()
    world.clock[0] += timedelta(hours=2) - REFRESH_AHEAD + timedelta(seconds=1)

    assert first.get().value == "app-token-2"
    assert second.get().value == "app-token-2"
    assert world.mint.issued == ["app-token-1", "app-token-2"]


def test_while_another_holds_the_lease_the_current_token_is_used(
    world: World,
) -> None:
    first, second = world.container(), world.container()
    first.get()
    world.clock[0] += timedelta(hours=2) - REFRESH_AHEAD + timedelta(seconds=1)
    assert second._claim(world.clock[0])  # another container started refreshing

    assert first.get().value == "app-token-1"  # still valid for ~15 minutes
    assert world.mint.issued == ["app-token-1"]
    world.clock[0] += LEASE + timedelta(seconds=1)  # that refresher died
    assert first.get().value == "app-token-2"


def test_without_any_token_a_container_waits_then_mints_its_own(
    world: World,
) -> None:
    holder, waiting = world.container(), world.container()
    assert holder._claim(world.clock[0])

    token = waiting.get()

    assert token.value == "app-token-1"  # minted locally, not stored
    assert holder._read() is None


def test_a_rejected_token_is_refreshed_by_the_next_reader(world: World) -> None:
    first, second = world.container(), world.container()
    token = first.get()
    second.get()

    first.rejected(token)

    assert second._read() is None
    assert world.container().get().value == "app-token-2"


def test_a_broken_table_falls_back_to_a_local_token(world: World) -> None:
    broken = SharedAppToken(
        Table(world.table.client, "no-such-table"),
        world.vault,
        world.mint,
        clock=lambda: world.clock[0],
    )
    assert broken.get().value == "app-token-1"
