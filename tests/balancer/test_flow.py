"""The balancer's config flow, options flow and reconfigure flow."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.enovates.conftest import SERIAL
from tests.simulators.enovates import EnovatesSimulator

from .conftest import METER, PORT2, Site, controller_of, start_balancer, state, writes

pytestmark = pytest.mark.usefixtures("unload_all")

SITE = {
    "phases": "3",
    "meter_kind": "phase_currents",
    "total_power_split": "balanced",
    "meter_includes_chargers": True,
}
LIMITS = {"limit_l1": 25, "limit_l2": 25, "limit_l3": 20, "margin": 1, "voltage": 230}
MET = {"meter_l1": METER[0], "meter_l2": METER[1], "meter_l3": METER[2]} | LIMITS
BEHAVIOUR = {"fallback": "fixed", "stale_after": 30, "stop_after": 120, "hold_time": 15,
             "ramp_step": 4}  # fmt: skip
CHARGER = {"priority": 2, "weight": 1.5, "phases": "3", "rotation": "l1_l2_l3", "mode": "fast"}


def _meter(hass: HomeAssistant, unit: str = "A", prefix: str = "sensor.grid") -> None:
    for phase in (1, 2, 3):
        hass.states.async_set(f"{prefix}_l{phase}", "3", {"unit_of_measurement": unit})


async def _step(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    return await hass.config_entries.flow.async_configure(flow_id, data)


async def _open(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "load_balancer" in result["menu_options"]
    result = await _step(hass, result["flow_id"], {"next_step_id": "load_balancer"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "load_balancer"
    return str(result["flow_id"])


async def test_flow_creates_the_balancer(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Site, meter, behaviour, chargers, each charger: one entry that loads and balances."""
    _meter(hass)
    flow_id = await _open(hass)
    result = await _step(hass, flow_id, SITE)
    assert result["step_id"] == "load_balancer_meter"
    result = await _step(hass, flow_id, MET | {"power_limit": 11000})
    assert result["step_id"] == "load_balancer_behaviour"
    result = await _step(hass, flow_id, BEHAVIOUR)
    assert result["step_id"] == "load_balancer_chargers"
    result = await _step(hass, flow_id, {"chargers": [SERIAL]})
    assert result["step_id"] == "load_balancer_charger"
    assert result["description_placeholders"] == {"charger": "ENO one"}
    result = await _step(hass, flow_id, CHARGER | {"max_current": 13, "fallback_current": 8})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Load balancer"
    assert result["result"].unique_id == "load_balancer"
    assert result["data"] == {
        "feature": "load_balancer",
        "phases": 3,
        "meter_kind": "phase_currents",
        "meter_entities": list(METER),
        "total_power_split": "balanced",
        "meter_includes_chargers": True,
        "grid_power_entity": None,
        "phase_limits": [25.0, 25.0, 20.0],
        "margin": 1.0,
        "power_limit": 11000,
        "voltage": 230.0,
        "fallback": "fixed",
        "stale_after": 30.0,
        "stop_after": 120.0,
        "hold_time": 15.0,
        "ramp_step": 4.0,
        "enabled": True,
        "chargers": [
            {
                "charger_id": SERIAL,
                "priority": 2,
                "weight": 1.5,
                "rotation": "l1_l2_l3",
                "phases": 3,
                "max_current": 13,
                "fallback_current": 8,
                "mode": "fast",
            }
        ],
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    site.report(3, 3, 3)
    await site.settle()
    assert writes(eno) == [13000]  # its maximum here is 13 A
    assert state(hass, "number.load_balancer_limit_l3") == "20.0"


async def test_single_phase_total_power_in_kw(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """One phase, one total-power entity in kW; the charger form has no wiring fields."""
    hass.states.async_set("sensor.house_power", "1.2", {"unit_of_measurement": "kW"})
    flow_id = await _open(hass)
    await _step(hass, flow_id, SITE | {"phases": "1", "meter_kind": "total_power"})
    result = await _step(
        hass,
        flow_id,
        {"meter_total": "sensor.house_power", "limit_l1": 40, "margin": 2, "voltage": 230},
    )
    await _step(hass, flow_id, BEHAVIOUR | {"stop_after": 0})
    result = await _step(hass, flow_id, {"chargers": [SERIAL]})
    assert set(result["data_schema"].schema) == {
        "priority",
        "weight",
        "max_current",
        "fallback_current",
        "mode",
    }
    result = await _step(hass, flow_id, {"priority": 0, "weight": 1, "mode": "min_solar"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data["meter_entities"] == ["sensor.house_power"]
    assert data["stop_after"] == 0
    assert data["chargers"][0]["phases"] == 1
    await hass.async_block_till_done()
    assert state(hass, "select.load_balancer_eno_one_mode") == "min_solar"
    assert state(hass, "sensor.load_balancer_site_power") == "1200.0"  # 1.2 kW


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"meter_l2": "sensor.missing"}, "meter_l2", "meter_not_found"),
        ({"meter_l3": "sensor.power_l3"}, "meter_l3", "meter_unit_current"),
        ({"meter_l2": METER[0]}, "meter_l2", "meter_duplicate"),
        ({"grid_power_entity": METER[0]}, "grid_power_entity", "meter_unit_power"),
        ({"margin": 20}, "margin", "margin_too_large"),
        ({"power_limit": 1200}, "power_limit", "power_limit_too_low"),
    ],
)
async def test_meter_form_errors(
    hass: HomeAssistant,
    site: Site,
    eno: EnovatesSimulator,
    changes: dict[str, Any],
    field: str,
    error: str,
) -> None:
    """Each problem is reported on its field; the form keeps what was typed."""
    _meter(hass)
    hass.states.async_set("sensor.power_l3", "700", {"unit_of_measurement": "W"})
    flow_id = await _open(hass)
    await _step(hass, flow_id, SITE)
    result = await _step(hass, flow_id, MET | changes)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "load_balancer_meter"
    assert result["errors"] == {field: error}
    result = await _step(hass, flow_id, MET)
    assert result["step_id"] == "load_balancer_behaviour"


