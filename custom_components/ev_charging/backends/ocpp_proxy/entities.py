"""Find the ``ocpp`` integration's entities of a charger in the entity registry.

The integration sets explicit entity ids, but users rename entities, and the entity
set changes after the first reload of a newly discovered charger (flat
single-connector names become ``*_connector_N_*`` names).  So entities are found by
unique id, which follows two patterns (v0.10.10 and later; v0.10.8 kept the dots of
the metric name, which is why the key is normalized):

* sensors: ``ocpp.<cpid>[.conn<N>].<key>.sensor``
* other platforms: ``<domain>.ocpp.<cpid>[.conn<N>].<key>``

A *role* names what an entity is for, independent of the layout:
``"<domain>.<key>"``, e.g. ``sensor.status_connector`` or ``switch.charge_control``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import re
from typing import Final, Literal

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

OCPP_DOMAIN: Final = "ocpp"

_SENSOR_UID = re.compile(r"^ocpp\.(?P<cpid>[^.]+)(?:\.conn(?P<conn>\d+))?\.(?P<key>.+)\.sensor$")
_OTHER_UID = re.compile(
    r"^(?P<domain>[a-z_]+)\.ocpp\.(?P<cpid>[^.]+)(?:\.conn(?P<conn>\d+))?\.(?P<key>[^.]+)$"
)

# Charger-level keys: never per connector, even on a multi-connector charger.
STATION_KEYS: Final = frozenset(
    {
        "connectors",
        "error_code",
        "features",
        "heartbeat",
        "id",
        "id_tag",
        "latency_ping",
        "latency_pong",
        "model",
        "reconnects",
        "serial",
        "status",
        "status_firmware",
        "timestamp_config_response",
        "timestamp_data_response",
        "timestamp_data_transfer",
        "vendor",
        "version_firmware",
        "availability",
        "reset",
    }
)

ROLE_STATUS: Final = "sensor.status_connector"
ROLE_ERROR: Final = "sensor.error_code_connector"
ROLE_TRANSACTION: Final = "sensor.transaction_id"
ROLE_ID_TAG: Final = "sensor.id_tag"
ROLE_POWER: Final = "sensor.power_active_import"
ROLE_CURRENT: Final = "sensor.current_import"
ROLE_OFFERED: Final = "sensor.current_offered"
ROLE_VOLTAGE: Final = "sensor.voltage"
ROLE_ENERGY: Final = "sensor.energy_active_import_register"
ROLE_SESSION_ENERGY: Final = "sensor.energy_session"
ROLE_METER_START: Final = "sensor.energy_meter_start"
ROLE_SESSION_TIME: Final = "sensor.time_session"
ROLE_STOP_REASON: Final = "sensor.stop_reason"
ROLE_CHARGE_CONTROL: Final = "switch.charge_control"
ROLE_MAX_CURRENT: Final = "number.maximum_current"
ROLE_CONNECTORS: Final = "sensor.connectors"

# Entities whose updates show that the charger still talks (MeterValues).
MEASUREMENT_ROLES: Final = (
    ROLE_POWER,
    ROLE_CURRENT,
    ROLE_OFFERED,
    ROLE_VOLTAGE,
    ROLE_ENERGY,
    ROLE_SESSION_ENERGY,
)
# Without these a connector cannot be proxied.
REQUIRED_ROLES: Final = (ROLE_STATUS, ROLE_TRANSACTION)


@dataclass(frozen=True, slots=True)
class OcppEntityRef:
    """One ``ocpp`` entity, decoded from its unique id."""

    entity_id: str
    domain: str
    cpid: str
    connector: int | None  # None: charger level, or a flat single-connector name
    key: str

    @property
    def role(self) -> str:
        """``<domain>.<key>``."""
        return f"{self.domain}.{self.key}"


def parse_unique_id(domain: str, unique_id: str) -> tuple[str, int | None, str] | None:
    """``(cpid, connector, key)`` of an ``ocpp`` unique id, or None if it is not one."""
    if domain == "sensor":
        match = _SENSOR_UID.match(unique_id)
    else:
        match = _OTHER_UID.match(unique_id)
        if match and match["domain"] != domain:
            return None
    if match is None:
        return None
    conn = int(match["conn"]) if match["conn"] else None
    return match["cpid"], conn, match["key"].replace(".", "_")


def index_ocpp_entities(hass: HomeAssistant) -> dict[str, list[OcppEntityRef]]:
    """Every enabled ``ocpp`` entity of the registry, by cpid."""
    index: dict[str, list[OcppEntityRef]] = {}
    for entry in er.async_get(hass).entities.values():
        if entry.platform != OCPP_DOMAIN or entry.disabled_by is not None:
            continue
        parsed = parse_unique_id(entry.domain, entry.unique_id)
        if parsed is None:
            continue
        cpid, conn, key = parsed
        index.setdefault(cpid, []).append(
            OcppEntityRef(entry.entity_id, entry.domain, cpid, conn, key)
        )
    return index


@dataclass(frozen=True, slots=True)
class ConnectorEntities:
    """The entities serving one connector, by role (charger-level ones included)."""

    cpid: str
    connector: int
    layout: Literal["connector", "flat"] | None = None  # None: not found
    roles: Mapping[str, str] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """Whether the connector's status entity exists."""
        return ROLE_STATUS in self.roles

    def get(self, role: str) -> str | None:
        """The entity id for ``role``, if the charger has it."""
        return self.roles.get(role)

    def missing(self, roles: Iterable[str] = REQUIRED_ROLES) -> tuple[str, ...]:
        """The roles of ``roles`` without an entity."""
        return tuple(role for role in roles if role not in self.roles)

    @property
    def entity_ids(self) -> frozenset[str]:
        """Every entity id in use."""
        return frozenset(self.roles.values())


def resolve_connector(
    refs: Iterable[OcppEntityRef], cpid: str, connector: int
) -> ConnectorEntities:
    """Pick the entities of ``connector``: per-connector names first, flat names for 1."""
    refs = list(refs)
    station = {r.role: r.entity_id for r in refs if r.connector is None and r.key in STATION_KEYS}
    own = {r.role: r.entity_id for r in refs if r.connector == connector}
    layout: Literal["connector", "flat"] = "connector"
    if not own and connector == 1:
        # A single-connector entry (or a discovered charger before its first reload).
        own = {
            r.role: r.entity_id for r in refs if r.connector is None and r.key not in STATION_KEYS
        }
        layout = "flat"
    if not own:
        return ConnectorEntities(cpid, connector)
    roles = {**station, **own}
    return ConnectorEntities(cpid, connector, layout if ROLE_STATUS in own else None, roles)


def connectors_of(refs: Iterable[OcppEntityRef]) -> tuple[int, ...]:
    """The connectors a charger's entities serve."""
    refs = list(refs)
    numbered = sorted(
        {r.connector for r in refs if r.connector is not None and r.role == ROLE_STATUS}
    )
    if numbered:
        return tuple(numbered)
    if any(r.connector is None and r.role == ROLE_STATUS for r in refs):
        return (1,)
    return ()


def cpid_of_device(device: dr.DeviceEntry, index: Mapping[str, list[OcppEntityRef]]) -> str | None:
    """The cpid among a device's ``ocpp`` identifiers (the other one is the OCPP id)."""
    values = sorted(value for domain, value in device.identifiers if domain == OCPP_DOMAIN)
    for value in values:
        if value in index:
            return value
    return None
