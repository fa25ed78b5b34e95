"""Patches that let moto 5.2.5 run our state machine in-process, without Docker.

Six patches, installed together by :func:`install` and removed by
:func:`uninstall` (both idempotent, both thread-safe):

1. **Lambda invoke hook.**  moto's ``LambdaSimpleBackend.invoke`` (used with
   ``{"lambda": {"use_docker": False}}``) only echoes the payload.  The hook runs
   our real handler in this process instead.  A handler is looked up in
   :data:`HANDLERS` by function name; otherwise it is resolved from the
   function's ``Handler`` string (``"tasks.place_bid.lambda_handler"``) with
   :func:`importlib.import_module`.  All our functions share one code base that
   is already on ``sys.path``, so nothing is extracted from the function's zip.
   An exception is returned the way the Lambda runtime does it: header
   ``x-amz-function-error: Unhandled`` and body ``{"errorType": <class name>,
   "errorMessage": ...}``, so the Step Functions ``Retry``/``Catch`` rules see
   *our* exception class names.

   Handlers run concurrently: no lock is held while a handler runs (the bid task
   sleeps for seconds and hundreds of executions overlap).

   Configuration: the function's ``Environment`` is **not** applied per
   invocation.  ``os.environ`` is process-global, and swapping it per call races
   with other threads (deleting keys even broke botocore).  All our functions
   share one configuration, so the harness puts it into the process environment
   once, before starting executions (see ``sandbox.aws.LocalAws.environment``).

   Each invocation's Powertools metrics are its own: a Lambda container runs
   one invocation at a time, but here executions' tasks run in concurrent
   threads, and Powertools keeps the metrics being collected on one shared
   provider (a flush in one thread cleared, or raised on, another thread's
   half-built set).  While installed, the EMF provider's collecting state
   (``metric_set``, ``dimension_set``, ``dimension_sets``, ``metadata_set``,
   ``timestamp``) is per thread; configuration (namespace, service, default
   dimensions) stays shared.

   As on Lambda, a body that is not JSON is a 400
   ``InvalidRequestContentException`` and every invocation answers
   ``X-Amz-Executed-Version`` (``tests/integration/test_sfn_local_invoke.py``
   checks the whole Invoke path over HTTP, as Step Functions Local calls it).

   Differences from AWS: timeouts are not enforced (the context's remaining time
   is still computed from the function's ``Timeout``); ``Event`` (async) invokes
   run synchronously; ``DryRun`` invokes run nothing.

   Fault injection: an invocation matched by a fault of
   ``sandbox.task_faults`` (a crash or a Lambda timeout, on a time or an
   event cue such as "eBay logged the bid") runs in its own thread and is
   killed on the cue; Step Functions gets ``Runtime.ExitError`` or
   ``Sandbox.Timedout`` as from the Lambda runtime.

2. **Precise, timezone-safe Wait.**  moto's ``Timestamp``/``TimestampPath`` wait
   truncates to whole seconds and compares a *naive local* ``now()`` with a UTC
   timestamp: it fires up to 2 s early with ``TZ=UTC`` and hours off otherwise.
   The patch keeps moto's validation (only ``...Z`` timestamps are accepted) and
   waits until the exact instant on a monotonic clock.  A ``StopExecution``
   still interrupts the wait.  Run with ``TZ=UTC`` anyway
   (:func:`set_process_tz_utc`): other moto code uses local naive time.

3. **boto3 client cache.**  moto's interpreter builds a new boto3 client for
   every service-integration task (~10 ms of GIL-bound CPU each), which makes
   hundreds of concurrent executions fire seconds late.  Clients are cached per
   (service, region, in-process or server mode, server port).

4. **Stop right after start.**  moto's ``ExecutionWorker.stop`` fails when the
   execution's thread has not yet built its environment (a StopExecution right
   after StartExecution: a user cancelling a snipe they just created).  The
   patch waits up to a few seconds for the environment, then stops.

5. **Atomic DynamoDB requests.**  DynamoDB applies each request atomically (a
   conditional write's check and write, a ``TransactWriteItems`` as a whole).
   moto does not serialise requests: two threads can both pass a condition,
   and a cancelled transaction restores a copy of the whole table taken before
   it started, undoing other threads' writes made meanwhile.  The patch runs
   each DynamoDB request under one lock (``DynamoHandler.call_action``), so
   concurrent conditional writes behave as on AWS (the race tests of
   ``tests/integration/test_group_race.py`` rely on it).

6. **Fast DynamoDB item serialisation.**  moto 5.2.5 serialises every
   response by walking botocore's output shape member by member, looking up
   each value through alias-aware pickers.  For DynamoDB items that is ~300
   picker calls per 30-attribute item, and it was over half of the engine's
   CPU in the benchmarks (``docs/benchmarks.md``), all of it inside patch 5's
   lock.  The patch serialises an ``AttributeValue`` (and everything nested in
   it) directly, with the same rules moto applies (binary values base64, other
   scalars as they are); anything it does not recognise goes the generic way.
   ``tests/unit/test_engine_serialize.py`` checks that both produce the same
   body for arbitrary items (hypothesis).

moto is pinned (``moto==5.2.5``); ``tests/integration/test_engine.py`` fails if
the internals patched here change.
"""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Final, NamedTuple

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.models import botocore_stubber
from moto.core.serialize import BaseJSONSerializer, ResponseSerializer
from moto.dynamodb.responses import DynamoHandler
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
    Timestamp,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (  # noqa: E501
    WaitFunction,
)
from moto.stepfunctions.parser.asl.utils import boto_client as _boto_client
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from sandbox import task_faults
from sandbox.apigw import LambdaContext

