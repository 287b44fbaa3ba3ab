"""The balancer's Home Assistant glue: meter listeners, the 1 s tick, actuation, events.

Every meter state change or report runs a cycle at once (the reaction to a rising
house load must not wait for a timer); a 1 s tick runs the timers (holds, ramps,
staleness). Charger telemetry is read from each charger entry's coordinator, also for
chargers whose entry loads later; a charger whose status changes runs a cycle too.
Targets go to one ``Actuator`` per charger (level-triggered, one command in flight);
how its last command fares is published to the entities as it changes.
Bus events and repair issues follow each decision; entities read the published
``Snapshot``.

The clock is Home Assistant's (``dt_util.utcnow``), kept from running backwards, so
the meter's ``last_reported`` maps onto it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from ..const import CONF_BACKEND, DOMAIN, LOGGER
from ..coordinator import ChargerCoordinator
from ..models import ChargerInfo, ChargerStatus
from .actuator import Actuator, Port
from .algorithm import initial_state, step
from .const import COMMAND_TOLERANCE, EVENT_PREFIX, TICK_SECONDS
from .issues import Issues
from .meter import read_meter, read_power, site_power
from .model import (
    BalancerConfig,
    BalancerEvent,
    BalancerState,
    ChargerTelemetry,
    Decision,
    EventType,
    Inputs,
    MeterReading,
    OperatingState,
    TargetReason,
)
from .settings import DEFAULT_MAX_CURRENT, DEFAULT_MIN_CURRENT, BalancerSettings

# No car wanting current (or none to be seen): not limited by the balancer.
_NOT_WANTING = (TargetReason.IDLE, TargetReason.OFFLINE)


@dataclass(frozen=True, slots=True)
class ChargerView:
    """What the entities show of one charger (absent while starting or disabled)."""

    current: float  # A of its target
    allocated: float  # A of its share before the ramp rules
    reason: str
    phases: int
    limited: bool  # held below its maximum while a car wants current


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The balancer's published state (compared, so entities only write on a change)."""

    operating_state: OperatingState = OperatingState.STARTING
    available: tuple[float, ...] | None = None  # A per site phase
    non_ev_load: tuple[float, ...] | None = None
    site_power: float | None = None  # W
    surplus: float | None = None  # W
    meter_ok: bool = False
    fallback: bool = False
    chargers: MappingProxyType[str, ChargerView] = field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(slots=True)
class BalancerRuntime:
    """What a loaded balancer entry holds."""

    controller: BalancerController


