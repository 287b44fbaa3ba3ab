"""The Enphase IQ EV Charger 2 backend: the Enlighten client mapped onto the charger model.

One backend per site. Each poll reads the site's status (one request for every
charger); the summary (amps range, voltage, firmware, lifetime energy), the charge
mode preference and today's sessions are refreshed on their own, slower, schedules
and failures there keep the last values instead of failing the poll.

Vendor quirks handled here:

- There is no "set current" call: the amps go with start. Changing them while a
  session runs means stop, wait ``restart_delay_s``, start again; meanwhile
  ``extra["pending_action"]`` is ``"restart"`` and a second change only updates the
  amps of the pending restart.
- Green and Smart modes pick the current themselves: no amps are sent then, and
  setting a current is refused.
- Restart-resume: when charging was asked for (:attr:`EnphaseBackend.charging_requested`,
  which the caller may persist), the car is plugged, the charger pauses on its side
  (``SUSPENDED_EVSE``) and the mode is neither Green nor Smart, start is sent again,
  at most once per ``resume_interval_s`` and at most three times until charging is
  seen again. Unplugging clears the request.
- The cloud reports no power: it is estimated and flagged ``power_estimated``, from
  the session energy the charger reports (see :class:`.energy.PowerEstimator`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, ClassVar, Final

import aiohttp

from ...models import Capability, ChargerInfo, ChargerState, ChargerStatus
from ..base import (
    Backend,
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendError,
    BackendInvalidDataError,
    BackendUnsupportedError,
    PollIntervals,
)
from .api import EnphaseClient
from .auth import AuthState
from .const import DEFAULT_BASE_URL, DEFAULT_ENTREZ_URL, DEFAULT_TIMEOUT_S
from .data import (
    ChargeMode,
    EnphaseChargeModes,
    EnphaseChargerStatus,
    EnphaseSession,
    EnphaseStatusSnapshot,
    EnphaseSummary,
)
from .energy import (
    PowerEstimator,
    energy_in_window,
    local_day,
    max_power_w,
    sessions_in_window,
    zone,
)

# The vendor's own floor (about 600 requests per hour per account): never poll faster.
MIN_FAST_INTERVAL_S: Final = 30.0
MIN_SLOW_INTERVAL_S: Final = 60.0
MAX_RESUME_ATTEMPTS: Final = 3
DEFAULT_CHARGE_MODES: Final = ("manual", "scheduled", "green")

CAPABILITIES: Final = (
    Capability.START_STOP
    | Capability.SET_CURRENT
    | Capability.CHARGE_MODE
    | Capability.SESSION_ENERGY
    | Capability.SESSION_DURATION
    | Capability.LIFETIME_ENERGY
    | Capability.ENERGY_TODAY
    | Capability.POWER
)

_S = ChargerStatus
#: Vendor connector status -> (status without a car, status with a car plugged in).
#: A charger the cloud cannot reach is OFFLINE and a faulted one FAULTED whatever
#: its connector says; an absent or unknown connector status falls back on the
#: ``charging``/``pluggedIn`` flags.
STATUS_TABLE: Final[Mapping[str, tuple[ChargerStatus, ChargerStatus]]] = {
    "AVAILABLE": (_S.AVAILABLE, _S.PLUGGED),
    "UNPLUGGED": (_S.AVAILABLE, _S.PLUGGED),
    "DISCONNECTED": (_S.AVAILABLE, _S.PLUGGED),
    "PREPARING": (_S.PLUGGED, _S.PLUGGED),
    "PLUGGED": (_S.PLUGGED, _S.PLUGGED),
    "CONNECTED": (_S.PLUGGED, _S.PLUGGED),
    "OCCUPIED": (_S.PLUGGED, _S.PLUGGED),
    "CHARGING": (_S.CHARGING, _S.CHARGING),
    "SUSPENDED_EV": (_S.SUSPENDED_EV, _S.SUSPENDED_EV),
    "SUSPENDED_EVSE": (_S.SUSPENDED_EVSE, _S.SUSPENDED_EVSE),
    "SUSPENDED": (_S.SUSPENDED_EVSE, _S.SUSPENDED_EVSE),  # a pause by the firmware
    "FINISHING": (_S.FINISHING, _S.FINISHING),
    "FAULTED": (_S.FAULTED, _S.FAULTED),
    "ERROR": (_S.FAULTED, _S.FAULTED),
}
_SESSION_ACTIVE: Final = frozenset({_S.CHARGING, _S.SUSPENDED_EV})
_ENERGY_FLOWING: Final = frozenset({_S.CHARGING, _S.FINISHING})


def map_status(status: EnphaseChargerStatus | None) -> ChargerStatus:
    """The normalized status of one charger of the poll (``None``: not in the poll)."""
    if status is None:
        return _S.UNKNOWN
    if status.connected is False:
        return _S.OFFLINE
    if status.faulted:
        return _S.FAULTED
    plugged = bool(status.plugged_in)
    row = STATUS_TABLE.get((status.connector_status or "").upper())
    if row is not None:
        return row[plugged]
    if status.charging:
        return _S.CHARGING
    return _S.PLUGGED if plugged else _S.AVAILABLE


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseOptions:
    """Tunables; the poll intervals are raised to the vendor minimums."""

    fast_interval_s: float = MIN_FAST_INTERVAL_S  # while a car is connected
    slow_interval_s: float = MIN_SLOW_INTERVAL_S
    nominal_voltage: float = 230.0  # when the summary has no operating voltage
    summary_interval_s: float = 600.0
    charge_mode_interval_s: float = 1800.0  # also re-read when the effective mode changes
    sessions_interval_s: float = 300.0  # while charging
    sessions_idle_interval_s: float = 3600.0
    restart_delay_s: float = 30.0
    resume_interval_s: float = 120.0

    @property
    def fast_s(self) -> float:
        """The fast interval, never below the vendor minimum."""
        return max(self.fast_interval_s, MIN_FAST_INTERVAL_S)

    @property
    def slow_s(self) -> float:
        """The slow interval: at least the minimum and at least the fast one."""
        return max(self.slow_interval_s, MIN_SLOW_INTERVAL_S, self.fast_s)


@dataclass(slots=True)
class _PendingRestart:
    amps: float
    stop_seen_at: float | None = None  # ``now`` of the first poll after the stop


@dataclass(slots=True)
class _Charger:
    """What the backend tracks per charger between polls."""

    status: EnphaseChargerStatus | None = None
    summary: EnphaseSummary | None = None
    modes: EnphaseChargeModes | None = None
    modes_due: float | None = None  # None: counted from the first poll
    seen_mode: int | None = None
    sessions: tuple[EnphaseSession, ...] = ()
    sessions_day: date | None = None
    sessions_read_at: float | None = None
    was_charging: bool = False
    lifetime_kwh: float | None = None
    power: PowerEstimator = field(default_factory=PowerEstimator)
    pending: _PendingRestart | None = None
    started_amps: float | None = None
    last_start_at: float | None = None
    resume_attempts: int = 0
    paused_by_limit: bool = False
    last_command_error: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class EnphaseBackend(Backend):
    """The chargers of one Enlighten site."""

    key: ClassVar[str] = "enphase"

    def __init__(
        self,
        client: EnphaseClient,
        site_id: str,
        *,
        serials: Collection[str] | None = None,
        options: EnphaseOptions | None = None,
        utcnow: Callable[[], datetime] | None = None,
        zone_resolver: Callable[[str | None], tzinfo] = zone,
    ) -> None:
        super().__init__()
        self.client = client
        self.site_id = str(site_id)
        self.options = options or EnphaseOptions()
        self._wanted = set(serials) if serials else None
        self._utcnow = utcnow or (lambda: datetime.now(UTC))
        self._zone = zone_resolver
        self._chargers: dict[str, _Charger] = {}
        self._snapshot: EnphaseStatusSnapshot | None = None
        self._summary_due: float | None = None
        self._last_now: float | None = None
        self._optional_errors: dict[str, str] = {}
        #: The last failure of any read (kept after recovery, for the health sensors).
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        #: When the live stream asked for ends (the poll clock, ``now``), if one runs.
        self.live_stream_until: float | None = None
        #: Per charger: charging was asked for (restart-resume); persist and restore freely.
        self.charging_requested: dict[str, bool] = {}
        #: Per charger: the amps to start with; persist and restore freely.
        self.requested_current: dict[str, float] = {}

    @classmethod
    def from_credentials(
        cls,
        session: aiohttp.ClientSession,
        email: str,
        password: str | None,
        site_id: str,
        *,
        serials: Collection[str] | None = None,
        base_url: str = DEFAULT_BASE_URL,
        entrez_url: str = DEFAULT_ENTREZ_URL,
        timeout: float = DEFAULT_TIMEOUT_S,
        auth_state: AuthState | None = None,
        options: EnphaseOptions | None = None,
    ) -> EnphaseBackend:
        """A backend with its own client (``session`` needs a cookie jar that keeps cookies)."""
        client = EnphaseClient(
            session,
            email,
            password,
            base_url=base_url,
            entrez_url=entrez_url,
            timeout=timeout,
            auth_state=auth_state,
        )
        return cls(client, site_id, serials=serials, options=options)

    @property
    def intervals(self) -> PollIntervals:
        """Fast while a car is connected, slow otherwise; bursts never beat the fast floor."""
        fast = timedelta(seconds=self.options.fast_s)
        return PollIntervals(
            active=fast,
            idle=timedelta(seconds=self.options.slow_s),
            burst=fast,
            burst_duration=timedelta(seconds=90),
        )

    # --- setup -------------------------------------------------------------------------

    async def async_setup(self) -> Sequence[ChargerInfo]:
        """Log in if needed, discover the site's chargers and describe them."""
        await self.client.async_ensure_login()
        summaries: tuple[EnphaseSummary, ...] = ()
        try:
            summaries = await self.client.async_get_summary(self.site_id)
        except (BackendConnectionError, BackendInvalidDataError) as err:
            self._optional_errors["summary"] = self._failed(err)
        snapshot = await self.client.async_get_status(self.site_id)
        self._snapshot = snapshot
        by_serial = {s.serial: s for s in summaries}
        serials = list(dict.fromkeys([*by_serial, *(c.serial for c in snapshot.chargers)]))
        if self._wanted is not None:
            serials = [sn for sn in serials if sn in self._wanted]
        if not serials:
            raise BackendInvalidDataError("no charger on this site")
        infos = []
        for serial in serials:
            charger = self._chargers.setdefault(serial, _Charger())
            charger.summary = by_serial.get(serial)
            charger.status = snapshot.charger(serial)
            charger.lifetime_kwh = charger.summary.lifetime_energy_kwh if charger.summary else None
            charger.seen_mode = charger.status.mode if charger.status else None
            await self._refresh_modes(serial, charger, None)
            infos.append(self._info(serial, charger))
        self.chargers = {info.charger_id: info for info in infos}
        self._summary_due = None if summaries else 0.0
        return infos

    def _info(self, serial: str, charger: _Charger) -> ChargerInfo:
        summary = charger.summary or EnphaseSummary(serial=serial)
        status_name = charger.status.name if charger.status else None
        modes = charger.modes.available if charger.modes else ()
        return ChargerInfo(
            charger_id=serial,
            serial=serial,
            name=summary.name or status_name or f"IQ EV Charger {serial[-4:]}",
            manufacturer="Enphase",
            model=summary.model or "IQ EV Charger 2",
            model_id=summary.model_id,
            firmware=summary.firmware,
            hardware=summary.hardware,
            phases=summary.phase_count or summary.phase_mode,
            min_current=summary.min_amps or 6.0,
            max_current=summary.max_amps or summary.max_current or 32.0,
            current_step=summary.amps_step or 1.0,
            capabilities=CAPABILITIES,
            charge_modes=tuple(m.key for m in modes) or DEFAULT_CHARGE_MODES,
            configuration_url=f"{self.client.base_url}/web/{self.site_id}",
        )

    # --- polling -----------------------------------------------------------------------

    async def async_fetch(self, now: float) -> dict[str, ChargerState]:
        """Poll the status; refresh summary, modes and sessions when due; act on the result."""
        self._last_now = now
        try:
            snapshot = await self.client.async_get_status(self.site_id)
        except BackendError as err:
            self._failed(err)
            raise
        self._snapshot = snapshot
        for serial, charger in self._chargers.items():
            charger.status = snapshot.charger(serial)
        await self._refresh_summary(now)
        moment = snapshot.server_time or self._utcnow()
        for serial, charger in self._chargers.items():
            changed = self._mode_changed(charger)
            if charger.modes_due is None:
                charger.modes_due = now + self.options.charge_mode_interval_s
            if changed or now >= charger.modes_due:
                await self._refresh_modes(serial, charger, now)
            await self._refresh_sessions(serial, charger, now, moment)
            await self._act(serial, charger, now)
        return {
            serial: self._state(serial, charger, moment)
            for serial, charger in self._chargers.items()
        }

    async def _refresh_summary(self, now: float) -> None:
        if self._summary_due is None:
            self._summary_due = now + self.options.summary_interval_s  # fresh from setup
            return
        if now < self._summary_due:
            return
        self._summary_due = now + self.options.summary_interval_s
        try:
            summaries = await self.client.async_get_summary(self.site_id)
        except BackendError as err:
            self._optional_errors["summary"] = self._failed(err)
            return
        self._optional_errors.pop("summary", None)
        for summary in summaries:
            charger = self._chargers.get(summary.serial)
            if charger is not None:
                charger.summary = summary
                charger.lifetime_kwh = _guard_lifetime(
                    charger.lifetime_kwh, summary.lifetime_energy_kwh
                )

    def _mode_changed(self, charger: _Charger) -> bool:
        mode = charger.status.mode if charger.status else None
        changed = charger.seen_mode is not None and mode is not None and mode != charger.seen_mode
        charger.seen_mode = mode if mode is not None else charger.seen_mode
        return changed

    async def _refresh_modes(self, serial: str, charger: _Charger, now: float | None) -> None:
        charger.modes_due = None if now is None else now + self.options.charge_mode_interval_s
        try:
            charger.modes = await self.client.async_get_charge_mode(self.site_id, serial)
        except BackendError as err:
            self._optional_errors[f"charge_mode:{serial}"] = self._failed(err)
        else:
            self._optional_errors.pop(f"charge_mode:{serial}", None)

    async def _refresh_sessions(
        self, serial: str, charger: _Charger, now: float, moment: datetime
    ) -> None:
        tz = self._zone(self._timezone(charger))
        today = moment.astimezone(tz).date()
        charging = map_status(charger.status) in _ENERGY_FLOWING
        ended = charger.was_charging and not charging
        charger.was_charging = charging
        interval = (
            self.options.sessions_interval_s if charging else self.options.sessions_idle_interval_s
        )
        read_at = charger.sessions_read_at
        fresh = read_at is not None and now - read_at < interval
        if charger.sessions_day == today and not ended and fresh:
            return
        charger.sessions_read_at = now
        try:
            # From yesterday: a session that began before midnight counts in part.
            charger.sessions = await self.client.async_get_sessions(
                self.site_id, serial, today - timedelta(days=1), today, getattr(tz, "key", "UTC")
            )
        except BackendError as err:
            self._optional_errors[f"sessions:{serial}"] = self._failed(err)
            return
        charger.sessions_day = today
        self._optional_errors.pop(f"sessions:{serial}", None)

    def _failed(self, err: BackendError) -> str:
        """Remember a failed read for the health sensors; return its text."""
        self.last_error = str(err)
        self.last_error_at = self._utcnow()
        return str(err)

    def _timezone(self, charger: _Charger) -> str | None:
        if self._snapshot is not None and self._snapshot.timezone:
            return self._snapshot.timezone
        return charger.summary.timezone if charger.summary else None

    # --- state -------------------------------------------------------------------------

    def _state(self, serial: str, charger: _Charger, moment: datetime) -> ChargerState:
        raw = charger.status
        status = map_status(raw)
        summary = charger.summary or EnphaseSummary(serial=serial)
        session = raw.session if raw else None
        started = session.started_at if session else None
        duration = None
        if started is not None and session is not None:
            end = moment if status.car_connected else session.plugged_out_at
            duration = max((end - started).total_seconds(), 0.0) if end else None
        power = self._power(serial, charger, status, moment)
        energy_today, sessions_today = self._today(charger, moment)
        extra: dict[str, object] = {
            "connector_reason": raw.connector_reason if raw else None,
            "connector_info": raw.connector_info if raw else None,
            "safe_limit_state": raw.safe_limit_state if raw else None,
            "dlb_active": raw.dlb_active if raw else None,
            "effective_mode": _effective_mode(raw),
            "last_reported_at": _iso(raw.last_reported_at if raw else None),
            "offline_since": _iso(raw.offline_at if raw else None),
            "plugged_in_at": _iso(session.plugged_in_at if session else None),
            "plugged_out_at": _iso(session.plugged_out_at if session else None),
            "session_miles": session.miles if session else None,
            "session_cost": session.cost if session else None,
            "power_method": charger.power.method,
            "operating_voltage": summary.operating_voltage,
            "phase_mode": summary.phase_mode,
            "active_connection": summary.active_connection,
            "ip_address": summary.ip_address,
            "mac_address": summary.mac_address,
            "reporting_interval": summary.reporting_interval,
            "charging_requested": self.charging_requested.get(serial, False),
            "pending_action": "restart" if charger.pending else None,
            "last_command_error": charger.last_command_error,
            "sessions_today": sessions_today,
            **self._health(),
        }
        return ChargerState(
            status=status,
            vendor_status=raw.connector_status if raw else None,
            power=power,
            power_estimated=power is not None,
            current_limit=self._current_limit(serial, charger, status),
            session_energy=session.energy_kwh if session else None,
            session_duration=duration,
            session_start=started,
            lifetime_energy=charger.lifetime_kwh,
            energy_today=energy_today,
            charge_mode=self._mode_key(charger),
            error=(raw.connector_info or raw.connector_reason)
            if status is _S.FAULTED and raw
            else None,
            extra=extra,
        )

    def _power(
        self, serial: str, charger: _Charger, status: ChargerStatus, moment: datetime
    ) -> float | None:
        if status in (_S.OFFLINE, _S.UNKNOWN):
            charger.power.reset()
            charger.power.method = "unknown"
            return None
        summary = charger.summary or EnphaseSummary(serial=serial)
        voltage = summary.operating_voltage or self.options.nominal_voltage
        phases = summary.phase_count or summary.phase_mode
        max_amps = summary.max_amps or summary.max_current
        amps = self._level(charger) or self.requested_current.get(serial) or max_amps
        raw = charger.status
        session = raw.session if raw else None
        interval = summary.reporting_interval or 300.0
        return charger.power.update(
            charging=status in _ENERGY_FLOWING,
            session_start=session.started_at if session else None,
            energy_kwh=session.energy_kwh if session else None,
            reported_at=(raw.last_reported_at if raw else None) or moment,
            fallback_w=max_power_w(amps, voltage, phases) if amps else None,
            cap_w=max_power_w(max_amps, voltage, phases),
            flat_after_s=max(2 * interval, 600.0),
        )

    def _health(self) -> dict[str, object]:
        """How the cloud behaved, for the cloud health entities."""
        health = self.client.health
        backoffs = [health.backoff_until, *self.client.family_backoff().values()]
        latest = max((until for until in backoffs if until is not None), default=None)
        return {
            "cloud_reachable": health.reachable,
            "cloud_latency_ms": health.last_latency_ms,
            "cloud_last_error": self.last_error,
            "cloud_last_error_at": self.last_error_at,
            "cloud_backoff_until": None if latest is None else datetime.fromtimestamp(latest, UTC),
        }

    def _today(
        self, charger: _Charger, moment: datetime
    ) -> tuple[float | None, list[dict[str, object]] | None]:
        """Energy of the local day and the day's sessions, trimmed to the day."""
        if charger.sessions_day is None:
            return None, None
        raw = charger.status
        live = raw.session if raw else None
        sessions = list(charger.sessions)
        if live is not None and live.started_at is not None and live.energy_kwh is not None:
            # The status carries the running (or last) session fresher than the history.
            sessions = [s for s in sessions if not _same_start(s.start, live.started_at)]
            end = None if map_status(raw).car_connected else live.plugged_out_at
            sessions.append(
                EnphaseSession(start=live.started_at, end=end, energy_kwh=live.energy_kwh)
            )
        window = local_day(moment, self._zone(self._timezone(charger)))
        return energy_in_window(sessions, window, moment), sessions_in_window(
            sessions, window, moment
        )

    def _current_limit(self, serial: str, charger: _Charger, status: ChargerStatus) -> float | None:
        if status.car_connected:
            level = self._level(charger)
            if level is not None:
                return level
        return self.requested_current.get(serial)

    @staticmethod
    def _level(charger: _Charger) -> float | None:
        raw = charger.status
        if raw is None:
            return None
        if raw.session is not None and raw.session.charge_level is not None:
            return raw.session.charge_level
        return raw.charging_level

    @staticmethod
    def _mode_key(charger: _Charger) -> str | None:
        if charger.modes is not None and charger.modes.current is not None:
            return charger.modes.current.key
        return _effective_mode(charger.status)

    @staticmethod
    def _charger_sets_current(charger: _Charger) -> bool:
        """Green or Smart (as preference or in effect): the charger picks the amps."""
        preference = charger.modes.current if charger.modes else None
        if preference is not None and preference.controls_current:
            return True
        return _effective_mode(charger.status) == ChargeMode.GREEN.key

    # --- follow-ups of a poll ----------------------------------------------------------

    async def _act(self, serial: str, charger: _Charger, now: float) -> None:
        """Finish a pending restart, or resume a session the charger paused."""
        status = map_status(charger.status)
        async with charger.lock:
            if status is _S.CHARGING:
                charger.resume_attempts = 0
            if status is _S.AVAILABLE:  # the car left: its wishes leave with it
                self.charging_requested.pop(serial, None)
                charger.pending = None
                charger.paused_by_limit = False
            pending = charger.pending
            if pending is not None:
                if pending.stop_seen_at is None:
                    pending.stop_seen_at = now
                if now - pending.stop_seen_at >= self.options.restart_delay_s:
                    charger.pending = None
                    await self._follow_up_start(serial, charger, pending.amps)
                return
            if (
                self.charging_requested.get(serial)
                and status is _S.SUSPENDED_EVSE
                and not charger.paused_by_limit
                and not self._charger_sets_current(charger)
                and charger.resume_attempts < MAX_RESUME_ATTEMPTS
                and (
                    charger.last_start_at is None
                    or now - charger.last_start_at >= self.options.resume_interval_s
                )
            ):
                charger.resume_attempts += 1
                await self._follow_up_start(serial, charger, None)

    async def _follow_up_start(self, serial: str, charger: _Charger, amps: float | None) -> None:
        try:
            await self._start(serial, charger, amps)
        except BackendError as err:
            charger.last_command_error = f"{type(err).__name__}: {err}"
        else:
            charger.last_command_error = None

    # --- commands ----------------------------------------------------------------------

    def _charger(self, charger_id: str) -> _Charger:
        if charger_id not in self._chargers:
            raise BackendUnsupportedError(f"unknown charger {charger_id}")
        return self._chargers[charger_id]

    @staticmethod
    def _require_plugged(charger: _Charger) -> None:
        """Refuse early, without a request, when the last poll saw no car."""
        raw = charger.status
        if raw is not None and raw.connected is not False and raw.plugged_in is False:
            raise BackendCommandRejectedError("not_plugged", user_error=True)

    async def _start(self, serial: str, charger: _Charger, amps: float | None) -> None:
        level = None
        if not self._charger_sets_current(charger):
            level = amps or self.requested_current.get(serial) or self.chargers[serial].max_current
        charger.last_start_at = self._last_now
        try:
            await self.client.async_start_charging(self.site_id, serial, level)
        except BackendCommandRejectedError as err:
            if err.reason != "already_charging":
                raise
        charger.started_amps = level

    async def async_start(self, charger_id: str) -> None:
        """Start charging (with the requested amps, except in Green/Smart)."""
        charger = self._charger(charger_id)
        async with charger.lock:
            self._require_plugged(charger)
            charger.pending = None
            await self._start(charger_id, charger, None)
            self.charging_requested[charger_id] = True
            charger.paused_by_limit = False
            charger.resume_attempts = 0

    async def async_stop(self, charger_id: str) -> None:
        """Stop charging; stopping an idle session is not an error."""
        charger = self._charger(charger_id)
        async with charger.lock:
            self._require_plugged(charger)
            charger.pending = None
            self.charging_requested[charger_id] = False
            await self.client.async_stop_charging(self.site_id, charger_id)

    async def async_set_current(self, charger_id: str, amps: float) -> None:
        """Set the amps; 0 pauses. A running session restarts with the new amps."""
        charger = self._charger(charger_id)
        info = self.chargers[charger_id]
        async with charger.lock:
            if self._charger_sets_current(charger):
                raise BackendCommandRejectedError("charge_mode_controls_current", user_error=True)
            status = map_status(charger.status)
            if amps <= 0:
                charger.paused_by_limit = True
                charger.pending = None
                if status in _SESSION_ACTIVE or status is _S.FINISHING:
                    await self.client.async_stop_charging(self.site_id, charger_id)
                return
            amps = _clamp(amps, info)
            self.requested_current[charger_id] = amps
            was_paused, charger.paused_by_limit = charger.paused_by_limit, False
            if charger.pending is not None:
                charger.pending.amps = amps  # the restart under way takes the newest value
                return
            resume = was_paused and self.charging_requested.get(charger_id)
            if resume and status.car_connected and status not in _SESSION_ACTIVE:
                await self._start(charger_id, charger, amps)
                return
            running = self._level(charger) or charger.started_amps
            if status in _SESSION_ACTIVE and running != amps:
                await self.client.async_stop_charging(self.site_id, charger_id)
                charger.pending = _PendingRestart(amps)

    async def async_clear_current_limit(self, charger_id: str) -> None:
        """Back to the charger's maximum."""
        await self.async_set_current(charger_id, self._require_info(charger_id).max_current)

    async def async_set_charge_mode(self, charger_id: str, mode: str) -> None:
        """Select Manual, Scheduled, Green or Smart."""
        charger = self._charger(charger_id)
        if mode not in self._require_info(charger_id).charge_modes:
            raise BackendCommandRejectedError("invalid_charge_mode", mode, user_error=True)
        target = ChargeMode.from_key(mode)
        result = await self.client.async_set_charge_mode(self.site_id, charger_id, target)
        available = result.available or (charger.modes.available if charger.modes else ())
        charger.modes = EnphaseChargeModes(current=result.current or target, available=available)
        charger.modes_due = (self._last_now or 0.0) + self.options.charge_mode_interval_s

    async def async_trigger_message(self, charger_id: str, message: str) -> Mapping[str, Any]:
        """Ask the charger to send an OCPP message (e.g. ``MeterValues``)."""
        self._charger(charger_id)
        return await self.client.async_trigger_message(self.site_id, charger_id, message)

    async def async_start_live_stream(self) -> float:
        """Have the site's chargers report faster; returns the window in seconds."""
        stream = await self.client.async_start_live_stream(self.site_id)
        if self._last_now is not None:
            self.live_stream_until = self._last_now + stream.duration_s
        return stream.duration_s

    async def async_stop_live_stream(self) -> None:
        """End the faster reporting."""
        await self.client.async_stop_live_stream(self.site_id)
        self.live_stream_until = None

    def _require_info(self, charger_id: str) -> ChargerInfo:
        self._charger(charger_id)
        return self.chargers[charger_id]

    def diagnostics(self) -> Mapping[str, Any]:
        """Raw payloads, parsed per-charger state, cloud health (the caller redacts)."""
        return {
            "site_id": self.site_id,
            "options": asdict(self.options),
            "health": asdict(self.client.health),
            "family_backoff": self.client.family_backoff(),
            "optional_errors": dict(self._optional_errors),
            "payloads": dict(self.client.last_payloads),
            "chargers": {
                serial: {
                    "charging_requested": self.charging_requested.get(serial, False),
                    "requested_current": self.requested_current.get(serial),
                    "pending_restart": asdict(c.pending) if c.pending else None,
                    "resume_attempts": c.resume_attempts,
                    "last_start_at": c.last_start_at,
                    "charge_modes": ([m.value for m in c.modes.available] if c.modes else None),
                    "sessions_today": [asdict(s) for s in c.sessions],
                    "power_method": c.power.method,
                }
                for serial, c in self._chargers.items()
            },
        }


def _effective_mode(status: EnphaseChargerStatus | None) -> str | None:
    """The mode in effect from the status poll: ``mode`` 1 (or a green window) is Green."""
    if status is None:
        return None
    if status.mode == 1 or (status.mode is None and status.green_scheduled):
        return ChargeMode.GREEN.key
    if status.mode == 0:
        return ChargeMode.MANUAL.key
    return None


def _guard_lifetime(previous: float | None, new: float | None) -> float | None:
    """Keep the lifetime counter from going down on a glitch; accept a real reset.

    A drop counts as a reset when the new value is small (at most 5 kWh) or at most
    half the old one; any other drop is a glitch and keeps the old value.
    """
    if new is None:
        return previous
    if previous is None or new >= previous or new <= 5.0 or new <= previous / 2:
        return new
    return previous


def _clamp(amps: float, info: ChargerInfo) -> float:
    step = info.current_step or 1.0
    stepped = round(amps / step) * step
    return min(max(stepped, info.min_current), info.max_current)


def _same_start(first: datetime | None, second: datetime, tolerance_s: float = 120.0) -> bool:
    return first is not None and abs((first - second).total_seconds()) <= tolerance_s


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