__all__ = [
    "HANDLERS",
    "PATCH_TARGETS",
    "Handler",
    "LambdaContext",
    "LazyHandler",
    "PatchTarget",
    "clear_client_cache",
    "install",
    "is_installed",
    "registered_handlers",
    "resolve_handler",
    "set_process_tz_utc",
    "uninstall",
]

LOGGER = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
"""A Lambda handler: ``handler(event, context) -> JSON-serialisable result``."""

HANDLERS: dict[str, Handler] = {}
"""Function name -> handler callable.  Takes precedence over the ``Handler`` string."""

_ORIGINAL_INVOKE: Final = LambdaSimpleBackend.invoke
_ORIGINAL_GET_WAIT_SECONDS: Final = Timestamp._get_wait_seconds
_ORIGINAL_WAIT_INTERVAL: Final = WaitFunction._wait_interval
_ORIGINAL_BOTO_CLIENT_FOR: Final = _boto_client.boto_client_for
_ORIGINAL_WORKER_STOP: Final = ExecutionWorker.stop
_ORIGINAL_DYNAMODB_CALL: Final = DynamoHandler.call_action
_ORIGINAL_SERIALIZE: Final = ResponseSerializer._serialize


class PatchTarget(NamedTuple):
    """A moto internal replaced by :func:`install`."""

    owner: object  # class or module
    attribute: str
    original: Callable[..., Any]


PATCH_TARGETS: Final = (
    PatchTarget(LambdaSimpleBackend, "invoke", _ORIGINAL_INVOKE),
    PatchTarget(Timestamp, "_get_wait_seconds", _ORIGINAL_GET_WAIT_SECONDS),
    PatchTarget(WaitFunction, "_wait_interval", _ORIGINAL_WAIT_INTERVAL),
    PatchTarget(_boto_client, "boto_client_for", _ORIGINAL_BOTO_CLIENT_FOR),
    PatchTarget(ExecutionWorker, "stop", _ORIGINAL_WORKER_STOP),
    PatchTarget(DynamoHandler, "call_action", _ORIGINAL_DYNAMODB_CALL),
    PatchTarget(ResponseSerializer, "_serialize", _ORIGINAL_SERIALIZE),
)
"""What :func:`install` replaces; ``boto_client_for`` is replaced in every
``moto.stepfunctions.parser`` module that imported it by name."""

_install_lock = threading.Lock()
_installed = False
_client_modules: list[ModuleType] = []  # modules whose boto_client_for we replaced

_resolve_lock = threading.Lock()
_resolved: dict[str, Handler] = {}

_client_lock = threading.Lock()
_clients: dict[tuple[str, str, bool, str], Any] = {}


# --------------------------------------------------------------------------- #
# Process helpers
# --------------------------------------------------------------------------- #
def set_process_tz_utc() -> None:
    """Run this process in UTC (``TZ=UTC`` + ``time.tzset()``)."""
    os.environ["TZ"] = "UTC"
    time.tzset()


