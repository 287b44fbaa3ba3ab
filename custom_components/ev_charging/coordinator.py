"""One coordinator per charger connection, and the typed runtime data of an entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import time

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .backends.base import (
    Backend,
    BackendAuthError,
    BackendCommandRejectedError,
    BackendError,
    BackendUnsupportedError,
)
from .const import DOMAIN, LOGGER
from .models import ChargerInfo, ChargerState


@dataclass(slots=True)
class EvChargingRuntimeData:
    """What a loaded charger entry holds."""

    backend: Backend
    coordinator: ChargerCoordinator


type EvChargingConfigEntry = ConfigEntry[EvChargingRuntimeData]


def translated(err: BackendError) -> HomeAssistantError:
    """A backend error as the translated exception an action raises."""
    if isinstance(err, BackendCommandRejectedError):
        cls: type[HomeAssistantError] = (
            ServiceValidationError if err.user_error else HomeAssistantError
        )
        return cls(
            translation_domain=DOMAIN,
            translation_key=f"rejected_{err.reason}",
            translation_placeholders=err.placeholders,
        )
    if isinstance(err, BackendUnsupportedError):
        return ServiceValidationError(
            translation_domain=DOMAIN, translation_key=err.translation_key
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=err.translation_key,
        translation_placeholders=err.placeholders,
    )


class ChargerCoordinator(DataUpdateCoordinator[dict[str, ChargerState]]):
    """Polls (or is pushed) the states of every charge port of one connection.

    The interval adapts: ``active`` while a car is connected, ``idle`` otherwise,
    ``burst`` for a while after a command so its effect shows at once.
    """

    config_entry: EvChargingConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EvChargingConfigEntry, backend: Backend):
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None if backend.push else backend.intervals.idle,
            always_update=False,
        )
        self.backend = backend
        self._burst_until = 0.0
        if backend.push:
            backend.set_update_callback(self.async_set_updated_data)

    @property
    def chargers(self) -> dict[str, ChargerInfo]:
        """The charge ports of this connection, by charger id."""
        return self.backend.chargers

    async def _async_setup(self) -> None:
        try:
            await self.backend.async_setup()
        except BackendAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=err.translation_key
            ) from err
        except BackendError as err:
            if err.translation_key == "unsupported_firmware":
                raise ConfigEntryError(
                    translation_domain=DOMAIN,
                    translation_key=err.translation_key,
                    translation_placeholders=err.placeholders,
                ) from err
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders=err.placeholders,
            ) from err

    async def _async_update_data(self) -> dict[str, ChargerState]:
        try:
            data = await self.backend.async_fetch(time.monotonic())
        except BackendAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=err.translation_key
            ) from err
        except BackendError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders=err.placeholders,
            ) from err
        self._adapt_interval(data)
        return data

    def _adapt_interval(self, data: dict[str, ChargerState]) -> None:
        if self.backend.push:
            return
        intervals = self.backend.intervals
        if time.monotonic() < self._burst_until:
            self.update_interval = intervals.burst
        elif any(state.car_connected for state in data.values()):
            self.update_interval = intervals.active
        else:
            self.update_interval = intervals.idle

    async def async_command[*Ts](
        self, command: Callable[[*Ts], Awaitable[None]], *args: *Ts
    ) -> None:
        """Run a backend command, map its errors, and poll fast for a while."""
        try:
            await command(*args)
        except BackendAuthError as err:
            self.config_entry.async_start_reauth(self.hass)
            raise translated(err) from err
        except BackendError as err:
            raise translated(err) from err
        finally:
            self._burst_until = time.monotonic() + self.backend.intervals.burst_duration.seconds
        # Not the debounced request: a second command within its cooldown would show
        # a stale state until the next poll.
        await self.async_refresh()
