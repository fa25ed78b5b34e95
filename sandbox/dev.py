"""``python -m sandbox dev``: the whole system on this machine, until Ctrl-C.

Starts, all on 127.0.0.1 and all in this one process (threads):

* the API (API Gateway + Cognito authorizer stand-in) on port 8000, with the
  dev-only ``POST /dev/token`` and ``/dev/task-faults`` (task Lambda faults),
* the eBay simulator (8001) and the Postmark simulator (8002),
* a moto server (8003) with DynamoDB and Step Functions executing the ASL; task
  Lambdas run in this process,
* the web app (``web/``, Next.js) on port 3000 in its own process
  (``sandbox.web``; ``SANDBOX_WEB=0`` leaves it out).

Seeds a demo user, linked to the eBay simulator through the real consent flow
(``link_through_consent``), and a few auctions ending over the next minutes,
writes the URLs to ``.sandbox/stack.json`` for ``demo`` and other
scripts, prints copy-paste commands, and stops everything on Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from sandbox.auth import email_for, issue_token, load_key
from sandbox.dev_task_faults import TaskFaultAdmin
from sandbox.httpserver import BackgroundServer
from sandbox.local_api import LocalApi
from sandbox.sfn_local.engine import SfnLocalEngine
from sandbox.stack import LocalStack, StackConfig, StackPorts, local_stack
from sandbox.web import WebApp, WebAppError

REPO = Path(__file__).resolve().parent.parent
STATE_FILE = Path(
    os.environ.get("SANDBOX_STATE_FILE", REPO / ".sandbox" / "stack.json")
)
DEMO_USER = "demo"


def web_port() -> int:
    """The web app's port (``SANDBOX_WEB_PORT``, default 3000)."""
    return int(os.environ.get("SANDBOX_WEB_PORT", "3000"))


def consent_redirect_url(port: int | None = None) -> str:
    """Where eBay's (simulated) consent page sends the browser after "Agree":
    ``SANDBOX_CONSENT_REDIRECT_URL``, by default the /ebay/callback of the web
    app on ``port`` (None: :func:`web_port`), which passes ``code`` and
    ``state`` to POST /api/ebay/callback."""
    port = web_port() if port is None else port
    return os.environ.get("SANDBOX_CONSENT_REDIRECT_URL") or (
        f"http://127.0.0.1:{port}/ebay/callback"
    )


def cors_origins(port: int | None = None) -> str:
    """The origins of the web app on ``port`` (None: :func:`web_port`), both
    host names a browser may use."""
    port = web_port() if port is None else port
    return f"http://localhost:{port},http://127.0.0.1:{port}"


_DEV_STACK_PORTS = StackPorts(ebay=8001, postmark=8002, moto=8003)


@dataclass(frozen=True)
class DevPorts:
    """The API's and the web app's ports, and the stack's (simulators, moto)."""

    api: int = 8000
    web: int = 3000
    stack: StackPorts = _DEV_STACK_PORTS

    @classmethod
    def from_env(cls) -> DevPorts:
        def port(name: str, default: int) -> int:
            return int(os.environ.get(name, default))

        return cls(
            api=port("SANDBOX_API_PORT", cls.api),
            web=web_port(),
            stack=StackPorts(
                ebay=port("SANDBOX_EBAY_PORT", _DEV_STACK_PORTS.ebay),
                postmark=port("SANDBOX_POSTMARK_PORT", _DEV_STACK_PORTS.postmark),
                moto=port("SANDBOX_MOTO_PORT", _DEV_STACK_PORTS.moto),
            ),
        )


def web_enabled() -> bool:
    return os.environ.get("SANDBOX_WEB", "1").strip().lower() not in {"0", "no"}


