"""Turn Enlighten JSON into the dataclasses of :mod:`.data`.

Defensive throughout: a missing or odd field gives ``None``; only a payload whose
overall shape is unrecognizable raises :class:`BackendInvalidDataError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import json
from typing import Any

from ..base import BackendInvalidDataError
from .data import (
    ChargeMode,
    EnphaseChargeModes,
    EnphaseChargerStatus,
    EnphaseLiveStream,
    EnphaseSession,
    EnphaseSessionDetail,
    EnphaseSite,
    EnphaseStatusSnapshot,
    EnphaseSummary,
)

# Above this an epoch number is in milliseconds.
_EPOCH_MS_THRESHOLD = 1e11


# --- scalar helpers -------------------------------------------------------------------


def as_float(value: object) -> float | None:
    """A finite number from a number or numeric string; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if number == number and abs(number) != float("inf") else None


def as_int(value: object) -> int | None:
    """An integer from an integral number or numeric string."""
    number = as_float(value)
    return int(number) if number is not None and number.is_integer() else None


def as_bool(value: object) -> bool | None:
    """A bool from a bool, 0/1 or "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        return {"true": True, "false": False, "1": True, "0": False}.get(value.strip().lower())
    return None


def as_str(value: object) -> str | None:
    """A non-empty string (numbers are accepted, as serials and ids often are)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_datetime(value: object) -> datetime | None:
    """An aware UTC datetime from ISO text (with the cloud's ``[UTC]`` suffix) or epoch s/ms."""
    if isinstance(value, str):
        text = value.strip().split("[", 1)[0]
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            number = as_float(text)
            return as_datetime(number) if number is not None else None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    number = as_float(value)
    if number is None or number <= 0:
        return None
    if number > _EPOCH_MS_THRESHOLD:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(data: Mapping[str, Any], *keys: str) -> object:
    """The first key present with a non-null value."""
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _list_under(payload: object, *keys: str) -> list[Any] | None:
    """A list at the top level, directly under one of ``keys``, or under ``data.<key>``."""
    if isinstance(payload, list):
        return payload
    data = _mapping(payload)
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):
            return value
        inner = _mapping(value)
        for sub in keys:
            if isinstance(inner.get(sub), list):
                return list(inner[sub])
    return None


def error_code(payload: object) -> tuple[str | None, str | None]:
    """``(errorMessageCode, displayMessage)`` of an error body, when it has them."""
    data = _mapping(payload)
    error = _mapping(data.get("error"))
    code = as_str(_first(error, "errorMessageCode", "code")) or as_str(data.get("errorMessageCode"))
    message = as_str(_first(error, "displayMessage", "additionalInfo", "message")) or as_str(
        _first(data, "displayMessage", "message")
    )
    return code, message


# --- sites ----------------------------------------------------------------------------


def parse_sites(payload: object) -> tuple[EnphaseSite, ...]:
    """The account's sites; a list under ``sites``/``data``/``items``/``systems`` or bare."""
    items = _list_under(payload, "sites", "data", "items", "systems")
    if items is None:
        raise BackendInvalidDataError("sites: no site list")
    sites: dict[str, EnphaseSite] = {}
    for item in items:
        entry = _mapping(item)
        site_id = as_str(_first(entry, "site_id", "siteId", "id", "system_id"))
        if site_id is None or site_id in sites:
            continue
        name = as_str(
            _first(entry, "name", "site_name", "siteName", "title", "displayName", "display_name")
        )
        sites[site_id] = EnphaseSite(site_id, name)
    return tuple(sites.values())


# --- status ---------------------------------------------------------------------------


def _session_energy_kwh(value: object, *, flat_shape: bool) -> float | None:
    """``e_c``: Wh in the current envelope; the older flat shape sends kWh for small values.

    The vendor integration divides only values above 200 by 1000, which turns a
    140 Wh session into 140 kWh. Every envelope payload seen carries Wh, so the
    envelope is always read as Wh; only the flat shape keeps the old threshold.
    """
    number = as_float(value)
    if number is None or number < 0:
        return None
    if flat_shape and number <= 200:
        return number
    return number / 1000


def _parse_session_detail(value: object, *, flat_shape: bool) -> EnphaseSessionDetail | None:
    data = _mapping(value)
    if not data:
        return None
    started = as_datetime(data.get("strt_chrg")) or as_datetime(data.get("start_time"))
    return EnphaseSessionDetail(
        energy_kwh=_session_energy_kwh(data.get("e_c"), flat_shape=flat_shape),
        started_at=started,
        plugged_in_at=as_datetime(data.get("plg_in_at")),
        plugged_out_at=as_datetime(data.get("plg_out_at")),
        charge_level=as_float(data.get("charge_level")),
        miles=as_float(data.get("miles")),
        cost=as_float(data.get("session_cost")),
    )


def _green_scheduled(value: object) -> bool:
    info = _mapping(value).get("info")
    if not isinstance(info, list):
        return False
    return any(_mapping(item).get("type") == "greencharging" for item in info)


