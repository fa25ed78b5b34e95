"""How long the bid task waits for eBay, and when it may send again.

Everything is derived from the time left before the auction ends (``left``,
seconds), so that when eBay stalls there is still room to ask ``getBidding``
whether the bid landed and, only if eBay has no bid of ours, to send it again
before the end. ``docs/reliability.md`` has the table per offset.

* **First send.** Read timeout ``(left - SEND_FLOOR) / 2`` bounded to
  ``[MIN_TIMEOUT, MAX_TIMEOUT]``: half of what is left stays for a check and a
  re-send. Connect timeout at most ``CONNECT_TIMEOUT`` (the connection is
  normally warm: the task opened it with a getBidding before the sleep).
* **Check.** ``getBidding`` with a timeout of ``CHECK_SHARE`` of what is left,
  bounded to ``[MIN_TIMEOUT, MAX_CHECK_TIMEOUT]``.
* **Re-send.** Only with at least ``RESEND_FLOOR`` left after the check, only
  after eBay said it has no bid of ours (or when every earlier request is known
  not to have been processed), at most ``MAX_SENDS`` requests in all; its read
  timeout is what is left minus a small margin.
"""

from __future__ import annotations

from typing import Final

import httpx

SEND_FLOOR: Final = 0.25
"""Below this many seconds before the end no request is sent at all."""
RESEND_FLOOR: Final = 0.3
"""A re-send needs at least this many seconds left (after the check)."""
MIN_TIMEOUT: Final = 0.25
MAX_TIMEOUT: Final = 5.0
CONNECT_TIMEOUT: Final = 1.0
CHECK_SHARE: Final = 0.3
MAX_CHECK_TIMEOUT: Final = 2.0
MAX_SENDS: Final = 3
RESEND_MARGIN: Final = 0.05


def _bounded(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def send_timeout(left: float, *, first: bool) -> httpx.Timeout:
    """The timeout of a placeProxyBid request sent ``left`` seconds before the end."""
    if first:
        read = _bounded((left - SEND_FLOOR) / 2, MIN_TIMEOUT, MAX_TIMEOUT)
    else:
        read = _bounded(left - RESEND_MARGIN, MIN_TIMEOUT, MAX_TIMEOUT)
    return httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))


def check_timeout(left: float) -> httpx.Timeout:
    """The timeout of the getBidding that decides about a re-send."""
    read = _bounded(left * CHECK_SHARE, MIN_TIMEOUT, MAX_CHECK_TIMEOUT)
    return httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))


def may_check(left: float) -> bool:
    """Worth asking getBidding now (a re-send could still follow)?"""
    return left >= RESEND_FLOOR + MIN_TIMEOUT / 2


def may_resend(left: float, sends_so_far: int) -> bool:
    return sends_so_far < MAX_SENDS and left >= RESEND_FLOOR


def stalled_first_send_leaves(offset: float, check_s: float) -> float:
    """Seconds left for a re-send when the first send (at ``offset`` seconds
    before the end) times out and the check then takes ``check_s``."""
    first = send_timeout(offset, first=True).read or 0.0
    return offset - first - check_s


def smallest_offset_with_resend(check_s: float, step: float = 0.05) -> float:
    """The smallest offset at which a stalled first send is still followed by
    a re-send, given a check taking ``check_s`` seconds."""
    offset = SEND_FLOOR
    while stalled_first_send_leaves(offset, check_s) < RESEND_FLOOR:
        offset = round(offset + step, 3)
    return offset
