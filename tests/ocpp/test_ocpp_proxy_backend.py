"""The OCPP proxy backend in a real hass, driving the fake ``ocpp`` integration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
import voluptuous as vol

from custom_components.ev_charging.backends.base import (
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendInvalidDataError,
    BackendUnsupportedError,
)
from custom_components.ev_charging.backends.ocpp_proxy import (
    LIMIT_MODE_STATION,
    REASON_MISSING_ENTITIES,
    REASON_NO_CHARGER,
    REASON_NOT_SET_UP,
    OcppDiscoveryError,
    OcppProxyBackend,
    async_list_ocpp_chargers,
    mapping,
)
from custom_components.ev_charging.backends.ocpp_proxy.entities import parse_unique_id
from custom_components.ev_charging.models import (
    Capability,
    ChargerState,
    ChargerStatus,
    Phases,
)
from tests.simulators.fake_ocpp import ChargePointModel, FakeOcpp, Frame

from .conftest import FakeFactory

RFID = "04A1B2C3D4E5F6"
OTHER_CARD = "AABBCCDD"


class Harness:
    """A backend over a fake, the states it pushed, and a clock to move."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        fake: FakeOcpp,
        backend: OcppProxyBackend,
    ) -> None:
        self.hass = hass
        self.freezer = freezer
        self.fake = fake
        self.backend = backend
        self.pushes: list[ChargerState] = []
        backend.set_update_callback(lambda states: self.pushes.extend(states.values()))

    @property
    def charger_id(self) -> str:
        return next(iter(self.backend.chargers))

    def last(self) -> ChargerState:
        assert self.pushes, "nothing was pushed"
        return self.pushes[-1]

    async def settle(self, seconds: float = 1.0) -> None:
        """Let time pass (timers fire) and the loop run dry."""
        await self.hass.async_block_till_done()
        self.freezer.tick(seconds)
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done()

    def command(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        """Run a backend command beside the test (not tracked by hass: it may wait long)."""
        return asyncio.ensure_future(coro)


type HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, make_fake: FakeFactory
) -> AsyncIterator[HarnessFactory]:
    """A fake ocpp integration and a backend set up over its first charger."""
    backends: list[OcppProxyBackend] = []

    async def make(
        *,
        connector: int = 1,
        fake: FakeOcpp | None = None,
        fake_kwargs: dict[str, Any] | None = None,
        **backend_kwargs: Any,
    ) -> Harness:
        if fake is None:
            fake = await make_fake(**(fake_kwargs or {}))
        backend = OcppProxyBackend(
            hass, ocpp_device_id=fake.device_id(), connector=connector, **backend_kwargs
        )
        backends.append(backend)
        harness = Harness(hass, freezer, fake, backend)
        await backend.async_setup()
        return harness

    yield make
    for backend in backends:
        await backend.async_close()


async def test_single_connector_layout(make_harness: HarnessFactory) -> None:
    """Flat names are found by unique id; the device describes the connector."""
    h = await make_harness()
    info = h.backend.chargers[h.charger_id]
    assert h.charger_id == "ocpp_charger_1"
    assert info.name == "charger"
    assert info.serial == "sim_cp_1"
    assert (info.manufacturer, info.model, info.firmware) == ("SimVendor", "SimWallbox 3P", "1.2.3")
    assert (info.connector, info.min_current, info.max_current) == (1, 6.0, 32.0)
    assert info.phases is None  # no MeterValues yet
    expected = (
        Capability.START_STOP
        | Capability.SET_CURRENT
        | Capability.CLEAR_LIMIT
        | Capability.CURRENT_LIMIT
        | Capability.RFID
        | Capability.POWER
        | Capability.PHASE_POWERS
        | Capability.PHASE_CURRENTS
        | Capability.PHASE_VOLTAGES
        | Capability.CURRENT_OFFERED
        | Capability.SESSION_ENERGY
        | Capability.SESSION_DURATION
        | Capability.LIFETIME_ENERGY
    )
    assert info.capabilities == expected
    assert h.backend.entities.layout == "flat"
    assert h.backend.entities.get("sensor.status_connector") == "sensor.charger_status_connector"
    assert h.backend.entities.get("switch.charge_control") == "switch.charger_charge_control"
    assert h.backend.entities.get("sensor.id_tag") == "sensor.charger_id_tag"
    state = (await h.backend.async_fetch(0.0))[h.charger_id]
    assert state.status is ChargerStatus.AVAILABLE
    assert state.vendor_status == "Available"
    assert state.extra == {"stale": False}
    assert h.backend.push is True
    assert h.backend.intervals.active.total_seconds() == 60


