"""Sessions survive restarts and crashes: two Home Assistants on the same storage."""

from __future__ import annotations

from copy import deepcopy
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
)

from custom_components.ev_charging.sessions.records import DataQuality
from tests.conftest import SimulatorFactory
from tests.enovates.conftest import entry_for

from .conftest import (
    START,
    Site,
    fresh_hass,
    household_entry,
    setup_charger,
    setup_household,
)

CHARGER_ENTRY = "charger000000000000000000"


def _charger(sim: Any) -> Any:
    entry = entry_for(sim)
    object.__setattr__(entry, "entry_id", CHARGER_ENTRY)
    return entry


async def test_restart_resumes_with_energy_and_cost_conserved(
    hass_storage: dict[str, Any],
    enovates_factory: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Stopped cleanly after 30 min, back 10 min later: one session, nothing lost."""
    freezer.move_to(START)
    sim = await enovates_factory(units={1: "idle"})
    sim.set_value(1, "transaction_token", "")
    start_kwh = float(sim.value(1, "active_energy_import_total")) / 1000
    async with fresh_hass() as hass:
        site = Site(hass, sim, await setup_charger(hass, _charger(sim)), freezer)
        tracker = await setup_household(hass, household_entry())
        await site.plug_in()
        await site.run(1800)
        before = tracker.progress(site.charger_id)
        assert before is not None
        await hass.async_stop()  # a clean shutdown: no unload, the stop saves
        saved = deepcopy(hass_storage["ev_charging.sessions.active"])
    hass_storage["ev_charging.sessions.active"] = saved
    sim.tick(600)  # the car keeps charging while Home Assistant is down
    freezer.tick(timedelta(seconds=600))

    async with fresh_hass() as hass:
        site = Site(hass, sim, await setup_charger(hass, _charger(sim)), freezer)
        tracker = await setup_household(hass, household_entry())
        completed = async_capture_events(hass, "ev_charging_session_completed")
        resumed = tracker.progress(site.charger_id)
        assert resumed is not None
        assert resumed.session_id == before.session_id
        assert resumed.user_name == "Alice"
        await site.run(1800)
        await site.unplug()
        await hass.async_block_till_done()
        records = await tracker.store.async_records()

    end_kwh = float(sim.value(1, "active_energy_import_total")) / 1000
    assert len(records) == 1
    record = records[0]
    assert record.id == before.session_id
    assert record.energy_kwh == round(end_kwh - start_kwh, 6)
    assert record.cost == round(record.energy_kwh * 0.25, 4)
    assert record.connection_seconds == 4200
    assert DataQuality.RESUMED_AFTER_RESTART in record.flags
    assert len(completed) == 1


async def test_crash_resumes_from_the_last_periodic_snapshot(
    hass_storage: dict[str, Any],
    enovates_factory: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No clean shutdown: what was last written survives, the counter fills the gap."""
    freezer.move_to(START)
    sim = await enovates_factory(units={1: "idle"})
    sim.set_value(1, "transaction_token", "")
    start_kwh = float(sim.value(1, "active_energy_import_total")) / 1000
    async with fresh_hass() as hass:
        site = Site(hass, sim, await setup_charger(hass, _charger(sim)), freezer)
        tracker = await setup_household(hass, household_entry())
        await site.plug_in()
        await site.run(1800)
        await site.run(40, step=20)  # polls after the last write of the snapshot
        on_disk = deepcopy(hass_storage)
        live = tracker.progress(site.charger_id)
    hass_storage.clear()
    hass_storage.update(on_disk)  # the crash: nothing written after this point
    snapshot = on_disk["ev_charging.sessions.active"]["data"]["chargers"][site.charger_id]
    assert snapshot["last_sample_at"] == "2026-03-10T10:30:00+00:00"
    sim.tick(560)
    freezer.tick(timedelta(seconds=560))

    async with fresh_hass() as hass:
        site = Site(hass, sim, await setup_charger(hass, _charger(sim)), freezer)
        tracker = await setup_household(hass, household_entry())
        resumed = tracker.progress(site.charger_id)
        assert resumed is not None
        assert live is not None
        assert resumed.session_id == live.session_id
        assert resumed.energy_kwh > live.energy_kwh
        await site.run(600)
        await site.unplug()
        records = await tracker.store.async_records()

    end_kwh = float(sim.value(1, "active_energy_import_total")) / 1000
    assert [r.id for r in records] == [live.session_id]
    assert records[0].energy_kwh == round(end_kwh - start_kwh, 6)
    assert records[0].cost == round(records[0].energy_kwh * 0.25, 4)


async def test_car_left_while_down_closes_at_the_unplug_time(
    hass_storage: dict[str, Any],
    enovates_factory: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unplugged during the downtime: the session ends when the energy stopped, not at boot."""
    freezer.move_to(START)
    sim = await enovates_factory(units={1: "idle"})
    sim.set_value(1, "transaction_token", "")
    async with fresh_hass() as hass:
        site = Site(hass, sim, await setup_charger(hass, _charger(sim)), freezer)
        await setup_household(hass, household_entry())
        await site.plug_in()
        await site.run(1800)
        await hass.async_stop()
    sim.tick(300)  # charging 5 more minutes, then the car leaves
    sim.unplug()
    freezer.tick(timedelta(seconds=1800))

    async with fresh_hass() as hass:
        site = Site(hass, sim, await setup_charger(hass, _charger(sim)), freezer)
        completed = async_capture_events(hass, "ev_charging_session_completed")
        tracker = await setup_household(hass, household_entry())
        await hass.async_block_till_done()
        assert tracker.progress(site.charger_id) is None
        records = await tracker.store.async_records()

    assert len(records) == 1
    record = records[0]
    assert record.ended_at.isoformat() == "2026-03-10T10:35:00+00:00"
    assert DataQuality.UNPLUG_TIME_ESTIMATED in record.flags
    assert record.cost == round(record.energy_kwh * 0.25, 4)
    assert len(completed) == 1
    assert completed[0].data["ended_at"] == "2026-03-10T10:35:00+00:00"


async def test_periodic_save_while_nothing_else_changes(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """A full car sits plugged in: no events, but the snapshot is still kept fresh."""
    await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(300)
    site.sim.car_full()
    await site.refresh()  # charging stops: a transition, saved at once

    def saved_at() -> str:
        chargers = hass_storage["ev_charging.sessions.active"]["data"]["chargers"]
        return str(chargers[site.charger_id]["last_sample_at"])

    assert saved_at() == "2026-03-10T10:05:00+00:00"
    await site.run(120, step=10)  # one update tells that charging stopped
    updated = async_capture_events(hass, "ev_charging_session_updated")
    # The polls return the same data (the coordinator tells nobody); the minute timer
    # (it runs as the frozen clock is moved) saves the fresh "still there" anyway.
    await site.run(130, step=10)
    assert updated == []
    assert saved_at() >= "2026-03-10T10:08:10+00:00"  # within the last minute
