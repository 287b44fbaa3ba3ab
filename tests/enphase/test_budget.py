"""Requests per hour under the default intervals, counted by the fake cloud.

The vendor's empirical ceiling is about 600 requests per hour per account. Run
with ``-s`` to see the numbers.
"""

from __future__ import annotations

from collections import Counter

import pytest

from custom_components.ev_charging.backends.enphase import EnphaseBackend, EnphaseOptions

from . import SN, Harness, poll, running_backend, two_chargers

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def per_hour(h: Harness, backend: EnphaseBackend, hours: int = 2) -> dict[str, float]:
    """Poll the way the coordinator does for ``hours``; requests per hour by endpoint.

    A first poll (not counted) starts the schedules; the window then closes on the
    last poll, so each periodic read falls in it a whole number of times.
    """
    states = await poll(h, backend)
    before = Counter(h.cloud.requests)
    elapsed = 0.0
    while elapsed < hours * 3600:
        intervals = backend.intervals
        connected = any(state.car_connected for state in states.values())
        step = (intervals.active if connected else intervals.idle).total_seconds()
        elapsed += step
        states = await poll(h, backend, step)
    counts = h.cloud.requests - before
    return {name: count / hours for name, count in sorted(counts.items())}


async def test_requests_per_hour_idle_and_charging() -> None:
    async with running_backend() as (h, backend):
        idle = await per_hour(h, backend)
        h.cloud.plug_in(SN)
        await poll(h, backend, 60)
        await backend.async_start(SN)
        charging = await per_hour(h, backend)
    print(f"\nEnphase, one charger, idle: {sum(idle.values()):g} req/h {idle}")
    print(f"Enphase, one charger, charging: {sum(charging.values()):g} req/h {charging}")
    assert idle == {"charge_mode_get": 2, "sessions": 1, "status": 60, "summary": 6}
    assert charging == {"charge_mode_get": 2, "sessions": 12, "status": 120, "summary": 6}
    assert sum(charging.values()) < 600


async def test_requests_per_hour_demo_site_with_two_chargers() -> None:
    async with running_backend(two_chargers()) as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_start(SN)
        charging = await per_hour(h, backend)
    print(f"\nEnphase, two chargers, one charging: {sum(charging.values()):g} req/h {charging}")
    # One status call serves both chargers; each has its own mode and session reads.
    assert charging == {"charge_mode_get": 4, "sessions": 13, "status": 120, "summary": 6}


def test_options_never_go_below_the_vendor_minimums() -> None:
    options = EnphaseOptions(fast_interval_s=5, slow_interval_s=10)
    assert (options.fast_s, options.slow_s) == (30, 60)
    options = EnphaseOptions(fast_interval_s=90, slow_interval_s=60)
    assert (options.fast_s, options.slow_s) == (90, 90)  # slow is never faster than fast