# --------------------------------------------------------------------------- #
# 1. Lambda invoke hook
# --------------------------------------------------------------------------- #
def resolve_handler(path: str) -> Handler:
    """Import ``"package.module.function"`` and return the function (cached).

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such callable.
    """
    handler = _resolved.get(path)
    if handler is not None:
        return handler
    module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"Bad handler {path!r}: expected 'module.function'")
    with _resolve_lock:  # the import only; handlers run without any lock
        handler = _resolved.get(path)
        if handler is None:
            module = importlib.import_module(module_name)
            candidate = getattr(module, attr, None)
            if not callable(candidate):
                raise AttributeError(f"Handler {path!r}: {attr!r} is not callable")
            handler = _resolved[path] = candidate
    return handler


class LazyHandler:
    """A handler resolved from its ``Handler`` string on first use."""

    def __init__(self, path: str) -> None:
        self.path = path

    def resolve(self) -> Handler:
        return resolve_handler(self.path)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        return self.resolve()(event, context)

    def __repr__(self) -> str:
        return f"LazyHandler({self.path!r})"


@contextmanager
def registered_handlers(handlers: Mapping[str, Handler]) -> Iterator[None]:
    """Register ``handlers`` in :data:`HANDLERS` for the duration of the block."""
    saved = {name: HANDLERS.get(name) for name in handlers}
    HANDLERS.update(handlers)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                HANDLERS.pop(name, None)
            else:
                HANDLERS[name] = previous


def _error_body(error_type: str, exc: BaseException, *, skip_frames: int = 0) -> bytes:
    tb = exc.__traceback__
    for _ in range(skip_frames):  # drop the hook's own frames
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return json.dumps(
        {
            "errorType": error_type,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(tb),
        }
    ).encode()


def _handler_for(fn: Any) -> Handler:
    handler = HANDLERS.get(fn.function_name)
    if handler is None:
        if not fn.handler:
            raise ImportError(f"Function {fn.function_name!r} has no Handler")
        return resolve_handler(str(fn.handler))
    if isinstance(handler, LazyHandler):
        return handler.resolve()
    return handler


def _invoke(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes | None:
    fn = self.get_function(function_name, qualifier)  # unknown -> moto's 404
    invocation_type = headers.get("X-Amz-Invocation-Type") if headers else None
    if invocation_type == "DryRun":
        return b""
    try:
        handler = _handler_for(fn)
    except (ImportError, AttributeError) as exc:  # as the Lambda runtime reports it
        LOGGER.warning("%s: cannot load handler: %s", fn.function_name, exc)
        response_headers["x-amz-function-error"] = "Unhandled"
        if isinstance(exc, ImportError):
            return _error_body("Runtime.ImportModuleError", exc)
        return _error_body("Runtime.HandlerNotFound", exc)

    try:
        event = json.loads(body) if body else {}
    except ValueError as exc:  # Lambda's 400, before anything runs
        raise LambdaClientError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: {exc}",
        ) from exc
    response_headers["x-amz-executed-version"] = fn.version
    context = LambdaContext(
        function_name=fn.function_name,
        function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size),
        timeout_seconds=float(fn.timeout),
    )
    fault = task_faults.take_task_fault(fn.function_name, event)
    try:
        if fault is None:
            result = handler(event, context)
        else:
            result = task_faults.run_with_fault(fault, handler, event, context)
    except task_faults.TaskDied as died:  # killed on an injected cue
        LOGGER.info("%s killed: %s", fn.function_name, died.error_type)
        response_headers["x-amz-function-error"] = "Unhandled"
        return died.body()
    except Exception as exc:  # the Lambda runtime's error shape
        LOGGER.debug("%s raised %r", fn.function_name, exc, exc_info=True)
        response_headers["x-amz-function-error"] = "Unhandled"
        return _error_body(type(exc).__name__, exc, skip_frames=1)
    if invocation_type == "Event":
        return b""
    try:
        return json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        return _error_body("Runtime.MarshalError", exc)