async def test_two_connector_layout(make_harness: HarnessFactory) -> None:
    """Per-connector names for connector 2; the id tag stays charger-wide."""
    h = await make_harness(connector=2, fake_kwargs={"num_connectors": 2})
    info = h.backend.chargers[h.charger_id]
    assert h.charger_id == "ocpp_charger_2"
    assert info.name == "charger connector 2"
    assert h.backend.entities.layout == "connector"
    assert (
        h.backend.entities.get("sensor.status_connector")
        == "sensor.charger_connector_2_status_connector"
    )
    assert (
        h.backend.entities.get("switch.charge_control")
        == "switch.charger_connector_2_charge_control"
    )
    assert h.backend.entities.get("sensor.id_tag") == "sensor.charger_id_tag"
    h.fake.plug_in(1)
    await h.settle()
    assert h.pushes == []  # connector 1 is not ours
    h.fake.plug_in(2)
    await h.settle()
    assert h.last().status is ChargerStatus.PLUGGED


async def test_a_connector_device_finds_its_charger(
    hass: HomeAssistant, make_fake: FakeFactory
) -> None:
    """Picking the connector's device works too (its parent is the charger)."""
    fake = await make_fake(num_connectors=2)
    device = fake.device_id("charger")
    conn_device = dr.async_get(hass).async_get_device(identifiers={("ocpp", "charger-conn2")})
    assert conn_device is not None
    assert conn_device.via_device_id == device
    backend = OcppProxyBackend(hass, ocpp_device_id=conn_device.id, connector=2)
    await backend.async_setup()
    assert backend.cpid == "charger"
    await backend.async_close()


async def test_a_whole_rfid_transaction(make_harness: HarnessFactory) -> None:
    """Plug-in to unplug: values mapped, the tag tied to its transaction only."""
    h = await make_harness()
    fake = h.fake
    fake.plug_in(1)
    await h.settle()
    assert h.last().status is ChargerStatus.PLUGGED
    assert h.last().car_connected

    fake.authorize(1, RFID)
    tx = fake.start_transaction(1, RFID)
    started = fake.charger.clock()
    fake.meter(
        1,
        currents=(16.0, 15.8, 16.1),
        voltages=(231.0, 229.5, 230.2),
        energy_kwh=1012.445,
        offered=16.0,
    )
    await h.settle()
    state = h.last()
    assert state.status is ChargerStatus.CHARGING
    assert state.transaction_id == str(tx)
    assert state.rfid_tag == RFID
    assert state.session_start == started
    assert state.session_duration == 1.0
    assert state.power == pytest.approx(11028.0)
    assert state.powers == Phases(3696.0, 3626.0, 3706.0)
    assert state.currents == Phases(16.0, 15.8, 16.1)
    assert state.voltages == Phases(231.0, 229.5, 230.2)
    assert state.current_offered == 16.0
    assert state.lifetime_energy == pytest.approx(1012.445)
    assert state.session_energy == pytest.approx(0.1)
    assert state.active_phases == 3
    assert state.charging_enabled is True
    assert state.error is None
    assert state.extra == {"stale": False}  # stop_reason "" until the transaction stops

    fake.suspend_ev(1)
    await h.settle()
    suspended = h.last()
    assert suspended.status is ChargerStatus.SUSPENDED_EV
    assert suspended.power == 0.0
    assert suspended.currents == Phases(0.0, 0.0, 0.0)  # the attributes still say 16 A
    assert suspended.active_phases is None

    fake.charging(1)
    fake.meter(1, currents=(16.0,) * 3, voltages=(230.0,) * 3, energy_kwh=1014.345)
    fake.stop_transaction(1, "EVDisconnected", finishing=False)
    await h.settle()
    # The status still reads Charging after StopTransaction; the transaction is over.
    assert h.last().status is ChargerStatus.CHARGING
    assert h.last().transaction_id is None
    assert h.last().charging_enabled is False
    assert h.last().rfid_tag is None
    assert h.last().session_energy == pytest.approx(2.0)
    assert h.last().extra["stop_reason"] == "EVDisconnected"

    fake.charger.status_notification(1, "Finishing")
    await h.settle()
    assert h.last().status is ChargerStatus.FINISHING
    fake.unplug(1)
    await h.settle()
    assert h.last().status is ChargerStatus.AVAILABLE
    assert not h.last().car_connected

    # A remote-started session: the id-tag sensor still shows the old card.
    fake.plug_in(1)
    await h.settle()
    task = h.command(h.backend.async_start(h.charger_id))
    await h.settle()
    await task
    assert h.hass.states.get("sensor.charger_id_tag").state == RFID  # type: ignore[union-attr]
    remote = h.last()
    assert remote.status is ChargerStatus.CHARGING
    assert remote.transaction_id == str(tx + 1)
    assert remote.rfid_tag is None

    # Started through the ocpp switch directly (an automation): not a card either.
    fake.stop_transaction(1)
    await h.hass.services.async_call(
        "switch", "turn_on", target={"entity_id": "switch.charger_charge_control"}, blocking=True
    )
    await h.settle()
    assert h.last().transaction_id == str(tx + 2)
    assert h.last().rfid_tag is None

    # A new card at the charger is attributed again.
    fake.stop_transaction(1)
    fake.authorize(1, OTHER_CARD)
    fake.start_transaction(1, OTHER_CARD)
    await h.settle()
    assert h.last().transaction_id == str(tx + 3)
    assert h.last().rfid_tag == OTHER_CARD
    assert h.backend.diagnostics()["transactions"][str(tx)]["tag_attributed"] is True


