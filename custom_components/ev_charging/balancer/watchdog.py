"""The overload watchdog: the last line when a car ignores its limit.

The allocation already lowers cars when the house load rises. This catches what it
cannot see: a phase that stays above its limit (no margin) after commands had time
to settle, typically because a charger does not follow its limit. The cars on that
phase are cut by the excess, lowest priority first, down to their minimums; if the
phase is still over after a longer delay they are paused and a repair is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .allocation import floor_to_step, rank_key
from .dynamics import Emit
from .model import (
    PHASE_NAMES,
    BalancerState,
    ChargerConfig,
    ChargerRuntime,
    EventType,
    Tuning,
)


class OverloadWatchdog:
    """Runs once per cycle at ``now``."""

    def __init__(
        self,
        limits: tuple[float, ...],
        tuning: Tuning,
        now: float,
        emit: Emit,
        energy: Callable[[ChargerConfig], float],
    ) -> None:
        self.limits = limits
        self.tuning = tuning
        self.now = now
        self.emit = emit
        self.energy = energy

    def run(
        self,
        candidates: list[ChargerConfig],
        runtimes: dict[str, ChargerRuntime],
        state: BalancerState,
        site_current: tuple[float, ...],
        over: list[bool],
    ) -> tuple[dict[str, ChargerRuntime], dict[str, Any]]:
        """Cut, then pause, the chargers on a phase that stays above its limit."""
        tuning, now = self.tuning, self.now
        runtimes = dict(runtimes)
        since = list(state.overload_since)
        cut_at = list(state.overload_cut_at)
        paused = list(state.overload_paused)
        limits = self.limits
        for phase in range(3):
            if phase >= len(over) or not over[phase]:
                since[phase], cut_at[phase], paused[phase] = None, None, False
                continue
            previous_start = since[phase]
            start = previous_start if previous_start is not None else now
            since[phase] = start
            on_phase = sorted(
                (
                    c
                    for c in candidates
                    if phase in c.site_phases(runtimes[c.charger_id].phases)
                    and runtimes[c.charger_id].target > 0
                ),
                key=lambda c: rank_key(c.priority, c.weight, self.energy(c), c.charger_id),
                reverse=True,
            )
            last_cut = cut_at[phase]
            if now - start >= tuning.overload_delay and (
                last_cut is None or now - last_cut >= tuning.overload_delay
            ):
                excess = site_current[phase] - limits[phase]
                cut: dict[str, float] = {}
                for charger in on_phase:
                    runtime = runtimes[charger.charger_id]
                    lowered = max(charger.lowest, runtime.target - excess)
                    if charger.can_set_current:
                        lowered = max(charger.lowest, floor_to_step(lowered, charger.step))
                    if lowered < runtime.target and excess > 0:
                        excess -= runtime.target - lowered
                        cut[charger.charger_id] = lowered
                        _cap(runtimes, charger.charger_id, lowered)
                cut_at[phase] = now
                if cut:
                    self.emit(
                        EventType.OVERLOAD,
                        phase=PHASE_NAMES[phase],
                        measured_a=round(site_current[phase], 3),
                        limit_a=limits[phase],
                        stage="cut",
                        chargers=cut,
                        repair=False,
                    )
            if now - start >= tuning.overload_pause_delay and not paused[phase]:
                for charger in on_phase:
                    _cap(runtimes, charger.charger_id, 0.0)
                paused[phase] = True
                self.emit(
                    EventType.OVERLOAD,
                    phase=PHASE_NAMES[phase],
                    measured_a=round(site_current[phase], 3),
                    limit_a=limits[phase],
                    stage="pause",
                    chargers={c.charger_id: 0.0 for c in on_phase},
                    repair=True,
                )
        for charger in candidates:
            runtime = runtimes[charger.charger_id]
            used = charger.site_phases(runtime.phases)
            if runtime.overload_cap is not None and not any(
                p < len(over) and over[p] for p in used
            ):
                runtimes[charger.charger_id] = replace(runtime, overload_cap=None)
        return runtimes, {
            "overload_since": tuple(since),
            "overload_cut_at": tuple(cut_at),
            "overload_paused": tuple(paused),
        }


def _cap(runtimes: dict[str, ChargerRuntime], key: str, cap: float) -> None:
    """Lower (never raise) a charger's watchdog cap."""
    runtime = runtimes[key]
    current = runtime.overload_cap
    lowest = cap if current is None else min(current, cap)
    runtimes[key] = replace(runtime, overload_cap=lowest)
