"""An invocation with nothing to count logs no Powertools warning (the local runtime and
CloudWatch would show one per such invocation); every service's observability module calls
quiet_empty_metrics when a Lambda process imports it."""

from __future__ import annotations

import warnings

import pytest
from aws_lambda_powertools import Metrics
from rocket_contracts.observability import quiet_empty_metrics


@pytest.mark.parametrize("quieted", [True, False])
def test_flushing_no_metrics_warns_only_when_not_quieted(quieted: bool) -> None:
    metrics = Metrics(namespace="Rocket", service="test")
    # pytest restores the warning filters around each test, so install them inside it.
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        if quieted:
            quiet_empty_metrics()
        metrics.flush_metrics()

    assert any("No application metrics" in str(w.message) for w in seen) is not quieted
