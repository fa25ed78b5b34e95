"""Postmark simulator: ``POST /email`` and ``POST /email/withTemplate`` plus an outbox.

Requests are validated the way Postmark does (server token, JSON, addresses,
bodies, template fields, inactive recipients) and accepted messages land in an
in-memory outbox that tests read through :meth:`PostmarkSimulator.outbox` or
``GET /sim/outbox``. Nothing is ever delivered. See docs/simulators.md.

Quick start::

    sim, server = start_postmark_simulator(server_token="pm-token")
    httpx.post(f"{server.url}/email", headers={...}, json={...})
    assert sim.outbox(to="alice@example.com")
    server.stop()
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any, Final, Unpack

from flask import Flask, Response, request

from sandbox.faults import (
    FaultOptions,
    FaultRegistry,
    InjectedFault,
    check_fault_args,
    require_effect,
)
from sandbox.httpserver import BackgroundServer, request_arrival_time
from sandbox.sim_admin import (
    FaultRoute,
    SimulatorError,
    admin_blueprint,
    admin_body,
    json_response,
    serve_until_interrupted,
    simulator_arguments,
    start_simulator,
)

__all__ = [
    "ENDPOINTS",
    "TEST_TOKEN",
    "PostmarkError",
    "PostmarkFault",
    "PostmarkSimulator",
    "create_app",
    "start_postmark_simulator",
]

TEST_TOKEN: Final = "POSTMARK_API_TEST"  # noqa: S105 - Postmark's public test token
ENDPOINTS: Final[tuple[str, ...]] = ("email", "email_with_template")
_FAULT_ENDPOINTS: Final = frozenset({*ENDPOINTS, "*"})
MAX_RECIPIENTS: Final = 50
_ADDRESS_RE: Final = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+$")
_STRING_FIELDS: Final = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Tag",
    "HtmlBody",
    "TextBody",
    "ReplyTo",
    "MessageStream",
    "TemplateAlias",
)

_NO_AUTH_HEADER_TEXT = (
    "No Account or Server API tokens were supplied in the HTTP headers. "
    "Please add a header for either X-Postmark-Server-Token or "
    "X-Postmark-Account-Token."
)
_WRONG_AUTH_TEXT = (
    "The Server Token you provided in the X-Postmark-Server-Token request header "
    "was invalid. Please verify that you are using a valid token."
)
_INACTIVE = (
    "You tried to send to recipient(s) that have been marked as inactive. "
    "Found inactive addresses: {addresses}. Inactive recipients are ones that "
    "have generated a hard bounce, a spam complaint, or a manual suppression."
)
# Bodies for injected HTTP statuses (simulator choices; override with error_code).
_FAULT_BODIES: Final[dict[int, tuple[int, str]]] = {
    401: (10, _WRONG_AUTH_TEXT),
    422: (300, "Invalid email request"),
    429: (429, "Rate limit exceeded."),
    500: (500, "Internal server error."),
    503: (100, "Maintenance: the Postmark API is offline for maintenance."),
}


class PostmarkError(SimulatorError):
    """An error answered as ``{"ErrorCode": n, "Message": "..."}``."""

    code_field = "ErrorCode"
    text_field = "Message"
    code_label = "ErrorCode "

    @property
    def error_code(self) -> int:
        return int(self.code)


def _invalid(message: str) -> PostmarkError:
    return PostmarkError(422, 300, message)


@dataclass(kw_only=True)
class PostmarkFault(InjectedFault):
    """An injected fault; ``remaining=None`` means until cleared.

    Sleep ``latency_ms`` first; with ``status`` answer that status (the message is
    dropped unless ``deliver``); otherwise process normally. ``timeout_s`` then
    holds the response after the outcome is decided (the client times out).
    ``to`` limits the fault to messages whose ``To`` names that address.
    """

    to: str | None = None
    error_code: int | None = None
    deliver: bool = False


def _submitted_at(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _parse_addresses(field_name: str, value: Any, required: bool) -> list[str]:
    """Parse a comma-separated address list (``Name <a@b>`` allowed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            if field_name == "To":
                raise _invalid("Zero recipients specified")
            raise _invalid(
                f"Error parsing '{field_name}': Illegal email address ''. "
                "It must contain the '@' symbol."
            )
        return []
    if not isinstance(value, str):
        raise _invalid(f"Error parsing '{field_name}': a string is expected.")
    addresses = []
    for _name, address in getaddresses([value]):
        if not _ADDRESS_RE.match(address):
            shown = address or value
            raise _invalid(
                f"Error parsing '{field_name}': Illegal email address '{shown}'. "
                "It must contain the '@' symbol."
            )
        addresses.append(address.lower())
    if not addresses:
        raise _invalid(f"Error parsing '{field_name}': Illegal email address ''.")
    return addresses


class PostmarkSimulator(FaultRegistry):
    """Outbox, inactive list, faults and request log, guarded by one lock."""

    def __init__(  # nosec B107 # simulator default, not a real token
        self,
        server_token: str = "postmark-sim-token",  # noqa: S107 - simulator default
        *,
        accept_test_token: bool = True,
        sender_signatures: Iterable[str] | None = None,
        request_log_limit: int = 100_000,
    ) -> None:
        self.server_token = server_token
        self.request_log_limit = request_log_limit
        self.accept_test_token = accept_test_token
        self._signatures = (
            None
            if sender_signatures is None
            else frozenset(s.lower() for s in sender_signatures)
        )
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closed = threading.Event()
        self._ids = itertools.count(1)
        self._init_state()

    def _init_state(self) -> None:
        self._outbox: list[dict[str, Any]] = []
        self._inactive: set[str] = set()
        self._faults: list[PostmarkFault] = []
        self._requests: deque[dict[str, Any]] = deque(maxlen=self.request_log_limit)
        self._request_seq = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------

    def reset(self) -> None:
        """Clear outbox, inactive list, faults and request log."""
        with self._lock:
            self._init_state()

    def close(self) -> None:
        """Wake requests sleeping in a fault (used when the server stops)."""
        self._closed.set()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closed.wait(seconds)

    # -- outbox ------------------------------------------------------------

    def outbox(self, to: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages, oldest first; ``to`` matches To, Cc or Bcc."""
        with self._lock:
            if to is None:
                return [dict(m) for m in self._outbox]
            wanted = to.lower()
            return [dict(m) for m in self._outbox if wanted in m["Recipients"]]

    def clear_outbox(self) -> int:
        with self._lock:
            count = len(self._outbox)
            self._outbox.clear()
            return count

    def wait_for_messages(
        self, count: int = 1, to: str | None = None, timeout_s: float = 5.0
    ) -> list[dict[str, Any]]:
        """Block until ``count`` matching messages are in the outbox.

        Returns them (possibly fewer if the timeout passes first).
        """
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                found = self.outbox(to)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    # -- inactive recipients ----------------------------------------------

    def mark_inactive(self, email: str) -> None:
        """Sends to this address now fail with 422 / ErrorCode 406."""
        with self._lock:
            self._inactive.add(email.strip().lower())

    def reactivate(self, email: str) -> None:
        with self._lock:
            self._inactive.discard(email.strip().lower())

    def inactive(self) -> list[str]:
        with self._lock:
            return sorted(self._inactive)

    # -- faults ------------------------------------------------------------

    def inject_fault(
        self,
        endpoint: str = "*",
        *,
        error_code: int | None = None,
        deliver: bool = False,
        to: str | None = None,
        **options: Unpack[FaultOptions],
    ) -> PostmarkFault:
        """Inject a fault for ``email``, ``email_with_template`` or ``*`` (both);
        ``to``: only for messages to that address (case-insensitive)."""
        check_fault_args(endpoint, _FAULT_ENDPOINTS, options)
        require_effect(options)
        return self._new_fault(
            PostmarkFault,
            endpoint,
            options,
            to=None if to is None else to.lower(),
            error_code=error_code,
            deliver=deliver,
        )

    def _take_fault(self, endpoint: str, to: str | None = None) -> PostmarkFault | None:
        recipient = (to or "").lower()
        fault: PostmarkFault | None = self._take_matching(
            endpoint, lambda f: f.to is None or f.to in recipient
        )
        return fault

    # -- request log -------------------------------------------------------

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The request log, oldest arrival first. Never contains the token."""
        with self._lock:
            records = [
                dict(r)
                for r in self._requests
                if endpoint is None or r["endpoint"] == endpoint
            ]
        return sorted(records, key=lambda r: (r["arrival"], r["seq"]))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- sending -----------------------------------------------------------

    def token_accepted(self, token: str | None) -> bool:
        try:
            self.check_token(token)
        except PostmarkError:
            return False
        return True

    def check_token(self, token: str | None) -> bool:
        """Raise 401 / ErrorCode 10 unless ``token`` is accepted; True = test token."""
        if not token:
            raise PostmarkError(401, 10, _NO_AUTH_HEADER_TEXT)
        if token == self.server_token:
            return False
        if self.accept_test_token and token == TEST_TOKEN:
            return True
        raise PostmarkError(401, 10, _WRONG_AUTH_TEXT)

    def validate(self, payload: Any, *, template: bool) -> list[str]:
        """Validate a send request body; returns the recipients (lower-case)."""
        if not isinstance(payload, dict):
            raise PostmarkError(
                422,
                403,
                "Incompatible JSON: The JSON input you provided is syntactically "
                "correct, but still not the one we expect.",
            )
        for name in _STRING_FIELDS:
            value = payload.get(name)
            if value is not None and not isinstance(value, str):
                raise _invalid(f"The '{name}' field must be a string.")
        senders = _parse_addresses("From", payload.get("From"), required=True)
        if len(senders) != 1:
            raise _invalid("Error parsing 'From': exactly one address is required.")
        sender = senders[0]
        if self._signatures is not None and not (
            sender in self._signatures or sender.rsplit("@", 1)[1] in self._signatures
        ):
            raise PostmarkError(
                422,
                400,
                f"The 'From' address you supplied ({sender}) is not a Sender "
                "Signature on your account. Please add and confirm this address "
                "in order to be able to use it in the 'From' field of your messages.",
            )
        recipients = _parse_addresses("To", payload.get("To"), required=True)
        recipients += _parse_addresses("Cc", payload.get("Cc"), required=False)
        recipients += _parse_addresses("Bcc", payload.get("Bcc"), required=False)
        if len(recipients) > MAX_RECIPIENTS:
            raise _invalid(
                f"Maximum of {MAX_RECIPIENTS} recipients allowed per message "
                "(To, Cc and Bcc combined)."
            )
        if template:
            self._validate_template(payload)
        elif not payload.get("TextBody") and not payload.get("HtmlBody"):
            raise _invalid("Provide either email TextBody or HtmlBody or both.")
        metadata = payload.get("Metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise _invalid("The 'Metadata' field must be an object.")
        with self._lock:
            inactive = [r for r in dict.fromkeys(recipients) if r in self._inactive]
        if inactive:
            raise PostmarkError(
                422, 406, _INACTIVE.format(addresses=", ".join(inactive))
            )
        return recipients

    @staticmethod
    def _validate_template(payload: dict[str, Any]) -> None:
        template_id = payload.get("TemplateId")
        alias = payload.get("TemplateAlias")
        if template_id is None and not alias:
            raise _invalid("Either 'TemplateId' or 'TemplateAlias' must be specified.")
        if template_id is not None and alias:
            raise _invalid("Specify either 'TemplateId' or 'TemplateAlias', not both.")
        if template_id is not None and (
            isinstance(template_id, bool) or not isinstance(template_id, int)
        ):
            raise _invalid("The 'TemplateId' field must be an integer.")
        if not isinstance(payload.get("TemplateModel"), dict):
            raise _invalid(
                "The 'TemplateModel' field is required and must be an object."
            )

    def send(
        self, payload: Any, *, template: bool = False, test_mode: bool = False
    ) -> dict[str, Any]:
        """Validate and accept one message; returns Postmark's 200 body.

        Raises :class:`PostmarkError` (422) for invalid messages.
        """
        return self._accept(payload, template, test_mode)[0]

    def _accept(
        self, payload: Any, template: bool, test_mode: bool
    ) -> tuple[dict[str, Any], list[str]]:
        recipients = self.validate(payload, template=template)
        now = time.time()
        message_id = str(uuid.uuid4())
        submitted_at = _submitted_at(now)
        record = {
            **payload,
            "MessageID": message_id,
            "SubmittedAt": submitted_at,
            "Endpoint": "email_with_template" if template else "email",
            "Recipients": recipients,
            "TestMode": test_mode,
            "ReceivedAt": now,
        }
        with self._changed:
            self._outbox.append(record)
            self._changed.notify_all()
        return {
            "To": payload["To"],
            "SubmittedAt": submitted_at,
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "Test job accepted" if test_mode else "OK",
        }, recipients


def _addressee(data: bytes) -> str | None:
    """The ``To`` of a send request, for recipient-bound faults (best effort)."""
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    to = payload.get("To") if isinstance(payload, dict) else None
    return to if isinstance(to, str) else None


def create_app(sim: PostmarkSimulator) -> Flask:
    """Flask app: the two send endpoints plus the ``/sim`` admin API."""
    app = Flask("sandbox.postmark_sim")

    def handle_send(endpoint: str, template: bool) -> Response:
        arrival = request_arrival_time(request.environ)
        fault = sim._take_fault(endpoint, _addressee(request.get_data()))
        if fault is not None and fault.latency_ms:
            sim._sleep(fault.latency_ms / 1000)
        message_id: str | None = None
        recipients: list[str] | None = None
        token = request.headers.get("X-Postmark-Server-Token")
        try:
            if fault is not None and fault.status is not None and not fault.deliver:
                raise _fault_error(fault)
            test_mode = sim.check_token(token)
            try:
                payload = json.loads(request.get_data())
            except ValueError:
                raise PostmarkError(422, 402, "Received invalid JSON input.") from None
            body, recipients = sim._accept(payload, template, test_mode)
            message_id = body["MessageID"]
            if fault is not None and fault.status is not None:
                raise _fault_error(fault)
            response = json_response(body)
        except PostmarkError as exc:
            response = exc.response()
        error_code = _error_code_of(response)
        with sim._lock:
            sim._requests.append(
                {
                    "seq": next(sim._request_seq),
                    "arrival": arrival,
                    "method": request.method,
                    "path": request.path,
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "error_code": error_code,
                    "token_valid": sim.token_accepted(token),
                    "message_id": message_id,
                    "recipients": recipients,
                    "fault_id": None if fault is None else fault.fault_id,
                    "duration_ms": round((time.time() - arrival) * 1000, 3),
                }
            )
        if fault is not None and fault.timeout_s:
            sim._sleep(fault.timeout_s)
        return response

    @app.post("/email")
    def send_email() -> Response:
        return handle_send("email", template=False)

    @app.post("/email/withTemplate")
    def send_with_template() -> Response:
        return handle_send("email_with_template", template=True)

    _register_admin_routes(app, sim)
    return app


def _fault_error(fault: PostmarkFault) -> PostmarkError:
    status = fault.status or 500
    default_code, default_message = _FAULT_BODIES.get(
        status, (status, "Simulated failure.")
    )
    return PostmarkError(
        status,
        default_code if fault.error_code is None else fault.error_code,
        fault.message or default_message,
    )


def _error_code_of(response: Response) -> int | None:
    try:
        body = json.loads(response.get_data())
        return int(body["ErrorCode"])
    except (ValueError, KeyError, TypeError):
        return None


def _register_admin_routes(app: Flask, sim: PostmarkSimulator) -> None:
    faults = FaultRoute(
        sim.inject_fault,
        default_endpoint="*",
        options=("error_code", "to"),
        flags=("deliver",),
    )
    admin = admin_blueprint(sim, faults)

    @admin.get("/outbox")
    def outbox() -> Response:
        return json_response(sim.outbox(request.args.get("to")))

    @admin.delete("/outbox")
    def clear_outbox() -> Response:
        return json_response({"cleared": sim.clear_outbox()})

    @admin.get("/inactive")
    def inactive() -> Response:
        return json_response(sim.inactive())

    @admin.post("/inactive")
    def mark_inactive() -> Response:
        email = admin_body().get("email")
        if not isinstance(email, str) or "@" not in email:
            raise ValueError("email is required")
        sim.mark_inactive(email)
        return json_response({"inactive": sim.inactive()}, 201)

    @admin.delete("/inactive/<email>")
    def reactivate(email: str) -> Response:
        sim.reactivate(email)
        return json_response({"inactive": sim.inactive()})

    @admin.get("/requests")
    def list_requests() -> Response:
        return json_response(sim.requests(request.args.get("endpoint")))

    app.register_blueprint(admin)


def start_postmark_simulator(
    port: int = 0, sim: PostmarkSimulator | None = None, **sim_kwargs: Any
) -> tuple[PostmarkSimulator, BackgroundServer]:
    """Start a simulator on 127.0.0.1:``port`` (0 = ephemeral) in a thread."""
    simulator = sim or PostmarkSimulator(**sim_kwargs)
    return start_simulator(simulator, create_app(simulator), port, "postmark-sim")


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.postmark_sim --port 8082``: serve until Ctrl-C."""
    parser = simulator_arguments("Postmark simulator on 127.0.0.1")
    parser.add_argument("--server-token", default="postmark-sim-token")
    args = parser.parse_args(argv)
    _sim, server = start_postmark_simulator(args.port, server_token=args.server_token)
    serve_until_interrupted(server, "Postmark simulator")


if __name__ == "__main__":
    main()
