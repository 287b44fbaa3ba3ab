"""Charging sessions through the real stack: ENO one simulator -> coordinator -> tracker."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.sessions.records import DataQuality

from .conftest import (
    ALICE,
    CHARGER,
    GUEST_TOKEN,
    HOUSEHOLD_ID,
    Site,
    household_entry,
    setup_household,
)

POWER_W = 11184.0  # three phases at 16 A as the simulator measures them

PROGRESS_KEYS = {
    "type",
    "at",
    "session_id",
    "charger_id",
    "charger_name",
    "plugged_in_at",
    "started_at",
    "user_id",
    "user_name",
    "user_type",
    "vehicle_id",
    "vehicle_name",
    "card_uid",
    "card_index",
    "unknown_reason",
    "energy_kwh",
    "cost",
    "guest_price",
    "currency",
    "price_source",
    "duration_s",
    "charging_s",
    "charging",
    "power_w",
    "soc_added_pct",
    "flags",
}


def _lifetime(site: Site) -> float:
    return float(site.sim.value(1, "active_energy_import_total")) / 1000


async def test_rfid_session_is_attributed_priced_and_reported(
    hass: HomeAssistant, site: Site
) -> None:
    """Alice's card at plug-in, one hour at 11 kW, unplug: one record, events, sensors."""
    tracker = await setup_household(hass, household_entry())
    started = async_capture_events(hass, "ev_charging_session_started")
    updated = async_capture_events(hass, "ev_charging_session_updated")
    completed = async_capture_events(hass, "ev_charging_session_completed")
    first_kwh = _lifetime(site)

    await site.plug_in()
    assert hass.states.get("sensor.eno_one_charging_session").state == "active"
    await site.run(3600, step=20)
    assert hass.states.get("sensor.eno_one_session_user").state == "Alice"
    assert hass.states.get("sensor.eno_one_session_user").attributes["card_uid"] == "04A1B2C3D4"
    assert hass.states.get("sensor.eno_one_session_vehicle").state == "Model 3"
    assert hass.states.get("sensor.eno_one_tracked_session_power").state == str(POWER_W)
    assert hass.states.get("sensor.eno_one_tracked_session_duration").state == "60.0"
    energy = float(hass.states.get("sensor.eno_one_tracked_session_energy").state)
    assert energy == round(_lifetime(site) - first_kwh, 6)
    assert float(hass.states.get("sensor.eno_one_tracked_session_cost").state) == round(
        energy * 0.25, 4
    )
    assert hass.states.get("sensor.eno_one_tracked_session_cost").attributes[
        "unit_of_measurement"
    ] == ("EUR")
    # SoC: energy x 0.9 efficiency / 60 kWh usable
    assert float(hass.states.get("sensor.eno_one_session_state_of_charge_added").state) == round(
        energy * 0.9 / 60 * 100, 1
    )
    await site.unplug()

    records = await tracker.store.async_records()
    assert len(records) == 1
    record = records[0]
    assert (record.charger_id, record.user_id, record.user_name) == (CHARGER, ALICE, "Alice")
    assert record.vehicle_name == "Model 3"
    assert record.card_uid == "04A1B2C3D4"
    assert record.energy_kwh == round(_lifetime(site) - first_kwh, 6)
    assert record.energy_kwh == 11.184
    assert record.cost == round(record.energy_kwh * 0.25, 4)
    assert record.connection_seconds == record.charging_seconds == 3600
    assert record.price_source == "static"

    # Events: one start, an update at most once a minute, one completion.
    assert len(started) == 1
    assert set(started[0].data) == PROGRESS_KEYS
    assert started[0].data["user_name"] == "Alice"
    assert started[0].data["card_uid"] == "04A1B2C3D4"
    assert started[0].data["charger_name"] == "ENO one"
    assert 55 <= len(updated) <= 60
    assert all(set(e.data) == PROGRESS_KEYS for e in updated)
    assert len(completed) == 1
    done = completed[0].data
    assert set(done) == PROGRESS_KEYS | {"ended_at", "average_power_w", "max_power_w"}
    assert done["session_id"] == record.id
    assert done["energy_kwh"] == record.energy_kwh
    assert done["cost"] == record.cost
    assert done["price_source"] == "static"
    assert done["duration_s"] == 3600
    assert done["ended_at"] == "2026-03-10T11:00:00+00:00"
    assert done["average_power_w"] == POWER_W

    # Between sessions: no live values, the last session in the attributes.
    assert hass.states.get("sensor.eno_one_charging_session").state == "idle"
    assert hass.states.get("sensor.eno_one_tracked_session_energy").state == "unknown"
    attrs = hass.states.get("sensor.eno_one_charging_session").attributes
    assert attrs["last_session_id"] == record.id
    assert attrs["last_user"] == "Alice"
    assert attrs["last_energy_kwh"] == record.energy_kwh
    # Alice's totals.
    assert float(hass.states.get("sensor.alice_charged_energy").state) == record.energy_kwh
    assert float(hass.states.get("sensor.alice_charging_cost").state) == round(record.cost, 2)
    assert hass.states.get("sensor.alice_charging_sessions").state == "1"
    assert hass.states.get("sensor.alice_last_charging_session").state == (
        "2026-03-10T11:00:00+00:00"
    )
    # The charger's counter agrees with the session.
    assert hass.states.get("sensor.eno_one_session_energy_cross_check").state == "0.0"


