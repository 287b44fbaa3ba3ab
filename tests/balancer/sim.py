"""A small site simulation that drives ``step`` like the controller would.

Cars follow the offered current by the next cycle (the meter reading of cycle n
sees the offers decided in cycle n - 1), unless told to draw something else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from custom_components.ev_charging.balancer.algorithm import step
from custom_components.ev_charging.balancer.model import (
    BalancerConfig,
    BalancerState,
    ChargerConfig,
    ChargerTelemetry,
    Decision,
    Inputs,
    MeterKind,
    MeterReading,
    initial_state,
)
from custom_components.ev_charging.models import ChargerStatus


@dataclass
class Car:
    """A charger with a car behind it."""

    status: ChargerStatus = ChargerStatus.CHARGING
    offered: float = 0.0
    phases: int = 1
    draw_cap: float | None = None  # the car takes at most this
    ignores_limit: float | None = None  # the car draws this whatever is offered
    online: bool = True
    measures: bool = True  # the charger reports phase currents
    energy: float | None = None

    def draw(self) -> float:
        """What the car draws per used phase now."""
        if self.ignores_limit is not None:
            return self.ignores_limit
        if self.status is not ChargerStatus.CHARGING:
            return 0.0
        if self.draw_cap is not None:
            return min(self.offered, self.draw_cap)
        return self.offered

    def follow(self, offered: float, phases: int) -> None:
        """Apply a command the way a charger and car react to it."""
        self.offered = offered
        self.phases = phases
        if offered <= 0 and self.status is ChargerStatus.CHARGING:
            self.status = ChargerStatus.SUSPENDED_EVSE
        elif offered > 0 and self.status in (
            ChargerStatus.SUSPENDED_EVSE,
            ChargerStatus.PLUGGED,
        ):
            self.status = ChargerStatus.CHARGING


@dataclass
class Sim:
    """The site, its cars and the balancer, ticking once a second."""

    config: BalancerConfig
    house: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # A per phase, signed
    cars: dict[str, Car] = field(default_factory=dict)
    now: float = 0.0
    state: BalancerState | None = None
    meter_live: bool = True  # False: the reading is not refreshed (a silent meter)
    meter_unavailable: bool = False
    grid_power: float | None = None
    enabled: bool = True
    history: list[tuple[float, Decision]] = field(default_factory=list)
    last_reading: MeterReading | None = None  # what the meter entity shows

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = initial_state(self.now)

    # -- the physical site

    def charger(self, key: str) -> ChargerConfig:
        return next(c for c in self.config.chargers if c.charger_id == key)

    def car_phase_draw(self) -> list[float]:
        """Cars' current per site phase."""
        total = [0.0, 0.0, 0.0]
        for key, car in self.cars.items():
            charger = self.charger(key)
            for site_phase in charger.rotation[: car.phases]:
                total[site_phase] += car.draw()
        return total

    def site_currents(self) -> list[float]:
        cars = self.car_phase_draw()
        return [self.house[p] + cars[p] for p in range(3)]

    def reading(self) -> MeterReading:
        site = self.config.site
        cars = self.car_phase_draw() if site.meter_includes_chargers else [0.0, 0.0, 0.0]
        amps = [self.house[p] + cars[p] for p in range(site.phases)]
        if site.meter_kind is MeterKind.PHASE_CURRENTS:
            values: tuple[float | None, ...] = tuple(amps)
        elif site.meter_kind is MeterKind.PHASE_POWERS:
            values = tuple(a * site.voltage for a in amps)
        else:
            values = (sum(amps) * site.voltage,)
        return MeterReading(at=self.now, values=values)

    def telemetry(self) -> tuple[ChargerTelemetry, ...]:
        result = []
        for key, car in self.cars.items():
            draw = car.draw()
            currents: tuple[float | None, float | None, float | None] | None = None
            if car.measures:
                currents = (
                    draw,
                    draw if car.phases == 3 else 0.0,
                    draw if car.phases == 3 else 0.0,
                )
            result.append(
                ChargerTelemetry(
                    charger_id=key,
                    status=car.status,
                    online=car.online,
                    currents=currents,
                    offered=car.offered,
                    active_phases=car.phases,
                    session_energy=car.energy,
                )
            )
        return tuple(result)

    # -- the controller

    def inputs(self, overrides: dict[str, float] | None = None) -> Inputs:
        if self.meter_live or self.last_reading is None:
            self.last_reading = self.reading()
        return Inputs(
            meter=None if self.meter_unavailable else self.last_reading,
            chargers=self.telemetry(),
            grid_power=self.grid_power,
            enabled=self.enabled,
            overrides=overrides or {},
        )

    def tick(self, overrides: dict[str, float] | None = None) -> Decision:
        """One cycle at ``now``: read, decide, let the cars follow."""
        assert self.state is not None
        decision = step(self.config, self.state, self.inputs(overrides), self.now)
        self.state = decision.state
        for key, target in decision.targets.items():
            if target.command and key in self.cars:
                self.cars[key].follow(target.current, target.phases)
        self.history.append((self.now, decision))
        return decision

    def run_until(self, until: float, every: float = 1.0) -> Decision:
        """Tick every ``every`` s from the next tick up to and including ``until``."""
        decision = self.history[-1][1] if self.history else self.tick()
        while self.now + every <= until + 1e-9:
            self.now += every
            decision = self.tick()
        return decision

    # -- what happened

    def currents(self, key: str) -> list[tuple[float, float]]:
        """(time, target) of every cycle for one charger."""
        return [(t, d.targets[key].current) for t, d in self.history if key in d.targets]

    def changes(self, key: str) -> list[tuple[float, float]]:
        """(time, new target) of the cycles where the target changed."""
        return [
            (t, d.targets[key].current)
            for t, d in self.history
            if key in d.targets and d.targets[key].changed
        ]

    def target_at(self, key: str, when: float) -> float:
        for t, d in self.history:
            if abs(t - when) < 1e-9:
                return d.targets[key].current
        raise KeyError(when)

    def events(self, kind: object) -> list[tuple[float, dict[str, object]]]:
        return [(t, dict(e.data)) for t, d in self.history for e in d.events if e.type == kind]


def chargers(*configs: ChargerConfig) -> tuple[ChargerConfig, ...]:
    return tuple(configs)


def first_time(history: Sequence[tuple[float, float]], value: float) -> float | None:
    """When a target first reached ``value``."""
    for t, current in history:
        if abs(current - value) < 1e-9:
            return t
    return None
