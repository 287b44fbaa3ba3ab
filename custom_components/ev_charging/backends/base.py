"""The contract every backend fulfils, and the typed errors it raises.

Pure: no Home Assistant imports. A backend owns one connection (a Modbus TCP
socket, a cloud account, another integration's entities) that may serve several
charge ports; it maps vendor data onto :class:`ChargerState` and our commands onto
vendor calls. The Home Assistant glue (coordinator, entities, actions) turns the
errors below into translated Home Assistant exceptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from ..models import ChargerInfo, ChargerState


class BackendError(Exception):
    """Base of every backend error.

    ``translation_key`` names an entry of the ``exceptions`` section of
    ``translations/en.json``; ``placeholders`` fill it.
    """

    translation_key: ClassVar[str] = "communication_error"

    def __init__(self, message: str = "", **placeholders: str) -> None:
        super().__init__(message or self.translation_key)
        self.placeholders: dict[str, str] = {"error": message or self.translation_key}
        self.placeholders.update(placeholders)


class BackendConnectionError(BackendError):
    """The charger or its cloud cannot be reached (timeout, refused, 5xx, rate limited)."""

    translation_key = "communication_error"


class BackendAuthError(BackendError):
    """Credentials are wrong or expired and cannot be renewed without the user."""

    translation_key = "authentication_error"


class BackendInvalidDataError(BackendError):
    """The vendor answered with something we cannot interpret."""

    translation_key = "invalid_data"


class BackendUnsupportedError(BackendError):
    """The backend cannot do this for this charger."""

    translation_key = "not_supported"


class BackendCommandRejectedError(BackendError):
    """The vendor refused a command.

    ``reason`` is a translation key of its own (for example ``not_plugged``);
    ``user_error`` marks refusals caused by what the user asked (raised to the user
    as a validation error rather than a device failure).
    """

    translation_key = "command_rejected"

    def __init__(self, reason: str, message: str = "", *, user_error: bool = False) -> None:
        super().__init__(message or reason, reason=reason)
        self.reason = reason
        self.user_error = user_error


@dataclass(frozen=True, slots=True)
class PollIntervals:
    """How often the coordinator polls: ``active`` while a car is connected,
    ``idle`` otherwise, ``burst`` for ``burst_duration`` after a command."""

    active: timedelta
    idle: timedelta
    burst: timedelta
    burst_duration: timedelta = timedelta(seconds=30)


class Backend(ABC):
    """One connection to a vendor, serving one or more charge ports."""

    key: ClassVar[str]
    #: True when the backend pushes updates itself (no polling interval).
    push: ClassVar[bool] = False

    def __init__(self) -> None:
        self.chargers: dict[str, ChargerInfo] = {}

    @property
    @abstractmethod
    def intervals(self) -> PollIntervals:
        """The polling intervals for this connection."""

    @abstractmethod
    async def async_setup(self) -> Sequence[ChargerInfo]:
        """Connect, identify the charge ports and fill ``self.chargers``."""

    @abstractmethod
    async def async_fetch(self, now: float) -> dict[str, ChargerState]:
        """Read every charge port; ``now`` is a monotonic clock in seconds.

        Backends whose data changes at different rates refresh each group on its
        own schedule and return the last known values of the others.
        """

    def set_update_callback(self, callback: Callable[[dict[str, ChargerState]], None]) -> None:
        """Push backends call ``callback`` with fresh states; polling backends ignore it."""
        del callback  # polling backends have nothing to push

    async def async_close(self) -> None:
        """Release the connection. Safe to call twice."""
        return

    async def async_start(self, charger_id: str) -> None:
        """Start (or resume) charging."""
        raise BackendUnsupportedError("start")

    async def async_stop(self, charger_id: str) -> None:
        """Stop (or pause) charging."""
        raise BackendUnsupportedError("stop")

    async def async_set_current(self, charger_id: str, amps: float) -> None:
        """Set the charging current limit in A (0 pauses where the backend says so)."""
        raise BackendUnsupportedError("set_current")

    async def async_clear_current_limit(self, charger_id: str) -> None:
        """Remove our current limit, so the charger offers its own maximum."""
        raise BackendUnsupportedError("clear_current_limit")

    async def async_set_phases(self, charger_id: str, phases: int) -> None:
        """Switch between 1 and 3 phases (``Capability.PHASE_SWITCHING``)."""
        raise BackendUnsupportedError("set_phases")

    async def async_set_charge_mode(self, charger_id: str, mode: str) -> None:
        """Select one of ``ChargerInfo.charge_modes``."""
        raise BackendUnsupportedError("set_charge_mode")

    def diagnostics(self) -> Mapping[str, Any]:
        """Backend-specific data for the diagnostics download (redacted by the caller)."""
        return {}
