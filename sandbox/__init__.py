"""The local stack: moto engine, simulators of eBay and Postmark, local API.

``POWERTOOLS_ENV`` is what the template sets for Powertools on every function.
Powertools reads it when ``workflows.observability`` is imported (the metrics
namespace, the service name), so ``python -m sandbox`` sets it before it
imports anything else; the stack sets it again for its functions.
"""

POWERTOOLS_ENV: dict[str, str] = {
    "POWERTOOLS_SERVICE_NAME": "snipe",
    "POWERTOOLS_METRICS_NAMESPACE": "SniperLocal",
}
