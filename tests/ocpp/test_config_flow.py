"""The config flow for an ``ocpp`` charger: pick, errors, duplicates, reconfigure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging.const import DOMAIN
from tests.simulators.fake_ocpp import ChargePointModel, FakeOcpp

from .conftest import EntryFactory, FakeFactory, our_entity, settle, unload_all


@pytest.fixture(autouse=True)
async def _unload_at_the_end(hass: HomeAssistant, make_fake: FakeFactory) -> AsyncIterator[None]:
    """Entries created by the flow are unloaded before the fake goes."""
    yield
    await unload_all(hass)


async def _start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "ocpp_proxy" in result["menu_options"]
    return dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "ocpp_proxy"}
        )
    )


def _fields(result: dict[str, Any]) -> dict[str, Any]:
    return {str(key): value for key, value in result["data_schema"].schema.items()}


def _options(result: dict[str, Any], field: str) -> list[Any]:
    return list(_fields(result)[field].config["options"])


async def _text(hass: HomeAssistant, kind: str, key: str) -> str:
    """The English text of a flow message (it must exist)."""
    strings = await async_get_translations(hass, "en", "config", [DOMAIN])
    text = strings.get(f"component.{DOMAIN}.config.{kind}.{key}")
    assert text, f"config.{kind}.{key} is not translated"
    return text


async def _two_chargers(hass: HomeAssistant, make_fake: FakeFactory) -> FakeOcpp:
    return await make_fake(
        models=[
            ChargePointModel(cpid="charger", clock=dt_util.utcnow),
            ChargePointModel(
                cpid="garage",
                ocpp_id="sim_cp_2",
                vendor="Garage Co",
                model="G2",
                clock=dt_util.utcnow,
            ),
        ]
    )


async def test_user_flow_creates_the_entry(hass: HomeAssistant, fake: FakeOcpp) -> None:
    """The charger is picked from the ocpp devices; the entry loads at once."""
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ocpp_proxy"
    assert _options(result, "charger") == [
        {"value": "charger", "label": "charger (SimVendor SimWallbox 3P)"}
    ]
    assert _options(result, "limit_mode") == ["profile", "station"]
    selector = _fields(result)["limit_mode"].config["translation_key"]
    labels = await async_get_translations(hass, "en", "selector", [DOMAIN])
    for mode in ("profile", "station"):
        assert labels[f"component.{DOMAIN}.selector.{selector}.options.{mode}"]
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "charger"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "charger (OCPP)"
    assert result["data"] == {
        "backend": "ocpp_proxy",
        "ocpp_device_id": fake.device_id(),
        "cpid": "charger",
        "connector": 1,
        "limit_mode": "profile",
    }
    assert result["result"].unique_id == "ocpp_charger_1"
    await hass.async_block_till_done()
    status = hass.states.get(our_entity(hass, "sensor", "status", "ocpp_charger_1"))
    assert status is not None
    assert status.state == "available"


async def test_station_limit_mode_is_an_explicit_choice(
    hass: HomeAssistant, fake: FakeOcpp
) -> None:
    """The station-wide limit is stored when chosen."""
    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"charger": "charger", "limit_mode": "station"}
        )
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["limit_mode"] == "station"
    entry = result["result"]
    assert entry.runtime_data.backend.limit_mode == "station"


async def test_without_the_ocpp_integration(hass: HomeAssistant) -> None:
    """No ocpp entry: a translated abort that says to set it up first."""
    result = await _start(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ocpp_not_set_up"
    assert "set it up first" in await _text(hass, "abort", "ocpp_not_set_up")


async def test_ocpp_without_a_charger(hass: HomeAssistant, make_fake: FakeFactory) -> None:
    """The central system knows no charger yet."""
    await make_fake(models=[])
    result = await _start(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ocpp_no_charger"
    await _text(hass, "abort", "ocpp_no_charger")


async def test_every_charger_lacks_entities(hass: HomeAssistant, fake: FakeOcpp) -> None:
    """The status entity disabled: nothing to pick, and the abort names what is missing."""
    er.async_get(hass).async_update_entity(
        "sensor.charger_status_connector", disabled_by=er.RegistryEntryDisabler.USER
    )
    result = await _start(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ocpp_missing_entities"
    assert result["description_placeholders"] == {"missing": "charger: status_connector"}
    assert "{missing}" in await _text(hass, "abort", "ocpp_missing_entities")


async def test_picking_a_charger_that_lacks_entities(
    hass: HomeAssistant, make_fake: FakeFactory
) -> None:
    """One of two chargers lacks its transaction entity: an error on the field."""
    await _two_chargers(hass, make_fake)
    er.async_get(hass).async_update_entity(
        "sensor.garage_transaction_id", disabled_by=er.RegistryEntryDisabler.USER
    )
    result = await _start(hass)
    assert [o["value"] for o in _options(result, "charger")] == ["charger", "garage"]
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "garage"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"charger": "ocpp_missing_entities"}
    assert result["description_placeholders"] == {"missing": "garage: transaction_id"}
    assert "{missing}" in await _text(hass, "error", "ocpp_missing_entities")
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "charger"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_charger_removed_while_the_form_is_open(
    hass: HomeAssistant, make_fake: FakeFactory
) -> None:
    """A charger that left the ocpp integration in the meantime gives an error."""
    await _two_chargers(hass, make_fake)
    result = await _start(hass)
    registry = er.async_get(hass)
    for entity in list(registry.entities.values()):
        if entity.platform == "ocpp" and ".garage." in entity.unique_id:
            registry.async_remove(entity.entity_id)
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "garage"})
    )
    assert result["errors"] == {"charger": "ocpp_charger_gone"}
    assert result["description_placeholders"] == {"charger": "garage"}
    await _text(hass, "error", "ocpp_charger_gone")


async def test_the_same_charger_cannot_be_added_twice(
    hass: HomeAssistant, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """The unique id comes from the ocpp charger and the connector."""
    await make_entry(fake)
    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "charger"})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_two_connectors_ask_for_the_connector(
    hass: HomeAssistant, make_fake: FakeFactory, make_entry: EntryFactory
) -> None:
    """Each connector is a charger of its own; connectors already added are not offered."""
    fake = await make_fake(num_connectors=2)
    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "charger"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ocpp_proxy_connector"
    assert result["description_placeholders"] == {"charger": "charger"}
    assert _options(result, "connector") == ["1", "2"]
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"connector": "2"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "charger connector 2 (OCPP)"
    assert result["data"]["connector"] == 2
    assert result["result"].unique_id == "ocpp_charger_2"
    await hass.async_block_till_done()

    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "charger"})
    )
    assert _options(result, "connector") == ["1"]
    await make_entry(fake, connector=1)
    result = await _start(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"charger": "charger"})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_the_limit_mode(
    hass: HomeAssistant, fake: FakeOcpp, make_entry: EntryFactory
) -> None:
    """A single connector: only the limit mode can change; the entry reloads."""
    entry = await make_entry(fake)
    result = dict(await entry.start_reconfigure_flow(hass))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_ocpp_proxy"
    assert list(_fields(result)) == ["limit_mode"]
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"limit_mode": "station"})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["limit_mode"] == "station"
    assert entry.runtime_data.backend.limit_mode == "station"
    assert entry.unique_id == "ocpp_charger_1"


async def test_reconfigure_another_connector(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """Connector 1 -> 2: new unique id, the old device and its entities go."""
    fake = await make_fake(num_connectors=2)
    entry = await make_entry(fake, connector=1)
    devices = dr.async_get(hass)
    assert devices.async_get_device(identifiers={(DOMAIN, "ocpp_charger_1")}) is not None
    result = dict(await entry.start_reconfigure_flow(hass))
    assert _options(result, "connector") == ["1", "2"]
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"connector": "2", "limit_mode": "profile"}
        )
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.unique_id == "ocpp_charger_2"
    assert entry.title == "charger connector 2 (OCPP)"
    assert entry.data["connector"] == 2
    assert devices.async_get_device(identifiers={(DOMAIN, "ocpp_charger_1")}) is None
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, "ocpp_charger_1_status") is None
    fake.plug_in(2)
    await settle(hass, freezer)
    state = hass.states.get(our_entity(hass, "sensor", "status", "ocpp_charger_2"))
    assert state is not None
    assert state.state == "plugged"


async def test_reconfigure_offers_no_connector_taken_by_another_entry(
    hass: HomeAssistant, make_fake: FakeFactory, make_entry: EntryFactory
) -> None:
    """With both connectors added, each entry can only change its limit mode."""
    fake = await make_fake(num_connectors=2)
    entry = await make_entry(fake, connector=1)
    await make_entry(fake, connector=2)
    result = dict(await entry.start_reconfigure_flow(hass))
    assert list(_fields(result)) == ["limit_mode"]


def _stray_entry(cpid: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"ocpp_{cpid}_1",
        data={
            "backend": "ocpp_proxy",
            "ocpp_device_id": "gone",
            "cpid": cpid,
            "connector": 1,
            "limit_mode": "profile",
        },
    )


async def test_reconfigure_without_the_charger(hass: HomeAssistant, fake: FakeOcpp) -> None:
    """The charger left the ocpp integration: nothing to reconfigure."""
    entry = _stray_entry("elsewhere")
    entry.add_to_hass(hass)
    result = dict(await entry.start_reconfigure_flow(hass))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ocpp_charger_gone"
    assert result["description_placeholders"] == {"charger": "elsewhere"}
    await _text(hass, "abort", "ocpp_charger_gone")


async def test_reconfigure_without_the_ocpp_integration(hass: HomeAssistant) -> None:
    """The ocpp integration was removed."""
    entry = _stray_entry("charger")
    entry.add_to_hass(hass)
    result = dict(await entry.start_reconfigure_flow(hass))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ocpp_not_set_up"