def _rounded(values: tuple[float, ...] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(round(v, 2) for v in values)


class BalancerController:
    """Runs the balancing algorithm for one site."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], settings: BalancerSettings
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.settings = settings
        self.snapshot = Snapshot()
        self.decision: Decision | None = None
        self.cycles = 0
        self._last_now = 0.0
        self.state: BalancerState = initial_state(self._clock())
        self.config: BalancerConfig = settings.config({})
        self._coordinators: dict[str, ChargerCoordinator] = {}  # charger id -> coordinator
        # charger entry id -> (its listener's removal, its charger ids)
        self._attached: dict[str, tuple[CALLBACK_TYPE, tuple[str, ...]]] = {}
        self._statuses: dict[str, ChargerStatus | None] = {}
        self._paired_at: float | None = None  # the meter reading the draws belong to
        self._draws: dict[str, ChargerTelemetry] = {}
        self.actuators: dict[str, Actuator] = {}
        self.issues = Issues(hass, lambda: ", ".join(self.settings.meter_entities))
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._meter_unsub: CALLBACK_TYPE | None = None
        self._running = False
        # The chargers do not change without a reload (their entities would).
        for charger_id in settings.charger_ids:
            actuator = Actuator(hass, entry, charger_id, self.port, self._clock, self._command_done)
            actuator.min_interval = self.config.tuning.min_command_interval
            actuator.on_change = self.notify
            self.actuators[charger_id] = actuator

    # ------------------------------------------------------------------ life cycle

    def _clock(self) -> float:
        """Seconds on Home Assistant's clock, never running backwards."""
        self._last_now = max(self._last_now, dt_util.utcnow().timestamp())
        return self._last_now

    async def async_start(self) -> None:
        """Attach to the loaded chargers and the meter; nothing is sent before a fresh reading."""
        self._running = True
        self.state = initial_state(self._clock())
        self._unsubs += [
            async_dispatcher_connect(self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._entry_changed),
            async_track_time_interval(
                self.hass, self._tick, timedelta(seconds=TICK_SECONDS), name="balancer tick"
            ),
        ]
        self._track_meter()
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if CONF_BACKEND in entry.data and entry.state is ConfigEntryState.LOADED:
                self._attach(entry)
        self._rebuild()
        self.run_cycle()

    async def async_stop(self) -> None:
        """Cancel every listener, timer and command in flight."""
        self._running = False
        for unsub in (*self._unsubs, *(u for u, _ in self._attached.values())):
            unsub()
        self._unsubs.clear()
        self._attached.clear()
        self._coordinators.clear()
        if self._meter_unsub is not None:
            self._meter_unsub()
            self._meter_unsub = None
        for actuator in self.actuators.values():
            await actuator.async_finish()
        self.issues.clear_all()

    def apply(self, settings: BalancerSettings) -> None:
        """New settings without a reload (limits, modes, priorities, meter, enable); the
        chargers and the phases stay (``setup`` reloads the entry when they change)."""
        meter_changed = settings.entities() != self.settings.entities()
        self.settings = settings
        if meter_changed:
            self._track_meter()
        self._rebuild()
        self.run_cycle()
        self.notify()

    def _track_meter(self) -> None:
        """Changed and re-reported values both: with several phase entities the reading
        is as old as the oldest, so the last one to report completes it."""
        if self._meter_unsub is not None:
            self._meter_unsub()
        entities = list(self.settings.entities())
        unsubs = (
            async_track_state_change_event(self.hass, entities, self._meter_changed),
            async_track_state_report_event(self.hass, entities, self._meter_changed),
        )

        def unsub() -> None:
            for remove in unsubs:
                remove()

        self._meter_unsub = unsub

    def _rebuild(self) -> None:
        infos: dict[str, ChargerInfo] = {
            cid: coordinator.chargers[cid]
            for cid, coordinator in self._coordinators.items()
            if cid in coordinator.chargers
        }
        self.config = self.settings.config(infos)

    # ------------------------------------------------------------------ chargers

    @callback
    def _entry_changed(self, change: ConfigEntryChange, entry: ConfigEntry[Any]) -> None:
        if entry.domain != DOMAIN or CONF_BACKEND not in entry.data or not self._running:
            return
        if change is not ConfigEntryChange.REMOVED and entry.state is ConfigEntryState.LOADED:
            if entry.entry_id not in self._attached:
                self._attach(entry)
                self._rebuild()
                self.run_cycle()
        elif entry.entry_id in self._attached:
            unsub, charger_ids = self._attached.pop(entry.entry_id)
            unsub()
            for charger_id in charger_ids:
                self._coordinators.pop(charger_id, None)
            self.run_cycle()

    def _attach(self, entry: ConfigEntry[Any]) -> None:
        coordinator: ChargerCoordinator = entry.runtime_data.coordinator
        charger_ids = tuple(coordinator.chargers)
        for charger_id in charger_ids:
            self._coordinators[charger_id] = coordinator
        unsub = coordinator.async_add_listener(partial(self._charger_updated, coordinator))
        self._attached[entry.entry_id] = (unsub, charger_ids)

    @callback
    def _charger_updated(self, coordinator: ChargerCoordinator) -> None:
        """A car that arrives or leaves is handled now, not at the next tick."""
        data = coordinator.data or {}
        changed = False
        for charger_id in coordinator.chargers:
            if charger_id not in self.actuators:
                continue
            state = data.get(charger_id)
            status = state.status if state is not None else None
            changed |= self._statuses.get(charger_id) != status
            self._statuses[charger_id] = status
        if changed:
            self.run_cycle()

    def port(self, charger_id: str) -> Port | None:
        """The loaded charge port with a current state, if any."""
        coordinator = self._coordinators.get(charger_id)
        if coordinator is None or not coordinator.last_update_success:
            return None
        state = (coordinator.data or {}).get(charger_id)
        info = coordinator.chargers.get(charger_id)
        if state is None or info is None:
            return None
        return Port(coordinator, info, state)

    def charger_range(self, charger_id: str) -> tuple[float, float]:
        """The charge port's own minimum and maximum (A); defaults while not loaded."""
        coordinator = self._coordinators.get(charger_id)
        info = coordinator.chargers.get(charger_id) if coordinator is not None else None
        if info is None:
            return DEFAULT_MIN_CURRENT, DEFAULT_MAX_CURRENT
        return info.min_current, max(info.min_current, info.max_current)

    def charger_name(self, charger_id: str) -> str:
        """The charge port's name; from its device while its entry is not loaded (yet)."""
        coordinator = self._coordinators.get(charger_id)
        info = coordinator.chargers.get(charger_id) if coordinator is not None else None
        if info is not None:
            return info.name
        device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, charger_id)})
        if device is not None and (name := device.name_by_user or device.name):
            return name
        return charger_id

    # ------------------------------------------------------------------ the cycle

    @callback
    def _meter_changed(
        self, event: Event[EventStateChangedData] | Event[EventStateReportedData]
    ) -> None:
        self.run_cycle()

    @callback
    def _tick(self, _: datetime) -> None:
        self.run_cycle()

    @callback
    def run_cycle(self) -> None:
        """Read, decide, act, tell."""
        if not self._running:
            return
        now = self._clock()
        settings = self.settings
        ports = {c.charger_id: p for c in settings.chargers if (p := self.port(c.charger_id))}
        reading = read_meter(self.hass, settings, now)
        if reading is None and self.state.last_meter is None:
            # Not seen since start (its integration may still be loading): wait up to
            # stale_after like for a silent meter, rather than fall back at once.
            reading = MeterReading(at=now, values=(None,))
        telemetry = self._paired(
            reading,
            tuple(self.actuators[cid].telemetry(port) for cid, port in ports.items()),
        )
        inputs = Inputs(
            meter=reading,
            chargers=telemetry,
            grid_power=read_power(self.hass, settings.grid_power_entity),
            enabled=settings.enabled,
        )
        decision = step(self.config, self.state, inputs, now)
        self.state = decision.state
        self.decision = decision
        self.cycles += 1
        for event in decision.events:
            self._fire(event)
            self.issues.overload(event)
        commanded = {cid: a.accepted for cid, a in self.actuators.items()}
        self.issues.update(decision, now, ports, commanded)
        for charger_id, target in decision.targets.items():
            if (actuator := self.actuators.get(charger_id)) is not None:
                actuator.want(target)
        self._publish(decision, reading is not None and None not in reading.values, telemetry)

    def _paired(
        self, reading: MeterReading | None, telemetry: tuple[ChargerTelemetry, ...]
    ) -> tuple[ChargerTelemetry, ...]:
        """Charger draws of the time of the meter reading in use.

        Between two readings the meter still shows what the cars drew when it last
        reported; a car's newer measurement (it followed a command since) would move
        its change into the house load. So the draws are taken when a new reading
        arrives and kept until the next one; status and offer stay current.
        """
        fresh = (
            reading is not None
            and None not in reading.values
            and (self._paired_at is None or reading.at > self._paired_at)
        )
        if fresh and reading is not None:
            self._paired_at = reading.at
            self._draws = {t.charger_id: t for t in telemetry}
            return telemetry
        paired = []
        for current in telemetry:
            # A charger seen for the first time since the reading pairs with it now.
            held = self._draws.setdefault(current.charger_id, current)
            paired.append(replace(current, currents=held.currents, power=held.power))
        return tuple(paired)

    @callback
    def _command_done(self, charger_id: str) -> None:
        """A command ended: reconcile the newest target of that charger at once."""
        if self._running:
            self.actuators[charger_id].reconcile()

    def _fire(self, event: BalancerEvent) -> None:
        data: dict[str, Any] = {"entry_id": self.entry.entry_id}
        for key, value in event.data.items():
            data[key] = dict(value) if isinstance(value, MappingProxyType | dict) else value
        if (charger_id := data.get("charger_id")) is not None:
            data["charger_name"] = self.charger_name(charger_id)
        if event.type is EventType.METER_UNAVAILABLE:
            LOGGER.warning(
                "The meter (%s) is %s; the chargers follow the fallback",
                ", ".join(self.settings.meter_entities),
                data.get("reason"),
            )
        elif event.type is EventType.METER_RESTORED:
            LOGGER.info("The meter reports again after %s s", data.get("outage_s"))
        LOGGER.debug("Balancer event %s: %s", event.type.value, data)
        self.hass.bus.async_fire(f"{EVENT_PREFIX}{event.type.value}", data)

    # ------------------------------------------------------------------ publishing

    def _publish(
        self, decision: Decision, meter_present: bool, telemetry: tuple[ChargerTelemetry, ...]
    ) -> None:
        fallback = decision.operating_state is OperatingState.FALLBACK
        chargers_w = [
            t.power if t.power is not None else 0.0
            for t in telemetry
            if t.status is ChargerStatus.CHARGING
        ]
        maximum = {c.charger_id: c.max_current for c in self.config.chargers}
        views = {
            charger_id: ChargerView(
                current=target.current,
                allocated=round(target.allocated, 2),
                reason=target.reason.value,
                phases=target.phases,
                limited=target.reason not in _NOT_WANTING
                and target.current < maximum[charger_id] - COMMAND_TOLERANCE,
            )
            for charger_id, target in decision.targets.items()
            if charger_id in self.actuators
        }
        power = site_power(self.settings, decision.state.last_meter, chargers_w)
        snapshot = Snapshot(
            operating_state=decision.operating_state,
            available=_rounded(decision.available),
            non_ev_load=_rounded(decision.non_ev_load),
            site_power=round(power, 1) if power is not None and meter_present else None,
            surplus=round(decision.surplus, 1) if decision.surplus is not None else None,
            meter_ok=meter_present and not fallback and decision.state.last_meter is not None,
            fallback=fallback,
            chargers=MappingProxyType(views),
        )
        if snapshot != self.snapshot:
            self.snapshot = snapshot
            self.notify()

    def notify(self) -> None:
        """Tell the entities to write their state."""
        for listener in list(self._listeners):
            listener()

    def add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` whenever the snapshot changes; returns the removal."""
        self._listeners.append(listener)

        def remove() -> None:
            self._listeners.remove(listener)

        return remove
