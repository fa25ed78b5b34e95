"""respx answers shared by the tests of our httpx clients (eBay, Postmark)."""

from __future__ import annotations

import httpx
import respx

# Failures below HTTP that our clients call transient: (failure, no status).
TRANSPORT_FAILURES: list[tuple[Exception, None]] = [
    (httpx.ConnectError("connection refused"), None),
    (httpx.ConnectTimeout("connect timed out"), None),
    (httpx.ReadTimeout("read timed out"), None),
    (httpx.RemoteProtocolError("peer closed"), None),
]


def answer(route: respx.Route, response: httpx.Response | Exception) -> None:
    """``route`` answers with ``response``, or fails with it (an exception)."""
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)
