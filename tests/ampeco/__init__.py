"""Tests of the AMPECO backend, against the fake cloud over loopback.

Shared helpers live here as plain context managers rather than fixtures, so each
test states the cloud it runs against.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
import contextlib
import json
from pathlib import Path
from typing import Any

import aiohttp

from custom_components.ev_charging.backends.ampeco import (
    AmpecoBackend,
    AmpecoClient,
    AmpecoTokens,
    OAuthClient,
)
from tests.simulators.ampeco_cloud import CLIENT_SECRET, EMAIL, PASSWORD, AmpecoCloud

FIXTURES = Path(__file__).parents[1] / "simulators" / "data" / "ampeco"


def fixture(name: str) -> Any:
    """A synthesized payload by file name."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@contextlib.asynccontextmanager
async def fake_cloud(**options: Any) -> AsyncIterator[tuple[AmpecoCloud, aiohttp.ClientSession]]:
    """A running fake cloud and an HTTP session, both closed on exit."""
    cloud = AmpecoCloud(**options)
    await cloud.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield cloud, http
    finally:
        await cloud.stop()


def make_client(
    cloud: AmpecoCloud,
    http: aiohttp.ClientSession,
    *,
    secret: str = CLIENT_SECRET,
    tokens: AmpecoTokens | None = None,
    on_tokens: Callable[[AmpecoTokens], None] | None = None,
    timeout: float = 5.0,
) -> AmpecoClient:
    """A client on the fake cloud whose clock is the cloud's simulated time."""
    return AmpecoClient(
        http,
        cloud.host,
        oauth_client=OAuthClient("1", secret),
        tokens=tokens,
        timeout=timeout,
        clock=lambda: cloud.now,
        on_tokens=on_tokens,
    )


async def logged_in(cloud: AmpecoCloud, http: aiohttp.ClientSession) -> AmpecoClient:
    """A client after a successful password grant."""
    client = make_client(cloud, http)
    await client.async_login(EMAIL, PASSWORD)
    return client


async def ready_backend(
    cloud: AmpecoCloud, http: aiohttp.ClientSession, picked: list[str] | None = None
) -> AmpecoBackend:
    """A logged-in backend after setup, its dates on the cloud's clock."""
    backend = AmpecoBackend(await logged_in(cloud, http), picked, utcnow=cloud.utcnow)
    await backend.async_setup()
    return backend
