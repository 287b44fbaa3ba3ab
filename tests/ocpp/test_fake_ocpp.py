"""The fake ``ocpp`` integration against the dumps measured on the real one."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from json import JSONDecodeError
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, SupportsResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
import voluptuous as vol

from tests.simulators.fake_ocpp import (
    ChargePointModel,
    ChargerBehaviour,
    FakeOcpp,
    Frame,
)

from .conftest import FakeFactory, load_dump

RFID = "04A1B2C3D4E5F6"


def _registry_rows(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    """The registry as the dumps record it, by entity id."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    rows: dict[str, dict[str, Any]] = {}
    for entry in entities.entities.values():
        if entry.platform != "ocpp":
            continue
        device = devices.async_get(entry.device_id) if entry.device_id else None
        assert device is not None
        via = devices.async_get(device.via_device_id) if device.via_device_id else None
        rows[entry.entity_id] = {
            "unique_id": entry.unique_id,
            "original_name": entry.original_name,
            "has_entity_name": entry.has_entity_name,
            "original_device_class": entry.original_device_class,
            "unit_of_measurement": entry.unit_of_measurement,
            "capabilities": entry.capabilities,
            "entity_category": entry.entity_category,
            "original_icon": entry.original_icon,
            "translation_key": entry.translation_key,
            "device": {
                "name": device.name,
                "identifiers": sorted(list(i) for i in device.identifiers),
                "manufacturer": device.manufacturer,
                "model": device.model,
                "sw_version": device.sw_version,
                "via_device": via.name if via else None,
            },
        }
    return rows


