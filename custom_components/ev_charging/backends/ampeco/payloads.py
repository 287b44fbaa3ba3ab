"""Typed views of the AMPECO driver-app payloads, parsed defensively.

Pure: no Home Assistant imports. Every unit is converted here, once and always,
never guessed from the size of a value: the API sends session power in W, energy
in Wh, durations in s, ``maxPower`` in W, ``allowed_max_power_kw`` in kW (as a
string) and ``last_month_energy_kwh`` in kWh (as a string). The dataclasses hold
power in W, energy in kWh, durations in s; field names carry the unit.

Vendors differ in details, so a missing or malformed field becomes ``None``; only
a body whose shape cannot be read at all raises :class:`BackendInvalidDataError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import math
from typing import Any

from ..base import BackendInvalidDataError

#: Session ``status`` values of a session that no longer runs.
ENDED_SESSION_STATUSES = frozenset({"finished", "failed", "expired"})


@dataclass(frozen=True, slots=True, kw_only=True)
class AmpecoSession:
    """A charging session (live on an EVSE, or from the history)."""

    id: str
    status: str | None  # lowered: pending / active / stopping / finished / ...
    evse_status: str | None  # raw ``evseStatus``
    charging_state: str | None  # raw ``chargingState`` (case varies per tenant)
    evse_identifier: str | None  # ``evseId``: the public EVSE id
    started_at: datetime | None
    stopped_at: datetime | None
    duration_s: float | None
    energy_kwh: float | None
    power_w: float | None
    power_avg_w: float | None
    amount: float | None  # in the currency's major units
    currency: str | None  # ISO code, e.g. "EUR"
    stop_reason: str | None

    @property
    def active(self) -> bool:
        """Whether the session still runs (may be stopped, counts as plugged)."""
        return self.status not in ENDED_SESSION_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class AmpecoEvse:
    """One EVSE (charge port) of a charge point."""

    id: str  # internal id
    identifier: str | None  # public id (printed, in the QR code)
    status: str | None  # raw
    max_power_w: float | None
    current_type: str | None  # "ac" / "dc"
    connector_name: str | None  # e.g. "Type 2"
    session: AmpecoSession | None  # present only while a session exists

    @property
    def active_session(self) -> AmpecoSession | None:
        """The embedded session if it still runs."""
        if self.session is not None and self.session.active:
            return self.session
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmpecoChargePoint:
    """A personal charge point with its EVSEs and their live sessions."""

    id: str
    name: str
    status: str | None  # raw charge-point status: available / unavailable / faulted
    evses: tuple[AmpecoEvse, ...]
    firmware: str | None
    max_current_a: float | None  # the configured limit
    allowed_min_current_a: float | None
    allowed_max_current_a: float | None
    allowed_max_power_w: float | None
    last_month_energy_kwh: float | None  # the previous calendar month
    last_month_cost: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmpecoHistoryEntry:
    """One row of the session history."""

    session: AmpecoSession
    note: str | None  # the charge point's name on real tenants
    type: str | None  # "private" for a personal charge point


@dataclass(frozen=True, slots=True, kw_only=True)
class AmpecoProfile:
    """The account; only ``id`` is confirmed on real tenants."""

    id: str
    email: str | None
    first_name: str | None
    last_name: str | None


# --- field readers -----------------------------------------------------------------


def as_str(value: Any) -> str | None:
    """A non-empty string from a string or a number (ids arrive as either)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and math.isfinite(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def as_float(value: Any) -> float | None:
    """A finite number from a number or a numeric string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def as_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string (naive means UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _scaled(value: Any, factor: float) -> float | None:
    number = as_float(value)
    return None if number is None else number * factor


def _lowered(value: Any) -> str | None:
    text = as_str(value)
    return None if text is None else text.lower()


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _currency_code(value: Any) -> str | None:
    if isinstance(value, dict):
        return as_str(value.get("code"))
    return as_str(value)


# --- objects -----------------------------------------------------------------------


def parse_session(raw: Any) -> AmpecoSession | None:
    """A session, or ``None`` when the object has no id."""
    data = _mapping(raw)
    session_id = as_str(data.get("id"))
    if session_id is None:
        return None
    return AmpecoSession(
        id=session_id,
        status=_lowered(data.get("status")),
        evse_status=as_str(data.get("evseStatus")),
        charging_state=as_str(data.get("chargingState")),
        evse_identifier=as_str(data.get("evseId")),
        started_at=as_datetime(data.get("startedAt")),
        stopped_at=as_datetime(data.get("stoppedAt")),
        duration_s=as_float(data.get("duration")),
        energy_kwh=_scaled(data.get("energy"), 0.001),  # Wh -> kWh
        power_w=as_float(data.get("power")),
        power_avg_w=as_float(data.get("powerAvg")),
        amount=as_float(data.get("amount")),
        currency=_currency_code(data.get("currency")),
        stop_reason=as_str(data.get("stopReason")),
    )


def parse_evse(raw: Any) -> AmpecoEvse | None:
    """An EVSE, or ``None`` when the object has no id."""
    data = _mapping(raw)
    evse_id = as_str(data.get("id"))
    if evse_id is None:
        return None
    connectors = data.get("connectors")
    first = _mapping(connectors[0]) if isinstance(connectors, list) and connectors else {}
    return AmpecoEvse(
        id=evse_id,
        identifier=as_str(data.get("identifier")),
        status=as_str(data.get("status")),
        max_power_w=as_float(data.get("maxPower")),
        current_type=_lowered(data.get("currentType")),
        connector_name=as_str(first.get("name")),
        session=parse_session(data.get("session")),
    )


def parse_charge_point(raw: Any) -> AmpecoChargePoint | None:
    """A charge point, or ``None`` when the object has no id."""
    data = _mapping(raw)
    cp_id = as_str(data.get("id"))
    if cp_id is None:
        return None
    raw_evses = data.get("evses")
    evses = tuple(
        evse
        for evse in (
            parse_evse(item) for item in (raw_evses if isinstance(raw_evses, list) else [])
        )
        if evse is not None
    )
    return AmpecoChargePoint(
        id=cp_id,
        name=as_str(data.get("name")) or cp_id,
        status=as_str(data.get("status")),
        evses=evses,
        firmware=as_str(data.get("firmware_version")),
        max_current_a=as_float(data.get("max_current_a")),
        allowed_min_current_a=as_float(data.get("allowed_min_current_a")),
        allowed_max_current_a=as_float(data.get("allowed_max_current_a")),
        allowed_max_power_w=_scaled(data.get("allowed_max_power_kw"), 1000.0),  # kW -> W
        last_month_energy_kwh=as_float(data.get("last_month_energy_kwh")),
        last_month_cost=as_float(data.get("last_month_electricity_cost")),
    )


# --- response bodies ---------------------------------------------------------------


def _body(raw: Any, route: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BackendInvalidDataError(f"{route}: expected a JSON object")
    return raw


def parse_charge_point_list(raw: Any) -> tuple[AmpecoChargePoint, ...]:
    """``{"data": [chargePoint, ...]}``; objects without an id are skipped."""
    items = _body(raw, "charge-points").get("data")
    if not isinstance(items, list):
        raise BackendInvalidDataError("charge-points: 'data' is not a list")
    points = (parse_charge_point(item) for item in items)
    return tuple(point for point in points if point is not None)


def parse_charge_point_body(raw: Any) -> AmpecoChargePoint:
    """``{"data": chargePoint}``."""
    point = parse_charge_point(_body(raw, "charge-point").get("data"))
    if point is None:
        raise BackendInvalidDataError("charge-point: no charge point in 'data'")
    return point


def parse_session_body(raw: Any) -> AmpecoSession | None:
    """``{"session": session}`` (start, stop, active, detail); ``None`` if absent."""
    return parse_session(_body(raw, "session").get("session"))


def parse_history(raw: Any) -> tuple[AmpecoHistoryEntry, ...]:
    """``{"session_history": [{"session", "note", "type", "address"}, ...]}``."""
    rows = _body(raw, "session_history").get("session_history")
    if not isinstance(rows, list):
        raise BackendInvalidDataError("session_history: not a list")
    entries: list[AmpecoHistoryEntry] = []
    for row in rows:
        data = _mapping(row)
        session = parse_session(data.get("session"))
        if session is not None:
            entries.append(
                AmpecoHistoryEntry(
                    session=session, note=as_str(data.get("note")), type=as_str(data.get("type"))
                )
            )
    return tuple(entries)


def parse_profile(raw: Any) -> AmpecoProfile:
    """The account profile; the body is the profile itself (or wrapped in ``data``)."""
    data = _body(raw, "profile")
    if "id" not in data and isinstance(data.get("data"), dict):
        data = data["data"]
    profile_id = as_str(data.get("id"))
    if profile_id is None:
        raise BackendInvalidDataError("profile: no id")
    return AmpecoProfile(
        id=profile_id,
        email=as_str(data.get("email")),
        first_name=as_str(data.get("first_name")),
        last_name=as_str(data.get("last_name")),
    )


def error_message(raw: Any) -> str:
    """The human message of a Laravel / Passport error body (first validation error first)."""
    data = _mapping(raw)
    errors = data.get("errors")
    if isinstance(errors, dict):
        for messages in errors.values():
            if isinstance(messages, list) and messages and isinstance(messages[0], str):
                return messages[0]
    for key in ("message", "error_description", "error"):
        text = as_str(data.get(key))
        if text:
            return text
    return ""