async def test_micro_session_is_cancelled(hass: HomeAssistant, site: Site) -> None:
    """Thirty seconds with a card: a start, then a cancel with its reasons, no record."""
    tracker = await setup_household(hass, household_entry())
    started = async_capture_events(hass, "ev_charging_session_started")
    cancelled = async_capture_events(hass, "ev_charging_session_cancelled")
    completed = async_capture_events(hass, "ev_charging_session_completed")

    await site.plug_in()
    await site.run(30, step=10)
    await site.unplug()

    assert len(started) == 1
    assert len(cancelled) == 1
    assert cancelled[0].data["session_id"] == started[0].data["session_id"]
    assert cancelled[0].data["reasons"] == ["duration_below_min"]
    assert cancelled[0].data["user_name"] == "Alice"
    assert set(cancelled[0].data) == PROGRESS_KEYS | {"reasons"}
    assert completed == []
    assert await tracker.store.async_records() == []
    assert hass.states.get("sensor.alice_charging_sessions").state == "0"


async def test_guest_pays_their_own_price(hass: HomeAssistant, site: Site) -> None:
    """Bob is a guest at 0.50/kWh: the household cost and his price are both kept."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in(GUEST_TOKEN)
    await site.run(1800)
    assert hass.states.get("sensor.eno_one_session_user").attributes["user_type"] == "guest"
    await site.unplug()

    record = (await tracker.store.async_records())[0]
    assert record.user_name == "Bob"
    assert record.user_type.value == "guest"
    assert record.cost == round(record.energy_kwh * 0.25, 4)
    assert record.guest_price == round(record.energy_kwh * 0.5, 2)
    assert float(hass.states.get("sensor.bob_billed").state) == record.guest_price
    assert float(hass.states.get("sensor.bob_billed_this_month").state) == record.guest_price
    assert float(hass.states.get("sensor.charging_sessions_guest_billed").state) == (
        record.guest_price
    )
    assert float(hass.states.get("sensor.charging_sessions_guest_charged_energy").state) == (
        record.energy_kwh
    )
    assert hass.states.get("sensor.alice_charging_sessions").state == "0"


async def test_household_markup_for_guests(hass: HomeAssistant, site: Site) -> None:
    """A guest on the household's default pricing pays the cost times the markup."""
    entry = household_entry(
        {"mode": "static", "price_per_kwh": 0.30, "guest_method": "markup", "guest_value": 1.5},
        [
            {
                "subentry_id": "carol0000000000000000000",
                "subentry_type": "user",
                "title": "Carol",
                "unique_id": "user_carol",
                "data": {"name": "Carol", "type": "guest", "guest_method": "default"},
            },
            {
                "subentry_id": "card0000000000000000000c",
                "subentry_type": "card",
                "title": "C (Carol)",
                "unique_id": "card_CCCC",
                "data": {"uid": "cc:cc", "user_id": "carol0000000000000000000"},
            },
        ],
    )
    tracker = await setup_household(hass, entry)
    await site.plug_in("CCCC")
    await site.run(1200)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert record.user_name == "Carol"
    assert record.cost == round(record.energy_kwh * 0.30, 4)
    assert record.guest_price == round(record.cost * 1.5, 2)


