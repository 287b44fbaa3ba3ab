"""Property-based tests: conservation across restarts, pricing invariants, round trips."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
import itertools
import json
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from custom_components.ev_charging.models import ChargerState, ChargerStatus
from custom_components.ev_charging.sessions.directory import (
    Card,
    Directory,
    UnknownReason,
    User,
    UserType,
)
from custom_components.ev_charging.sessions.energy import EnergyMeter
from custom_components.ev_charging.sessions.engine import (
    EngineConfig,
    EngineSnapshot,
    SessionEngine,
)
from custom_components.ev_charging.sessions.events import SessionCompleted
from custom_components.ev_charging.sessions.pricing import (
    GuestPricing,
    GuestPricingMethod,
    PriceSource,
    PriceSpan,
    SpotPrice,
    StaticPrice,
    Tariff,
    TimeOfUsePeriod,
    TimeOfUsePrice,
    split_energy,
)
from custom_components.ev_charging.sessions.records import (
    DataQuality,
    PriceInterval,
    SessionRecord,
)
from custom_components.ev_charging.sessions.spot_prices import SpotInterval, SpotPriceList

from . import state

BRUSSELS = ZoneInfo("Europe/Brussels")
# The spring DST change (01:00 UTC) falls inside the generated sessions.
START = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
CONFIG = EngineConfig(
    charger_id="c1",
    directory=Directory(users=(User(id="u", name="U"),), cards=(Card(user_id="u", uid="AA"),)),
    min_session_s=0,
    min_session_kwh=0,
)
SPOT = SpotPriceList(
    intervals=tuple(
        SpotInterval(
            START + timedelta(minutes=15 * i),
            START + timedelta(minutes=15 * (i + 1)),
            ((i * 37) % 11) / 10,
        )
        for i in range(96)
        if i % 17 != 5  # a few holes: the state price fills them
    ),
    state_price=0.77,
)
GRID = TimeOfUsePrice(
    (TimeOfUsePeriod(price=0.05, start=time(2, 30), end=time(7)),), 0.02, BRUSSELS
)
TARIFF = Tariff(SpotPrice(SPOT), currency="EUR", surcharges=(GRID,), multiplier=1.21)
# Flags that differ by design between a restored and an uninterrupted run.
RESTART_FLAGS = frozenset({DataQuality.RESUMED_AFTER_RESTART, DataQuality.CHARGER_UNAVAILABLE})


@dataclass(frozen=True)
class Sample:
    at: datetime
    reading: ChargerState


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[Sample], float]:
    """A plugged-in session with varying power, missing readings and unknown statuses.

    Returns the samples and the energy really delivered.
    """
    count = draw(st.integers(min_value=2, max_value=25))
    now = START + timedelta(seconds=draw(st.integers(0, 3600)))
    delivered = 0.0
    samples = [
        Sample(now, state(ChargerStatus.PLUGGED, power=0, session=0, lifetime=500.0, tag="AA"))
    ]
    power = 0.0
    for index in range(count):
        seconds = draw(st.integers(min_value=1, max_value=1800))
        now += timedelta(seconds=seconds)
        delivered += power * seconds / 3_600_000
        last = index == count - 1
        if not last and draw(st.integers(0, 9)) == 0:
            samples.append(Sample(now, state(ChargerStatus.UNKNOWN)))
            continue
        power = 0.0 if last else float(draw(st.sampled_from([0, 0, 1400, 3700, 7400, 11000])))
        session = None if not last and draw(st.integers(0, 4)) == 0 else delivered
        lifetime = None if not last and draw(st.integers(0, 4)) == 0 else 500.0 + delivered
        status = ChargerStatus.CHARGING if power else ChargerStatus.SUSPENDED_EV
        if last:
            status = ChargerStatus.AVAILABLE
        samples.append(
            Sample(now, state(status, power=power, session=session, lifetime=lifetime, tag="AA"))
        )
    return samples, delivered


def _replay(samples: list[Sample], restarts: set[int]) -> SessionRecord:
    engine = SessionEngine(CONFIG, TARIFF)
    completed = []
    for index, sample in enumerate(samples):
        step = engine.update(sample.reading, sample.at, unplugged_at=sample.at)
        completed += [e.record for e in step.events if isinstance(e, SessionCompleted)]
        if index in restarts:
            stored = json.dumps(engine.snapshot().to_dict())
            assert EngineSnapshot.from_dict(json.loads(stored)) == engine.snapshot()
            engine = SessionEngine.restore(json.loads(stored), CONFIG, TARIFF)
    assert len(completed) == 1
    return completed[0]


@settings(max_examples=60, deadline=None)
@given(data=timelines(), cuts=st.sets(st.integers(min_value=0, max_value=30), max_size=4))
def test_restarts_at_any_reading_give_the_same_record(
    data: tuple[list[Sample], float], cuts: set[int]
) -> None:
    samples, delivered = data
    whole = _replay(samples, set())
    split = _replay(samples, cuts)
    assert abs(whole.energy_kwh - delivered) <= 1e-6
    assert split.energy_kwh == whole.energy_kwh
    assert split.cost == whole.cost
    assert split.price_intervals == whole.price_intervals
    assert replace(split, flags=split.flags - RESTART_FLAGS) == replace(
        whole, flags=whole.flags - RESTART_FLAGS
    )
    assert abs(sum(i.energy_kwh for i in whole.price_intervals) - whole.energy_kwh) <= 1e-5
    assert abs(sum(i.cost or 0 for i in whole.price_intervals) - (whole.cost or 0)) <= 1e-4


@settings(max_examples=40, deadline=None)
@given(data=timelines(), price=st.floats(min_value=0, max_value=10))
def test_constant_price_cost_is_energy_times_price(
    data: tuple[list[Sample], float], price: float
) -> None:
    samples, _ = data
    engine = SessionEngine(CONFIG, Tariff(StaticPrice(price), currency="EUR"))
    records = []
    for sample in samples:
        step = engine.update(sample.reading, sample.at)
        records += [e.record for e in step.events if isinstance(e, SessionCompleted)]
    (record,) = records
    assert record.cost is not None
    assert abs(record.cost - record.energy_kwh * price) <= 1e-4
    assert record.price_source == "static"


@settings(max_examples=100, deadline=None)
@given(
    start=st.integers(0, 10_000),
    length=st.integers(0, 10_000),
    cuts=st.lists(st.integers(-2000, 12_000), max_size=8),
    kwh=st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_splitting_energy_across_intervals_preserves_the_total(
    start: int, length: int, cuts: list[int], kwh: float
) -> None:
    begin = START + timedelta(seconds=start)
    end = begin + timedelta(seconds=length)
    edges = sorted({START + timedelta(seconds=c) for c in cuts})
    bounds = [None, *edges, None]
    spans = [
        PriceSpan(low, high, 1.0, PriceSource.SPOT) for low, high in itertools.pairwise(bounds)
    ]
    shares = split_energy(begin, end, kwh, spans)
    assert abs(sum(share for _, share in shares) - kwh) <= 1e-9 * max(1.0, kwh)
    assert all(share >= -1e-9 for _, share in shares)
    if length:
        for span, share in shares:
            low = max(begin, span.start or begin)
            high = min(end, span.end or end)
            expected = kwh * (high - low).total_seconds() / length
            assert abs(share - expected) <= 1e-9 * max(1.0, kwh)


@settings(max_examples=60, deadline=None)
@given(
    deliveries=st.lists(
        st.tuples(st.floats(0, 2), st.booleans(), st.booleans()), min_size=1, max_size=30
    )
)
def test_meter_never_loses_nor_double_counts_when_counters_alternate(
    deliveries: list[tuple[float, bool, bool]],
) -> None:
    meter = EnergyMeter()
    now, delivered = START, 0.0
    meter.advance(0.0, 100.0, now, max_power_w=60_000)
    for kwh, has_session, has_lifetime in deliveries:
        now += timedelta(minutes=15)
        delivered += kwh
        if not (has_session or has_lifetime):
            has_session = True
        meter.advance(
            delivered if has_session else None,
            100.0 + delivered if has_lifetime else None,
            now,
            max_power_w=60_000,
        )
    meter.advance(delivered, 100.0 + delivered, now + timedelta(minutes=1), max_power_w=60_000)
    assert abs(meter.total_kwh - delivered) <= 1e-9


_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
_money = st.none() | st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
_text = st.none() | st.text(max_size=12)
_intervals = st.builds(
    PriceInterval,
    start=st.none() | _times,
    end=st.none() | _times,
    price=_money,
    base_price=_money,
    source=st.sampled_from(PriceSource),
    energy_kwh=st.floats(min_value=0, max_value=1e4, allow_nan=False),
    cost=_money,
)
_records = st.builds(
    SessionRecord,
    id=st.text(min_size=1, max_size=20),
    charger_id=st.text(min_size=1, max_size=10),
    user_id=_text,
    user_name=_text,
    user_type=st.sampled_from(UserType),
    vehicle_id=_text,
    vehicle_name=_text,
    card_uid=_text,
    card_index=st.none() | st.integers(0, 10_000),
    unknown_reason=st.none() | st.sampled_from(UnknownReason),
    plugged_in_at=_times,
    started_at=_times,
    ended_at=_times,
    plugged_out_at=st.none() | _times,
    charging_started_at=st.none() | _times,
    charging_ended_at=st.none() | _times,
    charging_seconds=st.floats(min_value=0, max_value=1e7, allow_nan=False),
    charging_windows=st.integers(0, 100),
    energy_kwh=st.floats(min_value=0, max_value=1e4, allow_nan=False),
    max_power_w=_money,
    cost=_money,
    currency=_text,
    price_source=_text,
    price_intervals=st.lists(_intervals, max_size=4).map(tuple),
    guest_price=_money,
    guest_pricing=st.none()
    | st.builds(
        GuestPricing,
        st.sampled_from(GuestPricingMethod),
        st.floats(min_value=0, max_value=100, allow_nan=False),
    ),
    soc_added_pct=_money,
    lifetime_start_kwh=_money,
    lifetime_end_kwh=_money,
    flags=st.frozensets(st.sampled_from(DataQuality)),
)


@settings(max_examples=100, deadline=None)
@given(record=_records)
def test_records_round_trip_through_json(record: SessionRecord) -> None:
    data = json.loads(json.dumps(record.to_dict()))
    assert SessionRecord.from_dict(data) == record


@settings(max_examples=40, deadline=None)
@given(data=timelines(), crash_after=st.integers(min_value=1, max_value=30))
def test_crash_resumes_from_the_last_persisted_snapshot(
    data: tuple[list[Sample], float], crash_after: int
) -> None:
    """Readings after the last persisted snapshot are lost; counters still carry the energy."""
    samples, delivered = data
    tariff = Tariff(StaticPrice(0.3), currency="EUR")
    engine = SessionEngine(CONFIG, tariff)
    stored: str | None = None
    records = []
    for index, sample in enumerate(samples):
        step = engine.update(sample.reading, sample.at, unplugged_at=sample.at)
        records += [e.record for e in step.events if isinstance(e, SessionCompleted)]
        if step.persist:
            stored = json.dumps(engine.snapshot().to_dict())
        if index == crash_after and stored is not None:
            engine = SessionEngine.restore(json.loads(stored), CONFIG, tariff)
    (record,) = records
    assert abs(record.energy_kwh - delivered) <= 1e-6
    assert record.cost is not None
    assert abs(record.cost - 0.3 * record.energy_kwh) <= 1e-4
