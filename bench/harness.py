"""The sandbox stack as the benchmarks drive it.

* :func:`bench_stack` starts ``sandbox.stack.local_stack`` (moto in-process,
  the real ASL, task Lambdas in this process) and an eBay simulator, either
  the stack's own (in this process) or one in a **separate process**
  (``python -m sandbox.ebay_sim``), which then gets the eBay URLs through
  ``StackConfig.extra_env``. Out of process, the simulator's arrival stamps do
  not wait for this process' GIL, as eBay would not. A stack can also attach
  to a simulator that is already running (``ebay_url``): several engine
  processes then bid against one simulator (``bench.shard``).
* :class:`HandlerProbe` wraps every task Lambda (``sandbox.engine.HANDLERS``)
  to time invocations and to know, per thread, which snipe is being worked on;
  it also wraps the bid task's precise sleep to see its slack and overshoot.
  Nothing in the product code changes: the wrappers call the real handlers.
* :func:`create_snipes` schedules snipes through the scheduling use case
  (``workflows.scheduling.create_snipe``) from a thread pool.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from bench import env as _env  # noqa: F401 - must run before boto3/Powertools
from bench.common import REPO_ROOT
from sandbox import engine
from sandbox.aws import load_template
from sandbox.processes import stop_process
from sandbox.stack import (
    EBAY_CLIENT_ID,
    EBAY_CLIENT_SECRET,
    EBAY_RU_NAME,
    LocalStack,
    StackConfig,
    local_stack,
)
from workflows import bidding, scheduling, timing
from workflows.models import Identity, Snipe
from workflows.scheduling import CreateSnipeRequest, MaxBidInput

_local = threading.local()


def current_snipe() -> str | None:
    """The snipe the current thread works on (set by the probe and the API)."""
    value = getattr(_local, "snipe_id", None)
    return value if isinstance(value, str) else None


@contextlib.contextmanager
def working_on(snipe_id: str | None) -> Iterator[None]:
    previous = getattr(_local, "snipe_id", None)
    _local.snipe_id = snipe_id
    try:
        yield
    finally:
        _local.snipe_id = previous


# --------------------------------------------------------------------------- #
# eBay simulator: in this process or in another one
# --------------------------------------------------------------------------- #
class EbayAdmin(Protocol):
    url: str

    def create_auction(
        self, *, end_at: float, start_price: str = "10.00", title: str = "Bench item"
    ) -> str: ...

    def register_user(self, username: str) -> str: ...

    def add_rival(
        self, item_id: str, max_amount: str, *, seconds_before_end: float | None
    ) -> None: ...

    def end_auction(self, item_id: str) -> None: ...

    def bid_requests(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class InProcessEbay:
    """The stack's own simulator (``LocalStack.ebay``)."""

    def __init__(self, stack: LocalStack) -> None:
        self._sim = stack.ebay
        self.url = stack.ebay_url

    def create_auction(
        self, *, end_at: float, start_price: str = "10.00", title: str = "Bench item"
    ) -> str:
        return self._sim.create_auction(
            end_at=end_at, start_price=start_price, title=title
        ).item_id

    def register_user(self, username: str) -> str:
        return self._sim.register_user(username)

    def add_rival(
        self, item_id: str, max_amount: str, *, seconds_before_end: float | None
    ) -> None:
        self._sim.add_rival(item_id, max_amount, seconds_before_end=seconds_before_end)

    def end_auction(self, item_id: str) -> None:
        self._sim.end_auction(item_id)

    def bid_requests(self) -> list[dict[str, Any]]:
        return self._sim.requests(endpoint="place_proxy_bid")

    def close(self) -> None:
        pass