class _PerThread:
    """A provider attribute whose value belongs to the calling thread.

    A thread's first read starts from a fresh set (default dimensions only),
    as a new invocation on AWS would; writes also update the instance's own
    attribute, which is what the provider holds once this is removed.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        state = _metrics_state(obj)
        return state[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        _metrics_state(obj)[self.name] = value
        obj.__dict__[self.name] = value


_METRICS_FIELDS: Final = (
    "metric_set",
    "dimension_set",
    "dimension_sets",
    "metadata_set",
    "timestamp",
)
_metrics_local = threading.local()


def _metrics_state(provider: Any) -> dict[str, Any]:
    states: dict[int, dict[str, Any]] | None = getattr(_metrics_local, "states", None)
    if states is None:
        states = _metrics_local.states = {}
    state = states.get(id(provider))
    if state is None:
        defaults = provider.__dict__.get("default_dimensions") or {}
        state = {
            "metric_set": {},
            "dimension_set": {str(k): str(v) for k, v in defaults.items()},
            "dimension_sets": [],
            "metadata_set": {},
            "timestamp": None,
        }
        states[id(provider)] = state
    return state


def _isolate_metrics() -> None:
    for name in _METRICS_FIELDS:
        setattr(AmazonCloudWatchEMFProvider, name, _PerThread(name))


def _share_metrics() -> None:
    for name in _METRICS_FIELDS:
        if isinstance(vars(AmazonCloudWatchEMFProvider).get(name), _PerThread):
            delattr(AmazonCloudWatchEMFProvider, name)


# --------------------------------------------------------------------------- #
# 2. Precise, timezone-safe Wait
# --------------------------------------------------------------------------- #
def _get_wait_seconds(self: Timestamp, env: Any) -> float:
    self.string.eval(env=env)
    timestamp: str = env.stack.pop()
    if self._from_timestamp_string(timestamp) is None:  # moto's own validation
        raise FailureEventException(self._create_failure_event(env, timestamp))
    # Validated as ...Z above; fromisoformat keeps the fraction and is UTC-aware.
    target = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return max(0.0, target.timestamp() - time.time())


def _wait_interval(self: WaitFunction, env: Any, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while env.is_running():  # StopExecution pulses program_state_event
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)


# --------------------------------------------------------------------------- #
# 3. boto3 client cache
# --------------------------------------------------------------------------- #
def _cached_boto_client_for(
    region: str, service: str, state_credentials: Any = None
) -> Any:
    key = (service, region, bool(botocore_stubber.enabled), moto_server_port())
    client = _clients.get(key)
    if client is None:
        with _client_lock:  # boto3's default session is not thread-safe
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _ORIGINAL_BOTO_CLIENT_FOR(
                    region=region, service=service, state_credentials=state_credentials
                )
    return client


def clear_client_cache() -> None:
    """Forget the cached interpreter clients."""
    with _client_lock:
        _clients.clear()


def _install_client_cache() -> None:
    # Import every service integration so that their ``boto_client_for`` names
    # exist before we replace them.
    importlib.import_module(
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
        "state_task_service_factory"
    )
    importlib.import_module(
        "moto.stepfunctions.parser.asl.component.state.exec.state_task."
        "lambda_eval_utils"
    )
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("moto.stepfunctions.parser")
            and getattr(module, "boto_client_for", None) is _ORIGINAL_BOTO_CLIENT_FOR
        ):
            module.boto_client_for = _cached_boto_client_for  # type: ignore[attr-defined]
            _client_modules.append(module)


def _uninstall_client_cache() -> None:
    for module in _client_modules:
        module.boto_client_for = _ORIGINAL_BOTO_CLIENT_FOR  # type: ignore[attr-defined]
    _client_modules.clear()
    clear_client_cache()


# --------------------------------------------------------------------------- #
# install / uninstall
# --------------------------------------------------------------------------- #
# --------------------------------------------------------------------------- #
# Patch 4: StopExecution right after StartExecution
# --------------------------------------------------------------------------- #
STOP_SETUP_TIMEOUT_S: Final = 5.0


def _worker_stop(
    self: ExecutionWorker, stop_date: datetime.datetime, error: Any, cause: Any
) -> None:
    """Stop an execution even if its worker thread has not built its environment.

    moto's ``ExecutionWorker.stop`` dereferences ``self.env``, which the worker
    thread sets only once it starts running; a StopExecution that arrives first
    fails with ``'NoneType' object has no attribute 'set_stop'`` (a user who
    cancels right after creating a snipe). Wait briefly for the environment.
    """
    deadline = time.monotonic() + STOP_SETUP_TIMEOUT_S
    while self.env is None and time.monotonic() < deadline:
        time.sleep(0.001)
    _ORIGINAL_WORKER_STOP(self, stop_date=stop_date, error=error, cause=cause)


# --------------------------------------------------------------------------- #
# Patch 5: one DynamoDB request at a time
# --------------------------------------------------------------------------- #
_dynamodb_lock = threading.RLock()


def _atomic_dynamodb_call(self: DynamoHandler) -> Any:
    """Handle one DynamoDB request while no other is being handled."""
    with _dynamodb_lock:
        return _ORIGINAL_DYNAMODB_CALL(self)


# --------------------------------------------------------------------------- #
# Patch 6: DynamoDB items serialised directly
# --------------------------------------------------------------------------- #
class _Unhandled(Exception):
    """A value the direct serialiser does not know: use moto's generic one."""


