"""Reading the site meter: validity, phase currents, non-EV load and grid power."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

from ..models import ChargerStatus
from .model import (
    ChargerConfig,
    ChargerTelemetry,
    MeterKind,
    MeterReading,
    SiteConfig,
    TotalPowerSplit,
    finite,
)

PLAUSIBLE_VOLTAGE = (80.0, 300.0)  # V phase-to-neutral; outside it the nominal value is used

PhaseTriple = tuple[float, float, float]
ZERO: PhaseTriple = (0.0, 0.0, 0.0)


def reading_valid(site: SiteConfig, reading: MeterReading) -> bool:
    """Whether every value is a number of the right count and a believable size."""
    expected = 1 if site.meter_kind is MeterKind.TOTAL_POWER else site.phases
    if len(reading.values) != expected:
        return False
    bound = site.max_meter_power
    if site.meter_kind is MeterKind.PHASE_CURRENTS:
        bound /= site.voltage
    return all(finite(v) and abs(v) <= bound for v in reading.values)


def phase_voltages(site: SiteConfig, reading: MeterReading | None) -> tuple[float, ...]:
    """Volts per site phase: measured where plausible, nominal otherwise."""
    measured: Sequence[float | None] = (
        reading.voltages if reading is not None and reading.voltages is not None else ()
    )
    volts = []
    for phase in range(site.phases):
        value = measured[phase] if phase < len(measured) else None
        low, high = PLAUSIBLE_VOLTAGE
        ok = value is not None and math.isfinite(value) and low <= value <= high
        volts.append(value if ok and value is not None else site.voltage)
    return tuple(volts)


def add(a: PhaseTriple, b: PhaseTriple) -> PhaseTriple:
    """Phase-wise sum."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def on_phases(current: float, phases: Sequence[int]) -> PhaseTriple:
    """``current`` on each of ``phases``, zero elsewhere."""
    return (
        current if 0 in phases else 0.0,
        current if 1 in phases else 0.0,
        current if 2 in phases else 0.0,
    )


def measured_draw(
    charger: ChargerConfig, telemetry: ChargerTelemetry, phases: int, volts: Sequence[float]
) -> PhaseTriple | None:
    """The car's measured current per site phase, ``None`` when nothing is measured."""
    used = charger.site_phases(phases)
    if telemetry.currents is not None and any(finite(v) for v in telemetry.currents):
        # A phase the charger does not report counts as 0: the safe side when the
        # meter includes the car (its load is then counted as house load).
        values = [v if finite(v) else 0.0 for v in telemetry.currents]
        draw = [0.0, 0.0, 0.0]
        for index, site_phase in enumerate(used):
            draw[site_phase] += max(0.0, values[index])
        return (draw[0], draw[1], draw[2])
    power = telemetry.power
    if finite(power):
        mean_volts = sum(volts) / len(volts)
        return on_phases(max(0.0, power) / (mean_volts * phases), used)
    return None


def car_draw(
    charger: ChargerConfig,
    telemetry: ChargerTelemetry,
    phases: int,
    commanded: float,
    volts: Sequence[float],
) -> PhaseTriple:
    """Best estimate of the car's current per site phase.

    The charger's own measurement wins (not the commanded value: a car often draws
    less). Without one, a charging car is assumed to draw its commanded current.
    """
    measured = measured_draw(charger, telemetry, phases, volts)
    if measured is not None:
        return measured
    if telemetry.status is ChargerStatus.CHARGING:
        return on_phases(commanded, charger.site_phases(phases))
    return ZERO


@dataclass(frozen=True, slots=True)
class SiteLoad:
    """The meter reading turned into currents."""

    site_current: tuple[float, ...]  # A per site phase through the main breaker (signed)
    non_ev: tuple[float, ...]  # A per site phase that is not ours to share (>= 0)
    non_ev_power: float  # W of that load (>= 0)
    grid_power: float  # W at the grid connection, import positive


def site_load(
    site: SiteConfig,
    reading: MeterReading,
    volts: Sequence[float],
    balanced_cars: PhaseTriple,
    other_cars: PhaseTriple,
) -> SiteLoad:
    """Split the metered load into the part we balance and the rest.

    ``balanced_cars`` is the draw of the chargers being allocated; ``other_cars``
    the draw of chargers that are not (offline, idle, off), which always counts as
    non-EV load. Negative load (export) never adds breaker capacity: a cloud can
    take it away within a second.
    """
    n = site.phases
    values = [float(v) for v in reading.values if v is not None]
    includes = site.meter_includes_chargers
    mean_volts = sum(volts) / n
    cars_power = sum(volts[p] * (balanced_cars[p] + other_cars[p]) for p in range(n))
    if site.meter_kind is MeterKind.TOTAL_POWER:
        total = values[0]
        house = total - sum(volts[p] * balanced_cars[p] for p in range(n)) if includes else total
        share = 1.0 if site.total_power_split is TotalPowerSplit.WORST_CASE else 1.0 / n
        through = total if includes else total + cars_power
        site_current = tuple(through * share / mean_volts for _ in range(n))
        split = max(0.0, house) * share / mean_volts
        extra = ZERO if includes else other_cars
        non_ev = tuple(split + extra[p] for p in range(n))
        non_ev_power = max(0.0, house) + (
            0.0 if includes else sum(volts[p] * other_cars[p] for p in range(n))
        )
        return SiteLoad(site_current, non_ev, non_ev_power, through)
    if site.meter_kind is MeterKind.PHASE_POWERS:
        measured = tuple(values[p] / volts[p] for p in range(n))
    else:
        measured = tuple(values[:n])
    if includes:
        non_ev = tuple(max(0.0, measured[p] - balanced_cars[p]) for p in range(n))
    else:
        non_ev = tuple(max(0.0, measured[p]) + other_cars[p] for p in range(n))
    if includes:
        site_current = measured
    else:
        site_current = tuple(measured[p] + balanced_cars[p] + other_cars[p] for p in range(n))
    grid = sum(volts[p] * site_current[p] for p in range(n))
    return SiteLoad(site_current, non_ev, sum(volts[p] * non_ev[p] for p in range(n)), grid)
