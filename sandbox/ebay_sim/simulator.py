"""``EbaySimulator``: injected faults and the request log on top of the auctions."""

from __future__ import annotations

from typing import Any, Unpack

from sandbox.ebay_sim.auctions import AuctionHouse
from sandbox.ebay_sim.errors import _BROWSE_ERRORS, _OFFER_ERRORS
from sandbox.ebay_sim.state import _FAULT_ENDPOINTS, Fault, _RequestRecord
from sandbox.faults import FaultOptions, check_fault_args, require_effect


class EbaySimulator(AuctionHouse):
    """All simulator state plus the Python API that tests use directly."""

    def inject_fault(
        self,
        endpoint: str,
        *,
        error_id: int | None = None,
        token_expired: bool = False,
        item_id: str | None = None,
        reset: bool = False,
        **options: Unpack[FaultOptions],
    ) -> Fault:
        """Inject a fault for ``endpoint`` (one of :data:`ENDPOINTS` or ``"*"``).

        ``options``: :class:`~sandbox.faults.FaultOptions` (``count`` = apply to
        the next N matching requests, None: until cleared). ``error_id`` alone
        picks the status from the spec's catalogue.
        """
        check_fault_args(endpoint, _FAULT_ENDPOINTS, options)
        if token_expired and endpoint in ("token", "authorize"):
            raise ValueError("token_expired applies to Bearer endpoints only")
        if options.get("status") is None and error_id is not None:
            catalogue = {**_OFFER_ERRORS, **_BROWSE_ERRORS}
            if error_id not in catalogue:
                raise ValueError(f"unknown error_id {error_id}; give a status")
            options["status"] = catalogue[error_id][0]
        require_effect(options, token_expired=token_expired, reset=reset)
        return self._new_fault(
            Fault,
            endpoint,
            options,
            item_id=None if item_id is None else self._normalize_id(item_id),
            error_id=error_id,
            token_expired=token_expired,
            reset=reset,
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
