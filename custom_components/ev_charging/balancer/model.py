"""Configuration, inputs, state and decision of the load balancer.

Pure: no Home Assistant imports. Currents are A, powers W, voltages V, times are
monotonic seconds (the caller's clock). Site phases are indexed 0, 1, 2 (L1..L3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import math
from types import MappingProxyType
from typing import Any, TypeIs

from ..models import ChargerState, ChargerStatus

PHASE_NAMES = ("L1", "L2", "L3")


class MeterKind(StrEnum):
    """What the site meter reports, best first."""

    PHASE_CURRENTS = "phase_currents"  # A per phase, import positive
    PHASE_POWERS = "phase_powers"  # W per phase, import positive
    TOTAL_POWER = "total_power"  # one W value, import positive


class TotalPowerSplit(StrEnum):
    """How a total-power reading is spread over the phases."""

    BALANCED = "balanced"  # the total is shared equally
    WORST_CASE = "worst_case"  # the whole total may sit on any one phase


class FallbackMode(StrEnum):
    """What the chargers do while the meter is stale or unavailable."""

    STOP = "stop"  # pause every charger at once
    HOLD = "hold"  # keep the last currents (never raised)
    FIXED = "fixed"  # lower each charger to its fallback current


class ChargeMode(StrEnum):
    """How a charger wants to charge."""

    OFF = "off"
    FAST = "fast"  # as much as the site allows
    SOLAR = "solar"  # surplus only, pauses without it
    MIN_SOLAR = "min_solar"  # at least the minimum, more with surplus


class OperatingState(StrEnum):
    """What the balancer as a whole is doing this cycle."""

    STARTING = "starting"  # waiting for the first fresh meter reading; nothing is sent
    DISABLED = "disabled"
    ACTIVE = "active"
    ADJUSTING = "adjusting"  # a target changed this cycle
    RAMP_HOLD = "ramp_hold"  # an increase is being held back
    PAUSED = "paused"  # cars wait, none charges
    FALLBACK = "fallback"  # the meter is stale or unavailable
    OVERLOAD = "overload"  # a phase reads above its limit


class EventType(StrEnum):
    """Things worth telling the user or an automation about."""

    OVERLOAD = "overload"
    METER_UNAVAILABLE = "meter_unavailable"
    METER_RESTORED = "meter_restored"
    FALLBACK_ENGAGED = "fallback_engaged"
    CHARGING_PAUSED = "charging_paused"
    CHARGING_RESUMED = "charging_resumed"
    ALLOCATION_CHANGED = "allocation_changed"
    PAUSE_LIMIT_REACHED = "pause_limit_reached"
    PHASES_CHANGED = "phases_changed"


class TargetReason(StrEnum):
    """Why a charger's target is what it is."""

    ALLOCATED = "allocated"  # follows its share of the headroom
    RAMP_HOLD = "ramp_hold"  # its share is higher; the increase waits
    PAUSED = "paused"  # not enough headroom; waits to resume
    PAUSE_LIMIT = "pause_limit"  # too many pauses this hour; stays paused
    SOLAR_WAIT = "solar_wait"  # not enough surplus (yet)
    IDLE = "idle"  # no car, mode off or session finishing
    OFFLINE = "offline"  # unreachable; its last target stays reserved
    FALLBACK = "fallback"
    OVERRIDE = "override"  # a one-shot manual value
    OVERLOAD = "overload"  # cut by the overload watchdog


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    """The grid connection and its meter."""

    phases: int = 1
    phase_limits: tuple[float, ...] = (32.0,)  # A per phase (the main breaker of each phase)
    margin: float = 1.0  # A kept free on every phase
    power_limit: float | None = None  # W, an optional cap on the whole site
    voltage: float = 230.0  # nominal phase-to-neutral V; a plausible measured value wins
    meter_kind: MeterKind = MeterKind.PHASE_CURRENTS
    total_power_split: TotalPowerSplit = TotalPowerSplit.BALANCED
    meter_includes_chargers: bool = True
    stale_after: float = 30.0  # s without a valid reading before the fallback
    stale_periods: float | None = None  # if set: stale after this many observed meter periods
    stale_floor: float = 5.0  # s, the shortest adaptive staleness
    stop_after: float | None = 120.0  # s; then pause everything (None: never)
    fallback: FallbackMode = FallbackMode.FIXED
    max_meter_power: float = 200_000.0  # W; readings beyond are sensor errors

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError("site phases must be 1 or 3")
        if len(self.phase_limits) != self.phases or min(self.phase_limits) <= 0:
            raise ValueError("one positive limit per site phase is required")
        if self.margin < 0 or self.voltage <= 0:
            raise ValueError("margin must be >= 0 and voltage > 0")
        if self.power_limit is not None and self.power_limit <= 0:
            raise ValueError("power limit must be positive")
        if self.stale_after <= 0 or (self.stop_after is not None and self.stop_after <= 0):
            raise ValueError("staleness timeouts must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerConfig:
    """One charge port as the balancer sees it."""

    charger_id: str
    phases: int = 1  # wired phases
    rotation: tuple[int, int, int] = (0, 1, 2)  # site phase carrying the charger's L1, L2, L3
    min_current: float = 6.0
    max_current: float = 32.0
    step: float = 1.0
    priority: int = 0  # tier: higher tiers are served first
    weight: float = 1.0  # share within a tier
    mode: ChargeMode = ChargeMode.FAST
    fallback_current: float | None = None  # A while the meter is down; None = min_current
    phase_switching: bool = False  # can switch between 1 and 3 phases
    can_set_current: bool = True  # False: start/stop only, draws max_current when on

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError("charger phases must be 1 or 3")
        if sorted(self.rotation) != [0, 1, 2]:
            raise ValueError("rotation must be a permutation of (0, 1, 2)")
        if not 0 < self.min_current <= self.max_current:
            raise ValueError("need 0 < min_current <= max_current")
        if self.step <= 0 or self.weight <= 0:
            raise ValueError("step and weight must be positive")
        if self.fallback_current is not None and self.fallback_current < 0:
            raise ValueError("fallback current must be >= 0")
        if self.phase_switching and self.phases != 3:
            raise ValueError("only a three-phase charger can switch phases")

    @property
    def lowest(self) -> float:
        """The smallest current it can run at (its only one when it cannot set current)."""
        return self.min_current if self.can_set_current else self.max_current

    def site_phases(self, phases: int) -> tuple[int, ...]:
        """The site phases used when charging on ``phases`` phases."""
        return tuple(self.rotation[:phases])


@dataclass(frozen=True, slots=True, kw_only=True)
class Tuning:
    """Timers and steps of the control loop (defaults: see docs/load-balancer.md)."""

    hold_time: float = 15.0  # s the headroom must allow an increase before the first step
    spiky_hold_time: float | None = 120.0  # s, used after repeated forced decreases; None = off
    spiky_decreases: int = 2
    spiky_window: float = 300.0
    ramp_step: float = 4.0  # A per increase step
    ramp_interval: float = 10.0  # s between increase steps
    deadband: float = 1.0  # A; smaller increases are ignored
    min_command_interval: float = 5.0  # s between non-safety changes of one charger
    resume_margin: float = 0.0  # A above the minimum needed to resume
    resume_delay: float = 15.0  # s the resume condition must hold
    min_off_time: float = 30.0  # s a pause lasts at least
    max_pauses_per_hour: int = 12  # then the charger stays paused (lock-out)
    overload_delay: float = 5.0  # s over a phase limit before the watchdog cuts
    overload_pause_delay: float = 30.0  # s over the limit before it pauses the chargers
    mismatch_margin: float = 2.0  # A a car may draw below its offer before it counts
    mismatch_delay: float = 60.0  # s of mismatch before the offer is capped
    mismatch_probe: float = 300.0  # s after which the cap is lifted to probe
    phase_switch_interval: float = 300.0  # s between two phase switches of one charger
    max_phase_switches_per_hour: int = 4
    phase_hysteresis: float = 200.0  # W extra needed to switch up to three phases


@dataclass(frozen=True, slots=True, kw_only=True)
class SolarConfig:
    """Surplus charging (modes solar and min_solar)."""

    residual_power: float = 0.0  # W kept as the grid set-point (import positive)
    enable_threshold: float = 0.0  # W of import tolerated when deciding to start
    disable_threshold: float = 0.0  # W of import tolerated while running at the minimum
    enable_delay: float = 60.0  # s; also the 1p -> 3p delay
    disable_delay: float = 180.0  # s; also the 3p -> 1p delay
    smoothing: float = 0.5  # EMA factor for rising surplus (1.0 = raw); falls are raw


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerConfig:
    """Everything the balancer is told by the user."""

    site: SiteConfig = field(default_factory=SiteConfig)
    chargers: tuple[ChargerConfig, ...] = ()
    tuning: Tuning = field(default_factory=Tuning)
    solar: SolarConfig = field(default_factory=SolarConfig)

    def __post_init__(self) -> None:
        ids = [c.charger_id for c in self.chargers]
        if len(set(ids)) != len(ids):
            raise ValueError("charger ids must be unique")
        for charger in self.chargers:
            used = charger.site_phases(charger.phases)
            if max(used) >= self.site.phases:
                raise ValueError(f"{charger.charger_id} uses a phase the site does not have")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class MeterReading:
    """The site meter's latest report.

    ``at`` is when it was last reported (Home Assistant's ``last_reported``, mapped to
    the monotonic clock; for several phase entities, the oldest). ``values`` are in
    the unit of the meter kind; ``None`` marks a value that was not a number.
    """

    at: float
    values: tuple[float | None, ...]
    voltages: tuple[float | None, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerTelemetry:
    """What the backend knows about a charger right now."""

    charger_id: str
    status: ChargerStatus
    online: bool = True
    currents: tuple[float | None, float | None, float | None] | None = None  # A, charger L1..L3
    power: float | None = None  # W, used when no phase currents are known
    offered: float | None = None  # A the charger offers the car now
    commanded: float | None = None  # A of the last command the charger accepted
    active_phases: int | None = None
    session_energy: float | None = None  # kWh, a tie-break between equal chargers

    @classmethod
    def from_charger_state(
        cls, charger_id: str, state: ChargerState, *, commanded: float | None = None
    ) -> ChargerTelemetry:
        """Build it from the normalized charger model."""
        currents = state.currents.as_tuple() if state.currents is not None else None
        return cls(
            charger_id=charger_id,
            status=state.status,
            online=state.online,
            currents=currents,
            power=state.power if not state.power_estimated else None,
            offered=state.current_offered,
            commanded=commanded if commanded is not None else state.current_limit,
            active_phases=state.active_phases,
            session_energy=state.session_energy,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """One cycle's inputs.

    ``meter`` is ``None`` while the meter entity is unavailable/unknown (the fallback
    starts at once); a reading with a non-number value is ignored and ages.
    ``grid_power`` (W, import positive) feeds the surplus modes when the meter
    itself does not see the grid connection. ``overrides`` are one-shot manual
    currents (A) that apply to this cycle only.
    """

    meter: MeterReading | None
    chargers: tuple[ChargerTelemetry, ...] = ()
    grid_power: float | None = None
    enabled: bool = True
    overrides: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerRuntime:
    """What the balancer remembers about one charger between cycles."""

    known: bool = False  # False until seeded from the charger's observed state
    target: float = 0.0  # A, the last decided offer
    phases: int = 1
    paused: bool = False  # paused by the balancer (not idle)
    pause_reason: TargetReason | None = None
    paused_at: float | None = None
    resume_since: float | None = None
    resumes: tuple[float, ...] = ()  # resume times in the last hour
    locked_out: bool = False
    ramp_next_at: float | None = None  # when the next increase step may happen
    last_change_at: float | None = None
    solar_on: bool = False
    solar_enable_since: float | None = None
    solar_disable_since: float | None = None
    phase_since: float | None = None  # a phase switch has been wanted since
    phase_switches: tuple[float, ...] = ()
    mismatch_since: float | None = None
    mismatch_capped_since: float | None = None
    overload_cap: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerState:
    """Everything carried from one cycle to the next; never mutated."""

    started_at: float
    cycle: int = 0
    enabled: bool = True
    last_meter: MeterReading | None = None  # the last valid reading
    meter_period: float | None = None  # s, smoothed interval between readings
    meter_intervals: int = 0
    meter_down_since: float | None = None
    meter_stop_engaged: bool = False
    surplus: float | None = None  # W, smoothed
    forced_decreases: tuple[float, ...] = ()
    overload_since: tuple[float | None, float | None, float | None] = (None, None, None)
    overload_cut_at: tuple[float | None, float | None, float | None] = (None, None, None)
    overload_paused: tuple[bool, bool, bool] = (False, False, False)
    chargers: Mapping[str, ChargerRuntime] = field(default_factory=lambda: MappingProxyType({}))


def initial_state(now: float) -> BalancerState:
    """The state of a balancer that starts at ``now``."""
    return BalancerState(started_at=now)


# --------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerTarget:
    """The desired state of one charger; the controller reconciles it (level-triggered)."""

    charger_id: str
    current: float  # A to offer; 0 means no current (paused or idle)
    phases: int
    reason: TargetReason
    command: bool  # False: do not send (offline); the value stays reserved
    allocated: float  # A of its headroom share this cycle, before the ramp rules
    changed: bool  # differs from the previous cycle's target

    @property
    def paused(self) -> bool:
        """Whether the balancer holds it at 0 A while a car waits."""
        return self.current == 0 and self.reason not in (TargetReason.IDLE, TargetReason.OFFLINE)

    def power(self, voltage: float) -> float:
        """The target as W, for chargers that take a power limit."""
        return self.current * voltage * self.phases


@dataclass(frozen=True, slots=True)
class BalancerEvent:
    """Something that happened this cycle, with a payload for the bus."""

    type: EventType
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The result of one cycle."""

    state: BalancerState
    operating_state: OperatingState
    targets: Mapping[str, ChargerTarget]  # empty: send nothing this cycle
    available: tuple[float, ...] | None  # A of headroom per site phase (None in fallback)
    non_ev_load: tuple[float, ...] | None  # A per site phase
    surplus: float | None  # W available to the surplus modes
    meter_age: float | None  # s since the last valid reading
    events: tuple[BalancerEvent, ...] = ()


def finite(value: float | None) -> TypeIs[float]:
    """Whether ``value`` is a real number."""
    return value is not None and math.isfinite(value)
