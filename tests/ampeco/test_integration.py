"""An AMPECO account in a real Home Assistant, against the fake cloud over loopback.

Entities, status mapping, units, start/stop through the switch and the actions,
token renewal persisted in the entry, back-off after 429, requests per hour, and
the diagnostics download.
"""

from __future__ import annotations

import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button.const import SERVICE_PRESS
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging.backends.ampeco.statuses import STATUS_TABLE
from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.models import ChargerStatus
from tests.simulators.ampeco_cloud import CLIENT_SECRET, EMAIL, STATIC_TOKEN, AmpecoCloud

from .conftest import CHARGER, DEVICE, AccountFactory, CloudFactory

LIST = "GET /app/personal/charge-points"
TOKEN = "POST /app/oauth/token"
START = "POST /app/session/start"
STOP = "POST /app/session/{session_id}/{action}"
HISTORY = "GET /app/profile/session_history"
SWITCH = f"switch.{DEVICE}_charging"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _unit(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    unit: str | None = state.attributes.get("unit_of_measurement")
    return unit


def _device_id(hass: HomeAssistant, charger_id: str = CHARGER) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, charger_id)})
    assert device is not None
    return device.id


async def _refresh(entry: ConfigEntry[Any]) -> None:
    await entry.runtime_data.coordinator.async_refresh()


async def _switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call("switch", service, {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await hass.async_block_till_done()


async def _action(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)
    await hass.async_block_till_done()


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cloud: AmpecoCloud, seconds: float
) -> None:
    """Let time pass for Home Assistant and the cloud alike; scheduled polls run."""
    freezer.tick(seconds)
    cloud.advance(seconds)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


# --- entities -------------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities_of_an_idle_charger(
    hass: HomeAssistant,
    cloud: AmpecoCloud,
    add_account: AccountFactory,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Shared entities, AMPECO's own, and none that the cloud cannot back (no limit number)."""
    freezer.move_to(cloud.utcnow())
    entry = await add_account(cloud)
    entities = {
        e.entity_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert entities == {
        f"binary_sensor.{DEVICE}_{key}"
        for key in ("plugged_in", "charging", "problem", "connection")
    } | {f"sensor.{DEVICE}_{key}" for key in (
        "status", "power", "current_limit", "session_energy", "session_duration",
        "energy_today", "vendor_status", "firmware", "serial_number", "model",
        "energy_this_month", "energy_last_month", "session_cost", "maximum_power", "evse_id",
    )} | {SWITCH, f"button.{DEVICE}_refresh"}  # fmt: skip
    assert not any(e.startswith(("number.", "select.")) for e in entities)
    assert _state(hass, f"sensor.{DEVICE}_status") == "available"
    assert _state(hass, f"sensor.{DEVICE}_power") == "0.0"
    assert _state(hass, f"sensor.{DEVICE}_current_limit") == "16.0"
    assert _state(hass, f"sensor.{DEVICE}_energy_today") == "6.431"  # 12 June, local time
    assert _state(hass, f"sensor.{DEVICE}_energy_this_month") == "30.741"
    assert _state(hass, f"sensor.{DEVICE}_energy_last_month") == "142.608"
    assert _state(hass, f"sensor.{DEVICE}_session_cost") == "unknown"
    assert _state(hass, f"sensor.{DEVICE}_maximum_power") == "11.04"
    assert _unit(hass, f"sensor.{DEVICE}_maximum_power") == "kW"
    assert _state(hass, f"sensor.{DEVICE}_evse_id") == "4107"
    assert _state(hass, f"sensor.{DEVICE}_serial_number") == "HMC0012345"
    assert _state(hass, SWITCH) == "off"
    assert _state(hass, f"binary_sensor.{DEVICE}_connection") == "on"
    device = device_registry.async_get_device(identifiers={(DOMAIN, CHARGER)})
    assert device is not None
    assert (device.manufacturer, device.model, device.sw_version) == (
        "AMPECO",
        "Type 2",
        "5.8.1-2210",
    )
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: f"button.{DEVICE}_refresh"}, blocking=True
    )
    assert entry.runtime_data.coordinator.last_update_success


