"""The AMPECO cloud backend: one ChargerInfo per EVSE of the charge points picked.

Pure: no Home Assistant imports. One poll is one request (the charge-point list
embeds every EVSE's live session); the session history, which gives the energy of
today and of this month, is read at most hourly and right after a session ends.

What the driver API does not offer, the backend does not pretend to:

- no ``SET_CURRENT``: no write call for the current limit has been seen in any
  public client of the driver API, so ``async_set_current`` keeps raising
  :class:`BackendUnsupportedError`; the configured limit is only read
  (``CURRENT_LIMIT``, from ``max_current_a``);
- no ``LIFETIME_ENERGY``: the API serves no energy counter, only per-session
  energy, the history and the previous month's total;
- no measured current or voltage: the payload has neither.

Session energy, duration, start and cost keep the last session's figures after it
ends (the final ones from the history once read), as a wallbox display does.

Energy of today and of this month sums the sessions by the day they started (in
``time_zone``), so a session that runs past midnight counts for the day it began.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
import logging
from typing import Any, ClassVar

from ...models import Capability, ChargerInfo, ChargerState, ChargerStatus
from ..base import (
    Backend,
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendInvalidDataError,
    PollIntervals,
)
from .api import AmpecoClient
from .payloads import AmpecoChargePoint, AmpecoEvse, AmpecoSession
from .statuses import evse_status

_LOGGER = logging.getLogger(__name__)

ACTIVE_INTERVAL = timedelta(seconds=30)
IDLE_INTERVAL = timedelta(minutes=5)
BURST_INTERVAL = timedelta(seconds=5)
BURST_DURATION = timedelta(seconds=30)
HISTORY_INTERVAL = 3600.0  # s between reads of the session history
HISTORY_RETRY = 300.0  # s before reading it again after a failure

MANUFACTURER = "AMPECO"
BASE_CAPABILITIES = (
    Capability.START_STOP
    | Capability.POWER
    | Capability.SESSION_ENERGY
    | Capability.SESSION_DURATION
)


def charger_id_for(charge_point_id: str, evse_id: str) -> str:
    """The stable id of one EVSE: its charge point's id and its internal EVSE id."""
    return f"{charge_point_id}_{evse_id}"


@dataclass(frozen=True, slots=True)
class _Port:
    charge_point_id: str
    evse_id: str


@dataclass(frozen=True, slots=True)
class _SessionEnergy:
    evse_identifier: str | None
    started_at: datetime
    energy_kwh: float


