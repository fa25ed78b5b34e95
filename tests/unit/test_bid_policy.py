"""The bid task's timeouts and re-send decision fit the time left (bid_policy)."""

from __future__ import annotations

import pytest

from workflows import bid_policy


@pytest.mark.parametrize("offset", [1, 2, 3, 6, 10, 30, 60])
def test_a_stalled_first_send_leaves_room_to_check_and_send_again(offset: int) -> None:
    first = bid_policy.send_timeout(offset, first=True)
    assert first.read is not None and first.connect is not None
    assert bid_policy.MIN_TIMEOUT <= first.read <= bid_policy.MAX_TIMEOUT
    assert first.connect <= first.read
    left = offset - first.read
    assert left >= offset / 2  # half of the time stays for the check and re-send
    check = bid_policy.check_timeout(left).read
    assert check is not None and check < left
    # Even if the check uses its whole timeout, a re-send still fits.
    assert bid_policy.may_resend(left - check, sends_so_far=1)


def test_the_documented_smallest_offset_with_a_resend() -> None:
    # docs/reliability.md: with getBidding answering in 50 ms, a stalled first
    # send is followed by a re-send from 0.6 s on (below the API's 1 s minimum).
    assert bid_policy.smallest_offset_with_resend(0.05) == 0.6
    assert bid_policy.smallest_offset_with_resend(0.3) == 0.95
    assert bid_policy.stalled_first_send_leaves(2, 0.05) == pytest.approx(1.075)


def test_a_resend_uses_what_is_left_and_never_more_than_the_cap() -> None:
    assert bid_policy.send_timeout(1.0, first=False).read == pytest.approx(0.95)
    assert bid_policy.send_timeout(30.0, first=False).read == bid_policy.MAX_TIMEOUT
    assert bid_policy.send_timeout(0.1, first=False).read == bid_policy.MIN_TIMEOUT


def test_no_resend_without_time_or_beyond_the_send_limit() -> None:
    assert not bid_policy.may_resend(bid_policy.RESEND_FLOOR - 0.01, sends_so_far=1)
    assert not bid_policy.may_resend(5.0, sends_so_far=bid_policy.MAX_SENDS)
    assert bid_policy.may_resend(5.0, sends_so_far=bid_policy.MAX_SENDS - 1)
    assert not bid_policy.may_check(0.3)
    assert bid_policy.may_check(0.5)
