"""The failed-snipe metric, with the reason as a dimension (issue 14).

``SnipesFailed`` (service only) counts every FAILED snipe, as before;
``SnipesFailedByReason`` counts the same event with a ``Reason`` dimension, so
that alarms can watch the reasons that mean "something is broken"
(``BID_WINDOW_MISSED``, ``EBAY_UNAVAILABLE``, ``INTERNAL_ERROR``; template.yaml)
and the dashboard can show failures by reason. Powertools' shared ``metrics``
has one dimension set per flush, so the per-reason count is its own EMF
document (``single_metric``).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from workflows.models import Reason
from workflows.observability import metrics

BY_REASON_METRIC = "SnipesFailedByReason"


def count_failed(reason: Reason) -> None:
    """Count one snipe recorded FAILED with ``reason``."""
    metrics.add_metric(name="SnipesFailed", unit=MetricUnit.Count, value=1)
    with single_metric(
        name=BY_REASON_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=_namespace(),
    ) as metric:
        metric.add_dimension(name="service", value=metrics.service or "snipe")
        metric.add_dimension(name="Reason", value=reason.value)


def _namespace() -> str:
    # Set on AWS (template.yaml) and in the sandbox; code run without it (unit
    # tests of the use cases) still gets a valid document.
    return str(metrics.namespace or "Sniper")
