"""The normalized charger model shared by every backend.

Pure: no Home Assistant imports. Units are plain SI-style units a user reads on a
wallbox: power W, energy kWh, current A (per phase where known), voltage V,
durations s, timestamps aware UTC. A value a backend cannot know is ``None``; an
estimate is flagged as one (``power_estimated``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Flag, StrEnum, auto


class ChargerStatus(StrEnum):
    """One normalized status; each backend maps its vendor states onto it in one table."""

    AVAILABLE = "available"  # no car
    PLUGGED = "plugged"  # car connected, not (yet) charging: preparing / waiting for start
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"  # the car does not take current (full, schedule)
    SUSPENDED_EVSE = "suspended_evse"  # the charger offers no current (paused, limited)
    FINISHING = "finishing"
    FAULTED = "faulted"
    OFFLINE = "offline"  # the charger does not talk to its controller / cloud
    UNKNOWN = "unknown"

    @property
    def car_connected(self) -> bool:
        """Whether a car is plugged in."""
        return self in _PLUGGED_STATES

    @property
    def charging(self) -> bool:
        """Whether energy flows to the car."""
        return self is ChargerStatus.CHARGING


_PLUGGED_STATES = frozenset(
    {
        ChargerStatus.PLUGGED,
        ChargerStatus.CHARGING,
        ChargerStatus.SUSPENDED_EV,
        ChargerStatus.SUSPENDED_EVSE,
        ChargerStatus.FINISHING,
    }
)


class Capability(Flag):
    """What a backend can read or do for a charger; entity descriptions are gated on these."""

    NONE = 0
    START_STOP = auto()
    SET_CURRENT = auto()
    CHARGE_MODE = auto()
    RFID = auto()
    POWER = auto()
    PHASE_CURRENTS = auto()
    PHASE_VOLTAGES = auto()
    PHASE_POWERS = auto()
    CURRENT_OFFERED = auto()
    CURRENT_LIMIT = auto()  # the limit in force can be read (even if not written)
    CLEAR_LIMIT = auto()  # "no limit" is a state of its own (the charger offers its maximum)
    SESSION_ENERGY = auto()
    SESSION_DURATION = auto()
    LIFETIME_ENERGY = auto()
    ENERGY_TODAY = auto()
    PHASE_SWITCHING = auto()


@dataclass(frozen=True, slots=True)
class Phases:
    """A value per phase; ``None`` where the phase is absent or unknown."""

    l1: float | None = None
    l2: float | None = None
    l3: float | None = None

    def as_tuple(self) -> tuple[float | None, float | None, float | None]:
        """The three values in phase order."""
        return (self.l1, self.l2, self.l3)

    def total(self) -> float | None:
        """The sum of the known phases, ``None`` when no phase is known."""
        known = [v for v in self.as_tuple() if v is not None]
        return sum(known) if known else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerInfo:
    """What stays the same for a charge port while the connection lives.

    ``charger_id`` is stable and unique for the port (from the vendor serial); it
    keys the device, the unique ids and the coordinator's data.
    """

    charger_id: str
    serial: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    model_id: str | None = None
    firmware: str | None = None
    hardware: str | None = None
    api_version: str | None = None
    connector: int = 1
    phases: int | None = None
    min_current: float = 6.0
    max_current: float = 16.0
    current_step: float = 1.0
    capabilities: Capability = Capability.NONE
    charge_modes: tuple[str, ...] = ()
    via_charger_id: str | None = None  # port 2 of a dual-port unit hangs off port 1
    configuration_url: str | None = None

    def can(self, capability: Capability) -> bool:
        """Whether every flag in ``capability`` is present."""
        return capability in self.capabilities


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerState:
    """A snapshot of one charge port."""

    status: ChargerStatus
    vendor_status: str | None = None  # the raw vendor state, for diagnostics and attributes
    power: float | None = None  # W
    power_estimated: bool = False
    currents: Phases | None = None  # A
    voltages: Phases | None = None  # V
    powers: Phases | None = None  # W
    current_offered: float | None = None  # A, what the charger offers the car now
    current_limit: float | None = None  # A, the limit we (or the vendor) set; None = no limit
    session_energy: float | None = None  # kWh
    session_duration: float | None = None  # s
    session_start: datetime | None = None
    lifetime_energy: float | None = None  # kWh, never decreasing except on a real meter reset
    energy_today: float | None = None  # kWh
    rfid_tag: str | None = None
    transaction_id: str | None = None
    charge_mode: str | None = None
    charging_enabled: bool | None = None  # charging allowed / requested (not paused by us)
    active_phases: int | None = None
    error: str | None = None  # vendor fault code / reason, when the vendor gives one
    extra: Mapping[str, object] = field(default_factory=dict)  # vendor-only values

    @property
    def car_connected(self) -> bool:
        """Whether a car is plugged in."""
        return self.status.car_connected

    @property
    def charging(self) -> bool:
        """Whether energy flows to the car."""
        return self.status.charging

    @property
    def problem(self) -> bool:
        """Whether the charger reports a fault."""
        return self.status is ChargerStatus.FAULTED

    @property
    def online(self) -> bool:
        """Whether the charger talks to its controller or cloud."""
        return self.status is not ChargerStatus.OFFLINE