class AmpecoBackend(Backend):
    """A cloud account's personal charge points, one charger per EVSE."""

    key: ClassVar[str] = "ampeco"

    def __init__(
        self,
        client: AmpecoClient,
        charge_point_ids: Sequence[str] | None = None,
        *,
        time_zone: tzinfo = UTC,
        utcnow: Callable[[], datetime] | None = None,
    ) -> None:
        """``charge_point_ids`` are the ones the user picked (``None``: all of them)."""
        super().__init__()
        self.client = client
        self._picked = tuple(charge_point_ids) if charge_point_ids is not None else None
        self._tz = time_zone
        self._utcnow = utcnow or (lambda: datetime.now(UTC))
        self._ports: dict[str, _Port] = {}
        self._points: dict[str, AmpecoChargePoint] = {}
        self._sessions: dict[str, _SessionEnergy] = {}  # by session id
        self._last_sessions: dict[str, AmpecoSession] = {}  # by charger id, kept after the end
        self._live_sessions: set[str] = set()
        self._history_supported = True
        self._history_due: float | None = None  # None: read at setup, schedule from 1st poll

    # --- contract --------------------------------------------------------------------

    @property
    def intervals(self) -> PollIntervals:
        """30 s with a car connected, 5 min idle, 5 s after a command; never before
        the client's back-off ends."""
        wait = timedelta(seconds=self.client.backoff_remaining())
        return PollIntervals(
            active=max(ACTIVE_INTERVAL, wait),
            idle=max(IDLE_INTERVAL, wait),
            burst=max(BURST_INTERVAL, wait),
            burst_duration=BURST_DURATION,
        )

    async def async_setup(self) -> Sequence[ChargerInfo]:
        """Read the charge points, keep the picked ones and probe the history."""
        points = await self.client.async_list_charge_points()
        if not points:
            raise BackendInvalidDataError("no_charge_points")
        chosen = [p for p in points if self._picked is None or p.id in self._picked]
        if not chosen:
            raise BackendInvalidDataError("charge_point_not_found")
        self._history_supported = await self._async_probe_history()
        self.chargers = {}
        self._ports = {}
        for point in chosen:
            self._points[point.id] = point
            first: str | None = None
            for index, evse in enumerate(point.evses):
                info = self._charger_info(point, evse, index, first)
                first = first or info.charger_id
                self.chargers[info.charger_id] = info
                self._ports[info.charger_id] = _Port(point.id, evse.id)
        return list(self.chargers.values())

    async def async_fetch(self, now: float) -> dict[str, ChargerState]:
        """One poll of the charge-point list; the history when due."""
        points = await self.client.async_list_charge_points()
        self._points = {point.id: point for point in points}
        live = self._note_live_sessions(points)
        ended = self._live_sessions - live
        self._live_sessions = live
        if self._history_supported:
            if self._history_due is None:
                self._history_due = now + HISTORY_INTERVAL
            if ended or now >= self._history_due:
                await self._async_refresh_history(now)
        return {charger_id: self._state(port) for charger_id, port in self._ports.items()}

    async def async_start(self, charger_id: str) -> None:
        """Start a session on the EVSE (406: ``already_active``)."""
        evse = self._evse(charger_id)
        await self.client.async_start_session(evse)

    async def async_stop(self, charger_id: str) -> None:
        """End the EVSE's session; re-reads the charge point when no session is known."""
        port = self._port(charger_id)
        evse = self._evse(charger_id)
        if evse.active_session is None:
            point = await self.client.async_get_charge_point(port.charge_point_id)
            self._points[point.id] = point
            evse = self._evse(charger_id)
        session = evse.active_session
        if session is None:
            raise BackendCommandRejectedError("no_active_session", user_error=True)
        await self.client.async_stop_session(session.id)

    def diagnostics(self) -> Mapping[str, Any]:
        """The last raw payloads and the client's state (the caller redacts)."""
        return {
            "client": self.client.diagnostics(),
            "history_supported": self._history_supported,
            "payloads": dict(self.client.last_payloads),
        }

    # --- helpers ---------------------------------------------------------------------

    def _charger_info(
        self, point: AmpecoChargePoint, evse: AmpecoEvse, index: int, first: str | None
    ) -> ChargerInfo:
        capabilities = BASE_CAPABILITIES
        if self._history_supported:
            capabilities |= Capability.ENERGY_TODAY
        if point.max_current_a is not None:
            capabilities |= Capability.CURRENT_LIMIT
        several = len(point.evses) > 1
        return ChargerInfo(
            charger_id=charger_id_for(point.id, evse.id),
            serial=point.id,
            name=f"{point.name} {evse.identifier or index + 1}" if several else point.name,
            manufacturer=MANUFACTURER,
            model=evse.connector_name,
            firmware=point.firmware,
            connector=index + 1,
            min_current=point.allowed_min_current_a or 6.0,
            max_current=point.allowed_max_current_a or point.max_current_a or 16.0,
            capabilities=capabilities,
            via_charger_id=first,
        )

    def _port(self, charger_id: str) -> _Port:
        try:
            return self._ports[charger_id]
        except KeyError:
            raise BackendCommandRejectedError("unknown_charger", charger_id) from None

    def _evse(self, charger_id: str) -> AmpecoEvse:
        port = self._port(charger_id)
        point = self._points.get(port.charge_point_id)
        evse = next((e for e in point.evses if e.id == port.evse_id), None) if point else None
        if evse is None:
            raise BackendCommandRejectedError("charger_missing", charger_id)
        return evse

    def _note_live_sessions(self, points: Sequence[AmpecoChargePoint]) -> set[str]:
        """Remember the energy of every running session; return their ids."""
        live: set[str] = set()
        for point in points:
            for evse in point.evses:
                session = evse.active_session
                if session is None:
                    continue
                live.add(session.id)
                self._remember(session, evse.identifier)
                self._last_sessions[charger_id_for(point.id, evse.id)] = session
        return live

    def _remember(self, session: AmpecoSession, evse_identifier: str | None) -> None:
        if session.started_at is None or session.energy_kwh is None:
            return
        known = self._sessions.get(session.id)
        energy = session.energy_kwh
        if known is not None:
            energy = max(energy, known.energy_kwh)  # session energy never falls
        self._sessions[session.id] = _SessionEnergy(
            evse_identifier or session.evse_identifier, session.started_at, energy
        )

    async def _async_probe_history(self) -> bool:
        """Whether the tenant serves the session history (it feeds ENERGY_TODAY)."""
        try:
            await self._async_read_history()
        except BackendCommandRejectedError as err:
            _LOGGER.debug("No session history on this tenant (%s)", err.reason)
            return False
        return True

    async def _async_refresh_history(self, now: float) -> None:
        """Read the history during a poll; a failure keeps the last totals."""
        try:
            await self._async_read_history()
        except (
            BackendConnectionError,
            BackendCommandRejectedError,
            BackendInvalidDataError,
        ) as err:
            # the live data is fresh; the totals wait (ended sessions are remembered)
            _LOGGER.debug("Session history not read: %s", err)
            self._history_due = now + HISTORY_RETRY
        else:
            self._history_due = now + HISTORY_INTERVAL

    async def _async_read_history(self) -> None:
        today = self._today()
        month_start = today.replace(day=1)
        # a day early: the cloud may cut the days in another time zone than ours
        entries = await self.client.async_get_session_history(
            month_start - timedelta(days=1), today + timedelta(days=1)
        )
        final = {entry.session.id: entry.session for entry in entries}
        for session in final.values():
            self._remember(session, None)
        for charger_id, last in self._last_sessions.items():
            if last.id not in self._live_sessions:
                # an ended session: the history holds its final figures
                self._last_sessions[charger_id] = final.get(last.id, last)
        cutoff = datetime(month_start.year, month_start.month, 1, tzinfo=self._tz)
        self._sessions = {
            sid: known for sid, known in self._sessions.items() if known.started_at >= cutoff
        }

    def _today(self) -> date:
        return self._utcnow().astimezone(self._tz).date()

    def _energy_since(self, evse: AmpecoEvse, day: date, month: bool) -> float:
        ids = {evse.identifier, evse.id} - {None}
        total = 0.0
        for known in self._sessions.values():
            if known.evse_identifier not in ids:
                continue
            started = known.started_at.astimezone(self._tz).date()
            same = (started.year, started.month) == (day.year, day.month)
            if same and (month or started == day):
                total += known.energy_kwh
        return round(total, 3)

    def _state(self, port: _Port) -> ChargerState:
        point = self._points.get(port.charge_point_id)
        evse = next((e for e in point.evses if e.id == port.evse_id), None) if point else None
        if point is None or evse is None:
            return ChargerState(status=ChargerStatus.OFFLINE, error="not_in_account")
        status = evse_status(point, evse)
        session = evse.active_session
        extra: dict[str, object] = {"evse_identifier": evse.identifier}
        if point.last_month_energy_kwh is not None:
            extra["last_month_energy"] = point.last_month_energy_kwh
        if evse.max_power_w is not None:
            extra["max_power"] = evse.max_power_w
        energy_today: float | None = None
        if self._history_supported:
            today = self._today()
            energy_today = self._energy_since(evse, today, month=False)
            extra["energy_this_month"] = self._energy_since(evse, today, month=True)
        power: float | None
        if session is not None:
            power = session.power_w
            extra.update(
                session_id=session.id,
                session_status=session.status,
                charging_state=session.charging_state,
            )
        else:
            # no session: no energy flows, unless we cannot tell at all
            known = status not in (ChargerStatus.OFFLINE, ChargerStatus.UNKNOWN)
            power = 0.0 if known else None
        last = evse.session or self._last_sessions.get(charger_id_for(point.id, evse.id))
        if last is not None and last.amount is not None:
            # the cost stays on show after the end, as the session energy does
            extra["session_amount"] = last.amount
            extra["session_currency"] = last.currency
        return ChargerState(
            status=status,
            vendor_status=evse.status,
            power=power,
            current_limit=point.max_current_a,
            session_energy=last.energy_kwh if last else None,
            session_duration=last.duration_s if last else None,
            session_start=last.started_at if last else None,
            energy_today=energy_today,
            transaction_id=session.id if session else None,
            charging_enabled=session is not None,  # a running session: charging was asked for
            extra=extra,
        )
