"""Back-off on 429, 5xx and unreachable hosts: no hammering, 15 minutes at most."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import aiohttp
import pytest

from custom_components.ev_charging.backends.ampeco import AmpecoBackend, AmpecoClient
from custom_components.ev_charging.backends.ampeco.backoff import BACKOFF_CAP, Backoff
from custom_components.ev_charging.backends.base import BackendConnectionError

from . import fake_cloud, logged_in, ready_backend
from .test_auth import closed_port

pytestmark = pytest.mark.usefixtures("socket_enabled")

LIST = "GET /app/personal/charge-points"


async def _poll_for_an_hour(
    client: AmpecoClient, advance: Callable[[float], object], step: float = 10.0
) -> int:
    """Try to read every ``step`` s for an hour; return how many calls raised."""
    failures = 0
    for _ in range(int(3600 / step)):
        try:
            await client.async_list_charge_points()
        except BackendConnectionError:
            failures += 1
        advance(step)
    return failures


@pytest.mark.parametrize(("status", "retry_after"), [(429, None), (503, None), (500, None)])
async def test_failing_cloud_is_not_hammered(status: int, retry_after: float | None) -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/charge-points", status, count=10_000, retry_after=retry_after)
        failures = await _poll_for_an_hour(client, cloud.advance)
        # delays 30, 60, 120, 240, 480, 900, 900, 900 s: 8 requests in the hour, not 360
        assert cloud.requests[LIST] == 8
        assert failures == 360
        assert client.consecutive_failures == 8
        assert client.backoff_until is not None
        assert client.backoff_until - cloud.now <= BACKOFF_CAP


async def test_backoff_is_capped_at_15_minutes_and_reset_by_success() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/charge-points", 502, count=7)
        delays = []
        for _ in range(7):
            with pytest.raises(BackendConnectionError):
                await client.async_list_charge_points()
            assert client.backoff_until is not None
            delay = client.backoff_until - cloud.now
            delays.append(delay)
            cloud.advance(delay)
        assert delays == [30, 60, 120, 240, 480, 900, 900]
        assert len(await client.async_list_charge_points()) == 1
        assert client.backoff_until is None
        assert client.consecutive_failures == 0
        assert client.backoff_remaining() == 0


async def test_retry_after_is_honoured_within_the_cap() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/charge-points", 429, retry_after=120)
        with pytest.raises(BackendConnectionError):
            await client.async_list_charge_points()
        assert client.backoff_until == cloud.now + 120
        cloud.advance(119)
        with pytest.raises(BackendConnectionError, match="backing off"):
            await client.async_list_charge_points()
        assert cloud.requests[LIST] == 1
        cloud.advance(1)
        await client.async_list_charge_points()
        cloud.fail_next("/charge-points", 429, retry_after=7200)
        with pytest.raises(BackendConnectionError):
            await client.async_list_charge_points()
        assert client.backoff_until == cloud.now + BACKOFF_CAP


async def test_retry_after_as_a_date_falls_back_to_our_delay() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/charge-points", 429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
        with pytest.raises(BackendConnectionError):
            await client.async_list_charge_points()
        assert client.backoff_until == cloud.now + 30


async def test_unreachable_cloud_backs_off() -> None:
    now = [0.0]
    async with aiohttp.ClientSession() as http:
        client = AmpecoClient(http, f"127.0.0.1:{closed_port()}", clock=lambda: now[0])
        client.set_token("token")
        assert client.host.startswith("https://")
        client = AmpecoClient(http, f"http://127.0.0.1:{closed_port()}", clock=lambda: now[0])
        client.set_token("token")
        failures = await _poll_for_an_hour(client, lambda s: now.__setitem__(0, now[0] + s))
        assert failures == 360
        assert client.consecutive_failures == 8


async def test_backend_intervals_follow_the_backoff() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        assert backend.intervals.active == timedelta(seconds=30)
        assert backend.intervals.idle == timedelta(minutes=5)
        assert backend.intervals.burst == timedelta(seconds=5)
        cloud.fail_next("/charge-points", 503, count=6)
        waits = []
        for _ in range(6):
            with pytest.raises(BackendConnectionError):
                await backend.async_fetch(0.0)
            waits.append(backend.intervals.burst.total_seconds())
            cloud.advance(waits[-1])
        assert waits == [30, 60, 120, 240, 480, 900]
        cloud.fail_next("/charge-points", 503)
        with pytest.raises(BackendConnectionError):
            await backend.async_fetch(0.0)
        cloud.advance(5)
        # 900 s back-off, 5 s of it already waited
        assert backend.intervals.active == timedelta(seconds=895)
        assert backend.intervals.idle == timedelta(seconds=895)
        assert backend.intervals.burst == timedelta(seconds=895)
        with pytest.raises(BackendConnectionError):
            await backend.async_fetch(0.0)
        assert cloud.requests[LIST] == 1 + 7  # setup, then one per back-off step


def test_backoff_arithmetic() -> None:
    backoff = Backoff(base=10, cap=100)
    assert [backoff.failure(0.0) for _ in range(6)] == [10, 20, 40, 80, 100, 100]
    assert backoff.remaining(50.0) == 50
    assert backoff.failure(0.0, retry_after=5) == 100
    for _ in range(100):  # long outages do not overflow
        backoff.failure(0.0)
    assert backoff.until == 100
    backoff.success()
    assert backoff.remaining(0.0) == 0


def test_backend_is_typed_as_the_contract() -> None:
    assert AmpecoBackend.key == "ampeco"
    assert AmpecoBackend.push is False
