"""The BCB SGS API over HTTP: `requests` with timeouts, tenacity retries for what may pass.

Retried with exponential backoff and full jitter: connection errors, 5xx (504s are common),
429 (waiting at least its Retry-After), an answer that is not JSON (the API has served HTML
and XML error pages with status 200), and a timeout once. Not retried: 404 (no such series),
and 406/400 refusing the window; a refused window, and one that timed out twice, the worker
answers by splitting the range.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from gap_scraper.domain import (
    PermanentSourceError,
    SgsRow,
    TransientSourceError,
    UnknownSeriesError,
    WindowTooLargeError,
)
from gap_scraper.observability import logger

DEFAULT_BASE_URL = "https://api.bcb.gov.br"
MAX_RETRY_AFTER = 60.0
"""A Retry-After longer than this is not waited out inside one invocation: the record fails
and SQS brings it back after the visibility timeout."""
_WINDOW_WORDS = ("janela", "10 anos")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_window_refusal(response: requests.Response) -> bool:
    text = response.text.lower()
    return all(word in text for word in _WINDOW_WORDS)


def _rows(payload: Any) -> list[SgsRow]:
    if not isinstance(payload, list):
        raise TransientSourceError(f"answer is JSON {type(payload).__name__}, not a list")
    rows = []
    for entry in payload:
        if not isinstance(entry, dict):
            raise TransientSourceError("answer lists something that is not an object")
        rows.append(SgsRow(data=entry.get("data"), valor=entry.get("valor")))
    return rows


def classify(response: requests.Response) -> list[SgsRow]:
    """The rows of a response, or the domain error it means."""
    status = response.status_code
    if status == 200:
        try:
            payload = response.json()
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "?").split(";")[0]
            raise TransientSourceError(f"status 200 with a {kind} page, not JSON") from exc
        return _rows(payload)
    if status in (400, 406) and _is_window_refusal(response):
        raise WindowTooLargeError(f"HTTP {status}: window refused")
    if status == 404:
        raise UnknownSeriesError("HTTP 404: the SGS has no such series")
    if status == 429:
        raise TransientSourceError(
            "HTTP 429", retry_after=_retry_after(response.headers.get("Retry-After"))
        )
    if status >= 500:
        raise TransientSourceError(f"HTTP {status}")
    raise PermanentSourceError(f"HTTP {status}: {response.text[:200]}")


class _Wait:
    """Exponential backoff with full jitter, but never less than the server's Retry-After."""

    def __init__(self, multiplier: float, maximum: float) -> None:
        self._backoff = wait_random_exponential(multiplier=multiplier, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        if isinstance(after, float):
            return max(backoff, min(after, MAX_RETRY_AFTER))
        return backoff


class _TimedOutTwice(stop_base):
    """A range the API could not answer in time twice is not asked a third time: the worker
    halves it instead (long windows are what time out, python-bcb#29)."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        return retry_state.attempt_number >= 2 and bool(getattr(error, "timed_out", False))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.warning(
        "sgs call retried",
        extra={
            "attempt": state.attempt_number,
            "error": str(error),
            "wait_seconds": round(state.upcoming_sleep, 3),
        },
    )


class SgsClient:
    """`fetch(code, start, end)`: one logical call, several HTTP attempts at most."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = (connect_timeout, read_timeout)
        self._retrying = Retrying(
            retry=retry_if_exception_type(TransientSourceError),
            stop=stop_any(stop_after_attempt(attempts), _TimedOutTwice()),
            wait=_Wait(backoff_seconds, max_backoff_seconds),
            sleep=sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        self.http_calls = 0

    def url(self, code: int) -> str:
        return f"{self._base}/dados/serie/bcdata.sgs.{code}/dados"

    def fetch(self, code: int, start: date, end: date) -> list[SgsRow]:
        params = {
            "formato": "json",
            "dataInicial": start.strftime("%d/%m/%Y"),
            "dataFinal": end.strftime("%d/%m/%Y"),
        }
        rows: list[SgsRow] = self._retrying(self._once, self.url(code), params)
        return rows

    def _once(self, url: str, params: dict[str, str]) -> list[SgsRow]:
        self.http_calls += 1
        try:
            response = self._session.get(
                url, params=params, timeout=self._timeout, headers={"Accept": "application/json"}
            )
        except requests.Timeout as exc:
            raise TransientSourceError(f"timed out: {type(exc).__name__}", timed_out=True) from exc
        except requests.ConnectionError as exc:
            raise TransientSourceError(f"connection failed: {type(exc).__name__}") from exc
        return classify(response)
