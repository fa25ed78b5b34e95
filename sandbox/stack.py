"""The local stack: AWS side on moto + simulated eBay and Postmark, wired together.

One piece of code serves the test suite (``tests/conftest.py``), the local
development stack (``python -m sandbox dev``) and the benchmarks:

* AWS: moto in-process (tests) or a moto server on 127.0.0.1 (``dev``), with the
  table and state machine built from ``template.yaml`` and the ``.asl.json``,
  and task Lambdas running in this process (``sandbox.engine``).
* eBay and Postmark: the in-repo simulators over real HTTP on 127.0.0.1.
* Configuration: the same environment variables the Lambdas read on AWS
  (``workflows.config``) point at the simulators; they are set once in this
  process, because every function shares one configuration.
* Secrets as on AWS: the app secrets (below) live in a moto Secrets Manager
  secret (``APP_SECRETS_ARN``), eBay tokens are sealed under a moto KMS key
  (``TOKEN_KMS_KEY_ID``); no secret value is in the environment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import POWERTOOLS_ENV, aws
from sandbox.ebay_sim import EbaySimulator, start_ebay_simulator
from sandbox.httpserver import BackgroundServer
from sandbox.postmark_sim import PostmarkSimulator, start_postmark_simulator
from sandbox.sfn_local.engine import SfnLocalEngine
from workflows.services import Services, get_services, reset_services

# Fixed sandbox credentials: they only ever open the local simulators.
EBAY_CLIENT_ID = "sandbox-client-id"
EBAY_CLIENT_SECRET = "sandbox-client-secret-7b1f"  # noqa: S105 - simulator only  # nosec B105
EBAY_RU_NAME = "sandbox-ru-name"
POSTMARK_TOKEN = "sandbox-postmark-token-3c9a"  # noqa: S105 - simulator only  # nosec B105
STATE_SIGNING_KEY = "sandbox-state-signing-key-5d0e-local-only-0123456789"
EMAIL_FROM = "Sniper <sniper@example.com>"
# The app secret's JSON (workflows.secrets.AppSecrets), in moto Secrets Manager.
APP_SECRETS = {
    "ebay_client_id": EBAY_CLIENT_ID,
    "ebay_client_secret": EBAY_CLIENT_SECRET,
    "postmark_server_token": POSTMARK_TOKEN,
    "state_signing_key": STATE_SIGNING_KEY,
}


@dataclass(frozen=True)
class StackPorts:
    """Where the stack's servers listen on 127.0.0.1 (0: any free port)."""

    ebay: int = 0
    postmark: int = 0
    moto: int = 0


@dataclass
class StackConfig:
    lead_seconds: float = 3.0
    settle_seconds: float = 1.0
    ports: StackPorts = StackPorts()
    server_mode: bool = False  # True: moto server on 127.0.0.1 (inspect with aws CLI)
    # Step Functions Local (Docker) runs the state machine instead of moto;
    # needs server_mode (docs/local-stack.md, "Step Functions Local").
    sfn_local: SfnLocalEngine | None = None
    # Where the eBay simulator's consent page sends the browser after "Agree"
    # (the RuName's accept URL): a web app's /ebay/callback. None: the
    # simulator's default.
    consent_redirect_url: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class LocalStack:
    aws: aws.LocalAws
    ebay: EbaySimulator
    ebay_url: str
    postmark: PostmarkSimulator
    postmark_url: str
    environment: dict[str, str]
    moto_url: str | None = None

    @property
    def stepfunctions_url(self) -> str | None:
        """Where Step Functions is (None: in-process moto)."""
        return self.aws.stepfunctions_url or self.moto_url

    @property
    def services(self) -> Services:
        return get_services()

    def secret_values(self) -> list[str]:
        """The app secrets the functions loaded: client secret, Postmark token,
        state signing key (for scans that must never find them)."""
        loaded = self.services.secrets
        return [
            loaded.ebay_client_secret.get_secret_value(),
            loaded.postmark_server_token.get_secret_value(),
            loaded.state_signing_key.get_secret_value(),
        ]

    def link_ebay(self, user_id: str) -> str:
        """Register the user at the eBay simulator and store their refresh token.

        (Account linking through eBay's consent flow is a later issue; until then
        the refresh token is seeded directly.)
        """
        refresh_token = self.ebay.register_user(user_id)
        self.services.store.put_ebay_account(user_id, refresh_token)  # sealed (KMS)
        return refresh_token


def _environment(
    local: aws.LocalAws, ebay_url: str, postmark_url: str, config: StackConfig
) -> dict[str, str]:
    return {
        **local.environment(),
        **POWERTOOLS_ENV,
        "EBAY_API_BASE_URL": ebay_url,
        "EBAY_AUTH_BASE_URL": ebay_url,
        "EBAY_MARKETPLACE_ID": "EBAY_US",
        "EBAY_RU_NAME": EBAY_RU_NAME,
        "POSTMARK_API_BASE_URL": postmark_url,
        "EMAIL_FROM": EMAIL_FROM,
        "SNIPE_LEAD_SECONDS": str(config.lead_seconds),
        "SNIPE_SETTLE_SECONDS": str(config.settle_seconds),
        **config.extra_env,
    }


@contextlib.contextmanager
def local_stack(config: StackConfig | None = None) -> Iterator[LocalStack]:
    """Start everything; stop everything (and restore the environment) on exit."""
    config = config or StackConfig()
    with contextlib.ExitStack() as stack:
        moto_url: str | None = None
        if config.server_mode:
            server = aws.MotoServer()
            moto_url = server.start(port=config.ports.moto)
            stack.callback(server.stop)
            if config.sfn_local is not None:
                local = config.sfn_local.provision(
                    server, stack, app_secrets=APP_SECRETS
                )
            else:
                local = server.provision(app_secrets=APP_SECRETS)
        else:
            local = stack.enter_context(aws.in_process_aws(app_secrets=APP_SECRETS))
        redirect: dict[str, Any] = (
            {"accept_url": config.consent_redirect_url}
            if config.consent_redirect_url
            else {}
        )
        ebay, ebay_server = start_ebay_simulator(
            port=config.ports.ebay,
            **redirect,
            client_id=EBAY_CLIENT_ID,
            client_secret=EBAY_CLIENT_SECRET,
            ru_name=EBAY_RU_NAME,
        )
        stack.callback(_stop, ebay_server)
        postmark, postmark_server = start_postmark_simulator(
            port=config.ports.postmark, server_token=POSTMARK_TOKEN
        )
        stack.callback(_stop, postmark_server)
        environment = _environment(local, ebay_server.url, postmark_server.url, config)
        stack.enter_context(aws.environ(environment))
        reset_services()
        stack.callback(reset_services)
        yield LocalStack(
            aws=local,
            ebay=ebay,
            ebay_url=ebay_server.url,
            postmark=postmark,
            postmark_url=postmark_server.url,
            environment=environment,
            moto_url=moto_url,
        )


def _stop(server: BackgroundServer) -> None:
    server.stop()
