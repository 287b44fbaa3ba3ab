"""The Enphase config flow against the fake cloud: add, one-time code, site, chargers,
errors, duplicate, reauth, reconfigure and options."""

from __future__ import annotations

import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging.const import DOMAIN
from tests.simulators.enphase_cloud import EnphaseCloud

from . import SN, SN2
from .conftest import MAIN, SITE, TITLE, backend_of, entry_for, setup_entry, state

OTHER_SITE = "3381999"


def _credentials(cloud: EnphaseCloud, **overrides: Any) -> dict[str, Any]:
    return {"email": cloud.email, "password": cloud.password, "url": cloud.url} | overrides


async def _start(hass: HomeAssistant, *, advanced: bool = True) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_USER, "show_advanced_options": advanced},
    )
    assert result["type"] is FlowResultType.MENU
    assert "enphase" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "enphase"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "enphase"
    assert result["data_schema"] is not None
    assert "url" in result["data_schema"].schema
    return str(result["flow_id"])


async def _configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    return await hass.config_entries.flow.async_configure(flow_id, data)


def _sites(*sites: tuple[str, str]) -> str:
    """A site list body for ``fail_next`` (the fake cloud always lists two sites)."""
    return json.dumps({"sites": [{"id": int(i), "title": t} for i, t in sites]})


