"""A local SGS-compatible HTTP server: the BCB API's shapes, quirks and errors, on loopback.

`make_server(host, port)` is the factory `rocket up` starts (services/gap-scraper/standins.yaml).
It serves deterministic data for the catalogue's series (and any added with `series=`):

* `GET /dados/serie/bcdata.sgs.{code}/dados?formato=json&dataInicial=dd/MM/yyyy&dataFinal=...`
  -> `[{"data": "dd/MM/yyyy", "valor": "5.1234"}, ...]`, one row per bank business day (daily)
  or per month (dated the 1st, once the month has ended), up to yesterday in Brasília time.
  About one business day in 50 older than a month has no value (a skipped publication).
* as the real API: a daily series without `dataInicial`, or asked for more than ten years, is
  refused with 406 and the Portuguese JSON body; a range with no value answers with the last
  value *before* the range; `/dados/ultimos/{N}` is capped at 20 (400); an unknown code is 404.
* switches, to test retry paths: `POST /_standin/faults` with JSON `{"kind": ..., "count": N}`
  or `{"kind": ..., "rate": 0.3, "seed": 7}` (kinds: 429 with `retry_after`, 500, 503, 504,
  `timeout` (waits `delay_seconds`, then 504), `html` and `xml` (an error page with status 200),
  406, 404); `DELETE /_standin/faults`; `GET /_standin/calls` (data calls served, by code and
  outcome); `DELETE /_standin/calls`.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gap_scraper.business_calendar import BRASILIA, EXPECTED, is_business_day
from gap_scraper.catalogue import Periodicity, load_catalogue
from gap_scraper.gaps import first_expected_day, last_expected_day

WINDOW_MESSAGE = (
    "O sistema aceita uma janela de consulta de, no máximo, 10 anos em séries de "
    "periodicidade diária"
)
KINDS = frozenset({"429", "500", "503", "504", "timeout", "html", "xml", "406", "404"})
_DATA_PATH = re.compile(r"/dados/serie/bcdata\.sgs\.(\d+)/dados(?:/ultimos/(\d+))?/?")
NO_VALUE_ONE_IN = 50
SKIPPED_BEFORE_DAYS = 30


@dataclass(frozen=True)
class StandinSeries:
    code: int
    periodicity: Periodicity
    start: date


def catalogue_series() -> dict[int, StandinSeries]:
    return {
        s.sgs_code: StandinSeries(s.sgs_code, s.periodicity, s.start_date)
        for s in load_catalogue().series
    }


def _digest(code: int, day: date) -> int:
    return int.from_bytes(hashlib.sha256(f"{code}:{day.isoformat()}".encode()).digest()[:8])


_LEVEL = {1: 5.0, 21619: 5.6, 11: 0.045, 12: 0.045}


def value_for(
    code: int, day: date, periodicity: Periodicity, today: date | None = None
) -> str | None:
    """The deterministic value the stand-in serves for a day, or None when it has none: a slow
    wave around a level per series plus a little noise, so a chart of it looks like a rate.

    Only days older than SKIPPED_BEFORE_DAYS before `today` are ever skipped, so a table the
    scheduled runs keep complete stays complete (and a second run has nothing to ask for).
    """
    digest = _digest(code, day)
    if periodicity is Periodicity.MONTHLY:
        return str((Decimal(digest % 200) - Decimal(40)) / Decimal(100))
    old = today is None or day < today - timedelta(days=SKIPPED_BEFORE_DAYS)
    if old and digest % NO_VALUE_ONE_IN == 0:
        return None
    level = _LEVEL.get(code, 1.0)
    wave = 1 + 0.12 * math.sin(day.toordinal() / 97) + ((digest >> 8) % 200 - 100) / 20000
    places = Decimal("0.0001") if level >= 1 else Decimal("0.000001")
    return str(Decimal(level * wave).quantize(places))


@dataclass
class Fault:
    kind: str
    count: int | None = None
    rate: float | None = None
    retry_after: float = 1.0
    delay_seconds: float = 5.0
    rng: random.Random = field(default_factory=random.Random)

    def fires(self) -> bool:
        if self.count is not None:
            if self.count <= 0:
                return False
            self.count -= 1
            return True
        if self.rate is not None:
            return self.rng.random() < self.rate
        return True


class SgsState:
    """What the server serves and what it was asked; shared by the handler threads."""

    def __init__(
        self, series: Mapping[int, StandinSeries], today: Callable[[], date] | None = None
    ) -> None:
        self.series = dict(series)
        self.today = today or (lambda: datetime.now(BRASILIA).date())
        self.lock = threading.Lock()
        self.fault: Fault | None = None
        self.calls: Counter[str] = Counter()

    def draw_fault(self) -> Fault | None:
        with self.lock:
            if self.fault is not None and self.fault.fires():
                return self.fault
            return None

    def count(self, code: int, outcome: str) -> None:
        with self.lock:
            self.calls["total"] += 1
            self.calls[f"{code}:{outcome}"] += 1

    def rows(self, spec: StandinSeries, start: date, end: date) -> list[dict[str, str]]:
        today = self.today()
        last = today - timedelta(days=1)
        if spec.periodicity is Periodicity.MONTHLY:
            last = today.replace(day=1) - timedelta(days=1)  # a month is served once it ended
        day, rows = max(start, spec.start), []
        if spec.periodicity is Periodicity.MONTHLY and day.day != 1:
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        while day <= min(end, last):
            if spec.periodicity is Periodicity.MONTHLY or is_business_day(day):
                valor = value_for(spec.code, day, spec.periodicity, today)
                if valor is not None:
                    rows.append({"data": day.strftime("%d/%m/%Y"), "valor": valor})
            day = (
                (day + timedelta(days=32)).replace(day=1)
                if spec.periodicity is Periodicity.MONTHLY
                else day + timedelta(days=1)
            )
        return rows

    def last_before(self, spec: StandinSeries, start: date) -> list[dict[str, str]]:
        """The real API's quirk for an empty range: the last value before it."""
        earlier = self.rows(spec, max(spec.start, start - timedelta(days=60)), start)
        return earlier[-1:] if earlier and earlier[-1]["data"] != start.strftime("%d/%m/%Y") else []


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    return datetime.strptime(text, "%d/%m/%Y").date()