STATUS_CASES = [
    *((raw, None, None, expected) for raw, expected in STATUS_TABLE.items()),
    ("suspendedEV", None, None, ChargerStatus.SUSPENDED_EV),
    ("SuspendedEVSE", None, None, ChargerStatus.SUSPENDED_EVSE),
    ("Out of order", None, None, ChargerStatus.FAULTED),
    ("brand-new-state", None, None, ChargerStatus.UNKNOWN),
    ("charging", None, "faulted", ChargerStatus.FAULTED),
    ("charging", None, "unavailable", ChargerStatus.OFFLINE),
    # with a running session, chargingState tells whether energy flows
    ("charging", "suspendedEVSE", None, ChargerStatus.SUSPENDED_EVSE),
    ("suspended", "suspendedEV", None, ChargerStatus.SUSPENDED_EV),
    ("charging", "charging", None, ChargerStatus.CHARGING),
    ("preparing", "eVConnected", None, ChargerStatus.PLUGGED),
]


@pytest.mark.parametrize(("raw", "charging_state", "point_status", "expected"), STATUS_CASES)
async def test_every_status_through_the_entities(
    hass: HomeAssistant,
    cloud: AmpecoCloud,
    add_account: AccountFactory,
    raw: str,
    charging_state: str | None,
    point_status: str | None,
    expected: ChargerStatus,
) -> None:
    """Each vendor status (any spelling) shows on the status sensor and the binary sensors."""
    entry = await add_account(cloud)
    if charging_state is not None:
        cloud.plug_in()
        await _switch(hass, SERVICE_TURN_ON)
        cloud.advance(1)
    cloud.set_status(status=raw, charging_state=charging_state, charge_point_status=point_status)
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == expected.value
    status = hass.states.get(f"sensor.{DEVICE}_status")
    assert status is not None
    assert status.attributes["vendor_status"] == raw
    on_off = {True: "on", False: "off"}
    assert _state(hass, f"binary_sensor.{DEVICE}_plugged_in") == on_off[expected.car_connected]
    assert _state(hass, f"binary_sensor.{DEVICE}_charging") == on_off[expected.charging]
    problem = expected is ChargerStatus.FAULTED
    assert _state(hass, f"binary_sensor.{DEVICE}_problem") == on_off[problem]
    online = expected is not ChargerStatus.OFFLINE
    assert _state(hass, f"binary_sensor.{DEVICE}_connection") == on_off[online]


