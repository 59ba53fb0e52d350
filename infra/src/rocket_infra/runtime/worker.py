"""A warm Lambda "container": one process per function, run as `python -m ...runtime.worker`.

The parent starts it with the function's environment already set (so pydantic-settings and
Powertools read what the deployed function would), sends one JSON line per invocation on stdin
and reads one JSON line back on a private copy of stdout. The handler's own prints and logs go
to stderr, so they cannot corrupt the protocol. Keep this module free of heavy imports: nothing
may be imported before the handler's module reads its environment.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The attributes and method of the Python Lambda context object."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name: str = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version: str = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn: str = request["function_arn"]
        self.memory_limit_in_mb: int = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id: str = request["request_id"]
        self.log_group_name: str = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name: str = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms: int = int(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler(handler_path: str) -> Handler:
    """`pkg.module.function` (or Lambda's `dir/module.function`) to the callable."""
    module_path, _, attribute = handler_path.replace("/", ".").rpartition(".")
    if not module_path or not attribute:
        raise ValueError(f"Bad handler '{handler_path}': expected <module>.<function>")
    handler: Handler = getattr(importlib.import_module(module_path), attribute)
    return handler


def error_payload(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """The payload Lambda returns for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[1:],
    }


def serve(
    handler: Handler | None, init_error: dict[str, Any] | None, rx: IO[bytes], tx: IO[bytes]
) -> None:
    for line in rx:
        request = json.loads(line)
        response: dict[str, Any] = {"request_id": request["request_id"]}
        # Lambda sets the trace header per invocation; the X-Ray SDK (Powertools Tracer) treats
        # a Lambda environment without it as "still initializing". Not sampled: no daemon here.
        os.environ["_X_AMZN_TRACE_ID"] = _trace_header()
        if handler is None:
            response["error"] = init_error
        else:
            try:
                result = handler(request["event"], LambdaContext(request))
            except Exception as exc:  # a handler error is a Lambda function error, not ours
                response["error"] = error_payload(exc)
            else:
                try:
                    response["payload"] = json.dumps(result)
                except (TypeError, ValueError) as exc:  # what Lambda reports for such a result
                    response["error"] = error_payload(exc, "Runtime.MarshalError")
        tx.write(json.dumps(response).encode() + b"\n")
        tx.flush()


def _trace_header() -> str:
    root = f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"
    return f"Root={root};Parent={os.urandom(8).hex()};Sampled=0"


def main() -> None:
    tx = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the handler's stdout goes to stderr, like CloudWatch Logs
    handler: Handler | None = None
    init_error: dict[str, Any] | None = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as exc:  # reported on every invocation, as Lambda does
        init_error = error_payload(exc, "Runtime.ImportModuleError")
    serve(handler, init_error, sys.stdin.buffer, tx)


if __name__ == "__main__":
    main()
