"""Task Lambda faults for the local engine: a crash or a Lambda timeout, on cue.

On AWS a task Lambda can die at any instruction: an out-of-memory kill, a
runtime crash, the function's timeout. The bid task must survive that *after*
it sent the bid, so the local engine (``sandbox.engine``'s invoke hook) can
kill an invocation on cue:

* ``kind="crash"``: the invocation dies; Step Functions sees the Lambda
  runtime's ``Runtime.ExitError``.
* ``kind="timeout"``: the invocation is stopped as the Lambda service does at
  the function's timeout; Step Functions sees ``Sandbox.Timedout``.

The cue is ``after_s`` seconds of running, or a predicate polled every
millisecond or two (``when``), e.g. "the eBay simulator has logged this item's
placeProxyBid" (:func:`request_logged`), or such a predicate made for each
invocation from its event when it starts (``when_for``; :func:`after_request`:
"this invocation's snipe's item got a new placeProxyBid at eBay"). The handler
runs in its own thread; to kill it the engine raises :class:`TaskKilled` (a
``BaseException``, so no ``except Exception`` in our code swallows it) in that
thread with ``PyThreadState_SetAsyncExc``. It takes effect at the thread's next
Python instruction: a thread blocked in a socket read dies when the read
returns, before it can act on the answer -- a process killed after the send and
before recording anything. The caller gets the error at once, as Step Functions
would; the dying thread's later effects are none.

Faults match a function name and optionally a snipe id (``event["snipe_id"]``)
and apply ``count`` times (``None``: until cleared).
"""

from __future__ import annotations

import ctypes
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

__all__ = [
    "TaskDied",
    "TaskFault",
    "TaskKilled",
    "after_request",
    "clear_task_faults",
    "inject_task_fault",
    "request_logged",
    "run_with_fault",
    "take_task_fault",
    "task_faults",
]

Kind = Literal["crash", "timeout"]
Cue = Callable[[], bool]
POLL_S: Final = 0.001

ERRORS: Final[dict[str, tuple[str, str]]] = {
    "crash": (
        "Runtime.ExitError",
        "RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    ),
    "timeout": (
        "Sandbox.Timedout",
        "RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
    ),
}


class TaskKilled(BaseException):
    """Raised inside a killed invocation's thread (never caught by our code)."""


class TaskDied(Exception):
    """The invocation was killed; ``error_type`` is what Step Functions sees."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def body(self) -> bytes:
        return json.dumps(
            {"errorType": self.error_type, "errorMessage": self.message}
        ).encode()


@dataclass
class TaskFault:
    fault_id: str
    function: str
    kind: Kind
    after_s: float | None = None
    when: Cue | None = None
    when_for: Callable[[Any], Cue] | None = None  # the event -> its cue
    snipe_id: str | None = None
    remaining: int | None = 1
    hits: int = 0
    killed: list[float] = field(default_factory=list)  # monotonic kill times
    killed_at: list[float] = field(default_factory=list)  # the same, epoch seconds

    def matches(self, function: str, event: Any) -> bool:
        if self.function != function:
            return False
        if self.snipe_id is None:
            return True
        return isinstance(event, dict) and event.get("snipe_id") == self.snipe_id


_lock = threading.Lock()
_faults: list[TaskFault] = []
_ids = itertools.count(1)


def inject_task_fault(
    function: str,
    kind: Kind,
    *,
    after_s: float | None = None,
    when: Cue | None = None,
    when_for: Callable[[Any], Cue] | None = None,
    snipe_id: str | None = None,
    count: int | None = 1,
) -> TaskFault:
    """Kill the next ``count`` invocations of ``function`` on the cue."""
    if kind not in ERRORS:
        raise ValueError(f"kind must be one of {sorted(ERRORS)}")
    if [after_s, when, when_for].count(None) != 2:
        raise ValueError("give exactly one cue: after_s, when or when_for")
    if after_s is not None and after_s < 0:
        raise ValueError("after_s must be >= 0")
    if count is not None and count < 1:
        raise ValueError("count must be >= 1")
    fault = TaskFault(
        fault_id=f"task-fault-{next(_ids)}",
        function=function,
        kind=kind,
        after_s=after_s,
        when=when,
        when_for=when_for,
        snipe_id=snipe_id,
        remaining=count,
    )
    with _lock:
        _faults.append(fault)
    return fault


def task_faults() -> list[TaskFault]:
    with _lock:
        return list(_faults)


def clear_task_faults() -> int:
    with _lock:
        removed = len(_faults)
        _faults.clear()
        return removed


def take_task_fault(function: str, event: Any) -> TaskFault | None:
    """The fault that applies to this invocation (its count is used up)."""
    if not _faults:  # the common path takes no lock
        return None
    with _lock:
        for fault in _faults:
            if fault.matches(function, event):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        _faults.remove(fault)
                return fault
    return None


class RequestLog(Protocol):
    """A simulator's request log (``EbaySimulator.requests``)."""

    def requests(
        self, endpoint: str | None = None, item_id: str | None = None
    ) -> list[dict[str, Any]]: ...


def request_logged(log: RequestLog, endpoint: str, item_id: str, seen: int = 0) -> Cue:
    """A cue: ``log`` holds more than ``seen`` ``endpoint`` requests for
    ``item_id`` (e.g. eBay has processed the item's placeProxyBid)."""
    return lambda: len(log.requests(endpoint=endpoint, item_id=item_id)) > seen


def after_request(
    log: RequestLog, endpoint: str, item_of: Callable[[str], str | None]
) -> Callable[[Any], Cue]:
    """``when_for``: the cue of one invocation is :func:`request_logged` for
    its snipe's item (``item_of(event["snipe_id"])``), counting only the
    requests logged after it started. Without a known item it never fires."""

    def when_for(event: Any) -> Cue:
        snipe_id = event.get("snipe_id") if isinstance(event, dict) else None
        item_id = item_of(snipe_id) if isinstance(snipe_id, str) else None
        if item_id is None:
            return lambda: False
        seen = len(log.requests(endpoint=endpoint, item_id=item_id))
        return request_logged(log, endpoint, item_id, seen)

    return when_for


def _kill(thread: threading.Thread) -> None:
    ident = thread.ident
    if ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(TaskKilled)
    )


def run_with_fault(
    fault: TaskFault,
    handler: Callable[[dict[str, Any], Any], Any],
    event: dict[str, Any],
    context: Any,
) -> Any:
    """Run ``handler`` in a thread; kill it on the fault's cue (``TaskDied``).

    A handler that finishes before the cue returns (or raises) as usual.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()
    when = fault.when if fault.when_for is None else fault.when_for(event)

    def target() -> None:
        try:
            outcome["result"] = handler(event, context)
        except TaskKilled:
            outcome["killed"] = True
        except BaseException as exc:  # handed to the invoking thread
            outcome["error"] = exc
        finally:
            done.set()

    started = time.monotonic()
    thread = threading.Thread(target=target, name=f"{fault.function}-faulty")
    thread.daemon = True
    thread.start()
    while not done.wait(POLL_S):
        elapsed = time.monotonic() - started
        due = (fault.after_s is not None and elapsed >= fault.after_s) or (
            when is not None and when()
        )
        if due and not done.is_set():
            _kill(thread)
            fault.killed.append(time.monotonic())
            fault.killed_at.append(time.time())
            error_type, template = ERRORS[fault.kind]
            request_id = getattr(context, "aws_request_id", "-")
            raise TaskDied(
                error_type, template.format(request_id=request_id, seconds=elapsed)
            )
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
