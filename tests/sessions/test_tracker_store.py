"""Persistence: one file per month, the index, retention, local months, corrupt files."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ev_charging.const import DOMAIN

from .conftest import ALICE, HOUSEHOLD_ID, STATIC, Site, household_entry, setup_household

INDEX = "ev_charging.sessions.index"
ACTIVE = "ev_charging.sessions.active"


async def _session(site: Site, when: str, seconds: float = 1800) -> None:
    site.freezer.move_to(when)
    await site.plug_in()
    await site.run(seconds)
    await site.unplug()


async def test_one_file_per_month_and_an_index(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """Completing a session rewrites its month's file and the index, nothing older."""
    tracker = await setup_household(hass, household_entry())
    await _session(site, "2026-03-10T10:00:00+00:00")
    await _session(site, "2026-03-20T10:00:00+00:00")
    march = hass_storage["ev_charging.sessions.2026-03"]
    assert len(march["data"]["records"]) == 2
    await _session(site, "2026-04-02T10:00:00+00:00")
    assert hass_storage["ev_charging.sessions.2026-03"] is march  # not written again
    assert len(hass_storage["ev_charging.sessions.2026-04"]["data"]["records"]) == 1
    index = hass_storage[INDEX]["data"]
    assert {m: info["count"] for m, info in index["months"].items()} == {
        "2026-03": 2,
        "2026-04": 1,
    }
    alice = index["months"]["2026-03"]["buckets"][f"user:{ALICE}"]
    assert alice["sessions"] == 2
    assert tracker.store.count() == 3
    snapshot = hass_storage[ACTIVE]["data"]["chargers"][site.charger_id]
    assert snapshot["session"] is None


async def test_totals_per_local_month_and_year(hass: HomeAssistant, site: Site) -> None:
    """Months are local: a session at 00:30 on 1 April in Brussels counts in April."""
    await hass.config.async_set_time_zone("Europe/Brussels")
    await setup_household(hass, household_entry())
    await _session(site, "2026-03-10T10:00:00+00:00")
    await _session(site, "2026-03-31T22:30:00+00:00")  # 00:30 on 1 April, local time
    energy = [
        float(hass.states.get(f"sensor.alice_{key}").state)
        for key in ("charged_energy", "charged_energy_this_month", "charged_energy_this_year")
    ]
    assert energy[0] > energy[1] > 0
    assert energy[2] == energy[0]
    month = hass.states.get("sensor.alice_charged_energy_this_month")
    assert month.attributes["last_reset"] == "2026-04-01T00:00:00+02:00"
    assert month.attributes["state_class"] == "total"
    assert hass.states.get("sensor.alice_charging_sessions").attributes["month_sessions"] == 1

    # May begins (local midnight): the month starts from zero, the year goes on.
    site.freezer.move_to("2026-04-30T22:00:01+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.alice_charged_energy_this_month").state == "0.0"
    assert float(hass.states.get("sensor.alice_charged_energy_this_year").state) == energy[0]
    assert hass.states.get("sensor.alice_charged_energy_this_year").attributes["last_reset"] == (
        "2026-01-01T00:00:00+01:00"
    )


