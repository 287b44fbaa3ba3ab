"""What the client returns: frozen dataclasses, parsed defensively (unknown = ``None``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LoginResult(StrEnum):
    """How a login ended."""

    OK = "ok"
    MFA_REQUIRED = "mfa_required"  # a code was sent; submit it to finish


class CommandOutcome(StrEnum):
    """A control call the cloud accepted, or one that had nothing to do."""

    ACCEPTED = "accepted"
    NOT_ACTIVE = "not_active"  # stop while no session was active


class ChargeMode(StrEnum):
    """The scheduler's charge modes (values are the cloud's names)."""

    MANUAL = "MANUAL_CHARGING"
    SCHEDULED = "SCHEDULED_CHARGING"
    GREEN = "GREEN_CHARGING"
    SMART = "SMART_CHARGING"

    @property
    def key(self) -> str:
        """The lower-case key used by the normalized model ("manual", "green", ...)."""
        return self.name.lower()

    @classmethod
    def from_key(cls, key: str) -> ChargeMode:
        """The mode for a lower-case key; ``ValueError`` when unknown."""
        try:
            return cls[key.upper()]
        except KeyError:
            raise ValueError(key) from None

    @property
    def controls_current(self) -> bool:
        """Whether the charger picks the current itself (amps sent are ignored)."""
        return self in (ChargeMode.GREEN, ChargeMode.SMART)


@dataclass(frozen=True, slots=True)
class EnphaseSite:
    """A site (system) of the account."""

    site_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseSessionDetail:
    """The current or last session as the status payload reports it (``session_d``)."""

    energy_kwh: float | None = None
    started_at: datetime | None = None
    plugged_in_at: datetime | None = None
    plugged_out_at: datetime | None = None
    charge_level: float | None = None  # A, when the session has one
    miles: float | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseChargerStatus:
    """One charger of the status poll."""

    serial: str
    name: str | None = None
    connected: bool | None = None
    plugged_in: bool | None = None
    charging: bool | None = None
    faulted: bool | None = None
    connector_status: str | None = None  # raw, e.g. "SUSPENDED_EVSE"
    connector_reason: str | None = None  # e.g. "INSUFFICIENT_SOLAR"
    connector_info: str | None = None
    safe_limit_state: int | None = None
    dlb_active: bool | None = None
    mode: int | None = None  # effective mode: 0 manual, 1 green
    green_scheduled: bool = False  # ``sch_d`` names a green-charging window
    charging_level: float | None = None  # A, older flat shape only
    session: EnphaseSessionDetail | None = None
    last_reported_at: datetime | None = None
    offline_at: datetime | None = None
    commissioned: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseStatusSnapshot:
    """The whole status poll of a site."""

    server_time: datetime | None = None
    timezone: str | None = None
    chargers: tuple[EnphaseChargerStatus, ...] = ()

    def charger(self, serial: str) -> EnphaseChargerStatus | None:
        """The charger with ``serial``, if the poll has it."""
        return next((c for c in self.chargers if c.serial == serial), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseSummary:
    """Slow-changing facts of one charger (the summary endpoint)."""

    serial: str
    name: str | None = None
    model: str | None = None
    model_id: str | None = None
    firmware: str | None = None
    hardware: str | None = None
    min_amps: float | None = None
    max_amps: float | None = None
    amps_step: float | None = None
    max_current: float | None = None
    operating_voltage: float | None = None
    phase_mode: int | None = None
    phase_count: int | None = None
    status: str | None = None
    active_connection: str | None = None
    ip_address: str | None = None
    mac_address: str | None = None
    reporting_interval: float | None = None  # s
    lifetime_energy_kwh: float | None = None
    dlb_enabled: bool | None = None
    supports_use_battery: bool | None = None
    last_reported_at: datetime | None = None
    timezone: str | None = None
    retired: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseChargeModes:
    """The scheduler preference: the selected mode and the modes the charger offers."""

    current: ChargeMode | None = None
    available: tuple[ChargeMode, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseSession:
    """A session of the history service."""

    session_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    energy_kwh: float | None = None
    active_charge_time_s: float | None = None
    miles: float | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnphaseLiveStream:
    """A live-stream window: the cloud reports faster for ``duration_s``."""

    duration_s: float = 900.0
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudHealth:
    """How the cloud behaved lately (client clock times, epoch seconds)."""

    reachable: bool | None = None  # None before the first request
    last_latency_ms: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_status: int | None = None
    backoff_until: float | None = None
    consecutive_failures: int = 0
    auto_login_paused_until: float | None = None
