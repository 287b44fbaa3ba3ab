"""Charging windows: the stretches of a session during which energy actually flowed.

A window opens at the first sample that shows charging and closes at the first one
that does not (or earlier, when the engine can tell from the energy when it stopped),
so the charging time never includes an idle tail or a timer delay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .records import from_iso, to_iso


@dataclass(slots=True, kw_only=True)
class ChargingWindows:
    """Aggregates of the windows of one session (per-window detail is not needed)."""

    open_since: datetime | None = None
    closed_seconds: float = 0.0
    count: int = 0
    first_start: datetime | None = None
    last_end: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Whether energy is flowing now."""
        return self.open_since is not None

    def open(self, when: datetime) -> None:
        """Start a window at ``when`` (no-op when one is open)."""
        if self.open_since is not None:
            return
        self.open_since = when
        self.count += 1
        if self.first_start is None:
            self.first_start = when

    def close(self, when: datetime) -> None:
        """End the open window at ``when`` (never before it opened)."""
        if self.open_since is None:
            return
        end = max(when, self.open_since)
        self.closed_seconds += (end - self.open_since).total_seconds()
        self.last_end = end
        self.open_since = None

    def seconds(self, now: datetime) -> float:
        """Charging seconds so far, counting an open window up to ``now``."""
        if self.open_since is None:
            return self.closed_seconds
        return self.closed_seconds + max(0.0, (now - self.open_since).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "open_since": to_iso(self.open_since),
            "closed_seconds": self.closed_seconds,
            "count": self.count,
            "first_start": to_iso(self.first_start),
            "last_end": to_iso(self.last_end),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChargingWindows:
        """Inverse of :meth:`to_dict`."""
        return cls(
            open_since=from_iso(data.get("open_since")),
            closed_seconds=float(data.get("closed_seconds", 0.0)),
            count=int(data.get("count", 0)),
            first_start=from_iso(data.get("first_start")),
            last_end=from_iso(data.get("last_end")),
        )
