"""The config flow for the ENO one: success, each error, duplicate, reconfigure."""

from __future__ import annotations

import socket
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.conftest import SimulatorFactory
from tests.simulators.enovates import EnovatesSimulator

from .conftest import SERIAL, entry_for, setup_entry


def _form(simulator: EnovatesSimulator, **overrides: Any) -> dict[str, Any]:
    return {
        "host": simulator.host,
        "port": simulator.port,
        "dual_port": False,
        "ems_control": True,
    } | overrides


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "enovates" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "enovates"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "enovates"
    return result["flow_id"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_user_flow_creates_the_entry(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """The serial becomes the unique id; the answers become the entry data."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _form(charging_sim))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ENO one (127.0.0.1)"
    assert result["data"] == {"backend": "enovates", **_form(charging_sim)}
    assert result["result"].unique_id == SERIAL
    await hass.async_block_till_done()
    assert hass.states.get("sensor.eno_one_status").state == "charging"


@pytest.mark.parametrize(
    ("arrange", "form", "errors"),
    [
        ("closed_port", {}, {"host": "cannot_connect"}),
        ("old_api", {}, {"base": "unsupported_firmware"}),
        ("monitoring_only", {}, {"ems_control": "ems_control_disabled"}),
        ("single_port", {"dual_port": True}, {"dual_port": "no_second_port"}),
        ("device_failure", {}, {"base": "unknown"}),
    ],
)
async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant,
    enovates_factory: SimulatorFactory,
    arrange: str,
    form: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each problem gives its translated error on the form; fixing it completes the flow."""
    simulator = await enovates_factory(units={1: "idle"})
    answers = _form(simulator, **form)
    if arrange == "closed_port":
        answers["port"] = _free_port()
    elif arrange == "old_api":
        simulator.set_value(1, "api_version_minor", 1)
    elif arrange == "monitoring_only":
        simulator.set_ems_mode("monitoring_only")
    elif arrange == "device_failure":
        simulator.fail_reads(4)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, answers)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors

    simulator.set_value(1, "api_version_minor", 2)
    simulator.set_ems_mode("full_control")
    simulator.fail_reads(None)
    result = await hass.config_entries.flow.async_configure(flow_id, _form(simulator))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_dual_port_accepted_when_unit_2_answers(
    hass: HomeAssistant, enovates_factory: SimulatorFactory
) -> None:
    """Two charge ports are probed on unit 2."""
    simulator = await enovates_factory(units={1: "idle", 2: "idle"})
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(simulator, dual_port=True)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["dual_port"] is True


async def test_duplicate_is_refused(hass: HomeAssistant, idle_sim: EnovatesSimulator) -> None:
    """The same charger cannot be added twice, even under another address."""
    await setup_entry(hass, entry_for(idle_sim))
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(idle_sim, host="127.0.0.1")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_moves_the_charger(
    hass: HomeAssistant, enovates_factory: SimulatorFactory
) -> None:
    """A new port for the same serial is stored and the entry reloads."""
    old = await enovates_factory(units={1: "idle"})
    entry = await setup_entry(hass, entry_for(old))
    new = await enovates_factory(units={1: "charging_3p_16a"})
    await old.stop()
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_enovates"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(new, port=_free_port())
    )
    assert result["errors"] == {"host": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _form(new))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["port"] == new.port
    assert hass.states.get("sensor.eno_one_status").state == "charging"


async def test_reconfigure_refuses_another_charger(
    hass: HomeAssistant, enovates_factory: SimulatorFactory
) -> None:
    """An address that answers with another serial is not taken."""
    mine = await enovates_factory(units={1: "idle"})
    entry = await setup_entry(hass, entry_for(mine))
    other = await enovates_factory(units={1: "idle"})
    other.set_value(1, "serial_nr", "EN1A2401999999")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _form(other))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data["port"] == mine.port
