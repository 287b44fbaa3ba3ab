"""Driving Enphase chargers from Home Assistant: start/stop, current, mode, extra actions."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging.const import DOMAIN
from tests.conftest import SimulatorFactory
from tests.simulators.enphase_cloud import GREEN, SCHEDULED, EnphaseCloud

from . import SN, SN2
from .conftest import CARPORT, MAIN, advance, entry_for, setup_entry, state

pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")


def _device(hass: HomeAssistant, serial: str) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, serial)})
    assert device is not None
    return device.id


async def _call(
    hass: HomeAssistant, domain: str, service: str, data: dict[str, Any], **kwargs: Any
) -> Any:
    result = await hass.services.async_call(domain, service, data, blocking=True, **kwargs)
    await hass.async_block_till_done()
    return result


async def _plugged(hass: HomeAssistant, cloud: EnphaseCloud) -> MockConfigEntry:
    entry = await setup_entry(hass, await entry_for(cloud))
    cloud.plug_in(SN)
    await entry.runtime_data.coordinator.async_refresh()
    return entry


async def test_start_and_stop_need_a_plugged_car(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """No car: a translated validation error, and nothing is sent to the cloud."""
    await setup_entry(hass, await entry_for(cloud))
    target = {"device_id": _device(hass, SN)}
    for domain, service, data in (
        ("switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: f"switch.{MAIN}_charging"}),
        ("switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: f"switch.{MAIN}_charging"}),
        (DOMAIN, "start_charging", target),
        (DOMAIN, "stop_charging", target),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, domain, service, data)
        assert err.value.translation_key == "rejected_not_plugged"
        assert str(err.value) == "No car is plugged in"
    assert cloud.requests["start_charging"] == cloud.requests["stop_charging"] == 0


async def test_start_and_stop_with_benign_answers(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """Starting twice or stopping an idle session is not an error."""
    await _plugged(hass, cloud)
    target = {"device_id": _device(hass, SN)}
    await _call(hass, DOMAIN, "start_charging", target)
    assert state(hass, f"sensor.{MAIN}_status") == "charging"
    await _call(hass, DOMAIN, "start_charging", target)  # the cloud: "already charging"
    assert cloud.requests["start_charging"] == 2
    assert cloud.started == [(SN, 32)]
    await _call(hass, DOMAIN, "stop_charging", target)
    assert state(hass, f"sensor.{MAIN}_status") == "plugged"
    assert state(hass, f"switch.{MAIN}_charging") == "off"
    await _call(hass, DOMAIN, "stop_charging", target)  # the cloud: no active session
    assert cloud.requests["stop_charging"] == 2


async def test_a_refused_start_is_translated(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """The cloud still sees no car although the last poll did: its refusal is translated."""
    await _plugged(hass, cloud)
    cloud.unplug(SN)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: f"switch.{MAIN}_charging"})
    assert err.value.translation_key == "rejected_not_plugged"
    assert cloud.requests["start_charging"] == 1


async def test_set_current_while_charging_stops_then_starts(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The cloud has no "set current": stop, wait 30 s, start with the new amps."""
    await _plugged(hass, cloud)
    await _call(hass, "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: f"switch.{MAIN}_charging"})
    number = f"number.{MAIN}_charging_current"
    await _call(hass, "number", "set_value", {ATTR_ENTITY_ID: number, "value": 16})
    assert cloud.requests["stop_charging"] == 1
    assert state(hass, f"binary_sensor.{MAIN}_current_change_pending") == "on"
    assert state(hass, number) == "16.0"
    # A second change while the restart is pending only changes its amps.
    await _call(hass, DOMAIN, "set_current", {"device_id": _device(hass, SN), "current": 10})
    assert cloud.requests["stop_charging"] == 1
    await advance(hass, freezer, cloud, 30)
    assert cloud.started == [(SN, 32), (SN, 10)]
    await advance(hass, freezer, cloud, 30)
    assert state(hass, f"binary_sensor.{MAIN}_current_change_pending") == "off"
    assert state(hass, f"sensor.{MAIN}_status") == "charging"
    assert state(hass, number) == "10.0"


async def test_set_current_when_not_charging_is_kept_for_the_start(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """No session: nothing is sent; the next start uses the amps."""
    await _plugged(hass, cloud)
    number = f"number.{MAIN}_charging_current"
    await _call(hass, "number", "set_value", {ATTR_ENTITY_ID: number, "value": 12})
    assert cloud.requests["stop_charging"] == cloud.requests["start_charging"] == 0
    await _call(hass, "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: f"switch.{MAIN}_charging"})
    assert cloud.started == [(SN, 12)]
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, DOMAIN, "set_current", {"device_id": _device(hass, SN2), "current": 20})
    assert err.value.translation_key == "current_out_of_range"  # the Carport has 16 A at most


async def test_charge_modes(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """Every mode can be picked; Green refuses a current; Scheduled needs a schedule."""
    await _plugged(hass, cloud)
    select = f"select.{MAIN}_charge_mode"
    await _call(hass, "select", "select_option", {ATTR_ENTITY_ID: select, "option": "green"})
    assert cloud.chargers[SN].mode == GREEN
    assert state(hass, select) == "green"
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "number",
            "set_value",
            {ATTR_ENTITY_ID: f"number.{MAIN}_charging_current", "value": 10},
        )
    assert err.value.translation_key == "rejected_charge_mode_controls_current"
    await _call(hass, "select", "select_option", {ATTR_ENTITY_ID: select, "option": "scheduled"})
    assert cloud.chargers[SN].mode == SCHEDULED

    cloud.set_status(SN2, schedules_enabled=False)
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "select",
            "select_option",
            {ATTR_ENTITY_ID: f"select.{CARPORT}_charge_mode", "option": "scheduled"},
        )
    assert err.value.translation_key == "rejected_no_schedules_enabled"
    assert state(hass, f"select.{CARPORT}_charge_mode") == "manual"


async def test_trigger_message(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """Each targeted charger is asked; the cloud's answers come back as the response."""
    await setup_entry(hass, await entry_for(cloud))
    devices = [_device(hass, SN), _device(hass, SN2)]
    response = await _call(
        hass,
        DOMAIN,
        "trigger_message",
        {"device_id": devices, "message": "MeterValues"},
        return_response=True,
    )
    assert sorted(cloud.triggered) == [(SN, "MeterValues"), (SN2, "MeterValues")]
    results = {r["serial"]: r for r in response["results"]}  # in device order
    assert set(results) == {SN, SN2}
    assert results[SN2]["name"] == "Carport"
    assert results[SN]["response"]["data"] == {"status": "accepted"}
    await _call(hass, DOMAIN, "trigger_message", {"device_id": devices[0], "message": "Heartbeat"})
    assert cloud.triggered[-1] == (SN, "Heartbeat")


async def test_trigger_message_validates_the_message(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """A message outside the cloud's list is refused before anything is sent."""
    await setup_entry(hass, await entry_for(cloud))
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            DOMAIN,
            "trigger_message",
            {"device_id": _device(hass, SN), "message": "TransactionEvent"},
        )
    assert err.value.translation_key == "rejected_invalid_message"
    assert err.value.translation_placeholders == {"error": "TransactionEvent"}
    assert cloud.requests["trigger_message"] == 0
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, DOMAIN, "trigger_message", {"message": "Heartbeat"})
    assert err.value.translation_key == "no_target"


async def test_trigger_message_cloud_errors_are_translated(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A 503 is a translated error; a session refused even after a new login asks the user."""
    entry = await setup_entry(hass, await entry_for(cloud))
    data = {"device_id": _device(hass, SN), "message": "MeterValues"}
    cloud.fail_next("trigger_message", 503)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, DOMAIN, "trigger_message", data)
    assert err.value.translation_key == "service_unavailable"

    freezer.tick(60)  # the back-off after the 503 ends
    cloud.fail_next("trigger_message", 401, count=2)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, DOMAIN, "trigger_message", data)
    assert err.value.translation_key == "authentication_error"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["entry_id"] for flow in flows] == [entry.entry_id]


async def test_live_stream_on_and_off(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """One request per site, however many of its chargers are targeted."""
    await setup_entry(hass, await entry_for(cloud))
    devices = [_device(hass, SN), _device(hass, SN2)]
    await _call(hass, DOMAIN, "start_live_stream", {"device_id": devices})
    assert cloud.requests["start_live_stream"] == 1
    assert cloud.live_stream_until == cloud.now + 900
    await _call(hass, DOMAIN, "stop_live_stream", {"entity_id": f"sensor.{CARPORT}_status"})
    assert cloud.requests["stop_live_stream"] == 1
    assert cloud.live_stream_until is None


async def test_enphase_actions_refuse_other_chargers(
    hass: HomeAssistant, enovates_factory: SimulatorFactory
) -> None:
    """A charger of another vendor gets a translated validation error.

    Without the fake cloud: the Modbus simulator needs a clock that runs.
    """
    simulator = await enovates_factory(units={1: "idle"})
    other = MockConfigEntry(
        domain=DOMAIN,
        title="ENO one",
        unique_id="EN1A2401000123",
        data={
            "backend": "enovates",
            "host": simulator.host,
            "port": simulator.port,
            "dual_port": False,
            "ems_control": False,
        },
    )
    await setup_entry(hass, other)
    device = dr.async_entries_for_config_entry(dr.async_get(hass), other.entry_id)[0]
    calls: tuple[tuple[str, dict[str, str]], ...] = (
        ("trigger_message", {"message": "Heartbeat"}),
        ("start_live_stream", {}),
    )
    for service, extra in calls:
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, DOMAIN, service, {"device_id": [device.id]} | extra)
        assert err.value.translation_key == "enphase_only"
    assert await hass.config_entries.async_unload(other.entry_id)
