"""What the session engine reports: plain dataclasses the tracker fires on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from .directory import UnknownReason, UserType
from .records import DataQuality, SessionRecord, to_iso


class EventKind(StrEnum):
    """The event types, usable as bus event name suffixes."""

    STARTED = "session_started"
    UPDATED = "session_updated"
    COMPLETED = "session_completed"
    CANCELLED = "session_cancelled"


class DiscardReason(StrEnum):
    """Why a session was too small to keep (strictly below a threshold)."""

    DURATION_BELOW_MIN = "duration_below_min"
    ENERGY_BELOW_MIN = "energy_below_min"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionProgress:
    """The live view of the session in progress (also every event's payload)."""

    session_id: str
    charger_id: str
    plugged_in_at: datetime
    started_at: datetime
    user_id: str | None
    user_name: str | None
    user_type: UserType
    vehicle_id: str | None
    vehicle_name: str | None
    card_uid: str | None
    card_index: int | None
    unknown_reason: UnknownReason | None
    energy_kwh: float
    cost: float | None
    guest_price: float | None
    currency: str | None
    price_source: str | None
    duration_s: float  # since plug-in
    charging_s: float  # idle time excluded
    charging: bool
    power_w: float | None
    soc_added_pct: float | None
    flags: frozenset[DataQuality]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "session_id": self.session_id,
            "charger_id": self.charger_id,
            "plugged_in_at": to_iso(self.plugged_in_at),
            "started_at": to_iso(self.started_at),
            "user_id": self.user_id,
            "user_name": self.user_name,
            "user_type": self.user_type.value,
            "vehicle_id": self.vehicle_id,
            "vehicle_name": self.vehicle_name,
            "card_uid": self.card_uid,
            "card_index": self.card_index,
            "unknown_reason": self.unknown_reason.value if self.unknown_reason else None,
            "energy_kwh": self.energy_kwh,
            "cost": self.cost,
            "guest_price": self.guest_price,
            "currency": self.currency,
            "price_source": self.price_source,
            "duration_s": self.duration_s,
            "charging_s": self.charging_s,
            "charging": self.charging,
            "power_w": self.power_w,
            "soc_added_pct": self.soc_added_pct,
            "flags": sorted(flag.value for flag in self.flags),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEvent:
    """Base of every engine event: when, and the session's state at that moment."""

    kind: ClassVar[EventKind]
    at: datetime
    session: SessionProgress

    def as_dict(self) -> dict[str, Any]:
        """Flat, JSON-safe payload for the event bus."""
        return {"type": self.kind.value, "at": to_iso(self.at), **self.session.as_dict()}


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(SessionEvent):
    """A session began (card presented, or energy flowed without one)."""

    kind: ClassVar[EventKind] = EventKind.STARTED


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionUpdated(SessionEvent):
    """Progress of a running session; at most once per ``update_interval_s``."""

    kind: ClassVar[EventKind] = EventKind.UPDATED


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCompleted(SessionEvent):
    """A session ended and was kept; ``record`` is what to store."""

    kind: ClassVar[EventKind] = EventKind.COMPLETED
    record: SessionRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCancelled(SessionEvent):
    """A started session ended below the micro-session thresholds and was discarded."""

    kind: ClassVar[EventKind] = EventKind.CANCELLED
    reasons: tuple[DiscardReason, ...]

    def as_dict(self) -> dict[str, Any]:
        """Flat payload including the discard reasons."""
        return {**SessionEvent.as_dict(self), "reasons": [r.value for r in self.reasons]}
