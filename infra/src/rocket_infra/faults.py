"""Faults on demand in a running emulator, for tests and `rocket fault`: make chosen operations
answer with throttling, 500s or timeouts, or (DynamoDB batches) leave items unprocessed, at a
rate or for the next N calls. Off until set; the emulator side is `rocket_infra.fault_middleware`.

```python
set_fault(url, service="dynamodb", operation="BatchWriteItem", kind="unprocessed", count=3)
```
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from rocket_infra.fault_middleware import CONTROL_PATH, KINDS

__all__ = ["KINDS", "FaultError", "clear_faults", "list_faults", "set_fault"]


class FaultError(RuntimeError):
    """The emulator refused the fault (the message says why) or could not be reached."""


def _call(endpoint_url: str, method: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{endpoint_url.rstrip('/')}{CONTROL_PATH}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            reason = exc.reason
        if exc.code == 404:
            reason = "this emulator has no fault control (not started by rocket?)"
        raise FaultError(f"fault refused: {reason}") from exc
    except urllib.error.URLError as exc:
        raise FaultError(f"no emulator at {endpoint_url}: {exc.reason}") from exc


def set_fault(
    endpoint_url: str,
    *,
    service: str,
    operation: str,
    kind: str,
    rate: float | None = None,
    count: int | None = None,
    seed: int | None = None,
    delay_seconds: float | None = None,
) -> None:
    """Fault `operation` ('*': every operation) of `service` (the signing name: dynamodb, s3,
    sqs, kinesis, states, ...). `kind`: throttle, error500, timeout (answers 500 after
    `delay_seconds`, default 5), unprocessed (DynamoDB BatchWriteItem/BatchGetItem). The next
    `count` calls, or each call with probability `rate` (reproducible with `seed`); every call
    when neither is given. Replaces a fault already set on the same service and operation."""
    body: dict[str, Any] = {"service": service, "operation": operation, "kind": kind}
    optional = {"rate": rate, "count": count, "seed": seed, "delay_seconds": delay_seconds}
    body.update({k: v for k, v in optional.items() if v is not None})
    _call(endpoint_url, "POST", body)


def clear_faults(endpoint_url: str) -> None:
    """Remove every fault: the emulator answers as moto does again."""
    _call(endpoint_url, "DELETE")


def list_faults(endpoint_url: str) -> list[dict[str, Any]]:
    """The faults set, each with how often it fired (`fired`; `remaining` for a count)."""
    faults: list[dict[str, Any]] = _call(endpoint_url, "GET")["faults"]
    return faults
