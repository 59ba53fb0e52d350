"""Faults on demand, inside the emulator process: a WSGI middleware in front of moto that answers
chosen operations with throttling, 500s or timeouts, or lets DynamoDB batch calls through with
only part of their items (moto itself never returns unprocessed items).

Control endpoint (off until a fault is set): `GET /rocket-api/faults` lists them,
`POST /rocket-api/faults` sets one (JSON: service, operation, kind, rate|count, seed,
delay_seconds), `DELETE /rocket-api/faults` clears them all. The client is `rocket_infra.faults`.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

CONTROL_PATH = "/rocket-api/faults"
KINDS = ("throttle", "error500", "timeout", "unprocessed")
UNPROCESSED_OPERATIONS = {("dynamodb", "BatchWriteItem"), ("dynamodb", "BatchGetItem")}
DEFAULT_TIMEOUT_DELAY = 5.0
# Names a user may know a service by, to the signing name requests carry in their credentials.
ALIASES = {"stepfunctions": "states", "sfn": "states", "eventbridge": "events", "cwlogs": "logs"}

# (throttle code, throttle status, internal code) where a service departs from the defaults.
_CODES: dict[str, tuple[str, int, str]] = {
    "dynamodb": ("ProvisionedThroughputExceededException", 400, "InternalServerError"),
    "kinesis": ("ProvisionedThroughputExceededException", 400, "InternalFailure"),
    "s3": ("SlowDown", 503, "InternalError"),
    "lambda": ("TooManyRequestsException", 429, "ServiceException"),
    "sns": ("Throttling", 400, "InternalError"),
    "cloudformation": ("Throttling", 400, "InternalFailure"),
}
_DEFAULT_CODES = ("ThrottlingException", 400, "InternalFailure")
_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")

StartResponse = Callable[..., Any]
App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FaultSpecError(ValueError):
    """A fault the middleware cannot apply; the message says why."""


@dataclass
class Fault:
    service: str
    operation: str
    kind: str
    rate: float | None = None
    count: int | None = None
    seed: int | None = None
    delay_seconds: float | None = None
    fired: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        unknown = set(body) - {
            "service", "operation", "kind", "rate", "count", "seed", "delay_seconds"
        }  # fmt: skip
        if unknown:
            raise FaultSpecError(f"unknown field {', '.join(sorted(unknown))}")
        service = str(body.get("service") or "").lower()
        service = ALIASES.get(service, service)
        operation, kind = str(body.get("operation") or ""), str(body.get("kind") or "")
        if not service or not operation:
            raise FaultSpecError("service and operation are required ('*': any operation)")
        if kind not in KINDS:
            raise FaultSpecError(f"kind {kind!r}: one of {', '.join(KINDS)}")
        if kind == "unprocessed" and (service, operation) not in UNPROCESSED_OPERATIONS:
            raise FaultSpecError("unprocessed applies to dynamodb BatchWriteItem/BatchGetItem")
        rate, count = body.get("rate"), body.get("count")
        if rate is not None and count is not None:
            raise FaultSpecError("give rate or count, not both")
        if rate is not None and not (isinstance(rate, int | float) and 0 <= rate <= 1):
            raise FaultSpecError(f"rate {rate!r}: a number from 0 to 1")
        if count is not None and not (isinstance(count, int) and count >= 1):
            raise FaultSpecError(f"count {count!r}: a whole number from 1")
        delay = body.get("delay_seconds")
        if delay is not None and not (isinstance(delay, int | float) and delay >= 0):
            raise FaultSpecError(f"delay_seconds {delay!r}: a number from 0")
        seed = body.get("seed")
        fault = cls(
            service,
            operation,
            kind,
            None if rate is None else float(rate),
            count,
            None if seed is None else int(seed),
            None if delay is None else float(delay),
        )
        fault._random = random.Random(fault.seed)
        return fault

    def matches(self, service: str, operation: str) -> bool:
        return self.service == service and self.operation in ("*", operation)

    def fires(self) -> bool:
        """Whether this call is faulted (call under the registry's lock)."""
        if self.count is not None:
            if self.fired >= self.count:
                return False
        elif self.rate is not None and self._random.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "service": self.service,
            "operation": self.operation,
            "kind": self.kind,
            "rate": self.rate,
            "count": self.count,
            "seed": self.seed,
            "delay_seconds": self.delay_seconds,
            "fired": self.fired,
        }
        if self.count is not None:
            shown["remaining"] = self.count - self.fired
        return shown


