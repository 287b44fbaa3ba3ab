"""Totals of completed sessions per bucket (a user, the guests, a charger...), pure.

A record counts in several buckets at once: ``all``, its charger, its user (or
``unknown``) and, for a guest, ``guests``. Months are local calendar months of the
session's start, so monthly totals match what a household sees on its bills.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from .directory import UserType
from .records import SessionRecord, from_iso, to_iso

BUCKET_ALL = "all"
BUCKET_GUESTS = "guests"
BUCKET_UNKNOWN = "unknown"


def user_bucket(user_id: str) -> str:
    """The bucket of one configured user."""
    return f"user:{user_id}"


def charger_bucket(charger_id: str) -> str:
    """The bucket of one charger."""
    return f"charger:{charger_id}"


def buckets_of(record: SessionRecord) -> list[str]:
    """Every bucket a record counts in."""
    buckets = [BUCKET_ALL, charger_bucket(record.charger_id)]
    buckets.append(user_bucket(record.user_id) if record.user_id else BUCKET_UNKNOWN)
    if record.user_type is UserType.GUEST:
        buckets.append(BUCKET_GUESTS)
    return buckets


def month_key(when: datetime, tz: tzinfo) -> str:
    """``YYYY-MM`` of the local month holding ``when``."""
    return when.astimezone(tz).strftime("%Y-%m")


def record_month(record: SessionRecord, tz: tzinfo) -> str:
    """The month a record belongs to (its start, local time)."""
    return month_key(record.started_at, tz)


def summary(record: SessionRecord) -> dict[str, Any]:
    """What sensors show about a last session (small: kept in the index)."""
    counter = None
    if record.lifetime_start_kwh is not None and record.lifetime_end_kwh is not None:
        counter = round(record.lifetime_end_kwh - record.lifetime_start_kwh, 6)
    return {
        "id": record.id,
        "charger_id": record.charger_id,
        "user_id": record.user_id,
        "user_name": record.user_name,
        "vehicle_name": record.vehicle_name,
        "started_at": to_iso(record.started_at),
        "ended_at": to_iso(record.ended_at),
        "energy_kwh": record.energy_kwh,
        "cost": record.cost,
        "currency": record.currency,
        "guest_price": record.guest_price,
        "duration_s": record.connection_seconds,
        "charging_s": record.charging_seconds,
        "counter_kwh": counter,
    }


def deviation_pct(last: Mapping[str, Any] | None) -> float | None:
    """How far a session's energy is off the charger's lifetime counter, in % of the larger."""
    if last is None or last.get("counter_kwh") is None:
        return None
    counter, energy = float(last["counter_kwh"]), float(last["energy_kwh"])
    larger = max(counter, energy)
    return 0.0 if larger <= 0 else round(abs(counter - energy) / larger * 100, 2)


@dataclass(slots=True)
class Totals:
    """Energy, household cost, amount billed to guests and count of some sessions."""

    energy_kwh: float = 0.0
    cost: float = 0.0
    billed: float = 0.0
    sessions: int = 0
    last: dict[str, Any] | None = field(default=None)

    @property
    def average_kwh(self) -> float | None:
        """Mean energy per session."""
        return self.energy_kwh / self.sessions if self.sessions else None

    @property
    def last_ended_at(self) -> datetime | None:
        """When the most recent session ended."""
        return from_iso(self.last["ended_at"]) if self.last else None

    def add(self, record: SessionRecord) -> None:
        """Count one record."""
        self.energy_kwh += record.energy_kwh
        self.cost += record.cost or 0.0
        self.billed += record.guest_price or 0.0
        self.sessions += 1
        self._keep_last(summary(record))

    def merge(self, other: Totals) -> None:
        """Add another total to this one."""
        self.energy_kwh += other.energy_kwh
        self.cost += other.cost
        self.billed += other.billed
        self.sessions += other.sessions
        if other.last is not None:
            self._keep_last(other.last)

    def _keep_last(self, candidate: dict[str, Any]) -> None:
        if self.last is None or str(candidate["ended_at"]) >= str(self.last["ended_at"]):
            self.last = candidate

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "energy_kwh": self.energy_kwh,
            "cost": self.cost,
            "billed": self.billed,
            "sessions": self.sessions,
            "last": self.last,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Totals:
        """Inverse of :meth:`to_dict`."""
        last = data.get("last")
        return cls(
            energy_kwh=float(data.get("energy_kwh", 0.0)),
            cost=float(data.get("cost", 0.0)),
            billed=float(data.get("billed", 0.0)),
            sessions=int(data.get("sessions", 0)),
            last=dict(last) if isinstance(last, Mapping) else None,
        )


def aggregate(records: Iterable[SessionRecord]) -> dict[str, Totals]:
    """Totals per bucket of some records."""
    totals: dict[str, Totals] = {}
    for record in records:
        for bucket in buckets_of(record):
            totals.setdefault(bucket, Totals()).add(record)
    return totals


def merge_all(parts: Iterable[Mapping[str, Totals]]) -> dict[str, Totals]:
    """The sum of several bucket maps."""
    merged: dict[str, Totals] = {}
    for part in parts:
        for bucket, totals in part.items():
            merged.setdefault(bucket, Totals()).merge(totals)
    return merged