async def test_transaction_running_at_setup_gets_no_tag(
    hass: HomeAssistant, make_fake: FakeFactory, make_harness: HarnessFactory
) -> None:
    """A tag read after the start may belong to another session: not attributed."""
    fake = await make_fake()
    fake.authorize(1, RFID)
    fake.plug_in(1)
    tx = fake.start_transaction(1, RFID)
    fake.meter(1, currents=(10.0,) * 3)
    await hass.async_block_till_done()
    h = await make_harness(fake=fake)
    state = (await h.backend.async_fetch(0.0))[h.charger_id]
    assert state.transaction_id == str(tx)
    assert state.rfid_tag is None
    assert state.session_start is None
    assert state.session_duration == 0.0  # time_session is 0 minutes


async def test_remote_start_and_stop(make_harness: HarnessFactory) -> None:
    """Start/stop go through the switch and wait for the status that follows."""
    h = await make_harness()
    with pytest.raises(BackendCommandRejectedError) as err:
        await h.backend.async_start(h.charger_id)
    assert err.value.reason == "not_plugged"
    assert err.value.user_error
    await h.backend.async_stop(h.charger_id)  # no transaction: nothing to do
    assert h.fake.frames[-1].action != "RemoteStopTransaction"

    h.fake.plug_in(1)
    await h.settle()
    h.fake.frames.clear()
    task = h.command(h.backend.async_start(h.charger_id))
    await h.settle()
    await task
    remote = h.fake.charger.remote_id_tag
    assert h.fake.frames == [
        Frame("RemoteStartTransaction", {"idTag": remote, "connectorId": 1}, {"status": "Accepted"})
    ]
    await h.backend.async_start(h.charger_id)  # already charging: nothing sent
    assert len(h.fake.frames) == 1

    tx = h.fake.charger.connector(1).transaction_id
    task = h.command(h.backend.async_stop(h.charger_id))
    await h.settle()
    await task
    assert h.fake.frames[-1] == Frame(
        "RemoteStopTransaction", {"transactionId": tx}, {"status": "Accepted"}
    )
    assert h.last().status is ChargerStatus.FINISHING
    assert h.last().extra["stop_reason"] == "Remote"


async def test_start_and_stop_not_confirmed(make_harness: HarnessFactory) -> None:
    """A charger that accepts but never acts: the command is rejected after the timeout."""
    h = await make_harness(command_timeout=20)
    h.fake.plug_in(1)
    h.fake.charger.behaviour.follow_remote_commands = False
    task = h.command(h.backend.async_start(h.charger_id))
    await h.settle(19)
    assert not task.done()
    await h.settle(2)
    with pytest.raises(BackendCommandRejectedError) as err:
        await task
    assert err.value.reason == "start_not_confirmed"

    h.fake.start_transaction(1, RFID)
    await h.settle()
    task = h.command(h.backend.async_stop(h.charger_id))
    await h.settle(21)
    with pytest.raises(BackendCommandRejectedError) as err:
        await task
    assert err.value.reason == "stop_not_confirmed"


async def test_limit_in_a_transaction_is_a_tx_profile(make_harness: HarnessFactory) -> None:
    """Our TxProfile on the connector, with the transaction id; confirmed by the offer."""
    h = await make_harness()
    h.fake.plug_in(1)
    tx = h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    await h.settle()
    h.fake.frames.clear()
    h.fake.calls.clear()
    task = h.command(h.backend.async_set_current(h.charger_id, 10))
    await h.settle()
    await task
    profile = {
        "chargingProfileId": 4101,
        "stackLevel": 1,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxProfile",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
        },
        "transactionId": tx,
    }
    assert h.fake.calls[0].service == "ocpp.set_charge_rate"
    assert h.fake.calls[0].data == {"devid": "charger", "conn_id": 1, "custom_profile": profile}
    assert h.fake.frames[:2] == [
        Frame(
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": profile},
            {"status": "Accepted"},
        ),
        Frame("TriggerMessage", {"requestedMessage": "MeterValues"}, {"status": "Accepted"}),
    ]
    assert h.last().current_offered == 10.0
    assert h.last().current_limit == 10.0
    assert h.last().currents == Phases(10.0, 10.0, 10.0)

    # 0 A pauses: a compliant charger goes SuspendedEVSE.
    task = h.command(h.backend.async_set_current(h.charger_id, 0))
    await h.settle()
    await task
    assert h.last().status is ChargerStatus.SUSPENDED_EVSE
    assert h.last().current_limit == 0.0


