"""Fixtures for the ENO one: a simulator, an entry pointing at it, the integration loaded."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging.const import DOMAIN
from tests.conftest import SimulatorFactory
from tests.simulators.enovates import EnovatesSimulator

SERIAL = "EN1A2401000123"


def entry_for(simulator: EnovatesSimulator, **data: Any) -> MockConfigEntry:
    """A config entry as the flow creates it for this simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="ENO one (127.0.0.1)",
        unique_id=SERIAL,
        data={
            "backend": "enovates",
            "host": simulator.host,
            "port": simulator.port,
            "dual_port": False,
            "ems_control": True,
        }
        | data,
    )


@pytest.fixture
async def charging_sim(enovates_factory: SimulatorFactory) -> EnovatesSimulator:
    """An ENO one charging a car at 16 A on three phases."""
    return await enovates_factory(units={1: "charging_3p_16a"})


@pytest.fixture
async def idle_sim(enovates_factory: SimulatorFactory) -> EnovatesSimulator:
    """An ENO one with no car."""
    return await enovates_factory(units={1: "idle"})


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add the entry and set the integration up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
