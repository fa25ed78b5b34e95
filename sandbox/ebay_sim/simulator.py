"""``EbaySimulator``: injected faults and the request log on top of the auctions."""

from __future__ import annotations

from typing import Any

from sandbox.ebay_sim.auctions import AuctionHouse
from sandbox.ebay_sim.errors import _BROWSE_ERRORS, _OFFER_ERRORS
from sandbox.ebay_sim.state import _FAULT_ENDPOINTS, Fault, _RequestRecord
from sandbox.faults import check_fault_args


class EbaySimulator(AuctionHouse):
    """All simulator state plus the Python API that tests use directly."""

    def inject_fault(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        error_id: int | None = None,
        message: str | None = None,
        latency_ms: int = 0,
        timeout_s: float | None = None,
        token_expired: bool = False,
        count: int | None = None,
        item_id: str | None = None,
        reset: bool = False,
    ) -> Fault:
        """Inject a fault for ``endpoint`` (one of :data:`ENDPOINTS` or ``"*"``).

        ``count`` = apply to the next N matching requests (None: until cleared).
        ``error_id`` alone picks the status from the spec's catalogue.
        """
        check_fault_args(
            endpoint,
            _FAULT_ENDPOINTS,
            status=status,
            count=count,
            latency_ms=latency_ms,
            timeout_s=timeout_s,
        )
        if token_expired and endpoint in ("token", "authorize"):
            raise ValueError("token_expired applies to Bearer endpoints only")
        if status is None and error_id is not None:
            catalogue = {**_OFFER_ERRORS, **_BROWSE_ERRORS}
            if error_id not in catalogue:
                raise ValueError(f"unknown error_id {error_id}; give a status")
            status = catalogue[error_id][0]
        if not (status or latency_ms or timeout_s or token_expired or reset):
            raise ValueError(
                "a fault needs status, latency_ms, timeout_s, token_expired or reset"
            )
        return self._add_fault(
            Fault(
                fault_id=self._next_fault_id(),
                endpoint=endpoint,
                item_id=None if item_id is None else self._normalize_id(item_id),
                status=status,
                error_id=error_id,
                message=message,
                latency_ms=latency_ms,
                timeout_s=timeout_s,
                token_expired=token_expired,
                reset=reset,
                remaining=count,
            )
        )

    def _take_fault(self, endpoint: str, item_id: str | None) -> Fault | None:
        fault: Fault | None = self._take_matching(
            endpoint, lambda f: f.item_id is None or f.item_id == item_id
        )
        return fault

    def _normalize_id(self, item_id: str) -> str:
        if item_id.isdigit():
            return self._legacy.get(item_id, f"v1|{item_id}|0")
        return item_id

    def requests(
        self,
        endpoint: str | None = None,
        item_id: str | None = None,
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """The request log (oldest arrival first). Never contains token values."""
        with self._lock:
            wanted = None if item_id is None else self._normalize_id(item_id)
            records = [
                r.to_dict()
                for r in self._requests
                if (endpoint is None or r.endpoint == endpoint)
                and (wanted is None or r.item_id == wanted)
                and (user is None or r.user == user)
            ]
        return sorted(records, key=lambda r: (r["arrival"], r["seq"]))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, record: _RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _next_request_seq(self) -> int:
        with self._lock:
            return next(self._request_seq)