async def test_retention_prunes_months_and_keeps_totals(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """Months beyond the retention are deleted; the all-time totals keep them."""
    tracker = await setup_household(hass, household_entry({**STATIC, "retention_months": 2}))
    await _session(site, "2026-03-15T10:00:00+00:00")
    await _session(site, "2026-04-15T10:00:00+00:00")
    total = float(hass.states.get("sensor.alice_charged_energy").state)
    assert "ev_charging.sessions.2026-03" in hass_storage
    site.freezer.move_to("2026-05-01T00:00:01-07:00")  # local midnight (US/Pacific)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert "ev_charging.sessions.2026-03" not in hass_storage
    assert "ev_charging.sessions.2026-04" in hass_storage
    assert tracker.store.months == ["2026-04"]
    assert float(hass.states.get("sensor.alice_charged_energy").state) == total
    assert hass.states.get("sensor.alice_charging_sessions").state == "2"
    assert len(await tracker.store.async_records()) == 1
    assert hass_storage[INDEX]["data"]["archived"]["all"]["sessions"] == 1


async def test_the_same_session_stored_twice_is_replaced(hass: HomeAssistant, site: Site) -> None:
    """After a crash the engine completes a session again: same id, one record."""
    tracker = await setup_household(hass, household_entry())
    await _session(site, "2026-03-10T10:00:00+00:00")
    record = (await tracker.store.async_records())[0]
    again = replace(record, energy_kwh=record.energy_kwh + 1, ended_at=record.ended_at)
    assert await tracker.store.async_add(again) == record
    assert [r.energy_kwh for r in await tracker.store.async_records()] == [again.energy_kwh]
    assert tracker.store.totals("all").sessions == 1


async def test_corrupt_files_are_moved_aside_and_reported(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """Broken snapshot, index and month file: each moved aside, an issue, still running."""
    hass_storage[ACTIVE] = {"version": 1, "data": {"chargers": {"X": {"version": 99}}}}
    hass_storage[INDEX] = {"version": 1, "data": {"months": {"2026-03": {"count": 1}}}}
    hass_storage["ev_charging.sessions.2026-02"] = {
        "version": 1,
        "data": {"records": [{"id": "broken"}]},
    }
    tracker = await setup_household(hass, household_entry())
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    assert entry.state is ConfigEntryState.LOADED
    moved = sorted(key for key in hass_storage if ".corrupt." in key)
    assert [key.split(".corrupt.")[0] for key in moved] == [ACTIVE, INDEX]
    assert hass_storage[moved[0]]["data"] == {"chargers": {"X": {"version": 99}}}
    issues = ir.async_get(hass)
    for key in (ACTIVE, INDEX):
        issue = issues.async_get_issue(DOMAIN, f"corrupt_store_{key}")
        assert issue is not None
        assert issue.translation_key == "corrupt_session_store"
        assert issue.translation_placeholders["key"] == key

    # Sessions are recorded as before.
    await _session(site, "2026-03-10T10:00:00+00:00")
    assert len(await tracker.store.async_records()) == 1

    # A month file found broken when it is read (an export here) is handled the same way.
    tracker.store._months["2026-02"] = {}  # the index lists it
    assert len(await tracker.store.async_records()) == 1
    assert issues.async_get_issue(DOMAIN, "corrupt_store_ev_charging.sessions.2026-02")
    assert "ev_charging.sessions.2026-02" not in hass_storage
    assert tracker.store.months == ["2026-03"]


async def test_a_file_from_a_newer_version_is_put_aside(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """A store this version cannot migrate does not stop the tracker."""
    hass_storage[ACTIVE] = {"version": 7, "data": {"chargers": {}}}
    await setup_household(hass, household_entry())
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"corrupt_store_{ACTIVE}")
    assert issue is not None
    assert ACTIVE not in hass_storage  # no file on disk to rename: it was removed
    await site.plug_in()
    assert hass_storage[ACTIVE]["version"] == 1  # written anew by the running tracker


async def test_lost_index_is_rebuilt_from_the_month_files(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    """Without its index the month files on disk are counted again."""
    tracker = await setup_household(hass, household_entry())
    await _session(site, "2026-03-10T10:00:00+00:00")
    energy = tracker.store.totals("all").energy_kwh
    assert await hass.config_entries.async_unload(HOUSEHOLD_ID)
    hass_storage.pop(INDEX)
    hass.config.config_dir = str(tmp_path)
    (tmp_path / ".storage").mkdir()
    (tmp_path / ".storage" / "ev_charging.sessions.2026-03").write_text("{}", encoding="utf-8")
    (tmp_path / ".storage" / "unrelated").write_text("{}", encoding="utf-8")
    assert await hass.config_entries.async_setup(HOUSEHOLD_ID)
    await hass.async_block_till_done()
    tracker = hass.config_entries.async_get_entry(HOUSEHOLD_ID).runtime_data.tracker
    assert tracker.store.months == ["2026-03"]
    assert tracker.store.totals("all").energy_kwh == energy
    assert hass_storage[INDEX]["data"]["months"]["2026-03"]["count"] == 1


async def test_session_lookup_by_id(hass: HomeAssistant, site: Site) -> None:
    """Ids carry the plug-in time: the likely month is searched first, others after."""
    tracker = await setup_household(hass, household_entry())
    await _session(site, "2026-03-31T23:59:00+00:00", seconds=3600)
    await _session(site, "2026-05-02T10:00:00+00:00")
    records = await tracker.store.async_records(
        datetime.fromisoformat("2026-03-01T00:00:00+00:00"),
        datetime.fromisoformat("2026-04-30T00:00:00+00:00"),
    )
    assert len(records) == 1
    assert await tracker.store.async_find(records[0].id) == records[0]
    assert await tracker.store.async_find("no-stamp") is None
    moved = replace(records[0], started_at=records[0].started_at + timedelta(days=40))
    assert await tracker.store.async_replace(moved) == records[0]
    assert tracker.store.months == ["2026-05"]
    assert tracker.store.period("all", ["2026-05"]).sessions == 2


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        (ACTIVE, ["not", "a", "dict"]),
        (ACTIVE, {"chargers": {"A": {"version": 1, "charger_id": "B"}}}),
        (INDEX, {"months": []}),
        (INDEX, {"months": {"March": {"count": 1, "buckets": {}}}}),
    ],
)
async def test_malformed_content_is_put_aside(
    hass: HomeAssistant, hass_storage: dict[str, Any], key: str, payload: Any
) -> None:
    """Whatever does not read as a snapshot or an index is moved aside."""
    hass_storage[key] = {"version": 1, "data": payload}
    await setup_household(hass, household_entry())
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"corrupt_store_{key}") is not None
    moved = [k for k in hass_storage if k.startswith(f"{key}.corrupt.")]
    assert len(moved) == 1
    assert hass_storage[moved[0]]["data"] == payload


