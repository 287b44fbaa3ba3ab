"""The session tracker: every loaded charger's readings through a session engine.

It listens to the coordinator of every loaded charger entry (also the ones loaded
later), feeds each charge port's readings to its :class:`SessionEngine`, and for every
step: stores completed records, then saves the snapshot, then fires the bus events,
in the order the readings came (one lock, tasks queued in order). A snapshot saved
after a record therefore never gets ahead of it: after a crash the engine completes
the same session again and the store replaces it (same id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from ..const import CONF_BACKEND, DOMAIN, LOGGER
from ..coordinator import ChargerCoordinator
from ..models import Capability, ChargerInfo, ChargerState, ChargerStatus
from .aggregates import (
    BUCKET_UNKNOWN,
    Totals,
    buckets_of,
    charger_bucket,
    deviation_pct,
    user_bucket,
)
from .const import (
    CROSSCHECK_MIN_KWH,
    EVENT_PREFIX,
    ISSUE_ENERGY_MISMATCH,
    MODE_SPOT,
    SIGNAL_CHARGER,
    SIGNAL_STATS,
    SNAPSHOT_INTERVAL_S,
)
from .directory import Attribution, Directory, User, Vehicle
from .engine import EngineConfig, EngineStep, SessionEngine
from .events import SessionCompleted, SessionEvent, SessionProgress
from .pricing import Tariff, tariff_from_config
from .records import SessionRecord, reassign_session
from .settings import Settings, build_directory, tag_scheme
from .snapshot import Phase
from .spot_prices import SpotPriceList, parse_spot_attributes
from .statistics import StatisticsWriter, hourly_shares, series_for
from .store import SessionStore

SIGNAL_NEW_CHARGER = "ev_charging_sessions_new_charger"
SIGNAL_REMOVED_CHARGER = "ev_charging_sessions_removed_charger"

type Snapshot = dict[str, Any]


class SessionNotFoundError(LookupError):
    """No running or stored session has this id."""


class SessionInProgressError(RuntimeError):
    """The operation needs a completed session."""


@dataclass(slots=True)
class _Port:
    """One charge port followed by the tracker."""

    engine: SessionEngine
    coordinator: ChargerCoordinator | None = None
    info: ChargerInfo | None = None


class SessionTracker:
    """Sessions of every charger of the installation."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], store: SessionStore) -> None:
        self.hass = hass
        self.entry = entry
        self.store = store
        self.settings = Settings.from_options(entry.options)
        self.directory = build_directory(entry, self.settings.guest_pricing)
        self.stats = StatisticsWriter(hass, hass.config.currency)
        self._ports: dict[str, _Port] = {}
        self._attached: dict[str, CALLBACK_TYPE] = {}  # charger entry id -> listener removal
        self._entry_ports: dict[str, set[str]] = {}  # charger entry id -> its charger ids
        self._saved: dict[str, Snapshot] = {}  # what the active store holds
        self._tariff: Tariff | None = None
        self._lock = asyncio.Lock()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._spot_unsub: CALLBACK_TYPE | None = None
        self._stopped = False  # unloaded
        self._halted = False  # Home Assistant is stopping

    # --- life cycle ------------------------------------------------------------------

    async def async_start(self) -> None:
        """Restore the saved sessions lazily and attach to the loaded chargers."""
        self._saved = {cid: dict(s) for cid, s in self.store.active.items()}
        self._tariff = self._build_tariff()
        self._track_spot()
        self._unsubs += [
            async_dispatcher_connect(self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._entry_changed),
            async_track_time_interval(
                self.hass, self._tick, timedelta(seconds=SNAPSHOT_INTERVAL_S)
            ),
            async_track_time_change(self.hass, self._new_day, hour=0, minute=0, second=1),
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._stopping),
        ]
        await self.store.async_prune(self.settings.retention_months, self._today())
        for bucket in self.store.buckets():
            if bucket.startswith(charger_bucket("")):
                self._check_energy(bucket.removeprefix(charger_bucket("")), notify=False)
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if CONF_BACKEND in entry.data and entry.state is ConfigEntryState.LOADED:
                self._attach(entry)

    async def async_stop(self) -> None:
        """Detach from everything and save the sessions in progress."""
        self._stopped = True
        for unsub in (*self._unsubs, *self._attached.values()):
            unsub()
        self._unsubs.clear()
        self._attached.clear()
        if self._spot_unsub is not None:
            self._spot_unsub()
            self._spot_unsub = None
        await self._flush(self._current_snapshots())

    async def async_reconfigure(self) -> None:
        """Options or subentries changed: new tariff, directory and thresholds, no reload."""
        self.settings = Settings.from_options(self.entry.options)
        self.directory = build_directory(self.entry, self.settings.guest_pricing)
        self._track_spot()
        self._set_tariff(self._build_tariff())
        for cid, port in self._ports.items():
            port.engine.config = self._engine_config(cid)
            if port.engine.refresh_attribution():  # a card added for a running session
                self._saved[cid] = port.engine.snapshot().to_dict()
                await self._save_active()
                async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(cid))
        await self.store.async_prune(self.settings.retention_months, self._today())
        async_dispatcher_send(self.hass, SIGNAL_STATS)

    # --- what entities read ----------------------------------------------------------

    @property
    def charger_ids(self) -> list[str]:
        """Charge ports seen since start."""
        return list(self._ports)

    def charger_name(self, charger_id: str) -> str:
        """The charge port's name (its id when unknown)."""
        port = self._ports.get(charger_id)
        return port.info.name if port and port.info else charger_id

    def has_lifetime_counter(self, charger_id: str) -> bool:
        """Whether the charge port reports a lifetime energy counter (for the cross-check)."""
        port = self._ports.get(charger_id)
        return (
            port is not None and port.info is not None and port.info.can(Capability.LIFETIME_ENERGY)
        )

    def attached(self, charger_id: str) -> bool:
        """Whether the charge port's entry is loaded (its sensors are available)."""
        port = self._ports.get(charger_id)
        return port is not None and port.coordinator is not None

    def phase(self, charger_id: str) -> Phase:
        """Where the engine of a charge port stands (idle once the charger is gone)."""
        port = self._ports.get(charger_id)
        return port.engine.phase if port else Phase.IDLE

    def progress(self, charger_id: str) -> SessionProgress | None:
        """The live view of the running session of a charge port."""
        port = self._ports.get(charger_id)
        return port.engine.progress(dt_util.utcnow()) if port else None

    @property
    def tariff(self) -> Tariff | None:
        """The tariff in force."""
        return self._tariff

    # --- chargers coming and going -----------------------------------------------------

    @callback
    def _entry_changed(self, change: ConfigEntryChange, entry: ConfigEntry[Any]) -> None:
        if entry.domain != DOMAIN or CONF_BACKEND not in entry.data or self._stopped:
            return
        if change is ConfigEntryChange.REMOVED:
            self._detach(entry.entry_id)
            self.entry.async_create_task(self.hass, self._async_forget(entry.entry_id))
        elif entry.state is ConfigEntryState.LOADED:
            if entry.entry_id not in self._attached:
                self._attach(entry)
        elif entry.entry_id in self._attached:
            self._detach(entry.entry_id)

    @callback
    def _attach(self, entry: ConfigEntry[Any]) -> None:
        coordinator: ChargerCoordinator = entry.runtime_data.coordinator
        self._attached[entry.entry_id] = coordinator.async_add_listener(
            partial(self._coordinator_updated, coordinator)
        )
        self._entry_ports[entry.entry_id] = set(coordinator.chargers)
        for cid, info in coordinator.chargers.items():
            new = cid not in self._ports
            port = self._ports.get(cid) or _Port(self._new_engine(cid))
            port.coordinator, port.info = coordinator, info
            self._ports[cid] = port
            if new:
                async_dispatcher_send(self.hass, SIGNAL_NEW_CHARGER, cid)
        self._coordinator_updated(coordinator)

    @callback
    def _detach(self, entry_id: str) -> None:
        if (unsub := self._attached.pop(entry_id, None)) is not None:
            unsub()
        for cid in self._entry_ports.get(entry_id, ()):
            if (port := self._ports.get(cid)) is not None:
                port.coordinator = None
                async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(cid))

    async def _async_forget(self, entry_id: str) -> None:
        """A charger entry was deleted: close its sessions, drop its sensors."""
        now = dt_util.utcnow()
        for cid in self._entry_ports.pop(entry_id, set()):
            port = self._ports.pop(cid, None)
            if port is None:
                continue
            step = port.engine.close_session(now)
            await self._process(cid, step.events, None)
            async with self._lock:
                self._saved.pop(cid, None)
                await self._save_active()
            ir.async_delete_issue(self.hass, DOMAIN, _energy_issue_id(cid))
            device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, cid)})
            if device is not None and self.entry.entry_id in device.config_entries:
                dr.async_get(self.hass).async_update_device(
                    device.id, remove_config_entry_id=self.entry.entry_id
                )
            async_dispatcher_send(self.hass, SIGNAL_REMOVED_CHARGER, cid)

    def _new_engine(self, charger_id: str) -> SessionEngine:
        config = self._engine_config(charger_id)
        saved = self._saved.get(charger_id)
        if saved is not None:
            return SessionEngine.restore(saved, config, self._tariff)
        return SessionEngine(config, self._tariff)

    def _engine_config(self, charger_id: str) -> EngineConfig:
        return EngineConfig(
            charger_id=charger_id,
            directory=self.directory,
            tag_scheme=tag_scheme(self.directory, charger_id),
            min_session_s=self.settings.min_session_s,
            min_session_kwh=self.settings.min_session_kwh,
        )

    # --- readings ---------------------------------------------------------------------

    @callback
    def _coordinator_updated(self, coordinator: ChargerCoordinator) -> None:
        if self._halted:
            return
        now = dt_util.utcnow()
        data = coordinator.data or {}
        for cid in coordinator.chargers:
            port = self._ports.get(cid)
            if port is None:
                continue
            state = data.get(cid) if coordinator.last_update_success else None
            # No reading says nothing about the plug: the engine holds the session.
            step = port.engine.update(state or ChargerState(status=ChargerStatus.UNKNOWN), now)
            self._handle(cid, step)

    @callback
    def _handle(self, charger_id: str, step: EngineStep) -> None:
        if step.events or step.persist:
            snapshot = self._ports[charger_id].engine.snapshot().to_dict() if step.persist else None
            self.entry.async_create_task(
                self.hass, self._process(charger_id, step.events, snapshot)
            )
        async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(charger_id))

    async def _process(
        self, charger_id: str, events: tuple[SessionEvent, ...], snapshot: Snapshot | None
    ) -> None:
        """Store records, then the snapshot, then tell the world; in reading order."""
        async with self._lock:
            completed = [e.record for e in events if isinstance(e, SessionCompleted)]
            for record in completed:
                await self._store_record(record)
            if snapshot is not None:
                self._saved[charger_id] = snapshot
                await self._save_active()
            for event in events:
                self._fire(charger_id, event)
        if completed:
            async_dispatcher_send(self.hass, SIGNAL_STATS)
            async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(charger_id))

    async def _store_record(self, record: SessionRecord) -> None:
        bucket = user_bucket(record.user_id) if record.user_id else BUCKET_UNKNOWN
        series = series_for(bucket, self.directory)
        before = self.store.totals(bucket)
        late = series is not None and await self.stats.async_needs_rebuild(series, record)
        previous = await self.store.async_add(record)
        if series is not None:
            if previous is not None or late:
                await self._rebuild_stats(bucket, hourly_shares(record)[0][0])
            else:
                await self.stats.async_append(series, record, before)
        self._check_energy(record.charger_id, notify=True)

    @callback
    def _fire(self, charger_id: str, event: SessionEvent) -> None:
        payload = event.as_dict() | {"charger_name": self.charger_name(charger_id)}
        if isinstance(event, SessionCompleted):
            record = event.record
            payload |= {
                "ended_at": record.to_dict()["ended_at"],
                "energy_kwh": record.energy_kwh,
                "cost": record.cost,
                "guest_price": record.guest_price,
                "charging_s": record.charging_seconds,
                "average_power_w": record.average_power_w,
                "max_power_w": record.max_power_w,
                "flags": sorted(flag.value for flag in record.flags),
            }
        self.hass.bus.async_fire(f"{EVENT_PREFIX}{event.kind.value}", payload)

    # --- persistence ------------------------------------------------------------------

    def _current_snapshots(self) -> dict[str, Snapshot]:
        return {cid: port.engine.snapshot().to_dict() for cid, port in self._ports.items()}

    @callback
    def _tick(self, now: datetime) -> None:
        """Save the sessions whose state moved since the last save; refresh durations.

        A coordinator only calls its listeners when the data changed: a car sitting
        plugged in without charging gives no readings, so the last good one is fed again
        (status, power, tag), to keep the engine's notion of when the car was last seen
        current (the unplug time after a crash depends on it).
        """
        if self._halted:
            return
        for cid, port in self._ports.items():
            coordinator, progress = port.coordinator, port.engine.progress(now)
            if coordinator is None or port.engine.phase is Phase.IDLE:
                continue
            if progress is not None and progress.charging:
                continue  # energy flows: the data changes, readings come by themselves
            if coordinator.last_update_success and (state := (coordinator.data or {}).get(cid)):
                # Without its counters: a reading already counted must not move the
                # energy reference to a later time than it was taken at.
                stale = replace(state, session_energy=None, lifetime_energy=None)
                self._handle(cid, port.engine.update(stale, now))
        changed = {
            cid: snapshot
            for cid, snapshot in self._current_snapshots().items()
            if _material(snapshot) != _material(self._saved.get(cid))
        }
        if changed:
            self.entry.async_create_task(self.hass, self._flush(changed))
        for cid, port in self._ports.items():
            if port.engine.progress(now) is not None:  # the duration moves on
                async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(cid))

    async def _flush(self, snapshots: Mapping[str, Snapshot]) -> None:
        async with self._lock:
            self._saved.update(snapshots)
            await self._save_active()

    async def _save_active(self) -> None:
        await self.store.async_save_active(self._saved)

    @callback
    def _stopping(self, _: Event) -> None:
        """Home Assistant stops: save now (Store writes it before the process ends).

        Polling ends with the stop: nothing after it is a reading of the charger.
        """
        self._halted = True
        self.entry.async_create_task(self.hass, self._flush(self._current_snapshots()))

    @callback
    def _new_day(self, now: datetime) -> None:
        """Months and years roll over in local time: refresh totals, prune old months."""
        self.entry.async_create_task(self.hass, self._async_new_day())

    async def _async_new_day(self) -> None:
        await self.store.async_prune(self.settings.retention_months, self._today())
        async_dispatcher_send(self.hass, SIGNAL_STATS)

    def _today(self) -> date:
        return dt_util.now().date()

    # --- pricing ----------------------------------------------------------------------

    def _build_tariff(self) -> Tariff | None:
        spot = None
        if self.settings.tariff.get("mode") == MODE_SPOT:
            state = self.hass.states.get(self.settings.spot_entity or "")
            spot = SpotPriceList()
            if state is not None:
                spot = parse_spot_attributes(
                    state.attributes,
                    tz=dt_util.get_default_time_zone(),
                    now=dt_util.utcnow(),
                    state=state.state,
                )
        try:
            return tariff_from_config(
                self.settings.tariff,
                currency=self.hass.config.currency,
                timezone=dt_util.get_default_time_zone(),
                spot_prices=spot,
            )
        except ValueError:
            LOGGER.exception("Invalid pricing configuration; sessions are not priced")
            return None

    def _set_tariff(self, tariff: Tariff | None) -> None:
        self._tariff = tariff
        for port in self._ports.values():
            port.engine.tariff = tariff

    def _track_spot(self) -> None:
        if self._spot_unsub is not None:
            self._spot_unsub()
            self._spot_unsub = None
        entity = self.settings.spot_entity
        if self.settings.tariff.get("mode") == MODE_SPOT and entity:
            self._spot_unsub = async_track_state_change_event(
                self.hass, [entity], self._spot_changed
            )

    @callback
    def _spot_changed(self, _: Event[EventStateChangedData]) -> None:
        self._set_tariff(self._build_tariff())

    # --- cross-check ------------------------------------------------------------------

    @callback
    def deviation(self, charger_id: str) -> tuple[float, Mapping[str, Any]] | None:
        """The last session's deviation from the lifetime counter (%), with that session."""
        last = self.store.totals(charger_bucket(charger_id)).last
        pct = deviation_pct(last)
        return None if pct is None or last is None else (pct, last)

    @callback
    def _check_energy(self, charger_id: str, *, notify: bool) -> None:
        found = self.deviation(charger_id)
        issue_id = _energy_issue_id(charger_id)
        if found is None:
            return
        pct, last = found
        difference = abs(float(last["counter_kwh"]) - float(last["energy_kwh"]))
        if pct <= self.settings.crosscheck_pct or difference < CROSSCHECK_MIN_KWH:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        if notify:
            LOGGER.warning(
                "Session %s of %s: %.3f kWh counted, the charger's counter moved %.3f kWh",
                last["id"],
                self.charger_name(charger_id),
                last["energy_kwh"],
                last["counter_kwh"],
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_ENERGY_MISMATCH,
            translation_placeholders={
                "charger": self.charger_name(charger_id),
                "session": str(last["id"]),
                "session_kwh": f"{float(last['energy_kwh']):.2f}",
                "counter_kwh": f"{float(last['counter_kwh']):.2f}",
                "deviation": f"{pct:.1f}",
            },
        )

    # --- actions ----------------------------------------------------------------------

    async def async_close(self, charger_id: str) -> SessionProgress:
        """Close the stuck session of a charge port; raises LookupError without one."""
        port = self._ports.get(charger_id)
        now = dt_util.utcnow()
        progress = port.engine.progress(now) if port else None
        if port is None or progress is None:
            raise SessionNotFoundError(charger_id)
        step = port.engine.close_session(now)
        snapshot = port.engine.snapshot().to_dict()
        await self._process(charger_id, step.events, snapshot)
        async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(charger_id))
        return progress

    async def async_assign(
        self, session_id: str, user: User, vehicle: Vehicle | None
    ) -> SessionProgress | SessionRecord:
        """Attribute a running or stored session to a user."""
        now = dt_util.utcnow()
        for cid, port in self._ports.items():
            progress = port.engine.progress(now)
            if progress is not None and progress.session_id == session_id:
                attribution = Attribution.for_user(
                    user, vehicle, card_uid=progress.card_uid, card_index=progress.card_index
                )
                step = port.engine.assign(attribution, now)
                await self._process(cid, step.events, port.engine.snapshot().to_dict())
                async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(cid))
                updated = port.engine.progress(now)
                assert updated is not None
                return updated
        async with self._lock:
            record = await self.store.async_find(session_id)
            if record is None:
                raise SessionNotFoundError(session_id)
            new = reassign_session(record, user, vehicle)
            await self.store.async_replace(new)
            since = hourly_shares(record)[0][0]
            for bucket in {_stats_bucket(record), _stats_bucket(new)}:
                await self._rebuild_stats(bucket, since)
        async_dispatcher_send(self.hass, SIGNAL_STATS)
        async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(record.charger_id))
        return new

    async def async_delete(self, session_id: str) -> SessionRecord:
        """Remove a stored session (a running one must be closed first)."""
        now = dt_util.utcnow()
        for port in self._ports.values():
            progress = port.engine.progress(now)
            if progress is not None and progress.session_id == session_id:
                raise SessionInProgressError(session_id)
        async with self._lock:
            record = await self.store.async_delete(session_id)
            if record is None:
                raise SessionNotFoundError(session_id)
            await self._rebuild_stats(_stats_bucket(record), hourly_shares(record)[0][0])
            self._check_energy(record.charger_id, notify=False)
        async_dispatcher_send(self.hass, SIGNAL_STATS)
        async_dispatcher_send(self.hass, SIGNAL_CHARGER.format(record.charger_id))
        return record

    async def async_records(
        self,
        start: datetime | None,
        end: datetime | None,
        user_id: str | None,
    ) -> list[SessionRecord]:
        """Stored sessions for an export."""
        records = await self.store.async_records(start, end)
        if user_id is None:
            return records
        return [r for r in records if user_bucket(user_id) in buckets_of(r)]

    async def _rebuild_stats(self, bucket: str, since: datetime) -> None:
        series = series_for(bucket, self.directory)
        if series is None or not self.stats.enabled:
            return
        records = [r for r in await self.store.async_records() if bucket in buckets_of(r)]
        await self.stats.async_rebuild(series, records, self.store.archived(bucket), since)

    def user(self, user_id: str) -> User | None:
        """A configured user."""
        return self.directory.user(user_id)

    def find_user(self, text: str) -> User | None:
        """A user by id or by name (case-insensitive)."""
        return _find(self.directory, text)

    def find_vehicle(self, text: str) -> Vehicle | None:
        """A vehicle by id or by name (case-insensitive)."""
        found = self.directory.vehicle(text)
        if found is not None:
            return found
        folded = text.casefold().strip()
        return next((v for v in self.directory.vehicles if v.name.casefold() == folded), None)

    def totals(self, bucket: str) -> Totals:
        """All-time totals of a bucket."""
        return self.store.totals(bucket)


def _find(directory: Directory, text: str) -> User | None:
    found = directory.user(text)
    if found is not None:
        return found
    folded = text.casefold().strip()
    return next((u for u in directory.users if u.name.casefold() == folded), None)


def _material(snapshot: Snapshot | None) -> Snapshot | None:
    """A snapshot without the reading times that change on every poll while idle."""
    if snapshot is None or snapshot.get("session") is not None:
        return snapshot
    return {k: v for k, v in snapshot.items() if k not in ("last_sample_at", "last_connected_at")}


def _stats_bucket(record: SessionRecord) -> str:
    return user_bucket(record.user_id) if record.user_id else BUCKET_UNKNOWN


def _energy_issue_id(charger_id: str) -> str:
    return f"energy_mismatch_{charger_id}"
