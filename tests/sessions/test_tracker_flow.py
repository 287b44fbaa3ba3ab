"""The household entry's flows: creation, options, users, vehicles and cards."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import pytest
import voluptuous_serialize

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.sessions.flow import general_schema, pricing_schema

from .conftest import (
    ALICE,
    BOB,
    BOB_CARD,
    CAR,
    CHARGER,
    HOUSEHOLD_ID,
    Site,
    household_entry,
    setup_household,
)


async def _start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "sessions" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "sessions"}
    )
    return dict(result)


async def test_create_with_a_static_price(hass: HomeAssistant) -> None:
    """Menu -> pricing mode -> price: the entry, and only one."""
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sessions"
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"mode": "static", "guest_method": "fixed"}
        )
    )
    assert result["errors"] == {"guest_value": "guest_value_required"}
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"mode": "static", "guest_method": "fixed", "guest_value": 0.4}
        )
    )
    assert result["step_id"] == "sessions_pricing"
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"price_per_kwh": 0.28})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Charging sessions"
    assert result["data"] == {"feature": "sessions"}
    assert result["options"] == {
        "mode": "static",
        "guest_method": "fixed",
        "guest_value": 0.4,
        "price_per_kwh": 0.28,
    }
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.tracker.settings.guest_pricing.value == 0.4

    again = await _start(hass)
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "sessions_already_configured"

    result = dict(
        await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sessions_use_options"


async def test_create_with_spot_and_time_of_use(hass: HomeAssistant) -> None:
    """The spot entity must exist; periods must parse (the line is reported)."""
    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"mode": "spot", "guest_method": "none"}
        )
    )
    spot = {"spot_entity": "sensor.spot", "additional_cost_per_kwh": 0.1, "multiplier": 1.21}
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], spot))
    assert result["errors"] == {"spot_entity": "entity_not_found"}
    hass.states.async_set("sensor.spot", "0.12")
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], spot))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["spot_entity"] == "sensor.spot"
    await hass.config_entries.async_remove(result["result"].entry_id)

    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"mode": "time_of_use", "guest_method": "none"}
        )
    )
    tou: dict[str, Any] = {"additional_cost_per_kwh": 0, "multiplier": 1.0}
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {**tou, "periods": "22:00-07:00 0.12\nnonsense"}
        )
    )
    assert result["errors"] == {"periods": "invalid_periods"}
    assert result["description_placeholders"]["line"] == "2"
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {**tou, "periods": "  "})
    )
    assert result["errors"] == {"periods": "invalid_periods"}
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {**tou, "periods": "22:00-07:00 0.12\n7:00-22:00 0,30 mon-fri", "default_price": 0.2},
        )
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["periods"] == [
        {"start": "22:00", "end": "07:00", "price": 0.12, "weekdays": [0, 1, 2, 3, 4, 5, 6]},
        {"start": "07:00", "end": "22:00", "price": 0.3, "weekdays": [0, 1, 2, 3, 4]},
    ]
    tracker = result["result"].runtime_data.tracker
    assert tracker.tariff.nominal_source.value == "time_of_use"


async def test_options_change_the_price_of_a_running_session(
    hass: HomeAssistant, site: Site
) -> None:
    """New options apply at once, without a reload: energy from now on at the new price."""
    tracker = await setup_household(hass, household_entry())
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    await site.plug_in()
    await site.run(600)
    before = tracker.progress(CHARGER)

    result = await hass.config_entries.options.async_init(HOUSEHOLD_ID)
    assert result["step_id"] == "sessions_options"
    general = {
        "mode": "time_of_use",
        "guest_method": "markup",
        "retention_months": 12,
        "min_session_s": 120,
        "min_session_kwh": 0.1,
        "crosscheck_threshold_pct": 10,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], general)
    assert result["errors"] == {"guest_value": "guest_value_required"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**general, "guest_value": 1.3}
    )
    assert result["step_id"] == "sessions_pricing"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"periods": "bad", "additional_cost_per_kwh": 0, "multiplier": 1},
    )
    assert result["errors"] == {"periods": "invalid_periods"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"periods": "00:00-00:00 0.40", "additional_cost_per_kwh": 0, "multiplier": 1},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.tracker is tracker  # not reloaded
    assert entry.options["mode"] == "time_of_use"
    assert "price_per_kwh" not in entry.options
    assert tracker.settings.min_session_s == 120
    await site.run(600)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert before is not None
    second = record.energy_kwh - before.energy_kwh
    assert record.cost == round(before.energy_kwh * 0.25 + second * 0.40, 4)
    assert record.price_source == "mixed"

    # Back to static: the form is pre-filled with what is stored.
    result = await hass.config_entries.options.async_init(HOUSEHOLD_ID)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**general, "mode": "static", "guest_method": "none"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"price_per_kwh": 0.3}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "guest_value" not in entry.options
    assert "periods" not in entry.options


async def _subentry(
    hass: HomeAssistant, kind: str, data: dict[str, Any], subentry_id: str | None = None
) -> dict[str, Any]:
    context = {"source": SOURCE_USER}
    if subentry_id is not None:
        context = {"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id}
    result = await hass.config_entries.subentries.async_init((HOUSEHOLD_ID, kind), context=context)
    if result["type"] is not FlowResultType.FORM:
        return dict(result)
    return dict(await hass.config_entries.subentries.async_configure(result["flow_id"], data))


async def test_add_a_user_without_reload(hass: HomeAssistant, site: Site) -> None:
    """A new user's sensors appear at once; their card works at the next plug-in."""
    tracker = await setup_household(hass, household_entry())
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)

    result = await _subentry(
        hass, "user", {"name": "Alice", "type": "resident", "guest_method": "default"}
    )
    assert result["errors"] == {"name": "name_exists"}
    result = await _subentry(
        hass, "user", {"name": "!!", "type": "resident", "guest_method": "default"}
    )
    assert result["errors"] == {"name": "invalid_name"}
    result = await _subentry(
        hass, "user", {"name": "Dave", "type": "guest", "guest_method": "fixed"}
    )
    assert result["errors"] == {"guest_value": "guest_value_required"}
    result = await _subentry(
        hass, "user", {"name": "Dave", "type": "guest", "guest_method": "fixed", "guest_value": 0.6}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.tracker is tracker
    assert hass.states.get("sensor.dave_charging_sessions").state == "0"
    assert hass.states.get("sensor.dave_billed").state == "0.0"
    dave = next(sid for sid, sub in entry.subentries.items() if sub.title == "Dave")

    result = await _subentry(hass, "card", {"uid": "de:ad:be:ef", "user_id": dave})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "DEADBEEF (Dave)"
    await hass.async_block_till_done()
    await site.plug_in("DEADBEEF")
    await site.run(600)
    await site.unplug()
    record = (await tracker.store.async_records())[0]
    assert record.user_name == "Dave"
    assert record.guest_price == round(record.energy_kwh * 0.6, 2)
    assert hass.states.get("sensor.dave_charging_sessions").state == "1"


async def test_edit_and_remove_a_user(hass: HomeAssistant, site: Site) -> None:
    """Renaming renames the device; removing takes the sensors and the cards along."""
    await setup_household(hass, household_entry())
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    result = await _subentry(
        hass, "user", {"name": "Robert", "guest_method": "none", "active": True}, BOB
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[BOB].data["type"] == "guest"
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{HOUSEHOLD_ID}_user_{BOB}")}
    )
    assert device is not None
    assert device.name == "Robert"
    result = await _subentry(
        hass, "user", {"name": "Alice", "guest_method": "none", "active": True}, BOB
    )
    assert result["errors"] == {"name": "name_exists"}

    assert er.async_get(hass).async_get("sensor.bob_billed") is not None
    hass.config_entries.async_remove_subentry(entry, BOB)
    await hass.async_block_till_done()
    assert BOB_CARD not in entry.subentries
    assert er.async_get(hass).async_get("sensor.bob_billed") is None
    assert hass.states.get("sensor.bob_billed") is None
    assert entry.state is ConfigEntryState.LOADED


async def test_vehicle_flow(hass: HomeAssistant, site: Site) -> None:
    """Add and edit a vehicle; efficiency is entered in percent."""
    await setup_household(hass, household_entry())
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    data = {"name": "Zoe", "usable_capacity_kwh": 52, "efficiency": 88}
    result = await _subentry(hass, "vehicle", data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"name": "Zoe", "usable_capacity_kwh": 52.0, "efficiency": 0.88}
    assert (await _subentry(hass, "vehicle", data))["errors"] == {"name": "name_exists"}
    assert (await _subentry(hass, "vehicle", {**data, "name": " "}))["errors"] == {
        "name": "invalid_name"
    }
    result = await _subentry(hass, "vehicle", {**data, "name": "Model 3", "efficiency": 92}, CAR)
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[CAR].data["efficiency"] == 0.92
    assert (await _subentry(hass, "vehicle", {**data, "name": "Zoe"}, CAR))["errors"] == {
        "name": "name_exists"
    }
    # The reconfigure form shows the efficiency in percent.
    result = await hass.config_entries.subentries.async_init(
        (HOUSEHOLD_ID, "vehicle"), context={"source": SOURCE_RECONFIGURE, "subentry_id": CAR}
    )
    schema = result["data_schema"].schema
    defaults = {str(key): key.default() for key in schema if callable(key.default)}
    assert defaults["efficiency"] == 92.0


async def test_card_flow(hass: HomeAssistant, site: Site) -> None:
    """Cards by UID or slot; validation; editing; none without a user."""
    await setup_household(hass, household_entry(items=[]))
    result = await _subentry(hass, "card", {"uid": "AA"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_users"

    await _subentry(hass, "user", {"name": "Erin", "type": "resident", "guest_method": "default"})
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    erin = next(iter(entry.subentries))
    result = await _subentry(hass, "card", {"user_id": erin})
    assert result["errors"] == {"base": "uid_or_index"}
    result = await _subentry(hass, "card", {"index": 3, "user_id": erin})
    assert result["errors"] == {"charger_id": "index_needs_charger"}
    result = await _subentry(hass, "card", {"index": 3, "charger_id": CHARGER, "user_id": erin})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ENO one #3 (Erin)"
    result = await _subentry(hass, "card", {"index": 3, "charger_id": CHARGER, "user_id": erin})
    assert result["errors"] == {"base": "card_exists"}
    await hass.async_block_till_done()
    card = next(sid for sid, sub in entry.subentries.items() if sub.subentry_type == "card")
    result = await _subentry(
        hass,
        "card",
        {"index": 4, "charger_id": CHARGER, "user_id": erin, "active": False},
        card,
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[card].data["active"] is False
    assert entry.subentries[card].data["index"] == 4


@pytest.mark.parametrize("kind", ["user", "vehicle", "card"])
async def test_reconfigure_forms_show_the_stored_values(
    hass: HomeAssistant, site: Site, kind: str
) -> None:
    """Each reconfigure form opens on the subentry's current data."""
    await setup_household(hass, household_entry())
    subentry_id = {"user": ALICE, "vehicle": CAR, "card": BOB_CARD}[kind]
    result = await hass.config_entries.subentries.async_init(
        (HOUSEHOLD_ID, kind), context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert "active" in {str(key) for key in result["data_schema"].schema} or kind == "vehicle"


async def test_every_form_serializes_for_the_frontend(hass: HomeAssistant, site: Site) -> None:
    """The forms go to the frontend as JSON: every field must serialize."""
    await setup_household(hass, household_entry())
    schemas = [
        general_schema({}, history=True),
        *(pricing_schema(mode, {}) for mode in ("static", "spot", "time_of_use")),
    ]
    for kind, subentry_id in (("user", ALICE), ("vehicle", CAR), ("card", BOB_CARD)):
        for context in (
            {"source": SOURCE_USER},
            {"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
        ):
            result = await hass.config_entries.subentries.async_init(
                (HOUSEHOLD_ID, kind), context=context
            )
            schemas.append(result["data_schema"])
            hass.config_entries.subentries.async_abort(result["flow_id"])
    for schema in schemas:
        fields = voluptuous_serialize.convert(schema, custom_serializer=cv.custom_serializer)
        assert all("name" in field for field in fields)
