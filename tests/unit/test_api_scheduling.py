"""Pure parts of the API's use cases (workflows.scheduling): inputs and ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.executions import execution_arn_for
from workflows.scheduling import (
    SNIPE_ID_PATTERN,
    CreateSnipeRequest,
    MaxBidInput,
    new_snipe_id,
)

EPOCH_2020 = datetime(2020, 1, 1, tzinfo=UTC)

amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2
)


@given(amount=amounts)
def test_two_decimal_amounts_convert_exactly(amount: Decimal) -> None:
    text = f"{amount:f}"

    money = MaxBidInput(value=text, currency="USD").to_money()

    assert money.to_decimal() == amount
    assert money.currency == "USD"


@given(amount=amounts, extra=st.integers(min_value=1, max_value=9))
def test_sub_cent_amounts_are_refused_for_two_decimal_currencies(
    amount: Decimal, extra: int
) -> None:
    text = f"{amount:f}{extra}"  # a third decimal digit, non-zero

    with pytest.raises(ValidationError):
        MaxBidInput(value=text, currency="USD")
    assert MaxBidInput(value=text, currency="KWD").to_money().currency == "KWD"


def test_whole_yen_only() -> None:
    assert MaxBidInput(value="100", currency="JPY").to_money().amount_minor == 100
    with pytest.raises(ValidationError):
        MaxBidInput(value="1.5", currency="JPY")


@pytest.mark.parametrize("value", [12.5, 12, None])
def test_amounts_must_be_strings(value: object) -> None:
    with pytest.raises(ValidationError):
        MaxBidInput.model_validate({"value": value, "currency": "USD"})


def test_request_defaults_and_bounds() -> None:
    body = {"item_id": "1", "max_bid": {"value": "1.00", "currency": "USD"}}

    assert CreateSnipeRequest.model_validate(body).bid_offset_seconds == 6
    for offset in (1, 60):
        parsed = CreateSnipeRequest.model_validate(
            {**body, "bid_offset_seconds": offset}
        )
        assert parsed.bid_offset_seconds == offset
    for offset in (0, 61, -1):
        with pytest.raises(ValidationError):
            CreateSnipeRequest.model_validate({**body, "bid_offset_seconds": offset})


@given(
    first=st.integers(min_value=0, max_value=10**11),
    gap=st.integers(min_value=1, max_value=10**9),
)
def test_snipe_ids_sort_by_creation_time(first: int, gap: int) -> None:
    earlier = EPOCH_2020 + timedelta(milliseconds=first)
    later = earlier + timedelta(milliseconds=gap)

    a, b = new_snipe_id(earlier), new_snipe_id(later)

    assert a < b
    for snipe_id in (a, b):
        assert SNIPE_ID_PATTERN.fullmatch(snipe_id)
        assert len(snipe_id) == 30  # a valid Step Functions execution name


def test_snipe_ids_in_the_same_millisecond_differ() -> None:
    ids = {new_snipe_id(EPOCH_2020) for _ in range(1000)}

    assert len(ids) == 1000


def test_execution_arn_follows_the_state_machine_arn() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:Snipe-abc"

    assert execution_arn_for(arn, "snp_X") == (
        "arn:aws:states:eu-west-1:123456789012:execution:Snipe-abc:snp_X"
    )
