"""The diagnostics download redacts what identifies the owner."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.simulators.enovates import EnovatesSimulator

from .conftest import SERIAL, entry_for, setup_entry


async def test_diagnostics_redact_serial_and_rfid(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, charging_sim: EnovatesSimulator
) -> None:
    """States and backend facts are there; the serial and the RFID token are not."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(result)
    assert SERIAL not in text
    assert "04A1B2C3D4E580" not in text
    port = result["states"]["charger_1"]
    assert port["status"] == "charging"
    assert port["power"] == 10871.0
    assert port["rfid_tag"] == "**REDACTED**"
    assert result["chargers"]["charger_1"]["serial"] == "**REDACTED**"
    assert result["chargers"]["charger_1"]["max_current"] == 16.0
    assert "SET_CURRENT" in result["chargers"]["charger_1"]["capabilities"]
    assert result["backend"]["ems_control"] is True
    assert result["backend"]["mode3"] == {"port_1": "C2"}
    assert result["entry"]["data"]["host"] == "127.0.0.1"
    assert result["last_update_success"] is True
