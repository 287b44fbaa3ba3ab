"""Site features set up as entries of their own (the load balancer, the session tracker).

A charger entry has ``data["backend"]``; a feature entry has ``data["feature"]`` naming
one of ``FEATURES``. The shared platform modules hand feature entries to the feature's
own entity factory, so each feature keeps its entities in its own package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_FEATURE

type EntityFactory = Callable[
    [HomeAssistant, ConfigEntry[Any], AddConfigEntryEntitiesCallback], None
]


@dataclass(frozen=True, slots=True)
class Feature:
    """How a feature entry is set up, unloaded and given entities."""

    key: str
    async_setup_entry: Callable[[HomeAssistant, ConfigEntry[Any]], Awaitable[bool]]
    async_unload_entry: Callable[[HomeAssistant, ConfigEntry[Any]], Awaitable[bool]]
    entities: Mapping[Platform, EntityFactory] = field(default_factory=dict)


def feature_of(entry: ConfigEntry[Any]) -> Feature | None:
    """The feature an entry sets up, or ``None`` for a charger entry."""
    from .feature_registry import FEATURES  # the features import this module

    key = entry.data.get(CONF_FEATURE)
    return None if key is None else FEATURES[key]


def add_feature_entities(
    platform: Platform,
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> bool:
    """Give a feature entry its entities of this platform; False for a charger entry."""
    feature = feature_of(entry)
    if feature is None:
        return False
    if (factory := feature.entities.get(platform)) is not None:
        factory(hass, entry, async_add_entities)
    return True