@dataclass
class Call:
    """What a request is, as far as faults care: the service, the operation, the body."""

    service: str
    operation: str
    body: bytes
    target: str  # X-Amz-Target ("" for query, REST and S3 requests)
    query_protocol: bool


class FaultMiddleware:
    """Wraps the emulator's WSGI app; with no fault set it only looks at the path."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == CONTROL_PATH:
            return self._control(environ, start_response)
        if not self._faults:
            return self._app(environ, start_response)
        call = _identify(environ)
        if call is None:
            return self._app(environ, start_response)
        with self._lock:
            fault = next((f for f in self._faults if f.matches(call.service, call.operation)), None)
            fired = fault is not None and fault.fires()
        if fault is None or not fired:
            return self._app(environ, start_response)
        if fault.kind == "throttle":
            return _error(start_response, call, *_throttle(call.service), "Rate exceeded")
        if fault.kind == "error500":
            return _error(start_response, call, _internal(call.service), 500, "Internal error")
        if fault.kind == "timeout":
            delay = fault.delay_seconds
            time.sleep(DEFAULT_TIMEOUT_DELAY if delay is None else delay)
            return _error(start_response, call, _internal(call.service), 500, "Request timed out")
        return self._partial_batch(environ, start_response, call)

    # --- control endpoint ----------------------------------------------------------------

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            with self._lock:
                return _json(start_response, 200, {"faults": [f.as_json() for f in self._faults]})
        if method == "DELETE":
            with self._lock:
                self._faults = []
            return _json(start_response, 200, {"faults": []})
        if method == "POST":
            try:
                body = json.loads(_read_body(environ) or b"{}")
                if not isinstance(body, dict):
                    raise FaultSpecError("expected a JSON object")
                fault = Fault.from_json(body)
            except (ValueError, TypeError) as exc:  # FaultSpecError and bad JSON alike
                return _json(start_response, 400, {"error": str(exc)})
            with self._lock:  # one fault per service+operation: setting it again replaces it
                self._faults = [
                    f
                    for f in self._faults
                    if (f.service, f.operation) != (fault.service, fault.operation)
                ]
                self._faults.append(fault)
            return _json(start_response, 200, fault.as_json())
        return _json(start_response, 405, {"error": f"{method} not allowed"})

    # --- DynamoDB batches with unprocessed items -----------------------------------------

    def _partial_batch(
        self, environ: dict[str, Any], start_response: StartResponse, call: Call
    ) -> Iterable[bytes]:
        """Forward half of the batch (rounded down) and hand the rest back as unprocessed: every
        item is either written (read) now or returned, never both."""
        request = json.loads(call.body or b"{}")
        items: dict[str, Any] = request.get("RequestItems", {})
        if call.operation == "BatchWriteItem":
            kept, rest = _split_writes(items)
            unprocessed_key = "UnprocessedItems"
        else:
            kept, rest = _split_gets(items)
            unprocessed_key = "UnprocessedKeys"
        if not kept:
            answer: dict[str, Any] = {unprocessed_key: rest}
            if call.operation == "BatchGetItem":
                answer["Responses"] = {table: [] for table in items}
            return _dynamodb_json(start_response, 200, answer)
        status, headers, body = _forward(
            self._app, environ, json.dumps({**request, "RequestItems": kept}).encode()
        )
        if not status.startswith("200"):
            start_response(status, headers)
            return [body]
        answer = json.loads(body)
        merged = dict(answer.get(unprocessed_key) or {})
        for table, value in rest.items():
            if call.operation == "BatchWriteItem":
                merged[table] = [*merged.get(table, []), *value]
            else:
                keys = [*merged.get(table, {}).get("Keys", []), *value["Keys"]]
                merged[table] = {**value, "Keys": keys}
        answer[unprocessed_key] = merged
        return _dynamodb_json(start_response, 200, answer)


def _split_writes(items: dict[str, list[Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    keep = sum(len(v) for v in items.values()) // 2
    kept: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for table, requests in items.items():
        take = min(keep, len(requests))
        keep -= take
        if take:
            kept[table] = requests[:take]
        if requests[take:]:
            rest[table] = requests[take:]
    return kept, rest


def _split_gets(items: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    keep = sum(len(v.get("Keys", [])) for v in items.values()) // 2
    kept: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for table, request in items.items():
        keys = request.get("Keys", [])
        take = min(keep, len(keys))
        keep -= take
        if take:
            kept[table] = {**request, "Keys": keys[:take]}
        if keys[take:]:
            rest[table] = {**request, "Keys": keys[take:]}
    return kept, rest


# --- recognising a call --------------------------------------------------------------------


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so the emulator can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def service_of(environ: dict[str, Any]) -> str | None:
    """The signing name in the request's SigV4 credential scope (header or presigned query)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(authorization)
    if match:
        return match.group(1)
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    credential = query.get("X-Amz-Credential", [""])[0].split("/")
    return credential[3] if len(credential) > 3 else None


