"""Tariffs, cost integration and spot price list parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging.sessions.pricing import (
    ALL_DAYS,
    GuestPricing,
    GuestPricingMethod,
    PriceSource,
    PriceSpan,
    SpotPrice,
    StaticPrice,
    Tariff,
    TimeOfUsePeriod,
    TimeOfUsePrice,
    price_energy,
    split_energy,
    tariff_from_config,
)
from custom_components.ev_charging.sessions.spot_prices import (
    SpotInterval,
    SpotPriceList,
    parse_day_values,
    parse_number,
    parse_price_items,
    parse_spot_attributes,
    parse_time,
    price_unit_scale,
)

from . import ts

BRUSSELS = ZoneInfo("Europe/Brussels")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC_ZONE = ZoneInfo("UTC")
NOW = ts("2026-03-10T12:00:00Z")


def z(text: str) -> datetime:
    return ts(text)


def bounds(spans: list[PriceSpan]) -> list[tuple[datetime | None, datetime | None, float | None]]:
    return [(s.start, s.end, s.price) for s in spans]


# --- static and combined tariffs ------------------------------------------------------


def test_static_price_spans_everything() -> None:
    tariff = Tariff(StaticPrice(2.5), currency="SEK")
    assert tariff.nominal_source is PriceSource.STATIC
    span = tariff.price_at(NOW)
    assert span == PriceSpan(None, None, 2.5, PriceSource.STATIC, 2.5)
    assert span.contains(datetime(1970, 1, 1, tzinfo=UTC))


def test_surcharges_and_multiplier() -> None:
    spot = SpotPriceList(
        intervals=(SpotInterval(z("2026-03-10T10:00Z"), z("2026-03-10T11:00Z"), 1.2),)
    )
    tariff = Tariff(
        SpotPrice(spot), currency="SEK", surcharges=(StaticPrice(0.85),), multiplier=1.25
    )
    span = tariff.price_at(z("2026-03-10T10:30Z"))
    assert span.price == pytest.approx(2.5625)
    assert span.base_price == 1.2
    assert span.source is PriceSource.SPOT
    assert (span.start, span.end) == (z("2026-03-10T10:00Z"), z("2026-03-10T11:00Z"))


def test_combined_spans_cut_at_every_component_boundary() -> None:
    spot = SpotPriceList(
        intervals=(
            SpotInterval(z("2026-03-10T10:00Z"), z("2026-03-10T10:15Z"), 0.1),
            SpotInterval(z("2026-03-10T10:15Z"), z("2026-03-10T10:30Z"), 0.2),
        ),
        state_price=0.3,
    )
    grid = TimeOfUsePrice(
        (TimeOfUsePeriod(price=0.05, start=time(10, 20), end=time(10, 40)),), 0.0, UTC_ZONE
    )
    tariff = Tariff(SpotPrice(spot), currency="EUR", surcharges=(grid,))
    spans = tariff.spans(z("2026-03-10T10:00Z"), z("2026-03-10T10:45Z"))
    assert [(s.start, s.end) for s in spans] == [
        (z("2026-03-10T10:00Z"), z("2026-03-10T10:15Z")),
        (z("2026-03-10T10:15Z"), z("2026-03-10T10:20Z")),
        (z("2026-03-10T10:20Z"), z("2026-03-10T10:30Z")),
        (z("2026-03-10T10:30Z"), z("2026-03-10T10:40Z")),
        (z("2026-03-10T10:40Z"), z("2026-03-11T00:00Z")),  # state gap meets end of local day
    ]
    assert [s.price for s in spans] == pytest.approx([0.1, 0.2, 0.25, 0.35, 0.3])
    assert [s.source for s in spans] == [PriceSource.SPOT] * 3 + [PriceSource.SPOT_STATE] * 2


def test_unknown_component_price_makes_the_span_unknown() -> None:
    tariff = Tariff(SpotPrice(SpotPriceList()), currency="EUR", surcharges=(StaticPrice(0.1),))
    span = tariff.price_at(NOW)
    assert span.price is None
    assert span.source is PriceSource.FALLBACK
    assert tariff.nominal_source is PriceSource.SPOT


# --- cost integration -----------------------------------------------------------------


def test_split_energy_in_proportion_to_time() -> None:
    spans = [
        PriceSpan(None, z("2026-03-10T10:15Z"), 1.0, PriceSource.SPOT),
        PriceSpan(z("2026-03-10T10:15Z"), None, 2.0, PriceSource.SPOT),
    ]
    shares = split_energy(z("2026-03-10T10:10Z"), z("2026-03-10T10:30Z"), 2.0, spans)
    assert [share for _, share in shares] == pytest.approx([0.5, 1.5])
    assert sum(share for _, share in shares) == 2.0


def test_split_energy_edge_cases() -> None:
    span = PriceSpan(None, None, 1.0, PriceSource.STATIC)
    assert split_energy(NOW, NOW, 1.0, [span]) == [(span, 1.0)]
    assert split_energy(NOW, NOW + timedelta(1), 1.0, []) == []
    outside = [
        PriceSpan(z("2026-01-01T00:00Z"), z("2026-01-02T00:00Z"), 1.0, PriceSource.SPOT),
        PriceSpan(z("2026-01-02T00:00Z"), z("2026-01-03T00:00Z"), 2.0, PriceSource.SPOT),
    ]
    assert split_energy(NOW, NOW + timedelta(hours=1), 3.0, outside) == [(outside[0], 3.0)]


def test_price_energy_across_a_boundary() -> None:
    spot = SpotPriceList(
        intervals=(
            SpotInterval(z("2026-03-10T10:00Z"), z("2026-03-10T10:15Z"), 0.1),
            SpotInterval(z("2026-03-10T10:15Z"), z("2026-03-10T10:30Z"), 0.2),
        )
    )
    pieces = price_energy(
        Tariff(SpotPrice(spot), currency="EUR"), z("2026-03-10T10:10Z"), z("2026-03-10T10:20Z"), 1.0
    )
    assert [p.energy_kwh for p in pieces] == pytest.approx([0.5, 0.5])
    assert sum(p.cost or 0 for p in pieces) == pytest.approx(0.15)


# --- time of use ----------------------------------------------------------------------


NIGHT = TimeOfUsePeriod(price=0.2, start=time(22), end=time(7), name="night")


def test_time_of_use_boundaries_are_start_inclusive_end_exclusive() -> None:
    tou = TimeOfUsePrice((TimeOfUsePeriod(price=1.0, start=time(8), end=time(9)),), 0.5, UTC_ZONE)
    assert tou.price_at(z("2026-03-10T07:59:59Z")) == (0.5, -1)
    assert tou.price_at(z("2026-03-10T08:00:00Z")) == (1.0, 0)
    assert tou.price_at(z("2026-03-10T08:59:59Z")) == (1.0, 0)
    assert tou.price_at(z("2026-03-10T09:00:00Z")) == (0.5, -1)


def test_time_of_use_uses_local_time() -> None:
    tou = TimeOfUsePrice((NIGHT,), 0.4, BRUSSELS)
    assert tou.price_at(z("2026-03-10T21:30Z"))[0] == 0.2  # 22:30 in Brussels
    assert tou.price_at(z("2026-03-10T06:30Z"))[0] == 0.4  # 07:30 in Brussels


def test_midnight_crossing_belongs_to_its_start_day() -> None:
    friday_night = TimeOfUsePeriod(price=0.1, start=time(22), end=time(6), weekdays=frozenset({4}))
    tou = TimeOfUsePrice((friday_night,), 0.3, UTC_ZONE)
    assert tou.price_at(z("2026-03-12T23:00Z"))[0] == 0.3  # Thursday night
    assert tou.price_at(z("2026-03-13T23:00Z"))[0] == 0.1  # Friday 23:00
    assert tou.price_at(z("2026-03-14T05:59Z"))[0] == 0.1  # Saturday morning, Friday's night
    assert tou.price_at(z("2026-03-14T06:00Z"))[0] == 0.3
    assert tou.price_at(z("2026-03-14T23:00Z"))[0] == 0.3  # Saturday night
    assert tou.price_at(z("2026-03-15T05:00Z"))[0] == 0.3


def test_full_day_periods_and_first_match_wins() -> None:
    weekend = TimeOfUsePeriod(price=0.1, start=time(0), end=time(0), weekdays=frozenset({5, 6}))
    shadowed = TimeOfUsePeriod(price=9.9, start=time(0), end=time(12))
    tou = TimeOfUsePrice((weekend, shadowed), 0.3, UTC_ZONE)
    assert tou.price_at(z("2026-03-13T23:59Z"))[0] == 0.3  # Friday evening
    assert tou.price_at(z("2026-03-14T00:00Z")) == (0.1, 0)  # Saturday
    assert tou.price_at(z("2026-03-15T23:59Z")) == (0.1, 0)  # Sunday
    assert tou.price_at(z("2026-03-16T00:00Z")) == (9.9, 1)  # Monday morning
    ends_at_midnight = TimeOfUsePeriod(price=0.7, start=time(22), end=time(0))
    tou = TimeOfUsePrice((ends_at_midnight,), 0.3, UTC_ZONE)
    assert tou.price_at(z("2026-03-10T23:59Z"))[0] == 0.7
    assert tou.price_at(z("2026-03-11T00:00Z"))[0] == 0.3


def test_time_of_use_spans_are_cut_at_local_midnight() -> None:
    tou = TimeOfUsePrice((NIGHT,), 0.4, BRUSSELS)
    spans = tou.spans(z("2026-03-10T12:00Z"), z("2026-03-11T12:00Z"))
    assert bounds(spans) == [
        (z("2026-03-10T06:00Z"), z("2026-03-10T21:00Z"), 0.4),
        (z("2026-03-10T21:00Z"), z("2026-03-10T23:00Z"), 0.2),
        (z("2026-03-10T23:00Z"), z("2026-03-11T06:00Z"), 0.2),
        (z("2026-03-11T06:00Z"), z("2026-03-11T21:00Z"), 0.4),
    ]
    assert tou.spans(z("2026-03-10T12:00Z"), z("2026-03-10T12:00Z")) == [spans[0]]


def test_time_of_use_night_is_shorter_on_the_spring_dst_change() -> None:
    tou = TimeOfUsePrice((NIGHT,), 0.4, BRUSSELS)
    spans = tou.spans(z("2026-03-28T12:00Z"), z("2026-03-29T12:00Z"))
    assert bounds(spans) == [
        (z("2026-03-28T06:00Z"), z("2026-03-28T21:00Z"), 0.4),
        (z("2026-03-28T21:00Z"), z("2026-03-28T23:00Z"), 0.2),
        (z("2026-03-28T23:00Z"), z("2026-03-29T05:00Z"), 0.2),  # 07:00 is CEST now
        (z("2026-03-29T05:00Z"), z("2026-03-29T20:00Z"), 0.4),
    ]
    night = sum(
        ((s.end - s.start) for s in spans if s.price == 0.2 and s.start and s.end), timedelta()
    )
    assert night == timedelta(hours=8)


def test_time_of_use_night_is_longer_on_the_autumn_dst_change() -> None:
    tou = TimeOfUsePrice((NIGHT,), 0.4, BRUSSELS)
    spans = tou.spans(z("2026-10-24T21:00Z"), z("2026-10-25T05:00Z"))
    assert bounds(spans) == [
        (z("2026-10-24T20:00Z"), z("2026-10-24T22:00Z"), 0.2),
        (z("2026-10-24T22:00Z"), z("2026-10-25T06:00Z"), 0.2),  # 00:00 CEST to 07:00 CET
    ]


def test_time_of_use_boundary_inside_the_skipped_hour() -> None:
    early = TimeOfUsePeriod(price=1.0, start=time(2, 30), end=time(4))
    tou = TimeOfUsePrice((early,), 0.0, BRUSSELS)
    spans = tou.spans(z("2026-03-29T00:00Z"), z("2026-03-29T03:00Z"))
    assert bounds(spans) == [
        (z("2026-03-28T23:00Z"), z("2026-03-29T01:00Z"), 0.0),
        (z("2026-03-29T01:00Z"), z("2026-03-29T02:00Z"), 1.0),  # starts at the jump 02->03
        (z("2026-03-29T02:00Z"), z("2026-03-29T22:00Z"), 0.0),
    ]


def test_time_of_use_boundary_inside_the_repeated_hour() -> None:
    early = TimeOfUsePeriod(price=1.0, start=time(2, 30), end=time(4))
    tou = TimeOfUsePrice((early,), 0.0, BRUSSELS)
    spans = tou.spans(z("2026-10-25T00:00Z"), z("2026-10-25T04:00Z"))
    assert bounds(spans) == [
        (z("2026-10-24T22:00Z"), z("2026-10-25T00:30Z"), 0.0),
        (z("2026-10-25T00:30Z"), z("2026-10-25T01:00Z"), 1.0),  # 02:30 CEST
        (z("2026-10-25T01:00Z"), z("2026-10-25T01:30Z"), 0.0),  # back to 02:00 CET
        (z("2026-10-25T01:30Z"), z("2026-10-25T03:00Z"), 1.0),  # 02:30 CET again
        (z("2026-10-25T03:00Z"), z("2026-10-25T23:00Z"), 0.0),
    ]


def test_cost_across_dst_change_is_time_proportional() -> None:
    tariff = Tariff(TimeOfUsePrice((NIGHT,), 0.4, BRUSSELS), currency="EUR")
    # 10 kWh evenly from 04:00 to 06:00 UTC on the spring change: night until 05:00Z.
    pieces = price_energy(tariff, z("2026-03-29T04:00Z"), z("2026-03-29T06:00Z"), 10.0)
    assert [(p.energy_kwh, p.span.price) for p in pieces] == [(5.0, 0.2), (5.0, 0.4)]
    assert sum(p.cost or 0 for p in pieces) == pytest.approx(3.0)
    assert tariff.nominal_source is PriceSource.TIME_OF_USE


# --- spot tariff ----------------------------------------------------------------------


SPOT_LIST = SpotPriceList(
    intervals=(
        SpotInterval(z("2026-03-10T10:00Z"), z("2026-03-10T10:15Z"), 0.1),
        SpotInterval(z("2026-03-10T10:15Z"), z("2026-03-10T10:30Z"), 0.2),
        SpotInterval(z("2026-03-10T11:00Z"), z("2026-03-10T12:00Z"), 0.5),
    ),
    state_price=0.3,
)


def test_spot_spans_fill_gaps_with_the_state() -> None:
    spans = SpotPrice(SPOT_LIST).spans(z("2026-03-10T10:05Z"), z("2026-03-10T11:30Z"))
    assert bounds(spans) == [
        (z("2026-03-10T10:00Z"), z("2026-03-10T10:15Z"), 0.1),
        (z("2026-03-10T10:15Z"), z("2026-03-10T10:30Z"), 0.2),
        (z("2026-03-10T10:30Z"), z("2026-03-10T11:00Z"), 0.3),
        (z("2026-03-10T11:00Z"), z("2026-03-10T12:00Z"), 0.5),
    ]
    assert spans[2].source is PriceSource.SPOT_STATE


def test_spot_spans_before_and_after_the_list() -> None:
    spot = SpotPrice(SPOT_LIST)
    assert bounds(spot.spans(z("2026-03-10T08:00Z"), z("2026-03-10T09:00Z"))) == [
        (None, z("2026-03-10T10:00Z"), 0.3)
    ]
    assert bounds(spot.spans(z("2026-03-10T13:00Z"), z("2026-03-10T14:00Z"))) == [
        (z("2026-03-10T12:00Z"), None, 0.3)
    ]
    assert bounds(spot.spans(z("2026-03-10T10:20Z"), z("2026-03-10T10:20Z"))) == [
        (z("2026-03-10T10:15Z"), z("2026-03-10T10:30Z"), 0.2)
    ]
    assert bounds(spot.spans(z("2026-03-10T10:40Z"), z("2026-03-10T10:40Z"))) == [
        (z("2026-03-10T10:30Z"), z("2026-03-10T11:00Z"), 0.3)
    ]


def test_spot_fallback_price_when_no_state() -> None:
    bare = SpotPriceList(intervals=SPOT_LIST.intervals)
    fallback = SpotPrice(bare, fallback_price=0.25).spans(NOW, NOW + timedelta(hours=1))
    assert [(s.price, s.source) for s in fallback] == [(0.25, PriceSource.FALLBACK)]
    unknown = SpotPrice(bare).spans(NOW, NOW + timedelta(hours=1))
    assert [(s.price, s.source) for s in unknown] == [(None, PriceSource.FALLBACK)]


def test_spot_list_lookup() -> None:
    assert SPOT_LIST.interval_at(z("2026-03-10T09:59Z")) is None
    assert SPOT_LIST.interval_at(z("2026-03-10T10:00Z")) == SPOT_LIST.intervals[0]
    assert SPOT_LIST.interval_at(z("2026-03-10T10:30Z")) is None
    assert SPOT_LIST.interval_at(z("2026-03-10T12:00Z")) is None
    assert SPOT_LIST.overlapping(z("2026-03-10T10:29Z"), z("2026-03-10T11:01Z")) == [
        SPOT_LIST.intervals[1],
        SPOT_LIST.intervals[2],
    ]


# --- spot list parsing ----------------------------------------------------------------


def _nordpool_raw(day: date, tz: ZoneInfo, *, as_text: bool = False) -> list[dict[str, Any]]:
    items = []
    for hour in range(24):
        start = datetime.combine(day, time(hour), tzinfo=tz)
        end = (
            start + timedelta(hours=1)
            if hour < 23
            else datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        )
        items.append(
            {
                "start": start.isoformat() if as_text else start,
                "end": end.isoformat() if as_text else end,
                "value": 1.0 + hour / 100,
            }
        )
    return items


def test_parse_nordpool_raw_today_and_tomorrow() -> None:
    attributes = {
        "raw_today": _nordpool_raw(date(2026, 3, 10), STOCKHOLM),
        "raw_tomorrow": _nordpool_raw(date(2026, 3, 11), STOCKHOLM, as_text=True),
        "today": [9.9] * 24,  # the plain list is shadowed by raw_today
        "unit": "kWh",
        "currency": "SEK",
        "price_in_cents": False,
    }
    prices = parse_spot_attributes(attributes, tz=STOCKHOLM, now=NOW, state="1.05")
    assert len(prices.intervals) == 48
    assert prices.intervals[0] == SpotInterval(z("2026-03-09T23:00Z"), z("2026-03-10T00:00Z"), 1.0)
    assert prices.intervals[-1].end == z("2026-03-11T23:00Z")
    assert prices.intervals[-1].price == pytest.approx(1.23)
    assert prices.state_price == 1.05


def test_parse_nordpool_in_cents() -> None:
    attributes = {"raw_today": _nordpool_raw(date(2026, 3, 10), STOCKHOLM), "price_in_cents": True}
    prices = parse_spot_attributes(attributes, tz=STOCKHOLM, now=NOW, state=105)
    assert prices.intervals[0].price == pytest.approx(0.01)
    assert prices.state_price == pytest.approx(1.05)


@pytest.mark.parametrize(
    ("count", "day", "step_minutes"),
    [
        (24, date(2026, 3, 10), 60),
        (96, date(2026, 3, 10), 15),
        (23, date(2026, 3, 29), 60),  # spring change: a 23 h day
        (92, date(2026, 3, 29), 15),
        (100, date(2026, 10, 25), 15),  # autumn change: a 25 h day
    ],
)
def test_parse_plain_day_lists(count: int, day: date, step_minutes: int) -> None:
    intervals = parse_day_values([0.5] * count, day=day, tz=BRUSSELS)
    assert len(intervals) == count
    assert intervals[0].start == datetime.combine(day, time(0), tzinfo=BRUSSELS)
    assert all(i.end - i.start == timedelta(minutes=step_minutes) for i in intervals)
    assert intervals[-1].end == datetime.combine(day + timedelta(days=1), time(0), tzinfo=BRUSSELS)


def test_parse_plain_today_tomorrow_lists_with_gaps() -> None:
    values = [1.0] * 24
    values[5] = None  # type: ignore[call-overload]
    attributes = {"today": values, "tomorrow": ["2.0"] * 24, "unit_of_measurement": "EUR/MWh"}
    prices = parse_spot_attributes(attributes, tz=BRUSSELS, now=NOW)
    assert len(prices.intervals) == 47
    assert prices.intervals[0].start == z("2026-03-09T23:00Z")
    assert prices.intervals[0].price == pytest.approx(0.001)
    assert prices.intervals[-1].price == pytest.approx(0.002)
    assert prices.interval_at(z("2026-03-10T04:30Z")) is None  # the missing slot


def test_plain_list_of_the_wrong_length_is_ignored() -> None:
    assert parse_day_values([1.0] * 24, day=date(2026, 3, 29), tz=BRUSSELS) == []
    assert parse_day_values([1.0] * 7, day=date(2026, 3, 10), tz=BRUSSELS) == []
    assert parse_day_values([], day=date(2026, 3, 10), tz=BRUSSELS) == []
    assert parse_day_values("1,2,3", day=date(2026, 3, 10), tz=BRUSSELS) == []


def test_parse_entsoe_quarter_hours_without_end() -> None:
    start = datetime(2026, 3, 10, 0, 0, tzinfo=BRUSSELS)
    prices = [
        {"time": str(start + timedelta(minutes=15 * i)), "price": 0.1 * (i + 1)} for i in range(8)
    ]
    attributes = {"prices_today": prices[:4], "prices_tomorrow": prices[4:], "prices": prices}
    parsed = parse_spot_attributes(attributes, tz=BRUSSELS, now=NOW)
    assert len(parsed.intervals) == 8
    assert all(i.end - i.start == timedelta(minutes=15) for i in parsed.intervals)
    assert parsed.intervals[3].price == pytest.approx(0.4)


def test_parse_tibber_like_today_list() -> None:
    attributes = {
        "today": [
            {"startsAt": "2026-03-10T00:00:00.000+01:00", "total": 1.1, "energy": 0.9, "tax": 0.2},
            {"startsAt": "2026-03-10T01:00:00.000+01:00", "total": 1.2, "energy": 1.0, "tax": 0.2},
        ],
        "tomorrow": [],
    }
    parsed = parse_spot_attributes(attributes, tz=STOCKHOLM, now=NOW)
    assert parsed.intervals == (
        SpotInterval(z("2026-03-09T23:00Z"), z("2026-03-10T00:00Z"), 1.1),
        SpotInterval(z("2026-03-10T00:00Z"), z("2026-03-10T01:00Z"), 1.2),
    )


def test_parse_octopus_rates() -> None:
    rates = [
        {
            "start": "2026-03-10T00:00:00Z",
            "end": "2026-03-10T00:30:00Z",
            "value_inc_vat": 0.2415,
            "is_capped": False,
        },
        {
            "start": "2026-03-10T00:30:00Z",
            "end": "2026-03-10T01:00:00Z",
            "value_inc_vat": 0.1932,
            "is_capped": False,
        },
    ]
    parsed = parse_spot_attributes({"rates": rates}, tz=ZoneInfo("Europe/London"), now=NOW)
    assert [(i.start, i.end, i.price) for i in parsed.intervals] == [
        (z("2026-03-10T00:00Z"), z("2026-03-10T00:30Z"), 0.2415),
        (z("2026-03-10T00:30Z"), z("2026-03-10T01:00Z"), 0.1932),
    ]


def test_parse_energi_data_service_and_forecasts() -> None:
    copenhagen = ZoneInfo("Europe/Copenhagen")
    attributes = {
        "raw_today": [
            {"hour": datetime(2026, 3, 10, 0, tzinfo=copenhagen), "price": 1.5},
            {"hour": datetime(2026, 3, 10, 1, tzinfo=copenhagen), "price": 1.6},
        ],
        "forecasts": [
            {
                "start_time": "2026-03-12T00:00:00+01:00",
                "end_time": "2026-03-12T00:30:00+01:00",
                "per_kwh": 0.3,
            }
        ],
    }
    parsed = parse_spot_attributes(attributes, tz=copenhagen, now=NOW)
    assert [(i.start, i.price) for i in parsed.intervals] == [
        (z("2026-03-09T23:00Z"), 1.5),
        (z("2026-03-10T00:00Z"), 1.6),
        (z("2026-03-11T23:00Z"), 0.3),
    ]
    assert parsed.intervals[-1].end == z("2026-03-11T23:30Z")


def test_overlapping_lists_keep_the_first_by_priority() -> None:
    attributes = {
        "raw_today": [{"start": "2026-03-10T10:00Z", "end": "2026-03-10T11:00Z", "value": 1.0}],
        "prices": [
            {"time": "2026-03-10T10:30Z", "price": 9.0},  # starts inside a kept one
            {"time": "2026-03-10T09:45Z", "end": "2026-03-10T10:15Z", "price": 9.0},  # ends inside
            {"time": "2026-03-10T10:00Z", "price": 9.0},
            {"time": "2026-03-10T11:00Z", "price": 2.0},
        ],
    }
    parsed = parse_spot_attributes(attributes, tz=UTC_ZONE, now=NOW)
    assert [(i.start, i.price) for i in parsed.intervals] == [
        (z("2026-03-10T10:00Z"), 1.0),
        (z("2026-03-10T11:00Z"), 2.0),
    ]


def test_typical_step_of_a_list() -> None:
    single = parse_price_items([{"start": "2026-03-10T10:00Z", "value": 1}], tz=UTC)
    assert single[0].end == z("2026-03-10T11:00Z")
    tie = parse_price_items(
        [
            {"start": "2026-03-10T10:00Z", "value": 1},
            {"start": "2026-03-10T10:15Z", "value": 1},
            {"start": "2026-03-10T11:15Z", "value": 1},
        ],
        tz=UTC,
    )
    assert [i.end - i.start for i in tie] == [timedelta(minutes=15)] * 3


@pytest.mark.parametrize(
    "attributes",
    [
        None,
        "raw_today",
        ["not", "a", "mapping"],
        {"raw_today": "garbage"},
        {"raw_today": b"bytes"},
        {"raw_today": 42},
        {"raw_today": [1, 2, 3]},
        {"raw_today": [None, "x", ["start"]]},
        {"raw_today": [{"start": "2026-03-10T10:00Z"}]},  # no value
        {"raw_today": [{"value": 1.0}]},  # no start
        {"raw_today": [{"start": "yesterday", "value": 1.0}]},
        {"raw_today": [{"start": 1_773_000_000, "value": 1.0}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "value": "abc"}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "value": math.nan}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "value": math.inf}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "value": "inf"}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "value": True}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "value": {"a": 1}}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "end": "2026-03-10T09:00Z", "value": 1}]},
        {"raw_today": [{"start": "2026-03-10T10:00Z", "end": "2026-03-10T10:00Z", "value": 1}]},
        {"today": ["abc", "def"]},
        {"today": [None, None]},
        {"today": [{"startsAt": None, "total": 1}]},
        {"unit_of_measurement": 5, "prices": []},
    ],
)
def test_malformed_attributes_are_ignored(attributes: object) -> None:
    parsed = parse_spot_attributes(attributes, tz=STOCKHOLM, now=NOW, state="unavailable")
    assert parsed == SpotPriceList()


def test_malformed_items_do_not_spoil_good_ones() -> None:
    items = [
        "junk",
        {"start": "2026-03-10T10:00Z", "value": "x"},
        {"start": "2026-03-10T10:00:00", "value": "1,5"},  # naive: local time; comma decimal
        {"start": "2026-03-10T11:00:00", "end": "2026-03-10T10:00:00", "value": 2},
    ]
    parsed = parse_price_items(items, tz=STOCKHOLM)
    assert parsed == [SpotInterval(z("2026-03-10T09:00Z"), z("2026-03-10T10:00Z"), 1.5)]


def test_number_and_time_parsing() -> None:
    assert parse_number(" 2,5 ") == 2.5
    assert parse_number(3) == 3.0
    assert parse_number(None) is None
    assert parse_number(False) is None
    assert parse_number("nan") is None
    assert parse_time("2026-03-10T10:00:00+00:00", UTC) == z("2026-03-10T10:00Z")
    assert parse_time(datetime(2026, 3, 10, 11, 0), BRUSSELS) == z("2026-03-10T10:00Z")
    assert parse_time("", UTC) is None
    assert parse_time(date(2026, 3, 10), UTC) is None


@pytest.mark.parametrize(
    ("unit", "in_cents", "scale"),
    [
        ("SEK/kWh", False, 1.0),
        ("EUR/MWh", False, 0.001),
        ("€/MWh", False, 0.001),
        ("c/kWh", False, 0.01),
        ("ct/kWh", False, 0.01),
        ("öre/kWh", False, 0.01),
        ("øre/kWh", False, 0.01),
        ("p/kWh", False, 0.01),
        ("kWh", False, 1.0),
        ("MWh", False, 0.001),
        ("EUR/Wh", False, 1000.0),
        (None, False, 1.0),
        ("", False, 1.0),
        ("whatever", False, 1.0),
        ("SEK/kWh", True, 0.01),
        ("öre/kWh", True, 0.01),  # not scaled twice
        ("EUR/MWh", True, 0.00001),
    ],
)
def test_price_unit_scale(unit: str | None, in_cents: bool, scale: float) -> None:
    assert price_unit_scale(unit, in_cents=in_cents) == pytest.approx(scale)


def test_unit_argument_overrides_attributes() -> None:
    attributes = {
        "prices": [{"time": "2026-03-10T10:00Z", "price": 80.0}],
        "unit_of_measurement": "EUR/kWh",
    }
    parsed = parse_spot_attributes(attributes, tz=UTC, now=NOW, unit="EUR/MWh", state="95.5")
    assert parsed.intervals[0].price == pytest.approx(0.08)
    assert parsed.state_price == pytest.approx(0.0955)


# --- configuration --------------------------------------------------------------------


def test_tariff_from_config_static_with_vat() -> None:
    tariff = tariff_from_config(
        {"mode": "static", "price_per_kwh": "0.25", "vat_multiplier": 1.21},
        currency="EUR",
        timezone=BRUSSELS,
    )
    assert tariff == Tariff(StaticPrice(0.25), currency="EUR", multiplier=1.21)


def test_tariff_from_config_time_of_use_with_grid_fee() -> None:
    tariff = tariff_from_config(
        {
            "mode": "time_of_use",
            "default_price": 0.30,
            "periods": [
                {"price": 0.2, "start": "22:00", "end": "07:00", "name": "night"},
                {"price": 0.25, "start": "07:00", "end": "22:00", "weekdays": [5, 6]},
            ],
            "additional_cost_per_kwh": 0.02,
            "grid_fee_periods": [{"price": 0.05, "start": "17:00", "end": "20:00"}],
            "multiplier": 1.06,
        },
        currency="EUR",
        timezone=BRUSSELS,
    )
    assert isinstance(tariff.energy, TimeOfUsePrice)
    assert tariff.energy.periods[0] == TimeOfUsePeriod(
        price=0.2, start=time(22), end=time(7), weekdays=ALL_DAYS, name="night"
    )
    assert tariff.energy.periods[1].weekdays == frozenset({5, 6})
    # Tuesday 18:00 Brussels: day price + flat addition + evening grid fee, times 1.06
    assert tariff.price_at(z("2026-03-10T17:00Z")).price == pytest.approx(
        (0.30 + 0.02 + 0.05) * 1.06
    )
    assert tariff.price_at(z("2026-03-10T22:00Z")).price == pytest.approx((0.2 + 0.02) * 1.06)


def test_tariff_from_config_spot() -> None:
    tariff = tariff_from_config(
        {
            "mode": "spot",
            "fallback_price": 0.4,
            "grid_fee_periods": [],
            "additional_cost_per_kwh": 0,
        },
        currency="SEK",
        timezone=STOCKHOLM,
        spot_prices=SPOT_LIST,
    )
    assert tariff == Tariff(SpotPrice(SPOT_LIST, 0.4), currency="SEK")
    empty = tariff_from_config({"mode": "spot"}, currency="SEK", timezone=STOCKHOLM)
    assert empty.price_at(NOW).price is None


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"mode": "solar"}, "mode"),
        ({"mode": "static"}, "required"),
        ({"mode": "static", "price_per_kwh": "cheap"}, "not a number"),
        ({"mode": "time_of_use", "periods": "22-07"}, "list"),
        ({"mode": "time_of_use", "periods": ["night"]}, "invalid period"),
        (
            {"mode": "time_of_use", "periods": [{"price": 1, "start": "25:00", "end": "07:00"}]},
            "invalid period",
        ),
        ({"mode": "time_of_use", "periods": [{"price": 1, "end": "07:00"}]}, "invalid period"),
        (
            {
                "mode": "time_of_use",
                "periods": [{"price": 1, "start": "01:00", "end": "02:00", "weekdays": [7]}],
            },
            "must be 0-6",
        ),
        ({"mode": "time_of_use", "periods": [{"start": "01:00", "end": "02:00"}]}, "required"),
    ],
)
def test_tariff_from_config_rejects(config: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tariff_from_config(config, currency="EUR", timezone=BRUSSELS)


def test_guest_pricing() -> None:
    fixed = GuestPricing.from_dict({"method": "fixed", "price_per_kwh": 4.5})
    markup = GuestPricing.from_dict({"method": "markup", "value": 1.3})
    assert fixed.charge(9.0, 22.5) == 40.5
    assert markup.charge(9.0, 22.5) == pytest.approx(29.25)
    assert markup.charge(9.0, None) is None
    assert GuestPricing.from_dict(markup.to_dict()) == markup
    assert fixed.to_dict() == {"method": "fixed", "value": 4.5}
    with pytest.raises(ValueError, match="guest pricing"):
        GuestPricing.from_dict({"method": "fixed", "price_per_kwh": -1})
    assert GuestPricingMethod("markup") is GuestPricingMethod.MARKUP
