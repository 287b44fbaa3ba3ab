"""Start, stop, set current (stop then start), charge mode, OCPP trigger and live stream."""

from __future__ import annotations

import pytest

from custom_components.ev_charging.backends.base import (
    BackendCommandRejectedError,
    BackendUnsupportedError,
)
from custom_components.ev_charging.backends.enphase import (
    CommandOutcome,
    EnphaseCloudUnavailableError,
)
from custom_components.ev_charging.backends.enphase.data import ChargeMode
from custom_components.ev_charging.models import ChargerStatus

from . import SN, harness, poll, running_backend

pytestmark = pytest.mark.usefixtures("socket_enabled")

S = ChargerStatus


async def test_start_and_stop_with_a_plugged_car() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        assert (await poll(h, backend))[SN].status is S.PLUGGED
        await backend.async_start(SN)
        assert h.cloud.started == [(SN, 32)]  # nothing asked yet: the charger's maximum
        assert backend.charging_requested[SN] is True
        state = (await poll(h, backend, 30))[SN]
        assert state.status is S.CHARGING
        assert state.current_limit == 32
        assert state.extra["charging_requested"] is True
        await backend.async_stop(SN)
        assert backend.charging_requested[SN] is False
        assert (await poll(h, backend, 30))[SN].status is S.PLUGGED
        # Stopping again: nothing active, still no error.
        await backend.async_stop(SN)
        assert h.cloud.requests["stop_charging"] == 2


async def test_start_and_stop_need_a_plugged_car() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        for command in (backend.async_start, backend.async_stop):
            with pytest.raises(BackendCommandRejectedError) as caught:
                await command(SN)
            assert caught.value.reason == "not_plugged"
            assert caught.value.user_error
        assert h.cloud.requests["start_charging"] == 0
        assert h.cloud.requests["stop_charging"] == 0


async def test_client_recognizes_not_plugged_and_already_charging() -> None:
    async with harness() as h:
        await h.client.async_login()
        with pytest.raises(BackendCommandRejectedError) as caught:
            await h.client.async_start_charging(h.cloud.site_id, SN, 16)
        assert caught.value.reason == "not_plugged"
        for status in (409, 422):
            h.cloud.fail_next("start_charging", status)
            with pytest.raises(BackendCommandRejectedError) as caught:
                await h.client.async_start_charging(h.cloud.site_id, SN, 16)
            assert caught.value.reason == "not_plugged"
        h.cloud.plug_in(SN)
        assert (
            await h.client.async_start_charging(h.cloud.site_id, SN, 16) is CommandOutcome.ACCEPTED
        )
        with pytest.raises(BackendCommandRejectedError) as caught:
            await h.client.async_start_charging(h.cloud.site_id, SN, 16)
        assert caught.value.reason == "already_charging"
        assert caught.value.user_error
        assert await h.client.async_stop_charging(h.cloud.site_id, SN) is CommandOutcome.ACCEPTED
        assert await h.client.async_stop_charging(h.cloud.site_id, SN) is CommandOutcome.NOT_ACTIVE


async def test_client_start_errors() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.plug_in(SN)
        with pytest.raises(BackendCommandRejectedError) as caught:
            await h.client.async_start_charging(h.cloud.site_id, SN, 40)
        assert caught.value.reason == "invalid_charge_level"
        assert h.client.backoff_until is None
        h.cloud.fail_next("start_charging", 404)
        with pytest.raises(BackendCommandRejectedError) as caught:
            await h.client.async_start_charging(h.cloud.site_id, SN)
        assert caught.value.reason == "rejected"
        assert not caught.value.user_error
        h.cloud.fail_next("start_charging", 500)
        with pytest.raises(EnphaseCloudUnavailableError):
            await h.client.async_start_charging(h.cloud.site_id, SN)
        assert h.client.backoff_until == h.cloud.now + 60


async def test_start_while_charging_is_benign() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        h.cloud.set_status(
            SN, connector_status="CHARGING", charge_level=16, session_start=h.cloud.now
        )
        await poll(h, backend)
        await backend.async_start(SN)  # the cloud says "already charging": fine
        assert h.cloud.requests["start_charging"] == 1
        assert backend.charging_requested[SN] is True


