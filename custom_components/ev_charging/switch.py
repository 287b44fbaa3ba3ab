"""Switches: charging on/off and, where "no limit" exists, the current limit on/off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EvChargingConfigEntry
from .entity import ChargerEntity
from .entity_descriptions import CommandFn
from .features import add_feature_entities
from .models import Capability, ChargerInfo, ChargerState

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ChargerSwitchDescription(SwitchEntityDescription):
    """A switch driving a backend command."""

    is_on_fn: Callable[[ChargerState, ChargerInfo], bool | None]
    turn_on_fn: Callable[[ChargerEntity], CommandFn]
    turn_off_fn: CommandFn
    exists_fn: Callable[[ChargerInfo], bool]


def _charging_on(state: ChargerState, _: ChargerInfo) -> bool:
    if state.charging_enabled is not None:
        return state.charging_enabled
    return state.charging


def _restore_limit(entity: ChargerEntity) -> CommandFn:
    # While unlimited the number shows the charger maximum; turning the limit on
    # writes exactly that, so nothing changes until the user lowers the number.
    async def command(backend: Any, charger_id: str) -> None:
        await backend.async_set_current(charger_id, entity.info.max_current)

    return command


SWITCHES: tuple[ChargerSwitchDescription, ...] = (
    ChargerSwitchDescription(
        key="charging_enabled",
        translation_key="charging_enabled",
        is_on_fn=_charging_on,
        turn_on_fn=lambda _: lambda backend, cid: backend.async_start(cid),
        turn_off_fn=lambda backend, cid: backend.async_stop(cid),
        exists_fn=lambda info: info.can(Capability.START_STOP),
    ),
    ChargerSwitchDescription(
        key="current_limit_active",
        translation_key="current_limit_active",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda s, _: s.current_limit is not None,
        turn_on_fn=_restore_limit,
        turn_off_fn=lambda backend, cid: backend.async_clear_current_limit(cid),
        exists_fn=lambda info: info.can(Capability.SET_CURRENT | Capability.CLEAR_LIMIT),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the switches each charge port supports."""
    if add_feature_entities(Platform.SWITCH, hass, entry, async_add_entities):
        return
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ChargerSwitch(coordinator, charger_id, description)
        for charger_id, info in coordinator.chargers.items()
        for description in SWITCHES
        if description.exists_fn(info)
    )


class ChargerSwitch(ChargerEntity, SwitchEntity):
    """A switch of one charge port."""

    entity_description: ChargerSwitchDescription

    @property
    def is_on(self) -> bool | None:
        """The value from the live state."""
        state = self.charger_state
        return None if state is None else self.entity_description.is_on_fn(state, self.info)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Run the "on" command."""
        command = self.entity_description.turn_on_fn(self)
        await self.coordinator.async_command(command, self.coordinator.backend, self.charger_id)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Run the "off" command."""
        command = self.entity_description.turn_off_fn
        await self.coordinator.async_command(command, self.coordinator.backend, self.charger_id)
