"""Fixtures of the balancer's Home Assistant tests: a site meter the test drives, ENO one
chargers on the simulator, the balancer entry, and a frozen clock moved by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ev_charging.balancer.const import FEATURE_LOAD_BALANCER, UNIQUE_ID
from custom_components.ev_charging.balancer.controller import BalancerController
from custom_components.ev_charging.balancer.settings import BalancerSettings, ChargerSettings
from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.coordinator import ChargerCoordinator
from tests.conftest import SimulatorFactory
from tests.enovates.conftest import SERIAL, entry_for
from tests.simulators.enovates import EnovatesSimulator

METER = ("sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3")
PORT2 = f"{SERIAL}_2"

EVENTS = (
    "overload",
    "meter_unavailable",
    "meter_restored",
    "fallback_engaged",
    "charging_paused",
    "charging_resumed",
    "allocation_changed",
    "pause_limit_reached",
    "phases_changed",
)


def settings(**changes: Any) -> BalancerSettings:
    """A three-phase site of 25 A per phase with a current meter, one ENO one."""
    base = BalancerSettings(
        phases=3,
        meter_entities=METER,
        phase_limits=(25.0, 25.0, 25.0),
        margin=1.0,
        chargers=(ChargerSettings(charger_id=SERIAL, phases=3),),
    )
    return BalancerSettings.from_mapping(base.to_dict() | changes)


def balancer_entry(**changes: Any) -> MockConfigEntry:
    """The entry as the config flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Load balancer",
        unique_id=UNIQUE_ID,
        data={"feature": FEATURE_LOAD_BALANCER, **settings(**changes).to_dict()},
    )


class Site:
    """The house around the chargers: its load per phase and the meter that sees it."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        self.hass = hass
        self.freezer = freezer
        self.house: tuple[float, ...] = (0.0, 0.0, 0.0)
        self.sims: list[EnovatesSimulator] = []
        self.unit = "A"
        self.stubborn: float | None = None  # A a car draws whatever it is offered
        self.includes_cars = True  # the meter sits at the grid connection

    def poke_draw(self, amps: float) -> None:
        """The first simulator's car draws ``amps`` on every phase (no rule runs)."""
        for phase in (1, 2, 3):
            self.sims[0].set_value(1, f"current_l{phase}", round(amps * 1000))

    def car_draw(self) -> tuple[float, float, float]:
        """What the simulated cars draw per phase (A)."""
        draw = [0.0, 0.0, 0.0]
        for sim in self.sims:
            for unit in sim._ports:  # every simulated port
                for phase in range(3):
                    draw[phase] += int(sim.value(unit, f"current_l{phase + 1}")) / 1000
        return (draw[0], draw[1], draw[2])

    def report(self, *house: float) -> None:
        """The meter reports the house load (when given) plus the cars, fresh now."""
        if house:
            self.house = tuple(house)
            self.freezer.tick(0.1)  # a new reading is a later one
        draw = self.car_draw() if self.includes_cars else (0.0, 0.0, 0.0)
        for phase, entity_id in enumerate(METER):
            value = round(self.house[phase] + draw[phase], 2)
            self.hass.states.async_set(entity_id, str(value), {"unit_of_measurement": self.unit})

    def unavailable(self) -> None:
        """The meter entities become unavailable."""
        for entity_id in METER:
            self.hass.states.async_set(entity_id, "unavailable")

    async def settle(self) -> None:
        """Let the commands in flight finish."""
        await self.hass.async_block_till_done()

    async def tick(
        self, seconds: float = 1.0, *, report: bool = True, refresh: bool = True
    ) -> None:
        """Time passes: the timers run (the 1 s tick, polls), then the chargers are read
        and the meter reports what they draw now."""
        self.freezer.tick(seconds)
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done()
        if self.stubborn is not None:
            self.poke_draw(self.stubborn)
        if refresh:
            await self.refresh()
        if report:
            self.report()
        await self.hass.async_block_till_done()

    async def run(self, seconds: int, **kwargs: Any) -> None:
        """``seconds`` one-second ticks."""
        for _ in range(seconds):
            await self.tick(**kwargs)

    async def refresh(self) -> None:
        """Read every charger now (telemetry as the balancer will see it)."""
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if "backend" in entry.data and entry.state is ConfigEntryState.LOADED:
                coordinator: ChargerCoordinator = entry.runtime_data.coordinator
                await with_timers(self.hass, coordinator.async_refresh())


async def with_timers[T](hass: HomeAssistant, coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` while firing timers: the Modbus client waits 0.1 s after connecting,
    which under the frozen clock only passes when time is fired."""
    task = asyncio.ensure_future(coro)
    for _ in range(20_000):
        if task.done():
            break
        async_fire_time_changed(hass)
        await asyncio.sleep(0)
    return await task


async def setup_charger(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add a charger entry and load it."""
    entry.add_to_hass(hass)
    assert await with_timers(hass, hass.config_entries.async_setup(entry.entry_id))
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def site(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Site:
    """The house and its meter (nothing reported yet)."""
    return Site(hass, freezer)


@pytest.fixture
async def eno(
    hass: HomeAssistant, enovates_factory: SimulatorFactory, site: Site
) -> EnovatesSimulator:
    """An ENO one charging a car at 16 A on three phases, its entry loaded."""
    sim = await enovates_factory(units={1: "charging_3p_16a"})
    site.sims.append(sim)
    await setup_charger(hass, entry_for(sim))
    return sim


@pytest.fixture
async def dual(
    hass: HomeAssistant, enovates_factory: SimulatorFactory, site: Site
) -> EnovatesSimulator:
    """A dual-port ENO one, both cars charging at 16 A on three phases."""
    sim = await enovates_factory(units={1: "charging_3p_16a", 2: "charging_3p_16a"})
    site.sims.append(sim)
    await setup_charger(hass, entry_for(sim, dual_port=True))
    return sim


async def start_balancer(hass: HomeAssistant, **changes: Any) -> MockConfigEntry:
    """Add the balancer entry and load it."""
    entry = balancer_entry(**changes)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def controller_of(entry: MockConfigEntry) -> BalancerController:
    """The running controller of a balancer entry."""
    controller: BalancerController = entry.runtime_data.controller
    return controller


@pytest.fixture
async def unload_all(hass: HomeAssistant) -> AsyncIterator[None]:
    """Unload every entry at the end (the harness fails on lingering timers)."""
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def bus(hass: HomeAssistant) -> dict[str, list[Event]]:
    """Every balancer event fired, by type."""
    return {name: async_capture_events(hass, f"ev_charging_balancer_{name}") for name in EVENTS}


def writes(sim: EnovatesSimulator, unit: int = 1) -> list[int]:
    """The EMS limits (mA) written to one port, in order."""
    return [ma for u, ma in sim.ems_limit_writes if u == unit]


def payloads(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The data of captured events, without the entry id."""
    return [{k: v for k, v in e.data.items() if k != "entry_id"} for e in events]


def state(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state (it must exist)."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def attrs(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """An entity's attributes (it must exist)."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return dict(found.attributes)