async def test_units_800_w_and_90_wh(
    hass: HomeAssistant,
    cloud: AmpecoCloud,
    add_account: AccountFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """W and Wh are converted always, never by size: 800 W is 800 W, 90 Wh is 0.09 kWh."""
    freezer.move_to(cloud.utcnow())
    entry = await add_account(cloud)
    cloud.plug_in()
    cloud.set_power(None, 800.0)
    await _switch(hass, SERVICE_TURN_ON)
    cloud.advance(405)  # 800 W for 405 s = 90 Wh
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "charging"
    assert (_state(hass, f"sensor.{DEVICE}_power"), _unit(hass, f"sensor.{DEVICE}_power")) == (
        "800.0",
        "W",
    )
    energy = f"sensor.{DEVICE}_session_energy"
    assert (_state(hass, energy), _unit(hass, energy)) == ("0.09", "kWh")
    duration = f"sensor.{DEVICE}_session_duration"
    assert (_state(hass, duration), _unit(hass, duration)) == ("6.75", "min")
    assert _state(hass, f"sensor.{DEVICE}_energy_today") == "6.521"
    assert _state(hass, f"sensor.{DEVICE}_energy_this_month") == "30.831"
    cost = hass.states.get(f"sensor.{DEVICE}_session_cost")
    assert cost is not None
    assert cost.state == "0.02"  # 0.09 kWh at 0.25 EUR
    assert cost.attributes["unit_of_measurement"] == "EUR"
    assert cost.attributes["device_class"] == "monetary"


# --- start and stop -------------------------------------------------------------------


async def test_switch_starts_with_the_public_id_and_ends_the_session(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """On sends the public EVSE id; off ends the session through ``/end``; the cost stays."""
    entry = await add_account(cloud)
    cloud.plug_in()
    await _switch(hass, SERVICE_TURN_ON)
    assert cloud.start_bodies == [{"evseId": 4107, "source": "App"}]
    assert _state(hass, SWITCH) == "on"  # a session runs, the car not drawing yet
    assert _state(hass, f"sensor.{DEVICE}_status") == "plugged"
    cloud.advance(60)
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "charging"
    assert _state(hass, f"sensor.{DEVICE}_session_cost") == "0.03"

    await _switch(hass, SERVICE_TURN_OFF)
    assert cloud.requests[STOP] == 1  # ``/end`` took it at once
    cloud.advance(1)
    await _refresh(entry)
    assert _state(hass, SWITCH) == "off"
    assert _state(hass, f"sensor.{DEVICE}_status") == "finishing"
    assert cloud.history[0]["session"]["stopReason"] == "remote"
    assert _state(hass, f"sensor.{DEVICE}_session_energy") == "0.12"
    assert _state(hass, f"sensor.{DEVICE}_session_cost") == "0.03"


async def test_switch_falls_back_to_the_internal_id_and_the_stop_route(
    hass: HomeAssistant, cloud_factory: CloudFactory, add_account: AccountFactory
) -> None:
    """A tenant that refuses the public id and has no ``/end`` still starts and stops."""
    cloud = await cloud_factory(accept_identifier=False, stop_routes=("stop",))
    entry = await add_account(cloud)
    cloud.plug_in()
    await _switch(hass, SERVICE_TURN_ON)
    assert [body["evseId"] for body in cloud.start_bodies] == [4107, "58231"]
    cloud.advance(30)
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "charging"
    await _switch(hass, SERVICE_TURN_OFF)
    assert cloud.requests[STOP] == 2  # ``/end`` refused, ``/stop`` accepted
    cloud.advance(1)
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "finishing"
    # the forms that worked are kept: one request each next time
    cloud.advance(10)
    await _action(hass, "start_charging", device_id=_device_id(hass))
    assert [body["evseId"] for body in cloud.start_bodies][2:] == ["58231"]
    await _action(hass, "stop_charging", device_id=_device_id(hass))
    assert cloud.requests[STOP] == 3


async def test_actions_start_and_stop_and_explain_refusals(
    hass: HomeAssistant, cloud_factory: CloudFactory, add_account: AccountFactory
) -> None:
    """The actions drive the same commands; refusals are translated errors."""
    cloud = await cloud_factory(accept_internal_id=False)
    await add_account(cloud)
    device_id = _device_id(hass)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "stop_charging", device_id=device_id)
    assert err.value.translation_key == "rejected_no_active_session"
    cloud.plug_in()
    await _action(hass, "start_charging", device_id=device_id)
    assert cloud.start_bodies == [{"evseId": 4107, "source": "App"}]
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charging", device_id=device_id)
    assert err.value.translation_key == "rejected_already_active"
    await _action(hass, "stop_charging", device_id=device_id)
    assert cloud.requests[STOP] == 1
    cloud.fail_next("session/start", 500)
    cloud.advance(11)
    with pytest.raises(HomeAssistantError) as failure:
        await _action(hass, "start_charging", device_id=device_id)
    assert failure.value.translation_key == "communication_error"


async def test_set_current_is_not_supported(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """No current-limit write exists for this cloud: a translated error, no request."""
    await add_account(cloud)
    before = sum(cloud.requests.values())
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "set_current", device_id=_device_id(hass), current=10)
    assert err.value.translation_key == "set_current_not_supported"
    assert err.value.translation_placeholders == {"name": "Garage Charger"}
    assert sum(cloud.requests.values()) == before


# --- tokens -----------------------------------------------------------------------------


async def test_token_refresh_mid_run_is_persisted(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """A 401 renews the token; the rotated pair is in the entry, so a restart needs no login."""
    entry = await add_account(cloud)
    assert entry.data["tokens"]["refresh_token"] == "fake-refresh-token-0001"
    cloud.expire_tokens()
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "available"
    assert cloud.requests[TOKEN] == 2  # the password grant, then one refresh
    assert entry.data["tokens"]["access_token"] == "fake-access-token-0002"
    assert entry.data["tokens"]["refresh_token"] == "fake-refresh-token-0002"

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert cloud.requests[TOKEN] == 2  # the stored token served the restart
    # refresh token 0001 was used up: only the persisted 0002 can renew now
    cloud.expire_tokens()
    await _refresh(entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "available"
    assert entry.data["tokens"]["refresh_token"] == "fake-refresh-token-0003"
    assert not list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_token_is_renewed_before_it_expires(
    hass: HomeAssistant,
    cloud_factory: CloudFactory,
    add_account: AccountFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Within a minute of expiry the token is refreshed first: no request is refused."""
    cloud = await cloud_factory(token_lifetime=3600)
    freezer.move_to(cloud.utcnow())
    entry = await add_account(cloud)
    freezer.tick(3550)
    cloud.advance(3550)
    lists = cloud.requests[LIST]
    await _refresh(entry)
    assert cloud.requests[TOKEN] == 2
    assert cloud.requests[LIST] == lists + 1  # no 401 and retry
    assert entry.data["tokens"]["access_token"] == "fake-access-token-0002"
    assert entry.data["tokens"]["expires_at"] == pytest.approx(cloud.now + 3600)


async def test_refused_refresh_asks_for_reauth(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """When the refresh token is refused too, the entities go unavailable and reauth starts."""
    entry = await add_account(cloud)
    cloud.expire_tokens(refresh=True)
    await _refresh(entry)
    await hass.async_block_till_done()
    assert _state(hass, f"sensor.{DEVICE}_status") == "unavailable"
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    tokens = cloud.requests[TOKEN]
    await _refresh(entry)  # the failure is remembered: the token route is not hammered
    assert cloud.requests[TOKEN] == tokens


async def test_entry_without_tokens_asks_for_reauth(
    hass: HomeAssistant, cloud: AmpecoCloud
) -> None:
    """Unreadable stored tokens stop the setup with a reauth, not a crash."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage Charger",
        unique_id="127.0.0.1/48213",
        data={
            "backend": "ampeco",
            "host": cloud.host,
            "auth_method": "password",
            "email": EMAIL,
            "client_id": "1",
            "client_secret": CLIENT_SECRET,
            "tokens": {},
            "account_id": "48213",
            "charge_point_ids": ["HMC0012345"],
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert sum(cloud.requests.values()) == 0


async def test_tokens_renewed_after_removal_are_dropped(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """A renewal that lands after the entry was removed does not resurrect it."""
    entry = await add_account(cloud, token=STATIC_TOKEN)
    client = entry.runtime_data.backend.client
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert client.on_tokens is not None
    client.on_tokens(client.tokens)
    assert hass.config_entries.async_get_entry(entry.entry_id) is None


# --- polling ----------------------------------------------------------------------------


async def test_backoff_after_429_does_not_hammer(
    hass: HomeAssistant,
    cloud: AmpecoCloud,
    add_account: AccountFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a 429 with Retry-After 120 s no request goes out for 120 s; then all recovers."""
    freezer.move_to(cloud.utcnow())
    await add_account(cloud)
    cloud.plug_in()
    await _tick(hass, freezer, cloud, 300)  # the idle poll sees the car: 30 s from now on
    assert _state(hass, f"sensor.{DEVICE}_status") == "plugged"
    cloud.fail_next("personal/charge-points", 429, retry_after=120)
    before = sum(cloud.requests.values())
    await _tick(hass, freezer, cloud, 30)
    assert sum(cloud.requests.values()) == before + 1
    assert _state(hass, f"sensor.{DEVICE}_status") == "unavailable"
    assert _state(hass, f"binary_sensor.{DEVICE}_connection") == "off"
    for _ in range(3):  # polls at +30, +60, +90 s stay at home
        await _tick(hass, freezer, cloud, 30)
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: f"button.{DEVICE}_refresh"}, blocking=True
    )
    assert sum(cloud.requests.values()) == before + 1
    assert _state(hass, f"sensor.{DEVICE}_status") == "unavailable"
    await _tick(hass, freezer, cloud, 30)  # +120 s: one request, and it works
    assert sum(cloud.requests.values()) == before + 2
    assert _state(hass, f"sensor.{DEVICE}_status") == "plugged"
    assert _state(hass, f"binary_sensor.{DEVICE}_connection") == "on"


async def _requests_in_second_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cloud: AmpecoCloud, entry: ConfigEntry[Any]
) -> int:
    """Let two hours of scheduled polls run; count the requests of the second hour.

    The first hour only brings the schedule to its steady state, so it passes in
    one jump (a single poll); the second runs poll by poll.
    """
    coordinator = entry.runtime_data.coordinator
    elapsed = 3600 - coordinator.update_interval.total_seconds()
    await _tick(hass, freezer, cloud, elapsed)
    before: int | None = None
    while elapsed < 7200:
        if elapsed >= 3600 and before is None:
            before = sum(cloud.requests.values())
        step = coordinator.update_interval.total_seconds()
        await _tick(hass, freezer, cloud, step)
        elapsed += step
    assert before is not None
    return sum(cloud.requests.values()) - before


async def test_requests_per_hour(
    hass: HomeAssistant,
    cloud_factory: CloudFactory,
    add_account: AccountFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Measured through the coordinator's own schedule: idle 13, charging 121 an hour."""
    idle_cloud = await cloud_factory()
    freezer.move_to(idle_cloud.utcnow())
    idle_entry = await add_account(idle_cloud)
    idle = await _requests_in_second_hour(hass, freezer, idle_cloud, idle_entry)
    assert await hass.config_entries.async_unload(idle_entry.entry_id)

    cloud = await cloud_factory()
    cloud.now = idle_cloud.now
    entry = await add_account(cloud)
    cloud.plug_in()
    await _switch(hass, SERVICE_TURN_ON)
    charging = await _requests_in_second_hour(hass, freezer, cloud, entry)
    assert _state(hass, f"sensor.{DEVICE}_status") == "charging"
    print(f"AMPECO requests per hour through the integration: idle {idle}, charging {charging}")
    assert idle == 12 + 1  # the list every 5 min, the history hourly
    assert charging == 120 + 1  # the list every 30 s, the history hourly


# --- diagnostics ------------------------------------------------------------------------


async def test_diagnostics_redact_tokens_secrets_and_ids(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: AmpecoCloud,
    add_account: AccountFactory,
) -> None:
    """Raw payloads and states are there; tokens, secret, e-mail and ids are not."""
    entry = await add_account(cloud)
    cloud.plug_in()
    await _switch(hass, SERVICE_TURN_ON)
    cloud.advance(60)
    await _refresh(entry)
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(result)
    tokens = entry.data["tokens"]
    for secret in (
        tokens["access_token"],
        tokens["refresh_token"],
        CLIENT_SECRET,
        EMAIL,
        '"48213"',  # the account
        "HMC0012345",  # the charge point
        '"902115"',  # the session
        '"58231"',  # the EVSE, internal id
        '"4107"',  # the EVSE, public id
        '"2291"',  # the payment method
        "hmc-thumb.jpg",  # the photo
    ):
        assert secret not in text, secret
    data = result["entry"]["data"]
    assert data["tokens"]["access_token"] == "**REDACTED**"
    assert data["host"] == cloud.host
    assert data["auth_method"] == "password"
    assert result["states"]["charger_1"]["status"] == "charging"
    assert result["states"]["charger_1"]["power"] == 7200.0
    assert result["chargers"]["charger_1"]["serial"] == "**REDACTED**"
    backend = result["backend"]
    assert backend["client"]["start_id_forms"] == ["identifier"]
    assert backend["client"]["has_refresh_token"] is True
    point = backend["payloads"]["charge_points"]["data"][0]
    assert point["id"] == "**REDACTED**"
    assert point["evses"][0]["session"]["energy"] == 120
    assert point["firmware_version"] == "5.8.1-2210"