async def test_limit_when_idle_is_a_default_profile(make_harness: HarnessFactory) -> None:
    """No transaction: a TxDefaultProfile for the next one (no transaction id)."""
    h = await make_harness()
    h.fake.meter(1, currents=(0.0,) * 3)
    await h.settle()
    h.fake.frames.clear()
    task = h.command(h.backend.async_set_current(h.charger_id, 13.04))
    await h.settle()
    await task
    sent = h.fake.frames[0]
    assert sent.payload["connectorId"] == 1
    profile = sent.payload["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["chargingProfileId"] == 4201
    assert "transactionId" not in profile
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 13.0}
    ]
    assert h.last().current_offered == 13.0


async def test_limit_on_connector_two(make_harness: HarnessFactory) -> None:
    """The profile goes to the right connector with that connector's transaction."""
    h = await make_harness(connector=2, fake_kwargs={"num_connectors": 2})
    h.fake.plug_in(1)
    h.fake.start_transaction(1, OTHER_CARD)
    h.fake.plug_in(2)
    tx2 = h.fake.start_transaction(2, RFID)
    h.fake.meter(2, currents=(16.0,) * 3)
    await h.settle()
    h.fake.frames.clear()
    task = h.command(h.backend.async_set_current(h.charger_id, 8))
    await h.settle()
    await task
    payload = h.fake.frames[0].payload
    assert payload["connectorId"] == 2
    assert payload["csChargingProfiles"]["transactionId"] == tx2
    assert payload["csChargingProfiles"]["chargingProfileId"] == 4102
    assert h.fake.charger.offered_current(1) == 16.0
    assert h.last().current_offered == 8.0


