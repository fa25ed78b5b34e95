"""Run a WSGI app (the simulators, the SFN Local Lambda gateway) in a background thread.

The server is werkzeug's threaded server (one thread per connection, HTTP/1.1
keep-alive), so hundreds of concurrent requests are fine. Each request gets its
arrival time stamped into the WSGI environ under :data:`ARRIVAL_ENVIRON_KEY` as
soon as the request line has been read, before headers are parsed and before
the app runs; the simulators use it for their request logs.

Usage::

    with BackgroundServer(app) as server:
        httpx.get(f"{server.url}/health")
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["ARRIVAL_ENVIRON_KEY", "BackgroundServer", "request_arrival_time"]

ARRIVAL_ENVIRON_KEY = "sandbox.arrival_time"
"""WSGI environ key holding the request's arrival time (epoch seconds, float)."""

_LISTEN_BACKLOG = 1024
_POLL_INTERVAL_S = 0.05

_log = logging.getLogger(__name__)

WSGIApp = Callable[..., Any]


def request_arrival_time(environ: dict[str, Any]) -> float:
    """Return the stamped arrival time of a request, or now if it was not stamped.

    Requests served by another server (e.g. Flask's test client) are not stamped.
    """
    value = environ.get(ARRIVAL_ENVIRON_KEY)
    if isinstance(value, float):
        return value
    return time.time()


class _StampingRequestHandler(WSGIRequestHandler):
    """Stamps the arrival time right after the request line is read; quiet log."""

    _arrival: float = 0.0

    def parse_request(self) -> bool:
        self._arrival = time.time()
        return bool(super().parse_request())

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        environ[ARRIVAL_ENVIRON_KEY] = self._arrival or time.time()
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        _log.debug("%s %s -> %s", self.command, self.path, code)


def _loopback_only(host: str) -> None:
    if host != "127.0.0.1":
        raise ValueError("sandbox servers bind 127.0.0.1 only")


class BackgroundServer:
    """A werkzeug threaded WSGI server running in a daemon thread.

    ``port=0`` (the default) binds an ephemeral port; read it back from
    :attr:`port` or :attr:`url` after :meth:`start`. Only 127.0.0.1 is allowed
    unless ``check_host`` (which raises ValueError for a host it refuses) says
    otherwise.
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "sandbox-http",
        on_stop: Callable[[], None] | None = None,
        check_host: Callable[[str], object] = _loopback_only,
    ) -> None:
        check_host(host)
        self._app = app
        self._host = host
        self._requested_port = port
        self._name = name
        self._on_stop = on_stop
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> Self:
        """Bind the socket and start serving. Idempotent while running."""
        with self._lock:
            if self._server is not None:
                return self
            try:
                server = make_server(
                    self._host,
                    self._requested_port,
                    self._app,
                    threaded=True,
                    request_handler=_StampingRequestHandler,
                )
            except SystemExit as exc:  # werkzeug exits on bind errors
                raise OSError(
                    f"cannot bind {self._host}:{self._requested_port}"
                ) from exc
            # werkzeug listens with a backlog of 128; allow bigger bursts.
            server.socket.listen(_LISTEN_BACKLOG)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL_S},
                name=f"{self._name}:{server.port}",
                daemon=True,
            )
            thread.start()
            self._server = server
            self._thread = thread
            return self

    @property
    def port(self) -> int:
        """The bound port (only valid after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.port)

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self._host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting connections, close the socket and join the thread.

        In-flight requests run in daemon threads and are not waited for.
        Idempotent.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = None
            self._thread = None
        if server is None:
            return
        try:
            if self._on_stop is not None:
                self._on_stop()
        finally:
            server.shutdown()
            server.server_close()
            if thread is not None:
                thread.join(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
