"""Fixtures of the ``ocpp`` tests: the fake integration in a real hass, the measured dumps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_charging.const import DOMAIN
from tests.simulators.fake_ocpp import FakeOcpp

DATA_DIR = Path(__file__).parent.parent / "simulators" / "data" / "ocpp"
# The measured runs happened at this time; freezing it makes timestamps comparable.
MEASURED_AT = "2026-11-21T17:06:28+00:00"


def load_dump(name: str) -> Any:
    """A measured dump of the real integration."""
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


type FakeFactory = Callable[..., Awaitable[FakeOcpp]]


@pytest.fixture
async def make_fake(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> AsyncIterator[FakeFactory]:
    """Set up a FakeOcpp (``connect=False`` leaves the charger away); closed at the end."""
    freezer.move_to(MEASURED_AT)
    assert await async_setup_component(hass, "homeassistant", {})
    created: list[FakeOcpp] = []

    async def make(*, connect: bool = True, **kwargs: Any) -> FakeOcpp:
        fake = FakeOcpp(hass, **kwargs)
        created.append(fake)
        await fake.async_setup(connect=connect)
        return fake

    yield make
    for fake in created:
        fake.close()


@pytest.fixture
async def fake(make_fake: FakeFactory) -> FakeOcpp:
    """One connected single-connector charger."""
    return await make_fake()


# -- our integration over the fake ---------------------------------------------------

RFID = "04A1B2C3D4E5F6"
OTHER_CARD = "AABBCCDD"


def proxy_entry(
    fake: FakeOcpp,
    *,
    connector: int = 1,
    limit_mode: str = "profile",
    cpid: str = "charger",
) -> MockConfigEntry:
    """A charger entry as the config flow creates it for a charger of the fake."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{cpid} (OCPP)",
        unique_id=f"ocpp_{cpid}_{connector}",
        data={
            "backend": "ocpp_proxy",
            "ocpp_device_id": fake.device_id(cpid),
            "cpid": cpid,
            "connector": connector,
            "limit_mode": limit_mode,
        },
    )


type EntryFactory = Callable[..., Awaitable[MockConfigEntry]]


@pytest.fixture
async def make_entry(hass: HomeAssistant, make_fake: FakeFactory) -> AsyncIterator[EntryFactory]:
    """Add and set up a charger entry over a fake; every entry is unloaded at the end."""

    async def make(fake: FakeOcpp, **kwargs: Any) -> MockConfigEntry:
        entry = proxy_entry(fake, **kwargs)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    yield make
    await unload_all(hass)


async def unload_all(hass: HomeAssistant) -> None:
    """Unload our loaded entries (their backends stop listening and timing)."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def our_entity(hass: HomeAssistant, platform: str, key: str, charger_id: str) -> str:
    """Our entity id of ``key`` on a charge port (by unique id: names may collide)."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{charger_id}_{key}")
    assert entity_id is not None, f"no {platform} {key} on {charger_id}"
    return entity_id


async def settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 1.0) -> None:
    """Let time pass (the debounced pushes fire) and the loop run dry."""
    await hass.async_block_till_done()
    freezer.tick(seconds)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
