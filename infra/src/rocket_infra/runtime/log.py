"""Structured (JSON) log lines for everything the local runtime does.

Every line has a constant `message` and key fields, e.g.
`{"level": "INFO", "logger": "rocket.runtime", "message": "batch invoked", "function": ...}`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER_NAME = "rocket.runtime"
_logger = logging.getLogger(LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, default=str)


def install_stderr_handler() -> None:
    """Print the runtime's lines as JSON on stderr, once (idempotent)."""
    if any(getattr(h, "_rocket_runtime", False) for h in _logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._rocket_runtime = True  # type: ignore[attr-defined]
    _logger.addHandler(handler)
    _logger.setLevel(logging.INFO)


def info(message: str, **fields: Any) -> None:
    _logger.info(message, extra={"fields": fields})


def warning(message: str, **fields: Any) -> None:
    _logger.warning(message, extra={"fields": fields})


def error(message: str, **fields: Any) -> None:
    _logger.error(message, extra={"fields": fields})
