"""Fixture bodies shared by the eBay and Postmark simulator tests: one server
per module, a simulator reset for each test, an HTTP client to the server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import httpx

from sandbox.httpserver import BackgroundServer


class _Resettable(Protocol):
    def reset(self) -> None: ...


S = TypeVar("S", bound=_Resettable)


def serving(
    start: Callable[[], tuple[S, BackgroundServer]],
) -> Iterator[tuple[S, BackgroundServer]]:
    """Start a simulator's server, yield it, stop it."""
    sim, server = start()
    try:
        yield sim, server
    finally:
        server.stop()


def reset(running: tuple[S, BackgroundServer]) -> S:
    """The running simulator, as new."""
    running[0].reset()
    return running[0]


def client_of(running: tuple[S, BackgroundServer]) -> Iterator[httpx.Client]:
    """An HTTP client to the running simulator's server."""
    with httpx.Client(base_url=running[1].url, timeout=5.0) as http:
        yield http
