"""Entity description types shared by the platforms and the vendor-only tables.

An entity is data: a frozen description with the functions that read or drive it,
and an ``exists_fn`` on the charge port's :class:`ChargerInfo` (its capabilities)
deciding at setup whether the entity exists at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.sensor import SensorEntityDescription
from homeassistant.helpers.typing import StateType

from .backends.base import Backend
from .models import ChargerInfo, ChargerState


def always(_: ChargerInfo) -> bool:
    """An entity every charge port has."""
    return True


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """A sensor read from the live state (``value_fn``) or the static info (``info_fn``)."""

    value_fn: Callable[[ChargerState], StateType | datetime] | None = None
    info_fn: Callable[[ChargerInfo], StateType] | None = None
    attrs_fn: Callable[[ChargerState], dict[str, Any]] | None = None
    exists_fn: Callable[[ChargerInfo], bool] = always
    # A unit only the live state knows (a cost in the vendor's currency); when it
    # returns None the description's unit stands.
    unit_fn: Callable[[ChargerState], str | None] | None = None


@dataclass(frozen=True, kw_only=True)
class ChargerBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor read from the live state."""

    value_fn: Callable[[ChargerState], bool | None]
    exists_fn: Callable[[ChargerInfo], bool] = always
    # Connectivity must say "off" when the connection is lost, not go unavailable.
    always_available: bool = False


type CommandFn = Callable[[Backend, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class VendorDescriptions:
    """Entities that exist for one vendor alone (its extra registers)."""

    sensors: tuple[ChargerSensorDescription, ...] = ()
    binary_sensors: tuple[ChargerBinarySensorDescription, ...] = ()
