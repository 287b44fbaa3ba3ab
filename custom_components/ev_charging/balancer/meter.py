"""Reading the site meter's entities into a ``MeterReading``."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util

from .model import MeterKind, MeterReading
from .readings import is_unavailable, to_amps, to_watts
from .settings import BalancerSettings


def _unit(state: State) -> str | None:
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    return unit if isinstance(unit, str) else None


def read_meter(hass: HomeAssistant, settings: BalancerSettings, now: float) -> MeterReading | None:
    """The meter as the algorithm reads it; ``None`` while an entity is unavailable.

    ``at`` maps the oldest ``last_reported`` of the entities onto the controller's
    clock (``now``): a value Home Assistant saw again without a change still counts as
    fresh, a meter that stopped reporting ages.
    """
    states = [hass.states.get(entity_id) for entity_id in settings.meter_entities]
    present = [s for s in states if s is not None and not is_unavailable(s.state)]
    if not states or len(present) != len(states):
        return None
    convert = to_amps if settings.meter_kind is MeterKind.PHASE_CURRENTS else to_watts
    values = tuple(convert(state.state, _unit(state)) for state in present)
    oldest = min(state.last_reported for state in present)
    age = max(0.0, (dt_util.utcnow() - oldest).total_seconds())
    return MeterReading(at=now - age, values=values)


def read_power(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """A power entity in W (the grid power for the surplus modes)."""
    state = hass.states.get(entity_id) if entity_id else None
    if state is None:
        return None
    return to_watts(state.state, _unit(state))


def site_power(
    settings: BalancerSettings, reading: MeterReading | None, chargers_w: Iterable[float]
) -> float | None:
    """W through the grid connection (import positive), from the meter's last reading."""
    if reading is None or any(v is None for v in reading.values):
        return None
    values = [float(v) for v in reading.values if v is not None]
    if settings.meter_kind is MeterKind.PHASE_CURRENTS:
        power = sum(values) * settings.voltage
    else:
        power = sum(values)
    if not settings.meter_includes_chargers:
        power += sum(chargers_w)
    return power
