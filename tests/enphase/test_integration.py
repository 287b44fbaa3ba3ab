"""An Enphase entry in a real Home Assistant on the fake cloud: entities in every state,
token renewal, back-off, restart-resume, the repair issue, diagnostics, the budget."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest

from custom_components.ev_charging.backends.enphase.setup import (
    RESUME_STORE_KEY,
)
from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.diagnostics import async_get_config_entry_diagnostics
from tests.simulators.enphase_cloud import FIXTURE_NOW, EnphaseCloud

from . import SN, SN2
from .conftest import (
    CARPORT,
    MAIN,
    SITE,
    advance,
    attrs,
    backend_of,
    entry_for,
    setup_entry,
    state,
)

pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

HOUR = 3600.0


async def _charging(hass: HomeAssistant, cloud: EnphaseCloud, entry: Any) -> None:
    """Plug the car into the main charger and start charging from Home Assistant."""
    cloud.plug_in(SN)
    await entry.runtime_data.coordinator.async_refresh()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{MAIN}_charging"}, blocking=True
    )
    await hass.async_block_till_done()


async def test_one_device_per_charger_and_unload_detaches_the_session(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """Each charger of the site is a device; unloading releases the HTTP session."""
    entry = await setup_entry(hass, await entry_for(cloud))
    assert entry.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert {(d.name, d.manufacturer, d.serial_number) for d in devices} == {
        ("IQ EV Charger_4567", "Enphase", SN),
        ("Carport", "Enphase", SN2),
    }
    main = next(d for d in devices if d.serial_number == SN)
    assert main.model == "IQ-EVSE-EU-3032"
    assert main.sw_version == "25.37.1.14"
    assert main.configuration_url == f"{cloud.url}/web/{SITE}"
    session = backend_of(entry).client._session
    assert not session.closed
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert session.closed
    assert state(hass, f"sensor.{MAIN}_status") == STATE_UNAVAILABLE


async def test_restart_needs_no_new_login(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """The stored login carries over: setting up twice logs in zero times."""
    entry = await entry_for(cloud)
    logins = cloud.requests["login"]
    await setup_entry(hass, entry)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert cloud.requests["login"] == logins
    assert entry.state is ConfigEntryState.LOADED


async def test_idle_entities(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """No car: available, 0 W (estimated), lifetime energy, today's sessions trimmed."""
    midnight = FIXTURE_NOW - 11.25 * HOUR  # 00:00 at the site (UTC+1)
    cloud.add_session(SN, midnight - 2 * HOUR, midnight, 3.0)  # yesterday only
    cloud.add_session(SN, midnight - HOUR, midnight + HOUR, 4.0)  # across midnight
    cloud.add_session(SN, midnight + 2 * HOUR, midnight + 4 * HOUR, 7.5)
    await setup_entry(hass, await entry_for(cloud))

    assert state(hass, f"sensor.{MAIN}_status") == "available"
    assert state(hass, f"binary_sensor.{MAIN}_plugged_in") == "off"
    assert state(hass, f"binary_sensor.{MAIN}_charging") == "off"
    assert state(hass, f"binary_sensor.{MAIN}_problem") == "off"
    assert state(hass, f"binary_sensor.{MAIN}_connection") == "on"
    assert state(hass, f"sensor.{MAIN}_power") == "0.0"
    assert attrs(hass, f"sensor.{MAIN}_power")["estimated"] is True
    assert float(state(hass, f"sensor.{MAIN}_lifetime_energy")) == pytest.approx(1482.316)
    assert state(hass, f"sensor.{MAIN}_energy_today") == "9.5"
    assert state(hass, f"sensor.{MAIN}_sessions_today") == "2"
    first, second = attrs(hass, f"sensor.{MAIN}_sessions_today")["sessions"]
    assert first == {
        "start": "2026-03-13T23:00:00+00:00",
        "end": "2026-03-14T00:00:00+00:00",
        "energy_kwh": 2.0,
        "trimmed": True,
    }
    assert second["energy_kwh"] == 7.5
    assert second["trimmed"] is False
    assert state(hass, f"sensor.{CARPORT}_sessions_today") == "0"
    assert state(hass, f"sensor.{MAIN}_session_energy") == "0.0"
    assert state(hass, f"select.{MAIN}_charge_mode") == "manual"
    assert attrs(hass, f"select.{MAIN}_charge_mode")["options"] == [
        "manual",
        "scheduled",
        "green",
        "smart",
    ]
    assert state(hass, f"number.{MAIN}_charging_current") == "32.0"
    assert state(hass, f"switch.{MAIN}_charging") == "off"
    assert state(hass, f"binary_sensor.{MAIN}_cloud_reachable") == "on"
    assert float(state(hass, f"sensor.{MAIN}_cloud_latency")) >= 0
    assert state(hass, f"sensor.{MAIN}_cloud_last_error") == "unknown"
    assert state(hass, f"sensor.{MAIN}_cloud_back_off_until") == "unknown"
    assert state(hass, f"binary_sensor.{MAIN}_current_change_pending") == "off"
    assert state(hass, f"binary_sensor.{MAIN}_charging_requested") == "off"
    assert state(hass, f"sensor.{MAIN}_firmware") == "25.37.1.14"
    assert state(hass, f"sensor.{CARPORT}_status") == "available"


