"""Observability helpers every service's ``observability`` module shares."""

from __future__ import annotations

import warnings


def quiet_empty_metrics() -> None:
    """Silence Powertools' "No application metrics to publish" warning.

    An invocation with nothing to count (a redelivery already handled, an S3 test event) is
    normal; Powertools warns about it on every such invocation, burying the lines that matter.
    """
    warnings.filterwarnings(
        "ignore", message="No application metrics to publish", category=UserWarning
    )