def _expected_rows(dump: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = {}
    for entity in dump["entities"]:
        device = dict(entity["device"])
        device["identifiers"] = sorted(device["identifiers"])
        rows[entity["entity_id"]] = {
            "unique_id": entity["unique_id"],
            "original_name": entity["original_name"],
            "has_entity_name": entity["has_entity_name"],
            "original_device_class": entity["original_device_class"],
            "unit_of_measurement": entity["unit_of_measurement"],
            "capabilities": entity["capabilities"],
            "entity_category": entity["entity_category"],
            "original_icon": entity["original_icon"],
            "translation_key": entity["translation_key"],
            "device": device,
        }
    return rows


@pytest.mark.parametrize(("dump", "connectors"), [("registry_1conn", 1), ("registry_2conn", 2)])
async def test_registry_matches_the_real_integration(
    hass: HomeAssistant, make_fake: FakeFactory, dump: str, connectors: int
) -> None:
    """Entity ids, unique ids, names, classes, units and devices as measured."""
    await make_fake(num_connectors=connectors)
    expected = _expected_rows(load_dump(dump))
    assert _registry_rows(hass) == expected
    assert len(expected) == (35 if connectors == 1 else 52)
    assert [e.entry_id for e in hass.config_entries.async_entries("ocpp")]


def _states(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
    result = {}
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        result[entity_id] = {"state": state.state, "attributes": dict(state.attributes)}
    return result


def _lifecycle_steps(
    fake: FakeOcpp, measured: dict[str, Any], freezer: FrozenDateTimeFactory
) -> list[list[Callable[[], object]]]:
    """The measured lifecycle: the driver calls of each phase (00 is the charger away)."""
    charger = fake.charger
    conn = measured["session_connector"]
    base = 1000.0 * (conn - 1)  # one meter per connector, 1 MWh apart
    times = {
        m["action"]: m["response"]["currentTime"]
        for m in reversed(measured["messages"])
        if m["action"] in ("BootNotification", "Heartbeat")
    }
    return [
        [partial(freezer.move_to, times["BootNotification"])],
        [fake.reconnect],
        [partial(fake.plug_in, conn)],
        [partial(fake.authorize, conn, RFID)],
        [partial(fake.start_transaction, conn, RFID, charging=False)],
        [
            partial(fake.charging, conn),
            partial(
                fake.meter,
                conn,
                currents=(16.0, 15.8, 16.1),
                voltages=(231.0, 229.5, 230.2),
                energy_kwh=base + 1012.445,
                offered=16.0,
            ),
        ],
        [
            partial(
                fake.meter,
                conn,
                currents=(10.0,) * 3,
                voltages=(230.0,) * 3,
                energy_kwh=base + 1013.945,
                offered=10.0,
            )
        ],
        [partial(fake.suspend_ev, conn)],
        [partial(fake.meter, conn, currents=(0.0,) * 3, offered=10.0)],
        [
            partial(fake.charging, conn),
            partial(
                fake.meter, conn, currents=(16.0,) * 3, energy_kwh=base + 1014.345, offered=16.0
            ),
        ],
        [partial(fake.stop_transaction, conn, "EVDisconnected", finishing=False)],
        [partial(charger.status_notification, conn, "Finishing")],
        [partial(charger.status_notification, conn, "Available")],
        [partial(fake.meter, conn, currents=(0.0,) * 3, offered=16.0)],
        [partial(freezer.move_to, times["Heartbeat"]), charger.heartbeat],
        [fake.disconnect],
        [partial(freezer.tick, 3)],
        [fake.reconnect],
    ]


@pytest.mark.parametrize(("dump", "connectors"), [("lifecycle_1conn", 1), ("lifecycle_2conn", 2)])
async def test_states_through_a_transaction(
    hass: HomeAssistant,
    make_fake: FakeFactory,
    freezer: FrozenDateTimeFactory,
    dump: str,
    connectors: int,
) -> None:
    """Every entity's state and attributes at each of the 18 measured phases."""
    measured = load_dump(dump)
    fake = await make_fake(
        connect=False,
        num_connectors=connectors,
        first_transaction_id=measured["transaction_id"],
    )
    steps = _lifecycle_steps(fake, measured, freezer)
    assert len(steps) == len(measured["phases"])
    for step, phase in zip(steps, measured["phases"], strict=True):
        for call in step:
            call()
        await hass.async_block_till_done()
        expected = phase["states"]
        assert _states(hass, list(expected)) == expected, phase["phase"]


async def test_frames_sent_on_first_connection(fake: FakeOcpp) -> None:
    """The post-connect configuration, in the measured order."""
    measured = [
        Frame(m["action"], m["payload"], m["response"])
        for m in load_dump("lifecycle_1conn")["messages"]
        if m["dir"] == "CS->CP"
    ]
    assert fake.frames == measured


async def test_session_energy_charger(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """A charger whose meterStart is 0 reports session energy, with the tag attribute."""
    measured = load_dump("session_energy_charger")
    fake = await make_fake(
        behaviour=ChargerBehaviour(session_energy_meter=True),
        first_transaction_id=measured["transaction_id"],
    )
    snapshots = {snap["phase"]: snap["states"] for snap in measured["snapshots"]}
    fake.meter(1, currents=(0.0,) * 3, offered=16.0)
    steps: dict[str, list[Callable[[], object]]] = {
        "idle_register_1012kWh": [],
        "started_meterStart_0": [
            partial(fake.authorize, 1, RFID),
            partial(fake.plug_in, 1),
            partial(fake.start_transaction, 1, RFID),
        ],
        "mv_session_700Wh": [partial(fake.meter, 1, currents=(16.0,) * 3, energy_kwh=1013.045)],
        "mv_session_1500Wh": [partial(fake.meter, 1, currents=(16.0,) * 3, energy_kwh=1013.845)],
        "stopped": [partial(fake.stop_transaction, 1)],
    }
    for phase, step in steps.items():
        for call in step:
            call()
        await hass.async_block_till_done()
        expected = snapshots[phase]
        got = _states(hass, list(expected))
        if phase != "stopped":
            assert got == expected, phase
            continue
        # No Authorize in the measured run: the tag fell back to connector 1's ("").
        assert {k: v for k, v in got.items() if k != "sensor.charger_id_tag"} == {
            k: v for k, v in expected.items() if k != "sensor.charger_id_tag"
        }
        assert got["sensor.charger_id_tag"]["state"] == RFID


def _set_charge_rate_behaviour(fake: FakeOcpp, case: str) -> None:
    behaviour = fake.charger.behaviour
    behaviour.station_max_profile = "Rejected" if "rejected" in case else "Accepted"
    behaviour.tx_profiles = "Rejected" if "all_rejected" in case else "Accepted"
    unit = "Power" if case.startswith("power_only") else "Current"
    fake.charger.config["ChargingScheduleAllowedChargingRateUnit"][0] = unit


@pytest.mark.parametrize(
    ("dump", "conn"), [("set_charge_rate_1conn", 1), ("set_charge_rate_2conn", 2)]
)
async def test_set_charge_rate_frames(
    hass: HomeAssistant, make_fake: FakeFactory, dump: str, conn: int
) -> None:
    """Every measured ``set_charge_rate`` / number call sends the same frames."""
    measured = load_dump(dump)
    fake = await make_fake(num_connectors=conn, first_transaction_id=measured["transaction_id"])
    for case in measured["cases"]:
        name = case["case"]
        if name.startswith("tx_") and fake.charger.connector(conn).transaction_id is None:
            fake.plug_in(conn)
            fake.start_transaction(conn, RFID)
        _set_charge_rate_behaviour(fake, name)
        fake.frames.clear()
        domain, service = case["service"].split(".")
        error: str | None = None
        try:
            await hass.services.async_call(domain, service, case["data"], blocking=True)
        except vol.Invalid as err:
            error = f"MultipleInvalid: {err}"
        except JSONDecodeError as err:
            error = f"JSONDecodeError: {err}"
        except HomeAssistantError as err:
            error = f"HomeAssistantError: {err}"
        await hass.async_block_till_done()
        assert error == case["error"], name
        expected = [Frame(*frame) for frame in case["sent_to_charger"]]
        assert fake.frames == expected, name
        if service == "set_value":
            number = hass.states.get(measured["number_entity"])
            assert number is not None
            assert number.state == "10.0"
    assert fake.calls[0].service == "ocpp.set_charge_rate"


async def test_no_smart_charging(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """Without SmartCharging limit_amps sends nothing, but a custom profile still goes."""
    fake = await make_fake(behaviour=ChargerBehaviour(smart_charging=False))
    fake.frames.clear()
    await hass.services.async_call("ocpp", "set_charge_rate", {"limit_amps": 10}, blocking=True)
    assert fake.frames == []
    number = hass.states.get("number.charger_maximum_current")
    assert number is not None
    assert number.state == "unavailable"
    profile = {
        "chargingProfileId": 9,
        "stackLevel": 1,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13}],
        },
    }
    await hass.services.async_call(
        "ocpp", "set_charge_rate", {"custom_profile": profile, "conn_id": 1}, blocking=True
    )
    assert fake.frames == [
        Frame(
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": profile},
            {"status": "Accepted"},
        )
    ]
    assert fake.charger.offered_current(1) == 13.0


def _turn(hass: HomeAssistant, service: str, entity_id: str) -> Any:
    domain = entity_id.split(".")[0]
    return hass.services.async_call(domain, service, {"entity_id": entity_id}, blocking=True)


async def test_controls(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """Switches, buttons and actions: frames and states as in the measured controls run."""
    measured = load_dump("controls_1conn")
    tx = measured["rfid_transaction_id"]
    fake = await make_fake(first_transaction_id=tx)
    remote = fake.charger.remote_id_tag
    assert len(remote) == 20
    assert remote.isalnum()
    assert remote.upper() == remote
    cases = {case["case"]: case for case in measured["cases"]}

    def expected(name: str) -> dict[str, Any]:
        case = cases[name]
        return {
            "frames": [
                Frame(a, {**p, "idTag": remote} if "idTag" in p else p, r)
                for a, p, r in case["sent_to_charger"]
            ],
            "states": {
                k: remote if v == measured["remote_id_tag"] else v
                for k, v in case["states_after"].items()
            },
            "response": case["response"],
        }

    async def run(name: str, action: Callable[[], Any]) -> None:
        fake.frames.clear()
        response = await action()
        await hass.async_block_till_done()
        want = expected(name)
        assert fake.frames == want["frames"], name
        assert response == want["response"], name
        got = {eid: state.state for eid in want["states"] if (state := hass.states.get(eid))}
        assert got == want["states"], name

    switch = "switch.charger_charge_control"
    await run("charge_control_on_from_available", lambda: _turn(hass, "turn_on", switch))
    await run("charge_control_off", lambda: _turn(hass, "turn_off", switch))
    # The measured run then charged with an RFID card (a new transaction id each time).
    fake.charger._next_tx = tx
    fake.authorize(1, RFID)
    fake.start_transaction(1, RFID)
    await run("charge_control_off_rfid_session", lambda: _turn(hass, "turn_off", switch))
    fake.charger._next_tx = tx
    await run("charge_control_on_from_finishing", lambda: _turn(hass, "turn_on", switch))
    await run("charge_control_off_again", lambda: _turn(hass, "turn_off", switch))
    fake.unplug(1)
    fake.charger.behaviour.remote_start = "Rejected"
    await run("charge_control_on_rejected", lambda: _turn(hass, "turn_on", switch))
    assert fake.charger.notifications == [
        "Warning: Start transaction failed with response Rejected"
    ]
    fake.charger.behaviour.remote_start = "Accepted"
    fake.charger.behaviour.follow_remote_commands = False
    await run("charge_control_on_accepted_no_followup", lambda: _turn(hass, "turn_on", switch))
    await run("charge_control_off_no_tx", lambda: _turn(hass, "turn_off", switch))
    availability = "switch.charger_availability"
    fake.charger.behaviour.follow_remote_commands = True
    await run("availability_off", lambda: _turn(hass, "turn_off", availability))
    await run("availability_on", lambda: _turn(hass, "turn_on", availability))
    await run("unlock_button", lambda: _turn(hass, "press", "button.charger_unlock"))
    await run("reset_button", lambda: _turn(hass, "press", "button.charger_reset"))

    def ocpp(name: str) -> Callable[[], Any]:
        case = cases[name]
        service = case["service"].split(".")[1]
        response = case["response"] is not None
        return lambda: hass.services.async_call(
            "ocpp", service, case["data"], blocking=True, return_response=response
        )

    for name in (
        "trigger_status",
        "trigger_metervalues",
        "get_configuration_key",
        "get_configuration_all",
        "configure",
        "configure_readonly",
        "data_transfer",
        "get_diagnostics",
    ):
        await run(name, ocpp(name))
    fake.frames.clear()
    await ocpp("update_firmware")()
    assert fake.frames == [
        Frame(
            "UpdateFirmware",
            {"location": "https://example.invalid/fw.bin", "retrieveDate": "2026-11-21T17:06:28Z"},
            {},
        )
    ]
    assert [c.service for c in fake.calls[:2]] == ["switch.turn_on", "switch.turn_off"]


async def test_actions_and_schemas(hass: HomeAssistant, fake: FakeOcpp) -> None:
    """The measured actions are registered with their response support and validation."""
    measured = load_dump("services")["services"]
    responses = {
        "none": SupportsResponse.NONE,
        "optional": SupportsResponse.OPTIONAL,
        "only": SupportsResponse.ONLY,
    }
    services = hass.services.async_services_for_domain("ocpp")
    assert set(services) == set(measured)
    for name, info in measured.items():
        assert hass.services.supports_response("ocpp", name) == responses[info["supports_response"]]
    with pytest.raises(vol.Invalid):
        await hass.services.async_call("ocpp", "set_charge_rate", {"conn_id": -1}, blocking=True)
    with pytest.raises(vol.Invalid):
        await hass.services.async_call("ocpp", "configure", {"value": "1"}, blocking=True)
    fake.frames.clear()
    await hass.services.async_call("ocpp", "clear_profile", {}, blocking=True)
    assert fake.frames == [Frame("ClearChargingProfile", {}, {"status": "Accepted"})]


async def test_unknown_devid_drives_the_first_charger(
    hass: HomeAssistant, make_fake: FakeFactory
) -> None:
    """devid matches the cpid or the OCPP id; anything else silently drives the first."""
    first = ChargePointModel(cpid="garage")
    second = ChargePointModel(cpid="drive", ocpp_id="cp_2", serial="SIM-0002")
    fake = await make_fake(models=[first, second])
    for model in (first, second):
        model.frames.clear()
    for devid, target in (("nope", first), ("cp_2", second), ("drive", second), (None, first)):
        data: dict[str, Any] = {"limit_amps": 8}
        if devid:
            data["devid"] = devid
        await hass.services.async_call("ocpp", "set_charge_rate", data, blocking=True)
        schedule = target.frames[-1].payload["csChargingProfiles"]["chargingSchedule"]
        assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 8.0}]
        target.frames.clear()
        assert not first.frames
        assert not second.frames
    assert fake.device_id("drive") != fake.device_id("garage")


