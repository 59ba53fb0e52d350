"""Local stand-ins for outside HTTP APIs a service calls, declared in
`services/<service>/standins.yaml` and started by `rocket up` on a free loopback port:

```yaml
standins:
  - name: sgs
    factory: gap_scraper.standins.sgs:make_server   # (host, port) -> socketserver-like server
    parameter: SgsBaseUrl                           # stack parameter that receives the URL
```
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import yaml
from botocore.exceptions import ClientError

from rocket_infra.project import Service

logger = logging.getLogger(__name__)

FILE_NAME = "standins.yaml"
HOST = "127.0.0.1"


class StandinError(RuntimeError):
    """A malformed standins.yaml, a factory that cannot be imported, or a server that failed."""


class Server(Protocol):
    """What a factory returns: `socketserver.BaseServer` and `http.server.HTTPServer` fit."""

    server_address: Any

    def serve_forever(self, poll_interval: float = ...) -> None: ...

    def shutdown(self) -> None: ...

    def server_close(self) -> None: ...


@dataclass(frozen=True)
class Declaration:
    service: str
    name: str
    factory: str
    parameter: str


def declared(service: Service) -> list[Declaration]:
    """The service's stand-ins, in file order; none when it has no standins.yaml."""
    path = service.root / FILE_NAME
    if service.is_platform or not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise StandinError(f"{path}: not YAML: {exc}") from exc
    entries = data.get("standins") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise StandinError(f"{path}: expected a top-level 'standins:' list")
    found: list[Declaration] = []
    for index, entry in enumerate(entries):
        fields = entry if isinstance(entry, dict) else {}
        required = ("name", "factory", "parameter")
        missing = [k for k in required if not isinstance(fields.get(k), str)]
        if missing:
            raise StandinError(f"{path}: standins[{index}] needs {', '.join(missing)} (strings)")
        if ":" not in fields["factory"]:
            raise StandinError(f"{path}: factory {fields['factory']!r}: expected module:callable")
        found.append(
            Declaration(service.name, fields["name"], fields["factory"], fields["parameter"])
        )
    return found


def load_factory(declaration: Declaration, source_root: Path) -> Callable[[str, int], Server]:
    """Import `module:callable`; from the service's `src/` when the package is not installed
    (a service folder that is not a workspace member, as in tests)."""
    module_name, _, attribute = declaration.factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        if not source_root.is_dir() or str(source_root) in sys.path:
            raise
        sys.path.insert(0, str(source_root))
        module = importlib.import_module(module_name)
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise StandinError(f"stand-in {declaration.name}: {declaration.factory} is not callable")
    return cast(Callable[[str, int], Server], factory)


@dataclass
class Running:
    declaration: Declaration
    server: Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        logger.info("stand-in stopped", extra={"standin": self.declaration.name})


def start(declaration: Declaration, service: Service) -> Running:
    """Build the server on 127.0.0.1, port 0 (a free one), and serve it on a daemon thread."""
    try:
        factory = load_factory(declaration, service.root / "src")
    except ImportError as exc:
        raise StandinError(f"stand-in {declaration.name}: {exc}") from exc
    try:
        server = factory(HOST, 0)
    except Exception as exc:  # whatever the service's own code raises, named by stand-in
        raise StandinError(
            f"stand-in {declaration.name}: {declaration.factory} failed: {exc}"
        ) from exc
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"standin-{declaration.name}",
        daemon=True,
    )
    thread.start()
    running = Running(declaration, server, thread)
    logger.info("stand-in started", extra={"standin": declaration.name, "url": running.url})
    return running


def deployed_urls(service: Service, cfn: Any, stack: str) -> dict[str, str]:
    """The stand-in parameters' values the stack was last deployed with: a redeploy from another
    process (`rocket deploy --endpoint-url` into a running `rocket up`) keeps pointing at the
    stand-ins that process runs."""
    wanted = {d.parameter for d in declared(service)}
    if not wanted:
        return {}
    try:
        found = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError:  # no such stack yet: nothing to keep
        return {}
    given = found[0].get("Parameters", []) if found else []
    return {p["ParameterKey"]: p["ParameterValue"] for p in given if p["ParameterKey"] in wanted}


class Standins:
    """The stand-ins of every service deployed so far; `stop()` stops them all."""

    def __init__(self) -> None:
        self.running: list[Running] = []

    def start_for(self, service: Service) -> dict[str, str]:
        """Start the service's stand-ins; the stack parameters that receive their URLs."""
        urls: dict[str, str] = {}
        for declaration in declared(service):
            running = start(declaration, service)
            self.running.append(running)
            urls[declaration.parameter] = running.url
        return urls

    def table_rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (r.declaration.service, r.declaration.name, r.declaration.parameter, r.url)
            for r in self.running
        ]

    def stop(self) -> None:
        running, self.running = self.running, []
        for standin in reversed(running):
            try:
                standin.stop()
            except Exception:  # one failing stop must not leave the others running
                name = standin.declaration.name
                logger.exception("stand-in stop failed", extra={"standin": name})

    def __iter__(self) -> Iterator[Running]:
        return iter(self.running)