def _parse_charger(entry: Mapping[str, Any], *, flat_shape: bool) -> EnphaseChargerStatus | None:
    serial = as_str(_first(entry, "sn", "serial", "serialNumber"))
    if serial is None:
        return None
    connectors = entry.get("connectors")
    connector = _mapping(connectors[0]) if isinstance(connectors, list) and connectors else {}
    plugged = as_bool(entry.get("pluggedIn"))
    if plugged is None:
        plugged = as_bool(connector.get("pluggedIn"))
    return EnphaseChargerStatus(
        serial=serial,
        name=as_str(entry.get("name")),
        connected=as_bool(entry.get("connected")),
        plugged_in=plugged,
        charging=as_bool(entry.get("charging")),
        faulted=as_bool(entry.get("faulted")),
        connector_status=as_str(
            entry.get("connectorStatusType") or connector.get("connectorStatusType")
        ),
        connector_reason=as_str(connector.get("connectorStatusReason")),
        connector_info=as_str(connector.get("connectorStatusInfo")),
        safe_limit_state=as_int(connector.get("safeLimitState")),
        dlb_active=as_bool(connector.get("dlbActive")),
        mode=as_int(entry.get("mode")),
        green_scheduled=_green_scheduled(entry.get("sch_d")),
        charging_level=as_float(_first(entry, "chargingLevel", "charging_level", "charginglevel")),
        session=_parse_session_detail(entry.get("session_d"), flat_shape=flat_shape),
        last_reported_at=as_datetime(entry.get("lst_rpt_at")),
        offline_at=as_datetime(entry.get("offlineAt")),
        commissioned=as_bool(entry.get("commissioned")),
    )


def parse_status(payload: object) -> EnphaseStatusSnapshot:
    """The status poll; accepts the envelope, the older flat shape and the v2 keyed shape."""
    root = _mapping(payload)
    data = root.get("data")
    flat_shape = False
    entries: list[Mapping[str, Any]]
    if isinstance(_mapping(data).get("chargers"), list):
        entries = [_mapping(item) for item in _mapping(data)["chargers"]]
    elif isinstance(root.get("evChargerData"), list):
        flat_shape = True
        entries = [_mapping(item) for item in root["evChargerData"]]
    elif isinstance(data, Mapping) and data and all(isinstance(v, Mapping) for v in data.values()):
        entries = [{**value, "sn": key} for key, value in data.items()]
    else:
        raise BackendInvalidDataError("status: no charger list")
    chargers = (_parse_charger(entry, flat_shape=flat_shape) for entry in entries)
    server_time = as_datetime(_mapping(root.get("meta")).get("serverTimeStamp")) or as_datetime(
        root.get("ts")
    )
    return EnphaseStatusSnapshot(
        server_time=server_time,
        timezone=as_str(_mapping(data).get("tz")),
        chargers=tuple(c for c in chargers if c is not None),
    )


# --- summary --------------------------------------------------------------------------


def _network_interfaces(value: object) -> list[dict[str, str]]:
    """``networkConfig``: a JSON list (of objects or ``"k=v,k=v"`` strings) inside a string."""
    items: object = value
    if isinstance(value, str):
        try:
            items = json.loads(value)
        except ValueError:
            items = [line for line in value.strip("[]").splitlines() if "=" in line]
    if not isinstance(items, list):
        return []
    interfaces: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, Mapping):
            interfaces.append({str(k): str(v) for k, v in item.items() if v is not None})
        elif isinstance(item, str):
            pairs = (part.split("=", 1) for part in item.strip().strip('",').split(","))
            interfaces.append({p[0].strip(): p[1].strip() for p in pairs if len(p) == 2})
    return interfaces


def _active_interface(value: object) -> tuple[str | None, str | None]:
    """IP and MAC of the first interface that reports ``connectionStatus`` 1."""
    for interface in _network_interfaces(value):
        if interface.get("connectionStatus") == "1":
            ip = as_str(interface.get("ipaddr") or interface.get("ip"))
            mac = as_str(interface.get("mac_addr") or interface.get("mac"))
            return ip, mac
    return None, None


def _lifetime_kwh(value: object) -> float | None:
    """``lifeTimeConsumption`` is Wh (always: a size threshold would misread a new charger)."""
    number = as_float(value)
    return number / 1000 if number is not None and number >= 0 else None


