"""Long-term statistics per user, written to the recorder for the Energy panel."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ev_charging.const import DOMAIN

from .conftest import GUEST_TOKEN, Site, household_entry, setup_household

ALICE_ENERGY = "ev_charging:user_alice_energy"
ALICE_COST = "ev_charging:user_alice_cost"
BOB_ENERGY = "ev_charging:user_bob_energy"
UNASSIGNED = "ev_charging:unassigned_energy"


async def _rows(hass: HomeAssistant, statistic_id: str) -> list[tuple[str, float]]:
    await async_wait_recording_done(hass)
    found: dict[str, list[dict[str, Any]]] = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime.fromisoformat("2026-03-01T00:00:00+00:00"),
        None,
        {statistic_id},
        "hour",
        None,
        {"sum"},
    )
    return [
        (datetime.fromtimestamp(row["start"]).astimezone().isoformat(), round(row["sum"], 4))
        for row in found.get(statistic_id, [])
    ]


def _hours(rows: list[tuple[str, float]]) -> list[str]:
    return [datetime.fromisoformat(start).astimezone().strftime("%d %H") for start, _ in rows]


async def test_sessions_feed_hourly_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, site: Site
) -> None:
    """Energy and cost spread over the charging hours; sums continue across sessions."""
    tracker = await setup_household(hass, household_entry())
    site.freezer.move_to("2026-03-10T10:30:00+00:00")
    await site.plug_in()
    await site.run(3600)  # 10:30 - 11:30: half in each hour
    await site.unplug()
    first = (await tracker.store.async_records())[0]

    energy = await _rows(hass, ALICE_ENERGY)
    assert len(energy) == 2
    half = round(first.energy_kwh / 2, 4)
    assert [value for _, value in energy] == [half, round(first.energy_kwh, 4)]
    cost = await _rows(hass, ALICE_COST)
    assert cost[-1][1] == round(first.cost or 0, 4)

    site.freezer.move_to("2026-03-11T08:00:00+00:00")
    await site.plug_in()
    await site.run(1800)
    await site.unplug()
    second = (await tracker.store.async_records())[1]
    energy = await _rows(hass, ALICE_ENERGY)
    assert len(energy) == 3
    assert energy[-1][1] == round(first.energy_kwh + second.energy_kwh, 4)

    ids = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    meta = {item["statistic_id"]: item for item in ids}
    assert meta[ALICE_ENERGY]["source"] == DOMAIN
    assert meta[ALICE_ENERGY]["statistics_unit_of_measurement"] == "kWh"
    assert meta[ALICE_COST]["statistics_unit_of_measurement"] == "EUR"
    assert meta[ALICE_ENERGY]["name"] == "Alice charging energy"


async def test_edits_rewrite_the_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, site: Site
) -> None:
    """Assigning and deleting sessions moves the energy between the users' series."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in(token=None)
    await site.run(1800)
    await site.unplug()
    site.freezer.move_to("2026-03-10T14:00:00+00:00")
    await site.plug_in(GUEST_TOKEN)
    await site.run(1800)
    await site.unplug()
    unassigned, bob = await tracker.store.async_records()
    assert (await _rows(hass, UNASSIGNED))[-1][1] == round(unassigned.energy_kwh, 4)

    await hass.services.async_call(
        DOMAIN, "assign_session", {"session_id": unassigned.id, "user": "Bob"}, blocking=True
    )
    bob_rows = await _rows(hass, BOB_ENERGY)
    assert _hours(bob_rows) == [
        _hours([(unassigned.started_at.isoformat(), 0)])[0],
        *_hours([(bob.started_at.isoformat(), 0)]),
    ]
    assert bob_rows[-1][1] == round(unassigned.energy_kwh + bob.energy_kwh, 4)
    assert (await _rows(hass, UNASSIGNED))[-1][1] == 0

    await hass.services.async_call(
        DOMAIN, "delete_session", {"session_id": unassigned.id}, blocking=True
    )
    bob_rows = await _rows(hass, BOB_ENERGY)
    assert [value for _, value in bob_rows] == [0, round(bob.energy_kwh, 4)]


async def test_a_late_session_rewrites_from_its_hour(
    recorder_mock: Recorder, hass: HomeAssistant, site: Site
) -> None:
    """A session ending before rows already written (a replay) recomputes the sums."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(1800)
    await site.unplug()
    site.freezer.move_to("2026-03-10T15:00:00+00:00")
    await site.plug_in()
    await site.run(1800)
    await site.unplug()
    early, late = await tracker.store.async_records()
    # The first session is stored again (as after a crash), one kWh more.
    await tracker._store_record(replace(early, energy_kwh=early.energy_kwh + 1))
    rows = await _rows(hass, ALICE_ENERGY)
    assert rows[-1][1] == round(early.energy_kwh + 1 + late.energy_kwh, 4)