async def test_power_meter_needs_a_power_unit(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Per-phase powers in A are refused."""
    _meter(hass)
    flow_id = await _open(hass)
    await _step(hass, flow_id, SITE | {"meter_kind": "phase_powers"})
    result = await _step(hass, flow_id, MET)
    assert result["errors"] == {
        "meter_l1": "meter_unit_power",
        "meter_l2": "meter_unit_power",
        "meter_l3": "meter_unit_power",
    }


async def test_behaviour_charger_and_chargers_errors(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Stop before stale, no charger picked, a maximum below the minimum, a fallback above."""
    _meter(hass)
    flow_id = await _open(hass)
    await _step(hass, flow_id, SITE)
    await _step(hass, flow_id, MET)
    result = await _step(hass, flow_id, BEHAVIOUR | {"stop_after": 20})
    assert result["errors"] == {"stop_after": "stop_after_too_short"}
    await _step(hass, flow_id, BEHAVIOUR)
    result = await _step(hass, flow_id, {"chargers": []})
    assert result["errors"] == {"chargers": "no_charger_selected"}
    await _step(hass, flow_id, {"chargers": [SERIAL]})
    result = await _step(hass, flow_id, CHARGER | {"max_current": 5})
    assert result["errors"] == {"max_current": "charger_max_below_min"}
    result = await _step(hass, flow_id, CHARGER | {"fallback_current": 17})
    assert result["errors"] == {"fallback_current": "fallback_above_max"}
    result = await _step(hass, flow_id, CHARGER)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_no_loaded_charger_aborts(hass: HomeAssistant) -> None:
    """The balancer needs a charger to balance."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await _step(hass, result["flow_id"], {"next_step_id": "load_balancer"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "balancer_no_chargers"


async def test_second_balancer_is_refused(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """The unique id is the site's."""
    await start_balancer(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await _step(hass, result["flow_id"], {"next_step_id": "load_balancer"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "balancer_already_configured"


async def _options(hass: HomeAssistant, entry_id: str) -> str:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["step_id"] == "load_balancer_site"
    return str(result["flow_id"])


async def test_options_apply_limits_live(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Lower limits through the options: no reload, the cut comes at once."""
    _meter(hass)
    entry = await start_balancer(hass)
    controller = controller_of(entry)
    site.report(3, 3, 3)
    await site.settle()
    options = hass.config_entries.options
    flow_id = await _options(hass, entry.entry_id)
    result = await options.async_configure(flow_id, SITE)
    assert result["step_id"] == "load_balancer_meter"
    result = await options.async_configure(flow_id, MET | {"limit_l3": 15})
    result = await options.async_configure(flow_id, BEHAVIOUR)
    result = await options.async_configure(flow_id, {"chargers": [SERIAL]})
    result = await options.async_configure(flow_id, CHARGER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["phase_limits"] == [25.0, 25.0, 15.0]
    await hass.async_block_till_done()
    assert controller_of(entry) is controller  # applied without a reload
    assert writes(eno) == [11000]  # 15 - 1 - 3


async def test_options_with_other_chargers_reload(
    hass: HomeAssistant, site: Site, dual: EnovatesSimulator
) -> None:
    """Adding a charger needs its entities: the entry reloads."""
    _meter(hass)
    entry = await start_balancer(hass)
    controller = controller_of(entry)
    options = hass.config_entries.options
    flow_id = await _options(hass, entry.entry_id)
    await options.async_configure(flow_id, SITE)
    await options.async_configure(flow_id, MET)
    await options.async_configure(flow_id, BEHAVIOUR)
    result = await options.async_configure(flow_id, {"chargers": [SERIAL, PORT2]})
    assert result["description_placeholders"] == {"charger": "ENO one port 1"}
    result = await options.async_configure(flow_id, CHARGER)
    assert result["description_placeholders"] == {"charger": "ENO one port 2"}
    result = await options.async_configure(flow_id, CHARGER | {"priority": 0})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert controller_of(entry) is not controller
    assert state(hass, "select.load_balancer_eno_one_port_2_mode") == "fast"
    assert controller_of(entry).settings.charger(PORT2).priority == 0


async def test_reconfigure_replaces_the_settings(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Other meter entities: the data is replaced, the options reset, the entry reloaded."""
    _meter(hass)
    _meter(hass, "A", "sensor.main")
    entry = await start_balancer(hass)
    hass.config_entries.async_update_entry(entry, options={**entry.data, "margin": 2.0})
    await hass.async_block_till_done()
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_load_balancer"
    flow_id = result["flow_id"]
    await _step(hass, flow_id, SITE)
    main = {
        "meter_l1": "sensor.main_l1",
        "meter_l2": "sensor.main_l2",
        "meter_l3": "sensor.main_l3",
    }
    result = await _step(hass, flow_id, MET | main)
    await _step(hass, flow_id, BEHAVIOUR)
    await _step(hass, flow_id, {"chargers": [SERIAL]})
    result = await _step(hass, flow_id, CHARGER)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "balancer_reconfigured"
    await hass.async_block_till_done()
    assert entry.data["meter_entities"] == ["sensor.main_l1", "sensor.main_l2", "sensor.main_l3"]
    assert entry.options == {}
    assert controller_of(entry).settings.margin == 1.0


async def test_options_dropping_a_charger_remove_its_entities(
    hass: HomeAssistant, site: Site, dual: EnovatesSimulator
) -> None:
    """A charger no longer balanced loses its mode select and allocation sensor."""
    _meter(hass)
    entry = await start_balancer(
        hass, chargers=[{"charger_id": SERIAL, "phases": 3}, {"charger_id": PORT2, "phases": 3}]
    )
    await site.tick()
    assert hass.states.get("select.load_balancer_eno_one_port_2_mode") is not None
    options = hass.config_entries.options
    flow_id = await _options(hass, entry.entry_id)
    await options.async_configure(flow_id, SITE)
    await options.async_configure(flow_id, MET)
    await options.async_configure(flow_id, BEHAVIOUR)
    await options.async_configure(flow_id, {"chargers": [SERIAL]})
    result = await options.async_configure(flow_id, CHARGER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    assert registry.async_get("select.load_balancer_eno_one_port_2_mode") is None
    assert registry.async_get("sensor.load_balancer_eno_one_port_2_allocated_current") is None
    assert registry.async_get("select.load_balancer_eno_one_port_1_mode") is not None
