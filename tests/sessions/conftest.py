"""Fixtures for the session tracker in a real Home Assistant: an ENO one, the household."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.coordinator import ChargerCoordinator
from custom_components.ev_charging.sessions.tracker import SessionTracker
from tests.conftest import SimulatorFactory
from tests.enovates.conftest import SERIAL, entry_for
from tests.simulators.enovates import EnovatesSimulator

HOUSEHOLD_ID = "household0000000000000000"
ALICE = "alice00000000000000000000"
BOB = "bob0000000000000000000000"
CAR = "car0000000000000000000000"
ALICE_CARD = "card00000000000000000000a"
BOB_CARD = "card00000000000000000000b"
TOKEN = "04A1B2C3D4"
GUEST_TOKEN = "0B0B0B0B"
START = "2026-03-10T10:00:00+00:00"
CHARGER = SERIAL

STATIC = {"mode": "static", "price_per_kwh": 0.25, "guest_method": "none"}


def subentries(*, guest: bool = True) -> list[dict[str, Any]]:
    """Alice (resident, card + car) and Bob (guest at 0.50/kWh, card)."""
    items: list[dict[str, Any]] = [
        {
            "subentry_id": ALICE,
            "subentry_type": "user",
            "title": "Alice",
            "unique_id": "user_alice",
            "data": {"name": "Alice", "type": "resident", "guest_method": "default"},
        },
        {
            "subentry_id": CAR,
            "subentry_type": "vehicle",
            "title": "Model 3",
            "unique_id": "vehicle_model_3",
            "data": {"name": "Model 3", "usable_capacity_kwh": 60.0, "efficiency": 0.9},
        },
        {
            "subentry_id": ALICE_CARD,
            "subentry_type": "card",
            "title": f"{TOKEN} (Alice)",
            "unique_id": f"card_{TOKEN}",
            "data": {"uid": TOKEN, "user_id": ALICE, "vehicle_id": CAR, "active": True},
        },
    ]
    if guest:
        items += [
            {
                "subentry_id": BOB,
                "subentry_type": "user",
                "title": "Bob",
                "unique_id": "user_bob",
                "data": {
                    "name": "Bob",
                    "type": "guest",
                    "guest_method": "fixed",
                    "guest_value": 0.5,
                },
            },
            {
                "subentry_id": BOB_CARD,
                "subentry_type": "card",
                "title": f"{GUEST_TOKEN} (Bob)",
                "unique_id": f"card_{GUEST_TOKEN}",
                "data": {"uid": GUEST_TOKEN, "user_id": BOB, "active": True},
            },
        ]
    return items


def household_entry(
    options: dict[str, Any] | None = None, items: list[dict[str, Any]] | None = None
) -> MockConfigEntry:
    """The household entry as the flows create it."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=HOUSEHOLD_ID,
        title="Charging sessions",
        data={"feature": "sessions"},
        options=STATIC if options is None else options,
        subentries_data=subentries() if items is None else items,
    )


async def setup_household(hass: HomeAssistant, entry: MockConfigEntry) -> SessionTracker:
    """Add and set up the household entry; its tracker."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    tracker: SessionTracker = entry.runtime_data.tracker
    return tracker


@dataclass
class Site:
    """A charger entry on a simulator, the household, and a clock that moves both."""

    hass: HomeAssistant
    sim: EnovatesSimulator
    charger: MockConfigEntry
    freezer: FrozenDateTimeFactory

    @property
    def charger_id(self) -> str:
        """The charge port's id."""
        return CHARGER

    @property
    def coordinator(self) -> ChargerCoordinator:
        """The charger entry's coordinator."""
        coordinator: ChargerCoordinator = self.charger.runtime_data.coordinator
        return coordinator

    async def refresh(self) -> None:
        """Poll the charger now."""
        await self.coordinator.async_refresh()
        await self.hass.async_block_till_done()

    async def run(self, seconds: float, step: float = 60.0) -> None:
        """Let time pass: energy flows in the simulator, polled every ``step`` seconds."""
        done = 0.0
        while done < seconds:
            delta = min(step, seconds - done)
            self.sim.tick(delta)
            self.freezer.tick(timedelta(seconds=delta))
            await self.refresh()
            done += delta

    async def plug_in(self, token: str | None = TOKEN) -> None:
        """A car arrives; the card (if any) is read with the plug-in."""
        if token is not None:
            self.sim.set_value(1, "transaction_token", token)
        self.sim.plug_in()
        await self.refresh()

    async def unplug(self) -> None:
        """The car leaves; the charger forgets the card (the next tap reads as new)."""
        self.sim.unplug()
        self.sim.set_value(1, "transaction_token", "")
        await self.refresh()


type SiteFactory = Callable[..., Coroutine[Any, Any, Site]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """As the suite's own, but the recorder first where a test uses it.

    ``recorder_mock`` must be set up before ``hass``; the suite's autouse fixture would
    create ``hass`` first.
    """
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
async def eno(enovates_factory: SimulatorFactory) -> EnovatesSimulator:
    """An ENO one with no car, EMS full control (the RFID token is readable)."""
    sim = await enovates_factory(units={1: "idle"})
    sim.set_value(1, "transaction_token", "")
    return sim


@asynccontextmanager
async def fresh_hass() -> AsyncIterator[HomeAssistant]:
    """Another Home Assistant on the same storage (``hass_storage``), for restarts.

    Leaving the block unloads what is still loaded and stops it, as a test must; a
    test simulating a crash restores the storage it captured afterwards.
    """
    async with async_test_home_assistant() as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom_components/
        try:
            yield hass
        finally:
            for entry in hass.config_entries.async_entries():
                if entry.state is ConfigEntryState.LOADED:
                    await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            await hass.async_stop(force=True)


async def with_timers[T](hass: HomeAssistant, coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` while firing the timers it waits for under the frozen clock.

    The Modbus client sleeps 0.1 s after connecting; with the clock frozen that timer
    only runs when time is fired, so connecting needs this (polls do not).
    """
    task = asyncio.ensure_future(coro)
    for _ in range(20_000):
        if task.done():
            break
        async_fire_time_changed(hass)
        await asyncio.sleep(0)
    return await task


async def setup_charger(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add a charger entry and set it up (it connects to its simulator)."""
    entry.add_to_hass(hass)
    assert await with_timers(hass, hass.config_entries.async_setup(entry.entry_id))
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def site(hass: HomeAssistant, eno: EnovatesSimulator, freezer: FrozenDateTimeFactory) -> Site:
    """The charger entry loaded at ``START``."""
    freezer.move_to(START)
    charger = await setup_charger(hass, entry_for(eno))
    return Site(hass, eno, charger, freezer)
