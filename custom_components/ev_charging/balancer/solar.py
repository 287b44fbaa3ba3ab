"""Surplus charging (solar, min_solar) and automatic 1p/3p switching.

The surplus is what the grid connection exports plus what the surplus-mode cars
already draw, minus the residual set-point. It is shared between those cars with
the same tiers and weights as the breaker headroom; each car then runs an
enable/disable timer pair (evcc semantics) and, when it can, a phase-switch timer.
The breaker always wins: the result is only a demand for the allocation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .model import ChargeMode, ChargerConfig, ChargerRuntime, SolarConfig, Tuning

HOUR = 3600.0


def smoothed_surplus(previous: float | None, raw: float, factor: float) -> float:
    """Rises are smoothed (an EMA over about two readings), falls are taken at once."""
    if previous is None or raw <= previous:
        return raw
    return previous + factor * (raw - previous)


def surplus_claim_bounds(
    charger: ChargerConfig, runtime: ChargerRuntime, solar: SolarConfig, volts: float
) -> tuple[float, float]:
    """(demand W, minimum W) of a surplus-mode charger in the surplus share."""
    widest = 3 if charger.phase_switching else runtime.phases
    narrowest = 1 if charger.phase_switching else runtime.phases
    demand = charger.max_current * volts * widest
    if charger.mode is ChargeMode.MIN_SOLAR:
        return demand, 0.0
    threshold = solar.disable_threshold if runtime.solar_on else solar.enable_threshold
    return demand, max(0.0, charger.lowest * volts * narrowest - threshold)


def switch_allowed(runtime: ChargerRuntime, tuning: Tuning, now: float) -> bool:
    """Whether the contactor may switch again (spacing and hourly budget)."""
    recent = [t for t in runtime.phase_switches if now - t < HOUR]
    if len(recent) >= tuning.max_phase_switches_per_hour:
        return False
    return not recent or now - max(recent) >= tuning.phase_switch_interval


def record_switch(runtime: ChargerRuntime, phases: int, now: float) -> ChargerRuntime:
    """The runtime after switching to ``phases``."""
    kept = tuple(t for t in runtime.phase_switches if now - t < HOUR)
    return replace(
        runtime, phases=phases, phase_since=None, phase_switches=(*kept, now), ramp_next_at=None
    )


@dataclass(frozen=True, slots=True)
class SolarOutcome:
    """A surplus-mode charger's demand this cycle."""

    runtime: ChargerRuntime
    demand: float  # A; 0 while it waits for surplus
    stopped: bool  # the disable delay ran out this cycle


def solar_demand(
    charger: ChargerConfig,
    runtime: ChargerRuntime,
    share: float,
    volts: float,
    solar: SolarConfig,
    tuning: Tuning,
    now: float,
) -> SolarOutcome:
    """Run the enable/disable and phase timers for one surplus-mode charger.

    ``share`` is its share of the surplus in W.
    """
    minimum = charger.lowest
    always = charger.mode is ChargeMode.MIN_SOLAR
    if not always and not runtime.solar_on:
        narrowest = 1 if charger.phase_switching else runtime.phases
        if share < minimum * volts * narrowest - solar.enable_threshold:
            return SolarOutcome(replace(runtime, solar_enable_since=None), 0.0, False)
        since = runtime.solar_enable_since if runtime.solar_enable_since is not None else now
        if now - since < solar.enable_delay:
            return SolarOutcome(replace(runtime, solar_enable_since=since), 0.0, False)
        runtime = replace(runtime, solar_on=True, solar_enable_since=None, solar_disable_since=None)
    if runtime.target <= 0 and charger.phase_switching:
        # Not drawing: pick the phases now, no timers (nothing to interrupt).
        wanted = 3 if share >= minimum * volts * 3 else 1
        if wanted != runtime.phases and switch_allowed(runtime, tuning, now):
            runtime = record_switch(runtime, wanted, now)
    elif charger.phase_switching:
        runtime = _phase_timer(charger, runtime, share, volts, solar, tuning, now)
    phases = runtime.phases
    amps = min(charger.max_current, share / (volts * phases))
    if always:
        return SolarOutcome(runtime, max(minimum, amps), False)
    if share >= minimum * volts * phases - solar.disable_threshold:
        return SolarOutcome(replace(runtime, solar_disable_since=None), max(minimum, amps), False)
    since = runtime.solar_disable_since if runtime.solar_disable_since is not None else now
    if now - since < solar.disable_delay:
        # Hold at the minimum (importing a little) until the delay runs out.
        return SolarOutcome(replace(runtime, solar_disable_since=since), minimum, False)
    stopped = replace(runtime, solar_on=False, solar_disable_since=None, phase_since=None)
    return SolarOutcome(stopped, 0.0, True)


def _phase_timer(
    charger: ChargerConfig,
    runtime: ChargerRuntime,
    share: float,
    volts: float,
    solar: SolarConfig,
    tuning: Tuning,
    now: float,
) -> ChargerRuntime:
    """3p -> 1p when three phases fall below the minimum; 1p -> 3p when one is not enough."""
    minimum = charger.lowest
    if runtime.phases == 3:
        wanted = share < minimum * volts * 3
        delay = solar.disable_delay
        feasible = charger.mode is ChargeMode.MIN_SOLAR or (
            share >= minimum * volts - solar.disable_threshold
        )
    else:
        wanted = (
            share >= minimum * volts * 3 + tuning.phase_hysteresis
            and share > charger.max_current * volts
        )
        delay = solar.enable_delay
        feasible = True
    if not wanted:
        return replace(runtime, phase_since=None)
    since = runtime.phase_since if runtime.phase_since is not None else now
    if now - since >= delay and feasible and switch_allowed(runtime, tuning, now):
        return record_switch(runtime, 4 - runtime.phases, now)
    return replace(runtime, phase_since=since)
