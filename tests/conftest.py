"""Shared fixtures.

* Unit tests get a complete, fake configuration in the environment (no network,
  no AWS).
* ``stack`` (module): the local stack from ``sandbox.stack`` — moto in-process
  executing the real ASL, task Lambdas in this process, eBay and Postmark
  simulators over real HTTP on 127.0.0.1.
* ``captured_logs`` (session): every log record any logger emitted, formatted, so
  tests can assert that no secret ever reaches a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sandbox import offline_environment, prepare_process

# Before anything imports boto3 or Powertools.
prepare_process(offline_environment("unit", "SniperTest"))

from sandbox.stack import LocalStack, StackConfig, local_stack  # noqa: E402


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a test aid must never break logging
            self.lines.append(str(record.__dict__))


@pytest.fixture(scope="session")
def captured_logs() -> Iterator[list[str]]:
    """All log lines of the session: the Powertools JSON lines and the rest."""
    from workflows.observability import logger

    capture = _Capture()
    powertools = logging.getLogger(logger.name)
    formatter = powertools.handlers[0].formatter if powertools.handlers else None
    if formatter is not None:
        capture.setFormatter(formatter)
    powertools.addHandler(capture)
    logging.getLogger().addHandler(capture)
    try:
        yield capture.lines
    finally:
        powertools.removeHandler(capture)
        logging.getLogger().removeHandler(capture)


@pytest.fixture(scope="module")
def stack(captured_logs: list[str]) -> Iterator[LocalStack]:
    """Module-scoped: moto's backends are process-global, so two moto contexts must
    never overlap; tests that start their own ``mock_aws`` live in other modules."""
    config = StackConfig(
        lead_seconds=3.0,
        settle_seconds=1.0,
        # Patient reconciliation, compressed: re-check an unsettled result
        # after 1 s (docs/reliability.md).
        extra_env={"SNIPE_RECHECK_FIRST_SECONDS": "1"},
    )
    with local_stack(config) as running:
        yield running
