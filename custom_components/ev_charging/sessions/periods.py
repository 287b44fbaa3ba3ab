"""Time-of-use periods as one line of text each, for the config forms.

``22:00-07:00 0.12 mon-fri`` is the period from 22:00 to 07:00 (crossing midnight) at
0.12 per kWh, starting on Monday to Friday; without days it applies every day. Days
are ``mon`` ... ``sun``, as ranges (``mon-fri``) or lists (``sat,sun``). Lines may
also be separated by ``;``. The result is what ``pricing.tariff_from_config`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
import re
from typing import Any

from .spot_prices import parse_number

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LINE = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s+(\S+)(?:\s+(\S+))?$")


class PeriodError(ValueError):
    """A line that is not a period; ``line`` is its 1-based number."""

    def __init__(self, line: int, text: str) -> None:
        super().__init__(f"line {line}: {text!r}")
        self.line = line
        self.text = text


def parse_periods(text: str) -> list[dict[str, Any]]:
    """The periods written in ``text``; raises :class:`PeriodError` on the first bad line."""
    periods: list[dict[str, Any]] = []
    lines = [part.strip() for chunk in text.splitlines() for part in chunk.split(";")]
    for number, line in enumerate((line for line in lines if line), start=1):
        match = _LINE.match(line)
        if match is None:
            raise PeriodError(number, line)
        start, end, price_text, days_text = match.groups()
        price = parse_number(price_text)
        try:
            start_time, end_time = time.fromisoformat(_pad(start)), time.fromisoformat(_pad(end))
            weekdays = _days(days_text) if days_text else list(range(7))
        except ValueError as err:
            raise PeriodError(number, line) from err
        if price is None or price < 0:
            raise PeriodError(number, line)
        periods.append(
            {
                "start": start_time.strftime("%H:%M"),
                "end": end_time.strftime("%H:%M"),
                "price": price,
                "weekdays": weekdays,
            }
        )
    return periods


def format_periods(periods: Iterable[Mapping[str, Any]]) -> str:
    """The text form of stored periods (the inverse of :func:`parse_periods`)."""
    lines = []
    for period in periods:
        weekdays = sorted(int(day) for day in period.get("weekdays", range(7)))
        line = f"{period['start']}-{period['end']} {period['price']:g}"
        if weekdays != list(range(7)):
            line += " " + ",".join(DAYS[day] for day in weekdays)
        lines.append(line)
    return "\n".join(lines)


def _pad(text: str) -> str:
    return text.zfill(5)


def _days(text: str) -> list[int]:
    days: set[int] = set()
    for part in text.lower().split(","):
        first, dash, last = part.partition("-")
        if first not in DAYS or (dash and last not in DAYS):
            raise ValueError(part)
        low = DAYS.index(first)
        high = DAYS.index(last) if dash else low
        days.update(range(low, high + 1) if low <= high else [*range(low, 7), *range(high + 1)])
    return sorted(days)