_SCALARS: Final = frozenset({"S", "N"})
_FLAGS: Final = frozenset({"NULL", "BOOL"})


def _b64(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes | bytearray):
        raise _Unhandled
    return base64.b64encode(value).strip().decode("utf-8")


def _attribute_value(value: Any) -> dict[str, Any]:
    """One AttributeValue as moto's JSON serialiser would write it."""
    if type(value) is not dict:
        raise _Unhandled
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue  # moto skips members that are None
        if kind in _SCALARS:
            if not isinstance(inner, str):
                raise _Unhandled
            out[kind] = inner
        elif kind in _FLAGS:
            if not isinstance(inner, bool):
                raise _Unhandled
            out[kind] = inner
        elif kind == "B":
            out[kind] = _b64(inner)
        elif kind in ("SS", "NS"):
            if not isinstance(inner, list) or not all(
                isinstance(v, str) for v in inner
            ):
                raise _Unhandled
            out[kind] = list(inner)
        elif kind == "BS":
            if not isinstance(inner, list):
                raise _Unhandled
            out[kind] = [_b64(v) for v in inner]
        elif kind == "M":
            if type(inner) is not dict:
                raise _Unhandled
            out[kind] = {str(k): _attribute_value(v) for k, v in inner.items()}
        elif kind == "L":
            if not isinstance(inner, list):
                raise _Unhandled
            out[kind] = [_attribute_value(v) for v in inner]
        else:
            raise _Unhandled
    return out


def _fast_serialize(
    self: ResponseSerializer, serialized: Any, value: Any, shape: Any, key: str
) -> None:
    if key and shape.name == "AttributeValue" and isinstance(self, BaseJSONSerializer):
        try:
            direct = _attribute_value(value)
        except _Unhandled:
            pass
        else:
            self._default_serialize(serialized, direct, shape, key)
            return
    _ORIGINAL_SERIALIZE(self, serialized, value, shape, key)


def is_installed() -> bool:
    return _installed


def install() -> None:
    """Install the patches (no-op when already installed)."""
    _set_installed(True)


def _method_patches() -> list[tuple[type, str, object, object]]:
    """(class, attribute, our version, moto's) of the patched methods."""
    return [
        (LambdaSimpleBackend, "invoke", _invoke, _ORIGINAL_INVOKE),
        (Timestamp, "_get_wait_seconds", _get_wait_seconds, _ORIGINAL_GET_WAIT_SECONDS),
        (WaitFunction, "_wait_interval", _wait_interval, _ORIGINAL_WAIT_INTERVAL),
        (ExecutionWorker, "stop", _worker_stop, _ORIGINAL_WORKER_STOP),
        (DynamoHandler, "call_action", _atomic_dynamodb_call, _ORIGINAL_DYNAMODB_CALL),
        (ResponseSerializer, "_serialize", _fast_serialize, _ORIGINAL_SERIALIZE),
    ]


def uninstall() -> None:
    """Restore moto's originals (no-op when not installed)."""
    _set_installed(False)


def _set_installed(on: bool) -> None:
    global _installed
    with _install_lock:
        if _installed == on:
            return
        for owner, name, patched, original in _method_patches():
            setattr(owner, name, patched if on else original)
        if on:
            _isolate_metrics()
            _install_client_cache()
        else:
            _share_metrics()
            _uninstall_client_cache()
        _installed = on
