"""Tariffs and cost integration: static, time-of-use and spot prices.

A tariff answers one question: which price applies over ``[start, end)``. It returns
:class:`PriceSpan` pieces whose *natural* bounds are the tariff's own intervals (a spot
quarter hour, a time-of-use period within a local day), so energy can be split across
them in proportion to time and a per-interval breakdown stays stable whatever the
sampling. Prices are in currency per kWh; the currency is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
import itertools
from typing import Any

from .spot_prices import SpotPriceList, parse_number

ALL_DAYS = frozenset(range(7))


class PriceSource(StrEnum):
    """Where a price came from."""

    STATIC = "static"
    TIME_OF_USE = "time_of_use"
    SPOT = "spot"
    SPOT_STATE = "spot_state"  # the price entity's state: no list interval covered the time
    FALLBACK = "fallback"  # neither list nor state: the configured fallback (or unknown)


@dataclass(frozen=True, slots=True)
class PriceSpan:
    """A constant price over natural bounds ``[start, end)``; ``None`` = unbounded."""

    start: datetime | None
    end: datetime | None
    price: float | None  # None: no price known for this time
    source: PriceSource
    base_price: float | None = None  # the energy component before surcharges and multiplier

    def contains(self, when: datetime) -> bool:
        """Whether ``when`` lies inside the span."""
        return (self.start is None or self.start <= when) and (self.end is None or when < self.end)


@dataclass(frozen=True, slots=True)
class StaticPrice:
    """One price at all times."""

    price_per_kwh: float

    def spans(self, start: datetime, end: datetime) -> list[PriceSpan]:
        """The spans covering ``[start, end]``."""
        price = self.price_per_kwh
        return [PriceSpan(None, None, price, PriceSource.STATIC, price)]


@dataclass(frozen=True, slots=True)
class TimeOfUsePeriod:
    """A price on some weekdays between two local wall-clock times.

    ``end <= start`` crosses midnight (``end == start`` is a full 24 h); ``weekdays``
    (0 = Monday) are the days on which the period *starts*.
    """

    price: float
    start: time
    end: time
    weekdays: frozenset[int] = ALL_DAYS
    name: str = ""

    def matches(self, weekday: int, wall: time) -> bool:
        """Whether the local ``weekday`` and wall-clock time fall in the period."""
        if self.start < self.end:
            return weekday in self.weekdays and self.start <= wall < self.end
        return (weekday in self.weekdays and wall >= self.start) or (
            (weekday - 1) % 7 in self.weekdays and wall < self.end
        )


@dataclass(frozen=True, slots=True)
class TimeOfUsePrice:
    """Periods evaluated in local time (first match wins), else ``default_price``."""

    periods: tuple[TimeOfUsePeriod, ...]
    default_price: float | None
    timezone: tzinfo

    def price_at(self, when: datetime) -> tuple[float | None, int]:
        """The price at ``when`` and the index of the matching period (-1: default)."""
        local = when.astimezone(self.timezone)
        wall = local.time()
        for index, period in enumerate(self.periods):
            if period.matches(local.weekday(), wall):
                return period.price, index
        return self.default_price, -1

    def spans(self, start: datetime, end: datetime) -> list[PriceSpan]:
        """Constant-price runs, cut at local midnight, overlapping ``[start, end]``."""
        first = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        spans: list[PriceSpan] = []
        day = first
        while day <= last:
            for span in self._day_spans(day):
                if _overlaps(span, start, end):
                    spans.append(span)
            day += timedelta(days=1)
        return spans

    def _day_spans(self, day: date) -> list[PriceSpan]:
        day_start = self._midnight(day)
        day_end = self._midnight(day + timedelta(days=1))
        cuts = {day_start, day_end, *self._transitions(day_start, day_end)}
        walls = {p.start for p in self.periods} | {p.end for p in self.periods}
        for wall in walls:
            for fold in (0, 1):  # both readings of a repeated or skipped wall time
                local = datetime.combine(day, wall, tzinfo=self.timezone).replace(fold=fold)
                instant = local.astimezone(UTC)
                if day_start < instant < day_end:
                    cuts.add(instant)
        ordered = sorted(cuts)
        spans: list[PriceSpan] = []
        last_key: tuple[float | None, int] | None = None
        for piece_start, piece_end in itertools.pairwise(ordered):
            key = self.price_at(piece_start)
            if key == last_key:
                previous = spans[-1]
                spans[-1] = PriceSpan(
                    previous.start, piece_end, key[0], PriceSource.TIME_OF_USE, key[0]
                )
            else:
                spans.append(
                    PriceSpan(piece_start, piece_end, key[0], PriceSource.TIME_OF_USE, key[0])
                )
            last_key = key
        return spans

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.timezone).astimezone(UTC)

    def _transitions(self, start: datetime, end: datetime) -> list[datetime]:
        """UTC-offset changes (DST) inside ``[start, end)``, to the second."""

        def offset(moment: datetime) -> timedelta | None:
            return moment.astimezone(self.timezone).utcoffset()

        if offset(start) == offset(end - timedelta(seconds=1)):
            return []
        low, high = start, end - timedelta(seconds=1)
        while high - low > timedelta(seconds=1):
            middle = low + timedelta(seconds=int((high - low).total_seconds()) // 2)
            if offset(middle) == offset(low):
                low = middle
            else:
                high = middle
        return [high]


@dataclass(frozen=True, slots=True)
class SpotPrice:
    """Prices from a spot list; gaps use the entity state, then ``fallback_price``."""

    prices: SpotPriceList
    fallback_price: float | None = None

    def spans(self, start: datetime, end: datetime) -> list[PriceSpan]:
        """List intervals and the gaps between them, overlapping ``[start, end]``."""
        if start < end:
            covering = self.prices.overlapping(start, end)
        else:
            found = self.prices.interval_at(start)
            covering = [found] if found else []
        spans: list[PriceSpan] = []
        cursor = start
        for interval in covering:
            if interval.start > cursor:
                spans.append(self._gap(cursor))
            spans.append(
                PriceSpan(
                    interval.start, interval.end, interval.price, PriceSource.SPOT, interval.price
                )
            )
            cursor = interval.end
        if cursor < end or not spans:
            spans.append(self._gap(cursor))
        return spans

    def _gap(self, when: datetime) -> PriceSpan:
        intervals = self.prices.intervals
        before = [i.end for i in intervals if i.end <= when]
        after = [i.start for i in intervals if i.start > when]
        gap_start = max(before) if before else None
        gap_end = min(after) if after else None
        price: float | None = self.prices.state_price
        source = PriceSource.SPOT_STATE
        if price is None:
            price, source = self.fallback_price, PriceSource.FALLBACK
        return PriceSpan(gap_start, gap_end, price, source, price)


PriceComponent = StaticPrice | TimeOfUsePrice | SpotPrice
Surcharge = StaticPrice | TimeOfUsePrice


@dataclass(frozen=True, slots=True)
class Tariff:
    """``(energy price + surcharges) * multiplier`` per kWh, in ``currency``.

    ``surcharges`` are grid fees or fixed additions (static or time-of-use);
    ``multiplier`` is VAT or any factor applied last.
    """

    energy: PriceComponent
    currency: str
    surcharges: tuple[Surcharge, ...] = ()
    multiplier: float = 1.0

    @property
    def nominal_source(self) -> PriceSource:
        """The source this tariff prices from when nothing falls back."""
        if isinstance(self.energy, SpotPrice):
            return PriceSource.SPOT
        if isinstance(self.energy, TimeOfUsePrice):
            return PriceSource.TIME_OF_USE
        return PriceSource.STATIC

    def price_at(self, when: datetime) -> PriceSpan:
        """The combined span holding ``when``."""
        return self.spans(when, when)[0]

    def spans(self, start: datetime, end: datetime) -> list[PriceSpan]:
        """Combined spans covering ``[start, end]`` (one span when ``start == end``)."""
        layers = [self.energy.spans(start, end)]
        layers += [surcharge.spans(start, end) for surcharge in self.surcharges]
        if start >= end:
            return [self._combine([layer[0] for layer in layers])]
        cuts = {start, end}
        for layer in layers:
            for span in layer:
                cuts.update(t for t in (span.start, span.end) if t is not None and start < t < end)
        ordered = sorted(cuts)
        return [
            self._combine([_holding(layer, piece_start) for layer in layers])
            for piece_start in ordered[:-1]
        ]

    def _combine(self, parts: list[PriceSpan]) -> PriceSpan:
        energy = parts[0]
        starts = [p.start for p in parts if p.start is not None]
        ends = [p.end for p in parts if p.end is not None]
        prices = [p.price for p in parts]
        price = None
        if all(p is not None for p in prices):
            price = sum(p for p in prices if p is not None) * self.multiplier
        return PriceSpan(
            max(starts) if starts else None,
            min(ends) if ends else None,
            price,
            energy.source,
            energy.price,
        )


@dataclass(frozen=True, slots=True)
class PricedEnergy:
    """Energy falling in one span and its cost (``None`` when the price is unknown)."""

    span: PriceSpan
    energy_kwh: float
    cost: float | None


def split_energy(
    start: datetime, end: datetime, energy_kwh: float, spans: Sequence[PriceSpan]
) -> list[tuple[PriceSpan, float]]:
    """Split energy delivered over ``[start, end]`` across spans in proportion to time.

    The last share takes the remainder so the shares always add up to ``energy_kwh``.
    With ``start == end`` everything goes to the first span.
    """
    total = (end - start).total_seconds()
    if total <= 0 or len(spans) <= 1:
        return [(spans[0], energy_kwh)] if spans else []
    shares: list[tuple[PriceSpan, float]] = []
    for span in spans:
        low = start if span.start is None else max(start, span.start)
        high = end if span.end is None else min(end, span.end)
        seconds = (high - low).total_seconds()
        if seconds > 0:
            shares.append((span, energy_kwh * seconds / total))
    if not shares:
        return [(spans[0], energy_kwh)]
    last_span, _ = shares[-1]
    shares[-1] = (last_span, energy_kwh - sum(share for _, share in shares[:-1]))
    return shares


def price_energy(
    tariff: Tariff, start: datetime, end: datetime, energy_kwh: float
) -> list[PricedEnergy]:
    """The energy delivered over ``[start, end]`` split and priced per span."""
    return [
        PricedEnergy(span, share, None if span.price is None else share * span.price)
        for span, share in split_energy(start, end, energy_kwh, tariff.spans(start, end))
    ]


class GuestPricingMethod(StrEnum):
    """How a guest pays."""

    FIXED = "fixed"  # a price per kWh of their own
    MARKUP = "markup"  # the household cost times a factor


@dataclass(frozen=True, slots=True)
class GuestPricing:
    """What a guest user is charged; ``value`` is the price per kWh or the factor."""

    method: GuestPricingMethod
    value: float

    def charge(self, energy_kwh: float, cost: float | None) -> float | None:
        """The amount to bill the guest (``None`` when a markup has no cost to mark up)."""
        if self.method is GuestPricingMethod.FIXED:
            return energy_kwh * self.value
        return None if cost is None else cost * self.value

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"method": self.method.value, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuestPricing:
        """Read ``{method, value}``, or the ``price_per_kwh`` / ``markup_factor`` spelling."""
        method = GuestPricingMethod(data["method"])
        key = "price_per_kwh" if method is GuestPricingMethod.FIXED else "markup_factor"
        value = parse_number(data.get("value", data.get(key)))
        if value is None or value < 0:
            raise ValueError(f"invalid guest pricing value: {data!r}")
        return cls(method, value)


def tariff_from_config(
    config: Mapping[str, Any],
    *,
    currency: str,
    timezone: tzinfo,
    spot_prices: SpotPriceList | None = None,
) -> Tariff:
    """Build a tariff from its stored configuration.

    ``mode``: ``static`` (``price_per_kwh``), ``time_of_use`` (``periods`` of
    ``{price, start "HH:MM", end "HH:MM", weekdays [0-6], name}`` and ``default_price``)
    or ``spot`` (``fallback_price`` for when neither list nor state has a price).
    Optional for every mode: ``additional_cost_per_kwh``, ``grid_fee_periods`` with
    ``grid_fee_default``, and ``multiplier`` (alias ``vat_multiplier``).
    Raises ``ValueError`` on a malformed configuration.
    """
    mode = config.get("mode")
    energy: PriceComponent
    if mode == "static":
        energy = StaticPrice(_required_number(config, "price_per_kwh"))
    elif mode == "time_of_use":
        energy = TimeOfUsePrice(
            _periods(config.get("periods")),
            _optional_number(config, "default_price"),
            timezone,
        )
    elif mode == "spot":
        energy = SpotPrice(
            spot_prices or SpotPriceList(), _optional_number(config, "fallback_price")
        )
    else:
        raise ValueError(f"unknown pricing mode: {mode!r}")
    surcharges: list[Surcharge] = []
    additional = _optional_number(config, "additional_cost_per_kwh")
    if additional:
        surcharges.append(StaticPrice(additional))
    if config.get("grid_fee_periods"):
        surcharges.append(
            TimeOfUsePrice(
                _periods(config["grid_fee_periods"]),
                _optional_number(config, "grid_fee_default") or 0.0,
                timezone,
            )
        )
    multiplier = _optional_number(config, "multiplier")
    if multiplier is None:
        multiplier = _optional_number(config, "vat_multiplier")
    return Tariff(
        energy=energy,
        currency=currency,
        surcharges=tuple(surcharges),
        multiplier=1.0 if multiplier is None else multiplier,
    )


def _holding(layer: list[PriceSpan], when: datetime) -> PriceSpan:
    return next((span for span in layer if span.contains(when)), layer[-1])


def _overlaps(span: PriceSpan, start: datetime, end: datetime) -> bool:
    if start == end:
        return span.contains(start)
    return (span.start is None or span.start < end) and (span.end is None or span.end > start)


def _required_number(config: Mapping[str, Any], key: str) -> float:
    value = _optional_number(config, key)
    if value is None:
        raise ValueError(f"{key} is required")
    return value


def _optional_number(config: Mapping[str, Any], key: str) -> float | None:
    if config.get(key) is None:
        return None
    value = parse_number(config[key])
    if value is None:
        raise ValueError(f"{key} is not a number: {config[key]!r}")
    return value


def _periods(raw: object) -> tuple[TimeOfUsePeriod, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("periods must be a list")
    return tuple(_period(item) for item in raw)


def _period(item: object) -> TimeOfUsePeriod:
    if not isinstance(item, Mapping):
        raise ValueError(f"invalid period: {item!r}")
    try:
        weekdays = frozenset(int(day) for day in item.get("weekdays", range(7)))
        start = time.fromisoformat(str(item["start"]))
        end = time.fromisoformat(str(item["end"]))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"invalid period: {item!r}") from err
    if not weekdays <= ALL_DAYS:
        raise ValueError(f"weekdays must be 0-6: {sorted(weekdays)}")
    return TimeOfUsePeriod(
        price=_required_number(item, "price"),
        start=start,
        end=end,
        weekdays=weekdays,
        name=str(item.get("name", "")),
    )
