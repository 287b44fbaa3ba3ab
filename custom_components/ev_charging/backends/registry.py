"""The backends the config flow offers, and how an entry builds its backend.

Adding a backend: a package under ``backends/``, its flow steps, and one line in
``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from ..const import CONF_DUAL_PORT, CONF_EMS_CONTROL
from ..entity_descriptions import VendorDescriptions
from .ampeco.entities import AMPECO_DESCRIPTIONS
from .ampeco.entry import create_backend as _ampeco
from .base import Backend
from .enovates.backend import EnovatesBackend
from .enovates.client import EnovatesClient
from .enovates.entities import ENOVATES_DESCRIPTIONS
from .enphase.entities import ENPHASE_DESCRIPTIONS
from .enphase.setup import create_enphase_backend
from .ocpp_proxy.descriptions import OCPP_DESCRIPTIONS
from .ocpp_proxy.entry import create_backend as _ocpp_proxy


@dataclass(frozen=True, slots=True)
class BackendType:
    """A backend as the config flow and the entry setup see it."""

    key: str
    create: Callable[[HomeAssistant, ConfigEntry[Any]], Backend]
    descriptions: VendorDescriptions = field(default_factory=VendorDescriptions)


def _enovates(hass: HomeAssistant, entry: ConfigEntry[Any]) -> Backend:
    data = entry.data
    return EnovatesBackend(
        EnovatesClient(data[CONF_HOST], data[CONF_PORT]),
        dual_port=data[CONF_DUAL_PORT],
        ems_control=data[CONF_EMS_CONTROL],
    )


BACKENDS: dict[str, BackendType] = {
    "enovates": BackendType("enovates", _enovates, ENOVATES_DESCRIPTIONS),
    "enphase": BackendType("enphase", create_enphase_backend, ENPHASE_DESCRIPTIONS),
    "ampeco": BackendType("ampeco", _ampeco, AMPECO_DESCRIPTIONS),
    "ocpp_proxy": BackendType("ocpp_proxy", _ocpp_proxy, OCPP_DESCRIPTIONS),
}
