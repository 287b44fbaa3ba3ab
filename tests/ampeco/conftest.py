"""Fixtures for the AMPECO integration tests: the fake cloud, accounts added by the flow."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.simulators.ampeco_cloud import CLIENT_SECRET, EMAIL, PASSWORD, AmpecoCloud

type CloudFactory = Callable[..., Awaitable[AmpecoCloud]]
type AccountFactory = Callable[..., Awaitable[ConfigEntry[Any]]]

CHARGER = "HMC0012345_58231"  # charge point HMC0012345, EVSE 58231 (public id 4107)
DEVICE = "garage_charger"  # the slug of the device name in entity ids


def password_form(cloud: AmpecoCloud, **overrides: Any) -> dict[str, Any]:
    """The answers of the e-mail and password form for the fake cloud."""
    return {
        "host": cloud.host,
        "email": EMAIL,
        "password": PASSWORD,
        "client_secret": CLIENT_SECRET,
        "advanced": {"client_id": "1"},
    } | overrides


async def open_login(hass: HomeAssistant, step: str) -> str:
    """A new flow, through the menus, at one of the two login forms."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "ampeco" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ampeco"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["ampeco_password", "ampeco_token"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return result["flow_id"]


@pytest.fixture
async def cloud_factory(socket_enabled: None) -> AsyncIterator[CloudFactory]:
    """Start fake clouds on free loopback ports; all stop at the end."""
    started: list[AmpecoCloud] = []

    async def start(**options: Any) -> AmpecoCloud:
        cloud = AmpecoCloud(**options)
        await cloud.start()
        started.append(cloud)
        return cloud

    yield start
    for cloud in started:
        await cloud.stop()


@pytest.fixture
async def cloud(cloud_factory: CloudFactory) -> AmpecoCloud:
    """One charge point with one EVSE, no car."""
    return await cloud_factory()


@pytest.fixture
async def add_account(hass: HomeAssistant) -> AsyncIterator[AccountFactory]:
    """Add an account through the config flow (the entry then loads); unload at the end."""
    added: list[ConfigEntry[Any]] = []

    async def add(
        cloud: AmpecoCloud, *, token: str | None = None, picks: list[str] | None = None
    ) -> ConfigEntry[Any]:
        if token is None:
            flow_id = await open_login(hass, "ampeco_password")
            result = await hass.config_entries.flow.async_configure(flow_id, password_form(cloud))
        else:
            flow_id = await open_login(hass, "ampeco_token")
            result = await hass.config_entries.flow.async_configure(
                flow_id, {"host": cloud.host, "token": token}
            )
        if result["type"] is FlowResultType.FORM:
            assert result["step_id"] == "ampeco_charge_points"
            result = await hass.config_entries.flow.async_configure(
                flow_id, {"charge_point_ids": picks}
            )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        entry: ConfigEntry[Any] = result["result"]
        added.append(entry)
        return entry

    yield add
    for entry in added:
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
