"""Fixtures shared by the integration tests: simulators, entries, the integration set up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.simulators.enovates import EnovatesSimulator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Load ``custom_components`` in every test that has a ``hass`` (pure tests stay light)."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, including the ones disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


type SimulatorFactory = Callable[..., Coroutine[Any, Any, EnovatesSimulator]]


@pytest.fixture
async def enovates_factory(
    request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncIterator[SimulatorFactory]:
    """Start ENO one simulators on free loopback ports; all are stopped at the end.

    ``socket_enabled`` lifts the harness's socket ban; connections stay limited to
    127.0.0.1 by its host allow-list.
    """
    started: list[EnovatesSimulator] = []

    async def start(**kwargs: Any) -> EnovatesSimulator:
        simulator = EnovatesSimulator(**kwargs)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    if "hass" in request.fixturenames:
        # Unload while the simulators still answer: a poll in flight against a stopped
        # server would wait on a timeout that the frozen test clock never reaches.
        hass: HomeAssistant = request.getfixturevalue("hass")
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    for simulator in started:
        await simulator.stop()
