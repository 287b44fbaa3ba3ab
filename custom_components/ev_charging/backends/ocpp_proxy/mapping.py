"""Read the ``ocpp`` integration's entity states as charger values.

Facts this relies on (measured, see the project's ``ocpp_entities`` reference):

* the connector status is the OCPP 1.6 ChargePointStatus string, verbatim;
* ``power_active_import`` is in kW (the sum of the phases), its per-phase attributes
  ``L1``..``L3`` in W (attribute ``unit``);
* ``current_import`` is the average of the non-zero phases, the phases in attributes;
  ``voltage`` is the average of ``L1-N``..``L3-N``;
* on SuspendedEV/EVSE and StopTransaction the aggregate is set to ``0`` at once while
  the phase attributes keep the last sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import State

from ...models import ChargerStatus, Phases

# OCPP 1.6 ChargePointStatus (connector) -> normalized status.  "Reserved" has no car
# plugged in; "Unavailable" is a connector made inoperative: online, but not usable.
STATUS_TABLE: Final[Mapping[str, ChargerStatus]] = {
    "Available": ChargerStatus.AVAILABLE,
    "Preparing": ChargerStatus.PLUGGED,
    "Charging": ChargerStatus.CHARGING,
    "SuspendedEV": ChargerStatus.SUSPENDED_EV,
    "SuspendedEVSE": ChargerStatus.SUSPENDED_EVSE,
    "Finishing": ChargerStatus.FINISHING,
    "Reserved": ChargerStatus.AVAILABLE,
    "Unavailable": ChargerStatus.UNKNOWN,
    "Faulted": ChargerStatus.FAULTED,
}
# The statuses in which a transaction delivers (or may deliver) energy; the
# integration's charge-control switch reads "on" in exactly these.
ACTIVE_STATUSES: Final = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})

_POWER_SCALE: Final = {"W": 1.0, "kW": 1000.0}
_ENERGY_SCALE: Final = {"Wh": 0.001, "kWh": 1.0}
_PHASES: Final = ("L1", "L2", "L3")
_VOLTAGE_PHASES: Final = ("L1-N", "L2-N", "L3-N")


def known(state: State | None) -> bool:
    """Whether ``state`` carries a value (not missing, unknown or unavailable)."""
    return state is not None and state.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE, "")


def as_float(state: State | None) -> float | None:
    """The numeric value of a state, None when it has none."""
    if not known(state):
        return None
    assert state is not None
    try:
        return float(state.state)
    except ValueError:
        return None


def map_status(state: State | None) -> ChargerStatus:
    """The normalized status of the connector's status entity."""
    if state is None:
        return ChargerStatus.UNKNOWN
    if state.state == STATE_UNAVAILABLE:
        return ChargerStatus.OFFLINE
    return STATUS_TABLE.get(state.state, ChargerStatus.UNKNOWN)


def _phase_values(attrs: Mapping[str, Any], keys: tuple[str, ...]) -> list[float | None]:
    values: list[float | None] = []
    for key in keys:
        try:
            values.append(float(attrs[key]))
        except (KeyError, TypeError, ValueError):
            values.append(None)
    return values


def _phases(state: State | None, keys: tuple[str, ...], scale: float = 1.0) -> Phases | None:
    """Per-phase values from the attributes; zeros when the aggregate was zeroed."""
    aggregate = as_float(state)
    if aggregate is None or state is None:
        return None
    values = _phase_values(state.attributes, keys)
    if all(v is None for v in values):
        return None
    if aggregate == 0:
        # Zeroed at SuspendedEV/EVSE or StopTransaction: the attributes are stale.
        values = [None if v is None else 0.0 for v in values]
    scaled = [None if v is None else v * scale for v in values]
    return Phases(*scaled)


def power_w(state: State | None) -> float | None:
    """Active power import in W (the sensor is in kW)."""
    value = as_float(state)
    if value is None or state is None:
        return None
    unit = state.attributes.get("unit_of_measurement", "kW")
    return value * _POWER_SCALE.get(unit, 1000.0)


def phase_powers(state: State | None) -> Phases | None:
    """Per-phase power in W from the attributes (in the charger's unit, usually W)."""
    if state is None:
        return None
    scale = _POWER_SCALE.get(state.attributes.get("unit", "W"), 1.0)
    return _phases(state, _PHASES, scale)


def phase_currents(state: State | None) -> Phases | None:
    """Per-phase current in A."""
    return _phases(state, _PHASES)


def phase_voltages(state: State | None) -> Phases | None:
    """Per-phase voltage (line to neutral) in V."""
    return _phases(state, _VOLTAGE_PHASES)


def energy_kwh(state: State | None) -> float | None:
    """An energy sensor in kWh."""
    value = as_float(state)
    if value is None or state is None:
        return None
    unit = state.attributes.get("unit_of_measurement", "kWh")
    return value * _ENERGY_SCALE.get(unit, 1.0)


def transaction_id(state: State | None) -> str | None:
    """The running transaction id; the integration shows ``0`` once it stopped."""
    if not known(state):
        return None
    assert state is not None
    value = state.state.strip()
    try:
        if int(float(value)) == 0:
            return None
    except ValueError:
        return value or None
    return value


def text(state: State | None) -> str | None:
    """A text value (id tag, error code, stop reason); None when empty or unknown."""
    if not known(state):
        return None
    assert state is not None
    return state.state


def active_phases(currents: Phases | None, threshold: float = 1.0) -> int | None:
    """How many phases carry current."""
    if currents is None:
        return None
    return sum(1 for value in currents.as_tuple() if value is not None and value >= threshold)
