"""The engine's whole mutable state, serialisable so a session survives a restart.

The Home Assistant side persists :meth:`EngineSnapshot.to_dict` whenever the engine
says so and hands it back to ``SessionEngine.restore`` after a restart or crash.
Floats are kept unrounded, so a restored engine continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from .directory import Attribution
from .energy import EnergyMeter
from .records import DataQuality, PriceInterval, from_iso, to_iso
from .windows import ChargingWindows


class Phase(StrEnum):
    """Where the engine stands for its charger."""

    IDLE = "idle"  # no car
    WAITING = "waiting"  # a car is plugged in; no card and no energy yet
    ACTIVE = "active"  # a session is running
    CLOSED = "closed"  # the session was closed by hand; waiting for the car to leave


@dataclass(slots=True, kw_only=True)
class ActiveSession:
    """The connection in progress; a session once ``started_at`` is set."""

    id: str
    plugged_in_at: datetime
    started_at: datetime | None = None
    attribution: Attribution | None = None
    meter: EnergyMeter = field(default_factory=EnergyMeter)
    windows: ChargingWindows = field(default_factory=ChargingWindows)
    cost: float | None = None  # None until some energy has been priced
    currency: str | None = None
    unpriced_kwh: float = 0.0
    intervals: dict[str, PriceInterval] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    power_w: float | None = None  # the last reading
    max_power_w: float | None = None
    charging_seen: bool = False  # energy flow was reported at some point
    flags: set[DataQuality] = field(default_factory=set)
    last_event_at: datetime | None = None
    last_event_key: tuple[float, float | None, bool, str | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "id": self.id,
            "plugged_in_at": to_iso(self.plugged_in_at),
            "started_at": to_iso(self.started_at),
            "attribution": self.attribution.to_dict() if self.attribution else None,
            "meter": self.meter.to_dict(),
            "windows": self.windows.to_dict(),
            "cost": self.cost,
            "currency": self.currency,
            "unpriced_kwh": self.unpriced_kwh,
            "intervals": [[key, i.to_dict()] for key, i in self.intervals.items()],
            "sources": sorted(self.sources),
            "power_w": self.power_w,
            "max_power_w": self.max_power_w,
            "charging_seen": self.charging_seen,
            "flags": sorted(flag.value for flag in self.flags),
            "last_event_at": to_iso(self.last_event_at),
            "last_event_key": list(self.last_event_key) if self.last_event_key else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActiveSession:
        """Inverse of :meth:`to_dict`."""
        plugged_in_at = from_iso(data["plugged_in_at"])
        if plugged_in_at is None:
            raise ValueError("snapshot without plug-in time")
        key = data.get("last_event_key")
        return cls(
            id=str(data["id"]),
            plugged_in_at=plugged_in_at,
            started_at=from_iso(data.get("started_at")),
            attribution=Attribution.from_dict(data["attribution"])
            if data.get("attribution")
            else None,
            meter=EnergyMeter.from_dict(data.get("meter", {})),
            windows=ChargingWindows.from_dict(data.get("windows", {})),
            cost=data.get("cost"),
            currency=data.get("currency"),
            unpriced_kwh=float(data.get("unpriced_kwh", 0.0)),
            intervals={str(k): PriceInterval.from_dict(v) for k, v in data.get("intervals", ())},
            sources=set(data.get("sources", ())),
            power_w=data.get("power_w"),
            max_power_w=data.get("max_power_w"),
            charging_seen=bool(data.get("charging_seen", False)),
            flags={DataQuality(flag) for flag in data.get("flags", ())},
            last_event_at=from_iso(data.get("last_event_at")),
            last_event_key=(float(key[0]), key[1], bool(key[2]), key[3]) if key else None,
        )


@dataclass(slots=True, kw_only=True)
class EngineSnapshot:
    """Everything the engine knows about one charger."""

    VERSION: ClassVar[int] = 1

    charger_id: str
    phase: Phase = Phase.IDLE
    last_sample_at: datetime | None = None
    last_connected_at: datetime | None = None
    tag_seen: bool = False  # a tag reading was observed at least once
    last_tag: str | None = None
    last_transaction: str | None = None
    pending_tag: str | None = None  # presented and not yet used by a session
    pending_tag_at: datetime | None = None
    awaiting_first_reading: bool = False  # restored; nothing known observed since
    session: ActiveSession | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "version": self.VERSION,
            "charger_id": self.charger_id,
            "phase": self.phase.value,
            "last_sample_at": to_iso(self.last_sample_at),
            "last_connected_at": to_iso(self.last_connected_at),
            "tag_seen": self.tag_seen,
            "last_tag": self.last_tag,
            "last_transaction": self.last_transaction,
            "pending_tag": self.pending_tag,
            "pending_tag_at": to_iso(self.pending_tag_at),
            "awaiting_first_reading": self.awaiting_first_reading,
            "session": self.session.to_dict() if self.session else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineSnapshot:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on another version."""
        if data.get("version") != cls.VERSION:
            raise ValueError(f"unsupported snapshot version: {data.get('version')!r}")
        return cls(
            charger_id=str(data["charger_id"]),
            phase=Phase(data.get("phase", Phase.IDLE)),
            last_sample_at=from_iso(data.get("last_sample_at")),
            last_connected_at=from_iso(data.get("last_connected_at")),
            tag_seen=bool(data.get("tag_seen", False)),
            last_tag=data.get("last_tag"),
            last_transaction=data.get("last_transaction"),
            pending_tag=data.get("pending_tag"),
            pending_tag_at=from_iso(data.get("pending_tag_at")),
            awaiting_first_reading=bool(data.get("awaiting_first_reading", False)),
            session=ActiveSession.from_dict(data["session"]) if data.get("session") else None,
        )
