"""EventBridge schedule expressions: `rate(5 minutes)`, `cron(0 3 * * ? *)`, `at(...)`.

AWS cron has six fields (minutes hours day-of-month month day-of-week year), `?` in one of the
two day fields, day-of-week 1-7 = SUN-SAT, names (JAN, MON), `L` (last day of month; `6L`
last Friday), `W` (nearest weekday, `15W`, `LW`) and `#` (`2#1` first Monday).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT = re.compile(r"^at\(\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\s*\)$")
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_DAYS = 366 * 5


class ScheduleExpressionError(ValueError):
    """Not a schedule expression EventBridge accepts."""


@dataclass(frozen=True)
class Rate:
    period: timedelta

    def next_after(self, previous: datetime) -> datetime:
        return previous + self.period


@dataclass(frozen=True)
class At:
    moment: datetime

    def next_after(self, previous: datetime) -> datetime | None:
        return self.moment if self.moment > previous else None


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int] | None

    def next_after(self, previous: datetime) -> datetime | None:
        """The first matching minute strictly after `previous` (naive, in the schedule's zone)."""
        start = previous.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day.year, day.month, day.day):
                first_minute = (start.hour, start.minute) if day == start.date() else (0, 0)
                for hour in sorted(h for h in self.hours if h >= first_minute[0]):
                    lowest = first_minute[1] if hour == first_minute[0] else 0
                    minute = min((m for m in self.minutes if m >= lowest), default=None)
                    if minute is not None:
                        return datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=previous.tzinfo
                        )
            day += timedelta(days=1)
        return None

    def _day_matches(self, year: int, month: int, day: int) -> bool:
        if self.years is not None and year not in self.years:
            return False
        if month not in self.months:
            return False
        if self.day_of_month != "?" and not _dom_matches(self.day_of_month, year, month, day):
            return False
        return self.day_of_week == "?" or _dow_matches(self.day_of_week, year, month, day)


def parse(expression: str) -> Rate | Cron | At:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value <= 0 or (value == 1) != (not rate.group(2).endswith("s")):
            raise ScheduleExpressionError(f"invalid rate expression: {expression}")
        return Rate(timedelta(**{f"{unit}s": value}))
    at = _AT.match(text)
    if at:
        return At(datetime.fromisoformat(at.group(1)))
    if text.startswith("cron(") and text.endswith(")"):
        return _cron(text[5:-1].split(), expression)
    raise ScheduleExpressionError(f"invalid schedule expression: {expression}")


def _cron(fields: list[str], expression: str) -> Cron:
    if len(fields) != 6:
        raise ScheduleExpressionError(f"cron needs 6 fields: {expression}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(f"exactly one day field must be '?': {expression}")
    return Cron(
        minutes=_values(minutes, 0, 59, {}),
        hours=_values(hours, 0, 23, {}),
        day_of_month=dom.upper(),
        months=_values(month, 1, 12, _MONTHS),
        day_of_week=dow.upper(),
        years=None if year == "*" else _values(year, 1970, 2199, {}),
    )


def _values(field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in field.upper().split(","):
        values.update(_part(part, low, high, names))
    if not values:
        raise ScheduleExpressionError(f"empty cron field: {field}")
    return frozenset(values)


def _part(part: str, low: int, high: int, names: dict[str, int]) -> range:
    base, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if base in ("*", "?"):
        first, last = low, high
    elif "-" in base:
        a, b = base.split("-", 1)
        first, last = _number(a, names), _number(b, names)
    else:
        first = _number(base, names)
        last = high if step_text else first
    if not (low <= first <= high and low <= last <= high) or step <= 0:
        raise ScheduleExpressionError(f"cron value out of range: {part}")
    return range(first, last + 1, step)


def _number(text: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleExpressionError(f"bad cron value: {text}")
    return int(text)


def _dom_matches(field: str, year: int, month: int, day: int) -> bool:
    last = calendar.monthrange(year, month)[1]
    for part in field.split(","):
        if part == "L":
            if day == last:
                return True
        elif part.endswith("W"):
            target = last if part == "LW" else min(int(part[:-1]), last)
            if day == _nearest_weekday(year, month, target, last):
                return True
        elif day in _part(part, 1, 31, {}):
            return True
    return False


def _nearest_weekday(year: int, month: int, target: int, last: int) -> int:
    weekday = calendar.weekday(year, month, target)  # Monday = 0
    if weekday == 5:
        return target - 1 if target > 1 else target + 2
    if weekday == 6:
        return target + 1 if target < last else target - 2
    return target


def _dow_matches(field: str, year: int, month: int, day: int) -> bool:
    aws_dow = (calendar.weekday(year, month, day) + 1) % 7 + 1  # SUN=1 .. SAT=7
    last = calendar.monthrange(year, month)[1]
    for part in field.split(","):
        if part.endswith("L"):
            wanted = _number(part[:-1] or "7", _DAYS)
            if aws_dow == wanted and day + 7 > last:
                return True
        elif "#" in part:
            name, nth = part.split("#", 1)
            if aws_dow == _number(name, _DAYS) and (day - 1) // 7 + 1 == int(nth):
                return True
        elif aws_dow in _part(part, 1, 7, _DAYS):
            return True
    return False
