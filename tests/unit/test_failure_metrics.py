"""A FAILED snipe is counted twice: SnipesFailed (service) and
SnipesFailedByReason (service, Reason), the metric the reason alarms watch."""

from __future__ import annotations

import json

import pytest

from workflows.failure_metrics import BY_REASON_METRIC, count_failed
from workflows.models import Reason
from workflows.observability import metrics


def test_the_reason_is_a_dimension_of_its_own_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count_failed(Reason.EBAY_UNAVAILABLE)
    metrics.flush_metrics()
    documents = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    [by_reason] = [d for d in documents if BY_REASON_METRIC in d]
    assert by_reason["Reason"] == "EBAY_UNAVAILABLE"
    assert by_reason[BY_REASON_METRIC] in (1, [1])
    [directive] = by_reason["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service", "Reason"]]
    [total] = [d for d in documents if "SnipesFailed" in d]
    assert total["SnipesFailed"] in (1, [1]) and "Reason" not in total