async def test_disconnect(hass: HomeAssistant, fake: FakeOcpp) -> None:
    """States go stale, set_charge_rate raises, the switch is skipped; then back."""
    measured = load_dump("disconnect_1conn")
    fake.charger._next_tx = measured["transaction_id"]
    fake.authorize(1, RFID)
    fake.plug_in(1)
    fake.start_transaction(1, RFID)
    fake.meter(1, currents=(16.0,) * 3, energy_kwh=1012.445)
    await hass.async_block_till_done()
    charging = {k: v for k, v in measured["charging"].items() if "timestamp" not in k}
    assert {eid: hass.states.get(eid).state for eid in charging} == charging  # type: ignore[union-attr]

    fake.disconnect()
    await hass.async_block_till_done()
    assert {eid: hass.states.get(eid).state for eid in charging} == charging  # type: ignore[union-attr]
    with pytest.raises(HomeAssistantError, match="unavailable"):
        await hass.services.async_call("ocpp", "set_charge_rate", {"limit_amps": 6}, blocking=True)
    fake.frames.clear()
    await _turn(hass, "turn_off", "switch.charger_charge_control")
    assert fake.frames == []
    assert hass.states.get("switch.charger_charge_control").state == "on"  # type: ignore[union-attr]

    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": list(charging)}, blocking=True
    )
    refreshed = {eid: hass.states.get(eid).state for eid in charging}  # type: ignore[union-attr]
    assert refreshed == {k: v for k, v in measured["after_forced_refresh"].items() if k in charging}
    assert set(refreshed.values()) == {"unavailable"}

    fake.reconnect()
    await hass.async_block_till_done()
    after = {k: v for k, v in measured["after_reconnect"].items() if "timestamp" not in k}
    assert {eid: hass.states.get(eid).state for eid in after} == after  # type: ignore[union-attr]
    fake.meter(1, currents=(16.0,) * 3, energy_kwh=1012.495)
    await hass.async_block_till_done()
    after = {
        k: v for k, v in measured["after_reconnect_mv_with_tx"].items() if "timestamp" not in k
    }
    assert {eid: hass.states.get(eid).state for eid in after} == after  # type: ignore[union-attr]


