"""The HTTP client lifecycle the eBay and Postmark clients share.

An ``HttpClientOwner`` holds one ``httpx.Client`` (one connection pool) for its
lifetime: the one it is given (tests, a shared pool; the caller closes it) or
one it builds and then closes itself (``close``, or leaving a ``with`` block).
httpx is used only by the adapters built on this (``workflows.ebay``,
``workflows.postmark``).
"""

from __future__ import annotations

from typing import Self

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)


class HttpClientOwner:
    """Owns (or borrows) one ``httpx.Client``."""

    def __init__(
        self,
        http: httpx.Client | None,
        timeout: httpx.Timeout | float,
        limits: httpx.Limits | None = None,
    ) -> None:
        self._timeout = timeout
        self._owns_http = http is None
        if http is None:
            http = (
                httpx.Client(timeout=timeout)
                if limits is None
                else httpx.Client(timeout=timeout, limits=limits)
            )
        self._http = http

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this instance created it."""
        if self._owns_http:
            self._http.close()
