"""The completed-session record, its JSON form, and pure edits of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .directory import UnknownReason, User, UserType, Vehicle
from .pricing import GuestPricing, PriceSource

MIXED_PRICE_SOURCE = "mixed"


class DataQuality(StrEnum):
    """What a consumer of the record should know about how it was measured."""

    ENERGY_FROM_LIFETIME_COUNTER = "energy_from_lifetime_counter"
    COUNTER_RESET = "counter_reset"
    ENERGY_UNIT_CORRECTED = "energy_unit_corrected"  # a counter reported Wh as kWh
    IMPLAUSIBLE_ENERGY_STEP = "implausible_energy_step"  # a jump above max power, ignored
    ENERGY_GAP = "energy_gap"  # some energy could not be measured
    CHARGER_UNAVAILABLE = "charger_unavailable"  # the charger was unreachable for a while
    RESUMED_AFTER_RESTART = "resumed_after_restart"
    UNPLUG_TIME_ESTIMATED = "unplug_time_estimated"
    CHARGING_TIME_ESTIMATED = "charging_time_estimated"  # a stop between sparse samples
    PRICE_UNAVAILABLE = "price_unavailable"  # some energy had no price: cost is too low
    CLOSED_BY_USER = "closed_by_user"
    REASSIGNED = "reassigned"


def to_iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, or ``None``."""
    return None if value is None else value.astimezone(UTC).isoformat()