@pytest.mark.parametrize("connectors", [1, 2])
async def test_first_connection_reload(
    hass: HomeAssistant, make_fake: FakeFactory, connectors: int
) -> None:
    """Discovered charger: flat names and 22 measurands first; the reload changes the set."""
    measured = load_dump(f"first_connection_reload_{connectors}conn")
    fake = await make_fake(num_connectors=connectors, discovered=True)
    await hass.async_block_till_done()

    def ocpp_entities() -> list[str]:
        return sorted(
            e.entity_id for e in er.async_get(hass).entities.values() if e.platform == "ocpp"
        )

    def states(entity_ids: list[str]) -> dict[str, str]:
        return {
            eid: state.state
            for eid in entity_ids
            if (state := hass.states.get(eid)) and "timestamp" not in eid
        }

    assert ocpp_entities() == measured["entities_after_connect"]
    want = {k: v for k, v in measured["states_after_connect"].items() if "timestamp" not in k}
    assert states(measured["entities_after_connect"]) == want

    await fake.reload_with_new_entity_set()
    assert ocpp_entities() == measured["entities_after_reload"]
    assert (
        sorted(set(measured["entities_after_connect"]) - set(ocpp_entities()))
        == measured["removed_by_reload"]
    )
    want = {k: v for k, v in measured["states_after_reload"].items() if "timestamp" not in k}
    assert states(measured["entities_after_reload"]) == want


