"""One test per weakness of the existing tracker (reference study, section 9) that
concerns the session engine or pricing, proving it does not happen here.

Numbers follow the section's list; the last tests cover the production pain points
listed at its end (two drivers merged, mis-timed restarts, wrong-hour spot prices).
Items about statistics, storage, export and the UI (8, 13, 18, 20, 21) are not the
engine's and are not tested here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging.models import ChargerState, ChargerStatus
from custom_components.ev_charging.sessions.directory import (
    Card,
    Directory,
    TagScheme,
    UnknownReason,
    User,
    UserType,
    Vehicle,
)
from custom_components.ev_charging.sessions.engine import EngineConfig, Phase, SessionEngine
from custom_components.ev_charging.sessions.events import (
    SessionCancelled,
    SessionCompleted,
    SessionEvent,
    SessionStarted,
)
from custom_components.ev_charging.sessions.pricing import (
    GuestPricing,
    GuestPricingMethod,
    PriceSource,
    SpotPrice,
    StaticPrice,
    Tariff,
    TimeOfUsePeriod,
    TimeOfUsePrice,
)
from custom_components.ev_charging.sessions.records import (
    DataQuality,
    SessionRecord,
    reassign_session,
)
from custom_components.ev_charging.sessions.spot_prices import parse_spot_attributes

from . import at, state, ts

AVAILABLE = ChargerStatus.AVAILABLE
PLUGGED = ChargerStatus.PLUGGED
CHARGING = ChargerStatus.CHARGING
STOCKHOLM = ZoneInfo("Europe/Stockholm")

PETRA = User(id="petra", name="Petra")
ANNA = User(
    id="anna",
    name="Anna",
    type=UserType.GUEST,
    guest_pricing=GuestPricing(GuestPricingMethod.FIXED, 4.5),
)
EX30 = Vehicle(id="ex30", name="Volvo EX30", usable_capacity_kwh=64.0, efficiency=0.92)
DIRECTORY = Directory(
    users=(PETRA, ANNA),
    vehicles=(EX30,),
    cards=(
        Card(user_id="petra", uid="04A2B3C4D5", vehicle_id="ex30"),
        Card(user_id="anna", uid="AA11"),
        Card(user_id="anna", index=14, charger_id="garage"),
    ),
)
CONFIG = EngineConfig(charger_id="garage", directory=DIRECTORY)
STATIC = Tariff(StaticPrice(1.8), currency="SEK")

Timeline = list[tuple[float, ChargerState]]


def run(eng: SessionEngine, timeline: Timeline, **kwargs: Any) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    for seconds, reading in timeline:
        events.extend(eng.update(reading, at(seconds), **kwargs).events)
    return events


def record_of(events: list[SessionEvent]) -> SessionRecord:
    done = [e for e in events if isinstance(e, SessionCompleted)]
    assert len(done) == 1
    return done[0].record


def overnight(tag: str | None = "04A2B3C4D5") -> Timeline:
    """7.2 kW for two hours, then the car is full; unplugged in the morning."""
    timeline: Timeline = [(0, state(PLUGGED, power=0, session=0, lifetime=2000, tag=tag))]
    for minute in range(0, 121, 15):
        kwh = 7.2 * minute / 60
        timeline.append(
            (
                30 + minute * 60,
                state(CHARGING, power=7200, session=kwh, lifetime=2000 + kwh, tag=tag),
            )
        )
    timeline.append((30 + 7260, state(PLUGGED, power=0, session=14.4, lifetime=2014.4, tag=tag)))
    timeline.append((30 + 30_000, state(AVAILABLE, power=0, session=14.4, lifetime=2014.4)))
    return timeline


# 1 -------------------------------------------------------------------------------------------


def test_bug_01_counter_reported_in_wh_is_not_billed_a_thousand_times() -> None:
    timeline: Timeline = [
        (0, state(CHARGING, power=3600, session=0, lifetime=50.0, tag="04A2B3C4D5")),
        (900, state(CHARGING, power=3600, session=900.0, lifetime=50.9)),  # Wh, not kWh
        (1800, state(AVAILABLE, power=0, session=1800.0, lifetime=51.8)),
    ]
    record = record_of(run(SessionEngine(CONFIG, STATIC), timeline))
    assert record.energy_kwh == pytest.approx(1.8)
    assert record.cost == pytest.approx(3.24)
    assert DataQuality.ENERGY_UNIT_CORRECTED in record.flags


def test_bug_01_price_units_are_normalised_to_currency_per_kwh() -> None:
    now = ts("2026-03-10T12:00Z")
    per_mwh = parse_spot_attributes(
        {
            "prices": [{"time": "2026-03-10T12:00Z", "price": 85.0}],
            "unit_of_measurement": "EUR/MWh",
        },
        tz=STOCKHOLM,
        now=now,
        state="85.0",
    )
    in_ore = parse_spot_attributes(
        {"raw_today": [{"start": "2026-03-10T12:00Z", "end": "2026-03-10T13:00Z", "value": 120}]},
        tz=STOCKHOLM,
        now=now,
        unit="öre/kWh",
    )
    assert per_mwh.intervals[0].price == pytest.approx(0.085)
    assert per_mwh.state_price == pytest.approx(0.085)
    assert in_ore.intervals[0].price == pytest.approx(1.2)


# 2 -------------------------------------------------------------------------------------------


def test_bug_02_counter_unavailable_at_start_never_bills_the_lifetime_counter() -> None:
    timeline: Timeline = [
        (0, state(PLUGGED, power=0, lifetime=None, tag="04A2B3C4D5")),
        (30, state(CHARGING, power=7200, lifetime=None)),
        (60, state(CHARGING, power=7200, lifetime=12_345.0)),
        (3660, state(AVAILABLE, power=0, lifetime=12_352.2)),
    ]
    record = record_of(run(SessionEngine(CONFIG, STATIC), timeline))
    assert record.energy_kwh == pytest.approx(7.2)  # not 12,352.2
    assert DataQuality.ENERGY_GAP in record.flags  # the first 30 s are honestly missing


# 3 -------------------------------------------------------------------------------------------


def test_bug_03_charging_time_has_no_idle_tail() -> None:
    record = record_of(run(SessionEngine(CONFIG, STATIC), overnight()))
    assert record.charging_ended_at == at(30 + 7260)
    assert record.charging_seconds == 7260
    assert record.average_power_w == pytest.approx(7140.5, abs=0.1)
    assert record.charging_windows == 1


def test_bug_03_restart_adds_no_synthetic_window_nor_downtime_charging() -> None:
    timeline = overnight()
    # restart while charging continues: still one window
    eng = SessionEngine(CONFIG, STATIC)
    run(eng, timeline[:4])
    resumed = SessionEngine.restore(eng.snapshot().to_dict(), CONFIG, STATIC)
    record = record_of(run(resumed, timeline[5:]))
    assert record.charging_windows == 1
    assert record.charging_seconds == 7260
    # restart while the car is full: the downtime is not charging time
    eng = SessionEngine(CONFIG, STATIC)
    run(eng, timeline[:-1])
    resumed = SessionEngine.restore(eng.snapshot().to_dict(), CONFIG, STATIC)
    record = record_of(run(resumed, timeline[-1:]))
    assert record.charging_seconds == 7260
    assert record.charging_windows == 1


# 4 -------------------------------------------------------------------------------------------


def _snapshot_then_unplugged_meanwhile(user_tag: str) -> tuple[SessionEngine, Timeline]:
    timeline = overnight(user_tag)
    eng = SessionEngine(CONFIG, STATIC)
    run(eng, timeline[:5])  # last reading: 30 min of charging, 3.6 kWh
    stored = json.dumps(eng.snapshot().to_dict())
    after: Timeline = [(30 + 3600 * 3, state(AVAILABLE, power=0, session=7.2, lifetime=2007.2))]
    return SessionEngine.restore(json.loads(stored), CONFIG, STATIC), after


def test_bug_04_restart_completion_uses_real_unplug_time_and_fresh_cost() -> None:
    resumed, after = _snapshot_then_unplugged_meanwhile("04A2B3C4D5")
    unplugged = at(30 + 3600)  # what the recorder says
    record = record_of(run(resumed, after, unplugged_at=unplugged))
    assert record.plugged_out_at == unplugged  # not the restart time
    assert record.energy_kwh == pytest.approx(7.2)
    assert record.cost == pytest.approx(12.96)  # recomputed, not the snapshot's 6.48
    assert record.charging_seconds == 3600  # not 0
    assert record.soc_added_pct == round(7.2 * 0.92 / 64 * 100, 1)
    assert DataQuality.RESUMED_AFTER_RESTART in record.flags


def test_bug_04_guest_pricing_survives_a_restart() -> None:
    resumed, after = _snapshot_then_unplugged_meanwhile("AA11")
    record = record_of(run(resumed, after))
    assert record.user_type is UserType.GUEST
    assert record.guest_price == pytest.approx(7.2 * 4.5)
    assert record.guest_pricing == ANNA.guest_pricing


# 5 -------------------------------------------------------------------------------------------


def test_bug_05_sessions_without_any_rfid_reader() -> None:
    record = record_of(run(SessionEngine(CONFIG, STATIC), overnight(tag=None)))
    assert record.energy_kwh == pytest.approx(14.4)
    assert record.unknown_reason is UnknownReason.NO_CARD
    assert record.started_at == at(30)


def test_bug_05_live_counter_reset_keeps_delivered_energy() -> None:
    timeline: Timeline = [
        (0, state(CHARGING, power=7200, session=0, tag="04A2B3C4D5")),
        (900, state(CHARGING, power=7200, session=1.8)),
        (1800, state(CHARGING, power=7200, session=1.8)),
        (1810, state(CHARGING, power=7200, session=0.02)),  # charger rebooted
        (2700, state(AVAILABLE, power=0, session=1.8)),
    ]
    record = record_of(run(SessionEngine(CONFIG, STATIC), timeline))
    assert record.energy_kwh == pytest.approx(1.8 + 1.8)
    assert DataQuality.COUNTER_RESET in record.flags


def test_bug_05_battery_top_ups_stay_in_one_session() -> None:
    timeline: Timeline = [
        (0, state(CHARGING, power=7200, session=0, tag="04A2B3C4D5")),
        (3600, state(ChargerStatus.SUSPENDED_EV, power=0, session=7.2)),
        (5400, state(CHARGING, power=1500, session=7.2)),  # balancing pulse
        (5460, state(ChargerStatus.SUSPENDED_EV, power=0, session=7.225)),
        (9000, state(CHARGING, power=1500, session=7.225)),
        (9060, state(ChargerStatus.FINISHING, power=0, session=7.25)),
        (20_000, state(AVAILABLE, power=0, session=7.25)),
    ]
    events = run(SessionEngine(CONFIG, STATIC), timeline)
    assert len([e for e in events if isinstance(e, SessionStarted)]) == 1
    record = record_of(events)
    assert record.charging_windows == 3
    assert record.energy_kwh == pytest.approx(7.25)


def test_bug_05_spot_prices_still_apply_after_a_restart() -> None:
    attributes = {
        "raw_today": [
            {
                "start": f"2026-03-10T{h:02d}:00Z",
                "end": f"2026-03-10T{h + 1:02d}:00Z",
                "value": h / 10,
            }
            for h in range(9, 14)
        ]
    }
    prices = parse_spot_attributes(attributes, tz=STOCKHOLM, now=ts("2026-03-10T09:00Z"))
    tariff = Tariff(SpotPrice(prices), currency="SEK")
    timeline = overnight()
    eng = SessionEngine(CONFIG, tariff)
    run(eng, timeline[:3])
    resumed = SessionEngine.restore(eng.snapshot().to_dict(), CONFIG, tariff)
    record = record_of(run(resumed, timeline[3:]))
    # 7.2 kWh in the 10:00 hour at 1.0, 7.2 kWh in the 11:00 hour at 1.1 (+ seconds)
    assert record.cost == pytest.approx(
        7.2 * 1.0 * (3570 / 3600) + 7.2 * 1.1 + 7.2 * 1.2 * 30 / 3600
    )
    assert record.price_source == "spot"


# 6 -------------------------------------------------------------------------------------------


def test_bug_06_quarter_hour_prices_by_timestamp_not_by_state_tick() -> None:
    attributes = {
        "raw_today": [
            {"start": "2026-03-10T10:00Z", "end": "2026-03-10T10:15Z", "value": 1.0},
            {"start": "2026-03-10T10:15Z", "end": "2026-03-10T10:30Z", "value": 3.0},
        ]
    }
    # The entity's state still shows the previous quarter: it must not matter.
    prices = parse_spot_attributes(attributes, tz=STOCKHOLM, now=ts("2026-03-10T10:00Z"), state=9.9)
    timeline: Timeline = [
        (0, state(CHARGING, power=4000, session=0, tag="04A2B3C4D5")),
        (600, state(CHARGING, power=4000, session=0.5)),
        (1200, state(CHARGING, power=4000, session=1.0)),  # straddles 10:15
        (1800, state(AVAILABLE, power=0, session=1.5)),
    ]
    record = record_of(
        run(SessionEngine(CONFIG, Tariff(SpotPrice(prices), currency="SEK")), timeline)
    )
    assert [(i.start, i.energy_kwh) for i in record.price_intervals] == [
        (ts("2026-03-10T10:00Z"), 0.75),
        (ts("2026-03-10T10:15Z"), 0.75),
    ]
    assert record.cost == pytest.approx(0.75 * 1.0 + 0.75 * 3.0)


def test_bug_06_state_fallback_covers_only_the_uncovered_part() -> None:
    attributes = {
        "raw_today": [{"start": "2026-03-10T10:00Z", "end": "2026-03-10T10:30Z", "value": 1.0}]
    }
    prices = parse_spot_attributes(attributes, tz=STOCKHOLM, now=ts("2026-03-10T10:00Z"), state=2.0)
    timeline: Timeline = [
        (0, state(CHARGING, power=4000, session=0, tag="04A2B3C4D5")),
        (3600, state(AVAILABLE, power=0, session=4.0)),
    ]
    record = record_of(
        run(SessionEngine(CONFIG, Tariff(SpotPrice(prices), currency="SEK")), timeline)
    )
    assert record.cost == pytest.approx(2.0 * 1.0 + 2.0 * 2.0)
    assert record.price_source == "mixed"
    assert [i.source for i in record.price_intervals] == [PriceSource.SPOT, PriceSource.SPOT_STATE]


def test_bug_06_price_formula_is_not_fixed() -> None:
    attributes = {
        "raw_today": [{"start": "2026-03-10T10:00Z", "end": "2026-03-10T11:00Z", "value": 1.0}]
    }
    prices = parse_spot_attributes(attributes, tz=STOCKHOLM, now=ts("2026-03-10T10:00Z"))
    peak_fee = TimeOfUsePrice(
        (TimeOfUsePeriod(price=0.5, start=time(11, 30), end=time(12)),), 0.1, STOCKHOLM
    )
    tariff = Tariff(
        SpotPrice(prices), currency="SEK", surcharges=(StaticPrice(0.2), peak_fee), multiplier=1.25
    )
    timeline: Timeline = [
        (0, state(CHARGING, power=4000, session=0, tag="04A2B3C4D5")),
        (3600, state(AVAILABLE, power=0, session=4.0)),
    ]
    record = record_of(run(SessionEngine(CONFIG, tariff), timeline))
    # 10:00-10:30 UTC is 11:00-11:30 local (off-peak fee), then the peak fee applies
    assert record.cost == pytest.approx(
        2.0 * (1.0 + 0.2 + 0.1) * 1.25 + 2.0 * (1.0 + 0.2 + 0.5) * 1.25
    )


# 7 -------------------------------------------------------------------------------------------


def test_bug_07_a_discarded_micro_session_is_cancelled() -> None:
    timeline: Timeline = [
        (0, state(PLUGGED, power=0, session=0, tag="04A2B3C4D5")),
        (20, state(CHARGING, power=3600, session=0)),
        (45, state(AVAILABLE, power=0, session=0.02)),
    ]
    events = run(SessionEngine(CONFIG, STATIC), timeline)
    assert [type(e) for e in events] == [SessionStarted, SessionCancelled]
    assert events[0].session.session_id == events[1].session.session_id


# 9 -------------------------------------------------------------------------------------------


def test_bug_09_uid_cards_and_more_than_ten_slots() -> None:
    ocpp = run(
        SessionEngine(CONFIG, STATIC),
        [
            (0, state(CHARGING, power=7200, session=0, tag="ISO14443:04a2b3c4d5")),
            (3600, state(AVAILABLE, power=0, session=7.2)),
        ],
    )
    assert record_of(ocpp).user_id == "petra"
    slots = replace(CONFIG, tag_scheme=TagScheme(index_offset=1))
    slot_15 = run(
        SessionEngine(slots, STATIC),
        [
            (0, state(CHARGING, power=7200, session=0, tag="15")),
            (3600, state(AVAILABLE, power=0, session=7.2)),
        ],
    )
    assert record_of(slot_15).user_id == "anna"
    assert record_of(slot_15).card_index == 14


# 10 ------------------------------------------------------------------------------------------


def test_bug_10_two_chargers_keep_separate_sessions() -> None:
    garage = SessionEngine(replace(CONFIG, tag_scheme=TagScheme(index_offset=1)), STATIC)
    driveway = SessionEngine(
        replace(CONFIG, charger_id="driveway", tag_scheme=TagScheme(index_offset=1)), STATIC
    )
    timeline: Timeline = [
        (0, state(CHARGING, power=7200, session=0, tag="15")),
        (3600, state(AVAILABLE, power=0, session=7.2)),
    ]
    a = record_of(run(garage, timeline))
    b = record_of(run(driveway, timeline))
    assert a.id != b.id
    assert (a.charger_id, b.charger_id) == ("garage", "driveway")
    assert a.user_id == "anna"  # slot 14 is Anna's card on the garage charger only
    assert b.unknown_reason is UnknownReason.UNKNOWN_CARD


# 11 ------------------------------------------------------------------------------------------


def test_bug_11_usable_capacity_and_vehicle_for_non_rfid_sessions() -> None:
    record = record_of(run(SessionEngine(CONFIG, STATIC), overnight()))
    assert record.soc_added_pct == round(14.4 * 0.92 / 64.0 * 100, 1)
    no_card = record_of(run(SessionEngine(CONFIG, STATIC), overnight(tag=None)))
    assert no_card.vehicle_id is None
    claimed = reassign_session(no_card, PETRA, EX30)
    assert claimed.vehicle_name == "Volvo EX30"
    assert claimed.soc_added_pct == record.soc_added_pct


# 12 ------------------------------------------------------------------------------------------


def test_bug_12_records_carry_the_user_id_not_only_the_name() -> None:
    record = record_of(run(SessionEngine(CONFIG, STATIC), overnight()))
    renamed = replace(PETRA, name="Petra S.")
    assert record.user_id == renamed.id == "petra"
    assert SessionRecord.from_dict(record.to_dict()).user_id == "petra"


# 14 ------------------------------------------------------------------------------------------


def test_bug_14_an_unknown_session_can_be_reassigned() -> None:
    record = record_of(run(SessionEngine(CONFIG, STATIC), overnight(tag="FFFF")))
    assert record.unknown_reason is UnknownReason.UNKNOWN_CARD
    assert record.card_uid == "FFFF"
    claimed = reassign_session(record, ANNA, None)
    assert claimed.user_id == "anna"
    assert claimed.unknown_reason is None
    assert claimed.guest_price == pytest.approx(14.4 * 4.5)
    assert claimed.cost == record.cost
    assert DataQuality.REASSIGNED in claimed.flags


def test_bug_14_a_stuck_session_can_be_closed() -> None:
    eng = SessionEngine(CONFIG, STATIC)
    run(eng, overnight()[:3])
    record = record_of(list(eng.close_session(at(86_400)).events))
    assert DataQuality.CLOSED_BY_USER in record.flags
    assert record.ended_at == at(86_400)
    assert eng.phase is Phase.CLOSED


# 15 ------------------------------------------------------------------------------------------


def test_bug_15_time_of_use_and_currency() -> None:
    night = TimeOfUsePeriod(price=0.10, start=time(22), end=time(6))
    tariff = Tariff(TimeOfUsePrice((night,), 0.30, ZoneInfo("Europe/Brussels")), currency="EUR")
    timeline: Timeline = [
        (0, state(CHARGING, power=4000, session=0, tag="04A2B3C4D5")),  # 11:00 in Brussels
        (3600, state(AVAILABLE, power=0, session=4.0)),
    ]
    record = record_of(run(SessionEngine(CONFIG, tariff), timeline))
    assert record.cost == pytest.approx(1.2)
    assert record.currency == "EUR"
    assert record.price_source == "time_of_use"


# 16 ------------------------------------------------------------------------------------------


def test_bug_16_lifetime_counter_is_kept_for_cross_checks_and_corrects_resets() -> None:
    timeline: Timeline = [
        (0, state(CHARGING, power=7200, session=0, lifetime=2000, tag="04A2B3C4D5")),
        (900, state(CHARGING, power=7200, session=1.8, lifetime=2001.8)),
        (1800, state(CHARGING, power=7200, session=0.4, lifetime=2003.6)),
        (2700, state(AVAILABLE, power=0, session=2.2, lifetime=2005.4)),
    ]
    record = record_of(run(SessionEngine(CONFIG, STATIC), timeline))
    assert (record.lifetime_start_kwh, record.lifetime_end_kwh) == (2000, 2005.4)
    assert record.energy_kwh == pytest.approx(5.4)
    assert record.lifetime_end_kwh is not None
    assert record.lifetime_start_kwh is not None
    assert record.lifetime_end_kwh - record.lifetime_start_kwh == pytest.approx(record.energy_kwh)


# 17 ------------------------------------------------------------------------------------------


def test_bug_17_unknown_reason_is_stored_in_record_and_events() -> None:
    events = run(SessionEngine(CONFIG, STATIC), overnight(tag="FFFF"))
    assert events[0].as_dict()["unknown_reason"] == "unknown_card"
    completed = next(e for e in events if isinstance(e, SessionCompleted))
    assert completed.as_dict()["unknown_reason"] == "unknown_card"
    assert completed.record.to_dict()["unknown_reason"] == "unknown_card"


# 19 ------------------------------------------------------------------------------------------


def test_bug_19_no_write_for_every_energy_reading() -> None:
    eng = SessionEngine(CONFIG, STATIC)
    run(eng, [(0, state(CHARGING, power=7200, session=0, tag="04A2B3C4D5"))])
    hints = [
        eng.update(state(CHARGING, power=7200, session=s / 500), at(s)).persist
        for s in range(5, 3600, 5)
    ]
    assert sum(hints) == 59  # one "updated" a minute, not 719 writes


# pain points ---------------------------------------------------------------------------------


def test_bug_two_drivers_are_never_merged() -> None:
    timeline: Timeline = [
        (0, state(CHARGING, power=7200, session=0, tag="04A2B3C4D5")),
        (3600, state(AVAILABLE, power=0, session=7.2, tag="04A2B3C4D5")),
        (3603, state(PLUGGED, power=0, session=0, tag="AA11")),
        (3610, state(CHARGING, power=7200, session=0, tag="AA11")),
        (7210, state(AVAILABLE, power=0, session=7.2)),
    ]
    events = run(SessionEngine(CONFIG, STATIC), timeline)
    records = [e.record for e in events if isinstance(e, SessionCompleted)]
    assert [(r.user_id, r.energy_kwh) for r in records] == [("petra", 7.2), ("anna", 7.2)]
