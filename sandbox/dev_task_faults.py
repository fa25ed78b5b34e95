"""``/dev/task-faults``: task Lambda faults (``sandbox.task_faults``) over HTTP.

The local API gateway (``sandbox.local_api``) serves this route beside
``/api`` on the local stack (``make dev``), where the engine that runs the task
Lambdas is in the same process; on AWS it does not exist (``template.yaml`` and
``docs/openapi.json`` have no ``/dev`` route, a test checks).

* ``POST`` ``{"function": "PlaceBidFunction", "kind": "crash" | "timeout",
  "after_s": 1.5 | "after_ebay_request": "place_proxy_bid", "snipe_id"?,
  "count"?}`` -> 201, the fault. Exactly one cue: ``after_s`` seconds of
  running, or ``after_ebay_request``: once the eBay simulator has logged that
  request for the invocation's snipe's item, after the invocation started
  (``task_faults.after_request``). ``function`` is a logical id of
  ``template.yaml`` or the function's name in the engine. ``count``: how many
  invocations it kills (default 1; ``null``: until cleared).
* ``GET`` -> ``{"faults": [...]}``: the faults made here (spent ones too, with
  ``"active": false``) and any other injected in this process, each with its
  ``hits`` (invocations it applied to) and ``killed_at`` (UTC, one per kill).
* ``DELETE`` -> ``{"removed": n}``: clears every task fault.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, get_args

from werkzeug.wrappers import Request, Response

from sandbox import dev_routes, task_faults
from sandbox.apigw import API_FUNCTION
from sandbox.dev_routes import Invalid, Reply, field_error
from sandbox.ebay_sim import ENDPOINTS
from sandbox.stack import LocalStack
from workflows.errors import SnipeNotFound
from workflows.timing import to_z

PATH = "/dev/task-faults"
FIELDS: Final = (
    "function",
    "kind",
    "after_s",
    "after_ebay_request",
    "snipe_id",
    "count",
)
KINDS: Final[tuple[str, ...]] = get_args(task_faults.Kind)
# The eBay simulator's requests that name an item (the others are OAuth's).
ITEM_REQUESTS: Final = tuple(e for e in ENDPOINTS if e not in {"token", "authorize"})
MAX_AFTER_S: Final = 900.0  # Lambda's longest timeout
MAX_COUNT: Final = 1000


@dataclass(frozen=True)
class FaultRequest:
    """A valid ``POST`` body, ``function`` as the engine names it."""

    function: str
    kind: task_faults.Kind
    after_s: float | None
    after_ebay_request: str | None
    snipe_id: str | None
    count: int | None


@dataclass
class TaskFaultAdmin:
    """The route's state: the engine's functions (logical id -> name), the eBay
    simulator's request log and the snipes' items, and the faults made here."""

    PATH: ClassVar[str] = PATH

    functions: Mapping[str, str]
    ebay: task_faults.RequestLog
    item_of: Callable[[str], str | None]
    _made: dict[str, tuple[task_faults.TaskFault, FaultRequest]] = field(
        default_factory=dict, init=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @classmethod
    def for_stack(cls, stack: LocalStack) -> TaskFaultAdmin:
        """For the engine of ``stack`` (its functions, eBay, snipes table)."""

        def item_of(snipe_id: str) -> str | None:
            try:
                return stack.services.store.get(snipe_id).item.item_id
            except SnipeNotFound:
                return None

        return cls(functions=stack.aws.function_names, ebay=stack.ebay, item_of=item_of)

    def handle(self, request: Request, *, origins: Sequence[str]) -> Response:
        return dev_routes.serve(
            request,
            origins=origins,
            methods={"POST": self.inject, "GET": self.listing, "DELETE": self.clear},
        )

    def inject(self, body: Any) -> Reply:
        wanted = self.parse(body)
        when_for = None
        if wanted.after_ebay_request is not None:
            when_for = task_faults.after_request(
                self.ebay, wanted.after_ebay_request, self.item_of
            )
        fault = task_faults.inject_task_fault(
            wanted.function,
            wanted.kind,
            after_s=wanted.after_s,
            when_for=when_for,
            snipe_id=wanted.snipe_id,
            count=wanted.count,
        )
        with self._lock:
            self._made[fault.fault_id] = (fault, wanted)
        return Reply(self._describe(fault, wanted, active=True), status=201)

    def listing(self, body: Any) -> Reply:
        active = {fault.fault_id: fault for fault in task_faults.task_faults()}
        with self._lock:
            made = dict(self._made)
        faults = [
            self._describe(fault, wanted, active=fault_id in active)
            for fault_id, (fault, wanted) in made.items()
        ]
        faults += [  # injected from Python in this process
            self._describe(fault, None, active=True)
            for fault_id, fault in active.items()
            if fault_id not in made
        ]
        return Reply({"faults": faults})

    def clear(self, body: Any) -> Reply:
        with self._lock:
            self._made.clear()
        return Reply({"removed": task_faults.clear_task_faults()})

    def parse(self, body: Any) -> FaultRequest:
        """The request in ``body``, or :class:`Invalid` with every bad field."""
        errors = dev_routes.object_errors(body, FIELDS)
        if not isinstance(body, dict):
            raise Invalid(errors)
        function = self._engine_name(body.get("function"))
        if function is None:
            names = ", ".join(sorted(self._task_functions()))
            errors.append(
                field_error(
                    ["function"], "enum", f"a task function of the stack: {names}"
                )
            )
        kind = body.get("kind")
        if kind not in KINDS:
            errors.append(field_error(["kind"], "enum", "'crash' or 'timeout'"))
        errors += _cue_errors(body)
        snipe_id = body.get("snipe_id")
        if snipe_id is not None and (
            not isinstance(snipe_id, str) or self.item_of(snipe_id) is None
        ):
            errors.append(
                field_error(["snipe_id"], "not_found", "the id of an existing snipe")
            )
        count = body.get("count", 1)
        if count is not None and not dev_routes.whole_number(count, 1, MAX_COUNT):
            errors.append(
                field_error(
                    ["count"],
                    "int_range",
                    f"a whole number from 1 to {MAX_COUNT}, or null (until cleared)",
                )
            )
        if errors or function is None:
            raise Invalid(errors)
        after_s = body.get("after_s")
        return FaultRequest(
            function=function,
            kind=body["kind"],
            after_s=None if after_s is None else float(after_s),
            after_ebay_request=body.get("after_ebay_request"),
            snipe_id=snipe_id,
            count=count,
        )

    def _task_functions(self) -> dict[str, str]:
        """Logical id -> engine name of the functions the engine runs (the API
        function runs in the local gateway: a fault there would never fire)."""
        return {k: v for k, v in self.functions.items() if k != API_FUNCTION}

    def _engine_name(self, function: Any) -> str | None:
        functions = self._task_functions()
        if not isinstance(function, str):
            return None
        if function in functions:
            return functions[function]
        return function if function in functions.values() else None

    @staticmethod
    def _describe(
        fault: task_faults.TaskFault, wanted: FaultRequest | None, *, active: bool
    ) -> dict[str, Any]:
        return {
            "fault_id": fault.fault_id,
            "function": fault.function,
            "kind": fault.kind,
            "after_s": fault.after_s,
            "after_ebay_request": wanted.after_ebay_request if wanted else None,
            "snipe_id": fault.snipe_id,
            "count": wanted.count if wanted else None,
            "remaining": fault.remaining,
            "active": active,
            "hits": fault.hits,
            "killed_at": [
                to_z(datetime.fromtimestamp(at, UTC)) for at in fault.killed_at
            ],
        }


def _cue_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    after_s = body.get("after_s")
    request = body.get("after_ebay_request")
    if (after_s is None) == (request is None):
        message = "give exactly one cue: after_s or after_ebay_request"
        return [
            field_error([name], "cue", message)
            for name in ("after_s", "after_ebay_request")
        ]
    if after_s is not None and not (
        isinstance(after_s, int | float)
        and not isinstance(after_s, bool)
        and math.isfinite(after_s)
        and 0 <= after_s <= MAX_AFTER_S
    ):
        return [
            field_error(
                ["after_s"],
                "float_range",
                f"seconds of running, from 0 to {MAX_AFTER_S:g}",
            )
        ]
    if request is not None and request not in ITEM_REQUESTS:
        return [
            field_error(
                ["after_ebay_request"],
                "enum",
                f"an eBay request for an item: {', '.join(ITEM_REQUESTS)}",
            )
        ]
    return []
