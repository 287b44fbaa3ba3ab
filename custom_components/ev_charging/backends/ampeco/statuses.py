"""AMPECO status strings onto :class:`ChargerStatus`: one table, read case-insensitively.

The vocabularies (charge-point status, EVSE status, session ``evseStatus`` and
``chargingState``) overlap and vary per tenant and firmware (``suspendedEV``,
``suspendedev``, ``suspended``), so every spelling lives in the one table below,
keyed by the lowered string with spaces, dashes and underscores removed.
Unknown strings become ``UNKNOWN`` rather than errors.
"""

from __future__ import annotations

from ...models import ChargerStatus
from .payloads import AmpecoChargePoint, AmpecoEvse

STATUS_TABLE: dict[str, ChargerStatus] = {
    # OCPP 1.6 (driver payloads and the operator API's hardwareStatus)
    "available": ChargerStatus.AVAILABLE,
    "preparing": ChargerStatus.PLUGGED,
    "charging": ChargerStatus.CHARGING,
    "suspendedev": ChargerStatus.SUSPENDED_EV,
    "suspendedevse": ChargerStatus.SUSPENDED_EVSE,
    "finishing": ChargerStatus.FINISHING,
    "reserved": ChargerStatus.AVAILABLE,  # no car; the raw value stays in vendor_status
    "unavailable": ChargerStatus.OFFLINE,
    "faulted": ChargerStatus.FAULTED,
    # driver-app additions
    "suspended": ChargerStatus.SUSPENDED_EV,  # who paused is not said; chargingState refines it
    "pending": ChargerStatus.PLUGGED,
    "ready": ChargerStatus.PLUGGED,
    "occupied": ChargerStatus.PLUGGED,
    "evconnected": ChargerStatus.PLUGGED,  # chargingState: car connected, no energy
    "idle": ChargerStatus.PLUGGED,  # chargingState of a session that draws nothing
    # OCPI-style EVSE status
    "outoforder": ChargerStatus.FAULTED,
    "inoperative": ChargerStatus.OFFLINE,
    "blocked": ChargerStatus.OFFLINE,
    "planned": ChargerStatus.OFFLINE,
    "removed": ChargerStatus.OFFLINE,
    "unknown": ChargerStatus.UNKNOWN,
}

#: States that mean a car is connected even without a session (reference §3).
_PLUGGED = frozenset(
    {
        ChargerStatus.PLUGGED,
        ChargerStatus.CHARGING,
        ChargerStatus.SUSPENDED_EV,
        ChargerStatus.SUSPENDED_EVSE,
        ChargerStatus.FINISHING,
    }
)
_PROBLEM = frozenset({ChargerStatus.FAULTED, ChargerStatus.OFFLINE})


def _key(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch not in " _-")


def map_status(value: str | None) -> ChargerStatus:
    """One vendor status string onto the normalized enum (``UNKNOWN`` if unheard of)."""
    if not value:
        return ChargerStatus.UNKNOWN
    return STATUS_TABLE.get(_key(value), ChargerStatus.UNKNOWN)


def evse_status(point: AmpecoChargePoint, evse: AmpecoEvse) -> ChargerStatus:
    """The normalized status of one EVSE, as the reference recommends (§3).

    A faulted or unreachable charge point wins over its EVSEs. With a running
    session, ``chargingState`` says whether energy flows (``evseStatus`` can read
    ``charging`` while smart charging holds the current at 0), then the session's
    ``evseStatus``, then the EVSE status; a running session always means plugged.
    """
    point_status = map_status(point.status)
    if point_status in _PROBLEM:
        return point_status
    base = map_status(evse.status)
    if base in _PROBLEM:
        return base
    session = evse.active_session
    if session is None:
        return base
    for candidate in (session.charging_state, session.evse_status, evse.status):
        status = map_status(candidate)
        if status in _PLUGGED:
            return status
    return ChargerStatus.PLUGGED