async def test_user_flow_creates_the_entry(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """Credentials, a site out of two, one charger of two: an entry that needs no new login."""
    flow_id = await _start(hass)
    result = await _configure(hass, flow_id, _credentials(cloud))
    assert result["step_id"] == "enphase_site"
    result = await _configure(hass, flow_id, {"site_id": SITE})
    assert result["step_id"] == "enphase_chargers"
    assert result["description_placeholders"] == {"site": TITLE}
    result = await _configure(hass, flow_id, {"serials": [SN]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLE
    data = result["data"]
    assert data["backend"] == "enphase"
    assert data["email"] == cloud.email
    assert data["password"] == cloud.password  # no one-time code: kept for a silent re-login
    assert data["url"] == cloud.url
    assert (data["site_id"], data["site_name"], data["serials"]) == (SITE, TITLE, [SN])
    assert data["auth_state"]["session_id"]
    assert data["auth_state"]["cookies"]["_enlighten_4_session"]
    assert result["result"].unique_id == f"{cloud.email}_{SITE}"
    await hass.async_block_till_done()
    assert cloud.requests["login"] == 1  # the entry started with the flow's login
    assert state(hass, f"sensor.{MAIN}_status") == "available"
    assert hass.states.get("sensor.carport_status") is None


async def test_single_site_needs_no_pick(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """One site: straight to the chargers, all ticked."""
    cloud.fail_next("search_sites", 200, body=_sites((SITE, TITLE)))
    flow_id = await _start(hass)
    result = await _configure(hass, flow_id, _credentials(cloud))
    assert result["step_id"] == "enphase_chargers"
    result = await _configure(hass, flow_id, {"serials": [SN, SN2]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["serials"] == [SN, SN2]


@pytest.mark.parametrize(
    ("arrange", "error"),
    [
        ("wrong_password", "invalid_auth"),
        ("server_error", "service_unavailable"),
        ("rate_limited", "rate_limited"),
        ("too_many_sessions", "too_many_active_sessions"),
        ("not_json", "service_unavailable"),
        ("no_sites", "no_sites"),
        ("sites_unreadable", "unknown"),
    ],
)
async def test_credential_errors_then_success(
    hass: HomeAssistant,
    cloud: EnphaseCloud,
    freezer: FrozenDateTimeFactory,
    arrange: str,
    error: str,
) -> None:
    """Each problem shows its translated error on the form; fixing it goes on."""
    form = _credentials(cloud)
    if arrange == "wrong_password":
        form["password"] = "wrong"
    elif arrange == "server_error":
        cloud.fail_next("login.json", 503)
    elif arrange == "rate_limited":
        cloud.fail_next("login.json", 429)
    elif arrange == "too_many_sessions":
        cloud.too_many_sessions(True)
    elif arrange == "not_json":
        cloud.fail_next("login.json", 200, body="<html>maintenance</html>")
    elif arrange == "no_sites":
        cloud.fail_next("search_sites", 200, body='{"sites": []}')
    else:
        cloud.fail_next("search_sites", 200, body='{"nothing": true}')
    flow_id = await _start(hass)
    result = await _configure(hass, flow_id, form)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "enphase"
    assert result["errors"] == {"base": error}
    cloud.too_many_sessions(False)
    freezer.tick(900)  # past any back-off
    result = await _configure(hass, flow_id, _credentials(cloud))
    assert result["step_id"] == "enphase_site"


async def test_unreachable_cloud_and_bad_server(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """A server that does not answer, or is no http(s) address."""
    flow_id = await _start(hass)
    result = await _configure(hass, flow_id, _credentials(cloud, url="http://127.0.0.1:9"))
    assert result["errors"] == {"base": "cloud_unreachable"}
    result = await _configure(hass, flow_id, _credentials(cloud, url="ftp://example.com"))
    assert result["errors"] == {"url": "invalid_url"}


async def test_the_vendor_server_is_the_default(hass: HomeAssistant) -> None:
    """Outside advanced mode there is no server field at all."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await _configure(hass, result["flow_id"], {"next_step_id": "enphase"})
    assert set(result["data_schema"].schema) == {"email", "password"}
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_one_time_code_with_resend_and_a_wrong_code(
    hass: HomeAssistant, cloud: EnphaseCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A code is e-mailed; resend waits 30 s; a wrong code is refused; the right one works."""
    cloud.mfa_required(True)
    flow_id = await _start(hass)
    result = await _configure(hass, flow_id, _credentials(cloud))
    assert result["step_id"] == "enphase_mfa"
    assert result["description_placeholders"] == {"email": cloud.email, "seconds": "30"}
    assert cloud.otp_sent == 1

    result = await _configure(hass, flow_id, {"resend": True})
    assert result["errors"] == {"base": "resend_wait"}
    assert result["description_placeholders"]["seconds"] == "30"
    freezer.tick(31)
    result = await _configure(hass, flow_id, {"resend": True})
    assert result["errors"] == {}
    assert cloud.otp_sent == 2
    freezer.tick(31)
    cloud.fail_next("generate_mfa_login_otp", 503)
    result = await _configure(hass, flow_id, {"resend": True})
    assert result["errors"] == {"base": "service_unavailable"}
    freezer.tick(60)  # the back-off after the 503

    result = await _configure(hass, flow_id, {})
    assert result["errors"] == {"code": "otp_required"}
    result = await _configure(hass, flow_id, {"code": "000000"})
    assert result["errors"] == {"base": "otp_invalid"}
    result = await _configure(hass, flow_id, {"code": cloud.otp_code})
    assert result["step_id"] == "enphase_site"
    result = await _configure(hass, flow_id, {"site_id": SITE})
    result = await _configure(hass, flow_id, {"serials": [SN, SN2]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # A silent re-login would stop at the code: the password is not kept.
    assert "password" not in result["data"]
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_one_time_code_blocked_or_expired(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """Three wrong codes block; a login that expired goes back to the credentials."""
    cloud.mfa_required(True)
    flow_id = await _start(hass)
    await _configure(hass, flow_id, _credentials(cloud))
    errors = [(await _configure(hass, flow_id, {"code": "1"}))["errors"] for _ in range(3)]
    assert errors == [{"base": "otp_invalid"}, {"base": "otp_invalid"}, {"base": "otp_blocked"}]

    flow_id = await _start(hass)
    await _configure(hass, flow_id, _credentials(cloud))
    cloud.fail_next("validate_login_otp", 401)
    result = await _configure(hass, flow_id, {"code": cloud.otp_code})
    assert result["step_id"] == "enphase"
    assert result["errors"] == {"base": "login_expired"}
    cloud.fail_next("generate_mfa_login_otp", 503)
    result = await _configure(hass, flow_id, _credentials(cloud))
    assert result["step_id"] == "enphase"
    assert result["errors"] == {"base": "service_unavailable"}


async def test_site_without_chargers_and_no_charger_picked(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """A site with no charger is refused on the site form; picking none is refused too."""
    flow_id = await _start(hass)
    await _configure(hass, flow_id, _credentials(cloud))
    result = await _configure(hass, flow_id, {"site_id": OTHER_SITE})  # unknown to the cloud
    assert result["step_id"] == "enphase_site"
    assert result["errors"] == {"base": "cloud_unreachable"}
    chargers = dict(cloud.chargers)
    cloud.chargers.clear()
    result = await _configure(hass, flow_id, {"site_id": SITE})
    assert result["errors"] == {"base": "no_chargers"}
    cloud.chargers.update(chargers)
    result = await _configure(hass, flow_id, {"site_id": SITE})
    assert result["step_id"] == "enphase_chargers"
    result = await _configure(hass, flow_id, {"serials": []})
    assert result["errors"] == {"serials": "chargers_required"}
    result = await _configure(hass, flow_id, {"serials": [SN2]})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_account_and_site_only_once(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """The account + site pair is the unique id."""
    await setup_entry(hass, await entry_for(cloud))
    flow_id = await _start(hass)
    await _configure(hass, flow_id, _credentials(cloud))
    result = await _configure(hass, flow_id, {"site_id": SITE})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_password(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """A wrong password is refused; the right one stores a fresh login and reloads."""
    entry = await setup_entry(hass, await entry_for(cloud))
    old = entry.data["auth_state"]["session_id"]
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_enphase_confirm"
    assert result["description_placeholders"]["email"] == cloud.email
    result = await _configure(hass, result["flow_id"], {"password": "wrong"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await _configure(hass, result["flow_id"], {"password": cloud.password})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["auth_state"]["session_id"] != old
    assert entry.data["serials"] == [SN, SN2]
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_with_a_code_and_the_wrong_account(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """A code may follow the password (which is then dropped); another account is refused."""
    entry = await setup_entry(hass, await entry_for(cloud))
    cloud.mfa_required(True)
    result = await entry.start_reauth_flow(hass)
    result = await _configure(hass, result["flow_id"], {"password": cloud.password})
    assert result["step_id"] == "enphase_mfa"
    result = await _configure(hass, result["flow_id"], {"code": cloud.otp_code})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert "password" not in entry.data

    cloud.fail_next("search_sites", 200, body=_sites((OTHER_SITE, "Holiday Cottage")))
    result = await entry.start_reauth_flow(hass)
    result = await _configure(hass, result["flow_id"], {"password": cloud.password})
    result = await _configure(hass, result["flow_id"], {"code": cloud.otp_code})
    assert result["reason"] == "wrong_account"

    cloud.fail_next("search_sites", 503)
    result = await entry.start_reauth_flow(hass)
    result = await _configure(hass, result["flow_id"], {"password": cloud.password})
    result = await _configure(hass, result["flow_id"], {"code": cloud.otp_code})
    assert result["step_id"] == "reauth_enphase_confirm"
    assert result["errors"] == {"base": "service_unavailable"}


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, form: dict[str, Any], *, advanced: bool = True
) -> Any:
    result = await entry.start_reconfigure_flow(hass, show_advanced_options=advanced)
    assert result["step_id"] == "reconfigure_enphase"
    return await _configure(hass, result["flow_id"], form)


async def test_reconfigure_chargers_on_the_same_session(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """No password: the stored session is reused; a dropped charger loses its device."""
    entry = await setup_entry(hass, await entry_for(cloud))
    logins = cloud.requests["login"]
    # Outside advanced mode the form has no server field; the entry keeps its server.
    result = await _reconfigure(hass, entry, {"email": cloud.email}, advanced=False)
    assert result["step_id"] == "enphase_site"
    result = await _configure(hass, result["flow_id"], {"site_id": SITE})
    assert result["step_id"] == "enphase_chargers"
    result = await _configure(hass, result["flow_id"], {"serials": [SN]})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert cloud.requests["login"] == logins
    assert entry.data["serials"] == [SN]
    assert entry.data["password"] == cloud.password
    assert entry.data["url"] == cloud.url
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.serial_number for device in devices] == [SN]
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_switches_site_with_new_credentials(
    hass: HomeAssistant, cloud: EnphaseCloud
) -> None:
    """A password means a new login; another site changes title and unique id."""
    entry = await setup_entry(hass, await entry_for(cloud))
    cloud.site_id, cloud.site_name = OTHER_SITE, "Holiday Cottage"  # the account's only site now
    result = await _reconfigure(hass, entry, _credentials(cloud))
    assert result["step_id"] == "enphase_chargers"
    result = await _configure(hass, result["flow_id"], {"serials": [SN2]})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["site_id"] == OTHER_SITE
    assert entry.title == "Holiday Cottage"
    assert entry.unique_id == f"{cloud.email}_{OTHER_SITE}"
    assert entry.state is ConfigEntryState.LOADED
    assert backend_of(entry).site_id == OTHER_SITE


async def test_reconfigure_errors(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """An expired session asks for the password; another entry's site is refused."""
    entry = await setup_entry(hass, await entry_for(cloud))
    other = MockConfigEntry(
        domain=DOMAIN, unique_id=f"{cloud.email}_{OTHER_SITE}", data={"backend": "enphase"}
    )
    other.add_to_hass(hass)
    cloud.expire_tokens()
    cloud.password = "changed"
    result = await _reconfigure(hass, entry, {"email": cloud.email, "url": cloud.url})
    assert result["step_id"] == "reconfigure_enphase"
    assert result["errors"] == {"base": "session_expired"}

    cloud.site_id = OTHER_SITE
    result = await _configure(hass, result["flow_id"], _credentials(cloud))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options(hass: HomeAssistant, cloud: EnphaseCloud) -> None:
    """Intervals never below the vendor's floor, slow not shorter than fast; saving reloads."""
    entry = await setup_entry(hass, await entry_for(cloud))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "enphase_options"
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    defaults = {str(key): key.description["suggested_value"] for key in schema}
    assert defaults == {
        "fast_interval": 30,
        "slow_interval": 60,
        "timeout": 15,
        "nominal_voltage": 230,
    }
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], defaults | {"fast_interval": 10}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], defaults | {"fast_interval": 120, "slow_interval": 90}
    )
    assert result["errors"] == {"slow_interval": "slow_below_fast"}
    backend = backend_of(entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"fast_interval": 45, "slow_interval": 300, "timeout": 20, "nominal_voltage": 240},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    reloaded = backend_of(entry)
    assert reloaded is not backend
    assert reloaded.options.fast_s == 45
    assert reloaded.options.slow_s == 300
    assert reloaded.options.nominal_voltage == 240
    assert reloaded.client._timeout.total == 20
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 300

    # A renewed login updates the entry data: no reload for that.
    hass.config_entries.async_update_entry(entry, data={**entry.data, "site_name": "Renamed"})
    await hass.async_block_till_done()
    assert backend_of(entry) is reloaded
