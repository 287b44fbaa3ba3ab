"""Backend setup: discovery, serial filter, fallbacks, construction from credentials."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.ev_charging.backends.base import BackendInvalidDataError
from custom_components.ev_charging.backends.enphase import EnphaseBackend, EnphaseOptions
from custom_components.ev_charging.models import Capability, ChargerStatus

from . import SN, SN2, harness, poll, two_chargers

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_setup_describes_every_charger() -> None:
    async with harness(two_chargers()) as h:
        backend = h.backend()
        infos = await backend.async_setup()
        assert [i.charger_id for i in infos] == [SN, SN2]
        first, second = infos
        assert first.name == "IQ EV Charger_4567"
        assert first.manufacturer == "Enphase"
        assert first.model == "IQ-EVSE-EU-3032"
        assert first.firmware == "25.37.1.14"
        assert (first.min_current, first.max_current, first.current_step) == (6, 32, 1)
        assert first.phases == 3
        assert second.phases == 1
        assert second.max_current == 16
        assert first.can(Capability.START_STOP | Capability.SET_CURRENT | Capability.POWER)
        assert first.can(Capability.ENERGY_TODAY | Capability.LIFETIME_ENERGY)
        assert not first.can(Capability.RFID)
        assert first.configuration_url == f"{h.cloud.url}/web/{h.cloud.site_id}"
        assert backend.chargers == {SN: first, SN2: second}
        assert h.cloud.requests["login"] == 1  # setup logged in by itself


async def test_setup_keeps_only_the_chosen_serials() -> None:
    async with harness(two_chargers()) as h:
        infos = await h.backend(serials=[SN2]).async_setup()
        assert [i.charger_id for i in infos] == [SN2]


async def test_setup_without_a_matching_charger_fails() -> None:
    async with harness() as h:
        with pytest.raises(BackendInvalidDataError):
            await h.backend(serials=["000"]).async_setup()


async def test_setup_when_summary_and_scheduler_are_down() -> None:
    async with harness() as h:
        h.cloud.fail_next("ev_chargers/summary", 503)
        h.cloud.fail_next("evse_scheduler", 503)
        backend = h.backend()
        (info,) = await backend.async_setup()
        assert info.name == "IQ EV Charger"  # from the status
        assert (info.min_current, info.max_current) == (6, 32)  # defaults
        assert info.charge_modes == ("manual", "scheduled", "green")
        state = (await poll(h, backend, 60))[SN]
        assert state.extra["operating_voltage"] == 230  # the summary was read again
        assert state.charge_mode == "manual"  # from the status while the mode is unknown
        assert h.cloud.requests["summary"] == 2


async def test_energy_today_unknown_while_history_is_down() -> None:
    async with harness() as h:
        backend = h.backend()
        await backend.async_setup()
        h.cloud.fail_next("enho_historical_events_ms", 503)
        assert (await poll(h, backend))[SN].energy_today is None


async def test_from_credentials_and_intervals() -> None:
    async with harness() as h:
        backend = EnphaseBackend.from_credentials(
            h.session,
            h.cloud.email,
            h.cloud.password,
            h.cloud.site_id,
            base_url=h.cloud.url,
            entrez_url=h.cloud.entrez_url,
            options=EnphaseOptions(fast_interval_s=45, slow_interval_s=120),
        )
        assert backend.key == "enphase"
        intervals = backend.intervals
        assert intervals.active == timedelta(seconds=45)
        assert intervals.idle == timedelta(seconds=120)
        assert intervals.burst == timedelta(seconds=45)
        await backend.async_setup()
        states = await backend.async_fetch(0.0)
        assert states[SN].status is ChargerStatus.AVAILABLE
        await backend.async_close()
