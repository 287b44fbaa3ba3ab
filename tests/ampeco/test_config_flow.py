"""The AMPECO config flow against the fake cloud: logins, errors, picks, reauth, reconfigure."""

from __future__ import annotations

import socket
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.simulators.ampeco_cloud import EMAIL, STATIC_TOKEN, AmpecoCloud

from .conftest import (
    CHARGER,
    DEVICE,
    AccountFactory,
    CloudFactory,
    open_login,
    password_form,
)

TOKEN_ROUTE = "POST /app/oauth/token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fields(result: ConfigFlowResult) -> list[Any]:
    """The keys of a form's schema."""
    schema = result["data_schema"]
    assert schema is not None
    return list(schema.schema)


def _status(hass: HomeAssistant, device: str = DEVICE) -> str:
    state = hass.states.get(f"sensor.{device}_status")
    assert state is not None
    return state.state


def _suggested(result: ConfigFlowResult, field: str) -> Any:
    """The value a form shows in a field (its suggested value)."""
    for key in _fields(result):
        if key == field:
            return (key.description or {}).get("suggested_value")
    raise KeyError(field)


async def _configure(
    hass: HomeAssistant, flow_id: str, answers: dict[str, Any]
) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_configure(flow_id, answers)


async def _reconfigure_flow(hass: HomeAssistant, entry: ConfigEntry[Any]) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )


async def _reauth_flow(hass: HomeAssistant, entry: ConfigEntry[Any]) -> ConfigFlowResult:
    """The reauth flow the failed poll started, at its menu."""
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    (flow,) = entry.async_get_active_flows(hass, {SOURCE_REAUTH})
    assert flow["step_id"] == "reauth_ampeco"
    return flow


