"""Fixtures for the Enphase entry in a real Home Assistant, on the fake Enlighten cloud.

The cloud's clock and Home Assistant's (frozen) clock move together through
:func:`advance`, so token expiry, back-off and the poll intervals line up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ev_charging.backends.enphase import EnphaseClient
from custom_components.ev_charging.backends.enphase.setup import EnphaseEntryBackend
from custom_components.ev_charging.const import DOMAIN
from tests.simulators.enphase_cloud import FIXTURE_NOW, EnphaseCloud

from . import SN, SN2, two_chargers

SITE = "3381904"
TITLE = "Maple Street Home"
# Entity ids of the two chargers of the demo site.
MAIN = "iq_ev_charger_4567"
CARPORT = "carport"


@pytest.fixture
async def cloud(
    socket_enabled: None, freezer: FrozenDateTimeFactory
) -> AsyncIterator[EnphaseCloud]:
    """The demo site (two chargers) on 127.0.0.1, on Home Assistant's frozen clock.

    Both clocks start at 2026-03-14 10:15 UTC (11:15 at the site, Europe/Amsterdam).
    """
    freezer.move_to(dt_util.utc_from_timestamp(FIXTURE_NOW))
    fake = EnphaseCloud(chargers=two_chargers(), now=FIXTURE_NOW)
    await fake.start()
    yield fake
    await fake.stop()


async def login_state(cloud: EnphaseCloud) -> dict[str, Any]:
    """A fresh login's auth state, as the config flow stores it."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        client = EnphaseClient(
            session,
            cloud.email,
            cloud.password,
            base_url=cloud.url,
            entrez_url=cloud.entrez_url,
            clock=lambda: cloud.now,
        )
        await client.async_login()
        return client.auth_state.as_dict()


async def entry_for(cloud: EnphaseCloud, **data: Any) -> MockConfigEntry:
    """An entry as the config flow creates it for the cloud's site."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id=f"{cloud.email}_{SITE}",
        data={
            "backend": "enphase",
            "email": cloud.email,
            "password": cloud.password,
            "url": cloud.url,
            "site_id": SITE,
            "site_name": TITLE,
            "serials": [SN, SN2],
            "auth_state": await login_state(cloud),
        }
        | data,
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add the entry and set the integration up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def backend_of(entry: MockConfigEntry) -> EnphaseEntryBackend:
    """The entry's backend."""
    backend = entry.runtime_data.backend
    assert isinstance(backend, EnphaseEntryBackend)
    return backend


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cloud: EnphaseCloud, seconds: float
) -> None:
    """Move both clocks; timers due by then (polls) run."""
    cloud.advance(seconds)
    freezer.tick(seconds)
    async_fire_time_changed(hass)
    # Polls run as background tasks: wait for them too.
    await hass.async_block_till_done(wait_background_tasks=True)


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def attrs(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """The attributes of an entity that must exist."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return dict(found.attributes)
