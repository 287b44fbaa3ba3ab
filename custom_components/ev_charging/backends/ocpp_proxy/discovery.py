"""The chargers of the ``ocpp`` integration a user can pick in the config flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .entities import (
    OCPP_DOMAIN,
    connectors_of,
    index_ocpp_entities,
    resolve_connector,
)

REASON_NOT_SET_UP: Final = "ocpp_not_set_up"  # no entry of the ocpp integration
REASON_NO_CHARGER: Final = "ocpp_no_charger"  # the integration knows no charger yet
REASON_MISSING_ENTITIES: Final = "ocpp_missing_entities"  # entities removed or disabled


class OcppDiscoveryError(Exception):
    """Nothing to pick; ``reason`` is one of the ``REASON_*`` keys (an abort reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OcppChargerChoice:
    """A charger of the ``ocpp`` integration and the connectors that can be proxied."""

    device_id: str
    cpid: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    connectors: tuple[int, ...] = ()
    # Connectors that exist but lack required entities -> the missing roles.
    missing: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def reason(self) -> str | None:
        """None when at least one connector can be used."""
        return None if self.connectors else REASON_MISSING_ENTITIES


async def async_list_ocpp_chargers(hass: HomeAssistant) -> list[OcppChargerChoice]:
    """Every charger device of the ``ocpp`` integration, sorted by name.

    Raises :class:`OcppDiscoveryError` when the integration has no entry
    (``ocpp_not_set_up``) or no charger (``ocpp_no_charger``).  A charger whose
    connectors all lack required entities is listed with ``reason`` set.
    """
    entries = hass.config_entries.async_entries(OCPP_DOMAIN)
    if not entries:
        raise OcppDiscoveryError(REASON_NOT_SET_UP)
    index = index_ocpp_entities(hass)
    devices = dr.async_get(hass)
    choices: list[OcppChargerChoice] = []
    for cpid, refs in index.items():
        device = devices.async_get_device(identifiers={(OCPP_DOMAIN, cpid)})
        if device is None:
            continue
        usable: list[int] = []
        missing: dict[int, tuple[str, ...]] = {}
        all_connectors = connectors_of(refs) or (1,)
        for connector in all_connectors:
            resolved = resolve_connector(refs, cpid, connector)
            if lacking := resolved.missing():
                missing[connector] = lacking
            else:
                usable.append(connector)
        choices.append(
            OcppChargerChoice(
                device_id=device.id,
                cpid=cpid,
                name=device.name_by_user or device.name or cpid,
                manufacturer=device.manufacturer,
                model=device.model,
                connectors=tuple(usable),
                missing=missing,
            )
        )
    if not choices:
        raise OcppDiscoveryError(REASON_NO_CHARGER)
    return sorted(choices, key=lambda choice: choice.name)