async def test_set_current_while_idle_only_remembers() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_set_current(SN, 50)
        assert backend.requested_current[SN] == 32  # clamped to the maximum
        await backend.async_set_current(SN, 2.6)
        assert backend.requested_current[SN] == 6  # and to the minimum
        await backend.async_set_current(SN, 15.6)
        assert backend.requested_current[SN] == 16  # whole amps
        assert h.cloud.requests["stop_charging"] + h.cloud.requests["start_charging"] == 0
        await backend.async_start(SN)
        assert h.cloud.started == [(SN, 16)]


async def test_set_current_while_charging_stops_then_starts_once() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_set_current(SN, 10)
        await backend.async_start(SN)
        state = (await poll(h, backend, 30))[SN]
        assert state.current_limit == 10
        await backend.async_set_current(SN, 10)  # unchanged: nothing to do
        assert h.cloud.requests["stop_charging"] == 0

        await backend.async_set_current(SN, 16)
        assert h.cloud.requests["stop_charging"] == 1
        await backend.async_set_current(SN, 20)  # during the restart: only the amps change
        assert h.cloud.requests["stop_charging"] == 1
        state = (await poll(h, backend, 5))[SN]
        assert state.extra["pending_action"] == "restart"
        assert state.status is S.PLUGGED
        state = (await poll(h, backend, 20))[SN]
        assert state.extra["pending_action"] == "restart"  # 20 s < 30 s since the stop
        assert h.cloud.requests["start_charging"] == 1
        state = (await poll(h, backend, 10))[SN]
        assert state.extra["pending_action"] is None
        assert h.cloud.started == [(SN, 10), (SN, 20)]
        state = (await poll(h, backend, 30))[SN]
        assert state.status is S.CHARGING
        assert state.current_limit == 20
        assert h.cloud.requests["start_charging"] == 2


async def test_pending_restart_is_dropped_when_the_car_leaves_or_the_user_stops() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_start(SN)
        await poll(h, backend, 30)
        await backend.async_set_current(SN, 16)
        await poll(h, backend, 5)
        h.cloud.unplug(SN)
        state = (await poll(h, backend, 30))[SN]
        assert state.extra["pending_action"] is None
        assert h.cloud.requests["start_charging"] == 1
        assert SN not in backend.charging_requested  # the car left with the request

        h.cloud.plug_in(SN)
        await poll(h, backend, 30)
        await backend.async_start(SN)
        await poll(h, backend, 30)
        await backend.async_set_current(SN, 8)
        await backend.async_stop(SN)
        await poll(h, backend, 30)
        await poll(h, backend, 30)
        assert h.cloud.requests["start_charging"] == 2


async def test_restart_failure_is_reported_not_raised() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_start(SN)
        await poll(h, backend, 30)
        await backend.async_set_current(SN, 16)
        await poll(h, backend, 5)
        h.cloud.fail_next("start_charging", 404)
        state = (await poll(h, backend, 30))[SN]
        assert state.extra["pending_action"] is None
        assert "HTTP 404" in str(state.extra["last_command_error"])


async def test_zero_amps_pauses_and_a_new_setpoint_resumes() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_start(SN)
        await poll(h, backend, 30)
        await backend.async_set_current(SN, 0)
        assert h.cloud.requests["stop_charging"] == 1
        h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
        for _ in range(6):  # paused on purpose: no resume
            await poll(h, backend, 60)
        assert h.cloud.requests["start_charging"] == 1
        await backend.async_set_current(SN, 0)  # already paused: no request
        assert h.cloud.requests["stop_charging"] == 1
        await backend.async_set_current(SN, 12)
        assert h.cloud.started[-1] == (SN, 12)
        assert (await poll(h, backend, 30))[SN].status is S.CHARGING


async def test_clear_current_limit_goes_back_to_the_maximum() -> None:
    async with running_backend() as (_h, backend):
        await backend.async_set_current(SN, 10)
        await backend.async_clear_current_limit(SN)
        assert backend.requested_current[SN] == 32


async def test_green_mode_sends_no_amps_and_refuses_a_current() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_set_charge_mode(SN, "green")
        assert h.cloud.chargers[SN].mode == "GREEN_CHARGING"
        state = (await poll(h, backend, 30))[SN]
        assert state.charge_mode == "green"
        assert state.extra["effective_mode"] == "green"
        with pytest.raises(BackendCommandRejectedError) as caught:
            await backend.async_set_current(SN, 16)
        assert caught.value.reason == "charge_mode_controls_current"
        await backend.async_start(SN)
        assert h.cloud.started == [(SN, None)]
        assert (await poll(h, backend, 30))[SN].status is S.SUSPENDED_EVSE


