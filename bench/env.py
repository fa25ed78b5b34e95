"""Process set-up that must happen before boto3, Powertools or ``workflows`` load.

Powertools reads ``POWERTOOLS_*`` when ``workflows.observability`` is imported
(the metrics namespace, for one), and moto's interpreter compares naive local
times: run in UTC. The defaults are ``sandbox.offline_environment``, as in
``tests/conftest.py``; the local stack then
sets the rest (table, state machine, simulators) when it starts.
"""

from __future__ import annotations

import warnings

from sandbox import offline_environment, prepare_process

DEFAULTS: dict[str, str] = {
    **offline_environment("bench", "SniperBench"),
    # As template.yaml's LogLevel default; the lines go to bench/results/.
    "LOG_LEVEL": "INFO",
}


def prepare() -> None:
    """UTC and the defaults above (existing values win)."""
    prepare_process(DEFAULTS)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="moto")


prepare()
