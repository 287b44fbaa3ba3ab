"""The session actions: export, assign, delete, close; their validation and errors."""

from __future__ import annotations

import csv
from datetime import timedelta
import io
import json
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.sessions.records import DataQuality
from custom_components.ev_charging.sessions.tracker import SessionTracker

from .conftest import ALICE, BOB, CAR, CHARGER, GUEST_TOKEN, Site, household_entry, setup_household


async def _three_sessions(site: Site) -> None:
    """Alice on the 10th, Bob the next day, Alice again the day after."""
    for token in ("04A1B2C3D4", GUEST_TOKEN, "04A1B2C3D4"):
        await site.plug_in(token)
        await site.run(1800)
        await site.unplug()
        site.freezer.tick(timedelta(days=1) - timedelta(seconds=1800))


@pytest.fixture
async def tracker(hass: HomeAssistant, site: Site, tmp_path: Path) -> SessionTracker:
    """The household with three sessions; exports go to a temporary folder."""
    hass.config.config_dir = str(tmp_path)
    tracker = await setup_household(hass, household_entry())
    await _three_sessions(site)
    return tracker


async def test_export_csv_by_user_and_dates(
    hass: HomeAssistant, tracker: SessionTracker, tmp_path: Path
) -> None:
    """A CSV with one row per session of the user within the dates, and its path."""
    response = await hass.services.async_call(
        DOMAIN,
        "export_sessions",
        {"user": "alice", "start_date": "2026-03-10", "end_date": "2026-03-11"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    path = Path(str(response["path"]))
    assert path.parent == tmp_path / "ev_charging_exports"
    assert path.name.startswith("sessions_2026-03-10_2026-03-11_alice_")
    assert path.suffix == ".csv"
    assert response["sessions"] == 1
    text = await hass.async_add_executor_job(path.read_text, "utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    record = (await tracker.store.async_records())[0]
    assert row["id"] == record.id
    assert row["user_name"] == "Alice"
    assert row["vehicle_name"] == "Model 3"
    assert row["started_at"] == "2026-03-10T10:00:00+00:00"
    assert float(row["energy_kwh"]) == record.energy_kwh
    assert float(row["cost"]) == record.cost
    assert row["currency"] == "EUR"
    assert row["guest_price"] == ""
    assert row["flags"] == "energy_from_lifetime_counter"


async def test_export_json_of_everything(
    hass: HomeAssistant, tracker: SessionTracker, tmp_path: Path
) -> None:
    """Without filters: every session, full records, oldest first."""
    response = await hass.services.async_call(
        DOMAIN, "export_sessions", {"format": "json"}, blocking=True, return_response=True
    )
    assert response is not None
    path = Path(str(response["path"]))
    content = json.loads(await hass.async_add_executor_job(path.read_text, "utf-8"))
    records = await tracker.store.async_records()
    assert content == {"sessions": [r.to_dict() for r in records]}
    assert [s["user_name"] for s in content["sessions"]] == ["Alice", "Bob", "Alice"]
    assert content["sessions"][1]["guest_price"] == records[1].guest_price


async def test_export_validation(hass: HomeAssistant, tracker: SessionTracker) -> None:
    """Dates in the wrong order and unknown users are refused with translated errors."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "export_sessions",
            {"start_date": "2026-03-12", "end_date": "2026-03-10"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "invalid_date_range"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"user": "Zoe"}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "unknown_user"
    assert err.value.translation_placeholders == {"user": "Zoe"}


async def test_export_write_failure(
    hass: HomeAssistant, tracker: SessionTracker, tmp_path: Path
) -> None:
    """A folder that cannot be written is a translated error."""
    (tmp_path / "ev_charging_exports").write_text("a file in the way", encoding="utf-8")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "export_failed"


async def test_assign_a_completed_session(hass: HomeAssistant, tracker: SessionTracker) -> None:
    """Bob's session given to Alice: the record, both users' totals follow."""
    bob_session = (await tracker.store.async_records())[1]
    assert bob_session.user_id == BOB
    await hass.services.async_call(
        DOMAIN,
        "assign_session",
        {"session_id": bob_session.id, "user": "Alice", "vehicle": CAR},
        blocking=True,
    )
    await hass.async_block_till_done()
    record = await tracker.store.async_find(bob_session.id)
    assert record is not None
    assert (record.user_id, record.vehicle_name, record.guest_price) == (ALICE, "Model 3", None)
    assert DataQuality.REASSIGNED in record.flags
    assert hass.states.get("sensor.alice_charging_sessions").state == "3"
    assert hass.states.get("sensor.bob_charging_sessions").state == "0"
    assert hass.states.get("sensor.charging_sessions_guest_charging_sessions").state == "0"


async def test_assign_the_running_session(hass: HomeAssistant, site: Site) -> None:
    """A session without a card, claimed while it runs; a late card does not undo it."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in(token=None)
    await site.run(300)
    progress = tracker.progress(CHARGER)
    assert progress is not None
    assert progress.user_id is None
    await hass.services.async_call(
        DOMAIN, "assign_session", {"session_id": progress.session_id, "user": BOB}, blocking=True
    )
    assert hass.states.get("sensor.eno_one_session_user").state == "Bob"
    site.sim.set_value(1, "transaction_token", "04A1B2C3D4")
    await site.run(300)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert record.user_name == "Bob"
    assert record.guest_price == round(record.energy_kwh * 0.5, 2)
    assert DataQuality.REASSIGNED in record.flags


async def test_assign_validation(hass: HomeAssistant, tracker: SessionTracker) -> None:
    """Unknown users, vehicles and sessions are translated errors."""
    session_id = (await tracker.store.async_records())[0].id
    cases = [
        ({"session_id": session_id, "user": "Zoe"}, "unknown_user"),
        ({"session_id": session_id, "user": "Alice", "vehicle": "Bus"}, "unknown_vehicle"),
        ({"session_id": session_id, "user": ALICE, "vehicle": "model 3"}, None),
        ({"session_id": "nope-20260101T000000Z", "user": "Alice"}, "session_not_found"),
    ]
    for data, key in cases:
        if key is None:  # by id and by name, any letter case
            await hass.services.async_call(DOMAIN, "assign_session", data, blocking=True)
            continue
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, "assign_session", data, blocking=True)
        assert err.value.translation_key == key


async def test_delete_a_session(hass: HomeAssistant, tracker: SessionTracker) -> None:
    """Deleted: gone from the store, the totals and the last-session attributes."""
    first, _, last = await tracker.store.async_records()
    await hass.services.async_call(DOMAIN, "delete_session", {"session_id": last.id}, blocking=True)
    assert await tracker.store.async_find(last.id) is None
    assert hass.states.get("sensor.alice_charging_sessions").state == "1"
    assert float(hass.states.get("sensor.alice_charged_energy").state) == first.energy_kwh
    assert hass.states.get("sensor.alice_last_charging_session").state == (
        first.ended_at.isoformat()
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "delete_session", {"session_id": last.id}, blocking=True
        )
    assert err.value.translation_key == "session_not_found"


async def test_close_a_stuck_session(hass: HomeAssistant, site: Site) -> None:
    """Closed by hand: completed now; no new session until the car has left."""
    tracker = await setup_household(hass, household_entry())
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, CHARGER)})
    assert device is not None
    await site.plug_in()
    await site.run(600)
    progress = tracker.progress(CHARGER)
    assert progress is not None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "delete_session", {"session_id": progress.session_id}, blocking=True
        )
    assert err.value.translation_key == "session_in_progress"

    await hass.services.async_call(DOMAIN, "close_session", {"device_id": device.id}, blocking=True)
    assert hass.states.get("sensor.eno_one_charging_session").state == "closed"
    record = (await tracker.store.async_records())[0]
    assert DataQuality.CLOSED_BY_USER in record.flags
    assert record.plugged_out_at is None
    await site.run(600)
    assert tracker.progress(CHARGER) is None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "close_session", {"entity_id": "sensor.eno_one_status"}, blocking=True
        )
    assert err.value.translation_key == "no_active_session"
    await site.unplug()
    assert hass.states.get("sensor.eno_one_charging_session").state == "idle"
    assert len(await tracker.store.async_records()) == 1


async def test_close_validation(hass: HomeAssistant, site: Site) -> None:
    """No target, or a device that is not a charger."""
    await setup_household(hass, household_entry())
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "close_session", {}, blocking=True)
    assert err.value.translation_key == "no_target"
    user_device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{household_entry().entry_id}_user_{ALICE}")}
    )
    assert user_device is not None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "close_session", {"device_id": user_device.id}, blocking=True
        )
    assert err.value.translation_key == "not_a_charger"


async def test_actions_without_the_household(hass: HomeAssistant, site: Site) -> None:
    """Registered with the integration; refused while no household entry is loaded."""
    for service, data in (
        ("export_sessions", {}),
        ("assign_session", {"session_id": "x", "user": "y"}),
        ("delete_session", {"session_id": "x"}),
        ("close_session", {"device_id": "x"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, service, data, blocking=True, return_response=service == "export_sessions"
            )
        assert err.value.translation_key == "sessions_not_loaded"
