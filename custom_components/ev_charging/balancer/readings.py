"""Turning Home Assistant state strings into numbers the balancer can use.

Pure helpers for the controller: a state that is not a finite number (``abc``,
``nan``, ``unavailable``) becomes ``None``; units are normalized to W and A.
"""

from __future__ import annotations

import math

POWER_UNITS = {"W": 1.0, "kW": 1_000.0, "MW": 1_000_000.0}
CURRENT_UNITS = {"A": 1.0, "mA": 0.001}
UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", "none", ""})


def parse_number(state: str | float | None) -> float | None:
    """``state`` as a finite float, or ``None``."""
    if state is None:
        return None
    if isinstance(state, str):
        if state.strip().lower() in UNAVAILABLE_STATES:
            return None
        try:
            value = float(state)
        except ValueError:
            return None
    else:
        value = float(state)
    return value if math.isfinite(value) else None


def is_unavailable(state: str | None) -> bool:
    """Whether Home Assistant reports the entity as unavailable or unknown."""
    return state is None or state.strip().lower() in UNAVAILABLE_STATES


def to_watts(state: str | float | None, unit: str | None) -> float | None:
    """A power state in W; ``None`` when it is not a number or the unit is unknown."""
    value = parse_number(state)
    factor = POWER_UNITS.get(unit or "W")
    if value is None or factor is None:
        return None
    return value * factor


def to_amps(state: str | float | None, unit: str | None) -> float | None:
    """A current state in A; ``None`` when it is not a number or the unit is unknown."""
    value = parse_number(state)
    factor = CURRENT_UNITS.get(unit or "A")
    if value is None or factor is None:
        return None
    return value * factor
