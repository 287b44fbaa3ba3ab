"""How one charger's target follows its share: down at once, up slowly.

Decreases apply in the same cycle. Increases wait until the share has allowed them
for the hold time, then rise in bounded steps. A car whose share falls below its
minimum pauses; it resumes after an off-time, once its share has been enough for a
while, within an hourly budget of resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from .allocation import floor_to_step
from .model import ChargeMode, ChargerConfig, ChargerRuntime, EventType, TargetReason, Tuning
from .solar import HOUR

_EPS = 1e-9


class Emit(Protocol):
    """Records an event of the cycle."""

    def __call__(self, event_type: EventType, /, **data: Any) -> None: ...


@dataclass(slots=True)
class Follow:
    """A charger's outcome of the dynamics step."""

    runtime: ChargerRuntime
    reason: TargetReason
    forced: bool = False  # a decrease forced by the headroom


class Dynamics:
    """The ramp, pause and resume rules for one cycle at ``now``."""

    def __init__(self, tuning: Tuning, now: float, emit: Emit) -> None:
        self.tuning = tuning
        self.now = now
        self.emit = emit

    def hold_time(self, forced_decreases: tuple[float, ...]) -> float:
        """The hold before the first step up; longer on a site with repeated forced cuts."""
        tuning = self.tuning
        if tuning.spiky_hold_time is None:
            return tuning.hold_time
        recent = [t for t in forced_decreases if self.now - t < tuning.spiky_window]
        if len(recent) >= tuning.spiky_decreases:
            return max(tuning.hold_time, tuning.spiky_hold_time)
        return tuning.hold_time

    def follow(
        self,
        charger: ChargerConfig,
        runtime: ChargerRuntime,
        share: float,
        *,
        demand: float,
        hold: float,
        blocked: bool,
        override: bool,
        switched: bool,
        solar_stopped: bool,
        capped: bool,
    ) -> Follow:
        """Move the target towards the share: down at once, up slowly."""
        tuning, now = self.tuning, self.now
        command = runtime.target
        if override or (switched and command > 0):
            reason = TargetReason.OVERRIDE if override else TargetReason.ALLOCATED
            moved = replace(
                runtime,
                target=share,
                paused=False,
                pause_reason=None,
                ramp_next_at=None,
                last_change_at=now if abs(share - command) > _EPS else runtime.last_change_at,
            )
            return Follow(moved, reason)
        if share < command - _EPS:
            forced = share < demand - _EPS or capped
            lowered = replace(runtime, target=share, ramp_next_at=None, last_change_at=now)
            if share > 0:
                return Follow(
                    lowered, TargetReason.OVERLOAD if capped else TargetReason.ALLOCATED, forced
                )
            if solar_stopped or (demand <= 0 and charger.mode is ChargeMode.SOLAR):
                self.emit(
                    EventType.CHARGING_PAUSED,
                    charger_id=charger.charger_id,
                    previous_a=command,
                    reason="solar",
                )
                return Follow(lowered, TargetReason.SOLAR_WAIT)
            reason = TargetReason.OVERLOAD if capped else TargetReason.PAUSED
            return Follow(self.pause(charger, lowered, command, reason), reason, forced)
        if command <= 0:
            if blocked:  # nothing starts while a phase reads above its limit
                return Follow(runtime, self.pause_reason(runtime.resumes))
            return self.start(charger, runtime, share, demand, hold)
        if share < command + tuning.deadband - _EPS or blocked:
            return Follow(replace(runtime, ramp_next_at=None), TargetReason.ALLOCATED)
        next_at = runtime.ramp_next_at if runtime.ramp_next_at is not None else now + hold
        quiet = (
            runtime.last_change_at is None
            or now - runtime.last_change_at >= tuning.min_command_interval
        )
        if now < next_at - _EPS or not quiet:
            return Follow(replace(runtime, ramp_next_at=next_at), TargetReason.RAMP_HOLD)
        raised = floor_to_step(command + tuning.ramp_step, charger.step)
        if raised <= command:
            raised = floor_to_step(command + charger.step, charger.step)
        raised = min(share, raised)
        stepped = replace(
            runtime, target=raised, ramp_next_at=now + tuning.ramp_interval, last_change_at=now
        )
        reason = TargetReason.ALLOCATED if raised >= share else TargetReason.RAMP_HOLD
        return Follow(stepped, reason)

    def start(
        self,
        charger: ChargerConfig,
        runtime: ChargerRuntime,
        share: float,
        demand: float,
        hold: float,
    ) -> Follow:
        """From 0 A: a fresh car starts at its minimum; a paused one waits to resume."""
        tuning, now = self.tuning, self.now
        waiting = (
            TargetReason.SOLAR_WAIT
            if demand <= 0 and charger.mode is ChargeMode.SOLAR
            else TargetReason.PAUSED
        )
        if not runtime.paused:
            if share <= 0:
                return Follow(runtime, waiting)
            started = self.resume(charger, runtime, "start", hold)
            return Follow(started, TargetReason.ALLOCATED)
        recent = tuple(t for t in runtime.resumes if now - t < HOUR)
        margin = tuning.resume_margin if charger.can_set_current else 0.0
        if share < charger.lowest + margin - _EPS:
            runtime = replace(runtime, resumes=recent, resume_since=None)
            return Follow(runtime, self.pause_reason(recent))
        since = runtime.resume_since if runtime.resume_since is not None else now
        runtime = replace(runtime, resumes=recent, resume_since=since)
        if not self.may_resume(charger, runtime, share):
            return Follow(runtime, self.pause_reason(recent))
        resumed = replace(
            self.resume(charger, runtime, "resume", hold),
            resumes=(*recent, now),
            locked_out=False,
        )
        return Follow(resumed, TargetReason.ALLOCATED)

    def may_resume(self, charger: ChargerConfig, runtime: ChargerRuntime, share: float) -> bool:
        """Whether a paused car resumes this cycle with ``share``: enough headroom for
        long enough, the minimum off-time over and resumes left in the hourly budget."""
        tuning, now = self.tuning, self.now
        margin = tuning.resume_margin if charger.can_set_current else 0.0
        if share < charger.lowest + margin - _EPS:
            return False
        recent = [t for t in runtime.resumes if now - t < HOUR]
        if len(recent) >= tuning.max_pauses_per_hour:
            return False
        since = runtime.resume_since if runtime.resume_since is not None else now
        paused_at = runtime.paused_at if runtime.paused_at is not None else now
        return now - since >= tuning.resume_delay and now - paused_at >= tuning.min_off_time

    def pause_reason(self, resumes: tuple[float, ...]) -> TargetReason:
        """PAUSE_LIMIT while the hourly budget of resumes is spent."""
        recent = [t for t in resumes if self.now - t < HOUR]
        if len(recent) >= self.tuning.max_pauses_per_hour:
            return TargetReason.PAUSE_LIMIT
        return TargetReason.PAUSED

    def resume(
        self, charger: ChargerConfig, runtime: ChargerRuntime, kind: str, hold: float
    ) -> ChargerRuntime:
        """Back to the minimum; the next step up waits a full hold time."""
        self.emit(
            EventType.CHARGING_RESUMED,
            charger_id=charger.charger_id,
            current_a=charger.lowest,
            kind=kind,
        )
        return replace(
            runtime,
            target=charger.lowest,
            paused=False,
            pause_reason=None,
            paused_at=None,
            resume_since=None,
            ramp_next_at=self.now + hold,
            last_change_at=self.now,
        )

    def pause(
        self,
        charger: ChargerConfig,
        runtime: ChargerRuntime,
        previous: float,
        reason: TargetReason,
    ) -> ChargerRuntime:
        """Stop at 0 A; warn once when the hourly budget of resumes is spent."""
        self.emit(
            EventType.CHARGING_PAUSED,
            charger_id=charger.charger_id,
            previous_a=previous,
            reason=reason.value,
        )
        recent = tuple(t for t in runtime.resumes if self.now - t < HOUR)
        locked = len(recent) >= self.tuning.max_pauses_per_hour
        if locked and not runtime.locked_out:
            self.emit(
                EventType.PAUSE_LIMIT_REACHED,
                charger_id=charger.charger_id,
                pauses_last_hour=len(recent),
            )
        return replace(
            runtime,
            target=0.0,
            paused=True,
            pause_reason=reason,
            paused_at=self.now,
            resume_since=None,
            ramp_next_at=None,
            resumes=recent,
            locked_out=locked,
        )
