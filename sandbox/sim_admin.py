"""What the eBay and Postmark simulators share: JSON responses, the ``/sim``
admin blueprint's common routes, and serving until Ctrl-C.

``admin_blueprint(sim, faults)`` gives the routes every simulator has (health,
reset, fault injection, list and removal, request-log clearing) with the shared
error mapping (``ValueError`` -> 400, ``KeyError`` -> 404); ``faults`` names
the simulator's own fault fields. Each simulator adds its own routes
(auctions, outbox, ...) to the blueprint before registering it.
``admin_body()`` reads an admin request's
JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from flask import Blueprint, Flask, Response, request

from sandbox.faults import InjectedFault
from sandbox.httpserver import BackgroundServer


class SimulatorAdmin(Protocol):
    """The admin operations every simulator has."""

    def reset(self) -> None: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def clear_faults(self, endpoint: str | None = None) -> int: ...
    def remove_fault(self, fault_id: str) -> None: ...
    def clear_requests(self) -> None: ...


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body), status=status, mimetype="application/json", headers=headers
    )


class SimulatorError(Exception):
    """An error a simulator answers with HTTP ``status`` and a two-field JSON
    object: ``{code_field: code, text_field: text}`` (the subclass names them)."""

    code_field: ClassVar[str]
    text_field: ClassVar[str]
    code_label: ClassVar[str] = ""  # before the code in the exception's text

    def __init__(self, status: int, code: Any, text: str) -> None:
        super().__init__(f"{status} {self.code_label}{code}: {text}")
        self.status = status
        self.code = code
        self.text = text

    def body(self) -> dict[str, Any]:
        return {self.code_field: self.code, self.text_field: self.text}

    def response(self) -> Response:
        return json_response(self.body(), self.status)


def admin_body() -> dict[str, Any]:
    """The admin request's JSON object (``{}`` without a body)."""
    data = request.get_json(silent=True, force=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


@dataclass(frozen=True)
class FaultRoute:
    """How ``POST /sim/faults`` calls a simulator's ``inject_fault``: the
    endpoint when the body names none, and the simulator's own fields (besides
    :class:`~sandbox.faults.FaultOptions`): ``options`` passed as given,
    ``flags`` as booleans."""

    inject: Callable[..., InjectedFault]
    default_endpoint: str
    options: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def arguments(self, data: dict[str, Any]) -> dict[str, Any]:
        """``inject_fault``'s keyword arguments from an admin request's body."""
        count = data.get("count")
        timeout_s = data.get("timeout_s")
        return {
            **{name: data.get(name) for name in self.options},
            **{name: bool(data.get(name, False)) for name in self.flags},
            "status": data.get("status"),
            "message": data.get("message"),
            "latency_ms": int(data.get("latency_ms", 0)),
            "timeout_s": None if timeout_s is None else float(timeout_s),
            "count": None if count is None else int(count),
        }


def admin_blueprint(
    sim: SimulatorAdmin,
    faults: FaultRoute,
    *,
    health: Callable[[], dict[str, Any]] | None = None,
) -> Blueprint:
    """``/sim`` with the common routes, fault injection through ``faults``;
    ``health`` adds fields to ``/sim/health``."""
    admin = Blueprint("sim_admin", __name__, url_prefix="/sim")

    @admin.errorhandler(ValueError)
    def value_error(exc: ValueError) -> Response:
        return json_response({"error": str(exc)}, 400)

    @admin.errorhandler(KeyError)
    def key_error(exc: KeyError) -> Response:
        return json_response({"error": f"not found: {exc.args[0]}"}, 404)

    @admin.get("/health")
    def health_route() -> Response:
        return json_response({"ok": True, **(health() if health else {})})

    @admin.post("/reset")
    def reset() -> Response:
        sim.reset()
        return json_response({"reset": True})

    @admin.get("/faults")
    def list_faults() -> Response:
        return json_response(sim.faults())

    @admin.delete("/faults")
    def clear_faults() -> Response:
        return json_response(
            {"removed": sim.clear_faults(request.args.get("endpoint"))}
        )

    @admin.post("/faults")
    def inject_fault() -> Response:
        data = admin_body()
        endpoint = str(data.get("endpoint", faults.default_endpoint))
        fault = faults.inject(endpoint, **faults.arguments(data))
        return json_response(fault.to_dict(), 201)

    @admin.delete("/faults/<fault_id>")
    def remove_fault(fault_id: str) -> Response:
        sim.remove_fault(fault_id)
        return json_response({"removed": 1})

    @admin.delete("/requests")
    def clear_requests() -> Response:
        sim.clear_requests()
        return json_response({"cleared": True})

    return admin


class _Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=_Closable)


def start_simulator(
    sim: S, app: Flask, port: int, name: str
) -> tuple[S, BackgroundServer]:
    """Serve ``app`` on 127.0.0.1:``port`` (0 = ephemeral) in a thread;
    stopping the server also closes ``sim``."""
    server = BackgroundServer(app, port=port, name=name, on_stop=sim.close).start()
    return sim, server


def simulator_arguments(description: str) -> argparse.ArgumentParser:
    """The command line of ``python -m sandbox.<simulator>``: ``--port`` and more."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    return parser


def serve_until_interrupted(server: BackgroundServer, name: str) -> None:
    """Print where ``server`` listens and keep it up until Ctrl-C."""
    print(f"{name} listening on {server.url}", flush=True)
    try:
        while server.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