def parse_summary_item(entry: Mapping[str, Any]) -> EnphaseSummary | None:
    """One charger of the summary list."""
    serial = as_str(_first(entry, "serialNumber", "serial", "sn", "id"))
    if serial is None:
        return None
    levels = _mapping(entry.get("chargeLevelDetails"))
    ip, mac = _active_interface(entry.get("networkConfig"))
    return EnphaseSummary(
        serial=serial,
        name=as_str(_first(entry, "displayName", "name")),
        model=as_str(_first(entry, "modelName", "model")),
        model_id=as_str(_first(entry, "modelId", "sku")),
        firmware=as_str(
            _first(
                entry, "firmwareVersion", "systemVersion", "applicationVersion", "softwareVersion"
            )
        ),
        hardware=as_str(
            _first(
                entry, "processorBoardVersion", "powerBoardVersion", "hwVersion", "hardwareVersion"
            )
        ),
        min_amps=as_float(levels.get("min")),
        max_amps=as_float(levels.get("max")),
        amps_step=as_float(levels.get("granularity")),
        max_current=as_float(entry.get("maxCurrent")),
        operating_voltage=as_float(entry.get("operatingVoltage")),
        phase_mode=as_int(entry.get("phaseMode")),
        phase_count=as_int(entry.get("phaseCount")),
        status=as_str(entry.get("status")),
        active_connection=as_str(entry.get("activeConnection")),
        ip_address=ip,
        mac_address=mac,
        reporting_interval=as_float(entry.get("reportingInterval")),
        lifetime_energy_kwh=_lifetime_kwh(entry.get("lifeTimeConsumption")),
        dlb_enabled=as_bool(entry.get("dlbEnabled")),
        supports_use_battery=as_bool(entry.get("supportsUseBattery")),
        last_reported_at=as_datetime(entry.get("lastReportedAt")),
        timezone=as_str(entry.get("timezone")),
        retired=as_bool(entry.get("isRetired")) is True,
    )


def parse_summary(payload: object) -> tuple[EnphaseSummary, ...]:
    """The summary list (retired chargers left out)."""
    items = _list_under(payload, "data", "chargers", "evChargerData", "evses", "devices", "items")
    if items is None:
        single = _mapping(_mapping(payload).get("data"))
        if not single:
            raise BackendInvalidDataError("summary: no charger list")
        items = [single]
    parsed = (parse_summary_item(_mapping(item)) for item in items)
    return tuple(s for s in parsed if s is not None and not s.retired)


# --- scheduler, live stream, sessions -------------------------------------------------

_MODE_KEYS = {
    "smartCharging": ChargeMode.SMART,
    "greenCharging": ChargeMode.GREEN,
    "scheduledCharging": ChargeMode.SCHEDULED,
    "manualCharging": ChargeMode.MANUAL,
}


def parse_charge_modes(payload: object) -> EnphaseChargeModes:
    """The preference: the first enabled of smart, green, scheduled, manual."""
    modes = _mapping(_mapping(_mapping(payload).get("data")).get("modes"))
    if not modes:
        raise BackendInvalidDataError("charge mode: no modes")
    available: list[ChargeMode] = []
    current: ChargeMode | None = None
    for key, fallback in _MODE_KEYS.items():
        entry = modes.get(key)
        if not isinstance(entry, Mapping):
            continue
        try:
            mode = ChargeMode(str(entry.get("chargingMode") or fallback.value))
        except ValueError:
            mode = fallback
        if as_bool(entry.get("isHidden")) is not True:
            available.append(mode)
        if current is None and as_bool(entry.get("enabled")):
            current = mode
    order = list(ChargeMode)
    return EnphaseChargeModes(current=current, available=tuple(sorted(available, key=order.index)))


def parse_live_stream(payload: object) -> EnphaseLiveStream:
    """A started live stream (the duration defaults to the cloud's usual 900 s)."""
    data = _mapping(_mapping(payload).get("data"))
    duration = as_float(_first(data, "liveStreamDuration", "duration_s"))
    topics = data.get("liveStreamTopicList")
    return EnphaseLiveStream(
        duration_s=duration if duration and duration > 0 else 900.0,
        topics=tuple(str(t) for t in topics) if isinstance(topics, list) else (),
    )


def parse_sessions(payload: object) -> tuple[tuple[EnphaseSession, ...], bool]:
    """A history page: its sessions and whether more pages follow."""
    data = _mapping(_mapping(payload).get("data"))
    result = data.get("result")
    if not isinstance(result, list):
        raise BackendInvalidDataError("sessions: no result list")
    sessions = tuple(_parse_session(_mapping(item)) for item in result)
    return sessions, as_bool(data.get("hasMore")) is True


def _parse_session(entry: Mapping[str, Any]) -> EnphaseSession:
    return EnphaseSession(
        session_id=as_str(_first(entry, "sessionId", "id")),
        start=as_datetime(entry.get("startTime")),
        end=as_datetime(entry.get("endTime")),
        energy_kwh=as_float(entry.get("aggEnergyValue")),
        active_charge_time_s=as_float(entry.get("activeChargeTime")),
        miles=as_float(entry.get("milesAdded")),
        cost=as_float(entry.get("sessionCost")),
    )


def accepted(payload: object) -> bool:
    """Whether a control reply reads as accepted (no ``status``, or an accepting one)."""
    root = _mapping(payload)
    status = root.get("status", _mapping(root.get("data")).get("status"))
    return status is None or str(status).lower() in {"accepted", "ok", "success"}
