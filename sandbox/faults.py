"""Fault injection bookkeeping shared by the eBay and Postmark simulators."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any, Protocol, TypeVar

F = TypeVar("F")


class _Fault(Protocol):
    fault_id: str
    endpoint: str

    def to_dict(self) -> dict[str, Any]: ...


def check_fault_args(
    endpoint: str,
    allowed: Collection[str],
    *,
    status: int | None,
    count: int | None,
    latency_ms: int,
    timeout_s: float | None,
) -> None:
    """The checks every simulator applies to a new fault (ValueError if off)."""
    if endpoint not in allowed:
        raise ValueError(f"unknown endpoint {endpoint!r}; use one of {sorted(allowed)}")
    if status is not None and not 400 <= status <= 599:
        raise ValueError("status must be a 4xx/5xx code")
    if count is not None and count < 1:
        raise ValueError("count must be >= 1")
    if latency_ms < 0 or (timeout_s is not None and timeout_s < 0):
        raise ValueError("latency_ms / timeout_s must be >= 0")


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