def link_through_consent(api_url: str, token: str, ebay_user: str) -> dict[str, Any]:
    """Link the token's user to ``ebay_user`` at the simulator, as the web app does.

    ``GET /api/ebay/connect`` -> open the consent URL at the eBay simulator as
    ``ebay_user`` (its ``sim_user`` shortcut for pressing "Agree"), without
    following the redirect -> ``code`` and ``state`` from the ``Location`` ->
    ``POST /api/ebay/callback``. Returns the link status.
    """
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10.0, follow_redirects=False) as http:
        connect = http.get(f"{api_url}/api/ebay/connect", headers=auth)
        connect.raise_for_status()
        consent_url = str(connect.json()["url"])
        consent = http.get(f"{consent_url}&sim_user={quote(ebay_user, safe='')}")
        if consent.status_code != 302:
            raise RuntimeError(
                f"the eBay simulator did not redirect (HTTP {consent.status_code})"
            )
        query = parse_qs(urlsplit(consent.headers["Location"]).query)
        callback = http.post(
            f"{api_url}/api/ebay/callback",
            headers=auth,
            json={"code": query["code"][0], "state": query["state"][0]},
        )
        callback.raise_for_status()
        status: dict[str, Any] = callback.json()
    if not status.get("linked"):
        raise RuntimeError(f"the eBay account was not linked: {status}")
    return status


def seed(stack: LocalStack, api_url: str, token: str) -> list[dict[str, str]]:
    """The demo user linked through eBay's (simulated) consent flow over the local
    API, and auctions ending over the next minutes."""
    link_through_consent(api_url, token, DEMO_USER)
    listings = [
        ("Leica M6 rangefinder, boxed", "450.00", 180, "520.00"),
        ("Omega Speedmaster 145.022", "1200.00", 300, "1350.00"),
        ("Nintendo Game Boy, 1989, working", "25.00", 420, "32.50"),
        ("First edition paperback, signed", "8.00", 600, None),
    ]
    seeded = []
    for title, start, ends_in, rival_max in listings:
        auction = stack.ebay.create_auction(
            title=title, start_price=start, end_in_s=ends_in
        )
        if rival_max:
            stack.ebay.add_rival(auction.item_id, rival_max, seconds_before_end=20)
        seeded.append(
            {"item_id": auction.item_id, "title": title, "ends_in_s": str(ends_in)}
        )
    return seeded


def _banner(
    stack: LocalStack,
    api_url: str,
    token: str,
    items: list[dict[str, str]],
    web_url: str | None,
    config: StackConfig,
) -> str:
    body = json.dumps(
        {
            "item_id": items[0]["item_id"],
            "max_bid": {"value": "600.00", "currency": "USD"},
            "bid_offset_seconds": 6,
        }
    )
    moto = stack.moto_url or ""
    sfn = stack.stepfunctions_url or moto
    engine = "(DynamoDB, Step Functions)"
    if sfn != moto:  # Step Functions Local
        engine = f"""(DynamoDB, KMS, Secrets Manager, Lambda)
  Step Functions   {sfn}   (Step Functions Local in Docker)"""
    web = (
        f"  Web app          {web_url}   (sign in as any user, e.g. '{DEMO_USER}')"
        if web_url
        else "  Web app          off (SANDBOX_WEB=0)"
    )
    first_item = items[0]["item_id"].replace("|", "%7C")
    return f"""
{web}

Snipe sandbox is up (Ctrl-C stops everything).

  API              {api_url}   (GET /api/health needs no token)
  Task faults      {api_url}/dev/task-faults   (crash a task Lambda on cue)
  eBay simulator   {stack.ebay_url}   (admin: /sim/auctions, /sim/requests, /sim/faults)
  Postmark sim     {stack.postmark_url}   (outbox: /sim/outbox)
  AWS (moto)       {moto}   {engine}
  State machine    {stack.aws.state_machine_arn}

Demo user '{DEMO_USER}' linked its eBay account through the (simulated)
consent flow. A bearer token for it:

  export TOKEN={token}
  # any other user: export TOKEN=$(.venv/bin/python -m sandbox token alice)

Try:

  curl -s {api_url}/api/health
  curl -s -H "Authorization: Bearer $TOKEN" {api_url}/api/snipes
  curl -s -X POST {api_url}/api/snipes -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' \\
       -d '{body}'
  curl -s {stack.ebay_url}/sim/auctions
  curl -s {stack.postmark_url}/sim/outbox
  curl -s -H "Authorization: Bearer $TOKEN" '{api_url}/api/items/{first_item}'
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url {sfn} \\
      --region us-east-1 stepfunctions list-executions \\
      --state-machine-arn {stack.aws.state_machine_arn}

  make demo     # in another terminal: one winning and one losing snipe, with timelines

eBay's consent page (simulated) sends the browser to {config.consent_redirect_url}
(SANDBOX_CONSENT_REDIRECT_URL). CORS allows {config.extra_env["CORS_ALLOWED_ORIGINS"]}.

State lives in memory: stopping this stack forgets every user, snipe and
auction, and the next start begins empty.
"""


