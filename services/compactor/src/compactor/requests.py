"""Requests to compact, and the daily schedule's request, into one execution per domain-day.

An execution's name derives from the request id, the domain and the day, so a redelivered
request (or the same request received twice at once) names an execution that already exists
and starts nothing; a new request for a done day starts one that ends at once
(ALREADY_COMPACTED) unless it forces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)

from compactor.domains import DomainCatalog
from compactor.observability import logger, metrics
from compactor.ports import Executions
from compactor.steps import Job

SCHEDULE = "schedule/compactor-daily"


@dataclass(frozen=True)
class StartedExecution:
    name: str
    domain: str
    started: bool


def execution_name(request_id: str, domain: str, day: str) -> str:
    """At most 80 characters of [A-Za-z0-9_-], as Step Functions requires."""
    digest = hashlib.sha256(request_id.encode()).hexdigest()[:16]
    return f"{domain[:40]}-{day}-{digest}"


class Requests:
    def __init__(self, domains: DomainCatalog, executions: Executions) -> None:
        self.domains = domains
        self.executions = executions

    def start(
        self, request: CompactorCompactionRequestedV1, correlation_id: str
    ) -> list[StartedExecution]:
        names = [d.root for d in request.domains] if request.domains else self.domains.names()
        for name in names:  # every domain known before any execution starts
            self.domains.get(name)
        day = request.date.isoformat()
        started: list[StartedExecution] = []
        for domain in names:
            name = execution_name(request.request_id, domain, day)
            job = Job(
                request_id=request.request_id,
                domain=domain,
                date=request.date,
                force=bool(request.force),
                correlation_id=correlation_id,
                execution=name,
            )
            fresh = self.executions.start(name, {"job": job.model_dump(mode="json")})
            if fresh:
                metrics.add_metric(name="ExecutionsStarted", unit="Count", value=1)
            logger.info(
                "execution started" if fresh else "execution already started",
                extra={"execution": name, "domain": domain, "date": day},
            )
            started.append(StartedExecution(name, domain, fresh))
        return started


def daily_request(fired_at: datetime) -> CompactorCompactionRequestedV1:
    """The schedule's request: every domain, the UTC day before the one it fired on."""
    day = fired_at.astimezone(UTC).date() - timedelta(days=1)
    return CompactorCompactionRequestedV1.model_validate(
        {
            "request_id": f"compactor-daily:{day.isoformat()}",
            "date": day.isoformat(),
            "requested_by": SCHEDULE,
            "requested_at": fired_at.isoformat(),
        }
    )
