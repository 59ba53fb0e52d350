"""The service's logger, metrics and tracer (Powertools), created once."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from rocket_contracts.observability import quiet_empty_metrics

SERVICE = "compactor"
NAMESPACE = "Rocket"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


quiet_empty_metrics()