async def test_password_login_creates_the_entry(hass: HomeAssistant, cloud: AmpecoCloud) -> None:
    """The host is normalized, tokens are stored, the password is not; the charger loads."""
    flow_id = await open_login(hass, "ampeco_password")
    answers = password_form(cloud, host=f" {cloud.host}/api/v1/ ", email=f" {EMAIL} ")
    result = await _configure(hass, flow_id, answers)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage Charger"
    entry = result["result"]
    assert entry.unique_id == f"127.0.0.1:{cloud.host.rsplit(':', 1)[1]}/48213"
    assert entry.data == {
        "backend": "ampeco",
        "host": cloud.host,
        "auth_method": "password",
        "email": EMAIL,
        "client_id": "1",
        "client_secret": "demo-client-secret",
        "tokens": {
            "access_token": "fake-access-token-0001",
            "refresh_token": "fake-refresh-token-0001",
            "expires_at": pytest.approx(entry.data["tokens"]["expires_at"]),
        },
        "account_id": "48213",
        "charge_point_ids": ["HMC0012345"],
    }
    assert "password" not in entry.data
    assert cloud.requests[TOKEN_ROUTE] == 1
    assert entry.state is ConfigEntryState.LOADED
    assert _status(hass) == "available"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_pasted_token_creates_the_entry(hass: HomeAssistant, cloud: AmpecoCloud) -> None:
    """A token pasted with its "Bearer" prefix works without any OAuth client."""
    flow_id = await open_login(hass, "ampeco_token")
    result = await _configure(
        hass, flow_id, {"host": cloud.host, "token": f"Bearer {STATIC_TOKEN}"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data["auth_method"] == "token"
    assert entry.data["tokens"] == {
        "access_token": STATIC_TOKEN,
        "refresh_token": None,
        "expires_at": None,
    }
    assert entry.data["email"] is None
    assert entry.data["client_secret"] is None
    assert cloud.requests[TOKEN_ROUTE] == 0
    assert _status(hass) == "available"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("arrange", "errors"),
    [
        ("wrong_password", {"base": "invalid_auth"}),
        ("wrong_client_secret", {"client_secret": "invalid_client"}),
        ("unreachable_host", {"base": "cloud_unreachable"}),
        ("cloud_down", {"base": "cloud_unreachable"}),
        ("no_charge_point", {"base": "no_charge_points"}),
        ("unexpected_answer", {"base": "unknown"}),
    ],
)
async def test_password_errors_then_retry(
    hass: HomeAssistant, cloud_factory: CloudFactory, arrange: str, errors: dict[str, str]
) -> None:
    """Each problem shows its error with the answers kept; fixing it completes the flow."""
    cloud = await cloud_factory()
    answers = password_form(cloud)
    if arrange == "wrong_password":
        answers["password"] = "not-the-password"
    elif arrange == "wrong_client_secret":
        answers["client_secret"] = "not-the-secret"
    elif arrange == "unreachable_host":
        answers["host"] = f"http://127.0.0.1:{_free_port()}"
    elif arrange == "cloud_down":
        cloud.fail_next("oauth/token", 503)
    elif arrange == "no_charge_point":
        answers["host"] = (await cloud_factory(charge_points=0)).host
    elif arrange == "unexpected_answer":
        cloud.fail_next("personal/charge-points", 404)
    flow_id = await open_login(hass, "ampeco_password")
    result = await _configure(hass, flow_id, answers)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ampeco_password"
    assert result["errors"] == errors
    assert _suggested(result, "email") == EMAIL
    assert _suggested(result, "host") == answers["host"]

    result = await _configure(hass, flow_id, password_form(cloud))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_wrong_token_then_retry(hass: HomeAssistant, cloud: AmpecoCloud) -> None:
    """A token the cloud refuses is invalid_auth; a good one then works."""
    flow_id = await open_login(hass, "ampeco_token")
    result = await _configure(hass, flow_id, {"host": cloud.host, "token": "stale-token"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert _suggested(result, "host") == cloud.host
    result = await _configure(hass, flow_id, {"host": cloud.host, "token": cloud.issue_token()})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_same_account_cannot_be_added_twice(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """The unique id is the tenant and the user id: a token of the same account aborts too."""
    await add_account(cloud)
    flow_id = await open_login(hass, "ampeco_password")
    result = await _configure(hass, flow_id, password_form(cloud))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    flow_id = await open_login(hass, "ampeco_token")
    result = await _configure(hass, flow_id, {"host": cloud.host, "token": STATIC_TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_tenant_without_profile_is_named_by_its_charge_points(
    hass: HomeAssistant, cloud: AmpecoCloud
) -> None:
    """Without the profile route the unique id falls back to the account's charge points."""
    cloud.fail_next("/app/profile", 404)
    flow_id = await open_login(hass, "ampeco_password")
    result = await _configure(hass, flow_id, password_form(cloud))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id.endswith("/charge-points:HMC0012345")
    assert entry.data["account_id"] == "charge-points:HMC0012345"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_charge_points_are_picked(
    hass: HomeAssistant, cloud_factory: CloudFactory, device_registry: dr.DeviceRegistry
) -> None:
    """Several charge points: pick some (none is refused); each EVSE becomes a device."""
    cloud = await cloud_factory(charge_points=2, evses_per_charge_point=2)
    flow_id = await open_login(hass, "ampeco_password")
    result = await _configure(hass, flow_id, password_form(cloud))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ampeco_charge_points"
    key = _fields(result)[0]
    assert key.default() == ["HMC0012345", "HMC0012346"]
    result = await _configure(hass, flow_id, {"charge_point_ids": []})
    assert result["errors"] == {"base": "no_charge_point_selected"}
    result = await _configure(hass, flow_id, {"charge_point_ids": ["HMC0012346"]})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage Charger 2"
    entry = result["result"]
    assert entry.data["charge_point_ids"] == ["HMC0012346"]
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    by_id = {next(iter(d.identifiers))[1]: d for d in devices}
    assert set(by_id) == {"HMC0012346_58241", "HMC0012346_58242"}
    second = by_id["HMC0012346_58242"]
    assert second.name == "Garage Charger 2 4118"
    assert second.via_device_id == by_id["HMC0012346_58241"].id
    assert _status(hass, "garage_charger_2_4118") == "available"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reauth_with_a_new_password(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """Refused tokens open reauth; a wrong password errors, the right one reloads the entry."""
    entry = await add_account(cloud)
    cloud.expire_tokens(refresh=True)
    flow = await _reauth_flow(hass, entry)
    assert _status(hass) == "unavailable"
    result = await _configure(hass, flow["flow_id"], {"next_step_id": "ampeco_password"})
    assert result["step_id"] == "ampeco_password"
    assert "host" not in {str(key) for key in _fields(result)}
    assert _suggested(result, "email") == EMAIL
    assert _suggested(result, "client_secret") == "demo-client-secret"
    answers = password_form(cloud, password="wrong")
    del answers["host"]
    result = await _configure(hass, flow["flow_id"], answers)
    assert result["errors"] == {"base": "invalid_auth"}
    answers["password"] = password_form(cloud)["password"]
    result = await _configure(hass, flow["flow_id"], answers)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["tokens"]["access_token"] == "fake-access-token-0002"
    assert entry.state is ConfigEntryState.LOADED
    assert _status(hass) == "available"


async def test_reauth_with_a_new_token(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """A pasted token that stops working cannot be renewed: reauth takes a new one."""
    entry = await add_account(cloud, token=STATIC_TOKEN)
    cloud.expire_tokens()
    flow = await _reauth_flow(hass, entry)
    assert cloud.requests[TOKEN_ROUTE] == 0  # nothing to renew it with
    result = await _configure(hass, flow["flow_id"], {"next_step_id": "ampeco_token"})
    assert [str(key) for key in _fields(result)] == ["token"]
    token = cloud.issue_token()
    result = await _configure(hass, flow["flow_id"], {"token": token})
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.data["tokens"]["access_token"] == token
    assert _status(hass) == "available"


async def test_reauth_with_another_account_aborts(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """Logging in as someone else keeps the entry as it was."""
    entry = await add_account(cloud)
    cloud.expire_tokens(refresh=True)
    flow = await _reauth_flow(hass, entry)
    await _configure(hass, flow["flow_id"], {"next_step_id": "ampeco_token"})
    cloud.fail_next("/app/profile", 200, body={"id": 777})
    result = await _configure(hass, flow["flow_id"], {"token": cloud.issue_token()})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data["tokens"]["access_token"] == "fake-access-token-0001"


async def test_reconfigure_switches_login_and_picks(
    hass: HomeAssistant,
    cloud_factory: CloudFactory,
    add_account: AccountFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Reconfigure logs in again (here by token) and re-picks; dropped devices go away."""
    cloud = await cloud_factory(charge_points=2)
    entry = await add_account(cloud, picks=["HMC0012345"])
    result = await _reconfigure_flow(hass, entry)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "reconfigure_ampeco"
    result = await _configure(hass, result["flow_id"], {"next_step_id": "ampeco_token"})
    assert _suggested(result, "host") == cloud.host
    token = cloud.issue_token()
    result = await _configure(hass, result["flow_id"], {"host": cloud.host, "token": token})
    assert result["step_id"] == "ampeco_charge_points"
    key = _fields(result)[0]
    assert key.default() == ["HMC0012345"]  # the current pick
    result = await _configure(hass, result["flow_id"], {"charge_point_ids": ["HMC0012346"]})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["auth_method"] == "token"
    assert entry.data["tokens"]["access_token"] == token
    assert entry.data["charge_point_ids"] == ["HMC0012346"]
    assert entry.title == "Garage Charger"  # a title the user may have changed stays
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert {next(iter(d.identifiers))[1] for d in devices} == {"HMC0012346_58241"}
    assert device_registry.async_get_device(identifiers={(DOMAIN, CHARGER)}) is None
    assert _status(hass, "garage_charger_2") == "available"


async def test_reconfigure_with_one_charge_point_needs_no_pick(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """With a single charge point the login is all; the password form shows the entry's values."""
    entry = await add_account(cloud, token=STATIC_TOKEN)
    result = await _reconfigure_flow(hass, entry)
    result = await _configure(hass, result["flow_id"], {"next_step_id": "ampeco_password"})
    assert _suggested(result, "host") == cloud.host
    result = await _configure(hass, result["flow_id"], password_form(cloud))
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["auth_method"] == "password"
    assert entry.data["tokens"]["refresh_token"] == "fake-refresh-token-0001"
    assert entry.data["charge_point_ids"] == ["HMC0012345"]


async def test_reconfigure_with_another_account_aborts(
    hass: HomeAssistant, cloud: AmpecoCloud, add_account: AccountFactory
) -> None:
    """Reconfigure cannot move the entry to another account."""
    entry = await add_account(cloud)
    result = await _reconfigure_flow(hass, entry)
    result = await _configure(hass, result["flow_id"], {"next_step_id": "ampeco_password"})
    cloud.fail_next("/app/profile", 200, body={"id": 777})
    result = await _configure(hass, result["flow_id"], password_form(cloud))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data["tokens"]["access_token"] == "fake-access-token-0001"
