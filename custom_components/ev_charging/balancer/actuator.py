"""Drives one charger towards its target, level-triggered.

The controller hands every cycle's target to the charger's actuator; the actuator
compares it with what the charger shows (``needs_command``) and sends a command when
they differ. One command is in flight at a time; when it ends, the newest target is
reconciled at once (the latest wins, a stop is never dropped). Failures back off
(1, 2, 4... 30 s); increases wait ``min_interval`` after the previous command, safety
reductions never do. A value the charger accepted but does not show (a cable that
allows less, a slow cloud) is re-sent every ``REASSERT_INTERVAL`` only. The last
command and how it fared (``LastCommand``) is kept for the charger's diagnostic sensor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
import time

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import LOGGER
from ..coordinator import ChargerCoordinator
from ..models import Capability, ChargerInfo, ChargerState, ChargerStatus
from .algorithm import needs_command
from .const import BACKOFF, COMMAND_TOLERANCE, REASSERT_INTERVAL, STOP_TIMEOUT
from .model import ChargerTarget, ChargerTelemetry, TargetReason


@dataclass(frozen=True, slots=True)
class Port:
    """A loaded charge port: its coordinator, facts and last state."""

    coordinator: ChargerCoordinator
    info: ChargerInfo
    state: ChargerState


class Command(StrEnum):
    """What the balancer told a charger last."""

    SET_CURRENT = "set_current"
    START = "start"
    STOP = "stop"


class CommandStatus(StrEnum):
    """How the last command fares."""

    SENT = "sent"  # in flight, first attempt
    RETRYING = "retrying"  # in flight after failures
    CONFIRMED = "confirmed"  # the backend took it
    FAILED = "failed"  # refused or unreachable; retried after the back-off


@dataclass(frozen=True, slots=True)
class LastCommand:
    """The last command sent to one charger, for its diagnostic sensor."""

    command: Command
    target: ChargerTarget
    status: CommandStatus
    sent_at: float  # s on the controller's clock
    retries: int  # failures before this outcome
    error: str | None = None
    latency_ms: float | None = None


def _switched_on(state: ChargerState) -> bool:
    """Whether a start/stop-only charger is on (charging asked for)."""
    if state.charging_enabled is not None:
        return state.charging_enabled
    return state.status in (ChargerStatus.CHARGING, ChargerStatus.SUSPENDED_EV)


class Actuator:
    """The command path of one charge port."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[object],
        charger_id: str,
        lookup: Callable[[str], Port | None],
        clock: Callable[[], float],
        on_done: Callable[[str], None],
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.charger_id = charger_id
        self._lookup = lookup
        self._clock = clock
        self._on_done = on_done
        self.min_interval = 5.0
        self.desired: ChargerTarget | None = None
        self.accepted: float | None = None  # A of the last command the charger took
        self.accepted_at: float | None = None
        self.accepted_phases: int | None = None
        self.sent_at: float | None = None
        self.retry_at = 0.0
        self.failures = 0
        self.commands = 0
        self.last_error: str | None = None
        self.latency_ms: float | None = None
        self.last: LastCommand | None = None
        self.on_change: Callable[[], None] | None = None  # the last command changed
        self._task: asyncio.Task[None] | None = None

    def want(self, target: ChargerTarget) -> None:
        """Take a cycle's target and act on it if needed."""
        self.desired = target
        self.reconcile()

    def telemetry(self, port: Port) -> ChargerTelemetry:
        """What the algorithm reads of the charger (our last accepted command included).

        A start/stop-only charger offers its maximum while on, nothing while off. One
        we stopped ends its session: it shows finishing, then plugged; for the algorithm
        that is a pause, so its off-time and resume rules hold instead of a fresh start.
        """
        state = port.state
        if port.info.can(Capability.SET_CURRENT):
            return ChargerTelemetry.from_charger_state(
                self.charger_id, state, commanded=self.accepted
            )
        if self.accepted == 0 and state.status in (
            ChargerStatus.FINISHING,
            ChargerStatus.PLUGGED,
        ):
            state = replace(state, status=ChargerStatus.SUSPENDED_EVSE)
        # On or off is all it knows: its maximum or nothing (its own limit says neither).
        on = port.info.max_current if _switched_on(state) else 0.0
        return replace(
            ChargerTelemetry.from_charger_state(self.charger_id, state, commanded=on),
            offered=None,
        )

    def needs(self, target: ChargerTarget, port: Port) -> bool:
        """Whether the charger's observed state differs from the target."""
        if not target.command:
            return False
        state = port.state
        idle = target.reason is TargetReason.IDLE
        if idle and (not state.car_connected or state.status is ChargerStatus.FINISHING):
            return False  # no car: nothing to hold back
        if not port.info.can(Capability.SET_CURRENT):
            return _switched_on(state) != (target.current > 0)
        if self._phases_differ(target, port):
            return True
        return needs_command(target, self.telemetry(port), tolerance=COMMAND_TOLERANCE)

    def _phases_differ(self, target: ChargerTarget, port: Port) -> bool:
        if not port.info.can(Capability.PHASE_SWITCHING):
            return False
        phases = self.accepted_phases or port.state.active_phases
        return phases is not None and phases != target.phases

    def reconcile(self) -> None:
        """Send the desired state if the charger does not show it (and may be told now)."""
        target = self.desired
        if target is None or self._task is not None:
            return
        port = self._lookup(self.charger_id)
        if port is None or not self.needs(target, port):
            return
        now = self._clock()
        if now < self.retry_at:
            return
        telemetry = self.telemetry(port)
        observed = telemetry.offered if telemetry.offered is not None else telemetry.commanded
        safety = target.current <= 0 or (
            observed is not None and target.current < observed - COMMAND_TOLERANCE
        )
        if not safety and self.sent_at is not None and now - self.sent_at < self.min_interval:
            return
        if (
            self.accepted is not None
            and self.accepted_at is not None
            and abs(self.accepted - target.current) <= COMMAND_TOLERANCE
            and not self._phases_differ(target, port)
            and now - self.accepted_at < REASSERT_INTERVAL
        ):
            return
        self.sent_at = now
        self._record(
            LastCommand(
                command=self._command(target, port.info),
                target=target,
                status=CommandStatus.RETRYING if self.failures else CommandStatus.SENT,
                sent_at=now,
                retries=self.failures,
            )
        )
        # Not eager: a backend that answers without suspending (the OCPP proxy on an
        # increase) would end the command before the task is stored, and the done
        # task left in ``_task`` would block every later command.
        self._task = self.entry.async_create_task(
            self.hass,
            self._send(target, port),
            f"ev_charging balancer {self.charger_id}",
            eager_start=False,
        )

    @staticmethod
    def _command(target: ChargerTarget, info: ChargerInfo) -> Command:
        if info.can(Capability.SET_CURRENT):
            return Command.SET_CURRENT
        return Command.START if target.current > 0 else Command.STOP

    def _record(self, last: LastCommand) -> None:
        self.last = last
        if self.on_change is not None:
            self.on_change()

    def _outcome(self, status: CommandStatus, latency_ms: float) -> None:
        if self.last is not None:
            self._record(
                replace(
                    self.last,
                    status=status,
                    retries=self.failures,
                    error=self.last_error,
                    latency_ms=latency_ms,
                )
            )

    async def _send(self, target: ChargerTarget, port: Port) -> None:
        coordinator, info = port.coordinator, port.info
        backend = coordinator.backend
        key = self.charger_id
        began = time.perf_counter()
        try:
            if self._phases_differ(target, port):
                await coordinator.async_command(backend.async_set_phases, key, target.phases)
                self.accepted_phases = target.phases
            if info.can(Capability.SET_CURRENT):
                await coordinator.async_command(backend.async_set_current, key, target.current)
            elif target.current > 0:
                await coordinator.async_command(backend.async_start, key)
            else:
                await coordinator.async_command(backend.async_stop, key)
        except Exception as err:  # any failure backs off the same way
            self._failed(target, err)
            self._outcome(CommandStatus.FAILED, self._elapsed(began))
        else:
            if self.failures:
                LOGGER.info("%s accepts the balancer's commands again", info.name)
            self.failures = 0
            self.last_error = None
            self.accepted = target.current
            self.accepted_at = self._clock()
            self.latency_ms = self._elapsed(began)
            self._outcome(CommandStatus.CONFIRMED, self.latency_ms)
        finally:
            self.commands += 1
            self._task = None
            self._on_done(key)

    @staticmethod
    def _elapsed(began: float) -> float:
        """ms since ``began`` (the send), when the backend call returned."""
        return round(max(0.0, time.perf_counter() - began) * 1000, 1)

    def _failed(self, target: ChargerTarget, err: Exception) -> None:
        delay = BACKOFF[min(self.failures, len(BACKOFF) - 1)]
        self.failures += 1
        self.retry_at = self._clock() + delay
        self.last_error = str(err) or type(err).__name__  # translated, else its key
        log = LOGGER.warning if self.failures == 1 else LOGGER.debug
        log(
            "Could not set %s to %s A (attempt %s, retry in %s s): %s",
            self.charger_id,
            target.current,
            self.failures,
            delay,
            self.last_error,
        )

    async def async_finish(self) -> None:
        """Let a command in flight end (the entry unloads); cancel it after STOP_TIMEOUT.

        Cancelling a request on the wire can break the charger's connection (its reply
        arrives for nobody), so it gets the time to complete first.
        """
        task = self._task
        if task is None:
            return
        _, pending = await asyncio.wait({task}, timeout=STOP_TIMEOUT)
        for late in pending:
            late.cancel()
