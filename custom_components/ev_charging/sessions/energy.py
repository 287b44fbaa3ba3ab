"""Energy of one connection from the charger's counters, by deltas only.

Two counters may be available: the backend's per-session counter (preferred) and the
lifetime counter. Only differences between readings are ever counted, so a lifetime
counter can never be billed as a session, and a counter missing at plug-in simply
starts its reference later. Each counter keeps its own reference and the energy the
meter counted since then from the other counter, so switching between counters (one
goes unavailable for a while) neither loses nor double-counts energy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, auto
from typing import Any

from .records import DataQuality, from_iso, to_iso

RESET_EPSILON_KWH = 0.01  # drops smaller than this are rounding jitter, not a reset
SLACK_KWH = 0.05  # counter resolution and clock jitter allowed on top of max power
_WH_FACTOR = 0.001
_SPAN_EPSILON_KWH = 1e-9  # float noise in the running total


class _Kind(Enum):
    NO_READING = auto()
    BASELINE = auto()  # first reading: a reference, no energy yet
    OK = auto()
    JITTER = auto()
    DROP = auto()
    IMPLAUSIBLE = auto()


@dataclass(slots=True)
class _Reading:
    kind: _Kind
    kwh: float = 0.0  # energy since the reference (scaled), for OK / IMPLAUSIBLE


@dataclass(slots=True, kw_only=True)
class CounterTrack:
    """Reference of one counter: raw value, when it was taken, scale, energy counted since."""

    ref: float | None = None
    ref_at: datetime | None = None
    scale: float = 1.0  # 0.001 once the counter is known to report Wh
    counted: float = 0.0  # kWh the meter counted since ``ref`` (from the other counter)

    def read(self, value: float | None, now: datetime, max_power_w: float) -> _Reading:
        """Classify a reading against the reference."""
        if value is None:
            return _Reading(_Kind.NO_READING)
        if self.ref is None or self.ref_at is None:
            return _Reading(_Kind.BASELINE)
        delta = (value - self.ref) * self.scale
        if delta < -RESET_EPSILON_KWH:
            return _Reading(_Kind.DROP)
        if delta < 0:
            return _Reading(_Kind.JITTER)
        if delta > allowed_kwh(max_power_w, (now - self.ref_at).total_seconds()):
            return _Reading(_Kind.IMPLAUSIBLE, delta)
        return _Reading(_Kind.OK, delta)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "ref": self.ref,
            "ref_at": to_iso(self.ref_at),
            "scale": self.scale,
            "counted": self.counted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CounterTrack:
        """Inverse of :meth:`to_dict`."""
        return cls(
            ref=data.get("ref"),
            ref_at=from_iso(data.get("ref_at")),
            scale=float(data.get("scale", 1.0)),
            counted=float(data.get("counted", 0.0)),
        )


def allowed_kwh(max_power_w: float, seconds: float) -> float:
    """The most energy a charger at ``max_power_w`` can deliver in ``seconds`` (+ slack)."""
    return max_power_w / 1000 * max(seconds, 0.0) / 3600 + SLACK_KWH


@dataclass(slots=True, frozen=True)
class MeterStep:
    """Energy counted by one reading, and what was noticed doing so."""

    energy_kwh: float
    flags: frozenset[DataQuality] = frozenset()


@dataclass(slots=True, kw_only=True)
class EnergyMeter:
    """Counts the energy of one connection from session and lifetime counter readings."""

    session: CounterTrack = field(default_factory=CounterTrack)
    lifetime: CounterTrack = field(default_factory=CounterTrack)
    total_kwh: float = 0.0
    lifetime_first: float | None = None  # raw readings, scaled when reported
    lifetime_last: float | None = None
    # ``total_kwh`` when the lifetime counter was first / last read: the readings span the
    # session only when no energy was counted before the first or after the last.
    total_at_lifetime_first: float = 0.0
    total_at_lifetime_last: float | None = None

    @property
    def has_reference(self) -> bool:
        """Whether any counter has been read yet."""
        return self.session.ref is not None or self.lifetime.ref is not None

    @property
    def lifetime_span(self) -> tuple[float | None, float | None]:
        """First and last lifetime readings in kWh (for cross-checks).

        ``(None, None)`` when they do not span all the energy counted: a lifetime counter
        first read after energy had flowed, or silent until the end, moved by less than
        the session for no fault of the session.
        """
        scale = self.lifetime.scale
        first, last = self.lifetime_first, self.lifetime_last
        to = self.total_at_lifetime_last
        if first is None or last is None or to is None:
            return (None, None)
        if self.total_at_lifetime_first + (self.total_kwh - to) > _SPAN_EPSILON_KWH:
            return (None, None)
        return (first * scale, last * scale)

    def advance(
        self,
        session_kwh: float | None,
        lifetime_kwh: float | None,
        now: datetime,
        *,
        max_power_w: float,
        expected_kwh: float | None = None,
    ) -> MeterStep:
        """Count the energy since the previous readings.

        ``expected_kwh`` (from the reported power) confirms a Wh-for-kWh unit error when
        no second counter can.
        """
        if session_kwh is None and lifetime_kwh is None:
            return MeterStep(0.0)
        flags: set[DataQuality] = set()
        if lifetime_kwh is not None:
            if self.lifetime_first is None:
                self.lifetime_first = lifetime_kwh
            self.lifetime_last = lifetime_kwh
        sess = self.session.read(session_kwh, now, max_power_w)
        life = self.lifetime.read(lifetime_kwh, now, max_power_w)
        self._correct_units(self.session, sess, life, expected_kwh, flags)
        self._correct_units(self.lifetime, life, sess, expected_kwh, flags)
        step = self._choose(sess, life, session_kwh, now, max_power_w, flags)
        self._rebase(self.session, sess, session_kwh, now, step)
        self._rebase(self.lifetime, life, lifetime_kwh, now, step)
        self.total_kwh += step
        if lifetime_kwh is not None:
            if self.total_at_lifetime_last is None:
                self.total_at_lifetime_first = self.total_kwh
            self.total_at_lifetime_last = self.total_kwh
        return MeterStep(step, frozenset(flags))

    def _choose(
        self,
        sess: _Reading,
        life: _Reading,
        session_kwh: float | None,
        now: datetime,
        max_power_w: float,
        flags: set[DataQuality],
    ) -> float:
        life_step = max(0.0, life.kwh - self.lifetime.counted) if life.kind is _Kind.OK else None
        if sess.kind is _Kind.OK:
            return max(0.0, sess.kwh - self.session.counted)
        if sess.kind is _Kind.JITTER:
            return 0.0
        if sess.kind is _Kind.DROP:
            if self.total_kwh > 0:
                flags.add(DataQuality.COUNTER_RESET)
            if life_step is not None:
                if life_step > 0:
                    flags.add(DataQuality.ENERGY_FROM_LIFETIME_COUNTER)
                return life_step
            if self.total_kwh <= 0 or session_kwh is None:
                return 0.0  # the charger opened its own session before any energy flowed
            # No second counter: the session counter restarted from zero.
            restarted = session_kwh * self.session.scale
            ref_at = self.session.ref_at or now
            if restarted > allowed_kwh(max_power_w, (now - ref_at).total_seconds()):
                flags.add(DataQuality.IMPLAUSIBLE_ENERGY_STEP)
                return 0.0
            return restarted
        if life_step is not None:
            if life_step > 0:
                flags.add(DataQuality.ENERGY_FROM_LIFETIME_COUNTER)
            return life_step
        if life.kind is _Kind.DROP:
            flags.add(DataQuality.COUNTER_RESET)
        if self._switched_counter(sess, life, session_kwh):
            flags.add(DataQuality.ENERGY_GAP)
        return 0.0

    def _switched_counter(self, sess: _Reading, life: _Reading, session_kwh: float | None) -> bool:
        """A counter appeared while the one we had went silent: this step is lost.

        Not a session counter appearing at zero: it starts with the session, before any
        energy of it (a charger whose lifetime register is not shown during a session).
        """
        return (
            sess.kind is _Kind.BASELINE
            and life.kind is _Kind.NO_READING
            and self.lifetime.ref is not None
            and session_kwh != 0
        ) or (
            life.kind is _Kind.BASELINE
            and sess.kind is _Kind.NO_READING
            and self.session.ref is not None
        )

    @staticmethod
    def _correct_units(
        track: CounterTrack,
        reading: _Reading,
        other: _Reading,
        expected_kwh: float | None,
        flags: set[DataQuality],
    ) -> None:
        """Accept a 1000x jump as Wh reported as kWh when the other counter or power agree."""
        if reading.kind is not _Kind.IMPLAUSIBLE or track.scale != 1.0:
            return
        candidate = reading.kwh * _WH_FACTOR
        if other.kind is _Kind.OK:
            witness = other.kwh
            confirmed = abs(candidate - witness) <= 0.1 * witness + 0.01
        elif expected_kwh is not None:
            confirmed = abs(candidate - expected_kwh) <= 0.5 * expected_kwh + 0.01
        else:
            confirmed = False
        if confirmed:
            track.scale = _WH_FACTOR
            reading.kind, reading.kwh = _Kind.OK, candidate
            flags.add(DataQuality.ENERGY_UNIT_CORRECTED)
        else:
            flags.add(DataQuality.IMPLAUSIBLE_ENERGY_STEP)

    @staticmethod
    def _rebase(
        track: CounterTrack,
        reading: _Reading,
        value: float | None,
        now: datetime,
        step: float,
    ) -> None:
        if value is None or reading.kind is _Kind.JITTER:
            # Not re-read: remember what was counted meanwhile, so its next delta
            # does not count it twice.
            track.counted += step
            return
        track.ref, track.ref_at, track.counted = value, now, 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "session": self.session.to_dict(),
            "lifetime": self.lifetime.to_dict(),
            "total_kwh": self.total_kwh,
            "lifetime_first": self.lifetime_first,
            "lifetime_last": self.lifetime_last,
            "total_at_lifetime_first": self.total_at_lifetime_first,
            "total_at_lifetime_last": self.total_at_lifetime_last,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnergyMeter:
        """Inverse of :meth:`to_dict` (a snapshot of an older version spans the session)."""
        total = float(data.get("total_kwh", 0.0))
        last = data.get("lifetime_last")
        return cls(
            session=CounterTrack.from_dict(data.get("session", {})),
            lifetime=CounterTrack.from_dict(data.get("lifetime", {})),
            total_kwh=total,
            lifetime_first=data.get("lifetime_first"),
            lifetime_last=last,
            total_at_lifetime_first=float(data.get("total_at_lifetime_first", 0.0)),
            total_at_lifetime_last=data.get(
                "total_at_lifetime_last", None if last is None else total
            ),
        )
