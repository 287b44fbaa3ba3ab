"""Spot price lists as spot-price integrations expose them on a price entity.

Recognised shapes (keys are auto-detected, items may mix datetimes and ISO strings):

- custom ``nordpool``: ``raw_today`` / ``raw_tomorrow`` = ``[{start, end, value}]``, plus
  ``today`` / ``tomorrow`` as plain number lists for the local day;
- ENTSO-e: ``prices_today`` / ``prices_tomorrow`` / ``prices`` = ``[{time, price}]``;
- Tibber-like: ``today`` / ``tomorrow`` = ``[{startsAt, total}]``;
- Octopus Energy: ``rates`` = ``[{start, end, value_inc_vat}]``;
- Energi Data Service style: ``raw_today`` = ``[{hour, price}]``; ``forecasts`` lists.

Malformed items are skipped, never raised on: a price reader must not break a session.
Prices are normalised to currency per kWh (MWh and cent/öre units are scaled).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import itertools
import math
from typing import Any

_DEFAULT_RESOLUTION = timedelta(hours=1)

# Attribute names holding lists, in priority order: an earlier list wins an overlap.
_LIST_KEYS = (
    "raw_today",
    "raw_tomorrow",
    "prices_today",
    "prices_tomorrow",
    "prices",
    "rates",
    "forecasts",
    "today",
    "tomorrow",
)
# Plain number lists are placed on the local day they describe.
_DAY_OFFSETS = {"today": 0, "tomorrow": 1}

_START_KEYS = ("start", "time", "hour", "start_time", "startsAt", "starts_at", "from", "valid_from")
_END_KEYS = ("end", "end_time", "endsAt", "ends_at", "till", "to", "valid_to")
_VALUE_KEYS = ("value", "price", "total", "value_inc_vat", "per_kwh", "price_per_kwh")

_SUBUNITS = frozenset({"c", "ct", "cent", "cents", "öre", "ore", "øre", "p", "pence", "snt"})


@dataclass(frozen=True, slots=True)
class SpotInterval:
    """One price interval: ``[start, end)`` in UTC, price in currency per kWh."""

    start: datetime
    end: datetime
    price: float


@dataclass(frozen=True, slots=True)
class SpotPriceList:
    """The parsed, sorted, non-overlapping intervals plus the entity state as fallback."""

    intervals: tuple[SpotInterval, ...] = ()
    state_price: float | None = None

    def interval_at(self, when: datetime) -> SpotInterval | None:
        """The interval covering ``when``, if any."""
        index = bisect_right([i.start for i in self.intervals], when) - 1
        if index >= 0 and when < self.intervals[index].end:
            return self.intervals[index]
        return None

    def overlapping(self, start: datetime, end: datetime) -> list[SpotInterval]:
        """The intervals overlapping ``[start, end)`` in time order."""
        return [i for i in self.intervals if i.start < end and i.end > start]


def price_unit_scale(unit: str | None, *, in_cents: bool = False) -> float:
    """The factor turning prices in ``unit`` into main currency units per kWh.

    ``EUR/MWh`` -> 0.001, ``c/kWh`` or ``öre/kWh`` -> 0.01, ``SEK/kWh`` -> 1. ``in_cents``
    (the nordpool ``price_in_cents`` attribute) scales by 0.01 unless the unit already does.
    """
    text = (unit or "").strip().lower()
    numerator, slash, denominator = text.rpartition("/")
    if not slash:
        numerator, denominator = "", text
    scale = {"mwh": 0.001, "wh": 1000.0}.get(denominator.strip(), 1.0)
    if numerator.strip() in _SUBUNITS or in_cents:
        scale *= 0.01
    return scale


def parse_number(value: object) -> float | None:
    """A finite float from a number or numeric string, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_time(value: object, tz: tzinfo) -> datetime | None:
    """An aware UTC datetime from a datetime or ISO string; naive values are in ``tz``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def parse_price_items(items: object, *, tz: tzinfo, scale: float = 1.0) -> list[SpotInterval]:
    """Parse a list of price dicts; a missing ``end`` is the list's typical step."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        return []
    parsed: list[tuple[datetime, datetime | None, float]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        start = parse_time(_first(item, _START_KEYS), tz)
        value = parse_number(_first(item, _VALUE_KEYS))
        if start is None or value is None:
            continue
        parsed.append((start, parse_time(_first(item, _END_KEYS), tz), value * scale))
    step = _typical_step(sorted({start for start, _, _ in parsed}))
    intervals = [
        SpotInterval(start, end if end is not None else start + step, value)
        for start, end, value in parsed
    ]
    return sorted((i for i in intervals if i.end > i.start), key=lambda i: i.start)


def parse_day_values(
    values: object, *, day: date, tz: tzinfo, scale: float = 1.0
) -> list[SpotInterval]:
    """Place a plain list of numbers evenly on the local ``day`` (23/24/25 h days alike)."""
    if not isinstance(values, Sequence) or isinstance(values, str | bytes) or not values:
        return []
    day_start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    total_s = int((day_end - day_start).total_seconds())
    if total_s % len(values) or (total_s // len(values)) % 60:
        return []  # not a whole number of minutes per slot: not a day list
    step = timedelta(seconds=total_s // len(values))
    intervals = []
    for index, raw in enumerate(values):
        value = parse_number(raw)
        if value is not None:
            start = day_start + index * step
            intervals.append(SpotInterval(start, start + step, value * scale))
    return intervals


def parse_spot_attributes(
    attributes: object,
    *,
    tz: tzinfo,
    now: datetime,
    state: object = None,
    unit: str | None = None,
) -> SpotPriceList:
    """Read every recognised price list of a price entity, plus its state as fallback.

    ``unit`` overrides the unit found in ``unit_of_measurement`` / ``unit``; ``now``
    (aware) dates the plain ``today`` / ``tomorrow`` number lists in ``tz``.
    """
    attrs: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else {}
    unit_text = unit or attrs.get("unit_of_measurement") or attrs.get("unit")
    scale = price_unit_scale(
        unit_text if isinstance(unit_text, str) else None,
        in_cents=attrs.get("price_in_cents") is True,
    )
    today = now.astimezone(tz).date()
    merged: list[SpotInterval] = []
    for key in _LIST_KEYS:
        raw = attrs.get(key)
        if key in _DAY_OFFSETS and _is_number_list(raw):
            day = today + timedelta(days=_DAY_OFFSETS[key])
            found = parse_day_values(raw, day=day, tz=tz, scale=scale)
        else:
            found = parse_price_items(raw, tz=tz, scale=scale)
        for interval in found:
            _insert_if_free(merged, interval)
    state_value = parse_number(state)
    return SpotPriceList(
        intervals=tuple(merged),
        state_price=None if state_value is None else state_value * scale,
    )


def _first(item: Mapping[str, Any], keys: Iterable[str]) -> object:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _is_number_list(raw: object) -> bool:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        return False
    first = next((value for value in raw if value is not None), None)
    return parse_number(first) is not None


def _typical_step(starts: list[datetime]) -> timedelta:
    """The most common spacing of the starts (the smaller on a tie); 1 h when unknown."""
    gaps = Counter(b - a for a, b in itertools.pairwise(starts))
    if not gaps:
        return _DEFAULT_RESOLUTION
    best = max(gaps.values())
    return min(gap for gap, count in gaps.items() if count == best)


def _insert_if_free(merged: list[SpotInterval], interval: SpotInterval) -> None:
    """Insert keeping ``merged`` sorted; an interval overlapping a kept one is dropped."""
    index = bisect_right([i.start for i in merged], interval.start)
    if index > 0 and merged[index - 1].end > interval.start:
        return
    if index < len(merged) and merged[index].start < interval.end:
        return
    merged.insert(index, interval)