async def test_ignore_limits_and_compliant_pause(
    hass: HomeAssistant, make_fake: FakeFactory
) -> None:
    """A compliant charger pauses below 6 A; ``ignore_limits`` keeps offering its current."""
    fake = await make_fake()
    fake.plug_in(1)
    tx = fake.start_transaction(1, RFID)
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 1,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxProfile",
        "transactionId": tx,
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}],
        },
    }
    await hass.services.async_call(
        "ocpp", "set_charge_rate", {"custom_profile": profile, "conn_id": 1}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.charger_status_connector").state == "SuspendedEVSE"  # type: ignore[union-attr]
    profile["chargingSchedule"]["chargingSchedulePeriod"] = [{"startPeriod": 0, "limit": 10}]  # type: ignore[index]
    await hass.services.async_call(
        "ocpp", "set_charge_rate", {"custom_profile": profile, "conn_id": 1}, blocking=True
    )
    await hass.services.async_call(
        "ocpp", "trigger_custom_message", {"requested_message": "MeterValues"}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.charger_status_connector").state == "Charging"  # type: ignore[union-attr]
    assert hass.states.get("sensor.charger_current_offered").state == "10.0"  # type: ignore[union-attr]

    fake.charger.behaviour.ignore_limits = True
    profile["chargingSchedule"]["chargingSchedulePeriod"] = [{"startPeriod": 0, "limit": 7}]  # type: ignore[index]
    fake.frames.clear()
    await hass.services.async_call(
        "ocpp", "set_charge_rate", {"custom_profile": profile, "conn_id": 1}, blocking=True
    )
    assert fake.frames[0].response == {"status": "Accepted"}
    fake.meter(1, currents=(16.0,) * 3)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.charger_current_offered").state == "16.0"  # type: ignore[union-attr]

    # The TxProfile ends with its transaction.
    fake.charger.behaviour.ignore_limits = False
    fake.stop_transaction(1)
    assert fake.charger.offered_current(1) == 16.0


async def test_faulted_connector_and_max_current(
    hass: HomeAssistant, make_fake: FakeFactory
) -> None:
    """Faulted makes the connector's switch unavailable; the number raises when refused."""
    fake = await make_fake(
        behaviour=ChargerBehaviour(station_max_profile="Rejected", tx_profiles="Rejected")
    )
    with pytest.raises(HomeAssistantError, match=r"did not accept 12\.0 A"):
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.charger_maximum_current", "value": 12},
            blocking=True,
        )
    assert hass.states.get("number.charger_maximum_current").state == "32.0"  # type: ignore[union-attr]
    fake.charger.fault(1)
    await hass.async_block_till_done()
    assert hass.states.get("switch.charger_charge_control").state == "unavailable"  # type: ignore[union-attr]
    assert hass.states.get("sensor.charger_status_connector").state == "Faulted"  # type: ignore[union-attr]
    assert hass.states.get("sensor.charger_error_code_connector").state == "GroundFailure"  # type: ignore[union-attr]


def test_model_without_hass() -> None:
    """The pure model runs on its own (the demo's stand-in integration reuses it)."""
    model = ChargePointModel(num_connectors=2)
    seen: list[str] = []
    remove = model.add_listener(lambda: seen.append(model.connector(2).status))
    model.connect()
    model.plug_in(2)
    tx = model.start_transaction(2, RFID)
    model.remote_stop(2)
    remove()
    assert seen[-1] == "Finishing"
    assert model.frames[-1] == Frame(
        "RemoteStopTransaction", {"transactionId": tx}, {"status": "Accepted"}
    )
    assert model.station_value("id_tag").value == ""
    assert model.connector_value(2, "stop_reason").value == "Remote"
    with pytest.raises(ValueError, match="no connector 3"):
        model.connector(3)
    with pytest.raises(ValueError, match="no transaction"):
        model.stop_transaction(1)
