"""The shared scenario fixtures replayed through the engine: one record each, exact values.

The fixtures model a go-e charger, whose unplug is confirmed by a cable lock a few
seconds after the plug sensor. The normalized status carries no cable lock, so the
engine completes the session on the plug-off reading itself; the fixtures' expected
end time (the plug-off instant) is what the records are checked against.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import json
from typing import Any

import pytest

from custom_components.ev_charging.sessions.directory import (
    Directory,
    User,
    UserType,
)
from custom_components.ev_charging.sessions.engine import SessionEngine
from custom_components.ev_charging.sessions.events import (
    DiscardReason,
    SessionCancelled,
    SessionCompleted,
    SessionEvent,
    SessionStarted,
)
from custom_components.ev_charging.sessions.pricing import GuestPricing, GuestPricingMethod
from custom_components.ev_charging.sessions.records import DataQuality, SessionRecord

from . import (
    fixture_engine_config,
    fixture_tariff,
    kinds,
    load_fixture,
    replay,
    row_state,
    ts,
)

NORMAL = load_fixture("normal_session")
RESTART = load_fixture("restart_session")
MICRO = load_fixture("micro_sessions")


def _run_normal(
    pricing: dict[str, Any] | None = None, guest: dict[str, Any] | None = None
) -> SessionRecord:
    config = fixture_engine_config(NORMAL)
    if guest is not None:
        petra = config.directory.users[0]
        anna = User(
            id=petra.id,
            name=guest["name"],
            type=UserType(guest["type"]),
            guest_pricing=GuestPricing.from_dict(guest["guest_pricing"]),
        )
        directory = Directory(
            users=(anna,), vehicles=config.directory.vehicles, cards=config.directory.cards
        )
        config = replace(config, directory=directory)
    tariff = fixture_tariff(pricing or NORMAL["config"]["pricing"])
    events = replay(SessionEngine(config, tariff), NORMAL["timeline"])
    assert kinds(events) == ["session_started", "session_completed"]
    completed = events[-1]
    assert isinstance(completed, SessionCompleted)
    return completed.record


def _intervals_with_energy(record: SessionRecord) -> list[dict[str, Any]]:
    return [
        {
            "interval_start": i.start,
            "interval_end": i.end,
            "kwh": i.energy_kwh,
            "spot_price": i.base_price,
            "total_price": i.price,
            "cost": i.cost,
        }
        for i in record.price_intervals
        if i.energy_kwh > 0
    ]


def _expected_intervals(variant: dict[str, Any]) -> list[dict[str, Any]]:
    # Intervals without energy are not stored (the hourly variant lists none either).
    return [
        {
            **item,
            "interval_start": ts(item["interval_start"]),
            "interval_end": ts(item["interval_end"]),
        }
        for item in variant["expected_intervals"]
        if item["kwh"] > 0
    ]


def _assert_intervals(record: SessionRecord, variant: dict[str, Any]) -> None:
    actual = _intervals_with_energy(record)
    expected = _expected_intervals(variant)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        # The fixture prints interval costs rounded to 4 decimals (ties either way):
        # within half a unit of that last place.
        assert abs(got.pop("cost") - want.pop("cost")) <= 0.00005 + 1e-9
        assert got == want


def test_normal_session_static_price() -> None:
    expected = NORMAL["expected"]["session"]
    record = _run_normal()
    assert record.user_name == expected["user_name"] == "Petra"
    assert record.user_type is UserType.RESIDENT  # "regular" in the fixture
    assert record.vehicle_name == expected["vehicle_name"]
    assert record.card_index == expected["rfid_index"]
    assert record.card_uid is None
    assert record.unknown_reason is None
    assert record.plugged_in_at == ts(expected["connected_at"])
    assert record.started_at == ts(expected["session_started_at"])
    assert record.charging_started_at == ts(expected["charging_started_at"])
    assert record.charging_ended_at == ts(expected["charging_ended_at"])
    assert record.plugged_out_at == ts(expected["disconnected_at"])
    assert record.ended_at == ts(expected["disconnected_at"])
    assert record.connection_seconds == expected["connection_duration_s"]
    assert record.charging_seconds == expected["charging_duration_s"]
    assert record.charging_windows == expected["charging_window_count"]
    assert record.energy_kwh == expected["energy_kwh"]
    assert record.average_power_w == expected["avg_power_w"]
    assert record.max_power_w == expected["max_power_w"]
    assert record.cost == expected["cost"]
    assert record.currency == expected["currency"]
    assert record.price_source == expected["cost_method"]
    assert record.guest_price is expected["charge_price"]
    assert record.soc_added_pct == expected["estimated_soc_added_pct"]
    assert record.lifetime_start_kwh == expected["charger_total_before_kwh"]
    assert record.lifetime_end_kwh == expected["charger_total_after_kwh"]
    assert record.flags == frozenset()  # no data gap, not reconstructed


def test_normal_session_events() -> None:
    engine = SessionEngine(
        fixture_engine_config(NORMAL), fixture_tariff(NORMAL["config"]["pricing"])
    )
    events = replay(engine, NORMAL["timeline"])
    started = [e for e in events if isinstance(e, SessionStarted)]
    completed = [e for e in events if isinstance(e, SessionCompleted)]
    assert len(started) == 1
    assert started[0].at == ts("2026-03-10T17:00:20Z")
    assert started[0].session.user_name == "Petra"
    assert len(completed) == 1
    assert completed[0].session.energy_kwh == 9.0
    assert completed[0].session.cost == 22.5
    assert completed[0].record.ended_at == ts("2026-03-10T21:00:00Z")


def test_normal_session_spot_hourly() -> None:
    variant = NORMAL["variants"]["spot_hourly"]
    record = _run_normal(variant["pricing"])
    assert record.cost == variant["expected_cost"]
    assert record.cost is not None
    assert round(record.cost, 2) == variant["expected_cost_2dp"]
    assert record.price_source == "spot"
    _assert_intervals(record, variant)


def test_normal_session_spot_quarter_hour() -> None:
    variant = NORMAL["variants"]["spot_quarter_hour"]
    pricing = {**NORMAL["variants"]["spot_hourly"]["pricing"], **variant["pricing"]}
    record = _run_normal(pricing)
    assert record.cost == variant["expected_cost"]
    assert record.energy_kwh == 9.0
    _assert_intervals(record, variant)


@pytest.mark.parametrize("name", ["guest_fixed", "guest_markup_static"])
def test_normal_session_guest_static(name: str) -> None:
    variant = NORMAL["variants"][name]
    record = _run_normal(guest=variant["user"])
    assert record.user_type is UserType.GUEST
    assert record.cost == variant["expected_household_cost"]
    assert record.guest_price == variant["expected_charge_price"]


def test_normal_session_guest_markup_spot() -> None:
    variant = NORMAL["variants"]["guest_markup_spot_hourly"]
    guest = NORMAL["variants"]["guest_markup_static"]["user"]
    record = _run_normal(NORMAL["variants"]["spot_hourly"]["pricing"], guest=guest)
    assert record.cost == variant["expected_household_cost"]
    assert record.guest_price == variant["expected_charge_price"]
    assert record.guest_pricing == GuestPricing(GuestPricingMethod.MARKUP, 1.3)


def _restart(after: list[dict[str, Any]], **update_kwargs: Any) -> tuple[list[Any], list[Any], str]:
    """Run until HA stops, keep the 22:55 snapshot, restore it and replay ``after``."""
    config = fixture_engine_config(RESTART)
    tariff = fixture_tariff(RESTART["config"]["pricing"])
    engine = SessionEngine(config, tariff)
    snapshot_at = ts(RESTART["ha_events"][0]["t"])
    stored = None
    before_events: list[SessionEvent] = []
    for row in RESTART["timeline_before_restart"]:
        before_events.extend(engine.update(row_state(row), ts(row["t"])).events)
        if ts(row["t"]) == snapshot_at:
            stored = json.dumps(engine.snapshot().to_dict())
    assert stored is not None
    session_id = json.loads(stored)["session"]["id"]
    restored = SessionEngine.restore(json.loads(stored), config, tariff)
    after_events = replay(restored, after, **update_kwargs)
    return before_events, after_events, session_id


def test_restart_session_survives_as_one_record() -> None:
    expected = RESTART["expected"]["session"]
    before, after, session_id = _restart(RESTART["timeline_after_restart"])
    assert kinds(before) == ["session_started"]
    assert before[0].at == ts("2026-03-10T21:59:45Z")
    assert kinds(after) == ["session_completed"]  # no second start, nothing at restart
    record = after[-1].record
    assert record.id == session_id
    assert record.user_name == expected["user_name"]
    assert record.vehicle_name == expected["vehicle_name"]
    assert record.card_index == expected["rfid_index"]
    assert record.plugged_in_at == ts(expected["connected_at"])
    assert record.charging_started_at == ts(expected["charging_started_at"])
    assert record.charging_ended_at == ts(expected["charging_ended_at"])
    assert record.plugged_out_at == ts(expected["disconnected_at"])
    assert record.connection_seconds == expected["connection_duration_s"]
    assert record.charging_seconds == expected["charging_duration_s"]
    assert record.charging_windows == expected["charging_window_count"]
    assert record.energy_kwh == expected["energy_kwh"]
    assert record.average_power_w == expected["avg_power_w"]
    assert record.cost == expected["cost"]
    assert record.currency == expected["currency"]
    assert record.soc_added_pct == expected["estimated_soc_added_pct"]
    assert record.lifetime_start_kwh == expected["charger_total_before_kwh"]
    assert record.lifetime_end_kwh == expected["charger_total_after_kwh"]
    # reconstructed / restart_bridged, but no data gap
    assert record.flags == frozenset({DataQuality.RESUMED_AFTER_RESTART})


def test_restart_with_plug_unavailable_at_boot_gives_identical_record() -> None:
    variant = RESTART["variants"]["plug_unavailable_at_boot"]
    replaced = variant["replace_first_post_rows_with"]
    after = replaced + RESTART["timeline_after_restart"][1:]
    _, baseline, _ = _restart(RESTART["timeline_after_restart"])
    _, events, _ = _restart(after)
    assert kinds(events) == ["session_completed"]
    assert events[-1].record == baseline[-1].record


def test_restart_unplugged_during_downtime_uses_known_unplug_time() -> None:
    variant = RESTART["variants"]["unplugged_during_downtime"]
    ha_stop = ts(RESTART["ha_events"][1]["t"])
    _, events, session_id = _restart(
        variant["replace_timeline_after_restart_with"], unplugged_at=ha_stop
    )
    assert kinds(events) == ["session_completed"]
    record = events[-1].record
    assert record.id == session_id
    assert record.energy_kwh == variant["expected"]["energy_kwh"]
    assert record.cost == variant["expected"]["cost"]
    assert record.plugged_out_at == ha_stop
    assert record.charging_seconds >= variant["expected"]["charging_duration_s_min"]
    assert DataQuality.RESUMED_AFTER_RESTART in record.flags
    assert DataQuality.UNPLUG_TIME_ESTIMATED not in record.flags


def test_restart_unplugged_during_downtime_estimates_unplug_time() -> None:
    variant = RESTART["variants"]["unplugged_during_downtime"]
    _, events, _ = _restart(variant["replace_timeline_after_restart_with"])
    record = events[-1].record
    # 0.6 kWh more at 7.2 kW after the 22:55 reading: charging (so plugged) until 23:00.
    assert record.plugged_out_at == ts("2026-03-10T23:00:00Z")
    assert ts("2026-03-10T22:58:00Z") <= record.ended_at <= ts("2026-03-10T23:04:00Z")
    assert record.charging_seconds == 3600
    assert record.energy_kwh == 7.2
    assert record.cost == 12.96
    assert DataQuality.UNPLUG_TIME_ESTIMATED in record.flags


def _micro_case(name: str) -> dict[str, Any]:
    return next(case for case in MICRO["cases"] if case["name"] == name)


def _run_micro(name: str) -> list[Any]:
    engine = SessionEngine(fixture_engine_config(MICRO), fixture_tariff(MICRO["config"]["pricing"]))
    return replay(engine, _micro_case(name)["timeline"])


@pytest.mark.parametrize("name", ["A_short_rfid_session", "C_long_connection_no_energy"])
def test_micro_sessions_discarded(name: str) -> None:
    expected = _micro_case(name)["expected"]
    events = _run_micro(name)
    assert kinds(events) == ["session_started", "session_cancelled"]
    cancelled = events[-1]
    assert isinstance(cancelled, SessionCancelled)
    assert [r.value for r in cancelled.reasons] == expected["discard_reasons"]
    assert cancelled.session.duration_s == expected["measured"]["connection_duration_s"]
    assert round(cancelled.session.energy_kwh * 1000, 6) == expected["measured"]["energy_wh"]


def test_micro_session_short_rfid_started_and_cancelled_times() -> None:
    events = _run_micro("A_short_rfid_session")
    assert events[0].at == ts("2026-03-12T08:00:10Z")
    assert events[-1].at == ts("2026-03-12T08:00:45Z")
    assert events[-1].reasons == (
        DiscardReason.DURATION_BELOW_MIN,
        DiscardReason.ENERGY_BELOW_MIN,
    )


def test_micro_fumble_without_rfid_is_no_session() -> None:
    assert _run_micro("B_fumble_without_rfid") == []


def test_micro_exact_thresholds_kept() -> None:
    expected = _micro_case("D_exact_thresholds_kept")["expected"]["session"]
    events = _run_micro("D_exact_thresholds_kept")
    assert kinds(events) == ["session_started", "session_completed"]
    record = events[-1].record
    assert record.user_name == expected["user_name"]
    assert record.plugged_in_at == ts(expected["connected_at"])
    assert record.started_at == ts(expected["connected_at"])  # card tapped before plug-in
    assert record.plugged_out_at == ts(expected["disconnected_at"])
    assert record.connection_seconds == expected["connection_duration_s"]
    assert record.charging_seconds == expected["charging_duration_s"]
    assert record.energy_kwh == expected["energy_kwh"]
    assert record.average_power_w == expected["avg_power_w"]
    assert record.cost == expected["cost"]
    assert record.currency == expected["currency"]
    assert record.flags == frozenset()


def test_micro_cases_do_not_interfere_when_run_back_to_back() -> None:
    engine = SessionEngine(fixture_engine_config(MICRO), fixture_tariff(MICRO["config"]["pricing"]))
    events = []
    for case in MICRO["cases"]:
        events.extend(replay(engine, case["timeline"]))
    assert kinds(events) == [
        "session_started",
        "session_cancelled",
        "session_started",
        "session_cancelled",
        "session_started",
        "session_completed",
    ]
    last = events[-1]
    assert isinstance(last, SessionCompleted)
    assert last.record.energy_kwh == 0.05
    assert last.record.started_at - last.record.plugged_in_at == timedelta(0)
