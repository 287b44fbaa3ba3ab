"""Status strings onto ChargerStatus: the table, the derivation, and through the cloud."""

from __future__ import annotations

import pytest

from custom_components.ev_charging.backends.ampeco.payloads import (
    AmpecoChargePoint,
    parse_charge_point,
    parse_charge_point_body,
)
from custom_components.ev_charging.backends.ampeco.statuses import (
    STATUS_TABLE,
    evse_status,
    map_status,
)
from custom_components.ev_charging.models import ChargerStatus

from . import fake_cloud, fixture, ready_backend

# the harness blocks sockets unless asked; it then allows 127.0.0.1 only
pytestmark = pytest.mark.usefixtures("socket_enabled")

S = ChargerStatus

# Every status string the reference lists (§3), with its normalized status.
REFERENCE_STRINGS: dict[str, ChargerStatus] = {
    # charge-point status
    "available": S.AVAILABLE,
    "unavailable": S.OFFLINE,
    "faulted": S.FAULTED,
    # EVSE status seen in driver payloads
    "preparing": S.PLUGGED,
    "charging": S.CHARGING,
    "suspended": S.SUSPENDED_EV,
    "pending": S.PLUGGED,
    "ready": S.PLUGGED,
    "suspendedev": S.SUSPENDED_EV,
    "suspendedevse": S.SUSPENDED_EVSE,
    "out of order": S.FAULTED,
    "unknown": S.UNKNOWN,
    "finishing": S.FINISHING,
    # OCPP 1.6 hardwareStatus
    "suspendedEV": S.SUSPENDED_EV,
    "suspendedEVSE": S.SUSPENDED_EVSE,
    "reserved": S.AVAILABLE,
    "occupied": S.PLUGGED,
    # OCPI-style status
    "blocked": S.OFFLINE,
    "inoperative": S.OFFLINE,
    "outoforder": S.FAULTED,
    "planned": S.OFFLINE,
    "removed": S.OFFLINE,
    # session chargingState
    "eVConnected": S.PLUGGED,
    "idle": S.PLUGGED,
}


@pytest.mark.parametrize(("raw", "expected"), REFERENCE_STRINGS.items())
def test_reference_strings(raw: str, expected: ChargerStatus) -> None:
    assert map_status(raw) is expected
    assert map_status(raw.upper()) is expected
    assert map_status(raw.title()) is expected
    assert map_status(f" {raw.swapcase()}") is expected


@pytest.mark.parametrize("raw", ["Out_Of_Order", "OUT-OF-ORDER", "Suspended_EV", "SuspendedEv"])
def test_separators_and_case_are_ignored(raw: str) -> None:
    assert map_status(raw) in (S.FAULTED, S.SUSPENDED_EV)


@pytest.mark.parametrize("raw", [None, "", "rebooting", "charging!"])
def test_unheard_of_strings_are_unknown(raw: str | None) -> None:
    assert map_status(raw) is S.UNKNOWN


def test_table_keys_are_normalized() -> None:
    assert all(key == key.lower() and " " not in key for key in STATUS_TABLE)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("charge_point_idle.json", S.AVAILABLE),
        ("charge_point_preparing.json", S.PLUGGED),
        ("charge_point_charging.json", S.CHARGING),
        ("charge_point_suspended.json", S.SUSPENDED_EV),
        ("charge_point_faulted.json", S.FAULTED),
    ],
)
def test_each_fixture(name: str, expected: ChargerStatus) -> None:
    point = parse_charge_point_body(fixture(name))
    assert evse_status(point, point.evses[0]) is expected


def _point(
    cp: str = "available",
    evse: str | None = "charging",
    session: dict[str, object] | None = None,
) -> AmpecoChargePoint:
    raw_evse: dict[str, object] = {"id": "1", "status": evse}
    if session is not None:
        raw_evse["session"] = {"id": "9", **session}
    point = parse_charge_point({"id": "cp", "status": cp, "evses": [raw_evse]})
    assert point is not None
    return point


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        # a faulted or unreachable charge point wins over its EVSE
        (_point(cp="Unavailable"), S.OFFLINE),
        (_point(cp="faulted", session={"status": "active"}), S.FAULTED),
        (_point(evse="FAULTED", session={"status": "active"}), S.FAULTED),
        # chargingState wins over evseStatus (smart charging holds the current at 0)
        (
            _point(
                session={
                    "status": "active",
                    "evseStatus": "charging",
                    "chargingState": "suspendedEVSE",
                }
            ),
            S.SUSPENDED_EVSE,
        ),
        # no chargingState: the session's evseStatus, then the EVSE status
        (
            _point(evse="available", session={"status": "active", "evseStatus": "Suspended"}),
            S.SUSPENDED_EV,
        ),
        (_point(evse="SuspendedEV", session={"status": "pending"}), S.SUSPENDED_EV),
        # a running session means plugged even when every field says otherwise
        (
            _point(evse="available", session={"status": "pending", "chargingState": "available"}),
            S.PLUGGED,
        ),
        (_point(evse="weird", session={"status": "active"}), S.PLUGGED),
        # an ended session embedded in the payload counts for nothing
        (
            _point(evse="available", session={"status": "finished", "chargingState": "charging"}),
            S.AVAILABLE,
        ),
        (_point(evse="Finishing", session={"status": "Expired"}), S.FINISHING),
        (_point(evse=None), S.UNKNOWN),
        (_point(evse="preparing"), S.PLUGGED),
    ],
)
def test_derivation(point: AmpecoChargePoint, expected: ChargerStatus) -> None:
    assert evse_status(point, point.evses[0]) is expected


@pytest.mark.parametrize(
    ("evse", "charging_state", "cp", "expected"),
    [
        ("CHARGING", "Charging", None, S.CHARGING),
        ("Suspended", "SUSPENDEDEV", None, S.SUSPENDED_EV),
        ("charging", "suspendedevse", None, S.SUSPENDED_EVSE),
        ("Finishing", "eVConnected", None, S.PLUGGED),
        ("Out Of Order", None, None, S.FAULTED),
        ("charging", "charging", "UNAVAILABLE", S.OFFLINE),
    ],
)
async def test_status_through_the_fake_cloud(
    evse: str, charging_state: str | None, cp: str | None, expected: ChargerStatus
) -> None:
    async with fake_cloud() as (cloud, http):
        backend = await ready_backend(cloud, http)
        cloud.plug_in()
        await backend.async_start(next(iter(backend.chargers)))
        cloud.advance(10)
        cloud.set_status(status=evse, charging_state=charging_state, charge_point_status=cp)
        (state,) = (await backend.async_fetch(0.0)).values()
        assert state.status is expected
        assert state.vendor_status == evse
        assert state.car_connected is (expected not in (S.FAULTED, S.OFFLINE))
