"""Step Functions Local as the engine of the local stack (``make dev-sfn-local``).

What changes against ``make dev``: the state machine is created in Step
Functions Local (Docker, ``compose.yaml`` next to this file) from the ASL
adapted by :mod:`sandbox.sfn_local.asl`, and the stack's Step Functions calls go
to it (``AWS_ENDPOINT_URL_SFN``). DynamoDB, KMS, Secrets Manager and the Lambda
functions stay on the moto server; Step Functions Local invokes the functions
through :class:`~sandbox.sfn_local.lambda_gateway.LambdaGateway`, which
forwards to moto, whose invoke hook runs our handlers in this process.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from sandbox import aws
from sandbox.sfn_local.asl import Change, adapt_for_sfn_local
from sandbox.sfn_local.docker import (
    SfnLocalContainer,
    host_gateway_address,
    require_docker,
)
from sandbox.sfn_local.lambda_gateway import LambdaGateway

__all__ = ["DEFAULT_LAMBDA_PORT", "DEFAULT_SFN_LOCAL_PORT", "SfnLocalEngine"]


def _quietly(stop: Callable[[], None]) -> None:
    """Stop something on the way out without hiding why we are leaving."""
    try:
        stop()
    except Exception as exc:  # reported, not raised: cleanup must go on
        LOGGER.warning("Step Functions Local: stopping failed: %s", exc)


LOGGER = logging.getLogger(__name__)

DEFAULT_SFN_LOCAL_PORT: Final = 8083  # Step Functions Local's own port
DEFAULT_LAMBDA_PORT: Final = 8004


@dataclass
class SfnLocalEngine:
    sfn_port: int = DEFAULT_SFN_LOCAL_PORT
    lambda_port: int = DEFAULT_LAMBDA_PORT
    lambda_bind: str | None = None  # None: host_gateway_address()
    # The Compose command, when the caller has checked Docker already (the
    # CLI does, before anything starts); None: provision checks.
    compose: tuple[str, ...] | None = None
    changes: tuple[Change, ...] = field(default=(), init=False)
    gateway_url: str = field(default="", init=False)
    url: str = field(default="", init=False)
    # Where the substitutions made are told (make dev-sfn-local: stdout).
    report: Callable[[str], None] | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SfnLocalEngine:
        env = os.environ if environ is None else environ
        return cls(
            sfn_port=int(env.get("SANDBOX_SFN_LOCAL_PORT", DEFAULT_SFN_LOCAL_PORT)),
            lambda_port=int(env.get("SANDBOX_LAMBDA_PORT", DEFAULT_LAMBDA_PORT)),
            lambda_bind=env.get("SANDBOX_LAMBDA_BIND") or None,
        )

    def _adapt(self, definition: str) -> str:
        adapted = adapt_for_sfn_local(definition)
        self.changes = adapted.changes
        for change in adapted.changes:
            LOGGER.info("Step Functions Local substitution: %s", change)
        if self.report is not None and adapted.changes:
            self.report(
                "The state machine was adapted for Step Functions Local "
                "(docs/local-stack.md):\n"
                + "\n".join(f"  - {change}" for change in adapted.changes)
            )
        return adapted.definition

    def provision(
        self,
        server: aws.MotoServer,
        stack: contextlib.ExitStack,
        *,
        app_secrets: Mapping[str, str] | None = None,
    ) -> aws.LocalAws:
        """Gateway, container, then the template with the machine in the container.

        Everything started is stopped by ``stack``.

        Raises:
            DockerUnavailable: no daemon or Compose, or the container did not
                come up.
            UnsupportedDefinition: the ASL uses what Step Functions Local
                cannot run.
        """
        compose = self.compose or tuple(require_docker())
        gateway = LambdaGateway(server.url).serve(
            host=self.lambda_bind or host_gateway_address(), port=self.lambda_port
        )
        stack.callback(gateway.stop)
        self.gateway_url = gateway.url
        container = SfnLocalContainer(
            port=self.sfn_port, lambda_port=gateway.port, compose=compose
        )
        container.up()
        stack.callback(_quietly, container.down)
        container.wait_ready()
        self.url = container.url
        return server.provision(
            app_secrets=app_secrets,
            stepfunctions_url=container.url,
            adapt_definition=self._adapt,
        )