async def test_charging_entities(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Charging: power estimated from the session energy, session energy and duration."""
    entry = await setup_entry(hass, await entry_for(cloud))
    await _charging(hass, cloud, entry)
    assert cloud.started == [(SN, 32)]
    assert state(hass, f"sensor.{MAIN}_status") == "charging"
    assert state(hass, f"binary_sensor.{MAIN}_charging") == "on"
    assert state(hass, f"binary_sensor.{MAIN}_plugged_in") == "on"
    assert state(hass, f"switch.{MAIN}_charging") == "on"
    assert state(hass, f"binary_sensor.{MAIN}_charging_requested") == "on"
    # Before two reports: the offered current x 230 V x 3 phases.
    assert state(hass, f"sensor.{MAIN}_power") == "22080.0"
    assert attrs(hass, f"sensor.{MAIN}_power")["estimated"] is True

    cloud.set_status(SN, car_max_amps=16)  # the car takes 16 A of the 32 A offered
    await advance(hass, freezer, cloud, 30)
    await advance(hass, freezer, cloud, 30)
    # Then the energy the charger reports between two polls: what the car really takes.
    assert float(state(hass, f"sensor.{MAIN}_power")) == pytest.approx(11040, rel=0.01)
    assert state(hass, f"sensor.{MAIN}_session_energy") == "0.184"  # 11.04 kW for a minute
    assert state(hass, f"sensor.{MAIN}_session_duration") == "1.0"  # minutes
    assert state(hass, f"sensor.{MAIN}_sessions_today") == "1"
    assert attrs(hass, f"sensor.{MAIN}_sessions_today")["sessions"][0]["end"] is None
    assert float(state(hass, f"sensor.{MAIN}_energy_today")) > 0
    assert entry.runtime_data.coordinator.update_interval == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"connector_status": "SUSPENDED_EV"}, "suspended_ev", "unknown"),
        (
            {"connector_status": "SUSPENDED_EVSE", "reason": "INSUFFICIENT_SOLAR"},
            "suspended_evse",
            "INSUFFICIENT_SOLAR",
        ),
    ],
)
async def test_suspended_entities(
    hass: HomeAssistant, cloud: EnphaseCloud, fields: dict[str, str], status: str, reason: str
) -> None:
    """Paused by the car or by the charger: plugged in, not charging, 0 W."""
    cloud.plug_in(SN)
    cloud.set_status(SN, **fields)
    await setup_entry(hass, await entry_for(cloud))
    assert state(hass, f"sensor.{MAIN}_status") == status
    assert attrs(hass, f"sensor.{MAIN}_status")["vendor_status"] == fields["connector_status"]
    assert state(hass, f"binary_sensor.{MAIN}_plugged_in") == "on"
    assert state(hass, f"binary_sensor.{MAIN}_charging") == "off"
    assert state(hass, f"sensor.{MAIN}_power") == "0.0"
    assert state(hass, f"sensor.{MAIN}_connector_reason") == reason


async def test_faulted_and_offline_entities(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A fault shows as a problem with its reason; a charger off the cloud as offline."""
    cloud.set_status(SN, faulted=True, info="GROUND_FAULT")
    await setup_entry(hass, await entry_for(cloud))
    assert state(hass, f"sensor.{MAIN}_status") == "faulted"
    assert state(hass, f"binary_sensor.{MAIN}_problem") == "on"
    assert attrs(hass, f"sensor.{MAIN}_status")["error"] == "GROUND_FAULT"

    cloud.set_status(SN, faulted=False, connected=False)
    await advance(hass, freezer, cloud, 60)
    assert state(hass, f"sensor.{MAIN}_status") == "offline"
    assert state(hass, f"binary_sensor.{MAIN}_connection") == "off"
    assert state(hass, f"sensor.{MAIN}_power") == "unknown"
    assert state(hass, f"binary_sensor.{MAIN}_cloud_reachable") == "on"  # the cloud still is


async def test_expired_session_is_renewed_silently(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The cloud drops the session: one silent login, the entities never go unavailable."""
    entry = await setup_entry(hass, await entry_for(cloud))
    before = entry.data["auth_state"]
    logins = cloud.requests["login"]
    cloud.expire_tokens()
    await advance(hass, freezer, cloud, 60)
    assert cloud.requests["login"] == logins + 1
    assert state(hass, f"sensor.{MAIN}_status") == "available"
    assert entry.data["auth_state"]["session_id"] != before["session_id"]
    assert entry.data["auth_state"]["token"] != before["token"]


async def test_token_is_renewed_before_it_expires(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A short-lived token is renewed ahead of its expiry, and the entry keeps the new one."""
    cloud.token_ttl = 600
    entry = await setup_entry(hass, await entry_for(cloud))
    token = entry.data["auth_state"]["token"]
    tokens = cloud.requests["tokens"]
    await advance(hass, freezer, cloud, 60)
    assert cloud.requests["tokens"] == tokens  # 540 s left: not yet
    for _ in range(4):
        await advance(hass, freezer, cloud, 60)
    assert cloud.requests["tokens"] == tokens + 1  # 300 s before expiry
    assert entry.data["auth_state"]["token"] != token
    assert cloud.requests["login"] == 1  # the one of the entry fixture
    assert state(hass, f"sensor.{MAIN}_status") == "available"


async def test_a_rejected_login_starts_reauth(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Password changed elsewhere: the silent login fails and Home Assistant asks the user."""
    entry = await setup_entry(hass, await entry_for(cloud))
    cloud.password = "changed"
    cloud.expire_tokens()
    await advance(hass, freezer, cloud, 60)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert flows[0]["step_id"] == "reauth_enphase_confirm"
    assert entry.state is ConfigEntryState.LOADED


async def test_backoff_after_429_sends_nothing_then_recovers(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 makes the entities unavailable and the client silent until the back-off ends."""
    cloud.plug_in(SN)  # polls every 30 s
    await setup_entry(hass, await entry_for(cloud))
    cloud.fail_next("ev_chargers/status", 429, retry_after=90)
    requests = sum(cloud.requests.values())
    await advance(hass, freezer, cloud, 30)
    assert sum(cloud.requests.values()) == requests + 1
    assert state(hass, f"sensor.{MAIN}_status") == STATE_UNAVAILABLE
    assert state(hass, f"binary_sensor.{MAIN}_cloud_reachable") == "off"
    for _ in range(2):  # 30 s and 60 s into the 90 s back-off: nothing is sent
        await advance(hass, freezer, cloud, 30)
        assert sum(cloud.requests.values()) == requests + 1
        assert state(hass, f"sensor.{MAIN}_status") == STATE_UNAVAILABLE
    await advance(hass, freezer, cloud, 30)
    assert state(hass, f"sensor.{MAIN}_status") == "plugged"
    assert state(hass, f"binary_sensor.{MAIN}_cloud_reachable") == "on"
    # The last refusal while backing off is the last error on record.
    assert state(hass, f"sensor.{MAIN}_cloud_last_error") == "backing off after HTTP 429"
    assert attrs(hass, f"sensor.{MAIN}_cloud_last_error")["occurred_at"].startswith("2026-03-14")


async def test_backoff_of_an_optional_read_shows_its_end(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """The scheduler failing backs off that family alone; the sensor says until when."""
    entry = await setup_entry(hass, await entry_for(cloud))
    cloud.fail_next("evse_scheduler", 503)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": f"select.{MAIN}_charge_mode", "option": "green"},
            blocking=True,
        )
    assert err.value.translation_key == "service_unavailable"
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, f"sensor.{MAIN}_status") == "available"
    assert state(hass, f"sensor.{MAIN}_cloud_back_off_until") == "2026-03-14T10:16:00+00:00"
    assert state(hass, f"select.{MAIN}_charge_mode") == "manual"


async def test_too_many_sessions_raises_a_repair_issue_until_logins_work(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The issue appears when the cloud says so, and goes once signing in works again."""
    entry = await setup_entry(hass, await entry_for(cloud))
    issue_id = f"too_many_active_sessions_{entry.entry_id}"
    cloud.expire_tokens()
    cloud.too_many_sessions(True)
    await advance(hass, freezer, cloud, 60)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "too_many_active_sessions"
    assert issue.translation_placeholders == {"title": "Maple Street Home"}
    assert state(hass, f"sensor.{MAIN}_status") == STATE_UNAVAILABLE

    cloud.too_many_sessions(False)
    logins = cloud.requests["login"]
    await advance(hass, freezer, cloud, 600)  # logins stay paused for an hour
    assert cloud.requests["login"] == logins
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await advance(hass, freezer, cloud, HOUR)
    assert cloud.requests["login"] == logins + 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert state(hass, f"sensor.{MAIN}_status") == "available"


async def test_restart_resumes_charging_once_without_flapping(
    hass: HomeAssistant,
    cloud: EnphaseCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Charging was asked for; the charger paused while Home Assistant restarted."""
    entry = await setup_entry(hass, await entry_for(cloud))
    await _charging(hass, cloud, entry)
    await hass.async_block_till_done()
    saved = hass_storage[RESUME_STORE_KEY]["data"][entry.entry_id]
    assert saved["charging_requested"] == {SN: True}

    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.data.pop(f"{DOMAIN}_enphase_resume")  # a restart starts from the stored file
    cloud.set_status(SN, connector_status="SUSPENDED_EVSE")  # the cloud dropped the session
    await advance(hass, freezer, cloud, 300)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert cloud.started == [(SN, 32), (SN, 32)]  # resumed once, at once
    await advance(hass, freezer, cloud, 30)
    assert state(hass, f"sensor.{MAIN}_status") == "charging"
    for _ in range(10):
        await advance(hass, freezer, cloud, 30)
    assert len(cloud.started) == 2

    # The charger keeps pausing: three tries 120 s apart, then it waits for charging.
    for _ in range(40):
        cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
        await advance(hass, freezer, cloud, 30)
    assert len(cloud.started) == 5


async def test_restart_after_a_stop_does_not_resume(
    hass: HomeAssistant,
    cloud: EnphaseCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Stopped before the restart: nothing starts afterwards, and the wish is on file."""
    entry = await setup_entry(hass, await entry_for(cloud))
    await _charging(hass, cloud, entry)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{MAIN}_charging"}, blocking=True
    )
    assert hass_storage[RESUME_STORE_KEY]["data"][entry.entry_id]["charging_requested"] == {
        SN: False
    }
    assert await hass.config_entries.async_reload(entry.entry_id)
    cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
    for _ in range(6):
        await advance(hass, freezer, cloud, 60)
    assert len(cloud.started) == 1


async def test_diagnostics_redact_every_secret(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """No e-mail, password, token, cookie, serial, site id or address in the download.

    Called directly: the download view's system info does not run under a frozen clock.
    """
    entry = await setup_entry(hass, await entry_for(cloud))
    result = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(result)
    secrets = [
        cloud.email,
        cloud.password,
        SN,
        SN2,
        SITE,
        "192.168.1.57",
        "00:1d:c0:12:34:56",
        entry.data["auth_state"]["token"],
        entry.data["auth_state"]["session_id"],
        entry.data["auth_state"]["manager_token"],
    ]
    for secret in secrets:
        assert secret not in text, secret
    data = result["entry"]["data"]
    assert data["auth_state"] == data["password"] == data["email"] == "**REDACTED**"
    backend = result["backend"]
    assert set(backend["chargers"]) == {"charger_1", "charger_2"}
    assert backend["payloads"]["status"]["data"]["chargers"][0]["name"] == "IQ EV Charger_4567"
    assert backend["health"]["reachable"] is True
    assert backend["resume_saved"] == {"charging_requested": {}, "requested_current": {}}
    assert result["last_update_success"] is True


async def test_requests_per_hour_through_the_integration(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """One charger: 69 requests an hour idle, 140 charging (the vendor tolerates ~600)."""
    entry = await setup_entry(hass, await entry_for(cloud, serials=[SN]))
    coordinator = entry.runtime_data.coordinator

    async def per_hour() -> dict[str, float]:
        for _ in range(4):  # let the schedules settle
            await advance(hass, freezer, cloud, coordinator.update_interval.total_seconds())
        before = cloud.requests.copy()
        elapsed = 0.0
        while elapsed < 2 * HOUR:
            step = coordinator.update_interval.total_seconds()
            await advance(hass, freezer, cloud, step)
            elapsed += step
        return {key: count / 2 for key, count in (cloud.requests - before).items()}

    idle = await per_hour()
    await _charging(hass, cloud, entry)
    charging = await per_hour()
    print(f"\nEnphase through Home Assistant, idle: {sum(idle.values()):g}/h {idle}")
    print(f"Enphase through Home Assistant, charging: {sum(charging.values()):g}/h {charging}")
    assert idle == {"status": 60, "summary": 6, "charge_mode_get": 2, "sessions": 1}
    assert charging == {"status": 120, "summary": 6, "charge_mode_get": 2, "sessions": 12}
    assert state(hass, f"sensor.{MAIN}_status") == "charging"
