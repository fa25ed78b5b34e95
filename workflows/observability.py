"""Shared Powertools Logger and Metrics for every handler.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml and the sandbox).

No Powertools Tracer: it loads the X-Ray SDK (aws_xray_sdk), which cost every
cold start 150-300 ms and the artifact ~2.8 MB (docs/benchmarks.md).
``Tracing: Active`` in template.yaml still has Lambda record each invocation's
own segments (initialization, invocation, overhead) with no SDK in the
function, and Step Functions and API Gateway trace too; only our custom
subsegments (the SDK's patched boto3/httpx calls) are gone.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