async def test_spot_prices_changing_within_the_session(hass: HomeAssistant, site: Site) -> None:
    """Each hour billed at its own spot price, also after the price entity changes."""
    hass.states.async_set(
        "sensor.nordpool_kwh_be_eur",
        "0.10",
        {
            "unit_of_measurement": "EUR/kWh",
            "raw_today": [
                {
                    "start": "2026-03-10T10:00:00+00:00",
                    "end": "2026-03-10T11:00:00+00:00",
                    "value": 0.10,
                },
                {
                    "start": "2026-03-10T11:00:00+00:00",
                    "end": "2026-03-10T12:00:00+00:00",
                    "value": 0.30,
                },
            ],
        },
    )
    options = {
        "mode": "spot",
        "spot_entity": "sensor.nordpool_kwh_be_eur",
        "additional_cost_per_kwh": 0.05,
        "multiplier": 1.21,
        "guest_method": "none",
    }
    tracker = await setup_household(hass, household_entry(options))
    site.freezer.tick(1800)
    await site.plug_in()
    await site.run(900)
    # The price list is corrected (ENTSO-e style, in EUR/MWh this time).
    hass.states.async_set(
        "sensor.nordpool_kwh_be_eur",
        "100",
        {
            "unit_of_measurement": "EUR/MWh",
            "prices_today": [
                {"time": "2026-03-10T10:00:00+00:00", "price": 100.0},
                {"time": "2026-03-10T11:00:00+00:00", "price": 400.0},
            ],
        },
    )
    await site.run(2700)
    await site.unplug()

    record = (await tracker.store.async_records())[0]
    assert record.price_source == "spot"
    first, second = record.price_intervals
    assert (first.price, second.price) == (
        round((0.10 + 0.05) * 1.21, 6),
        round((0.40 + 0.05) * 1.21, 6),
    )
    assert (first.base_price, second.base_price) == (0.10, 0.40)
    assert first.end == second.start
    assert first.energy_kwh + second.energy_kwh == record.energy_kwh
    assert record.cost == round(
        first.energy_kwh * (0.10 + 0.05) * 1.21 + second.energy_kwh * (0.40 + 0.05) * 1.21, 4
    )
    assert tracker.tariff is not None

    # Back to a static price: the price entity is no longer followed.
    result = await hass.config_entries.options.async_init(HOUSEHOLD_ID)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "mode": "static",
            "guest_method": "none",
            "retention_months": 36,
            "min_session_s": 60,
            "min_session_kwh": 0.05,
            "crosscheck_threshold_pct": 5,
        },
    )
    await hass.config_entries.options.async_configure(result["flow_id"], {"price_per_kwh": 0.2})
    await hass.async_block_till_done()
    hass.states.async_set("sensor.nordpool_kwh_be_eur", "1")
    await hass.async_block_till_done()
    assert tracker.tariff is not None
    assert tracker.tariff.nominal_source.value == "static"


async def test_session_without_card_is_unassigned(hass: HomeAssistant, site: Site) -> None:
    """No card: the session starts on energy, unassigned, with the reason."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in(token=None)
    await site.run(600)
    user = hass.states.get("sensor.eno_one_session_user")
    assert user.state == "unknown"
    assert user.attributes["unknown_reason"] == "no_card"
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert record.user_id is None
    assert record.unknown_reason is not None
    assert hass.states.get("sensor.charging_sessions_unassigned_sessions").state == "1"
    assert float(hass.states.get("sensor.charging_sessions_unassigned_energy").state) == (
        record.energy_kwh
    )


async def test_energy_cross_check_raises_and_clears_a_repair_issue(
    hass: HomeAssistant, site: Site
) -> None:
    """A counter jump the session cannot explain is reported; a clean session clears it."""
    await setup_household(hass, household_entry())
    issues = ir.async_get(hass)
    await site.plug_in()
    await site.run(600)
    jump = int(site.sim.value(1, "active_energy_import_total")) + 40_000  # +40 kWh at once
    site.sim.set_value(1, "active_energy_import_total", jump)
    await site.run(600)
    await site.unplug()

    deviation = hass.states.get("sensor.eno_one_session_energy_cross_check")
    assert float(deviation.state) > 90
    assert deviation.attributes["counter_energy_kwh"] > 40
    issue = issues.async_get_issue(DOMAIN, f"energy_mismatch_{CHARGER}")
    assert issue is not None
    assert issue.translation_key == "session_energy_mismatch"
    assert issue.translation_placeholders["charger"] == "ENO one"

    await site.plug_in()
    await site.run(600)
    await site.unplug()
    assert hass.states.get("sensor.eno_one_session_energy_cross_check").state == "0.0"
    assert issues.async_get_issue(DOMAIN, f"energy_mismatch_{CHARGER}") is None


async def test_charger_unreachable_holds_the_session(hass: HomeAssistant, site: Site) -> None:
    """A failed poll says nothing about the plug: the session goes on, flagged."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(300)
    site.sim.fail_reads(4)
    await site.run(120)
    assert hass.states.get("sensor.eno_one_charging_session").state == "active"
    site.sim.fail_reads(None)
    await site.run(300)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert DataQuality.CHARGER_UNAVAILABLE in record.flags
    assert record.connection_seconds == 720


async def test_invalid_pricing_records_without_cost(hass: HomeAssistant, site: Site) -> None:
    """A stored configuration the tariff cannot read: sessions are kept, unpriced."""
    tracker = await setup_household(
        hass, household_entry({"mode": "time_of_use", "periods": "not a list"})
    )
    assert tracker.tariff is None
    await site.plug_in()
    await site.run(600)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert record.cost is None
    assert record.energy_kwh > 0


async def test_card_added_during_its_session_claims_it(hass: HomeAssistant, site: Site) -> None:
    """A card unknown at plug-in and added while charging makes the session its user's."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in(token="0A0B0C0D")
    await site.run(600)
    user = hass.states.get("sensor.eno_one_session_user")
    assert user.state == "unknown"
    assert user.attributes["unknown_reason"] == "unknown_card"

    result = await hass.config_entries.subentries.async_init(
        (HOUSEHOLD_ID, "card"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"uid": "0A0B0C0D", "user_id": ALICE}
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.eno_one_session_user").state == "Alice"

    await site.run(600)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert (record.user_id, record.card_uid) == (ALICE, "0A0B0C0D")
    assert DataQuality.REASSIGNED not in record.flags