def from_iso(value: object) -> datetime | None:
    """Inverse of :func:`to_iso` (naive strings are read as UTC)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _required_iso(value: object) -> datetime:
    parsed = from_iso(value)
    if parsed is None:
        raise ValueError("a required timestamp is missing")
    return parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceInterval:
    """Energy and cost that fell in one price interval (bounds ``None`` = unbounded)."""

    start: datetime | None
    end: datetime | None
    price: float | None  # currency per kWh, all surcharges included
    base_price: float | None  # the energy price alone (e.g. the spot value)
    source: PriceSource
    energy_kwh: float
    cost: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "start": to_iso(self.start),
            "end": to_iso(self.end),
            "price": self.price,
            "base_price": self.base_price,
            "source": self.source.value,
            "energy_kwh": self.energy_kwh,
            "cost": self.cost,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceInterval:
        """Inverse of :meth:`to_dict`."""
        return cls(
            start=from_iso(data.get("start")),
            end=from_iso(data.get("end")),
            price=data.get("price"),
            base_price=data.get("base_price"),
            source=PriceSource(data["source"]),
            energy_kwh=float(data["energy_kwh"]),
            cost=data.get("cost"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """One completed charging session.

    ``plugged_in_at``/``plugged_out_at`` bound the connection; ``started_at`` is when
    the session was attributed (card tap or first energy); ``ended_at`` is the unplug,
    or the moment a stuck session was closed (``plugged_out_at`` then ``None``).
    ``cost`` is what the household paid; ``guest_price`` what a guest is billed.
    """

    id: str
    charger_id: str
    user_id: str | None = None
    user_name: str | None = None
    user_type: UserType = UserType.UNKNOWN
    vehicle_id: str | None = None
    vehicle_name: str | None = None
    card_uid: str | None = None
    card_index: int | None = None
    unknown_reason: UnknownReason | None = None
    plugged_in_at: datetime
    started_at: datetime
    ended_at: datetime
    plugged_out_at: datetime | None = None
    charging_started_at: datetime | None = None
    charging_ended_at: datetime | None = None
    charging_seconds: float = 0.0
    charging_windows: int = 0
    energy_kwh: float = 0.0
    max_power_w: float | None = None
    cost: float | None = None
    currency: str | None = None
    price_source: str | None = None  # a PriceSource value, or "mixed"
    price_intervals: tuple[PriceInterval, ...] = ()
    guest_price: float | None = None
    guest_pricing: GuestPricing | None = None
    soc_added_pct: float | None = None
    lifetime_start_kwh: float | None = None
    lifetime_end_kwh: float | None = None
    flags: frozenset[DataQuality] = frozenset()

    @property
    def connection_seconds(self) -> float:
        """Seconds from plug-in to the end of the session."""
        return (self.ended_at - self.plugged_in_at).total_seconds()

    @property
    def average_power_w(self) -> float | None:
        """Mean power while charging (idle time excluded)."""
        if self.charging_seconds <= 0:
            return None
        return round(self.energy_kwh * 3_600_000 / self.charging_seconds, 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (derived durations and mean power included for exports)."""
        return {
            "id": self.id,
            "charger_id": self.charger_id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "user_type": self.user_type.value,
            "vehicle_id": self.vehicle_id,
            "vehicle_name": self.vehicle_name,
            "card_uid": self.card_uid,
            "card_index": self.card_index,
            "unknown_reason": self.unknown_reason.value if self.unknown_reason else None,
            "plugged_in_at": to_iso(self.plugged_in_at),
            "started_at": to_iso(self.started_at),
            "ended_at": to_iso(self.ended_at),
            "plugged_out_at": to_iso(self.plugged_out_at),
            "charging_started_at": to_iso(self.charging_started_at),
            "charging_ended_at": to_iso(self.charging_ended_at),
            "connection_seconds": self.connection_seconds,
            "charging_seconds": self.charging_seconds,
            "charging_windows": self.charging_windows,
            "energy_kwh": self.energy_kwh,
            "average_power_w": self.average_power_w,
            "max_power_w": self.max_power_w,
            "cost": self.cost,
            "currency": self.currency,
            "price_source": self.price_source,
            "price_intervals": [i.to_dict() for i in self.price_intervals],
            "guest_price": self.guest_price,
            "guest_pricing": self.guest_pricing.to_dict() if self.guest_pricing else None,
            "soc_added_pct": self.soc_added_pct,
            "lifetime_start_kwh": self.lifetime_start_kwh,
            "lifetime_end_kwh": self.lifetime_end_kwh,
            "flags": sorted(flag.value for flag in self.flags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """Inverse of :meth:`to_dict`; derived keys are ignored, unknown flags dropped."""
        reason = data.get("unknown_reason")
        pricing = data.get("guest_pricing")
        known_flags = {flag.value for flag in DataQuality}
        return cls(
            id=str(data["id"]),
            charger_id=str(data["charger_id"]),
            user_id=data.get("user_id"),
            user_name=data.get("user_name"),
            user_type=UserType(data.get("user_type", UserType.UNKNOWN)),
            vehicle_id=data.get("vehicle_id"),
            vehicle_name=data.get("vehicle_name"),
            card_uid=data.get("card_uid"),
            card_index=data.get("card_index"),
            unknown_reason=UnknownReason(reason) if reason else None,
            plugged_in_at=_required_iso(data["plugged_in_at"]),
            started_at=_required_iso(data["started_at"]),
            ended_at=_required_iso(data["ended_at"]),
            plugged_out_at=from_iso(data.get("plugged_out_at")),
            charging_started_at=from_iso(data.get("charging_started_at")),
            charging_ended_at=from_iso(data.get("charging_ended_at")),
            charging_seconds=float(data.get("charging_seconds", 0.0)),
            charging_windows=int(data.get("charging_windows", 0)),
            energy_kwh=float(data.get("energy_kwh", 0.0)),
            max_power_w=data.get("max_power_w"),
            cost=data.get("cost"),
            currency=data.get("currency"),
            price_source=data.get("price_source"),
            price_intervals=tuple(
                PriceInterval.from_dict(item) for item in data.get("price_intervals", ())
            ),
            guest_price=data.get("guest_price"),
            guest_pricing=GuestPricing.from_dict(pricing) if pricing else None,
            soc_added_pct=data.get("soc_added_pct"),
            lifetime_start_kwh=data.get("lifetime_start_kwh"),
            lifetime_end_kwh=data.get("lifetime_end_kwh"),
            flags=frozenset(
                DataQuality(flag) for flag in data.get("flags", ()) if flag in known_flags
            ),
        )


def guest_charge(
    pricing: GuestPricing | None, energy_kwh: float, cost: float | None
) -> float | None:
    """What a guest is billed, to the cent; ``None`` for residents and unknown users."""
    if pricing is None:
        return None
    amount = pricing.charge(energy_kwh, cost)
    return None if amount is None else round(amount, 2)


def reassign_session(record: SessionRecord, user: User, vehicle: Vehicle | None) -> SessionRecord:
    """The record attributed to ``user`` (and ``vehicle``), e.g. an unknown session claimed.

    The card stays as presented; the household cost is unchanged; the guest price and
    the state-of-charge estimate follow the new user and vehicle.
    """
    pricing = user.guest_pricing if user.type is UserType.GUEST else None
    return replace(
        record,
        user_id=user.id,
        user_name=user.name,
        user_type=user.type,
        unknown_reason=None,
        vehicle_id=vehicle.id if vehicle else None,
        vehicle_name=vehicle.name if vehicle else None,
        soc_added_pct=vehicle.soc_added(record.energy_kwh) if vehicle else None,
        guest_pricing=pricing,
        guest_price=guest_charge(pricing, record.energy_kwh, record.cost),
        flags=record.flags | {DataQuality.REASSIGNED},
    )
