"""sandbox.engine: each in-process invocation collects its own Powertools metrics.

On AWS a container runs one invocation at a time. In the sandbox, executions'
tasks run in concurrent threads of one process; without the engine's per-thread
provider state, one thread's flush clears (or publishes) another's metrics.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from sandbox import engine

THREADS = 16


@pytest.fixture
def installed() -> Iterator[None]:
    installed_here = not engine.is_installed()
    if installed_here:
        engine.install()
    try:
        yield
    finally:
        if installed_here:
            engine.uninstall()


def _run_concurrently(metrics: Metrics) -> None:
    start = threading.Barrier(THREADS)

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> None:
        n = event["n"]
        metrics.add_dimension(name="worker", value=str(n))
        metrics.add_metric(name=f"First{n}", unit=MetricUnit.Count, value=1)
        time.sleep(0.01)  # let the other threads add and flush meanwhile
        metrics.add_metric(name=f"Second{n}", unit=MetricUnit.Count, value=2)

    def invoke(n: int) -> None:
        start.wait()
        handler({"n": n}, None)

    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _blobs(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_concurrent_invocations_publish_only_their_own_metrics(
    installed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = Metrics(namespace="SandboxTest", service="engine")
    metrics.set_default_dimensions(stage="test")

    _run_concurrently(metrics)

    blobs = _blobs(capsys.readouterr().out)
    assert len(blobs) == THREADS
    for blob in blobs:
        n = blob["worker"]
        names = {m["Name"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
        assert names == {f"First{n}", f"Second{n}"}
        assert (blob["service"], blob["stage"]) == ("engine", "test")
    assert sorted(int(b["worker"]) for b in blobs) == list(range(THREADS))


def test_uninstall_gives_the_shared_provider_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    was_installed = engine.is_installed()
    engine.install()
    try:
        metrics = Metrics(namespace="SandboxTest", service="engine")
        metrics.add_metric(name="Kept", unit=MetricUnit.Count, value=1)
        engine.uninstall()
        # The provider still works, with what was collected before.
        metrics.flush_metrics()
        blobs = _blobs(capsys.readouterr().out)
        assert [
            m["Name"] for m in blobs[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        ] == ["Kept"]
    finally:
        if was_installed:
            engine.install()
        else:
            engine.uninstall()
