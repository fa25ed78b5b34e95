"""Fault injection bookkeeping shared by the eBay and Postmark simulators.

:class:`InjectedFault` holds what every simulator's fault has and
:class:`FaultOptions` the matching keyword arguments of ``inject_fault``; each
simulator subclasses the one and adds its own keywords to the other.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypedDict, TypeVar

F = TypeVar("F")


class FaultOptions(TypedDict, total=False):
    """The keyword arguments every simulator's ``inject_fault`` takes.

    ``status``: answer it (4xx/5xx); ``latency_ms``: sleep first; ``timeout_s``:
    hold the response after the outcome is decided; ``count``: apply to the next
    N matching requests (None: until cleared); ``message``: the error's text.
    """

    status: int | None
    message: str | None
    latency_ms: int
    timeout_s: float | None
    count: int | None


@dataclass(kw_only=True)
class InjectedFault:
    """An injected fault's common fields. ``remaining=None`` means until cleared."""

    fault_id: str
    endpoint: str
    status: int | None = None
    message: str | None = None
    latency_ms: int = 0
    timeout_s: float | None = None
    remaining: int | None = None
    hits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_fault_args(
    endpoint: str, allowed: Collection[str], options: FaultOptions
) -> None:
    """The checks every simulator applies to a new fault (ValueError if off)."""
    status, count = options.get("status"), options.get("count")
    timeout_s = options.get("timeout_s")
    if endpoint not in allowed:
        raise ValueError(f"unknown endpoint {endpoint!r}; use one of {sorted(allowed)}")
    if status is not None and not 400 <= status <= 599:
        raise ValueError("status must be a 4xx/5xx code")
    if count is not None and count < 1:
        raise ValueError("count must be >= 1")
    if options.get("latency_ms", 0) < 0 or (timeout_s is not None and timeout_s < 0):
        raise ValueError("latency_ms / timeout_s must be >= 0")


def require_effect(options: FaultOptions, **effects: bool) -> None:
    """A fault must do something: a status, a delay, or one of the simulator's
    own ``effects`` (named in the error in the order given)."""
    names = ["status", "latency_ms", "timeout_s", *effects]
    if not (
        options.get("status")
        or options.get("latency_ms")
        or options.get("timeout_s")
        or any(effects.values())
    ):
        raise ValueError(f"a fault needs {', '.join(names[:-1])} or {names[-1]}")


class FaultRegistry:
    """List, clear and remove injected faults (the simulator holds ``_faults``),
    and take the next one that applies to a request."""

    _lock: threading.RLock
    _faults: list[Any]
    _ids: Iterator[int]

    def _next_fault_id(self) -> str:
        return f"fault-{next(self._ids)}"

    def _add_fault(self, fault: F) -> F:
        with self._lock:
            self._faults.append(fault)
            return fault

    def _new_fault(
        self, make: Callable[..., F], endpoint: str, options: FaultOptions, **own: Any
    ) -> F:
        """Create (with ``make``: the simulator's fault class) and add a fault."""
        return self._add_fault(
            make(
                fault_id=self._next_fault_id(),
                endpoint=endpoint,
                status=options.get("status"),
                message=options.get("message"),
                latency_ms=options.get("latency_ms", 0),
                timeout_s=options.get("timeout_s"),
                remaining=options.get("count"),
                **own,
            )
        )

    def _take_matching(self, endpoint: str, applies: Callable[[Any], bool]) -> Any:
        """A copy of the first fault for ``endpoint`` that ``applies`` to the
        request (counted; used up after its ``remaining`` hits), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in ("*", endpoint) or not applies(fault):
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return copy.copy(fault)
            return None

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear_faults(self, endpoint: str | None = None) -> int:
        """Remove faults (all, or those of one endpoint); returns how many."""
        with self._lock:
            before = len(self._faults)
            self._faults = [
                f
                for f in self._faults
                if endpoint is not None and f.endpoint != endpoint
            ]
            return before - len(self._faults)

    def remove_fault(self, fault_id: str) -> None:
        with self._lock:
            remaining = [f for f in self._faults if f.fault_id != fault_id]
            if len(remaining) == len(self._faults):
                raise KeyError(fault_id)
            self._faults = remaining
