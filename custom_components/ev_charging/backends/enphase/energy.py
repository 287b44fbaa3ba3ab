"""Energy arithmetic: today's sessions trimmed to the local day, and the power estimate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
import math
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .data import EnphaseSession

# With nothing known about the charger, no estimate exceeds the largest IQ charger.
MAX_POWER_W = 19_200.0
_ENERGY_EPSILON_KWH = 0.0005  # half a Wh: below the cloud's resolution


@lru_cache(maxsize=8)
def zone(name: str | None) -> tzinfo:
    """The IANA zone ``name``; UTC when unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_day(moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Start and end of the local day holding ``moment`` (23 or 25 h on DST days)."""
    day = moment.astimezone(tz).date()
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def share_inside(start: datetime, end: datetime, window: tuple[datetime, datetime]) -> float:
    """The part of ``[start, end]`` inside ``window`` (an instant counts whole or not at all)."""
    low, high = window
    if end <= start:
        return 1.0 if low <= start < high else 0.0
    inside = (min(end, high) - max(start, low)).total_seconds()
    return max(inside, 0.0) / (end - start).total_seconds()


def energy_in_window(
    sessions: Iterable[EnphaseSession],
    window: tuple[datetime, datetime],
    now: datetime,
) -> float:
    """kWh delivered inside ``window`` (e.g. :func:`local_day`).

    A session crossing a boundary counts the share of its time inside the window
    (the history gives no finer profile); an open session runs until ``now``.
    """
    total = 0.0
    for session in sessions:
        if session.energy_kwh is None or session.start is None:
            continue
        end = session.end or max(now, session.start)
        total += session.energy_kwh * share_inside(session.start, end, window)
    return round(total, 3)


def sessions_in_window(
    sessions: Iterable[EnphaseSession],
    window: tuple[datetime, datetime],
    now: datetime,
) -> list[dict[str, object]]:
    """The sessions touching ``window``, each cut to it (JSON-safe, oldest first).

    ``energy_kwh`` is the share inside the window (as :func:`energy_in_window` counts
    it) and ``trimmed`` says whether the session began or ended outside it; an open
    session has ``end`` ``None``.
    """
    low, high = window
    found: list[dict[str, object]] = []
    dated = sorted(
        ((s.start, s) for s in sessions if s.start is not None), key=lambda item: item[0]
    )
    for start, session in dated:
        end = session.end or max(now, start)
        share = share_inside(start, end, window)
        if share <= 0.0:
            continue
        energy = session.energy_kwh
        found.append(
            {
                "start": max(start, low).isoformat(),
                "end": min(end, high).isoformat() if session.end is not None else None,
                "energy_kwh": None if energy is None else round(energy * share, 3),
                "trimmed": start < low or end > high,
            }
        )
    return found


def max_power_w(amps: float | None, voltage: float, phases: int | None) -> float:
    """What the charger can deliver: amps x voltage x phase factor.

    Three phases multiply by 3 for a phase-to-neutral voltage (230 V) and by sqrt(3)
    for a line-to-line one (400 V).
    """
    if amps is None:
        return MAX_POWER_W
    factor = 1.0
    if phases == 3:
        factor = math.sqrt(3) if voltage >= 300 else 3.0
    return amps * voltage * factor


@dataclass(slots=True)
class _Sample:
    at: datetime
    energy_kwh: float


class PowerEstimator:
    """Charging power of one charger, estimated (the cloud reports no power at all).

    Preferred: the energy delta between the charger's last two reports that raised
    the session energy (``e_c`` of the status poll, stamped with ``lst_rpt_at``),
    which is a measured average over the last report interval. The lifetime counter
    would give the same but only comes with the summary, polled every 10 minutes,
    so its deltas lag; the session counter comes with every status poll.

    Until a session has shown two reports (the first minutes), the estimate is the
    offered current x voltage x phases, which assumes the car takes all it is
    offered. Once energy has risen in the session, a flat counter over
    ``flat_after_s`` of newer reports reads as 0 W. Every value is capped at what
    the charger can deliver; not charging is 0 W.
    """

    def __init__(self) -> None:
        self._session: datetime | None = None
        self._previous: _Sample | None = None
        self._latest: _Sample | None = None
        self.method = "idle"

    def reset(self) -> None:
        """Forget the samples (charging stopped or a new session began)."""
        self._previous = self._latest = None

    def update(
        self,
        *,
        charging: bool,
        session_start: datetime | None,
        energy_kwh: float | None,
        reported_at: datetime | None,
        fallback_w: float | None,
        cap_w: float,
        flat_after_s: float,
    ) -> float | None:
        """The estimate in W for this poll (``None`` when nothing supports one)."""
        if not charging:
            self.reset()
            self.method = "idle"
            return 0.0
        if session_start != self._session:
            self._session = session_start
            self.reset()
        if energy_kwh is not None and reported_at is not None:
            self._add(_Sample(reported_at, energy_kwh))
        if self._previous is not None and self._latest is not None and reported_at is not None:
            if (reported_at - self._latest.at).total_seconds() > flat_after_s:
                self.method = "energy_flat"
                return 0.0
            hours = (self._latest.at - self._previous.at).total_seconds() / 3600
            self.method = "energy_delta"
            watts = (self._latest.energy_kwh - self._previous.energy_kwh) * 1000 / hours
            return round(min(watts, cap_w), 1)
        if fallback_w is None:
            self.method = "unknown"
            return None
        self.method = "amps_voltage"
        return round(min(fallback_w, cap_w), 1)

    def _add(self, sample: _Sample) -> None:
        latest = self._latest
        if latest is None or sample.energy_kwh < latest.energy_kwh - _ENERGY_EPSILON_KWH:
            self._previous, self._latest = None, sample  # first sample, or the counter restarted
        elif sample.energy_kwh > latest.energy_kwh + _ENERGY_EPSILON_KWH and sample.at > latest.at:
            self._previous, self._latest = latest, sample
