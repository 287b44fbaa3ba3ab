"""One control cycle of the load balancer: ``step(config, state, inputs, now)``.

Call it on every fresh meter reading and on a 1 s tick (the timers run on the
tick, not on meter events). It never mutates its arguments: the new state comes
back inside the ``Decision``. The order within a cycle:

1. meter validity and staleness (fail-safe first);
2. each car's draw from its own measurement, the non-EV load, the headroom;
3. surplus shares and per-car demand (mode, suspended car, current mismatch);
4. the tiered water-filling allocation, then 1p/3p choices;
5. the overload watchdog;
6. per-car dynamics: decreases at once, increases after a hold and in steps,
   pauses and resumes with an off-time and an hourly budget.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum, auto
import math
from types import MappingProxyType
from typing import Any

from ..models import ChargerStatus
from .allocation import Claim, PowerClaim, allocate, floor_to_step, share_power
from .dynamics import Dynamics
from .loads import (
    ZERO,
    PhaseTriple,
    add,
    car_draw,
    measured_draw,
    on_phases,
    phase_voltages,
    reading_valid,
    site_load,
)
from .model import (
    BalancerConfig,
    BalancerEvent,
    BalancerState,
    ChargeMode,
    ChargerConfig,
    ChargerRuntime,
    ChargerTarget,
    ChargerTelemetry,
    Decision,
    EventType,
    FallbackMode,
    Inputs,
    MeterReading,
    OperatingState,
    TargetReason,
    finite,
    initial_state,
)
from .solar import (
    record_switch,
    smoothed_surplus,
    solar_demand,
    surplus_claim_bounds,
    switch_allowed,
)
from .watchdog import OverloadWatchdog

__all__ = ["allocate", "initial_state", "needs_command", "step"]

_EPS = 1e-9
_SURPLUS_MODES = (ChargeMode.SOLAR, ChargeMode.MIN_SOLAR)
_OFFLINE_STATUSES = (ChargerStatus.OFFLINE, ChargerStatus.FAULTED, ChargerStatus.UNKNOWN)


class _Kind(Enum):
    CANDIDATE = auto()  # a car is connected and the charger can be driven
    IDLE = auto()  # no car, mode off or the session is finishing
    OFFLINE = auto()  # unreachable, faulted or unknown


class _Meter(Enum):
    OK = auto()
    WAITING = auto()  # no fresh reading since start, not yet stale
    DOWN = auto()  # unavailable or stale


def step(config: BalancerConfig, state: BalancerState, inputs: Inputs, now: float) -> Decision:
    """Run one control cycle at monotonic time ``now``."""
    return _Cycle(config, state, inputs, now).run()


def needs_command(
    target: ChargerTarget, telemetry: ChargerTelemetry | None, *, tolerance: float = 0.5
) -> bool:
    """Whether the charger's observed offer differs from the target (level-triggered).

    The controller re-sends while this holds, so a failed stop is retried even when
    newer cycles arrive during its back-off.
    """
    if not target.command or telemetry is None or not telemetry.online:
        return False
    observed = telemetry.offered if telemetry.offered is not None else telemetry.commanded
    return observed is None or abs(observed - target.current) > tolerance


class _Cycle:
    """The working data of one ``step`` call (discarded afterwards)."""

    def __init__(
        self, config: BalancerConfig, state: BalancerState, inputs: Inputs, now: float
    ) -> None:
        self.config = config
        self.site = config.site
        self.tuning = config.tuning
        self.state = state
        self.inputs = inputs
        self.now = now
        self.events: list[BalancerEvent] = []
        self.dynamics = Dynamics(config.tuning, now, self._emit)
        self.telemetry = {t.charger_id: t for t in inputs.chargers}
        fresh_start = not state.enabled
        self.runtimes: dict[str, ChargerRuntime] = {
            c.charger_id: (
                ChargerRuntime(phases=c.phases)
                if fresh_start or c.charger_id not in state.chargers
                else state.chargers[c.charger_id]
            )
            for c in config.chargers
        }
        self.kinds = {c.charger_id: self._kind(c) for c in config.chargers}
        self.fresh = False
        self.last_meter: MeterReading | None = state.last_meter
        self.meter_period = state.meter_period
        self.meter_intervals = state.meter_intervals
        self.age = 0.0
        self.meter = _Meter.WAITING

    # ------------------------------------------------------------------ driver

    def run(self) -> Decision:
        self._track_meter()
        if not self.inputs.enabled:
            return self._finish(OperatingState.DISABLED, {}, enabled=False)
        if self.meter is _Meter.WAITING:
            return self._finish(OperatingState.STARTING, {})
        if self.meter is _Meter.DOWN:
            return self._fallback()
        return self._balance()

    def _finish(
        self,
        operating: OperatingState,
        targets: dict[str, ChargerTarget],
        *,
        enabled: bool = True,
        available: tuple[float, ...] | None = None,
        non_ev: tuple[float, ...] | None = None,
        **changes: Any,
    ) -> Decision:
        state = replace(
            self.state,
            cycle=self.state.cycle + 1,
            enabled=enabled,
            last_meter=self.last_meter,
            meter_period=self.meter_period,
            meter_intervals=self.meter_intervals,
            chargers=MappingProxyType(dict(self.runtimes)),
            **changes,
        )
        return Decision(
            state=state,
            operating_state=operating,
            targets=MappingProxyType(targets),
            available=available,
            non_ev_load=non_ev,
            surplus=state.surplus if available is not None else None,
            meter_age=self.age if self.last_meter is not None else None,
            events=tuple(self.events),
        )

    def _emit(self, event_type: EventType, /, **data: Any) -> None:
        self.events.append(BalancerEvent(event_type, MappingProxyType(data)))

    # ------------------------------------------------------------------ meter

    def _track_meter(self) -> None:
        site, state, reading = self.site, self.state, self.inputs.meter
        last = state.last_meter
        if reading is not None and reading_valid(site, reading):
            newer = reading.at > last.at if last is not None else reading.at >= state.started_at
            if newer:
                if last is not None:
                    interval = reading.at - last.at
                    period = self.meter_period
                    self.meter_period = (
                        interval if period is None else period + 0.25 * (interval - period)
                    )
                    self.meter_intervals += 1
                self.last_meter = reading
                self.fresh = True
        reference = self.last_meter.at if self.last_meter is not None else state.started_at
        self.age = max(0.0, self.now - reference)
        limit = site.stale_after
        if site.stale_periods is not None and self.meter_period and self.meter_intervals >= 3:
            limit = min(limit, max(site.stale_floor, site.stale_periods * self.meter_period))
        if reading is None or self.age >= limit:
            self.meter = _Meter.DOWN
        elif self.last_meter is None:
            self.meter = _Meter.WAITING
        else:
            self.meter = _Meter.OK

    # ------------------------------------------------------------------ chargers

    def _kind(self, charger: ChargerConfig) -> _Kind:
        telemetry = self.telemetry.get(charger.charger_id)
        if telemetry is None or not telemetry.online or telemetry.status in _OFFLINE_STATUSES:
            return _Kind.OFFLINE
        status = telemetry.status
        if (
            charger.mode is ChargeMode.OFF
            or not status.car_connected
            or status is ChargerStatus.FINISHING
        ):
            return _Kind.IDLE
        return _Kind.CANDIDATE

    def _candidates(self) -> list[ChargerConfig]:
        return [c for c in self.config.chargers if self.kinds[c.charger_id] is _Kind.CANDIDATE]

    def _seed(self, charger: ChargerConfig) -> ChargerRuntime:
        """Start from what the charger does now: never jump, ramp from there."""
        runtime = self.runtimes[charger.charger_id]
        if runtime.known:
            return runtime
        telemetry = self.telemetry[charger.charger_id]
        phases = charger.phases
        if charger.phase_switching and telemetry.active_phases in (1, 3):
            phases = 3 if telemetry.active_phases == 3 else 1
        observed = telemetry.offered if finite(telemetry.offered) else telemetry.commanded
        if not finite(observed):
            measured = measured_draw(charger, telemetry, phases, (self.site.voltage,) * 3)
            observed = max(measured) if measured is not None else None
        if observed is None:
            current = charger.lowest
        elif observed <= 0:
            current = 0.0
        elif not charger.can_set_current:
            current = charger.max_current
        else:
            current = min(charger.max_current, max(charger.min_current, observed))
            current = max(charger.min_current, floor_to_step(current, charger.step))
        runtime = replace(runtime, known=True, target=current, phases=phases, solar_on=current > 0)
        self.runtimes[charger.charger_id] = runtime
        return runtime

    def _idle_and_offline(self, targets: dict[str, ChargerTarget]) -> None:
        for charger in self.config.chargers:
            key = charger.charger_id
            runtime = self.runtimes[key]
            kind = self.kinds[key]
            if kind is _Kind.OFFLINE:
                targets[key] = ChargerTarget(
                    charger_id=key,
                    current=runtime.target,
                    phases=runtime.phases,
                    reason=TargetReason.OFFLINE,
                    command=False,
                    allocated=0.0,
                    changed=False,
                )
            elif kind is _Kind.IDLE:
                previous = runtime.target if runtime.known else None
                self.runtimes[key] = ChargerRuntime(
                    known=True,
                    phases=runtime.phases,
                    resumes=runtime.resumes,
                    phase_switches=runtime.phase_switches,
                    last_change_at=runtime.last_change_at,
                )
                targets[key] = self._target(charger, 0.0, TargetReason.IDLE, 0.0, previous)

    def _target(
        self,
        charger: ChargerConfig,
        current: float,
        reason: TargetReason,
        allocated: float,
        previous: float | None,
        previous_phases: int | None = None,
    ) -> ChargerTarget:
        runtime = self.runtimes[charger.charger_id]
        changed = previous is not None and (
            abs(previous - current) > _EPS
            or (previous_phases is not None and previous_phases != runtime.phases)
        )
        if changed:
            self._emit(
                EventType.ALLOCATION_CHANGED,
                charger_id=charger.charger_id,
                previous_a=previous,
                current_a=current,
                phases=runtime.phases,
                reason=reason.value,
            )
        return ChargerTarget(
            charger_id=charger.charger_id,
            current=current,
            phases=runtime.phases,
            reason=reason,
            command=True,
            allocated=allocated,
            changed=changed,
        )

    # ------------------------------------------------------------------ fallback

    def _fallback(self) -> Decision:
        site, now = self.site, self.now
        first = self.state.meter_down_since is None
        if first:
            reason = "unavailable" if self.inputs.meter is None else "stale"
            self._emit(EventType.METER_UNAVAILABLE, reason=reason, age_s=round(self.age, 3))
            self._emit(EventType.FALLBACK_ENGAGED, mode=site.fallback.value, stage="fallback")
        stop_stage = site.stop_after is not None and self.age >= site.stop_after
        if (
            stop_stage
            and not self.state.meter_stop_engaged
            and site.fallback is not FallbackMode.STOP
        ):
            self._emit(EventType.FALLBACK_ENGAGED, mode=FallbackMode.STOP.value, stage="stop")
        stop = stop_stage or site.fallback is FallbackMode.STOP
        candidates = self._candidates()
        per_phase = [0, 0, 0]
        for charger in candidates:
            runtime = self._seed(charger)
            for phase in charger.site_phases(runtime.phases):
                per_phase[phase] += 1
        targets: dict[str, ChargerTarget] = {}
        for charger in candidates:
            runtime = self.runtimes[charger.charger_id]
            previous = runtime.target
            current = 0.0 if stop else self._fallback_current(charger, runtime, per_phase)
            if current < previous - _EPS:
                runtime = replace(runtime, target=current, ramp_next_at=None, last_change_at=now)
                if current <= 0:
                    runtime = self.dynamics.pause(charger, runtime, previous, TargetReason.FALLBACK)
            self.runtimes[charger.charger_id] = runtime
            targets[charger.charger_id] = self._target(
                charger, runtime.target, TargetReason.FALLBACK, 0.0, previous
            )
        self._idle_and_offline(targets)
        return self._finish(
            OperatingState.FALLBACK,
            targets,
            meter_down_since=self.state.meter_down_since if not first else now,
            meter_stop_engaged=stop_stage,
            surplus=None,
            overload_since=(None, None, None),
            overload_cut_at=(None, None, None),
            overload_paused=(False, False, False),
        )

    def _fallback_current(
        self, charger: ChargerConfig, runtime: ChargerRuntime, per_phase: list[int]
    ) -> float:
        previous = runtime.target
        if self.site.fallback is FallbackMode.HOLD:
            return previous
        wanted = (
            charger.fallback_current
            if charger.fallback_current is not None
            else charger.min_current
        )
        # Never more than an equal share of each phase the charger uses.
        share = min(
            (self.site.phase_limits[p] - self.site.margin) / per_phase[p]
            for p in charger.site_phases(runtime.phases)
        )
        current = min(previous, wanted, share, charger.max_current)
        if current < charger.lowest - _EPS:
            return 0.0
        if not charger.can_set_current:
            return charger.max_current
        return max(charger.min_current, floor_to_step(current, charger.step))

    # ------------------------------------------------------------------ balance

    def _balance(self) -> Decision:
        site, tuning, now = self.site, self.tuning, self.now
        reading = self.last_meter
        assert reading is not None  # guaranteed by the meter state OK
        changes: dict[str, Any] = {}
        if self.state.meter_down_since is not None:
            self._emit(
                EventType.METER_RESTORED, outage_s=round(now - self.state.meter_down_since, 3)
            )
            changes.update(meter_down_since=None, meter_stop_engaged=False)
        volts = phase_voltages(site, reading)
        mean_volts = sum(volts) / len(volts)
        candidates = self._candidates()
        for charger in candidates:
            self._seed(charger)

        # Who draws what: the balanced cars' own measurements, the rest as house load.
        draws: dict[str, PhaseTriple] = {}
        balanced, others = ZERO, ZERO
        for charger in self.config.chargers:
            key = charger.charger_id
            runtime = self.runtimes[key]
            kind = self.kinds[key]
            if kind is _Kind.OFFLINE:
                held = runtime.target if runtime.known else charger.max_current
                others = add(others, on_phases(held, charger.site_phases(runtime.phases)))
                continue
            draw = car_draw(charger, self.telemetry[key], runtime.phases, runtime.target, volts)
            if kind is _Kind.CANDIDATE:
                draws[key] = draw
                balanced = add(balanced, draw)
            else:
                others = add(others, draw)
        load = site_load(site, reading, volts, balanced, others)
        limits = site.phase_limits
        headroom = tuple(limits[p] - site.margin - load.non_ev[p] for p in range(site.phases))
        power_headroom = (
            site.power_limit - load.non_ev_power if site.power_limit is not None else None
        )
        over = [load.site_current[p] > limits[p] + _EPS for p in range(site.phases)]

        surplus = self._surplus(candidates, draws, volts, load.grid_power)
        changes["surplus"] = surplus
        demands, solar_stopped, switched = self._demands(candidates, draws, surplus, mean_volts)

        overrides = {
            c.charger_id: self.inputs.overrides[c.charger_id]
            for c in candidates
            if c.charger_id in self.inputs.overrides
        }
        shares, switched_now = self._shares(
            candidates, demands, overrides, headroom, power_headroom, mean_volts
        )
        switched |= switched_now

        watchdog = OverloadWatchdog(site.phase_limits, tuning, now, self._emit, self._energy)
        self.runtimes, overload = watchdog.run(
            candidates, self.runtimes, self.state, load.site_current, over
        )
        changes.update(overload)
        hold = self.dynamics.hold_time(self.state.forced_decreases)
        forced = False
        targets: dict[str, ChargerTarget] = {}
        for charger in candidates:
            key = charger.charger_id
            runtime = self.runtimes[key]
            previous, previous_phases = runtime.target, runtime.phases
            if key in switched:
                previous_phases = 4 - runtime.phases
            share = shares[key]
            capped = runtime.overload_cap is not None and runtime.overload_cap < share
            if capped:
                share = runtime.overload_cap or 0.0
            outcome = self.dynamics.follow(
                charger,
                runtime,
                share,
                demand=demands[key],
                hold=hold,
                blocked=any(over),
                override=key in overrides,
                switched=key in switched,
                solar_stopped=key in solar_stopped,
                capped=capped,
            )
            forced = forced or outcome.forced
            self.runtimes[key] = outcome.runtime
            targets[key] = self._target(
                charger, outcome.runtime.target, outcome.reason, share, previous, previous_phases
            )
        if forced:
            window = tuning.spiky_window
            kept = tuple(t for t in self.state.forced_decreases if now - t < window)
            changes["forced_decreases"] = (*kept, now)
        self._idle_and_offline(targets)
        operating = self._operating(targets, over)
        return self._finish(
            operating,
            targets,
            available=headroom,
            non_ev=load.non_ev,
            **changes,
        )

    def _shares(
        self,
        candidates: list[ChargerConfig],
        demands: dict[str, float],
        overrides: dict[str, float],
        headroom: tuple[float, ...],
        power_headroom: float | None,
        volts: float,
    ) -> tuple[dict[str, float], set[str]]:
        """Each car's share, and the cars whose phases were switched now.

        A paused car that may not resume yet keeps no headroom, so running cars are
        never squeezed (or paused) for it; its share shows what it would get.
        """
        top_tier = 1 + max((c.priority for c in self.config.chargers), default=0)
        claims = {
            c.charger_id: self._claim(c, demands[c.charger_id], top_tier, c.charger_id in overrides)
            for c in candidates
        }
        provisional = allocate(
            list(claims.values()), headroom, power_headroom=power_headroom, voltage=volts
        )
        switched = self._switch_phases(
            candidates, claims, provisional, headroom, power_headroom, volts, overrides
        )
        waiting = {
            c.charger_id
            for c in candidates
            if c.charger_id not in overrides
            and self.runtimes[c.charger_id].paused
            and not self.dynamics.may_resume(
                c, self.runtimes[c.charger_id], provisional[c.charger_id]
            )
        }
        if not switched and not waiting:
            return provisional, switched
        for key in waiting:
            claims[key] = replace(claims[key], demand=0.0)
        final = allocate(
            list(claims.values()), headroom, power_headroom=power_headroom, voltage=volts
        )
        final.update({key: provisional[key] for key in waiting})
        return final, switched

    def _surplus(
        self,
        candidates: list[ChargerConfig],
        draws: dict[str, PhaseTriple],
        volts: tuple[float, ...],
        metered_grid: float,
    ) -> float | None:
        surplus_cars = [c for c in candidates if c.mode in _SURPLUS_MODES]
        if not surplus_cars:
            return None
        grid = self.inputs.grid_power if finite(self.inputs.grid_power) else metered_grid
        assert grid is not None
        cars = sum(
            volts[p] * draws[c.charger_id][p] for c in surplus_cars for p in range(len(volts))
        )
        raw = -grid + cars - self.config.solar.residual_power
        previous = self.state.surplus
        if self.fresh:
            return smoothed_surplus(previous, raw, self.config.solar.smoothing)
        return raw if previous is None else min(previous, raw)

    def _demands(
        self,
        candidates: list[ChargerConfig],
        draws: dict[str, PhaseTriple],
        surplus: float | None,
        volts: float,
    ) -> tuple[dict[str, float], set[str], set[str]]:
        solar, tuning, now = self.config.solar, self.tuning, self.now
        shares: dict[str, float] = {}
        if surplus is not None:
            power_claims = []
            for charger in candidates:
                if charger.mode in _SURPLUS_MODES:
                    runtime = self.runtimes[charger.charger_id]
                    demand, minimum = surplus_claim_bounds(charger, runtime, solar, volts)
                    power_claims.append(
                        PowerClaim(
                            charger_id=charger.charger_id,
                            demand=demand,
                            minimum=minimum,
                            tier=charger.priority,
                            weight=charger.weight,
                            energy=self._energy(charger),
                        )
                    )
            shares = share_power(power_claims, surplus)
        demands: dict[str, float] = {}
        stopped: set[str] = set()
        switched: set[str] = set()
        for charger in candidates:
            key = charger.charger_id
            runtime = self.runtimes[key]
            telemetry = self.telemetry[key]
            if charger.mode in _SURPLUS_MODES:
                before = runtime.phases
                outcome = solar_demand(charger, runtime, shares[key], volts, solar, tuning, now)
                runtime, demand = outcome.runtime, outcome.demand
                if runtime.phases != before:
                    switched.add(key)
                    self._emit(
                        EventType.PHASES_CHANGED,
                        charger_id=key,
                        previous=before,
                        phases=runtime.phases,
                    )
                if outcome.stopped:
                    stopped.add(key)
                recent_change = (
                    runtime.last_change_at is not None
                    and now - runtime.last_change_at < tuning.min_command_interval
                )
                if 0 < demand < runtime.target and recent_change and key not in switched:
                    demand = runtime.target  # a surplus dip waits for the command interval
            else:
                demand = charger.max_current
            if telemetry.status is ChargerStatus.SUSPENDED_EV:
                demand = min(demand, charger.lowest)  # the car takes nothing: free the rest
            runtime, cap = self._mismatch(charger, runtime, telemetry, draws[key])
            if cap is not None:
                demand = min(demand, cap)
            self.runtimes[key] = runtime
            demands[key] = demand
        return demands, stopped, switched

    def _mismatch(
        self,
        charger: ChargerConfig,
        runtime: ChargerRuntime,
        telemetry: ChargerTelemetry,
        draw: PhaseTriple,
    ) -> tuple[ChargerRuntime, float | None]:
        """Cap the offer of a car that keeps drawing well below it, probing now and then."""
        tuning, now = self.tuning, self.now
        measured = measured_draw(charger, telemetry, runtime.phases, (self.site.voltage,) * 3)
        if telemetry.status is not ChargerStatus.CHARGING or measured is None:
            return replace(runtime, mismatch_since=None, mismatch_capped_since=None), None
        drawn = max(draw[p] for p in charger.site_phases(runtime.phases))
        cap = max(charger.lowest, drawn + tuning.mismatch_margin)
        if runtime.mismatch_capped_since is not None:
            if now - runtime.mismatch_capped_since >= tuning.mismatch_probe:
                return replace(runtime, mismatch_since=None, mismatch_capped_since=None), None
            return runtime, cap
        if drawn < runtime.target - tuning.mismatch_margin - _EPS:
            since = runtime.mismatch_since if runtime.mismatch_since is not None else now
            if now - since >= tuning.mismatch_delay:
                return replace(runtime, mismatch_since=since, mismatch_capped_since=now), cap
            return replace(runtime, mismatch_since=since), None
        return replace(runtime, mismatch_since=None), None

    def _energy(self, charger: ChargerConfig) -> float:
        energy = self.telemetry[charger.charger_id].session_energy
        return energy if energy is not None and math.isfinite(energy) else 0.0

    def _claim(self, charger: ChargerConfig, demand: float, top_tier: int, override: bool) -> Claim:
        runtime = self.runtimes[charger.charger_id]
        if override:
            wanted = self.inputs.overrides[charger.charger_id]
            demand = min(charger.max_current, max(0.0, wanted))
            if demand < charger.lowest:
                demand = 0.0
        return Claim(
            charger_id=charger.charger_id,
            phases=charger.site_phases(runtime.phases),
            demand=demand,
            min_current=charger.lowest,
            step=charger.step if charger.can_set_current else charger.max_current,
            tier=top_tier if override else charger.priority,
            weight=charger.weight,
            energy=self._energy(charger),
        )

    def _switch_phases(
        self,
        candidates: list[ChargerConfig],
        claims: dict[str, Claim],
        allocation: dict[str, float],
        headroom: tuple[float, ...],
        power_headroom: float | None,
        volts: float,
        overrides: dict[str, float],
    ) -> set[str]:
        """Fast-mode phase choice: the configuration that delivers more power wins."""
        solar, tuning, now = self.config.solar, self.tuning, self.now
        switched: set[str] = set()
        for charger in candidates:
            key = charger.charger_id
            if not charger.phase_switching or charger.mode in _SURPLUS_MODES or key in overrides:
                continue
            runtime = self.runtimes[key]
            other = 4 - runtime.phases
            trial = dict(claims)
            trial[key] = replace(claims[key], phases=charger.site_phases(other))
            alternative = allocate(
                list(trial.values()), headroom, power_headroom=power_headroom, voltage=volts
            )[key]
            now_power = allocation[key] * runtime.phases
            alt_power = alternative * other
            margin = tuning.phase_hysteresis / volts
            if alternative <= 0 or alt_power < now_power + margin:
                self.runtimes[key] = replace(runtime, phase_since=None)
                continue
            # Switch at once rather than pause, or when the car draws nothing yet.
            immediate = allocation[key] <= 0 or runtime.target <= 0
            delay = solar.disable_delay if runtime.phases == 3 else solar.enable_delay
            since = runtime.phase_since if runtime.phase_since is not None else now
            if (immediate or now - since >= delay) and switch_allowed(runtime, tuning, now):
                runtime = record_switch(runtime, other, now)
                claims[key] = trial[key]
                switched.add(key)
                self._emit(
                    EventType.PHASES_CHANGED, charger_id=key, previous=4 - other, phases=other
                )
            else:
                runtime = replace(runtime, phase_since=since)
            self.runtimes[key] = runtime
        return switched

    def _operating(self, targets: dict[str, ChargerTarget], over: list[bool]) -> OperatingState:
        if any(over):
            return OperatingState.OVERLOAD
        driven = [t for t in targets.values() if t.command and t.reason is not TargetReason.IDLE]
        if any(t.changed for t in driven):
            return OperatingState.ADJUSTING
        if any(t.reason is TargetReason.RAMP_HOLD for t in driven):
            return OperatingState.RAMP_HOLD
        if any(t.paused for t in driven) and not any(t.current > 0 for t in driven):
            return OperatingState.PAUSED
        return OperatingState.ACTIVE
