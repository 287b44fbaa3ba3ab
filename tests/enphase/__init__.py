"""Tests of the Enphase backend, all against the fake Enlighten cloud on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from custom_components.ev_charging.backends.enphase import (
    EnphaseBackend,
    EnphaseClient,
    EnphaseOptions,
)
from custom_components.ev_charging.models import ChargerState
from tests.simulators.enphase_cloud import EnphaseCloud, FakeCharger

SN = "482501234567"
SN2 = "482509876543"


@dataclass
class Harness:
    """A fake cloud, a cookie-keeping session and a client on the cloud's clock."""

    cloud: EnphaseCloud
    session: aiohttp.ClientSession
    client: EnphaseClient

    def new_client(self, password: str | None = None, **kwargs: object) -> EnphaseClient:
        """Another client on the same session and clock."""
        return EnphaseClient(
            self.session,
            self.cloud.email,
            password,
            base_url=self.cloud.url,
            entrez_url=self.cloud.entrez_url,
            clock=lambda: self.cloud.now,
            **kwargs,  # type: ignore[arg-type]
        )

    def backend(self, **kwargs: object) -> EnphaseBackend:
        """A backend for the cloud's site on this harness's client."""
        return EnphaseBackend(self.client, self.cloud.site_id, **kwargs)  # type: ignore[arg-type]

    def total(self) -> int:
        """Every request the cloud has seen."""
        return sum(self.cloud.requests.values())


@asynccontextmanager
async def harness(
    chargers: Iterable[FakeCharger] | None = None,
    *,
    password: str | None = "demo-password",
    request_timeout: float = 5.0,
) -> AsyncIterator[Harness]:
    """Start the fake cloud and a client; close both on exit."""
    cloud = EnphaseCloud(chargers=chargers)
    await cloud.start()
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        client = EnphaseClient(
            session,
            cloud.email,
            password,
            base_url=cloud.url,
            entrez_url=cloud.entrez_url,
            timeout=request_timeout,
            clock=lambda: cloud.now,
        )
        yield Harness(cloud, session, client)
    finally:
        await session.close()
        await cloud.stop()


@asynccontextmanager
async def running_backend(
    chargers: Iterable[FakeCharger] | None = None,
    *,
    options: EnphaseOptions | None = None,
) -> AsyncIterator[tuple[Harness, EnphaseBackend]]:
    """A harness with a backend already set up."""
    async with harness(chargers) as h:
        backend = h.backend(options=options)
        await backend.async_setup()
        yield h, backend


async def poll(
    h: Harness, backend: EnphaseBackend, seconds: float = 0.0
) -> dict[str, ChargerState]:
    """Advance the cloud clock by ``seconds`` and poll once."""
    h.cloud.advance(seconds)
    return await backend.async_fetch(h.cloud.now)


def two_chargers() -> list[FakeCharger]:
    """The demo site: a three-phase 32 A charger and a single-phase 16 A one."""
    return [
        FakeCharger(SN, name="IQ EV Charger_4567"),
        FakeCharger(SN2, name="Carport", max_amps=16, phases=1),
    ]