async def test_charge_modes() -> None:
    async with running_backend() as (h, backend):
        info = backend.chargers[SN]
        assert info.charge_modes == ("manual", "scheduled", "green", "smart")
        await poll(h, backend)
        gets = h.cloud.requests["charge_mode_get"]
        await backend.async_set_charge_mode(SN, "scheduled")
        assert (await poll(h, backend, 30))[SN].charge_mode == "scheduled"
        assert h.cloud.requests["charge_mode_get"] == gets  # the PUT reply is the new state
        h.cloud.set_status(SN, schedules_enabled=False, mode="MANUAL_CHARGING")
        with pytest.raises(BackendCommandRejectedError) as caught:
            await backend.async_set_charge_mode(SN, "scheduled")
        assert caught.value.reason == "no_schedules_enabled"
        assert caught.value.user_error
        with pytest.raises(BackendCommandRejectedError) as caught:
            await backend.async_set_charge_mode(SN, "turbo")
        assert caught.value.reason == "invalid_charge_mode"


async def test_mode_changed_in_the_app_is_read_again() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        gets = h.cloud.requests["charge_mode_get"]
        h.cloud.set_status(SN, mode="GREEN_CHARGING")  # the status `mode` flips to 1
        state = (await poll(h, backend, 30))[SN]
        assert h.cloud.requests["charge_mode_get"] == gets + 1
        assert state.charge_mode == "green"


async def test_client_charge_mode_other_rejection() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.fail_next("evse_scheduler", 400)
        with pytest.raises(BackendCommandRejectedError) as caught:
            await h.client.async_set_charge_mode(h.cloud.site_id, SN, ChargeMode.SMART)
        assert caught.value.reason == "rejected"
        modes = await h.client.async_set_charge_mode(h.cloud.site_id, SN, ChargeMode.SMART)
        assert modes.current is ChargeMode.SMART


async def test_trigger_message() -> None:
    async with running_backend() as (h, backend):
        reply = await backend.async_trigger_message(SN, "MeterValues")
        assert reply["data"] == {"status": "accepted"}
        assert h.cloud.triggered == [(SN, "MeterValues")]
        with pytest.raises(BackendCommandRejectedError) as caught:
            await backend.async_trigger_message(SN, "Reset")
        assert caught.value.reason == "invalid_message"
        assert h.cloud.requests["trigger_message"] == 1
        h.cloud.fail_next("trigger_message", 422)
        with pytest.raises(BackendCommandRejectedError):
            await backend.async_trigger_message(SN, "Heartbeat")
        h.cloud.fail_next("trigger_message", 200, body='{"data": {"status": "rejected"}}')
        with pytest.raises(BackendCommandRejectedError):
            await backend.async_trigger_message(SN, "Heartbeat")


async def test_live_stream() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        assert await backend.async_start_live_stream() == 900
        assert backend.live_stream_until == h.cloud.now + 900
        assert h.cloud.live_stream_until == h.cloud.now + 900
        await backend.async_stop_live_stream()
        assert backend.live_stream_until is None
        assert h.cloud.live_stream_until is None
        h.cloud.fail_next("live_stream", 200, body='{"status": "failed"}', count=2)
        with pytest.raises(BackendCommandRejectedError):
            await backend.async_start_live_stream()
        with pytest.raises(BackendCommandRejectedError):
            await backend.async_stop_live_stream()


async def test_unknown_charger() -> None:
    async with running_backend() as (_, backend):
        for call in (backend.async_start, backend.async_stop, backend.async_clear_current_limit):
            with pytest.raises(BackendUnsupportedError):
                await call("nope")
        with pytest.raises(BackendUnsupportedError):
            await backend.async_set_charge_mode("nope", "manual")


async def test_diagnostics_hold_payloads_and_health() -> None:
    async with running_backend() as (h, backend):
        h.cloud.plug_in(SN)
        await poll(h, backend)
        await backend.async_start(SN)
        await poll(h, backend, 30)
        data = backend.diagnostics()
        assert data["site_id"] == h.cloud.site_id
        assert data["payloads"]["status"]["data"]["chargers"][0]["sn"] == SN
        assert data["payloads"]["summary"]["data"][0]["serialNumber"] == SN
        assert data["health"]["reachable"] is True
        assert data["chargers"][SN]["charging_requested"] is True
        assert data["chargers"][SN]["charge_modes"][0] == "MANUAL_CHARGING"
        assert data["options"]["fast_interval_s"] == 30
