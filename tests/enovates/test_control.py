"""Driving the ENO one: the EMS limit through the number, switches and actions."""

from __future__ import annotations

from typing import Any

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.conftest import SimulatorFactory
from tests.simulators.enovates import EnovatesSimulator

from .conftest import SERIAL, entry_for, setup_entry


def _device_id(hass: HomeAssistant, charger_id: str = SERIAL) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, charger_id)})
    assert device is not None
    return device.id


async def _action(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)
    await hass.async_block_till_done()


async def test_number_writes_the_ems_limit_and_reads_it_back(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """10 A in the UI is 10000 mA on the wire; the car then draws 10 A."""
    await setup_entry(hass, entry_for(charging_sim))
    await hass.services.async_call(
        "number",
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: "number.eno_one_charging_current", ATTR_VALUE: 10},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert charging_sim.ems_limit_writes == [(1, 10000)]
    assert charging_sim.value(1, "ems_limit") == 10000
    assert hass.states.get("number.eno_one_charging_current").state == "10.0"
    assert hass.states.get("sensor.eno_one_current_offered").state == "10.0"
    assert hass.states.get("sensor.eno_one_current_l1").state == "10.0"


async def test_limit_switch_offers_no_limit_as_its_own_state(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """Off writes -1 (no limit); on writes the charger maximum."""
    await setup_entry(hass, entry_for(charging_sim))
    target = {ATTR_ENTITY_ID: "switch.eno_one_current_limit"}
    await hass.services.async_call("switch", SERVICE_TURN_OFF, target, blocking=True)
    await hass.async_block_till_done()
    assert charging_sim.ems_limit_writes[-1] == (1, -1)
    assert hass.states.get("switch.eno_one_current_limit").state == "off"
    await hass.services.async_call("switch", SERVICE_TURN_ON, target, blocking=True)
    await hass.async_block_till_done()
    assert charging_sim.ems_limit_writes[-1] == (1, 16000)
    assert hass.states.get("switch.eno_one_current_limit").state == "on"


async def test_charging_switch_pauses_and_resumes(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """Pause offers 0 A (the car stops); resume restores the limit in force before."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    await entry.runtime_data.backend.async_set_current(SERIAL, 12)
    target = {ATTR_ENTITY_ID: "switch.eno_one_charging"}
    await hass.services.async_call("switch", SERVICE_TURN_OFF, target, blocking=True)
    await hass.async_block_till_done()
    assert charging_sim.ems_limit_writes[-1] == (1, 0)
    assert hass.states.get("switch.eno_one_charging").state == "off"
    assert hass.states.get("sensor.eno_one_status").state == "suspended_evse"
    assert hass.states.get("sensor.eno_one_power").state == "0.0"
    await hass.services.async_call("switch", SERVICE_TURN_ON, target, blocking=True)
    await hass.async_block_till_done()
    assert charging_sim.ems_limit_writes[-1] == (1, 12000)
    assert hass.states.get("sensor.eno_one_status").state == "charging"


async def test_actions_start_stop_set_current(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """The actions target the charger by device (or by one of its entities)."""
    await setup_entry(hass, entry_for(charging_sim))
    device_id = _device_id(hass)
    await _action(hass, "set_current", device_id=device_id, current=8)
    assert charging_sim.ems_limit_writes == [(1, 8000)]
    await _action(hass, "stop_charging", device_id=[device_id])
    assert charging_sim.ems_limit_writes[-1] == (1, 0)
    await _action(hass, "start_charging", entity_id="sensor.eno_one_status")
    assert charging_sim.ems_limit_writes[-1] == (1, 8000)


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({"current": 40}, "current_out_of_range", {"current": "40", "min": "6", "max": "16"}),
        ({"current": 2.5}, "current_out_of_range", {"current": "2.5", "min": "6", "max": "16"}),
    ],
)
async def test_set_current_out_of_range(
    hass: HomeAssistant,
    charging_sim: EnovatesSimulator,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Amps outside the charger's range are refused with a translated validation error."""
    await setup_entry(hass, entry_for(charging_sim))
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "set_current", device_id=_device_id(hass), **data)
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == placeholders | {"name": "ENO one"}
    assert charging_sim.ems_limit_writes == []


async def test_target_errors(hass: HomeAssistant, charging_sim: EnovatesSimulator) -> None:
    """No target, a foreign device and an unloaded charger each have their message."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charging")
    assert err.value.translation_key == "no_target"

    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charging", device_id=other.id)
    assert err.value.translation_key == "not_a_charger"

    device_id = _device_id(hass)
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "stop_charging", device_id=device_id)
    assert err.value.translation_key == "charger_not_loaded"
    assert err.value.translation_placeholders == {"name": "ENO one"}


async def test_without_ems_control_actions_say_why(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """A charger that cannot be driven refuses with a translated error, writing nothing."""
    await setup_entry(hass, entry_for(charging_sim, ems_control=False))
    device_id = _device_id(hass)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "set_current", device_id=device_id, current=10)
    assert err.value.translation_key == "set_current_not_supported"
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "stop_charging", device_id=device_id)
    assert err.value.translation_key == "not_supported"
    assert charging_sim.ems_limit_writes == []


async def test_write_ignored_by_monitoring_only(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """A write the charger acknowledges but ignores is reported, not assumed done."""
    await setup_entry(hass, entry_for(charging_sim))
    charging_sim.set_ems_mode("monitoring_only")
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "set_current", device_id=_device_id(hass), current=10)
    assert err.value.translation_key == "rejected_limit_not_applied"
    assert charging_sim.value(1, "ems_limit") == 16000


async def test_command_while_disconnected(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """A command to an unreachable charger raises a translated communication error."""
    await setup_entry(hass, entry_for(charging_sim))
    await charging_sim.pause()
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "stop_charging", device_id=_device_id(hass))
    assert err.value.translation_key == "communication_error"


async def test_token_lost_when_ems_falls_back_to_monitoring(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """If the installer switches EMS to Monitoring Only, polling goes on without the token."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    charging_sim.set_ems_mode("monitoring_only")
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.last_update_success
    assert hass.states.get("sensor.eno_one_current_offered").state == "16.0"
    assert entry.runtime_data.backend.diagnostics()["token_readable"] is False


async def test_refresh_button(hass: HomeAssistant, charging_sim: EnovatesSimulator) -> None:
    """The refresh button polls at once."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    from homeassistant.helpers import entity_registry as er

    er.async_get(hass).async_update_entity("button.eno_one_refresh", disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    charging_sim.reset_counters()
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.eno_one_refresh"}, blocking=True
    )
    assert charging_sim.request_count >= 3


async def test_refresh_action_polls_once_per_connection(
    hass: HomeAssistant, enovates_factory: SimulatorFactory
) -> None:
    """Both ports of a dual-port charger share one connection: one poll serves both."""
    simulator = await enovates_factory(units={1: "charging_3p_16a", 2: "idle"})
    await setup_entry(hass, entry_for(simulator, dual_port=True))
    await hass.async_block_till_done()
    simulator.reset_counters()
    await _action(hass, "refresh", device_id=[_device_id(hass), _device_id(hass, f"{SERIAL}_2")])
    # A poll reads state, measurements and 400-417 for each of the two ports.
    assert simulator.request_count == 6
