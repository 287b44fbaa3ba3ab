"""The charging-session state machine of one charger (pure, deterministic).

Feed it every :class:`ChargerState` the coordinator produces, with the time it was
observed (aware UTC). It returns the events to fire and whether its snapshot changed
enough to be persisted. Sessions are anchored on the connection (plug-in to unplug,
from ``ChargerStatus.car_connected``):

- plug-in opens a connection and waits; a card presented (also shortly before
  plug-in) or energy flowing starts the session; unplugging while waiting leaves no
  trace;
- charging windows measure the time energy actually flows;
- energy comes from counter deltas (:mod:`.energy`), cost from the tariff per price
  interval (:mod:`.pricing`);
- at unplug the session completes, or is cancelled when below the micro-session
  thresholds;
- ``offline`` / ``unknown`` / ``faulted`` readings say nothing about the plug: the
  session is held, never ended on them.

After a restart, :meth:`SessionEngine.restore` continues from the persisted snapshot;
the first reading then decides: still plugged -> resume, unplugged -> complete at the
unplug time the caller knows (``unplugged_at``) or the engine's best estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..models import ChargerState, ChargerStatus
from .directory import Attribution, Directory, TagScheme, UnknownReason, normalize_tag
from .events import (
    DiscardReason,
    SessionCancelled,
    SessionCompleted,
    SessionEvent,
    SessionProgress,
    SessionStarted,
    SessionUpdated,
)
from .pricing import Tariff, price_energy
from .records import (
    MIXED_PRICE_SOURCE,
    DataQuality,
    PriceInterval,
    SessionRecord,
    guest_charge,
    to_iso,
)
from .snapshot import ActiveSession, EngineSnapshot, Phase

__all__ = ["EngineConfig", "EngineSnapshot", "EngineStep", "Phase", "SessionEngine"]

# Statuses that tell nothing about the plug: hold the session as it is.
_PLUG_UNKNOWN = frozenset({ChargerStatus.OFFLINE, ChargerStatus.UNKNOWN, ChargerStatus.FAULTED})
_NO_TRANSACTION = frozenset({"", "0"})


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """Settings of the engine for one charger."""

    charger_id: str
    directory: Directory = field(default_factory=Directory)
    tag_scheme: TagScheme = field(default_factory=TagScheme)
    min_session_s: float = 60.0  # shorter connections are discarded (strictly below)
    min_session_kwh: float = 0.05  # as is less energy
    update_interval_s: float = 60.0  # at most one "updated" event per interval
    charging_power_w: float = 50.0  # power above this counts as charging
    start_energy_kwh: float = 0.01  # energy seen while waiting starts a session anyway
    max_power_w: float = 60_000.0  # counter steps above this are implausible
    sparse_gap_s: float = 180.0  # longer gaps estimate a charging stop from the energy
    card_before_plug_s: float = 300.0  # a card presented this long before plug-in counts


@dataclass(frozen=True, slots=True)
class EngineStep:
    """The outcome of one input: events to fire; ``persist``: save the snapshot now."""

    events: tuple[SessionEvent, ...] = ()
    persist: bool = False


class SessionEngine:
    """Sessions of one charger; all state is in :meth:`snapshot`."""

    def __init__(self, config: EngineConfig, tariff: Tariff | None = None) -> None:
        self._config = config
        self._tariff = tariff
        self._state = EngineSnapshot(charger_id=config.charger_id)
        self._events: list[SessionEvent] = []
        self._persist = False

    @classmethod
    def restore(
        cls,
        snapshot: EngineSnapshot | Mapping[str, Any],
        config: EngineConfig,
        tariff: Tariff | None = None,
    ) -> SessionEngine:
        """An engine continuing from a persisted snapshot (after a restart or crash)."""
        data = snapshot.to_dict() if isinstance(snapshot, EngineSnapshot) else snapshot
        state = EngineSnapshot.from_dict(data)
        if state.charger_id != config.charger_id:
            raise ValueError(f"snapshot of {state.charger_id}, not {config.charger_id}")
        engine = cls(config, tariff)
        engine._state = state
        if state.session is not None:
            state.session.flags.add(DataQuality.RESUMED_AFTER_RESTART)
            state.awaiting_first_reading = True
        return engine

    @property
    def config(self) -> EngineConfig:
        """The settings in use."""
        return self._config

    @config.setter
    def config(self, config: EngineConfig) -> None:
        """New settings (users, cards...); a session in progress keeps its attribution."""
        if config.charger_id != self._config.charger_id:
            raise ValueError("the charger of an engine cannot change")
        self._config = config

    @property
    def tariff(self) -> Tariff | None:
        """The tariff pricing the energy from now on."""
        return self._tariff

    @tariff.setter
    def tariff(self, tariff: Tariff | None) -> None:
        """Set when the price entity or the pricing configuration changes."""
        self._tariff = tariff

    @property
    def phase(self) -> Phase:
        """Where the engine stands."""
        return self._state.phase

    def snapshot(self) -> EngineSnapshot:
        """A copy of the whole state, to persist with ``to_dict``."""
        return EngineSnapshot.from_dict(self._state.to_dict())

    def progress(self, now: datetime) -> SessionProgress | None:
        """The live view of the running session, or ``None`` when there is none."""
        session = self._state.session
        if session is None or session.started_at is None:
            return None
        return self._progress(session, now)

    def update(
        self, state: ChargerState, now: datetime, *, unplugged_at: datetime | None = None
    ) -> EngineStep:
        """Consume one charger reading observed at ``now``.

        ``unplugged_at``: when the caller knows the car left earlier than ``now`` (the
        plug entity's last change, or the stop time before a restart); used only when
        this reading shows the car gone.
        """
        _require_aware(now)
        st = self._state
        if st.last_sample_at is not None and now < st.last_sample_at:
            return EngineStep()  # older than what we have: ignore
        self._events, self._persist = [], False
        if state.status in _PLUG_UNKNOWN:
            self._hold()
            return self._step()
        connected = state.car_connected
        self._observe_tag(state, now)
        if st.phase is Phase.IDLE and connected:
            self._plug_in(state, now)
        elif st.phase is Phase.CLOSED and not connected:
            self._set_phase(Phase.IDLE)
        elif st.phase in (Phase.WAITING, Phase.ACTIVE):
            self._advance(state, now, connected, unplugged_at)
        if connected and st.session is not None:
            self._attribute(state, now)
            if st.session.started_at is not None:
                self._follow_charging(state, now)
                self._maybe_emit_update(st.session, now)
        st.last_sample_at = now
        if connected:
            st.last_connected_at = now
        st.awaiting_first_reading = False
        return self._step()

    def close_session(self, now: datetime) -> EngineStep:
        """Close a stuck session by hand; a new one starts after the car has left."""
        _require_aware(now)
        self._events, self._persist = [], False
        session = self._state.session
        if session is None:
            return EngineStep()
        last = self._state.last_sample_at or now
        session.windows.close(min(last, now))
        session.flags.add(DataQuality.CLOSED_BY_USER)
        self._finish(now, ended_at=max(now, session.plugged_in_at), plugged_out_at=None)
        self._set_phase(Phase.CLOSED)
        return self._step()

    def refresh_attribution(self) -> bool:
        """Read an unrecognised card again against the current users and cards.

        A card added (or activated) while its session runs claims that session; a
        session with a user, without a card, or assigned by hand is left alone.
        Returns whether the attribution changed (the caller persists the snapshot).
        """
        session = self._state.session
        old = session.attribution if session is not None else None
        if (
            session is None
            or old is None
            or old.user_id is not None
            or not old.has_card
            or DataQuality.REASSIGNED in session.flags
        ):
            return False
        if old.card_uid is not None:
            tag = old.card_uid
        elif old.card_index is not None and self._config.tag_scheme.index_offset is not None:
            tag = str(old.card_index + self._config.tag_scheme.index_offset)
        else:
            return False
        new = self._resolve(tag)
        if new == old:
            return False
        session.attribution = new
        return True

    def assign(self, attribution: Attribution, now: datetime) -> EngineStep:
        """Attribute the running session by hand (no card was presented, or the wrong one).

        A card presented later no longer changes it. No-op without a started session.
        """
        _require_aware(now)
        self._events, self._persist = [], False
        session = self._state.session
        if session is None or session.started_at is None:
            return EngineStep()
        session.attribution = attribution
        session.flags.add(DataQuality.REASSIGNED)
        self._state.pending_tag = self._state.pending_tag_at = None
        self._persist = True
        return self._step()

    # --- transitions -------------------------------------------------------------

    def _plug_in(self, state: ChargerState, now: datetime) -> None:
        st = self._state
        session = ActiveSession(id=self._session_id(now), plugged_in_at=now)
        session.meter.advance(
            state.session_energy,
            state.lifetime_energy,
            now,
            max_power_w=self._config.max_power_w,
        )
        self._note_power(session, state)
        st.session = session
        if st.pending_tag_at is not None and (
            (now - st.pending_tag_at).total_seconds() > self._config.card_before_plug_s
        ):
            st.pending_tag = st.pending_tag_at = None  # a tap long before plug-in is stale
        self._set_phase(Phase.WAITING)

    def _advance(
        self,
        state: ChargerState,
        now: datetime,
        connected: bool,
        unplugged_at: datetime | None,
    ) -> None:
        """Count energy and time since the last reading; finish on unplug."""
        st = self._state
        session = st.session
        assert session is not None
        since = st.last_sample_at or session.plugged_in_at
        seconds = (now - since).total_seconds()
        expected = None
        if session.power_w is not None:
            expected = max(session.power_w, 0.0) * seconds / 3_600_000
        had_reference = session.meter.has_reference
        step = session.meter.advance(
            state.session_energy,
            state.lifetime_energy,
            now,
            max_power_w=self._config.max_power_w,
            expected_kwh=expected,
        )
        self._add_flags(session, step.flags)
        if not had_reference and session.meter.has_reference and session.charging_seen:
            self._add_flags(session, {DataQuality.ENERGY_GAP})  # no counter at start
        measured = state.session_energy is not None or state.lifetime_energy is not None
        charging_now = connected and self._is_charging(state)
        window_end = None
        if session.windows.is_open and not charging_now:
            window_end = self._stop_time(session, since, now, step.energy_kwh, measured)
        unplug = now
        if not connected:
            unplug = self._unplug_time(since, now, unplugged_at, window_end)
            if window_end is not None:
                window_end = min(window_end, unplug)
        if window_end is not None:
            session.windows.close(window_end)
            self._persist = True
        energy_end = min(window_end or now, unplug)
        self._price(session, since, max(energy_end, since), step.energy_kwh)
        if connected:
            self._note_power(session, state)
        else:
            self._finish(now, ended_at=unplug, plugged_out_at=unplug)

    def _stop_time(
        self,
        session: ActiveSession,
        since: datetime,
        now: datetime,
        energy_kwh: float,
        measured: bool,
    ) -> datetime:
        """When charging stopped between two readings.

        Normally at the reading that shows it; after a long gap the energy delivered at
        the last known power tells when it really stopped.
        """
        gap = (now - since).total_seconds()
        power = session.power_w
        if gap <= self._config.sparse_gap_s or not measured or not power or power <= 0:
            return now
        seconds = round(min(gap, energy_kwh * 3_600_000 / power), 3)
        if seconds >= gap:
            return now
        self._add_flags(session, {DataQuality.CHARGING_TIME_ESTIMATED})
        return since + timedelta(seconds=seconds)

    def _unplug_time(
        self,
        since: datetime,
        now: datetime,
        unplugged_at: datetime | None,
        charging_stop: datetime | None,
    ) -> datetime:
        st = self._state
        last_seen = max(st.last_connected_at or since, since)
        if unplugged_at is not None:
            return min(max(unplugged_at, last_seen), now)
        if not st.awaiting_first_reading:
            return now
        # The car left while we were down: it was there at least until the last reading
        # and for as long as the energy says it kept charging.
        session = st.session
        assert session is not None
        self._add_flags(session, {DataQuality.UNPLUG_TIME_ESTIMATED})
        return max(last_seen, charging_stop or last_seen)

    def _attribute(self, state: ChargerState, now: datetime) -> None:
        """Start the session on a card or on energy; attribute a late card."""
        st = self._state
        session = st.session
        assert session is not None
        if session.started_at is None:
            charging = self._is_charging(state)
            if st.pending_tag is not None:
                self._start(session, self._resolve(st.pending_tag), now)
            elif charging or session.meter.total_kwh >= self._config.start_energy_kwh:
                self._start(session, Attribution(unknown_reason=UnknownReason.NO_CARD), now)
            return
        attribution = session.attribution
        if st.pending_tag is not None and (attribution is None or not attribution.has_card):
            # Tags are sometimes read after the energy starts (slower poll groups).
            session.attribution = self._resolve(st.pending_tag)
            st.pending_tag = st.pending_tag_at = None
            self._persist = True

    def _start(self, session: ActiveSession, attribution: Attribution, now: datetime) -> None:
        st = self._state
        session.started_at = now
        session.attribution = attribution
        st.pending_tag = st.pending_tag_at = None
        self._set_phase(Phase.ACTIVE)
        progress = self._progress(session, now)
        session.last_event_at, session.last_event_key = now, _event_key(progress)
        self._events.append(SessionStarted(at=now, session=progress))

    def _follow_charging(self, state: ChargerState, now: datetime) -> None:
        session = self._state.session
        assert session is not None
        if self._is_charging(state):
            session.charging_seen = True
            if not session.windows.is_open:
                session.windows.open(now)
                self._persist = True

    def _maybe_emit_update(self, session: ActiveSession, now: datetime) -> None:
        last = session.last_event_at
        if last is not None and (now - last).total_seconds() < self._config.update_interval_s:
            return
        progress = self._progress(session, now)
        key = _event_key(progress)
        if key == session.last_event_key:
            return
        session.last_event_at, session.last_event_key = now, key
        self._events.append(SessionUpdated(at=now, session=progress))
        self._persist = True

    def _finish(
        self, now: datetime, *, ended_at: datetime, plugged_out_at: datetime | None
    ) -> None:
        st = self._state
        session = st.session
        assert session is not None
        st.session = None
        st.pending_tag = st.pending_tag_at = None
        self._set_phase(Phase.IDLE)
        if session.started_at is None:
            return  # plugged and unplugged without a card or energy: not a session
        session.windows.close(ended_at)
        record = self._record(session, ended_at=ended_at, plugged_out_at=plugged_out_at)
        progress = self._progress(session, ended_at)
        reasons = []
        if record.connection_seconds < self._config.min_session_s:
            reasons.append(DiscardReason.DURATION_BELOW_MIN)
        if record.energy_kwh < self._config.min_session_kwh:
            reasons.append(DiscardReason.ENERGY_BELOW_MIN)
        if reasons:
            self._events.append(SessionCancelled(at=now, session=progress, reasons=tuple(reasons)))
        else:
            self._events.append(SessionCompleted(at=now, session=progress, record=record))

    def _hold(self) -> None:
        """A reading that says nothing about the plug: keep everything as it is."""
        session = self._state.session
        if session is not None and not self._state.awaiting_first_reading:
            # (while booting after a restart, this is our side connecting, not the charger)
            self._add_flags(session, {DataQuality.CHARGER_UNAVAILABLE})

    # --- helpers -------------------------------------------------------------------

    def _observe_tag(self, state: ChargerState, now: datetime) -> None:
        """Note a card presented: a new tag value, or the same tag on a new transaction."""
        st = self._state
        tag = normalize_tag(state.rfid_tag)
        transaction = state.transaction_id
        if transaction is not None and transaction.strip() in _NO_TRANSACTION:
            transaction = None
        if tag is not None and (
            not st.tag_seen
            or tag != st.last_tag
            or (transaction is not None and transaction != st.last_transaction)
        ):
            st.pending_tag, st.pending_tag_at = tag, now
            self._persist = True
        st.tag_seen, st.last_tag, st.last_transaction = True, tag, transaction

    def _resolve(self, tag: str) -> Attribution:
        return self._config.directory.resolve(
            tag, charger_id=self._config.charger_id, scheme=self._config.tag_scheme
        )

    def _is_charging(self, state: ChargerState) -> bool:
        if state.power is not None:
            return state.power > self._config.charging_power_w
        return state.status.charging

    def _note_power(self, session: ActiveSession, state: ChargerState) -> None:
        session.power_w = state.power
        if state.power is not None and (
            session.max_power_w is None or state.power > session.max_power_w
        ):
            session.max_power_w = state.power

    def _price(self, session: ActiveSession, start: datetime, end: datetime, kwh: float) -> None:
        if kwh <= 0:
            return
        tariff = self._tariff
        if tariff is None:
            session.unpriced_kwh += kwh
            return
        session.currency = tariff.currency
        for piece in price_energy(tariff, start, end, kwh):
            span = piece.span
            session.sources.add(span.source.value)
            if piece.cost is None:
                session.unpriced_kwh += piece.energy_kwh
                self._add_flags(session, {DataQuality.PRICE_UNAVAILABLE})
            else:
                session.cost = (session.cost or 0.0) + piece.cost
            key = f"{to_iso(span.start)}|{to_iso(span.end)}|{span.price}|{span.source.value}"
            known = session.intervals.get(key)
            session.intervals[key] = PriceInterval(
                start=span.start,
                end=span.end,
                price=span.price,
                base_price=span.base_price,
                source=span.source,
                energy_kwh=piece.energy_kwh + (known.energy_kwh if known else 0.0),
                cost=_add(piece.cost, known.cost if known else None, known is None),
            )

    def _record(
        self, session: ActiveSession, *, ended_at: datetime, plugged_out_at: datetime | None
    ) -> SessionRecord:
        attribution = session.attribution or Attribution()
        vehicle = attribution.vehicle
        energy = round(session.meter.total_kwh, 6)
        cost = self._cost(session)
        flags = set(session.flags)
        if session.unpriced_kwh > 0 and cost is not None:
            flags.add(DataQuality.PRICE_UNAVAILABLE)
        lifetime_start, lifetime_end = session.meter.lifetime_span
        started_at = session.started_at or session.plugged_in_at
        return SessionRecord(
            id=session.id,
            charger_id=self._config.charger_id,
            user_id=attribution.user_id,
            user_name=attribution.user_name,
            user_type=attribution.user_type,
            vehicle_id=vehicle.id if vehicle else None,
            vehicle_name=vehicle.name if vehicle else None,
            card_uid=attribution.card_uid,
            card_index=attribution.card_index,
            unknown_reason=attribution.unknown_reason,
            plugged_in_at=session.plugged_in_at,
            started_at=started_at,
            ended_at=ended_at,
            plugged_out_at=plugged_out_at,
            charging_started_at=session.windows.first_start,
            charging_ended_at=session.windows.last_end,
            charging_seconds=round(session.windows.closed_seconds, 3),
            charging_windows=session.windows.count,
            energy_kwh=energy,
            max_power_w=session.max_power_w,
            cost=cost,
            currency=session.currency or (self._tariff.currency if self._tariff else None),
            price_source=self._price_source(session),
            price_intervals=tuple(
                PriceInterval(
                    start=i.start,
                    end=i.end,
                    price=_round(i.price, 6),
                    base_price=_round(i.base_price, 6),
                    source=i.source,
                    energy_kwh=round(i.energy_kwh, 6),
                    cost=_round(i.cost, 6),
                )
                for i in sorted(session.intervals.values(), key=_interval_order)
            ),
            guest_price=guest_charge(attribution.guest_pricing, energy, cost),
            guest_pricing=attribution.guest_pricing,
            soc_added_pct=vehicle.soc_added(energy) if vehicle else None,
            lifetime_start_kwh=lifetime_start,
            lifetime_end_kwh=lifetime_end,
            flags=frozenset(flags),
        )

    def _progress(self, session: ActiveSession, now: datetime) -> SessionProgress:
        attribution = session.attribution or Attribution()
        vehicle = attribution.vehicle
        energy = round(session.meter.total_kwh, 6)
        cost = self._cost(session)
        return SessionProgress(
            session_id=session.id,
            charger_id=self._config.charger_id,
            plugged_in_at=session.plugged_in_at,
            started_at=session.started_at or session.plugged_in_at,
            user_id=attribution.user_id,
            user_name=attribution.user_name,
            user_type=attribution.user_type,
            vehicle_id=vehicle.id if vehicle else None,
            vehicle_name=vehicle.name if vehicle else None,
            card_uid=attribution.card_uid,
            card_index=attribution.card_index,
            unknown_reason=attribution.unknown_reason,
            energy_kwh=energy,
            cost=cost,
            guest_price=guest_charge(attribution.guest_pricing, energy, cost),
            currency=session.currency or (self._tariff.currency if self._tariff else None),
            price_source=self._price_source(session),
            duration_s=max(0.0, (now - session.plugged_in_at).total_seconds()),
            charging_s=round(session.windows.seconds(now), 3),
            charging=session.windows.is_open,
            power_w=session.power_w,
            soc_added_pct=vehicle.soc_added(energy) if vehicle else None,
            flags=frozenset(session.flags),
        )

    def _cost(self, session: ActiveSession) -> float | None:
        """The cost so far, to 1/10000 of the currency; 0 when nothing was charged yet."""
        if session.cost is not None:
            return round(session.cost, 4)
        if self._tariff is not None and session.unpriced_kwh <= 0:
            return 0.0
        return None

    def _price_source(self, session: ActiveSession) -> str | None:
        if len(session.sources) > 1:
            return MIXED_PRICE_SOURCE
        if session.sources:
            return next(iter(session.sources))
        return self._tariff.nominal_source.value if self._tariff else None

    def _session_id(self, plugged_in_at: datetime) -> str:
        stamp = plugged_in_at.strftime("%Y%m%dT%H%M%S")
        if plugged_in_at.microsecond:
            stamp += f".{plugged_in_at.microsecond:06d}"
        return f"{self._config.charger_id}-{stamp}Z"

    def _add_flags(
        self, session: ActiveSession, flags: set[DataQuality] | frozenset[DataQuality]
    ) -> None:
        if not flags <= session.flags:
            session.flags |= flags
            self._persist = True

    def _set_phase(self, phase: Phase) -> None:
        if self._state.phase is not phase:
            self._state.phase = phase
            self._persist = True

    def _step(self) -> EngineStep:
        events = tuple(self._events)
        return EngineStep(events=events, persist=self._persist or bool(events))


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the engine needs aware datetimes")


def _event_key(progress: SessionProgress) -> tuple[float, float | None, bool, str | None]:
    return (progress.energy_kwh, progress.cost, progress.charging, progress.user_id)


def _interval_order(interval: PriceInterval) -> tuple[str, str]:
    return (to_iso(interval.start) or "", to_iso(interval.end) or "")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _add(cost: float | None, known: float | None, first: bool) -> float | None:
    """Sum two interval costs; ``None`` (no price) stays ``None`` once seen."""
    if cost is None or (not first and known is None):
        return None
    return cost + (known or 0.0)
