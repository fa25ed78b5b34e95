"""Resource ids: a prefix and a ULID.

A ULID here is 48 bits of milliseconds since the epoch and 80 random bits, in
Crockford base32 (26 characters): ids sort by creation time and are valid Step
Functions execution names ([A-Za-z0-9-_], at most 80 characters).
"""

from __future__ import annotations

import secrets
from datetime import datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_LENGTH = 26


def new_ulid(prefix: str, now: datetime) -> str:
    """``prefix`` + a ULID for ``now``."""
    millis = int(now.timestamp() * 1000)
    value = (millis << 80) | secrets.randbits(80)
    chars = [CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return prefix + "".join(chars)


def is_ulid(value: str, prefix: str) -> bool:
    """Whether ``value`` is ``prefix`` followed by a ULID."""
    rest = value.removeprefix(prefix)
    return (
        value.startswith(prefix)
        and len(rest) == ULID_LENGTH
        and all(c in CROCKFORD for c in rest)
    )