def _replace_stale_state_file() -> None:
    """Say what happens to a state file left by an earlier stack."""
    if not STATE_FILE.exists():
        return
    try:
        pid = int(json.loads(STATE_FILE.read_text()).get("pid", 0))
    except (ValueError, OSError, AttributeError):
        pid = 0
    if pid and pid != os.getpid() and _alive(pid):
        print(
            f"sandbox: another stack (pid {pid}) wrote {STATE_FILE}; this one"
            " replaces it (stop the other one, or use other ports)",
            flush=True,
        )
    else:
        print(
            f"sandbox: replacing {STATE_FILE}, left by a stack that did not stop"
            " (its state was in memory and is gone)",
            flush=True,
        )
    STATE_FILE.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(
    ports: DevPorts | None = None,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    sfn_local: SfnLocalEngine | None = None,
) -> int:
    ports = ports or DevPorts.from_env()
    stop = stop or threading.Event()
    origins = cors_origins(ports.web)
    config = StackConfig(
        lead_seconds=float(os.environ.get("SNIPE_LEAD_SECONDS", "4")),
        settle_seconds=float(os.environ.get("SNIPE_SETTLE_SECONDS", "2")),
        ports=ports.stack,
        server_mode=True,
        sfn_local=sfn_local,
        consent_redirect_url=consent_redirect_url(ports.web),
        extra_env={"CORS_ALLOWED_ORIGINS": origins},
    )
    key = load_key()
    _replace_stale_state_file()
    with local_stack(config) as stack:
        from api.app import lambda_handler  # after the environment is in place

        api = BackgroundServer(
            LocalApi(
                lambda_handler,
                signing_key=key,
                origins=origins.split(","),
                task_faults=TaskFaultAdmin.for_stack(stack),
            ),
            port=ports.api,
            name="local-api",
        ).start()
        web: WebApp | None = None
        try:
            api_url = f"http://127.0.0.1:{api.port}"
            token = issue_token(DEMO_USER, key=key, email=email_for(DEMO_USER))
            items = seed(stack, api_url, token)
            if web_enabled():
                web = WebApp(
                    ports.web, {"SNIPE_API_URL": api_url, "SNIPE_AUTH_MODE": "dev"}
                ).start()
            STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
            STATE_FILE.write_text(
                json.dumps(
                    {
                        "api_url": api_url,
                        "web_url": web.url if web else None,
                        "ebay_url": stack.ebay_url,
                        "postmark_url": stack.postmark_url,
                        "moto_url": stack.moto_url,
                        "stepfunctions_url": stack.stepfunctions_url,
                        "state_machine_arn": stack.aws.state_machine_arn,
                        "table_name": stack.aws.table_name,
                        "demo_user": DEMO_USER,
                        "pid": os.getpid(),
                        "started_at": time.time(),
                    },
                    indent=2,
                )
            )
            print(
                _banner(stack, api_url, token, items, web.url if web else None, config),
                flush=True,
            )
            if ready is not None:
                ready.set()
            stop.wait()
        finally:
            if web is not None:
                web.stop()
            api.stop()
            STATE_FILE.unlink(missing_ok=True)
    print("Snipe sandbox stopped.", flush=True)
    return 0


def main(sfn_local: SfnLocalEngine | None = None) -> int:
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        return run(stop=stop, sfn_local=sfn_local)
    except OSError as exc:  # a port is taken
        print(f"sandbox: cannot start: {exc}", file=sys.stderr)
        return 1
    except WebAppError as exc:
        print(f"sandbox: the web app cannot start: {exc}", file=sys.stderr)
        return 1
