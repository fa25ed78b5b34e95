"""Process set-up that must happen before boto3, Powertools or ``workflows`` load.

Powertools reads ``POWERTOOLS_*`` when ``workflows.observability`` is imported
(the metrics namespace, for one), and moto's interpreter compares naive local
times: run in UTC. Same defaults as ``tests/conftest.py``; the local stack then
sets the rest (table, state machine, simulators) when it starts.
"""

from __future__ import annotations

import os
import time
import warnings

DEFAULTS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "snipe",
    "POWERTOOLS_METRICS_NAMESPACE": "SniperBench",
    # As template.yaml's LogLevel default; the lines go to bench/results/.
    "LOG_LEVEL": "INFO",
    "TABLE_NAME": "snipes-bench",
    "APP_SECRETS_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
    "TOKEN_KMS_KEY_ID": "alias/snipes-bench-ebay-tokens",
    "EMAIL_FROM": "sniper@example.com",
}


def prepare() -> None:
    """UTC and the defaults above (existing values win)."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="moto")


prepare()