class _Handler(BaseHTTPRequestHandler):
    server: SgsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests and `rocket up` would print a line per call

    def _send(
        self,
        status: int,
        body: str,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False))

    # -- control -----------------------------------------------------------------------------

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/_standin/faults":
            self._json(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        spec = json.loads(self.rfile.read(length) or b"{}")
        kind = str(spec.get("kind"))
        if kind not in KINDS:
            self._json(400, {"error": f"kind must be one of {sorted(KINDS)}"})
            return
        fault = Fault(
            kind=kind,
            count=spec.get("count"),
            rate=spec.get("rate"),
            retry_after=float(spec.get("retry_after", 1.0)),
            delay_seconds=float(spec.get("delay_seconds", 5.0)),
            rng=random.Random(spec.get("seed")),
        )
        with self.server.state.lock:
            self.server.state.fault = fault
        self._json(200, {"kind": kind})

    def do_DELETE(self) -> None:
        path = urlsplit(self.path).path
        state = self.server.state
        with state.lock:
            if path == "/_standin/faults":
                state.fault = None
            elif path == "/_standin/calls":
                state.calls.clear()
            else:
                self._json(404, {"error": "not found"})
                return
        self._json(200, {})

    # -- the API -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/_standin/calls":
            with self.server.state.lock:
                self._json(200, dict(self.server.state.calls))
            return
        match = _DATA_PATH.fullmatch(url.path)
        if match is None:
            self._send(404, "<html><body>404 Not Found</body></html>", "text/html")
            return
        code = int(match.group(1))
        fault = self.server.state.draw_fault()
        if fault is not None:
            self.server.state.count(code, f"fault-{fault.kind}")
            self._fault(fault)
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status = self._answer(code, match.group(2), query)
        self.server.state.count(code, str(status))

    def _answer(self, code: int, last_n: str | None, query: dict[str, str]) -> int:
        spec = self.server.state.series.get(code)
        if spec is None:
            self._json(404, {"error": f"Série {code} não encontrada"})
            return 404
        if last_n is not None:
            return self._last(spec, int(last_n))
        try:
            start, end = _parse_day(query.get("dataInicial")), _parse_day(query.get("dataFinal"))
        except ValueError:
            self._json(400, {"error": "Data inválida", "message": "use dd/MM/aaaa"})
            return 400
        daily = spec.periodicity is Periodicity.BUSINESS_DAILY
        end = end or self.server.state.today()
        if daily and (start is None or end > _ten_years_after(start)):
            self._json(406, {"error": WINDOW_MESSAGE, "message": WINDOW_MESSAGE, "syntax": None})
            return 406
        start = start or spec.start
        rows = self.server.state.rows(spec, start, end) if start <= end else []
        self._json(200, rows or self.server.state.last_before(spec, start))
        return 200

    def _last(self, spec: StandinSeries, n: int) -> int:
        if n > 20:
            detail = "SGSNegocioException: A quantidade máxima de valores deve ser 20"
            self._json(400, {"erro": {"statusCode": 400, "detail": detail}})
            return 400
        today = self.server.state.today()
        rows = self.server.state.rows(spec, today - timedelta(days=max(60, n * 62)), today)
        self._json(200, rows[-n:] if n else [])
        return 200

    def _fault(self, fault: Fault) -> None:
        if fault.kind == "429":
            self._send(
                429,
                '{"error":"Too Many Requests"}',
                headers={"Retry-After": f"{fault.retry_after:g}"},
            )
        elif fault.kind == "timeout":
            time.sleep(fault.delay_seconds)
            self._send(504, "<html><body>504 Gateway Time-out</body></html>", "text/html")
        elif fault.kind == "html":
            self._send(200, "<html><body>Sistema indisponível</body></html>", "text/html")
        elif fault.kind == "xml":
            self._send(200, "<?xml version='1.0'?><erro>indisponível</erro>", "application/xml")
        elif fault.kind == "406":
            self._json(406, {"error": WINDOW_MESSAGE, "message": WINDOW_MESSAGE})
        elif fault.kind == "404":
            self._json(404, {"error": "not found"})
        else:
            self._send(int(fault.kind), f"<html><body>{fault.kind}</body></html>", "text/html")


def _ten_years_after(start: date) -> date:
    try:
        return start.replace(year=start.year + 10)
    except ValueError:
        return start.replace(year=start.year + 10, day=28)


class SgsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SgsState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its read timeout, in the timeout fault) is no server error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def make_server(
    host: str,
    port: int,
    *,
    series: Mapping[int, StandinSeries] | None = None,
    today: Callable[[], date] | None = None,
) -> SgsServer:
    """The stand-in on (host, port); port 0 picks a free one. Call `serve_forever` to serve."""
    return SgsServer((host, port), SgsState(series or catalogue_series(), today))


def complete_table(earliest: date, today: date) -> dict[str, dict[str, str]]:
    """What the series table holds once the catalogue's series are complete from `earliest`
    against this stand-in on `today`: per info_type, date -> the value's text, or "NO_DATA"
    for a day the stand-in has none for and that is older than the series' lag. The check that
    tests and the demo hold the table to."""
    table: dict[str, dict[str, str]] = {}
    for series in load_catalogue().series:
        cutoff = (today - timedelta(days=series.no_data_after_days)).isoformat()
        days = EXPECTED.between(
            first_expected_day(series, earliest),
            last_expected_day(series.periodicity, today),
            series.periodicity,
        )
        rows = table.setdefault(series.info_type, {})
        for day in days:
            value = value_for(series.sgs_code, date.fromisoformat(day), series.periodicity, today)
            if value is not None or day <= cutoff:
                rows[day] = value or "NO_DATA"
    return table
