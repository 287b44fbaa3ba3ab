"""Unit tests of the session engine, its energy meter, windows, directory and records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.ev_charging.models import ChargerState, ChargerStatus
from custom_components.ev_charging.sessions.directory import (
    Attribution,
    Card,
    Directory,
    TagScheme,
    UnknownReason,
    User,
    UserType,
    Vehicle,
    normalize_tag,
)
from custom_components.ev_charging.sessions.energy import EnergyMeter, allowed_kwh
from custom_components.ev_charging.sessions.engine import (
    EngineConfig,
    EngineSnapshot,
    EngineStep,
    Phase,
    SessionEngine,
)
from custom_components.ev_charging.sessions.events import (
    DiscardReason,
    EventKind,
    SessionCancelled,
    SessionCompleted,
    SessionEvent,
    SessionStarted,
    SessionUpdated,
)
from custom_components.ev_charging.sessions.pricing import (
    GuestPricing,
    GuestPricingMethod,
    PriceSource,
    SpotPrice,
    StaticPrice,
    Tariff,
)
from custom_components.ev_charging.sessions.records import (
    DataQuality,
    PriceInterval,
    SessionRecord,
    from_iso,
    reassign_session,
    to_iso,
)
from custom_components.ev_charging.sessions.spot_prices import SpotInterval, SpotPriceList
from custom_components.ev_charging.sessions.windows import ChargingWindows

from . import T0, at, state

AVAILABLE = ChargerStatus.AVAILABLE
PLUGGED = ChargerStatus.PLUGGED
CHARGING = ChargerStatus.CHARGING

ALICE = User(id="alice", name="Alice")
GINA = User(
    id="gina",
    name="Gina",
    type=UserType.GUEST,
    guest_pricing=GuestPricing(GuestPricingMethod.FIXED, 0.5),
)
IVAN = User(id="ivan", name="Ivan", active=False)
CAR = Vehicle(id="ev", name="EV", usable_capacity_kwh=50.0, efficiency=0.9)
DIRECTORY = Directory(
    users=(ALICE, GINA, IVAN),
    vehicles=(CAR,),
    cards=(
        Card(user_id="alice", uid="04A2B3C4", vehicle_id="ev"),
        Card(user_id="gina", index=3, charger_id="c1"),
        Card(user_id="alice", index=3, charger_id="c2"),
        Card(user_id="alice", uid="DEAD", active=False),
        Card(user_id="ghost", uid="BEEF"),
        Card(user_id="ivan", uid="CAFE"),
    ),
)
SCHEME = TagScheme(index_offset=1, open_access_tags=frozenset({"0"}))
CONFIG = EngineConfig(charger_id="c1", directory=DIRECTORY, tag_scheme=SCHEME)
TARIFF = Tariff(StaticPrice(0.3), currency="EUR")

Timeline = list[tuple[float, ChargerState]]


def run(engine: SessionEngine, timeline: Timeline, **kwargs: Any) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    for seconds, reading in timeline:
        events.extend(engine.update(reading, at(seconds), **kwargs).events)
    return events


def only(events: list[SessionEvent], kind: type[SessionEvent]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def record_of(events: list[SessionEvent]) -> SessionRecord:
    done = only(events, SessionCompleted)
    assert len(done) == 1
    record: SessionRecord = done[0].record
    return record


def engine(config: EngineConfig = CONFIG, tariff: Tariff | None = TARIFF) -> SessionEngine:
    return SessionEngine(config, tariff)


def charge(kwh_per_step: float = 1.0, steps: int = 3, tag: str | None = "04A2B3C4") -> Timeline:
    """Plug in, tap, charge ``steps`` x 15 min at 4 kW-ish, unplug."""
    timeline: Timeline = [
        (0, state(PLUGGED, power=0, session=0, lifetime=100)),
        (10, state(PLUGGED, power=0, session=0, lifetime=100, tag=tag)),
        (20, state(CHARGING, power=4000, session=0, lifetime=100, tag=tag)),
    ]
    for step in range(1, steps + 1):
        kwh = kwh_per_step * step
        timeline.append(
            (20 + 900 * step, state(CHARGING, power=4000, session=kwh, lifetime=100 + kwh, tag=tag))
        )
    total = kwh_per_step * steps
    end = 20 + 900 * steps
    timeline.append(
        (end + 30, state(PLUGGED, power=0, session=total, lifetime=100 + total, tag=tag))
    )
    timeline.append((end + 600, state(AVAILABLE, power=0, session=total, lifetime=100 + total)))
    return timeline


# --- status transitions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        (ChargerStatus.AVAILABLE, Phase.IDLE),
        (ChargerStatus.PLUGGED, Phase.WAITING),
        (ChargerStatus.SUSPENDED_EV, Phase.WAITING),
        (ChargerStatus.SUSPENDED_EVSE, Phase.WAITING),
        (ChargerStatus.FINISHING, Phase.WAITING),
        (ChargerStatus.CHARGING, Phase.ACTIVE),  # energy flowing without a card starts it
        (ChargerStatus.OFFLINE, Phase.IDLE),
        (ChargerStatus.UNKNOWN, Phase.IDLE),
        (ChargerStatus.FAULTED, Phase.IDLE),
    ],
)
def test_first_reading_from_idle(status: ChargerStatus, phase: Phase) -> None:
    eng = engine()
    step = eng.update(state(status), at(0))
    assert eng.phase is phase
    assert step.persist is (phase is not Phase.IDLE)


@pytest.mark.parametrize(
    "status", [ChargerStatus.OFFLINE, ChargerStatus.UNKNOWN, ChargerStatus.FAULTED]
)
def test_unknown_plug_state_holds_the_session(status: ChargerStatus) -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(PLUGGED, session=0, tag="04A2B3C4")),
            (60, state(CHARGING, power=7000, session=0.1)),
            (120, state(status)),
            (3600, state(status)),
            (3700, state(CHARGING, power=7000, session=7.0)),
            (3800, state(AVAILABLE, session=7.2)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == 7.2
    assert record.plugged_out_at == at(3800)
    assert record.charging_seconds == 3800 - 60  # held open through the gap
    assert DataQuality.CHARGER_UNAVAILABLE in record.flags


def test_waiting_then_unplug_leaves_no_trace() -> None:
    eng = engine()
    events = run(eng, [(0, state(PLUGGED, session=0)), (30, state(AVAILABLE, session=0))])
    assert events == []
    assert eng.phase is Phase.IDLE
    assert eng.snapshot().session is None


def test_older_reading_is_ignored() -> None:
    eng = engine()
    eng.update(state(PLUGGED, session=0, tag="04A2B3C4"), at(100))
    step = eng.update(state(AVAILABLE), at(50))
    assert step.events == ()
    assert eng.phase is Phase.ACTIVE


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        engine().update(state(PLUGGED), datetime(2026, 3, 10, 10, 0))
    with pytest.raises(ValueError, match="aware"):
        engine().close_session(datetime(2026, 3, 10, 10, 0))


def test_full_session_records_everything() -> None:
    eng = engine()
    events = run(eng, charge())
    assert [e.kind for e in events if not isinstance(e, SessionUpdated)] == [
        EventKind.STARTED,
        EventKind.COMPLETED,
    ]
    record = record_of(events)
    assert record.id == "c1-20260310T100000Z"
    assert record.user_id == "alice"
    assert record.vehicle_id == "ev"
    assert record.card_uid == "04A2B3C4"
    assert record.plugged_in_at == at(0)
    assert record.started_at == at(10)
    assert record.charging_started_at == at(20)
    assert record.charging_ended_at == at(20 + 2700 + 30)
    assert record.charging_seconds == 2730
    assert record.ended_at == record.plugged_out_at == at(20 + 2700 + 600)
    assert record.energy_kwh == 3.0
    assert record.cost == pytest.approx(0.9)
    assert record.currency == "EUR"
    assert record.price_source == "static"
    assert record.max_power_w == 4000
    assert record.soc_added_pct == 5.4  # 3 * 0.9 / 50
    assert record.lifetime_start_kwh == 100
    assert record.lifetime_end_kwh == 103
    assert record.flags == frozenset()
    assert eng.phase is Phase.IDLE


def test_session_id_keeps_sub_second_plug_in() -> None:
    eng = engine()
    run(eng, [(0.25, state(CHARGING, power=5000, session=0))])
    snapshot = eng.snapshot()
    assert snapshot.session is not None
    assert snapshot.session.id == "c1-20260310T100000.250000Z"


# --- starting a session ---------------------------------------------------------------


def test_card_tapped_before_plug_in_starts_at_plug_in() -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(AVAILABLE, tag="04:a2:b3:c4")),
            (100, state(PLUGGED, session=0, tag="04:a2:b3:c4")),
        ],
    )
    started = only(events, SessionStarted)
    assert len(started) == 1
    assert started[0].at == at(100)
    assert started[0].session.user_id == "alice"


def test_card_tapped_long_before_plug_in_is_stale() -> None:
    eng = engine()
    events = run(
        eng,
        [(0, state(AVAILABLE, tag="04A2B3C4")), (301, state(PLUGGED, session=0, tag="04A2B3C4"))],
    )
    assert events == []
    assert eng.phase is Phase.WAITING


def test_leftover_tag_from_last_session_is_not_a_new_tap() -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(PLUGGED, session=0, tag="04A2B3C4")),
            (100, state(CHARGING, power=4000, session=0, tag="04A2B3C4")),
            (1000, state(AVAILABLE, session=1.0, tag="04A2B3C4")),
            (1100, state(PLUGGED, session=1.0, tag="04A2B3C4")),
        ],
    )
    assert len(only(events, SessionStarted)) == 1
    assert eng.phase is Phase.WAITING


def test_same_tag_on_a_new_transaction_is_a_new_tap() -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(PLUGGED, session=0, tag="04A2B3C4", transaction="17")),
            (100, state(CHARGING, power=4000, session=0, tag="04A2B3C4", transaction="17")),
            (1000, state(AVAILABLE, session=1.0, tag="04A2B3C4", transaction="0")),
            (1100, state(PLUGGED, session=0, tag="04A2B3C4", transaction="0")),
            (1110, state(PLUGGED, session=0, tag="04A2B3C4", transaction="18")),
        ],
    )
    started = only(events, SessionStarted)
    assert [e.at for e in started] == [at(0), at(1110)]


def test_power_without_card_starts_unknown_session() -> None:
    eng = engine()
    events = run(
        eng, [(0, state(PLUGGED, session=0)), (30, state(CHARGING, power=3000, session=0))]
    )
    started = only(events, SessionStarted)
    assert started[0].at == at(30)
    assert started[0].session.unknown_reason is UnknownReason.NO_CARD
    assert started[0].session.user_type is UserType.UNKNOWN


def test_power_below_threshold_is_not_charging() -> None:
    eng = engine()
    run(eng, [(0, state(PLUGGED, session=0)), (30, state(CHARGING, power=40, session=0))])
    assert eng.phase is Phase.WAITING


def test_status_decides_charging_when_power_is_unknown() -> None:
    eng = engine()
    run(eng, [(0, state(PLUGGED, session=0)), (30, state(CHARGING, session=0))])
    assert eng.phase is Phase.ACTIVE


def test_energy_without_power_starts_session() -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(PLUGGED, session=0)),
            (60, state(PLUGGED, session=0.005)),
            (120, state(PLUGGED, session=0.02)),
        ],
    )
    started = only(events, SessionStarted)
    assert [e.at for e in started] == [at(120)]
    assert started[0].session.energy_kwh == 0.02  # energy since plug-in belongs to it


def test_late_card_attributes_a_session_started_by_energy() -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(PLUGGED, session=0)),
            (30, state(CHARGING, power=3000, session=0)),
            (90, state(CHARGING, power=3000, session=0.05, tag="04A2B3C4")),
            (900, state(AVAILABLE, session=0.7, tag="04A2B3C4")),
        ],
    )
    record = record_of(events)
    assert record.user_id == "alice"
    assert record.unknown_reason is None
    assert record.started_at == at(30)


def test_card_change_mid_session_is_ignored() -> None:
    eng = engine()
    events = run(
        eng,
        [
            (0, state(PLUGGED, session=0, tag="04A2B3C4")),
            (30, state(CHARGING, power=3000, session=0, tag="4")),
            (900, state(AVAILABLE, session=0.7)),
        ],
    )
    assert record_of(events).user_id == "alice"


@pytest.mark.parametrize(
    ("tag", "user_id", "reason", "uid", "index"),
    [
        ("04A2B3C4", "alice", None, "04A2B3C4", None),
        ("ISO14443:04-a2-b3-c4", "alice", None, "04A2B3C4", None),
        ("4", "gina", None, None, 3),
        ("0", None, UnknownReason.OPEN_ACCESS, None, None),
        ("ABCDEF12", None, UnknownReason.UNKNOWN_CARD, "ABCDEF12", None),
        ("9", None, UnknownReason.UNKNOWN_CARD, None, 8),
        ("DEAD", None, UnknownReason.CARD_INACTIVE, "DEAD", None),
        ("BEEF", None, UnknownReason.USER_MISSING, "BEEF", None),
        ("CAFE", None, UnknownReason.USER_INACTIVE, "CAFE", None),
    ],
)
def test_card_resolution_reaches_the_record(
    tag: str,
    user_id: str | None,
    reason: UnknownReason | None,
    uid: str | None,
    index: int | None,
) -> None:
    events = run(
        engine(),
        [
            (0, state(PLUGGED, session=0, tag=tag)),
            (30, state(CHARGING, power=3000, session=0, tag=tag)),
            (900, state(AVAILABLE, session=0.7)),
        ],
    )
    record = record_of(events)
    assert record.user_id == user_id
    assert record.unknown_reason is reason
    assert record.card_uid == uid
    assert record.card_index == index
    started = only(events, SessionStarted)[0]
    assert started.session.unknown_reason is reason
    assert started.as_dict()["unknown_reason"] == (reason.value if reason else None)


def test_guest_session_bills_guest_price() -> None:
    events = run(engine(), charge(tag="4"))
    record = record_of(events)
    assert record.user_type is UserType.GUEST
    assert record.cost == pytest.approx(0.9)
    assert record.guest_price == 1.5
    assert record.guest_pricing == GuestPricing(GuestPricingMethod.FIXED, 0.5)


# --- micro sessions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "kwh", "reasons"),
    [
        (59, 0.05, (DiscardReason.DURATION_BELOW_MIN,)),
        (60, 0.049, (DiscardReason.ENERGY_BELOW_MIN,)),
        (59.999, 0.0499, (DiscardReason.DURATION_BELOW_MIN, DiscardReason.ENERGY_BELOW_MIN)),
        (60, 0.05, ()),
        (3600, 10.0, ()),
    ],
)
def test_micro_session_thresholds(
    seconds: float, kwh: float, reasons: tuple[DiscardReason, ...]
) -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3000, session=0, tag="04A2B3C4")),
            (seconds, state(AVAILABLE, session=kwh)),
        ],
    )
    assert len(only(events, SessionStarted)) == 1
    cancelled = only(events, SessionCancelled)
    if reasons:
        assert not only(events, SessionCompleted)
        assert cancelled[0].reasons == reasons
        assert cancelled[0].as_dict()["reasons"] == [r.value for r in reasons]
        assert cancelled[0].session.session_id == "c1-20260310T100000Z"
    else:
        assert not cancelled
        assert record_of(events).energy_kwh == kwh


def test_micro_thresholds_are_configurable() -> None:
    config = replace(CONFIG, min_session_s=0, min_session_kwh=0)
    events = run(
        engine(config),
        [(0, state(PLUGGED, session=0, tag="04A2B3C4")), (5, state(AVAILABLE, session=0))],
    )
    assert record_of(events).energy_kwh == 0


# --- energy ---------------------------------------------------------------------------


def test_session_counter_reset_mid_session_keeps_energy() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=0.9)),
            (1800, state(CHARGING, power=3600, session=0.3)),  # charger restarted its count
            (2700, state(AVAILABLE, session=1.2)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(0.9 + 0.3 + 0.9)
    assert DataQuality.COUNTER_RESET in record.flags


def test_session_counter_reset_resolved_by_lifetime_counter() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, lifetime=50, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=0.9, lifetime=50.9)),
            (1800, state(CHARGING, power=3600, session=0.2, lifetime=51.8)),
            (2700, state(AVAILABLE, session=1.1, lifetime=52.7)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(2.7)
    assert DataQuality.COUNTER_RESET in record.flags
    assert DataQuality.ENERGY_FROM_LIFETIME_COUNTER in record.flags


def test_stale_session_counter_at_plug_in_is_not_a_reset() -> None:
    events = run(
        engine(),
        [
            (0, state(PLUGGED, session=5.2)),
            (5, state(PLUGGED, session=0.0)),
            (20, state(CHARGING, power=3600, session=0.0, tag="04A2B3C4")),
            (920, state(AVAILABLE, session=0.9)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == 0.9
    assert record.flags == frozenset()


def test_small_counter_jitter_is_ignored() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=0.9)),
            (960, state(CHARGING, power=3600, session=0.895)),
            (1800, state(AVAILABLE, session=1.8)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == 1.8
    assert DataQuality.COUNTER_RESET not in record.flags


def test_lifetime_counter_only() -> None:
    events = run(
        engine(),
        [
            (0, state(PLUGGED, lifetime=12_345.0, tag="04A2B3C4")),
            (60, state(CHARGING, power=7000, lifetime=12_345.0)),
            (3660, state(AVAILABLE, lifetime=12_352.0)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(7.0)
    assert DataQuality.ENERGY_FROM_LIFETIME_COUNTER in record.flags


def test_lifetime_counter_drop_is_never_billed() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=7000, lifetime=12_345.0, tag="04A2B3C4")),
            (900, state(CHARGING, power=7000, lifetime=12_346.0)),
            (1800, state(CHARGING, power=7000, lifetime=3.0)),  # meter replaced / reset
            (2700, state(AVAILABLE, lifetime=4.0)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(2.0)
    assert DataQuality.COUNTER_RESET in record.flags


def test_counter_missing_at_plug_in_starts_its_reference_later() -> None:
    events = run(
        engine(),
        [
            (0, state(PLUGGED, tag="04A2B3C4")),
            (30, state(CHARGING, power=7000)),
            (60, state(CHARGING, power=7000, lifetime=12_345.0)),
            (960, state(AVAILABLE, lifetime=12_346.75)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(1.75)
    assert DataQuality.ENERGY_GAP in record.flags  # charging began before the counter was read


def test_lifetime_bridges_missing_session_counter_without_double_counting() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, lifetime=10, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=None, lifetime=10.9)),
            (1800, state(CHARGING, power=3600, session=1.8, lifetime=11.8)),
            (2700, state(AVAILABLE, session=2.7, lifetime=None)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(2.7)


def test_switching_counters_without_overlap_is_a_gap() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=0.9)),
            (1800, state(CHARGING, power=3600, lifetime=500.0)),
            (2700, state(AVAILABLE, lifetime=500.9)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(1.8)
    assert DataQuality.ENERGY_GAP in record.flags


def test_implausible_jump_is_ignored() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (60, state(CHARGING, power=3600, session=0.06)),
            (120, state(CHARGING, power=3600, session=500.0)),  # glitch
            (180, state(AVAILABLE, session=500.06)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(0.12)
    assert DataQuality.IMPLAUSIBLE_ENERGY_STEP in record.flags


def test_session_counter_in_wh_is_corrected_by_lifetime_counter() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, lifetime=10.0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=900, lifetime=10.9)),
            (1800, state(AVAILABLE, session=1800, lifetime=11.8)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(1.8)
    assert DataQuality.ENERGY_UNIT_CORRECTED in record.flags


def test_counter_in_wh_is_corrected_by_power() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=900)),
            (1800, state(AVAILABLE, session=1800)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(1.8)
    assert DataQuality.ENERGY_UNIT_CORRECTED in record.flags


def test_counter_jump_without_witness_is_not_guessed_as_wh() -> None:
    events = run(
        engine(replace(CONFIG, min_session_kwh=0)),
        [
            (0, state(PLUGGED, session=0, tag="04A2B3C4")),
            (900, state(PLUGGED, session=900)),
            (1800, state(AVAILABLE, session=900)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == 0
    assert DataQuality.IMPLAUSIBLE_ENERGY_STEP in record.flags
    assert DataQuality.ENERGY_UNIT_CORRECTED not in record.flags


def test_reset_of_session_counter_with_implausible_restart_value() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=0.9)),
            (901, state(CHARGING, power=3600, session=0.5)),  # 0.5 kWh in 1 s: impossible
            (1800, state(AVAILABLE, session=1.4)),
        ],
    )
    record = record_of(events)
    assert record.energy_kwh == pytest.approx(1.8)
    assert {DataQuality.COUNTER_RESET, DataQuality.IMPLAUSIBLE_ENERGY_STEP} <= record.flags


def test_meter_allowed_energy_and_lifetime_span() -> None:
    assert allowed_kwh(3600, 3600) == pytest.approx(3.6 + 0.05)
    assert allowed_kwh(3600, -5) == pytest.approx(0.05)
    assert EnergyMeter().lifetime_span == (None, None)
    meter = EnergyMeter()
    assert meter.advance(None, None, T0, max_power_w=1000).energy_kwh == 0
    meter.advance(None, 7.0, T0, max_power_w=1000)
    meter.advance(None, 8.0, at(3600), max_power_w=1000)
    assert meter.lifetime_span == (7.0, 8.0)
    assert EnergyMeter.from_dict(json.loads(json.dumps(meter.to_dict()))) == meter


# --- charging windows -----------------------------------------------------------------


def test_charging_time_excludes_pauses_and_counts_windows() -> None:
    events = run(
        engine(),
        [
            (0, state(PLUGGED, session=0, tag="04A2B3C4")),
            (60, state(CHARGING, power=7000, session=0)),
            (120, state(CHARGING, power=7000, session=0.1)),
            (180, state(ChargerStatus.SUSPENDED_EV, power=0, session=0.2)),
            (600, state(ChargerStatus.SUSPENDED_EV, power=0, session=0.2)),
            (660, state(CHARGING, power=7000, session=0.2)),
            (720, state(CHARGING, power=7000, session=0.3)),
            (780, state(PLUGGED, power=0, session=0.4)),
            (5000, state(AVAILABLE, power=0, session=0.4)),
        ],
    )
    record = record_of(events)
    assert record.charging_windows == 2
    assert record.charging_seconds == 120 + 120
    assert record.charging_started_at == at(60)
    assert record.charging_ended_at == at(780)
    assert record.average_power_w == 6000.0


def test_sparse_readings_estimate_the_charging_stop() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=7200, session=0, tag="04A2B3C4")),
            (3600, state(CHARGING, power=7200, session=7.2)),
            (7200, state(PLUGGED, power=0, session=8.4)),  # 1.2 kWh: stopped after 600 s
            (9000, state(AVAILABLE, power=0, session=8.4)),
        ],
    )
    record = record_of(events)
    assert record.charging_ended_at == at(3600 + 600)
    assert record.charging_seconds == 4200
    assert DataQuality.CHARGING_TIME_ESTIMATED in record.flags


def test_dense_readings_stop_at_the_reading() -> None:
    events = run(
        engine(),
        [
            (0, state(CHARGING, power=7200, session=0, tag="04A2B3C4")),
            (120, state(CHARGING, power=7200, session=0.24)),
            (240, state(PLUGGED, power=0, session=0.25)),
            (300, state(AVAILABLE, power=0, session=0.25)),
        ],
    )
    record = record_of(events)
    assert record.charging_ended_at == at(240)
    assert DataQuality.CHARGING_TIME_ESTIMATED not in record.flags


def test_windows_aggregate() -> None:
    windows = ChargingWindows()
    assert windows.seconds(T0) == 0
    windows.close(T0)  # nothing open: no-op
    windows.open(T0)
    windows.open(at(5))  # already open: no-op
    assert windows.seconds(at(10)) == 10
    windows.close(at(-5))  # never before it opened
    assert windows.closed_seconds == 0
    assert windows.count == 1
    restored = ChargingWindows.from_dict(json.loads(json.dumps(windows.to_dict())))
    assert restored == windows


# --- events and persistence -----------------------------------------------------------


def test_updates_are_rate_limited_to_once_a_minute() -> None:
    eng = engine()
    timeline: Timeline = [(0, state(CHARGING, power=3600, session=0, tag="04A2B3C4"))]
    timeline += [(t, state(CHARGING, power=3600, session=t / 1000)) for t in range(10, 301, 10)]
    events = run(eng, timeline)
    updates = only(events, SessionUpdated)
    assert [e.at for e in updates] == [at(60), at(120), at(180), at(240), at(300)]
    assert updates[-1].session.energy_kwh == 0.3
    assert updates[-1].session.cost == pytest.approx(0.09)


def test_no_update_when_nothing_changed() -> None:
    eng = engine()
    timeline: Timeline = [(0, state(PLUGGED, power=0, session=0, tag="04A2B3C4"))]
    timeline += [(t, state(PLUGGED, power=0, session=0)) for t in range(60, 601, 60)]
    assert only(run(eng, timeline), SessionUpdated) == []


def test_persist_only_on_transitions_and_updates() -> None:
    eng = engine()
    hints = []
    for seconds, reading in [
        (0, state(PLUGGED, session=0)),  # plug-in
        (1, state(PLUGGED, session=0)),  # nothing new
        (2, state(PLUGGED, session=0, tag="04A2B3C4")),  # card -> session
        (3, state(CHARGING, power=3600, session=0)),  # window opens
        (13, state(CHARGING, power=3600, session=0.01)),  # energy only
        (23, state(CHARGING, power=3600, session=0.02)),  # energy only
        (63, state(CHARGING, power=3600, session=0.06)),  # update event
        (70, state(PLUGGED, power=0, session=0.06)),  # window closes
        (80, state(AVAILABLE, session=0.06)),  # completed
        (90, state(AVAILABLE, session=0.06)),  # nothing
    ]:
        hints.append(eng.update(reading, at(seconds)).persist)
    assert hints == [True, False, True, True, False, False, True, True, True, False]


def test_event_payload_as_dict() -> None:
    events = run(engine(), charge(tag="4"))
    completed = only(events, SessionCompleted)[0]
    payload = completed.as_dict()
    assert payload["type"] == "session_completed"
    assert payload["at"] == to_iso(at(20 + 2700 + 600))
    assert payload["user_name"] == "Gina"
    assert payload["user_type"] == "guest"
    assert payload["card_index"] == 3
    assert payload["energy_kwh"] == 3.0
    assert payload["guest_price"] == 1.5
    assert payload["currency"] == "EUR"
    assert payload["price_source"] == "static"
    assert payload["duration_s"] == 20 + 2700 + 600
    assert payload["charging_s"] == 2730
    assert payload["charging"] is False
    assert payload["flags"] == []
    json.dumps(payload)


def test_progress_while_charging() -> None:
    eng = engine()
    assert eng.progress(at(0)) is None
    run(
        eng,
        [
            (0, state(PLUGGED, session=0)),
            (10, state(CHARGING, power=11000, session=0, tag="04A2B3C4")),
            (370, state(CHARGING, power=11000, session=1.1)),
        ],
    )
    progress = eng.progress(at(400))
    assert progress is not None
    assert progress.user_name == "Alice"
    assert progress.duration_s == 400
    assert progress.charging_s == 390
    assert progress.charging is True
    assert progress.power_w == 11000
    assert progress.energy_kwh == 1.1
    assert progress.soc_added_pct == 2.0


def test_no_tariff_means_no_cost() -> None:
    events = run(engine(tariff=None), charge())
    record = record_of(events)
    assert record.cost is None
    assert record.currency is None
    assert record.price_source is None
    assert record.price_intervals == ()


def test_tariff_set_mid_session_flags_unpriced_energy() -> None:
    eng = engine(tariff=None)
    timeline = charge()
    run(eng, timeline[:4])
    eng.tariff = TARIFF
    assert eng.tariff is TARIFF
    record = record_of(run(eng, timeline[4:]))
    assert record.cost == pytest.approx(0.6)
    assert DataQuality.PRICE_UNAVAILABLE in record.flags


def test_tariff_change_mid_session_is_mixed_source() -> None:
    eng = engine()
    timeline = charge()
    run(eng, timeline[:4])
    spot = SpotPriceList(
        intervals=(SpotInterval(T0, at(86_400), 0.1),),
    )
    eng.tariff = Tariff(SpotPrice(spot), currency="EUR")
    record = record_of(run(eng, timeline[4:]))
    assert record.price_source == "mixed"
    assert record.cost == pytest.approx(0.3 + 0.1 + 0.1)
    assert {i.source for i in record.price_intervals} == {PriceSource.STATIC, PriceSource.SPOT}


def test_spot_without_any_price_flags_the_energy() -> None:
    tariff = Tariff(SpotPrice(SpotPriceList()), currency="EUR")
    record = record_of(run(engine(tariff=tariff), charge()))
    assert record.cost is None
    assert record.price_source == "fallback"
    assert DataQuality.PRICE_UNAVAILABLE in record.flags
    assert record.price_intervals[0].cost is None
    assert record.price_intervals[0].energy_kwh == 3.0


# --- closing a stuck session ----------------------------------------------------------


def test_close_stuck_session() -> None:
    eng = engine()
    run(
        eng,
        [
            (0, state(CHARGING, power=3600, session=0, tag="04A2B3C4")),
            (900, state(CHARGING, power=3600, session=0.9)),
        ],
    )
    step = eng.close_session(at(5000))
    assert step.persist
    record = record_of(list(step.events))
    assert record.ended_at == at(5000)
    assert record.plugged_out_at is None
    assert record.charging_seconds == 900  # up to the last reading, not to the close
    assert DataQuality.CLOSED_BY_USER in record.flags
    assert eng.phase is Phase.CLOSED
    # the charger still says "charging": no new session until the car has left
    assert run(eng, [(5100, state(CHARGING, power=3600, session=1.0))]) == []
    assert eng.phase is Phase.CLOSED
    run(eng, [(5200, state(AVAILABLE, session=1.0))])
    assert eng.snapshot().phase is Phase.IDLE
    events = run(eng, [(5300, state(CHARGING, power=3600, session=0))])
    assert len(only(events, SessionStarted)) == 1


def test_close_while_waiting_or_idle() -> None:
    eng = engine()
    assert eng.close_session(at(0)) == EngineStep()
    run(eng, [(0, state(PLUGGED, session=0))])
    step = eng.close_session(at(10))
    assert step.events == ()
    assert step.persist
    assert eng.phase is Phase.CLOSED


# --- snapshot and restore -------------------------------------------------------------


def test_snapshot_round_trip_and_restore_checks() -> None:
    eng = engine()
    run(eng, charge()[:4])
    snapshot = eng.snapshot()
    data = json.loads(json.dumps(snapshot.to_dict()))
    assert EngineSnapshot.from_dict(data) == snapshot
    assert data["phase"] == "active"
    with pytest.raises(ValueError, match="not c2"):
        SessionEngine.restore(data, replace(CONFIG, charger_id="c2"))
    with pytest.raises(ValueError, match="version"):
        SessionEngine.restore({**data, "version": 99}, CONFIG)
    broken = {**data, "session": {**data["session"], "plugged_in_at": None}}
    with pytest.raises(ValueError, match="plug-in"):
        SessionEngine.restore(broken, CONFIG)
    restored = SessionEngine.restore(snapshot, CONFIG, TARIFF)
    assert restored.phase is Phase.ACTIVE
    assert restored.config is CONFIG
    restored_session = restored.snapshot().session
    assert restored_session is not None
    assert DataQuality.RESUMED_AFTER_RESTART in restored_session.flags


def test_restore_idle_snapshot_has_nothing_to_resume() -> None:
    eng = engine()
    run(eng, [(0, state(AVAILABLE))])
    restored = SessionEngine.restore(eng.snapshot().to_dict(), CONFIG, TARIFF)
    assert restored.phase is Phase.IDLE
    assert restored.snapshot().awaiting_first_reading is False


def test_resumed_session_continues_after_restart() -> None:
    eng = engine()
    timeline = charge()
    run(eng, timeline[:4])
    restored = SessionEngine.restore(eng.snapshot().to_dict(), CONFIG, TARIFF)
    record = record_of(run(restored, timeline[4:]))
    assert record.energy_kwh == 3.0
    assert record.charging_windows == 1
    assert DataQuality.RESUMED_AFTER_RESTART in record.flags
    assert DataQuality.UNPLUG_TIME_ESTIMATED not in record.flags


def test_unknown_readings_while_booting_are_not_a_charger_outage() -> None:
    eng = engine()
    timeline = charge()
    run(eng, timeline[:4])
    restored = SessionEngine.restore(eng.snapshot().to_dict(), CONFIG, TARIFF)
    run(restored, [(1000, state(ChargerStatus.UNKNOWN))])
    record = record_of(run(restored, timeline[4:]))
    assert DataQuality.CHARGER_UNAVAILABLE not in record.flags


def test_unplug_hint_is_clamped_to_what_was_observed() -> None:
    eng = engine()
    run(eng, [(0, state(PLUGGED, session=0, tag="04A2B3C4")), (100, state(PLUGGED, session=0))])
    events = run(eng, [(200, state(AVAILABLE, session=0.1))], unplugged_at=at(50))
    assert record_of(events).plugged_out_at == at(100)
    eng2 = engine()
    run(eng2, [(0, state(PLUGGED, session=0, tag="04A2B3C4"))])
    events = run(eng2, [(200, state(AVAILABLE, session=0.1))], unplugged_at=at(900))
    assert record_of(events).plugged_out_at == at(200)


def test_config_can_change_but_not_its_charger() -> None:
    eng = engine()
    new = replace(CONFIG, min_session_s=10)
    eng.config = new
    assert eng.config is new
    with pytest.raises(ValueError, match="charger"):
        eng.config = replace(CONFIG, charger_id="c2")


# --- directory ------------------------------------------------------------------------


def test_normalize_tag() -> None:
    assert normalize_tag(None) is None
    assert normalize_tag("  ") is None
    assert normalize_tag("iso14443:04:a2:b3") == "04A2B3"
    assert normalize_tag("NoAuthorization:") is None
    assert normalize_tag("some:thing") == "SOMETHING"
    assert normalize_tag(12) == "12"
    assert normalize_tag("n_a") is None
    assert normalize_tag("null") is None
    assert Card(user_id="u", uid="aa:bb").uid == "AABB"


def test_index_cards_are_bound_to_their_charger() -> None:
    on_c1 = DIRECTORY.resolve("4", charger_id="c1", scheme=SCHEME)
    on_c2 = DIRECTORY.resolve("4", charger_id="c2", scheme=SCHEME)
    on_uid_charger = DIRECTORY.resolve("4", charger_id="c1", scheme=TagScheme())
    assert on_c1.user_id == "gina"
    assert on_c2.user_id == "alice"
    assert on_uid_charger.unknown_reason is UnknownReason.UNKNOWN_CARD
    assert on_uid_charger.card_uid == "4"


def test_negative_index_is_open_access() -> None:
    result = DIRECTORY.resolve("0", charger_id="c1", scheme=TagScheme(index_offset=1))
    assert result.unknown_reason is UnknownReason.OPEN_ACCESS
    assert not result.has_card
    assert DIRECTORY.resolve(None, charger_id="c1", scheme=SCHEME).unknown_reason is (
        UnknownReason.NO_CARD
    )


def test_directory_from_dict() -> None:
    directory = Directory.from_dict(
        {
            "users": [
                {"id": "u1", "name": "Una", "type": "regular"},
                {
                    "id": "g1",
                    "type": "guest",
                    "guest_pricing": {"method": "markup", "markup_factor": 1.2},
                },
            ],
            "vehicles": [{"id": "v1", "name": "Van", "battery_capacity_kwh": 40}],
            "cards": [
                {"uid": "aa:bb", "user_id": "u1", "vehicle_id": "v1"},
                {"index": "2", "user_id": "g1", "charger_id": "c1", "active": False},
            ],
        }
    )
    assert directory.user("u1") == User(id="u1", name="Una")
    guest = directory.user("g1")
    assert guest is not None
    assert guest.name == "g1"
    assert guest.guest_pricing == GuestPricing(GuestPricingMethod.MARKUP, 1.2)
    assert directory.vehicle("v1") == Vehicle(id="v1", name="Van", usable_capacity_kwh=40.0)
    assert directory.vehicle(None) is None
    assert directory.cards[0].uid == "AABB"
    assert directory.cards[1].index == 2
    assert directory.resolve("AABB", charger_id="c1", scheme=SCHEME).vehicle == Vehicle(
        id="v1", name="Van", usable_capacity_kwh=40.0
    )
    assert Directory.from_dict({}) == Directory()


@pytest.mark.parametrize(
    "data",
    [
        {"users": "nope"},
        {"users": [{"id": "u", "type": "unknown"}]},
        {"users": [{"id": "u", "type": "robot"}]},
        {"cards": [{"user_id": "u"}]},
        {"vehicles": [{"id": "v", "charging_efficiency": 1.5}]},
        {"users": [{"id": "g", "type": "guest", "guest_pricing": {"method": "fixed"}}]},
        {"users": [{"id": "g", "type": "guest", "guest_pricing": {"method": "free"}}]},
    ],
)
def test_directory_from_dict_rejects(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Directory.from_dict(data)


def test_vehicle_soc_estimate() -> None:
    assert Vehicle(id="v", name="V").soc_added(10) is None
    assert Vehicle(id="v", name="V", usable_capacity_kwh=0).soc_added(10) is None
    assert Vehicle(id="v", name="V", usable_capacity_kwh=64, efficiency=0.92).soc_added(20.4) == (
        29.3
    )
    assert Vehicle.from_dict({"id": "v"}) == Vehicle(id="v", name="v")


def test_attribution_round_trip() -> None:
    attribution = Attribution.for_user(GINA, CAR, card_uid="AA", card_index=2)
    assert attribution.guest_pricing == GINA.guest_pricing
    assert Attribution.from_dict(json.loads(json.dumps(attribution.to_dict()))) == attribution
    assert Attribution.for_user(ALICE).guest_pricing is None
    unknown = Attribution(unknown_reason=UnknownReason.UNKNOWN_CARD, card_uid="X")
    assert Attribution.from_dict(unknown.to_dict()) == unknown
    assert unknown.has_card


# --- records --------------------------------------------------------------------------


def _record(**changes: Any) -> SessionRecord:
    base = SessionRecord(
        id="c1-1",
        charger_id="c1",
        plugged_in_at=T0,
        started_at=at(10),
        ended_at=at(3600),
        plugged_out_at=at(3600),
        charging_seconds=1800,
        energy_kwh=5.0,
        cost=1.5,
        currency="EUR",
        unknown_reason=UnknownReason.NO_CARD,
    )
    return replace(base, **changes)


def test_record_round_trip_and_derived_values() -> None:
    record = _record(
        price_intervals=(
            PriceInterval(
                start=T0,
                end=at(900),
                price=0.3,
                base_price=0.1,
                source=PriceSource.SPOT,
                energy_kwh=5.0,
                cost=1.5,
            ),
        ),
        guest_pricing=GuestPricing(GuestPricingMethod.FIXED, 0.4),
        flags=frozenset({DataQuality.COUNTER_RESET}),
    )
    data = json.loads(json.dumps(record.to_dict()))
    assert data["connection_seconds"] == 3600
    assert data["average_power_w"] == 10000.0
    assert SessionRecord.from_dict(data) == record
    assert _record(charging_seconds=0).average_power_w is None
    data["flags"] = ["counter_reset", "from_a_future_version"]
    assert SessionRecord.from_dict(data).flags == {DataQuality.COUNTER_RESET}


def test_iso_helpers() -> None:
    assert to_iso(None) is None
    assert from_iso(None) is None
    assert from_iso("2026-03-10T10:00:00") == T0
    assert from_iso("2026-03-10T11:00:00+01:00") == T0
    assert to_iso(T0) == "2026-03-10T10:00:00+00:00"
    with pytest.raises(ValueError, match="required"):
        SessionRecord.from_dict({**_record().to_dict(), "ended_at": None})


def test_reassign_unknown_session_to_guest_with_vehicle() -> None:
    record = reassign_session(_record(), GINA, CAR)
    assert record.user_id == "gina"
    assert record.user_type is UserType.GUEST
    assert record.unknown_reason is None
    assert record.guest_price == 2.5
    assert record.vehicle_id == "ev"
    assert record.soc_added_pct == 9.0
    assert DataQuality.REASSIGNED in record.flags
    back = reassign_session(record, ALICE, None)
    assert back.guest_price is None
    assert back.guest_pricing is None
    assert back.vehicle_id is None
    assert back.soc_added_pct is None
    assert back.cost == 1.5


def test_guest_markup_without_cost_has_no_price() -> None:
    markup = User(
        id="m",
        name="M",
        type=UserType.GUEST,
        guest_pricing=GuestPricing(GuestPricingMethod.MARKUP, 1.5),
    )
    assert reassign_session(_record(cost=None), markup, None).guest_price is None
    assert reassign_session(_record(), markup, None).guest_price == 2.25


def test_datetimes_are_utc_in_records() -> None:
    events = run(engine(), charge())
    record = record_of(events)
    assert record.plugged_in_at.tzinfo is UTC
    assert record.ended_at - record.plugged_in_at == timedelta(seconds=3320)
