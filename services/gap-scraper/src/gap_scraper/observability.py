"""The service's logger, metrics and tracer (Powertools), created once."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from rocket_contracts.observability import quiet_empty_metrics

SERVICE = "gap-scraper"

logger = Logger(service=SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Rocket"), service=SERVICE
)
tracer = Tracer(service=SERVICE)


quiet_empty_metrics()