class RemoteEbay:
    """A simulator in another process, driven over ``/sim`` at ``url``.

    Attaching does not own the process: :meth:`close` closes the client only.
    Several engine processes (``bench.shard``) attach to one simulator."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=self.url, timeout=30.0)

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._http.post(path, json=dict(body))
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def create_auction(
        self, *, end_at: float, start_price: str = "10.00", title: str = "Bench item"
    ) -> str:
        data = self._post(
            "/sim/auctions",
            {"end_at": end_at, "start_price": start_price, "title": title},
        )
        return str(data["item_id"])

    def register_user(self, username: str) -> str:
        return str(self._post("/sim/users", {"username": username})["refresh_token"])

    def add_rival(
        self, item_id: str, max_amount: str, *, seconds_before_end: float | None
    ) -> None:
        body: dict[str, Any] = {"max_amount": max_amount}
        if seconds_before_end is not None:
            body["seconds_before_end"] = seconds_before_end
        self._post(f"/sim/auctions/{item_id}/rivals", body)

    def end_auction(self, item_id: str) -> None:
        self._post(f"/sim/auctions/{item_id}/end", {})

    def bid_requests(self) -> list[dict[str, Any]]:
        response = self._http.get(
            "/sim/requests", params={"endpoint": "place_proxy_bid"}
        )
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._http.close()


class ExternalEbay(RemoteEbay):
    """``python -m sandbox.ebay_sim`` in a child process (owned: :meth:`close`
    stops it), driven over ``/sim``."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - our own module
            [
                sys.executable,
                "-m",
                "sandbox.ebay_sim",
                "--port",
                "0",
                "--client-id",
                EBAY_CLIENT_ID,
                "--client-secret",
                EBAY_CLIENT_SECRET,
                "--ru-name",
                EBAY_RU_NAME,
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if "http://" not in line:
            self._stop()
            raise RuntimeError(f"eBay simulator did not start: {line!r}")
        super().__init__(line[line.index("http://") :])

    def close(self) -> None:
        super().close()
        self._stop()

    def _stop(self) -> None:
        stop_process(self._process, signal.SIGTERM, 10, group=False)


# --------------------------------------------------------------------------- #
# Probes around the task Lambdas
# --------------------------------------------------------------------------- #
@dataclass
class Invocation:
    function: str  # logical id, e.g. PlaceBidFunction
    snipe_id: str | None
    started: float  # epoch seconds
    seconds: float
    error: str | None = None


@dataclass
class SleepRecord:
    snipe_id: str | None
    entered: float  # epoch seconds when the bid task started its precise sleep
    slack_s: float  # deadline - now at entry (negative: the work before overran)
    overshoot_s: float  # how late the sleep returned after the deadline


@dataclass
class HandlerProbe:
    """Times every task Lambda invocation; records the bid task's sleeps."""

    invocations: list[Invocation] = field(default_factory=list)
    sleeps: list[SleepRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, logical_id: str, handler_path: str) -> engine.Handler:
        real = engine.LazyHandler(handler_path)

        def handler(event: dict[str, Any], context: Any) -> Any:
            snipe_id = event.get("snipe_id") if isinstance(event, dict) else None
            started = time.time()
            clock = time.perf_counter()
            error: str | None = None
            with working_on(snipe_id if isinstance(snipe_id, str) else None):
                try:
                    return real(event, context)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {str(exc)[:120]}"
                    raise
                finally:
                    record = Invocation(
                        function=logical_id,
                        snipe_id=current_snipe(),
                        started=started,
                        seconds=time.perf_counter() - clock,
                        error=error,
                    )
                    with self._lock:
                        self.invocations.append(record)

        return handler

    def _sleep(self, original: Callable[..., None]) -> Callable[..., None]:
        def sleep_until_deadline(deadline: float, **kwargs: Any) -> None:
            entered = time.time()
            slack = deadline - time.monotonic()
            original(deadline, **kwargs)
            overshoot = time.monotonic() - deadline
            with self._lock:
                self.sleeps.append(
                    SleepRecord(current_snipe(), entered, slack, overshoot)
                )

        return sleep_until_deadline

    @contextlib.contextmanager
    def installed(self, stack: LocalStack) -> Iterator[None]:
        template = load_template()
        handlers: dict[str, engine.Handler] = {}
        for logical_id, name in stack.aws.function_names.items():
            props = template["Resources"][logical_id].get("Properties", {})
            path = props.get("Handler")
            if isinstance(path, str):
                handlers[name] = self.wrap(logical_id, path)
        # workflows.bidding calls the name it imported from workflows.timing.
        original = timing.sleep_until_deadline
        setattr(bidding, "sleep_until_deadline", self._sleep(original))  # noqa: B010
        try:
            with engine.registered_handlers(handlers):
                yield
        finally:
            setattr(bidding, "sleep_until_deadline", original)  # noqa: B010


# --------------------------------------------------------------------------- #
# The stack
# --------------------------------------------------------------------------- #
@dataclass
class BenchStack:
    stack: LocalStack
    ebay: EbayAdmin
    probe: HandlerProbe
    linked: dict[str, str] = field(default_factory=dict)  # user -> email

    def link(self, user_id: str) -> Identity:
        refresh = self.ebay.register_user(user_id)
        self.stack.services.store.put_ebay_account(user_id, refresh)
        email = f"{user_id}@example.com"
        self.linked[user_id] = email
        return Identity(user_id=user_id, email=email)


@contextlib.contextmanager
def quiet_logs(log_file: IO[str] | None) -> Iterator[None]:
    """Keep moto's and werkzeug's chatter off the console; Powertools' JSON
    lines (the functions' own logs, as on AWS) go to ``log_file``. Restored
    afterwards."""
    levels = {}
    for name in ("moto", "werkzeug", "botocore", "urllib3", "httpx", "sandbox"):
        named = logging.getLogger(name)
        levels[name] = named.level
        named.setLevel(logging.CRITICAL)
    from workflows.observability import logger as powertools_logger

    streams: list[tuple[logging.StreamHandler[Any], Any]] = []
    if log_file is not None:
        for handler in logging.getLogger(powertools_logger.name).handlers:
            if isinstance(handler, logging.StreamHandler):
                streams.append((handler, handler.setStream(log_file)))
    try:
        yield
    finally:
        for handler, stream in streams:
            handler.setStream(stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def bench_stack(
    *,
    lead_s: float,
    settle_s: float,
    external_ebay: bool,
    extra_env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    ebay_url: str | None = None,
) -> Iterator[BenchStack]:
    """The local stack with the probe installed; the eBay simulator in or out
    of this process. With ``ebay_url``, the stack attaches to that (running,
    out-of-process) simulator instead of starting one; it does not stop it."""
    with contextlib.ExitStack() as exits:
        env: dict[str, str] = dict(extra_env or {})
        external: RemoteEbay | None = None
        if ebay_url is not None:
            external = RemoteEbay(ebay_url)
        elif external_ebay:
            external = ExternalEbay()
        if external is not None:
            exits.callback(external.close)
            env.update(
                {"EBAY_API_BASE_URL": external.url, "EBAY_AUTH_BASE_URL": external.url}
            )
        log_file: IO[str] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = exits.enter_context(log_path.open("w"))
            # Powertools Metrics prints its EMF blobs to stdout, as on AWS.
            exits.enter_context(contextlib.redirect_stdout(log_file))
        exits.enter_context(quiet_logs(log_file))
        stack = exits.enter_context(
            local_stack(
                StackConfig(lead_seconds=lead_s, settle_seconds=settle_s, extra_env=env)
            )
        )
        probe = HandlerProbe()
        exits.enter_context(probe.installed(stack))
        ebay: EbayAdmin = external if external is not None else InProcessEbay(stack)
        yield BenchStack(stack=stack, ebay=ebay, probe=probe)


# --------------------------------------------------------------------------- #
# Scheduling snipes
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class SnipeSpec:
    identity: Identity
    item_id: str
    max_bid: str = "50.00"
    offset_s: int = 2


def create_snipe(stack: BenchStack, spec: SnipeSpec) -> Snipe:
    request = CreateSnipeRequest(
        item_id=spec.item_id,
        max_bid=MaxBidInput(value=spec.max_bid, currency="USD"),
        bid_offset_seconds=spec.offset_s,
    )
    return scheduling.create_snipe(stack.stack.services, spec.identity, request)


def create_snipes(
    stack: BenchStack, specs: Sequence[SnipeSpec], *, workers: int
) -> list[Snipe]:
    """Schedule every spec (order kept); raises the first failure."""
    if workers <= 1:
        return [create_snipe(stack, spec) for spec in specs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="create") as pool:
        return list(pool.map(lambda spec: create_snipe(stack, spec), specs))


def wait_all(
    stack: BenchStack, snipes: Sequence[Snipe], *, timeout: float
) -> dict[str, str]:
    """Each snipe's execution status once none is RUNNING (current execution)."""
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    store = stack.stack.services.store
    for snipe in snipes:
        current = store.get(snipe.snipe_id)
        arn = current.execution_arn or snipe.execution_arn
        if arn is None:
            statuses[snipe.snipe_id] = "NO_EXECUTION"
            continue
        remaining = max(1.0, deadline - time.monotonic())
        try:
            described = stack.stack.aws.wait_for_execution(arn, timeout=remaining)
            statuses[snipe.snipe_id] = str(described["status"])
        except TimeoutError:
            statuses[snipe.snipe_id] = "RUNNING"
    return statuses
