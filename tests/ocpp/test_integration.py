"""An OCPP charger through our entities and actions, the fake ``ocpp`` integration behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.diagnostics import async_get_config_entry_diagnostics
from tests.simulators.fake_ocpp import Call, ChargerBehaviour, FakeOcpp

from .conftest import OTHER_CARD, RFID, EntryFactory, FakeFactory, our_entity, settle

CID = "ocpp_charger_1"


class Charger:
    """Our entities of one charge port, read by key."""

    def __init__(self, hass: HomeAssistant, charger_id: str = CID) -> None:
        self.hass = hass
        self.charger_id = charger_id

    def entity(self, platform: str, key: str) -> str:
        return our_entity(self.hass, platform, key, self.charger_id)

    def state(self, platform: str, key: str) -> str:
        state = self.hass.states.get(self.entity(platform, key))
        assert state is not None
        return state.state

    def attrs(self, platform: str, key: str) -> dict[str, Any]:
        state = self.hass.states.get(self.entity(platform, key))
        assert state is not None
        return dict(state.attributes)

    def sensor(self, key: str) -> str:
        return self.state("sensor", key)

    def binary(self, key: str) -> str:
        return self.state("binary_sensor", key)

    def number(self, key: str) -> float | None:
        raw = self.sensor(key)
        return None if raw in ("unknown", "unavailable") else float(raw)

    @property
    def device_id(self) -> str:
        device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, self.charger_id)})
        assert device is not None
        return device.id


async def _service(hass: HomeAssistant, domain: str, service: str, **data: Any) -> None:
    await hass.services.async_call(domain, service, data, blocking=True)
    await hass.async_block_till_done()


def _beside(coro: Awaitable[Any]) -> asyncio.Future[Any]:
    """A command that waits on the (frozen) clock, run beside the test, not tracked by hass."""
    return asyncio.ensure_future(coro)


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the clock while an entity action waits (block_till_done would wait for it)."""
    for _ in range(20):  # what is running arms its timers first
        await asyncio.sleep(0)
    freezer.tick(seconds)
    async_fire_time_changed(hass)
    for _ in range(20):
        await asyncio.sleep(0)


def _rate_calls(fake: FakeOcpp) -> list[dict[str, Any]]:
    return [call.data for call in fake.calls if call.service == "ocpp.set_charge_rate"]


async def test_the_coordinator_is_pushed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """No polling: a change of the ocpp entities reaches our entities after the debounce."""
    entry = await make_entry(fake)
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval is None
    assert entry.runtime_data.backend.push is True
    our = Charger(hass)
    assert our.sensor("status") == "available"
    fake.plug_in(1)
    await hass.async_block_till_done()
    assert our.sensor("status") == "available"  # debounced
    await settle(hass, freezer, 0.6)
    assert our.sensor("status") == "plugged"
    assert our.binary("plugged_in") == "on"