async def test_unreadable_file_on_disk_is_renamed(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    """A file this version cannot read is renamed next to where it was."""
    hass.config.config_dir = str(tmp_path)
    folder = tmp_path / ".storage"
    folder.mkdir()
    (folder / ACTIVE).write_text('{"version": 7}', encoding="utf-8")
    hass_storage[ACTIVE] = {"version": 7, "data": {}}
    await setup_household(hass, household_entry())
    assert not (folder / ACTIVE).exists()
    assert [p.name.split(".corrupt.")[0] for p in folder.iterdir()] == [ACTIVE]


async def test_store_edits_of_unknown_sessions(hass: HomeAssistant, site: Site) -> None:
    """Replacing or deleting a session that is not stored."""
    tracker = await setup_household(hass, household_entry())
    await _session(site, "2026-03-10T10:00:00+00:00")
    record = (await tracker.store.async_records())[0]
    with pytest.raises(KeyError):
        await tracker.store.async_replace(replace(record, id="other"))
    assert await tracker.store.async_delete("other") is None


async def test_keep_everything_and_prune_the_month_being_written(
    hass: HomeAssistant, site: Site
) -> None:
    """Retention 0 keeps all; a short retention may also drop the month just appended."""
    tracker = await setup_household(hass, household_entry({**STATIC, "retention_months": 0}))
    await _session(site, "2026-03-10T10:00:00+00:00")
    assert await tracker.store.async_prune(0, datetime(2030, 1, 1).date()) == []
    assert await tracker.store.async_prune(1, datetime(2026, 4, 1).date()) == ["2026-03"]
    assert tracker.store.months == []
    await _session(site, "2026-04-10T10:00:00+00:00")
    assert tracker.store.months == ["2026-04"]
    assert tracker.store.totals("all").sessions == 2


async def test_removing_the_household_deletes_its_files(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """The history, the index and the snapshots go with the entry."""
    await setup_household(hass, household_entry())
    await _session(site, "2026-03-10T10:00:00+00:00")
    await _session(site, "2026-04-10T10:00:00+00:00")
    assert await hass.config_entries.async_remove(HOUSEHOLD_ID)
    await hass.async_block_till_done()
    assert not [key for key in hass_storage if key.startswith("ev_charging.sessions")]
