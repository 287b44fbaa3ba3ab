"""Restart-resume: start again after the charger paused a session it was asked to run."""

from __future__ import annotations

import pytest

from custom_components.ev_charging.backends.enphase import EnphaseBackend
from custom_components.ev_charging.models import ChargerStatus
from tests.simulators.enphase_cloud import load

from . import SN, Harness, poll, running_backend

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def charging(h: Harness, backend: EnphaseBackend) -> None:
    h.cloud.plug_in(SN)
    await poll(h, backend)
    await backend.async_start(SN)
    assert (await poll(h, backend, 30))[SN].status is ChargerStatus.CHARGING


async def test_resumes_after_the_charger_dropped_the_session() -> None:
    async with running_backend() as (h, backend):
        await charging(h, backend)
        h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")  # e.g. after an outage
        await poll(h, backend, 30)  # 60 s after the start: too soon
        assert h.cloud.requests["start_charging"] == 1
        await poll(h, backend, 60)  # 120 s after the start
        assert h.cloud.requests["start_charging"] == 2
        assert (await poll(h, backend, 30))[SN].status is ChargerStatus.CHARGING


async def test_never_flaps() -> None:
    async with running_backend() as (h, backend):
        await charging(h, backend)
        starts = []
        for _ in range(40):  # 20 minutes in which the charger keeps pausing
            h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
            await poll(h, backend, 30)
            starts.append(h.cloud.requests["start_charging"] - 1)
        # Tries 120 s apart (every fourth poll), three of them, then it waits for
        # charging to show before trying again.
        assert [i for i in range(1, 40) if starts[i] != starts[i - 1]] == [2, 6, 10]
        assert starts[-1] == 3


async def test_resumes_after_a_restart_of_home_assistant() -> None:
    async with running_backend() as (h, backend):
        await charging(h, backend)
        h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
        restored = EnphaseBackend(h.client, h.cloud.site_id)
        restored.charging_requested = dict(backend.charging_requested)
        await restored.async_setup()
        await poll(h, restored, 30)
        assert h.cloud.requests["start_charging"] == 2
        assert h.cloud.started[-1] == (SN, 32)


@pytest.mark.parametrize("mode", ["green", "smart"])
async def test_no_resume_in_green_or_smart(mode: str) -> None:
    async with running_backend() as (h, backend):
        await charging(h, backend)
        await backend.async_set_charge_mode(SN, mode)
        h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
        for _ in range(10):
            await poll(h, backend, 60)
        assert h.cloud.requests["start_charging"] == 1


async def test_no_resume_when_green_is_in_effect() -> None:
    async with running_backend() as (h, backend):
        await charging(h, backend)
        # The preference still says Manual, the status says Green is in effect.
        h.cloud.status_payload = load("status_plugged_suspended_evse.json")
        for _ in range(5):
            state = (await poll(h, backend, 60))[SN]
        assert state.charge_mode == "manual"
        assert state.extra["effective_mode"] == "green"
        assert h.cloud.requests["start_charging"] == 1


async def test_no_resume_after_the_user_stopped_or_the_car_left() -> None:
    async with running_backend() as (h, backend):
        await charging(h, backend)
        await backend.async_stop(SN)
        h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
        for _ in range(5):
            await poll(h, backend, 60)
        assert h.cloud.requests["start_charging"] == 1

        await backend.async_start(SN)
        h.cloud.unplug(SN)
        await poll(h, backend, 60)
        assert SN not in backend.charging_requested
        h.cloud.plug_in(SN)
        h.cloud.set_status(SN, connector_status="SUSPENDED_EVSE")
        for _ in range(5):
            await poll(h, backend, 60)
        assert h.cloud.requests["start_charging"] == 2