async def test_a_whole_rfid_transaction(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """Plug-in to unplug through our entities; the card belongs to its transaction only."""
    await make_entry(fake)
    our = Charger(hass)
    assert our.binary("connectivity") == "on"
    assert our.binary("data_stale") == "off"

    fake.plug_in(1)
    await settle(hass, freezer)
    assert our.sensor("status") == "plugged"
    assert our.state("switch", "charging_enabled") == "off"

    fake.authorize(1, RFID)
    tx = fake.start_transaction(1, RFID)
    await settle(hass, freezer)
    assert our.sensor("status") == "charging"
    assert our.sensor("transaction_id") == str(tx)
    assert our.sensor("rfid_tag") == RFID
    assert our.state("switch", "charging_enabled") == "on"
    assert our.number("session_energy") == 0.0

    fake.meter(1, currents=(16.0, 15.8, 16.1), voltages=(230.0, 231.0, 229.0), energy_kwh=1012.445)
    await settle(hass, freezer)
    assert our.binary("charging") == "on"
    assert our.number("power") == 3680.0 + 3650.0 + 3687.0
    assert [our.number(f"current_l{i}") for i in (1, 2, 3)] == [16.0, 15.8, 16.1]
    assert [our.number(f"voltage_l{i}") for i in (1, 2, 3)] == [230.0, 231.0, 229.0]
    assert our.number("current_offered") == 16.0
    assert our.number("lifetime_energy") == 1012.445
    assert our.number("session_energy") == 0.1
    lifetime = our.attrs("sensor", "lifetime_energy")
    assert lifetime["device_class"] == "energy"
    assert lifetime["state_class"] == "total_increasing"
    assert lifetime["unit_of_measurement"] == "kWh"

    fake.meter(1, currents=(10.0,) * 3, energy_kwh=1013.945)
    await settle(hass, freezer, 60)
    assert our.number("session_energy") == 1.6
    assert our.number("session_duration") == pytest.approx(62 / 60)  # min since StartTransaction
    fake.suspend_ev(1)
    await settle(hass, freezer)
    assert our.sensor("status") == "suspended_ev"
    assert our.number("power") == 0.0
    assert our.binary("charging") == "off"
    assert our.state("switch", "charging_enabled") == "on"

    fake.charging(1)
    fake.meter(1, currents=(16.0,) * 3, energy_kwh=1014.345)
    await settle(hass, freezer)
    assert our.sensor("status") == "charging"
    assert our.number("session_energy") == 2.0

    fake.stop_transaction(1, "Local")
    await settle(hass, freezer)
    assert our.sensor("status") == "finishing"
    assert our.sensor("transaction_id") == "unknown"
    assert our.sensor("rfid_tag") == "unknown"
    assert our.sensor("stop_reason") == "Local"
    assert our.state("switch", "charging_enabled") == "off"
    assert our.number("lifetime_energy") == 1014.345

    fake.unplug(1)
    await settle(hass, freezer)
    assert our.sensor("status") == "available"
    assert our.binary("plugged_in") == "off"

    # A session started from Home Assistant: the ocpp id-tag sensor still shows the
    # old card, which is not this transaction's.
    fake.plug_in(1)
    await settle(hass, freezer)
    await _service(
        hass, "switch", SERVICE_TURN_ON, entity_id=our.entity("switch", "charging_enabled")
    )
    await settle(hass, freezer)
    assert hass.states.get("sensor.charger_id_tag").state == RFID  # type: ignore[union-attr]
    assert our.sensor("status") == "charging"
    assert our.sensor("transaction_id") not in ("unknown", str(tx))
    assert our.sensor("rfid_tag") == "unknown"


async def test_start_and_stop_through_our_switch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """RemoteStart / RemoteStopTransaction through the charge-control switch, confirmed."""
    await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    await settle(hass, freezer)
    fake.calls.clear()
    switch = our.entity("switch", "charging_enabled")
    await _service(hass, "switch", SERVICE_TURN_ON, entity_id=switch)
    assert fake.calls == [Call("switch.turn_on", {"entity_id": "switch.charger_charge_control"})]
    start = next(f for f in fake.frames if f.action == "RemoteStartTransaction")
    assert start.payload["connectorId"] == 1
    assert our.state("switch", "charging_enabled") == "on"
    assert our.sensor("status") == "charging"
    tx = int(our.sensor("transaction_id"))

    await _service(hass, "switch", SERVICE_TURN_OFF, entity_id=switch)
    stop = next(f for f in fake.frames if f.action == "RemoteStopTransaction")
    assert stop.payload == {"transactionId": tx}
    assert our.state("switch", "charging_enabled") == "off"
    assert our.sensor("status") == "finishing"
    assert our.sensor("stop_reason") == "Remote"


async def test_start_and_stop_actions(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """ev_charging.start_charging / stop_charging on our device."""
    await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    await settle(hass, freezer)
    await _service(hass, DOMAIN, "start_charging", device_id=our.device_id)
    assert our.sensor("status") == "charging"
    await _service(hass, DOMAIN, "stop_charging", device_id=our.device_id)
    assert our.sensor("status") == "finishing"
    assert [c.service for c in fake.calls if c.service.startswith("switch.")] == [
        "switch.turn_on",
        "switch.turn_off",
    ]


async def test_start_without_a_car_is_a_user_error(
    hass: HomeAssistant, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """Nothing plugged in: a translated validation error, nothing sent."""
    await make_entry(fake)
    with pytest.raises(ServiceValidationError) as err:
        await _service(hass, DOMAIN, "start_charging", device_id=Charger(hass).device_id)
    assert err.value.translation_key == "rejected_not_plugged"
    assert not [c for c in fake.calls if c.service.startswith("switch.")]


async def test_start_the_charger_does_not_follow(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """Accepted but never started: a translated error after the command timeout."""
    fake = await make_fake(behaviour=ChargerBehaviour(follow_remote_commands=False))
    await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    await settle(hass, freezer)
    task = _beside(
        hass.services.async_call(
            "switch",
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: our.entity("switch", "charging_enabled")},
            blocking=True,
        )
    )
    await _advance(hass, freezer, 59)
    assert not task.done()
    await _advance(hass, freezer, 2)
    with pytest.raises(HomeAssistantError) as err:
        await task
    await hass.async_block_till_done()
    assert err.value.translation_key == "rejected_start_not_confirmed"
    assert our.sensor("status") == "plugged"


async def test_limits_through_our_number(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """A TxProfile bound to the running transaction on connector 1, confirmed by the offer."""
    await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    tx = fake.start_transaction(1, RFID)
    fake.meter(1, currents=(16.0,) * 3)
    await settle(hass, freezer)
    assert our.state("number", "charging_current") == "32.0"  # no limit: the maximum
    assert our.state("switch", "current_limit_active") == "off"

    await _service(
        hass, "number", "set_value", entity_id=our.entity("number", "charging_current"), value=10
    )
    assert _rate_calls(fake) == [
        {
            "devid": "charger",
            "conn_id": 1,
            "custom_profile": {
                "chargingProfileId": 4101,
                "stackLevel": 1,
                "chargingProfileKind": "Relative",
                "chargingProfilePurpose": "TxProfile",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
                },
                "transactionId": tx,
            },
        }
    ]
    profile = next(f for f in fake.frames if f.action == "SetChargingProfile")
    assert profile.payload["connectorId"] == 1
    assert profile.response == {"status": "Accepted"}
    assert our.state("number", "charging_current") == "10.0"
    assert our.state("switch", "current_limit_active") == "on"
    assert our.number("current_offered") == 10.0

    # Lifting the limit sends our profile at the charger maximum.
    await _service(
        hass, "switch", SERVICE_TURN_OFF, entity_id=our.entity("switch", "current_limit_active")
    )
    limit = _rate_calls(fake)[-1]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert limit == [{"startPeriod": 0, "limit": 32.0}]
    await settle(hass, freezer)
    assert our.state("switch", "current_limit_active") == "off"
    assert our.number("current_offered") == 16.0


async def test_limit_action_while_idle_is_a_default_profile(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """No transaction: a TxDefaultProfile for the next one."""
    await make_entry(fake)
    our = Charger(hass)
    fake.meter(1, currents=(0.0,) * 3)
    await settle(hass, freezer)
    await _service(hass, DOMAIN, "set_current", device_id=our.device_id, current=13)
    profile = _rate_calls(fake)[0]["custom_profile"]
    assert _rate_calls(fake)[0]["conn_id"] == 1
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["chargingProfileId"] == 4201
    assert "transactionId" not in profile
    assert our.state("number", "charging_current") == "13.0"
    assert our.number("current_offered") == 13.0


async def test_limit_action_on_connector_two(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """Each connector is its own charger: the profile goes to connector 2, its transaction."""
    fake = await make_fake(num_connectors=2)
    await make_entry(fake, connector=1)
    await make_entry(fake, connector=2)
    one, two = Charger(hass, "ocpp_charger_1"), Charger(hass, "ocpp_charger_2")
    # The id-tag sensor is charger-wide: each card is read as its transaction starts.
    fake.plug_in(1)
    fake.authorize(1, OTHER_CARD)
    fake.start_transaction(1, OTHER_CARD)
    fake.meter(1, currents=(16.0,) * 3)
    await settle(hass, freezer)
    fake.plug_in(2)
    fake.authorize(2, RFID)
    tx2 = fake.start_transaction(2, RFID)
    fake.meter(2, currents=(16.0,) * 3)
    await settle(hass, freezer)
    assert one.sensor("rfid_tag") == OTHER_CARD
    assert two.sensor("rfid_tag") == RFID
    await _service(hass, DOMAIN, "set_current", device_id=two.device_id, current=8)
    call = _rate_calls(fake)[0]
    assert call["devid"] == "charger"
    assert call["conn_id"] == 2
    assert call["custom_profile"]["transactionId"] == tx2
    assert call["custom_profile"]["chargingProfileId"] == 4102
    assert two.number("current_offered") == 8.0
    assert one.number("current_offered") == 16.0


async def test_station_limit_mode_uses_limit_amps(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """The explicit station mode: the integration's limit_amps (ChargePointMaxProfile)."""
    await make_entry(fake, limit_mode="station")
    our = Charger(hass)
    fake.meter(1, currents=(0.0,) * 3)
    await settle(hass, freezer)
    await _service(
        hass, "number", "set_value", entity_id=our.entity("number", "charging_current"), value=12
    )
    assert _rate_calls(fake) == [{"devid": "charger", "conn_id": 1, "limit_amps": 12.0}]
    station = next(f for f in fake.frames if f.action == "SetChargingProfile").payload
    assert station["connectorId"] == 0
    assert station["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert our.number("current_offered") == 12.0


async def test_a_charger_that_ignores_the_limit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """Accepted but not followed: the translated limit_not_followed error."""
    fake = await make_fake(ignore_limits=True)
    await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    fake.start_transaction(1, RFID)
    fake.meter(1, currents=(16.0,) * 3)
    await settle(hass, freezer)
    task = _beside(
        hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: our.entity("number", "charging_current"), "value": 10},
            blocking=True,
        )
    )
    await _advance(hass, freezer, 29)
    assert not task.done()
    await _advance(hass, freezer, 2)
    with pytest.raises(HomeAssistantError) as err:
        await task
    await hass.async_block_till_done()
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "rejected_limit_not_followed"
    assert str(err.value) == "The charger did not follow the current limit"
    assert our.number("current_offered") == 16.0


async def test_disconnect_then_reconnect(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """Frozen states are flagged stale, then the charger shows offline; it recovers."""
    await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    tx = fake.start_transaction(1, RFID)
    fake.meter(1, currents=(16.0,) * 3)
    await settle(hass, freezer)
    stale_seen: list[str] = []

    @callback
    def follow(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            stale_seen.append(new.state)

    remove = async_track_state_change_event(
        hass, [our.entity("binary_sensor", "data_stale")], follow
    )
    fake.disconnect()
    await settle(hass, freezer, 200)
    assert our.sensor("status") == "charging"  # the ocpp entities keep their last states
    assert our.binary("data_stale") == "off"
    await settle(hass, freezer, 101)
    await settle(hass, freezer)
    remove()
    assert stale_seen == ["on", "off"]  # stale, then the probe found the charger gone
    assert our.sensor("status") == "offline"
    assert our.binary("connectivity") == "off"
    assert our.sensor("power") == "unknown"
    assert our.sensor("rfid_tag") == "unknown"
    with pytest.raises(HomeAssistantError) as err:
        await _service(hass, DOMAIN, "set_current", device_id=our.device_id, current=10)
    assert err.value.translation_key == "communication_error"

    fake.reconnect()
    await settle(hass, freezer)
    assert our.sensor("status") == "charging"
    assert our.binary("connectivity") == "on"
    assert our.binary("data_stale") == "off"
    assert our.sensor("transaction_id") == str(tx)
    assert our.sensor("rfid_tag") == RFID


async def test_naming_layout_changes_after_the_first_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """A discovered two-connector charger: flat names first, per-connector ones after reload."""
    fake = await make_fake(num_connectors=2, discovered=True)
    entry = await make_entry(fake)
    our = Charger(hass)
    fake.plug_in(1)
    await settle(hass, freezer)
    assert our.sensor("status") == "plugged"
    assert entry.runtime_data.backend.diagnostics()["layout"] == "flat"

    await fake.reload_with_new_entity_set()
    await settle(hass, freezer)
    assert entry.runtime_data.backend.diagnostics()["layout"] == "connector"
    assert our.sensor("status") == "plugged"
    fake.authorize(1, RFID)
    fake.start_transaction(1, RFID)
    fake.meter(1, currents=(8.0,) * 3)
    await settle(hass, freezer)
    assert our.sensor("status") == "charging"
    assert our.number("current_l1") == 8.0
    assert our.sensor("rfid_tag") == RFID
    fake.calls.clear()
    await _service(hass, DOMAIN, "stop_charging", device_id=our.device_id)
    assert fake.calls[0] == Call(
        "switch.turn_off", {"entity_id": "switch.charger_connector_1_charge_control"}
    )
    assert our.sensor("status") == "finishing"


@pytest.mark.parametrize(
    ("cpid", "connector", "device_id"),
    [("charger", 3, None), ("elsewhere", 1, "gone")],
)
async def test_setup_is_retried_while_the_charger_cannot_be_found(
    hass: HomeAssistant, fake: FakeOcpp, cpid: str, connector: int, device_id: str | None
) -> None:
    """A connector the charger lacks, or a device that left: not ready, retried later."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"ocpp_{cpid}_{connector}",
        data={
            "backend": "ocpp_proxy",
            "ocpp_device_id": device_id or fake.device_id(),
            "cpid": cpid,
            "connector": connector,
            "limit_mode": "profile",
        },
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_device_id_changed_by_a_new_ocpp_entry(hass: HomeAssistant, fake: FakeOcpp) -> None:
    """The stored device id is stale, the cpid still finds the charger."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="ocpp_charger_1",
        data={
            "backend": "ocpp_proxy",
            "ocpp_device_id": "an-old-device-id",
            "cpid": "charger",
            "connector": 1,
            "limit_mode": "profile",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.runtime_data.backend.diagnostics()["cpid"] == "charger"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_diagnostics_show_the_resolved_entities(
    hass: HomeAssistant, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """The ocpp entities in use, the layout and the limit mode, ready for a bug report."""
    entry = await make_entry(fake)
    data = await async_get_config_entry_diagnostics(hass, entry)
    backend = data["backend"]
    assert backend["layout"] == "flat"
    assert backend["limit_mode"] == "profile"
    assert backend["entities"]["sensor.status_connector"] == "sensor.charger_status_connector"
    assert data["states"]["charger_1"]["extra"] == {"stale": False}
