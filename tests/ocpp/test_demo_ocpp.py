"""The demo's stand-in ``ocpp`` integration loads, shows a charger and plays its sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries, loader
from homeassistant.const import SERVICE_TURN_OFF
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest

from custom_components.ev_charging.backends.ocpp_proxy import async_list_ocpp_chargers
from custom_components.ev_charging.const import DOMAIN
from tests.simulators.demo_ocpp.scenario import DemoScenario
from tests.simulators.fake_ocpp import ChargePointModel

from .conftest import MEASURED_AT, our_entity, settle, unload_all

DEMO_DIR = Path(__file__).parent.parent / "simulators" / "demo_ocpp"
CID = "ocpp_charger_1"


@pytest.fixture
async def demo_ocpp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> AsyncIterator[None]:
    """The stand-in registered as the ``ocpp`` integration, as the demo installs it."""
    freezer.move_to(MEASURED_AT)
    assert await async_setup_component(hass, "homeassistant", {})
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    hass.data[loader.DATA_INTEGRATIONS]["ocpp"] = loader.Integration(
        hass, "tests.simulators.demo_ocpp", DEMO_DIR, manifest, set(os.listdir(DEMO_DIR))
    )
    # Imported here, not at collection: the import registers the handler for good.
    from tests.simulators.demo_ocpp.config_flow import DemoOcppConfigFlow

    # Imported once per run, so the handler is set again for each test, then removed.
    before = config_entries.HANDLERS.get("ocpp")
    config_entries.HANDLERS["ocpp"] = DemoOcppConfigFlow
    yield
    await unload_all(hass)
    for entry in hass.config_entries.async_entries("ocpp"):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    if before is None:
        del config_entries.HANDLERS["ocpp"]
    else:
        config_entries.HANDLERS["ocpp"] = before


async def _flow(hass: HomeAssistant, handler: str, *steps: dict[str, Any]) -> dict[str, Any]:
    """Run a config flow with one payload per step, as the demo script does."""
    result = await hass.config_entries.flow.async_init(
        handler, context={"source": config_entries.SOURCE_USER}
    )
    for payload in steps:
        if result["type"] not in (FlowResultType.FORM, FlowResultType.MENU):
            break
        result = await hass.config_entries.flow.async_configure(result["flow_id"], payload)
    return dict(result)


def _state(hass: HomeAssistant, platform: str, key: str) -> str:
    state = hass.states.get(our_entity(hass, platform, key, CID))
    assert state is not None
    return state.state


async def test_demo_charger_is_picked_and_charges(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, demo_ocpp: None
) -> None:
    """The demo's payloads: the stand-in's form, then our menu and charger form."""
    result = await _flow(hass, "ocpp", {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get("sensor.charger_status_connector").state == "Available"  # type: ignore[union-attr]
    assert hass.states.get("switch.charger_charge_control").state == "off"  # type: ignore[union-attr]
    (choice,) = await async_list_ocpp_chargers(hass)
    assert (choice.cpid, choice.connectors, choice.reason) == ("charger", (1,), None)
    assert (choice.manufacturer, choice.model) == ("Demo Charging Co", "DemoBox 22")
    assert (await _flow(hass, "ocpp", {}))["reason"] == "already_configured"

    result = await _flow(
        hass,
        DOMAIN,
        {"next_step_id": "ocpp_proxy"},
        {"charger": "charger", "limit_mode": "profile"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _state(hass, "sensor", "status") == "available"

    seen: list[str] = []
    tags: set[str] = set()
    energies: list[float] = []
    for _ in range(38):  # a whole session: about 6 minutes of 10 s ticks
        await settle(hass, freezer, 10)
        seen.append(_state(hass, "sensor", "status"))
        tags.add(_state(hass, "sensor", "rfid_tag"))
        if seen[-1] == "charging":
            energies.append(float(_state(hass, "sensor", "session_energy")))
    statuses = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert statuses == [
        "available",
        "plugged",
        "charging",
        "suspended_ev",
        "finishing",
        "available",
    ]
    assert "04A1B2C3D4E5F6" in tags
    assert energies == sorted(energies)
    assert energies[-1] > 0.5
    assert float(_state(hass, "sensor", "lifetime_energy")) > 1012.345 + 0.5
    assert _state(hass, "sensor", "stop_reason") == "Local"


async def test_demo_charger_follows_our_commands(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, demo_ocpp: None
) -> None:
    """A limit lowers the car's current on the next tick; a remote stop ends the session."""
    await _flow(hass, "ocpp", {"cpid": "charger", "num_connectors": 1})
    await _flow(hass, DOMAIN, {"next_step_id": "ocpp_proxy"}, {"charger": "charger"})
    await hass.async_block_till_done()
    for _ in range(8):  # plugged in at 40 s, started at 60 s, metered at 70 s
        await settle(hass, freezer, 10)
    assert _state(hass, "sensor", "status") == "charging"
    assert _state(hass, "sensor", "current_l1") == "16.0"

    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": our_entity(hass, "number", "charging_current", CID), "value": 10},
        blocking=True,
    )
    await settle(hass, freezer, 10)
    assert _state(hass, "sensor", "current_offered") == "10.0"
    assert _state(hass, "sensor", "current_l1") == "10.0"

    await hass.services.async_call(
        "switch",
        SERVICE_TURN_OFF,
        {"entity_id": our_entity(hass, "switch", "charging_enabled", CID)},
        blocking=True,
    )
    await settle(hass, freezer)
    assert _state(hass, "sensor", "status") == "finishing"
    assert _state(hass, "sensor", "stop_reason") == "Remote"
    for _ in range(5):  # the driver unplugs after a while
        await settle(hass, freezer, 10)
    assert _state(hass, "sensor", "status") == "available"


async def test_demo_two_connectors_and_a_bad_charger_id(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, demo_ocpp: None
) -> None:
    """The form refuses an id the real integration would refuse; both connectors are offered."""
    result = await _flow(hass, "ocpp", {"cpid": "My Charger", "num_connectors": 2})
    assert result["errors"] == {"cpid": "invalid_cpid"}
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"cpid": "garage", "num_connectors": 2}
        )
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (choice,) = await async_list_ocpp_chargers(hass)
    assert choice.connectors == (1, 2)
    for _ in range(31):  # a heartbeat every 30 ticks
        await settle(hass, freezer, 10)
    # Connector 1 started at 60 s and its car is full; connector 2 started at 210 s.
    status = "sensor.garage_connector_{}_status_connector"
    assert hass.states.get(status.format(1)).state == "SuspendedEV"  # type: ignore[union-attr]
    assert hass.states.get(status.format(2)).state == "Charging"  # type: ignore[union-attr]
    assert hass.states.get("sensor.garage_heartbeat").state not in ("unknown", "unavailable")  # type: ignore[union-attr]
    assert len(hass.config_entries.async_entries("ocpp")[0].runtime_data.calls) <= 200


def test_scenario_unplugs_a_car_left_without_a_session() -> None:
    """Plugged in but out of the story's order (a fault cleared, say): the car leaves."""
    model = ChargePointModel()
    model.connect()
    scenario = DemoScenario(model)
    model.fault(1)
    assert [scenario.step() for _ in range(4)] == ["wait", "wait", "wait", "unplug"]
    assert model.connector(1).status == "Available"
