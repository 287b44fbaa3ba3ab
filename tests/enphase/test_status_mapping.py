"""Every status payload of the samples, served by the fake cloud, mapped onto ChargerState."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.ev_charging.backends.enphase import map_status
from custom_components.ev_charging.backends.enphase.backend import STATUS_TABLE
from custom_components.ev_charging.backends.enphase.data import EnphaseChargerStatus
from custom_components.ev_charging.models import ChargerState, ChargerStatus
from tests.simulators.enphase_cloud import load

from . import SN, SN2, poll, running_backend, two_chargers

pytestmark = pytest.mark.usefixtures("socket_enabled")

S = ChargerStatus
SERVER_TIME = datetime(2026, 3, 14, 10, 15, tzinfo=UTC)  # meta.serverTimeStamp of the samples


async def state_for(fixture: str, serial: str = SN, *, two: bool = False) -> ChargerState:
    async with running_backend(two_chargers() if two else None) as (h, backend):
        h.cloud.status_payload = load(fixture)
        return (await poll(h, backend))[serial]


async def test_idle() -> None:
    state = await state_for("status_idle.json")
    assert state.status is S.AVAILABLE
    assert state.vendor_status == "AVAILABLE"
    assert not state.car_connected
    assert state.power == 0.0
    assert state.power_estimated
    assert state.session_energy == pytest.approx(18.3425)  # e_c is Wh in the envelope
    assert state.session_start == datetime(2026, 3, 12, 20, 17, tzinfo=UTC)
    assert state.session_duration == 5 * 3600 + 29 * 60  # until the plug-out
    assert state.lifetime_energy == pytest.approx(1482.31572)
    assert state.charge_mode == "manual"
    assert state.current_limit is None
    assert state.extra["safe_limit_state"] == 1
    assert state.extra["effective_mode"] == "manual"
    assert state.extra["plugged_out_at"] == "2026-03-13T01:46:00+00:00"
    assert state.extra["ip_address"] == "192.168.1.57"
    assert state.extra["mac_address"] == "00:1d:c0:12:34:56"
    assert state.extra["reporting_interval"] == 300
    assert state.extra["power_method"] == "idle"
    assert state.error is None


async def test_charging() -> None:
    state = await state_for("status_charging.json")
    assert state.status is S.CHARGING
    assert state.charging
    assert state.session_energy == pytest.approx(5.2158)
    assert state.session_start == datetime(2026, 3, 14, 9, 29, 5, tzinfo=UTC)
    assert state.session_duration == (SERVER_TIME - state.session_start).total_seconds()
    assert state.current_limit == 16
    # First sample of the session: offered amps x 230 V x 3 phases.
    assert state.power == 16 * 230 * 3
    assert state.power_estimated
    assert state.extra["power_method"] == "amps_voltage"
    assert state.extra["last_reported_at"] == "2026-03-14T10:14:20+00:00"


async def test_suspended_by_the_charger_in_green_mode() -> None:
    state = await state_for("status_plugged_suspended_evse.json")
    assert state.status is S.SUSPENDED_EVSE
    assert state.car_connected
    assert not state.charging
    assert state.power == 0.0
    assert state.extra["connector_reason"] == "INSUFFICIENT_SOLAR"
    assert state.extra["effective_mode"] == "green"
    assert state.session_energy == pytest.approx(2.2104)


async def test_suspended_by_the_car() -> None:
    state = await state_for("status_plugged_suspended_ev.json")
    assert state.status is S.SUSPENDED_EV
    assert state.car_connected
    assert state.power == 0.0  # the car takes nothing
    assert state.session_energy == pytest.approx(30.412)
    assert state.current_limit == 16


async def test_faulted() -> None:
    state = await state_for("status_faulted.json")
    assert state.status is S.FAULTED
    assert state.problem
    assert state.error == "GroundFailure"
    assert state.vendor_status == "FAULTED"
    assert state.session_energy == pytest.approx(0.412)  # 412 Wh, not 412 kWh


async def test_offline() -> None:
    state = await state_for("status_offline.json")
    assert state.status is S.OFFLINE
    assert not state.online
    assert state.power is None
    assert not state.power_estimated
    assert state.extra["offline_since"] == "2026-03-14T04:20:00+00:00"
    assert state.extra["power_method"] == "unknown"


async def test_two_chargers() -> None:
    first = await state_for("status_two_chargers.json", SN, two=True)
    second = await state_for("status_two_chargers.json", SN2, two=True)
    assert first.status is S.CHARGING
    assert first.power == 16 * 230 * 3
    assert second.status is S.AVAILABLE
    assert second.extra["effective_mode"] == "green"
    assert second.power == 0.0


async def test_legacy_flat_shape() -> None:
    state = await state_for("status_legacy_evchargerdata.json")
    assert state.status is S.CHARGING
    assert state.session_energy == pytest.approx(3.52)  # small e_c is kWh in this shape
    assert state.current_limit == 16  # chargingLevel
    assert state.session_start == datetime(2026, 3, 14, 9, 29, 5, tzinfo=UTC)
    assert state.session_duration == 2755
    assert state.extra["effective_mode"] is None


async def test_v2_keyed_shape() -> None:
    state = await state_for("status_v2_keyed.json")
    assert state.status is S.AVAILABLE
    assert state.vendor_status is None
    assert state.session_energy is None
    assert state.session_duration is None


async def test_charger_missing_from_the_poll_is_unknown() -> None:
    async with running_backend(two_chargers()) as (h, backend):
        h.cloud.status_payload = load("status_idle.json")  # only the first charger
        states = await poll(h, backend)
        assert states[SN2].status is S.UNKNOWN
        assert states[SN2].power is None
        assert states[SN2].energy_today == 0.0
        await backend.async_set_current(SN2, 10)  # remembered for when it is back
        assert backend.requested_current[SN2] == 10
        assert h.cloud.requests["stop_charging"] == 0


@pytest.mark.parametrize(("vendor", "row"), sorted(STATUS_TABLE.items()))
def test_status_table_rows(vendor: str, row: tuple[ChargerStatus, ChargerStatus]) -> None:
    for plugged, expected in zip((False, True), row, strict=True):
        raw = EnphaseChargerStatus(
            serial=SN, connected=True, plugged_in=plugged, connector_status=vendor.lower()
        )
        assert map_status(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, S.UNKNOWN),
        (EnphaseChargerStatus(serial=SN, connected=False, connector_status="CHARGING"), S.OFFLINE),
        (EnphaseChargerStatus(serial=SN, faulted=True, connector_status="CHARGING"), S.FAULTED),
        (EnphaseChargerStatus(serial=SN, charging=True, connector_status="WEIRD"), S.CHARGING),
        (EnphaseChargerStatus(serial=SN, plugged_in=True), S.PLUGGED),
        (EnphaseChargerStatus(serial=SN), S.AVAILABLE),
    ],
)
def test_flags_and_fallbacks(raw: EnphaseChargerStatus | None, expected: ChargerStatus) -> None:
    assert map_status(raw) is expected