def _identify(environ: dict[str, Any]) -> Call | None:
    service = service_of(environ)
    if service is None:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return Call(service, target.rsplit(".", 1)[-1], _read_body(environ), target, False)
    if service == "s3":
        return Call(service, s3_operation(environ), b"", "", False)
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    action = query.get("Action", [""])[0]
    if not action and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        body = _read_body(environ)
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    if action:
        return Call(service, action, b"", "", True)
    return Call(service, "", b"", "", False)  # a REST API: matched by operation '*' only


def s3_operation(environ: dict[str, Any]) -> str:
    """Path-style S3 requests (what clients send to an IP endpoint), by method, path and query."""
    method = environ.get("REQUEST_METHOD", "GET")
    parts = [p for p in environ.get("PATH_INFO", "/").split("/", 2) if p]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if len(parts) < 2:  # the bucket itself
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(
            method, ""
        )
    if method == "PUT":
        if "partNumber" in query:
            return "UploadPart"
        return "CopyObject" if "HTTP_X_AMZ_COPY_SOURCE" in environ else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        return "CompleteMultipartUpload" if "uploadId" in query else ""
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    return {"GET": "GetObject", "HEAD": "HeadObject"}.get(method, "")


# --- answers -------------------------------------------------------------------------------


def _throttle(service: str) -> tuple[str, int]:
    code, status, _ = _CODES.get(service, _DEFAULT_CODES)
    return code, status


def _internal(service: str) -> str:
    return _CODES.get(service, _DEFAULT_CODES)[2]


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _error(
    start_response: StartResponse, call: Call, code: str, status: int, message: str
) -> list[bytes]:
    """The error in the wire format the caller's protocol expects, so SDKs raise the real code."""
    request_id = str(uuid.uuid4())
    message = f"{message} (rocket fault: {call.service} {call.operation or '*'})"
    if call.target:  # JSON protocols (DynamoDB, Kinesis, SQS, Step Functions, ...)
        version = "1.0" if call.service == "dynamodb" else "1.1"
        body = json.dumps({"__type": f"com.amazonaws.{call.service}#{code}", "message": message})
        headers = [("Content-Type", f"application/x-amz-json-{version}")]
    elif call.service == "s3":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        headers = [("Content-Type", "application/xml")]
    elif call.query_protocol:
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml")]
    else:  # REST-JSON (Lambda, Scheduler, ...)
        body = json.dumps({"message": message, "Message": message})
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    encoded = body.encode()
    headers += [
        ("x-amzn-RequestId", request_id),
        ("x-amz-request-id", request_id),
        ("Content-Length", str(len(encoded))),
    ]
    start_response(_status(status), headers)
    return [encoded]


def _json(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    encoded = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(encoded)))]
    start_response(_status(status), headers)
    return [encoded]


def _dynamodb_json(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    """As DynamoDB answers: botocore checks the body against x-amz-crc32."""
    encoded = json.dumps(body).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(encoded))),
        ("x-amz-crc32", str(zlib.crc32(encoded) & 0xFFFFFFFF)),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    start_response(_status(status), headers)
    return [encoded]


def _forward(app: App, environ: dict[str, Any], body: bytes) -> tuple[str, list[Any], bytes]:
    """Call the emulator with another body; its whole answer."""
    forwarded = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[Any], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return lambda _data: None

    chunks = app(forwarded, capture)
    try:
        answer = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    headers = [
        (k, v) for k, v in captured["headers"] if k.lower() not in ("content-length", "x-amz-crc32")
    ]
    headers.append(("Content-Length", str(len(answer))))
    return str(captured["status"]), headers, answer
