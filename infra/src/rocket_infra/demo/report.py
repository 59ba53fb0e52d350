"""What one demo scenario saw: the shape every scenario returns and `rocket demo` prints."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deliberate:
    """Bad input a scenario sends on purpose, and where it ended (a DLQ, a quarantine prefix),
    so the reader knows the rejection is expected and where to look at it."""

    what: str
    ended_in: str


@dataclass
class ScenarioReport:
    """Counts per kind of thing (event type, object prefix...) and the expectations that failed."""

    service: str
    came_in: dict[str, int] = field(default_factory=dict)
    went_out: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    deliberate: list[Deliberate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def expect(self, condition: bool, failure: str) -> None:
        """Record `failure` unless `condition` holds."""
        if not condition:
            self.failures.append(failure)

    def sent_on_purpose(self, what: str, ended_in: str) -> None:
        """Announce bad input sent on purpose (expected to be refused) and where it ended."""
        self.deliberate.append(Deliberate(what, ended_in))
