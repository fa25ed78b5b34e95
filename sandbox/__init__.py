"""The local stack: moto engine, simulators of eBay and Postmark, local API.

``POWERTOOLS_ENV`` is what the template sets for Powertools on every function.
Powertools reads it when ``workflows.observability`` is imported (the metrics
namespace, the service name), so ``python -m sandbox`` sets it before it
imports anything else; the stack sets it again for its functions.
"""

import os
import time

POWERTOOLS_ENV: dict[str, str] = {
    "POWERTOOLS_SERVICE_NAME": "snipe",
    "POWERTOOLS_METRICS_NAMESPACE": "SniperLocal",
}


def offline_environment(name: str, metrics_namespace: str) -> dict[str, str]:
    """The configuration a process without AWS starts with (tests, benchmarks):
    fake credentials, Powertools' settings, and the app's required settings
    named after ``name`` (the local stack sets the rest when it starts)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials  # nosec B105
        "AWS_SESSION_TOKEN": "testing",  # moto's fake credentials  # nosec B105
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        **POWERTOOLS_ENV,
        "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
        "TABLE_NAME": f"snipes-{name}",
        "APP_SECRETS_ARN": (
            f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}"
        ),
        "TOKEN_KMS_KEY_ID": f"alias/snipes-{name}-ebay-tokens",
        "EMAIL_FROM": "sniper@example.com",
    }


def prepare_process(defaults: dict[str, str]) -> None:
    """UTC (moto's interpreter compares naive local times) and ``defaults``
    where the environment has no value. Call before boto3 or Powertools load."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