async def test_station_mode_uses_limit_amps(make_harness: HarnessFactory) -> None:
    """The explicit "station" mode: limit_amps (ChargePointMaxProfile on connector 0)."""
    h = await make_harness(limit_mode=LIMIT_MODE_STATION)
    h.fake.meter(1, currents=(0.0,) * 3)
    await h.settle()
    h.fake.frames.clear()
    h.fake.calls.clear()
    task = h.command(h.backend.async_set_current(h.charger_id, 12))
    await h.settle()
    await task
    assert h.fake.calls[0].data == {"devid": "charger", "conn_id": 1, "limit_amps": 12.0}
    assert [f.action for f in h.fake.frames] == [
        "GetConfiguration",
        "GetConfiguration",
        "SetChargingProfile",
        "TriggerMessage",
    ]
    cpmax = h.fake.frames[2].payload
    assert cpmax["connectorId"] == 0
    assert cpmax["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert h.last().current_offered == 12.0

    h.fake.calls.clear()
    await h.backend.async_clear_current_limit(h.charger_id)
    assert h.fake.calls[0].data == {"devid": "charger", "conn_id": 1, "limit_amps": 32.0}
    await h.settle()
    assert h.last().current_limit is None


async def test_clear_limit_lifts_the_profile(make_harness: HarnessFactory) -> None:
    """Clearing sends our profile at the charger's maximum."""
    h = await make_harness()
    h.fake.meter(1, currents=(0.0,) * 3)
    task = h.command(h.backend.async_set_current(h.charger_id, 10))
    await h.settle()
    await task
    h.fake.frames.clear()
    await h.backend.async_clear_current_limit(h.charger_id)
    await h.settle()
    limit = h.fake.frames[0].payload["csChargingProfiles"]["chargingSchedule"]
    assert limit["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 32.0}]
    assert h.last().current_limit is None
    assert h.last().current_offered == 16.0


async def test_charger_that_ignores_the_limit(make_harness: HarnessFactory) -> None:
    """Accepted but not followed: rejected as limit_not_followed after the timeout."""
    h = await make_harness(fake_kwargs={"ignore_limits": True}, confirm_timeout=30)
    h.fake.plug_in(1)
    h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    await h.settle()
    task = h.command(h.backend.async_set_current(h.charger_id, 10))
    await h.settle(29)
    assert not task.done()
    await h.settle(2)
    with pytest.raises(BackendCommandRejectedError) as err:
        await task
    assert err.value.reason == "limit_not_followed"
    assert h.fake.frames[-2].response == {"status": "Accepted"}
    assert h.last().current_offered == 16.0


async def test_limit_without_an_offered_reading(make_harness: HarnessFactory) -> None:
    """No Current.Offered value yet: sent, nothing to confirm with."""
    h = await make_harness()
    h.fake.frames.clear()
    await h.backend.async_set_current(h.charger_id, 9)
    assert [f.action for f in h.fake.frames] == ["SetChargingProfile"]
    await h.settle()
    assert h.last().current_limit == 9.0


async def test_disconnect_stale_offline_and_back(make_harness: HarnessFactory) -> None:
    """States freeze after a disconnect: flagged stale, probed, offline; then back."""
    h = await make_harness(stale_after=120)
    h.fake.plug_in(1)
    h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    await h.settle()
    assert h.last().extra["stale"] is False
    h.fake.disconnect()
    await h.settle(60)
    assert h.last().status is ChargerStatus.CHARGING
    assert h.last().extra["stale"] is False
    pushed = len(h.pushes)
    await h.settle(62)
    stale = h.pushes[pushed]
    assert stale.status is ChargerStatus.CHARGING
    assert stale.extra["stale"] is True
    # The forced refresh of the status entity shows the charger is gone.
    await h.settle()
    assert h.hass.states.get("sensor.charger_status_connector").state == "unavailable"  # type: ignore[union-attr]
    offline = h.last()
    assert offline.status is ChargerStatus.OFFLINE
    assert not offline.online
    with pytest.raises(BackendConnectionError):
        await h.backend.async_set_current(h.charger_id, 10)
    with pytest.raises(BackendConnectionError):
        await h.backend.async_start(h.charger_id)

    h.fake.reconnect()
    await h.settle()
    assert h.last().status is ChargerStatus.CHARGING
    assert h.last().extra["stale"] is False
    assert h.last().transaction_id is not None


async def test_quiet_charger_stays_stale_until_it_reports(make_harness: HarnessFactory) -> None:
    """Connected but silent: stale; identical MeterValues (no state change) clear it."""
    h = await make_harness(stale_after=120)
    h.fake.plug_in(1)
    h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    await h.settle(121)
    await h.settle(2)
    assert h.last().status is ChargerStatus.CHARGING  # the probe found it connected
    assert h.last().extra["stale"] is True
    h.fake.meter(1, currents=(16.0,) * 3)  # same values: only last_reported moves
    await h.settle()
    assert h.last().extra["stale"] is False


async def test_action_failure_while_stale_states(make_harness: HarnessFactory) -> None:
    """set_charge_rate raises while the charger is away (states not yet unavailable)."""
    h = await make_harness()
    h.fake.plug_in(1)
    await h.settle()
    h.fake.disconnect()
    with pytest.raises(BackendConnectionError, match="unavailable"):
        await h.backend.async_set_current(h.charger_id, 10)


async def test_layout_change_after_the_first_reload(
    hass: HomeAssistant, make_fake: FakeFactory, make_harness: HarnessFactory
) -> None:
    """A discovered two-connector charger: flat names first, per-connector after reload."""
    fake = await make_fake(num_connectors=2, discovered=True)
    with pytest.raises(BackendConnectionError, match="connector 2"):
        await OcppProxyBackend(hass, ocpp_device_id=fake.device_id(), connector=2).async_setup()
    h = await make_harness(fake=fake)
    assert h.backend.entities.layout == "flat"
    fake.plug_in(1)
    await h.settle()
    assert h.last().status is ChargerStatus.PLUGGED

    await fake.reload_with_new_entity_set()
    await h.settle()
    assert h.backend.entities.layout == "connector"  # type: ignore[comparison-overlap]
    assert (
        h.backend.entities.get("sensor.status_connector")
        == "sensor.charger_connector_1_status_connector"
    )
    assert h.last().status is ChargerStatus.PLUGGED
    fake.start_transaction(1, RFID)
    fake.meter(1, currents=(8.0,) * 3)
    await h.settle()
    assert h.last().status is ChargerStatus.CHARGING
    assert h.last().currents == Phases(8.0, 8.0, 8.0)
    backend2 = OcppProxyBackend(hass, ocpp_device_id=fake.device_id(), connector=2)
    await backend2.async_setup()
    assert backend2.entities.layout == "connector"
    await backend2.async_close()


async def test_renamed_entity_is_followed(
    hass: HomeAssistant, make_harness: HarnessFactory
) -> None:
    """A user renames the status entity: the backend reads the new entity id."""
    h = await make_harness()
    er.async_get(hass).async_update_entity(
        "sensor.charger_status_connector", new_entity_id="sensor.wallbox_status"
    )
    await h.settle()
    assert h.backend.entities.get("sensor.status_connector") == "sensor.wallbox_status"
    h.fake.plug_in(1)
    await h.settle()
    assert h.last().status is ChargerStatus.PLUGGED


async def test_missing_entities(hass: HomeAssistant, make_harness: HarnessFactory) -> None:
    """The status entity disabled: UNKNOWN with the missing roles; back when enabled."""
    h = await make_harness()
    registry = er.async_get(hass)
    registry.async_update_entity(
        "sensor.charger_status_connector", disabled_by=er.RegistryEntryDisabler.USER
    )
    await h.settle()
    assert h.last().status is ChargerStatus.UNKNOWN
    assert h.last().extra["missing_entities"] == ("sensor.status_connector",)
    state = (await h.backend.async_fetch(0.0))[h.charger_id]
    assert state.status is ChargerStatus.UNKNOWN


async def test_setup_errors(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """No ocpp entry, a device that is gone, a wrong limit mode, an unknown charger id."""
    backend = OcppProxyBackend(hass, ocpp_device_id="nope", connector=1)
    with pytest.raises(BackendConnectionError, match="not set up"):
        await backend.async_setup()
    assert await backend.async_fetch(0.0) == {}
    fake = await make_fake()
    with pytest.raises(BackendInvalidDataError, match="gone"):
        await backend.async_setup()
    with pytest.raises(ValueError, match="limit_mode"):
        OcppProxyBackend(hass, ocpp_device_id=fake.device_id(), connector=1, limit_mode="x")
    backend = OcppProxyBackend(hass, ocpp_device_id=fake.device_id(), connector=1)
    await backend.async_setup()
    with pytest.raises(BackendInvalidDataError):
        await backend.async_set_current("other", 10)
    await backend.async_close()
    await backend.async_close()


async def test_no_switch_means_no_start(hass: HomeAssistant, make_harness: HarnessFactory) -> None:
    """Without the charge-control switch, start/stop are unsupported."""
    h = await make_harness()
    h.fake.plug_in(1)
    er.async_get(hass).async_update_entity(
        "switch.charger_charge_control", disabled_by=er.RegistryEntryDisabler.USER
    )
    await h.settle()
    with pytest.raises(BackendUnsupportedError):
        await h.backend.async_start(h.charger_id)
    h.fake.start_transaction(1, RFID, charging=False)
    with pytest.raises(BackendUnsupportedError):
        await h.backend.async_stop(h.charger_id)


async def test_status_alone_without_transaction_entity(
    hass: HomeAssistant, make_harness: HarnessFactory
) -> None:
    """Transaction entity disabled: the status tells whether a transaction runs."""
    h = await make_harness()
    er.async_get(hass).async_update_entity(
        "sensor.charger_transaction_id", disabled_by=er.RegistryEntryDisabler.USER
    )
    h.fake.plug_in(1)
    await h.settle()
    assert h.last().charging_enabled is False
    task = h.command(h.backend.async_start(h.charger_id))
    await h.settle()
    await task
    assert h.last().charging_enabled is True
    assert h.last().transaction_id is None
    task = h.command(h.backend.async_stop(h.charger_id))
    await h.settle()
    await task
    assert h.last().status is ChargerStatus.FINISHING


async def test_ocpp_actions_gone(hass: HomeAssistant, make_harness: HarnessFactory) -> None:
    """The ocpp actions missing (integration not loaded): a connection error."""
    h = await make_harness()
    hass.services.async_remove("ocpp", "set_charge_rate")
    with pytest.raises(BackendConnectionError, match="not available"):
        await h.backend.async_set_current(h.charger_id, 10)


async def test_close_removes_every_listener(
    hass: HomeAssistant, make_harness: HarnessFactory
) -> None:
    """After close nothing is pushed and a waiting command fails."""
    h = await make_harness(command_timeout=50)
    h.fake.plug_in(1)
    h.fake.charger.behaviour.follow_remote_commands = False
    await h.settle()
    task = h.command(h.backend.async_start(h.charger_id))
    await h.settle()
    await h.backend.async_close()
    with pytest.raises(BackendConnectionError, match="closed"):
        await task
    pushed = len(h.pushes)
    h.fake.start_transaction(1, RFID)
    await h.settle(60)
    assert len(h.pushes) == pushed
    assert h.backend._listeners == []
    assert h.backend._state_listeners == []


async def test_list_chargers(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """The config flow's choices, and why there may be none."""
    with pytest.raises(OcppDiscoveryError) as err:
        await async_list_ocpp_chargers(hass)
    assert err.value.reason == REASON_NOT_SET_UP

    MockConfigEntry(domain="ocpp", data={"cpids": []}).add_to_hass(hass)
    with pytest.raises(OcppDiscoveryError) as err:
        await async_list_ocpp_chargers(hass)
    assert err.value.reason == REASON_NO_CHARGER

    single = ChargePointModel(cpid="garage", ocpp_id="cp_g", clock=dt_util.utcnow)
    dual = ChargePointModel(cpid="drive", ocpp_id="cp_d", num_connectors=2, clock=dt_util.utcnow)
    fake = await make_fake(models=[single, dual])
    choices = await async_list_ocpp_chargers(hass)
    assert [(c.cpid, c.name, c.connectors, c.reason) for c in choices] == [
        ("drive", "drive", (1, 2), None),
        ("garage", "garage", (1,), None),
    ]
    assert choices[1].device_id == fake.device_id("garage")
    assert choices[1].manufacturer == "SimVendor"

    er.async_get(hass).async_update_entity(
        "sensor.drive_connector_2_transaction_id", disabled_by=er.RegistryEntryDisabler.USER
    )
    er.async_get(hass).async_update_entity(
        "sensor.garage_status_connector", disabled_by=er.RegistryEntryDisabler.USER
    )
    choices = await async_list_ocpp_chargers(hass)
    assert choices[0].connectors == (1,)
    assert choices[0].missing == {2: ("sensor.transaction_id",)}
    assert choices[1].connectors == ()
    assert choices[1].reason == REASON_MISSING_ENTITIES


async def test_confirmation_paths(hass: HomeAssistant, make_harness: HarnessFactory) -> None:
    """Already satisfied at once; without TriggerMessage the next sample confirms."""
    h = await make_harness()
    h.fake.plug_in(1)
    h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    await h.settle()
    h.fake.frames.clear()
    await h.backend.async_set_current(h.charger_id, 20)  # 16 A offered is within 20 A
    assert h.fake.frames[0].response == {"status": "Accepted"}

    hass.services.async_remove("ocpp", "trigger_custom_message")
    task = h.command(h.backend.async_set_current(h.charger_id, 10))
    await h.settle(10)
    assert not task.done()
    h.fake.meter(1, currents=(10.0,) * 3)  # the charger's periodic MeterValues
    await h.settle()
    await task
    assert h.last().current_offered == 10.0


async def test_ocpp_refuses_our_data(hass: HomeAssistant, make_harness: HarnessFactory) -> None:
    """A stricter ocpp schema (a future version) surfaces as invalid data."""
    h = await make_harness()

    async def handler(call: Any) -> None:
        return None

    hass.services.async_register(
        "ocpp", "set_charge_rate", handler, schema=vol.Schema({"limit_amps": float})
    )
    with pytest.raises(BackendInvalidDataError):
        await h.backend.async_set_current(h.charger_id, 10)


async def test_non_numeric_transaction_id(
    hass: HomeAssistant, make_harness: HarnessFactory
) -> None:
    """A transaction id that is not an OCPP 1.6 integer: no TxProfile can name it."""
    h = await make_harness()
    hass.states.async_set("sensor.charger_transaction_id", "tx-abc")
    h.fake.frames.clear()
    await h.backend.async_set_current(h.charger_id, 10)
    profile = h.fake.frames[0].payload["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"


async def test_many_transactions_are_forgotten(make_harness: HarnessFactory) -> None:
    """Only the last transactions are remembered."""
    h = await make_harness()
    h.fake.plug_in(1)
    first = None
    for _ in range(22):
        tx = h.fake.start_transaction(1, RFID)
        first = first or tx
        await h.settle()
        h.fake.stop_transaction(1)
    await h.settle()
    kept = h.backend.diagnostics()["transactions"]
    assert len(kept) == 20
    assert str(first) not in kept


async def test_close_cancels_a_pending_probe(make_harness: HarnessFactory) -> None:
    """Closing right when a stale charger is probed leaves nothing running."""
    h = await make_harness(stale_after=60)
    h.fake.plug_in(1)
    h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    await h.settle()
    h.fake.disconnect()
    h.freezer.tick(62)
    async_fire_time_changed(h.hass)
    assert h.last().extra["stale"] is True
    assert h.backend._probe_task is not None
    await h.backend.async_close()
    await h.hass.async_block_till_done()
    assert h.hass.states.get("sensor.charger_status_connector").state == "Charging"  # type: ignore[union-attr]


async def test_no_probe_without_update_entity(
    hass: HomeAssistant, make_harness: HarnessFactory
) -> None:
    """Without homeassistant.update_entity the stale flag stays, status unchanged."""
    h = await make_harness(stale_after=60)
    hass.services.async_remove("homeassistant", "update_entity")
    h.fake.plug_in(1)
    h.fake.start_transaction(1, RFID)
    h.fake.meter(1, currents=(16.0,) * 3)
    h.fake.disconnect()
    await h.settle(62)
    await h.settle()
    assert h.last().status is ChargerStatus.CHARGING
    assert h.last().extra["stale"] is True


async def test_device_without_ocpp_entities(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """A device of the ocpp integration that has no entities (yet)."""
    fake = await make_fake()
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=fake.entry.entry_id, identifiers={("ocpp", "lonely")}, name="lonely"
    )
    with pytest.raises(BackendConnectionError, match="no ocpp entities"):
        await OcppProxyBackend(hass, ocpp_device_id=device.id, connector=1).async_setup()
    # An entity of an unknown charger without a device is not listed either.
    er.async_get(hass).async_get_or_create(
        "sensor", "ocpp", "ocpp.ghost.status_connector.sensor", config_entry=fake.entry
    )
    er.async_get(hass).async_get_or_create(
        "sensor", "ocpp", "not-an-ocpp-unique-id", config_entry=fake.entry
    )
    choices = await async_list_ocpp_chargers(hass)
    assert [c.cpid for c in choices] == ["charger"]


def _state(value: str, **attributes: Any) -> State:
    return State("sensor.x", value, attributes)


def test_status_table() -> None:
    """Every OCPP 1.6 ChargePointStatus, verbatim, in one table."""
    expected = {
        "Available": ChargerStatus.AVAILABLE,
        "Preparing": ChargerStatus.PLUGGED,
        "Charging": ChargerStatus.CHARGING,
        "SuspendedEV": ChargerStatus.SUSPENDED_EV,
        "SuspendedEVSE": ChargerStatus.SUSPENDED_EVSE,
        "Finishing": ChargerStatus.FINISHING,
        "Reserved": ChargerStatus.AVAILABLE,
        "Unavailable": ChargerStatus.UNKNOWN,
        "Faulted": ChargerStatus.FAULTED,
    }
    assert {k: mapping.map_status(_state(k)) for k in expected} == expected
    assert mapping.map_status(_state("unavailable")) is ChargerStatus.OFFLINE
    assert mapping.map_status(_state("unknown")) is ChargerStatus.UNKNOWN
    assert mapping.map_status(_state("Occupied")) is ChargerStatus.UNKNOWN
    assert mapping.map_status(None) is ChargerStatus.UNKNOWN


def test_value_readers() -> None:
    """Units, phases and ids as the integration shows them."""
    assert mapping.as_float(_state("abc")) is None
    assert mapping.as_float(_state("unknown")) is None
    assert mapping.power_w(_state("11.04", unit_of_measurement="kW")) == pytest.approx(11040)
    assert mapping.power_w(_state("900", unit_of_measurement="W")) == 900
    assert mapping.power_w(None) is None
    assert mapping.phase_powers(None) is None
    assert mapping.phase_powers(_state("7.2", unit="kW", L1=3.6, L2=3.6)) == Phases(
        3600.0, 3600.0, None
    )
    assert mapping.phase_currents(_state("16.0", L1="x", L2=16.0)) == Phases(None, 16.0, None)
    assert mapping.phase_currents(_state("16.0", location="Outlet")) is None
    assert mapping.phase_currents(_state("0", L1=16.0, L2=16.0, L3=16.0)) == Phases(0.0, 0.0, 0.0)
    assert mapping.energy_kwh(_state("1500", unit_of_measurement="Wh")) == 1.5
    assert mapping.energy_kwh(None) is None
    assert mapping.transaction_id(_state("0")) is None
    assert mapping.transaction_id(_state("1795280789")) == "1795280789"
    assert mapping.transaction_id(_state("tx-1")) == "tx-1"
    assert mapping.transaction_id(_state("unknown")) is None
    assert mapping.text(_state("")) is None
    assert mapping.text(_state(RFID)) == RFID
    assert mapping.active_phases(None) is None
    assert mapping.active_phases(Phases(16.0, 0.2, None)) == 1


def test_unique_ids() -> None:
    """Both layouts, the other platforms, the v0.10.8 dotted keys; anything else is not ours."""
    assert parse_unique_id("sensor", "ocpp.charger.status_connector.sensor") == (
        "charger",
        None,
        "status_connector",
    )
    assert parse_unique_id("sensor", "ocpp.charger.conn2.current_import.sensor") == (
        "charger",
        2,
        "current_import",
    )
    assert parse_unique_id("sensor", "ocpp.charger.current.import.sensor") == (
        "charger",
        None,
        "current_import",
    )
    assert parse_unique_id("sensor", "ocpp.charger.connectors.sensor") == (
        "charger",
        None,
        "connectors",
    )
    assert parse_unique_id("switch", "switch.ocpp.charger.conn1.connnector_availability") == (
        "charger",
        1,
        "connnector_availability",
    )
    assert parse_unique_id("switch", "number.ocpp.charger.maximum_current") is None
    assert parse_unique_id("sensor", "something_else") is None
