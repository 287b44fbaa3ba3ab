"""AmpecoBackend against the fake cloud: chargers, states, energy, commands, polling cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging.backends.ampeco import AmpecoBackend, charger_id_for
from custom_components.ev_charging.backends.base import (
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendInvalidDataError,
    BackendUnsupportedError,
)
from custom_components.ev_charging.models import Capability, ChargerState, ChargerStatus
from tests.simulators.ampeco_cloud import AmpecoCloud

from . import fake_cloud, fixture, logged_in, ready_backend

pytestmark = pytest.mark.usefixtures("socket_enabled")

CHARGER = "HMC0012345_58231"
LIST = "GET /app/personal/charge-points"
HISTORY = "GET /app/profile/session_history"
STOP = "POST /app/session/{session_id}/{action}"
MONTH_BEFORE = 6.431 + 24.31  # the two finished sessions of June in the fake's history


async def fetch_one(backend: AmpecoBackend, now: float = 0.0) -> ChargerState:
    states = await backend.async_fetch(now)
    assert list(states) == [CHARGER]
    return states[CHARGER]


async def test_setup_one_charger_per_evse() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        (info,) = backend.chargers.values()
        assert info.charger_id == CHARGER == charger_id_for("HMC0012345", "58231")
        assert info.serial == "HMC0012345"
        assert info.name == "Garage Charger"
        assert info.manufacturer == "AMPECO"
        assert info.model == "Type 2"
        assert info.firmware == "5.8.1-2210"
        assert (info.min_current, info.max_current) == (6.0, 16.0)
        assert info.connector == 1
        assert info.via_charger_id is None
        expected = (
            Capability.START_STOP
            | Capability.POWER
            | Capability.SESSION_ENERGY
            | Capability.SESSION_DURATION
            | Capability.ENERGY_TODAY
            | Capability.CURRENT_LIMIT
        )
        assert info.capabilities == expected
        assert not info.can(Capability.SET_CURRENT)
        assert not info.can(Capability.LIFETIME_ENERGY)
        assert cloud.requests[LIST] == 1
        assert cloud.requests[HISTORY] == 1


async def test_setup_picks_charge_points_and_names_several_evses() -> None:
    async with fake_cloud(charge_points=2, evses_per_charge_point=2) as (cloud, http):
        backend = await ready_backend(cloud, http, ["HMC0012346"])
        infos = list(backend.chargers.values())
        assert [i.charger_id for i in infos] == ["HMC0012346_58241", "HMC0012346_58242"]
        assert [i.name for i in infos] == ["Garage Charger 2 4117", "Garage Charger 2 4118"]
        assert [i.connector for i in infos] == [1, 2]
        assert [i.via_charger_id for i in infos] == [None, "HMC0012346_58241"]
        cloud.plug_in("4118")
        states = await backend.async_fetch(0.0)
        assert states["HMC0012346_58241"].status is ChargerStatus.AVAILABLE
        assert states["HMC0012346_58242"].status is ChargerStatus.PLUGGED


async def test_setup_without_charge_points() -> None:
    async with fake_cloud(charge_points=0) as (cloud, http):
        backend = AmpecoBackend(await logged_in(cloud, http))
        with pytest.raises(BackendInvalidDataError, match="no_charge_points"):
            await backend.async_setup()


async def test_setup_with_a_charge_point_no_longer_in_the_account() -> None:
    async with fake_cloud() as (cloud, http):
        backend = AmpecoBackend(await logged_in(cloud, http), ["gone"])
        with pytest.raises(BackendInvalidDataError, match="charge_point_not_found"):
            await backend.async_setup()


async def test_setup_fails_when_the_history_cannot_be_reached() -> None:
    async with fake_cloud() as (cloud, http):
        backend = AmpecoBackend(await logged_in(cloud, http), utcnow=cloud.utcnow)
        cloud.fail_next("session_history", 503)
        with pytest.raises(BackendConnectionError):
            await backend.async_setup()


async def test_tenant_without_history_has_no_energy_today() -> None:
    async with fake_cloud() as (cloud, http):
        backend = AmpecoBackend(await logged_in(cloud, http), utcnow=cloud.utcnow)
        cloud.fail_next("session_history", 404)
        await backend.async_setup()
        assert not backend.chargers[CHARGER].can(Capability.ENERGY_TODAY)
        state = await fetch_one(backend, 7200.0)
        assert state.energy_today is None
        assert "energy_this_month" not in state.extra
        assert cloud.requests[HISTORY] == 1


async def test_idle_state() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        state = await fetch_one(backend)
        assert state.status is ChargerStatus.AVAILABLE
        assert state.vendor_status == "available"
        assert state.power == 0.0
        assert state.current_limit == 16.0
        assert state.session_energy is None
        assert state.session_duration is None
        assert state.transaction_id is None
        assert state.energy_today == 0.0
        assert state.lifetime_energy is None
        assert state.extra == {
            "evse_identifier": "4107",
            "last_month_energy": pytest.approx(142.608),
            "max_power": 11040.0,
            "energy_this_month": pytest.approx(MONTH_BEFORE),
        }


async def test_a_whole_session() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.plug_in()
        await backend.async_start(CHARGER)
        state = await fetch_one(backend, 0.0)
        assert state.status is ChargerStatus.PLUGGED
        assert state.transaction_id == "902115"
        assert state.power == 0.0
        assert state.extra["session_status"] == "pending"

        cloud.advance(60)
        state = await fetch_one(backend, 60.0)
        assert state.status is ChargerStatus.CHARGING
        assert state.power == 7200.0
        assert state.session_energy == pytest.approx(0.12)
        assert state.session_duration == 60.0
        assert state.session_start == datetime(2025, 6, 13, 6, 0, tzinfo=UTC)
        assert state.energy_today == pytest.approx(0.12)
        assert state.extra["energy_this_month"] == pytest.approx(MONTH_BEFORE + 0.12)
        assert state.extra["session_id"] == "902115"
        assert state.extra["charging_state"] == "charging"
        assert state.extra["session_amount"] == pytest.approx(0.03)
        assert state.extra["session_currency"] == "EUR"

        await backend.async_stop(CHARGER)
        assert cloud.requests[STOP] == 1
        state = await fetch_one(backend, 70.0)
        assert state.extra["session_status"] == "stopping"
        assert cloud.requests[HISTORY] == 1

        cloud.advance(10)
        state = await fetch_one(backend, 80.0)
        assert cloud.requests[HISTORY] == 2  # read again as soon as the session ended
        assert state.status is ChargerStatus.FINISHING
        assert state.power == 0.0
        assert state.transaction_id is None
        assert "session_id" not in state.extra
        assert state.session_energy == pytest.approx(0.12)  # the last session stays on show
        assert state.session_duration == 60.0
        assert state.energy_today == pytest.approx(0.12)

        cloud.advance(10)
        assert (await fetch_one(backend, 90.0)).status is ChargerStatus.PLUGGED
        cloud.unplug()
        state = await fetch_one(backend, 100.0)
        assert state.status is ChargerStatus.AVAILABLE
        assert state.session_energy == pytest.approx(0.12)
        assert state.energy_today == pytest.approx(0.12)
        assert cloud.requests[HISTORY] == 2


async def test_small_values_keep_their_units() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.plug_in()
        cloud.set_power(None, 800)
        await backend.async_start(CHARGER)
        cloud.advance(405)  # 800 W for 405 s: 90 Wh
        state = await fetch_one(backend)
        assert state.power == 800.0
        assert state.session_energy == pytest.approx(0.09)
        assert state.energy_today == pytest.approx(0.09)


async def test_energy_of_an_ended_session_is_kept_until_the_history_has_it() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.plug_in()
        await backend.async_start(CHARGER)
        cloud.advance(600)
        assert (await fetch_one(backend, 600.0)).energy_today == pytest.approx(1.2)
        cloud.unplug()
        cloud.fail_next("session_history", 503)
        state = await fetch_one(backend, 610.0)
        assert state.status is ChargerStatus.AVAILABLE
        assert state.energy_today == pytest.approx(1.2)
        assert state.session_energy == pytest.approx(1.2)


async def test_history_failing_during_a_poll_is_retried_later() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        await backend.async_fetch(0.0)
        cloud.fail_next("session_history", 404)
        state = await fetch_one(backend, 3600.0)
        assert state.extra["energy_this_month"] == pytest.approx(MONTH_BEFORE)
        await backend.async_fetch(3700.0)
        assert cloud.requests[HISTORY] == 2
        await backend.async_fetch(3900.0)  # 5 min later
        assert cloud.requests[HISTORY] == 3


async def test_session_without_start_time_is_left_out_of_the_totals() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        body = fixture("charge_point_charging.json")
        del body["data"]["evses"][0]["session"]["startedAt"]
        cloud.fail_next("/charge-points", 200, body={"data": [body["data"]]})
        state = await fetch_one(backend)
        assert state.status is ChargerStatus.CHARGING
        assert state.session_energy == pytest.approx(5.231)
        assert state.session_start is None
        assert state.energy_today == 0.0


async def test_history_is_read_hourly() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        for now in range(0, 3 * 3600, 300):
            await backend.async_fetch(float(now) + 1000.0)
        assert cloud.requests[HISTORY] == 1 + 2  # setup, then at +1 h and +2 h


async def test_energy_today_follows_the_local_day() -> None:
    start = datetime(2025, 6, 12, 23, 30, tzinfo=UTC).timestamp()
    for zone, today in ((UTC, 0.0), (ZoneInfo("Europe/Amsterdam"), 7.2)):
        async with fake_cloud(start_time=start) as (cloud, http):
            backend = AmpecoBackend(
                await logged_in(cloud, http), time_zone=zone, utcnow=cloud.utcnow
            )
            await backend.async_setup()
            cloud.plug_in()
            await backend.async_start(CHARGER)
            cloud.advance(3600)
            state = await fetch_one(backend)
            assert state.energy_today == pytest.approx(today)
            assert state.extra["energy_this_month"] == pytest.approx(MONTH_BEFORE + 7.2)


async def test_month_totals_roll_over() -> None:
    start = datetime(2025, 6, 30, 22, 0, tzinfo=UTC).timestamp()
    async with fake_cloud(start_time=start) as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.plug_in()
        await backend.async_start(CHARGER)
        cloud.advance(3600)
        state = await fetch_one(backend, 0.0)
        assert state.energy_today == pytest.approx(7.2)
        assert state.extra["energy_this_month"] == pytest.approx(MONTH_BEFORE + 7.2)
        cloud.advance(3600)  # 1 July, 00:00 UTC
        state = await fetch_one(backend, 3600.0)
        assert state.energy_today == 0.0  # the session began in June
        assert state.extra["energy_this_month"] == 0.0
        assert state.session_energy == pytest.approx(14.4)


async def test_power_is_unknown_when_the_charger_is_offline() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.set_status(charge_point_status="unavailable")
        state = await fetch_one(backend)
        assert state.status is ChargerStatus.OFFLINE
        assert state.power is None
        cloud.set_status(charge_point_status="faulted")
        state = await fetch_one(backend)
        assert state.status is ChargerStatus.FAULTED
        assert state.problem
        assert state.power == 0.0


async def test_charge_point_removed_from_the_account() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.charge_points.clear()
        state = await fetch_one(backend)
        assert state.status is ChargerStatus.OFFLINE
        assert state.error == "not_in_account"
        with pytest.raises(BackendCommandRejectedError) as err:
            await backend.async_start(CHARGER)
        assert err.value.reason == "charger_missing"


async def test_start_when_already_active() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        await backend.async_start(CHARGER)
        with pytest.raises(BackendCommandRejectedError) as err:
            await backend.async_start(CHARGER)
        assert (err.value.reason, err.value.user_error) == ("already_active", True)


async def test_stop_without_a_session() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        await backend.async_fetch(0.0)
        with pytest.raises(BackendCommandRejectedError) as err:
            await backend.async_stop(CHARGER)
        assert (err.value.reason, err.value.user_error) == ("no_active_session", True)
        assert cloud.requests["GET /app/personal/charge-points/{cp_id}"] == 1
        assert cloud.requests[STOP] == 0


async def test_stop_a_session_started_elsewhere() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        await backend.async_fetch(0.0)
        (point,) = await backend.client.async_list_charge_points()
        await backend.client.async_start_session(point.evses[0])  # as the vendor's app would
        await backend.async_stop(CHARGER)
        assert cloud.requests[STOP] == 1
        session = cloud.evse().session
        assert session is not None
        assert session.status == "stopping"


async def test_unsupported_and_unknown() -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        with pytest.raises(BackendUnsupportedError):
            await backend.async_set_current(CHARGER, 10)
        with pytest.raises(BackendCommandRejectedError) as err:
            await backend.async_stop("other")
        assert err.value.reason == "unknown_charger"
        await backend.async_close()
        await backend.async_close()


async def test_diagnostics_hold_the_raw_payloads_but_no_tokens() -> None:
    async with fake_cloud() as (cloud, http):
        backend = AmpecoBackend(await logged_in(cloud, http))  # the real clock for dates
        await backend.async_setup()
        await backend.async_fetch(0.0)
        diagnostics = backend.diagnostics()
        payloads = diagnostics["payloads"]
        assert payloads["charge_points"]["data"][0]["id"] == "HMC0012345"
        assert "session_history" in payloads
        assert diagnostics["history_supported"] is True
        assert diagnostics["client"]["consecutive_failures"] == 0
        tokens = backend.client.tokens
        assert tokens is not None
        assert tokens.access_token not in repr(diagnostics)
        assert str(tokens.refresh_token) not in repr(diagnostics)


async def _requests_in_second_hour(backend: AmpecoBackend, cloud: AmpecoCloud) -> int:
    """Poll as the coordinator would for two hours; count the requests of the second."""
    now = 0.0
    before = 0
    while now < 7200:
        if now >= 3600 and not before:
            before = sum(cloud.requests.values())
        states = await backend.async_fetch(now)
        connected = any(state.car_connected for state in states.values())
        step = backend.intervals.active if connected else backend.intervals.idle
        now += step.total_seconds()
        cloud.advance(step.total_seconds())
    return sum(cloud.requests.values()) - before


async def test_requests_per_hour() -> None:
    async with fake_cloud() as (cloud, http):
        idle = await _requests_in_second_hour(await ready_backend(cloud, http), cloud)
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.plug_in()
        await backend.async_start(CHARGER)
        charging = await _requests_in_second_hour(backend, cloud)
        assert (await fetch_one(backend)).status is ChargerStatus.CHARGING
    print(f"AMPECO requests per hour: idle {idle}, charging {charging}")
    assert idle == 12 + 1  # the list every 5 min, the history hourly
    assert charging == 120 + 1  # the list every 30 s, the history hourly
    assert backend.intervals.burst_duration == timedelta(seconds=30)
