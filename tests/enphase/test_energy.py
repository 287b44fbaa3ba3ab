"""Energy today (trimmed to the local day), the power estimate and the lifetime guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_charging.backends.enphase.backend import _guard_lifetime
from custom_components.ev_charging.backends.enphase.data import EnphaseSession
from custom_components.ev_charging.backends.enphase.energy import (
    MAX_POWER_W,
    PowerEstimator,
    energy_in_window,
    local_day,
    max_power_w,
    share_inside,
    zone,
)
from custom_components.ev_charging.models import ChargerStatus

from . import SN, poll, running_backend

pytestmark = pytest.mark.usefixtures("socket_enabled")

AMSTERDAM = zone("Europe/Amsterdam")
NOW = datetime(2026, 3, 14, 10, 15, tzinfo=UTC)
LOCAL_MIDNIGHT = datetime(2026, 3, 13, 23, 0, tzinfo=UTC)  # 00:00 CET on the 14th


def epoch(moment: datetime) -> float:
    return moment.timestamp()


async def test_energy_today_trims_sessions_crossing_midnight() -> None:
    async with running_backend() as (h, backend):
        h.cloud.add_session(  # 23:00-01:00 local: half of it today
            SN,
            epoch(LOCAL_MIDNIGHT - timedelta(hours=1)),
            epoch(LOCAL_MIDNIGHT + timedelta(hours=1)),
            10.0,
        )
        h.cloud.add_session(
            SN, epoch(NOW - timedelta(hours=9)), epoch(NOW - timedelta(hours=7)), 6.0
        )
        h.cloud.add_session(
            SN, epoch(NOW - timedelta(days=1)), epoch(NOW - timedelta(hours=23)), 4.0
        )
        state = (await poll(h, backend))[SN]
        assert state.energy_today == pytest.approx(5.0 + 6.0)
        body = h.client.last_payloads[f"sessions:{SN}"]["data"]
        assert (body["startDate"], body["endDate"]) == ("13-03-2026", "14-03-2026")


async def test_energy_today_counts_the_running_session_once() -> None:
    async with running_backend() as (h, backend):
        start = LOCAL_MIDNIGHT - timedelta(minutes=30)  # began at 23:30 local yesterday
        h.cloud.plug_in(SN)
        h.cloud.set_status(
            SN,
            connector_status="CHARGING",
            charge_level=16,
            session_start=epoch(start),
            session_wh=47000,
        )
        state = (await poll(h, backend))[SN]
        inside = (NOW - LOCAL_MIDNIGHT) / (NOW - start)
        assert state.energy_today == pytest.approx(47.0 * inside, abs=1e-3)
        assert state.session_energy == pytest.approx(47.0)
        # The history lists it too once it ended: still counted once.
        h.cloud.unplug(SN)
        state = (await poll(h, backend, 60))[SN]
        assert h.cloud.requests["sessions"] == 2
        assert h.client.last_payloads[f"sessions:{SN}"]["data"]["result"]
        assert state.energy_today == pytest.approx(47.0 * inside, abs=1e-3)


async def test_sessions_are_read_every_5_min_while_charging_and_at_the_end() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        assert h.cloud.requests["sessions"] == 1
        await backend.async_start(SN)
        for _ in range(10):
            await poll(h, backend, 30)
        assert h.cloud.requests["sessions"] == 2  # after 300 s of charging
        await backend.async_stop(SN)
        await poll(h, backend, 30)
        assert h.cloud.requests["sessions"] == 3  # the session ended
        for _ in range(10):
            await poll(h, backend, 60)
        assert h.cloud.requests["sessions"] == 3  # idle: hourly


async def test_sessions_are_read_again_on_a_new_day() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        h.cloud.add_session(
            SN, epoch(NOW - timedelta(hours=2)), epoch(NOW - timedelta(hours=1)), 3.0
        )
        assert (await poll(h, backend, 60))[SN].energy_today == 0.0  # not read again yet
        to_midnight = (LOCAL_MIDNIGHT + timedelta(days=1) - NOW).total_seconds()
        state = (await poll(h, backend, to_midnight - 60 + 1))[SN]
        assert h.cloud.requests["sessions"] == 2
        assert state.energy_today == 0.0  # the new day has nothing yet


async def test_power_from_energy_deltas() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        h.cloud.set_status(SN, car_max_amps=10)  # offered 16 A, the car takes 10 A
        await poll(h, backend)
        await backend.async_set_current(SN, 16)
        await backend.async_start(SN)
        first = (await poll(h, backend, 30))[SN]
        assert first.power == 16 * 230 * 3  # no delta yet: the offer
        assert first.extra["power_method"] == "amps_voltage"
        second = (await poll(h, backend, 30))[SN]
        assert second.power == pytest.approx(10 * 230 * 3)
        assert second.power_estimated
        assert second.extra["power_method"] == "energy_delta"
        h.cloud.set_status(SN, car_max_amps=0)  # the car stops taking energy
        flat = (await poll(h, backend, 300))[SN]
        assert flat.extra["power_method"] == "energy_delta"  # not flat for long yet
        flat = (await poll(h, backend, 400))[SN]
        assert flat.power == 0.0
        assert flat.extra["power_method"] == "energy_flat"


async def test_power_is_capped_and_restarts_with_a_new_counter() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_start(SN)
        await poll(h, backend, 30)
        h.cloud.set_status(SN, session_wh=h.cloud.chargers[SN].session_wh + 5000)
        state = (await poll(h, backend, 30))[SN]
        assert state.power == 32 * 230 * 3  # capped at what the charger can give
        h.cloud.set_status(SN, session_wh=0.0)
        state = (await poll(h, backend, 30))[SN]
        assert state.extra["power_method"] == "amps_voltage"


async def test_power_is_none_while_offline() -> None:
    async with running_backend() as (h, backend):
        h.cloud.set_status(SN, connected=False)
        state = (await poll(h, backend))[SN]
        assert state.status is ChargerStatus.OFFLINE
        assert state.power is None


async def test_lifetime_guard_against_glitches_through_the_summary() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        h.cloud.set_status(SN, lifetime_wh=1481315.72)  # 1 kWh less: a glitch
        state = (await poll(h, backend, 600))[SN]
        assert state.lifetime_energy == pytest.approx(1482.31572)
        h.cloud.set_status(SN, lifetime_wh=2000.0)  # a real reset
        state = (await poll(h, backend, 600))[SN]
        assert state.lifetime_energy == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("previous", "new", "kept"),
    [
        (None, 5.0, 5.0),
        (10.0, None, 10.0),
        (10.0, 11.0, 11.0),
        (100.0, 99.0, 100.0),
        (100.0, 40.0, 40.0),
    ],
)
def test_guard_lifetime(previous: float | None, new: float | None, kept: float | None) -> None:
    assert _guard_lifetime(previous, new) == kept


def test_local_day_follows_daylight_saving() -> None:
    start, end = local_day(datetime(2026, 3, 29, 12, tzinfo=UTC), AMSTERDAM)
    assert start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
    assert local_day(NOW, zone(None)) == (
        datetime(2026, 3, 14, tzinfo=UTC),
        datetime(2026, 3, 15, tzinfo=UTC),
    )
    assert zone("Not/AZone") is UTC


def test_share_inside_and_energy_in_window() -> None:
    window = local_day(NOW, AMSTERDAM)
    assert share_inside(NOW, NOW, window) == 1.0  # an instant inside counts whole
    assert (
        share_inside(
            LOCAL_MIDNIGHT - timedelta(hours=1), LOCAL_MIDNIGHT - timedelta(hours=1), window
        )
        == 0.0
    )
    sessions = [
        EnphaseSession(
            start=LOCAL_MIDNIGHT - timedelta(hours=3),
            end=LOCAL_MIDNIGHT + timedelta(hours=1),
            energy_kwh=8.0,
        ),
        EnphaseSession(start=NOW - timedelta(hours=1), end=None, energy_kwh=3.0),  # running
        EnphaseSession(start=None, energy_kwh=1.0),
        EnphaseSession(start=NOW, energy_kwh=None),
    ]
    assert energy_in_window(sessions, window, NOW) == pytest.approx(2.0 + 3.0)


def test_power_estimator_without_any_hint_is_unknown() -> None:
    estimator = PowerEstimator()
    value = estimator.update(
        charging=True,
        session_start=None,
        energy_kwh=None,
        reported_at=NOW,
        fallback_w=None,
        cap_w=MAX_POWER_W,
        flat_after_s=600,
    )
    assert value is None
    assert estimator.method == "unknown"


def test_max_power() -> None:
    assert max_power_w(None, 230, 3) == MAX_POWER_W
    assert max_power_w(16, 230, 1) == 3680
    assert max_power_w(16, 230, 3) == 11040
    assert max_power_w(16, 400, 3) == pytest.approx(16 * 400 * 3**0.5)
