"""A stand-in for the ``ocpp`` custom integration (lbbrhzn/ocpp v0.11.0, OCPP 1.6J).

Built from the measurements in the project's reference (``ocpp_entities.md``) and the
fixtures in ``tests/simulators/data/ocpp/``: the same entity ids, unique ids, devices,
state strings, units and attributes at every step of a transaction; the same actions
with the same schemas; the same frames sent to the charge point.

Three layers, so a demo can reuse the first two without the test harness:

* :class:`ChargePointModel` (uses nothing of Home Assistant): the charge point behind the
  websocket together with the integration's server-side view of it (the values its
  entities show, the frames it sends, the quirks measured: station-wide
  ChargePointMaxProfile cascade, stale states after a disconnect, the id tag that is
  never cleared).  :func:`entity_specs` and :func:`device_specs` give the entity and
  device layout the integration creates for an entry.
* Entity classes (Home Assistant only) that read a model and rewrite their state on
  each "dispatch", as the integration's entities do.
* :class:`FakeOcpp`: registers the integration, its config entry, devices, entities
  and actions in a test ``hass`` (``MockModule`` / ``MockConfigEntry``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
import json
import random
import string
from typing import Any, NamedTuple

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.components.number import NumberEntity, NumberMode
from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.components.switch import SwitchEntity
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import EntityCategory
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util
import voluptuous as vol

DOMAIN = "ocpp"

# --------------------------------------------------------------------------------------
# Pure layer: the charge point and the integration's view of it
# --------------------------------------------------------------------------------------

ALL_MEASURANDS: tuple[str, ...] = (
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Interval",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Interval",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Interval",
    "Energy.Reactive.Import.Register",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "RPM",
    "SoC",
    "Temperature",
    "Voltage",
)
DEFAULT_MEASURANDS: tuple[str, ...] = (
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Voltage",
)
# The charge-control switch reads "on" exactly in these connector states.
ACTIVE_STATUSES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})
# Zeroed at once on SuspendedEV/EVSE and StopTransaction (attributes are kept).
_ZEROED_KEYS = (
    "current_import",
    "current_export",
    "power_active_import",
    "power_active_export",
    "power_reactive_import",
    "power_reactive_export",
)
_FEATURE_FLAGS = (
    ("Core", "CORE"),
    ("FirmwareManagement", "FW"),
    ("SmartCharging", "SMART"),
    ("Reservation", "RES"),
    ("RemoteTrigger", "REM"),
    ("LocalAuthListManagement", "AUTH"),
)
ICON = "mdi:ev-station"
NOMINAL_VOLTAGE = 230.0


def measurand_key(measurand: str) -> str:
    """The entity key of a measurand: lower case, dots to underscores."""
    return measurand.lower().replace(".", "_")


def _sig15(value: float) -> float:
    """Aggregates show 15 significant digits (15.9666666666667)."""
    return float(f"{value:.15g}")


class LimitRefusedError(Exception):
    """Every charging profile of a maximum-current change was refused."""


class Frame(NamedTuple):
    """One OCPP call and the answer it got."""

    action: str
    payload: dict[str, Any]
    response: dict[str, Any]


class Call(NamedTuple):
    """One Home Assistant action the integration received."""

    service: str
    data: dict[str, Any]


@dataclass(slots=True)
class ChargerBehaviour:
    """How the simulated charge point answers (all compliant by default)."""

    station_max_profile: str = "Accepted"  # answer to a ChargePointMaxProfile
    tx_profiles: str = "Accepted"  # answer to TxProfile / TxDefaultProfile on a connector
    remote_start: str = "Accepted"
    follow_remote_commands: bool = True  # starts / stops after accepting a remote command
    ignore_limits: bool = False  # accepts profiles but keeps offering its old current
    smart_charging: bool = True
    rate_unit: str = "Current"  # ChargingScheduleAllowedChargingRateUnit
    max_stack_level: int = 3
    session_energy_meter: bool = False  # meterStart 0 and EAIR counting from the session start


@dataclass(slots=True)
class Metric:
    """A value the integration keeps for an entity, with its extra attributes."""

    value: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Sample:
    """The last electrical values a connector measured."""

    currents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    voltages: tuple[float, float, float] = (NOMINAL_VOLTAGE,) * 3
    powers: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(slots=True)
class Connector:
    """One connector: the charger's own state and the integration's metrics of it."""

    number: int
    status: str = "Available"
    error_code: str = "NoError"
    transaction_id: int | None = None
    tx_id_tag: str | None = None
    tx_started: datetime | None = None
    register_wh: int = 0  # the connector's lifetime energy register
    meter_start_wh: int = 0
    session_base_wh: int = 0  # the register at StartTransaction (session-energy meters)
    # The integration's per-connector tag: StartTransaction's idTag, "" after StopTransaction.
    id_tag: str | None = None
    sample: Sample = field(default_factory=Sample)
    operative: bool = True
    metrics: dict[str, Metric] = field(default_factory=dict)

    def metric(self, key: str) -> Metric:
        """The metric of ``key``, created empty on first use."""
        return self.metrics.setdefault(key, Metric())


_DEFAULT_CONFIG: dict[str, tuple[str, bool]] = {
    "SupportedFeatureProfiles": (
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        True,
    ),
    "NumberOfConnectors": ("1", True),
    "HeartbeatInterval": ("300", False),
    "MeterValuesSampledData": ("", False),
    "MeterValueSampleInterval": ("30", False),
    "ClockAlignedDataInterval": ("0", False),
    "ChargingScheduleAllowedChargingRateUnit": ("Current", True),
    "ChargeProfileMaxStackLevel": ("3", True),
    "ChargingScheduleMaxPeriods": ("24", True),
    "MaxChargingProfilesInstalled": ("10", True),
    "AuthorizeRemoteTxRequests": ("false", False),
    "WebSocketPingInterval": ("0", False),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ChargePointModel:
    """An OCPP 1.6J charge point as the ``ocpp`` integration sees and drives it.

    Methods named after what the charge point does (``plug_in``, ``authorize``,
    ``start_transaction``, ``meter``...) play its messages to the integration and,
    except ``authorize`` (measured: Authorize alone publishes nothing), "dispatch":
    every listener (the entities) rewrites its state.  Methods named after the
    integration's actions (``set_charge_rate``, ``remote_start``...) record the frames
    the integration sends in :attr:`frames` together with the charger's answer.

    ``schedule`` runs what a charger does after answering a command (a remote start
    leads to StartTransaction and Charging); the default runs it at once.
    """

    def __init__(
        self,
        *,
        cpid: str = "charger",
        ocpp_id: str = "sim_cp_1",
        num_connectors: int = 1,
        measurands: Sequence[str] = DEFAULT_MEASURANDS,
        vendor: str = "SimVendor",
        model: str = "SimWallbox 3P",
        serial: str = "SIM-0001",
        firmware: str = "1.2.3",
        max_current: float = 32.0,
        offered_current: float = 16.0,
        energy_register_kwh: float = 1012.345,
        first_transaction_id: int = 1795280789,
        behaviour: ChargerBehaviour | None = None,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.cpid = cpid
        self.ocpp_id = ocpp_id
        self.num_connectors = num_connectors
        self.measurands = tuple(measurands)
        self.vendor = vendor
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.max_current = max_current
        self.hardware_offered = offered_current
        self.behaviour = behaviour or ChargerBehaviour()
        self.clock = clock
        self._rng = rng or random.Random(0x0CC9)
        self._next_tx = first_transaction_id

        self.connected = False
        self.has_connected = False
        self.reconnects = 0
        self.remote_id_tag = ""
        self.station_id_tag: str | None = None  # connector 0: Authorize writes, never clears
        self.station_status = "Available"
        self.station_error = "NoError"
        self.station: dict[str, Metric] = {}
        # One meter per connector; connector N starts N-1 MWh above connector 1 (as measured).
        self.connectors = [
            Connector(n, register_wh=round(energy_register_kwh * 1000) + 1_000_000 * (n - 1))
            for n in range(1, num_connectors + 1)
        ]
        self.number_values: dict[int, float] = {}  # 0 = the flat / station number
        self.profiles: dict[int, dict[int, dict[str, Any]]] = {
            n: {} for n in range(num_connectors + 1)
        }
        self.config: dict[str, list[Any]] = {
            key: [value, readonly] for key, (value, readonly) in _DEFAULT_CONFIG.items()
        }
        self.config["NumberOfConnectors"][0] = str(num_connectors)
        self.config["MeterValuesSampledData"][0] = ",".join(self.measurands)
        self.config["ChargingScheduleAllowedChargingRateUnit"][0] = self.behaviour.rate_unit
        self.config["ChargeProfileMaxStackLevel"][0] = str(self.behaviour.max_stack_level)
        if not self.behaviour.smart_charging:
            self.config["SupportedFeatureProfiles"][0] = (
                "Core,FirmwareManagement,LocalAuthListManagement,Reservation,RemoteTrigger"
            )

        self.frames: list[Frame] = []  # integration -> charge point
        self.notifications: list[str] = []  # persistent notifications the integration raised
        self.messages: list[Frame] = []  # charge point -> integration
        self._listeners: list[Callable[[], None]] = []
        self.schedule: Callable[[Callable[[], None]], None] = lambda job: job()

    # -- plumbing ------------------------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on every dispatch; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def dispatch(self) -> None:
        """What the integration does after most messages: every entity rewrites its state."""
        for listener in list(self._listeners):
            listener()

    def connector(self, number: int) -> Connector:
        """Connector ``number`` (1-based)."""
        if not 1 <= number <= self.num_connectors:
            raise ValueError(f"no connector {number}")
        return self.connectors[number - 1]

    def _received(self, action: str, payload: dict[str, Any], response: dict[str, Any]) -> None:
        self.messages.append(Frame(action, payload, response))

    def _send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a frame to the charge point; it answers at once."""
        response = self._answer(action, payload)
        self.frames.append(Frame(action, payload, response))
        return response

    def _timestamp(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- what the charge point sends -----------------------------------------------

    def connect(self) -> None:
        """The websocket opens: BootNotification and StatusNotification for every connector."""
        first = not self.has_connected
        if not first:
            self.reconnects += 1
        self.connected = True
        self.has_connected = True
        self._received(
            "BootNotification",
            {
                "chargePointModel": self.model,
                "chargePointVendor": self.vendor,
                "chargePointSerialNumber": self.serial,
                "firmwareVersion": self.firmware,
            },
            {"currentTime": self._timestamp(), "interval": 3600, "status": "Accepted"},
        )
        if first:
            self.remote_id_tag = "".join(
                self._rng.choices(string.ascii_uppercase + string.digits, k=20)
            )
            self._post_connect()
        self._boot_metrics(first)
        self._status_received(0, self.station_status)
        for conn in self.connectors:
            self._status_received(conn.number, conn.status)
        self.dispatch()

    def _post_connect(self) -> None:
        """What the integration sends once the charger is known (measured order)."""
        for key in ("SupportedFeatureProfiles", "NumberOfConnectors", "HeartbeatInterval"):
            self._send("GetConfiguration", {"key": [key]})
        sampled = ",".join(self.measurands)
        self._send("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": sampled})
        self._send("GetConfiguration", {"key": ["MeterValuesSampledData"]})
        self._send("GetConfiguration", {"key": ["MeterValuesSampledData"]})
        for key, value in (("MeterValueSampleInterval", "60"), ("ClockAlignedDataInterval", "900")):
            self._send("GetConfiguration", {"key": [key]})
            self._send("ChangeConfiguration", {"key": key, "value": value})
        self._send("ChangeAvailability", {"connectorId": 0, "type": "Operative"})
        if "RemoteTrigger" in self.config["SupportedFeatureProfiles"][0]:
            targets = [1] if self.num_connectors == 1 else range(self.num_connectors + 1)
            for conn_id in targets:
                self._send(
                    "TriggerMessage",
                    {"requestedMessage": "StatusNotification", "connectorId": conn_id},
                )
        self.station["timestamp_config_response"] = Metric(
            self.clock().replace(microsecond=0), {"MeterValuesSampledData": sampled}
        )

    def _boot_metrics(self, first: bool) -> None:
        features = self.config["SupportedFeatureProfiles"][0].split(",")
        values: dict[str, Any] = {
            "id": self.ocpp_id,
            "model": self.model,
            "vendor": self.vendor,
            "serial": self.serial,
            "version_firmware": self.firmware,
            "features": "|".join(flag for name, flag in _FEATURE_FLAGS if name in features),
            "connectors": self.num_connectors,
            "reconnects": self.reconnects,
        }
        for key, value in values.items():
            self.station.setdefault(key, Metric()).value = value
        if first:
            for conn in self.connectors:
                conn.metric("error_code_connector").value = conn.error_code
            for n in range(self.num_connectors + 1):
                self.number_values.setdefault(n, float(self.max_current))

    def _status_received(self, conn_id: int, status: str, error_code: str = "NoError") -> None:
        payload = {
            "connectorId": conn_id,
            "errorCode": error_code,
            "status": status,
            "timestamp": self._timestamp(),
        }
        self._received("StatusNotification", payload, {})
        if conn_id == 0:
            self.station_status = status
            self.station_error = error_code
            self.station.setdefault("status", Metric()).value = status
            self.station.setdefault("error_code", Metric()).value = error_code
            return
        conn = self.connector(conn_id)
        conn.status = status
        conn.error_code = error_code
        conn.metric("status_connector").value = status
        conn.metric("error_code_connector").value = error_code
        if status in ("SuspendedEV", "SuspendedEVSE"):
            self._zero(conn)

    def status_notification(self, conn_id: int, status: str, error_code: str = "NoError") -> None:
        """StatusNotification for a connector (0 = the whole station)."""
        self._status_received(conn_id, status, error_code)
        self.dispatch()

    def plug_in(self, conn_id: int) -> None:
        """Cable in: Preparing."""
        self.status_notification(conn_id, "Preparing")

    def charging(self, conn_id: int) -> None:
        """The car draws current: Charging."""
        self.status_notification(conn_id, "Charging")

    def suspend_ev(self, conn_id: int) -> None:
        """The car stops drawing (full, schedule): SuspendedEV."""
        self.status_notification(conn_id, "SuspendedEV")

    def suspend_evse(self, conn_id: int) -> None:
        """The charger offers no current: SuspendedEVSE."""
        self.status_notification(conn_id, "SuspendedEVSE")

    def fault(self, conn_id: int, error_code: str = "GroundFailure") -> None:
        """The connector reports a fault."""
        self.status_notification(conn_id, "Faulted", error_code)

    def authorize(self, conn_id: int, id_tag: str) -> str:
        """Authorize: the tag lands on connector 0 and nothing is published (measured).

        ``conn_id`` is where the card was presented; OCPP 1.6 Authorize does not carry it.
        """
        self.connector(conn_id)
        self.station_id_tag = id_tag
        self._received("Authorize", {"idTag": id_tag}, {"idTagInfo": {"status": "Accepted"}})
        return "Accepted"

    def start_transaction(self, conn_id: int, id_tag: str, *, charging: bool = True) -> int:
        """StartTransaction (the integration hands out the transaction id), then Charging."""
        conn = self.connector(conn_id)
        tx_id = self._next_tx
        self._next_tx += 1
        meter_start = 0 if self.behaviour.session_energy_meter else conn.register_wh
        self._received(
            "StartTransaction",
            {
                "connectorId": conn_id,
                "idTag": id_tag,
                "meterStart": meter_start,
                "timestamp": self._timestamp(),
            },
            {"transactionId": tx_id, "idTagInfo": {"status": "Accepted"}},
        )
        conn.transaction_id = tx_id
        conn.tx_id_tag = id_tag
        conn.tx_started = self.clock()
        conn.meter_start_wh = meter_start
        conn.session_base_wh = conn.register_wh
        conn.id_tag = id_tag
        conn.metric("transaction_id").value = tx_id
        conn.metric("energy_meter_start").value = meter_start / 1000
        conn.metric("energy_session").value = 0.0
        conn.metric("stop_reason").value = ""
        conn.metric("time_session").value = 0
        self.dispatch()
        if charging:
            self.charging(conn_id)
        return tx_id

    def meter(
        self,
        conn_id: int,
        *,
        power_w: float | None = None,
        energy_kwh: float | None = None,
        currents: Sequence[float] | None = None,
        voltages: Sequence[float] | None = None,
        offered: float | None = None,
        context: str | None = None,
    ) -> None:
        """MeterValues with every configured measurand (3-phase sampled values).

        Phase powers are ``round(I x V)`` unless ``power_w`` is given (then split over
        the phases like the currents).  ``offered`` defaults to what the charger's
        profiles allow; ``energy_kwh`` moves the lifetime register.
        """
        conn = self.connector(conn_id)
        volts = tuple(float(v) for v in voltages) if voltages else conn.sample.voltages
        if currents is not None:
            amps = tuple(float(a) for a in currents)
        elif power_w is not None:
            amps = tuple(power_w / 3 / v for v in volts)
        else:
            amps = (0.0, 0.0, 0.0)
        if power_w is None:
            powers = tuple(float(round(a * v)) for a, v in zip(amps, volts, strict=True))
        else:
            total_amps = sum(amps)
            shares = [a / total_amps for a in amps] if total_amps else [1 / 3] * 3
            powers = tuple(power_w * share for share in shares)
        conn.sample = Sample(amps, volts, powers)  # type: ignore[arg-type]
        if energy_kwh is not None:
            conn.register_wh = round(energy_kwh * 1000)
        if offered is None:
            offered = self.offered_current(conn_id)
        if context is None:
            context = "Sample.Periodic" if conn.transaction_id is not None else "Sample.Clock"
        self._meter_values(conn, offered, context)
        self.dispatch()

    def _meter_values(self, conn: Connector, offered: float, context: str) -> None:
        sample = conn.sample
        measured: dict[str, Any] = {
            "Current.Import": sample.currents,
            "Voltage": sample.voltages,
            "Power.Active.Import": sample.powers,
            "Current.Offered": offered,
            "Energy.Active.Import.Register": self._register_reading(conn),
        }
        sampled: list[dict[str, Any]] = []
        for measurand in self.measurands:
            if measurand not in measured:
                continue
            value = measured[measurand]
            unit = {"Current": "A", "Voltage": "V", "Power": "W", "Energy": "Wh"}[
                measurand.split(".")[0]
            ]
            if isinstance(value, tuple):
                phases = ("L1-N", "L2-N", "L3-N") if measurand == "Voltage" else ("L1", "L2", "L3")
                sampled.extend(
                    {
                        "value": str(v),
                        "context": context,
                        "measurand": measurand,
                        "phase": phase,
                        "location": "Outlet",
                        "unit": unit,
                    }
                    for phase, v in zip(phases, value, strict=True)
                )
            else:
                sampled.append(
                    {
                        "value": str(float(value)),
                        "context": context,
                        "measurand": measurand,
                        "location": "Outlet",
                        "unit": unit,
                    }
                )
        payload: dict[str, Any] = {
            "connectorId": conn.number,
            "meterValue": [{"timestamp": self._timestamp(), "sampledValue": sampled}],
        }
        if conn.transaction_id is not None:
            payload["transactionId"] = conn.transaction_id
        self._received("MeterValues", payload, {})
        self._store_meter_values(conn, sampled)

    def _register_reading(self, conn: Connector) -> int:
        """Wh; a session-energy meter counts from 0 inside a transaction."""
        if self.behaviour.session_energy_meter and conn.transaction_id is not None:
            return conn.register_wh - conn.session_base_wh
        return conn.register_wh

    def _store_meter_values(self, conn: Connector, sampled: list[dict[str, Any]]) -> None:
        """The integration's aggregation: average currents, summed powers in kW, Wh -> kWh."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for item in sampled:
            grouped.setdefault(item["measurand"], []).append(item)
        for measurand, items in grouped.items():
            key = measurand_key(measurand)
            context = items[0]["context"]
            if "phase" in items[0]:
                values = [float(item["value"]) for item in items]
                attrs: dict[str, Any] = {"unit": items[0]["unit"]}
                attrs.update({item["phase"]: float(item["value"]) for item in items})
                attrs["context"] = context
                if measurand.startswith("Power"):
                    value: Any = _sig15(sum(values) / 1000)
                elif measurand.startswith("Current"):
                    nonzero = [v for v in values if v != 0]
                    value = _sig15(sum(nonzero) / len(nonzero)) if nonzero else 0.0
                else:
                    value = _sig15(sum(values) / len(values))
                conn.metrics[key] = Metric(value, attrs)
                continue
            raw = float(items[0]["value"])
            value = raw / 1000 if items[0]["unit"] in ("Wh", "W") else raw
            attrs = {"location": items[0]["location"], "context": context}
            if key == "energy_active_import_register" and conn.transaction_id is not None:
                if conn.meter_start_wh == 0:
                    # A charger counting from 0 reports session energy (measured).
                    session = conn.metric("energy_session")
                    session.value = value
                    session.attrs["id_tag"] = conn.id_tag
                    continue
                start = conn.metric("energy_meter_start").value or 0.0
                conn.metric("energy_session").value = round(value - start, 3)
            conn.metrics[key] = Metric(value, attrs)
        if conn.transaction_id is not None and conn.tx_started is not None:
            minutes = (self.clock() - conn.tx_started).total_seconds() // 60
            conn.metric("time_session").value = int(minutes)

    def _zero(self, conn: Connector) -> None:
        for key in _ZEROED_KEYS:
            if key in conn.metrics and conn.metrics[key].value is not None:
                conn.metrics[key].value = 0

    def stop_transaction(
        self, conn_id: int, reason: str = "Local", *, finishing: bool = True
    ) -> None:
        """StopTransaction (the status still reads as before), then Finishing."""
        conn = self.connector(conn_id)
        if conn.transaction_id is None:
            raise ValueError(f"no transaction on connector {conn_id}")
        self._received(
            "StopTransaction",
            {
                "meterStop": self._register_reading(conn),
                "timestamp": self._timestamp(),
                "transactionId": conn.transaction_id,
                "reason": reason,
                "idTag": conn.tx_id_tag,
            },
            {"idTagInfo": {"status": "Accepted"}},
        )
        meter_stop = self._register_reading(conn)
        conn.metric("energy_session").value = round((meter_stop - conn.meter_start_wh) / 1000, 3)
        conn.metric("stop_reason").value = reason
        conn.metric("transaction_id").value = 0
        conn.id_tag = ""
        self._zero(conn)
        # A TxProfile ends with its transaction.
        self.profiles[conn.number] = {
            pid: profile
            for pid, profile in self.profiles[conn.number].items()
            if profile.get("chargingProfilePurpose") != "TxProfile"
        }
        conn.transaction_id = None
        conn.tx_id_tag = None
        conn.tx_started = None
        self.dispatch()
        if finishing:
            self.status_notification(conn_id, "Finishing")

    def unplug(self, conn_id: int) -> None:
        """Cable out: a running transaction stops (EVDisconnected), then Available."""
        if self.connector(conn_id).transaction_id is not None:
            self.stop_transaction(conn_id, "EVDisconnected", finishing=False)
        self.status_notification(conn_id, "Available")

    def heartbeat(self) -> None:
        """Heartbeat: only the heartbeat sensor moves."""
        now = self.clock().replace(microsecond=0)
        self._received("Heartbeat", {}, {"currentTime": self._timestamp()})
        self.station.setdefault("heartbeat", Metric()).value = now
        self.dispatch()

    def disconnect(self) -> None:
        """The websocket closes.  Nothing is dispatched: every entity keeps its state."""
        self.connected = False

    # -- what the integration shows ------------------------------------------------

    def station_value(self, key: str) -> Metric:
        """A charger-level metric (``id_tag`` is derived as the integration does)."""
        if key == "id_tag":
            if self.station_id_tag is not None:
                return Metric(self.station_id_tag)
            # Never authorised since the connection started: the last connector's tag.
            return Metric(self.connectors[-1].id_tag)
        return self.station.get(key, Metric())

    def connector_value(self, conn_id: int, key: str) -> Metric:
        """A connector-level metric."""
        return self.connector(conn_id).metrics.get(key, Metric())

    def charge_control_on(self, conn_id: int) -> bool:
        """The charge-control switch is derived from the connector status."""
        return self.connector(conn_id).status in ACTIVE_STATUSES

    # -- what the charge point answers ----------------------------------------------

    def _answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_on_{action}", None)
        if handler is None:
            return {"status": "Accepted"}
        response: dict[str, Any] = handler(payload)
        return response

    def _on_GetConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        keys = payload.get("key") or list(self.config)
        known = [k for k in keys if k in self.config]
        response: dict[str, Any] = {
            "configurationKey": [
                {"key": k, "readonly": self.config[k][1], "value": self.config[k][0]} for k in known
            ]
        }
        if unknown := [k for k in keys if k not in self.config]:
            response["unknownKey"] = unknown
        return response

    def _on_ChangeConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        entry = self.config.get(payload["key"])
        if entry is None:
            return {"status": "NotSupported"}
        if entry[1]:
            return {"status": "Rejected"}
        entry[0] = payload["value"]
        return {"status": "Accepted"}

    def _on_SetChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        conn_id = payload["connectorId"]
        profile = payload["csChargingProfiles"]
        purpose = profile.get("chargingProfilePurpose")
        if purpose == "ChargePointMaxProfile":
            status = self.behaviour.station_max_profile if conn_id == 0 else "Rejected"
        elif purpose == "TxProfile":
            tx_ok = 1 <= conn_id <= self.num_connectors and (
                self.connector(conn_id).transaction_id == profile.get("transactionId")
            )
            status = self.behaviour.tx_profiles if tx_ok else "Rejected"
        elif purpose == "TxDefaultProfile" and 0 <= conn_id <= self.num_connectors:
            status = self.behaviour.tx_profiles
        else:
            status = "Rejected"
        if status == "Accepted":
            installed = self.profiles[conn_id]
            for pid in [
                pid
                for pid, other in installed.items()
                if other.get("chargingProfilePurpose") == purpose
                and other.get("stackLevel") == profile.get("stackLevel")
            ]:
                del installed[pid]
            installed[profile["chargingProfileId"]] = profile
            self.schedule(self._follow_limits)
        return {"status": status}

    def _on_ClearChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        for installed in self.profiles.values():
            installed.clear()
        self.schedule(self._follow_limits)
        return {"status": "Accepted"}

    def _on_RemoteStartTransaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        status = self.behaviour.remote_start
        conn_id = payload.get("connectorId", 1)
        if status == "Accepted" and self.behaviour.follow_remote_commands:
            self.schedule(lambda: self._remote_started(conn_id, payload["idTag"]))
        return {"status": status}

    def _remote_started(self, conn_id: int, id_tag: str) -> None:
        conn = self.connector(conn_id)
        if conn.transaction_id is not None:
            return
        if conn.status == "Available":
            self.plug_in(conn_id)
        self.start_transaction(conn_id, id_tag)

    def _on_RemoteStopTransaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        for conn in self.connectors:
            if conn.transaction_id == payload["transactionId"]:
                if self.behaviour.follow_remote_commands:
                    self.schedule(partial(self.stop_transaction, conn.number, "Remote"))
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def _on_ChangeAvailability(self, payload: dict[str, Any]) -> dict[str, Any]:
        operative = payload["type"] == "Operative"
        conn_id = payload["connectorId"]
        targets = list(range(self.num_connectors + 1)) if conn_id == 0 else [conn_id]

        def apply() -> None:
            for target in targets:
                if target:
                    self.connector(target).operative = operative
                self._status_received(target, "Available" if operative else "Unavailable")
            self.dispatch()

        self.schedule(apply)
        return {"status": "Accepted"}

    def _on_UnlockConnector(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Unlocked"}

    def _on_TriggerMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        requested = payload["requestedMessage"]
        conn_id = payload.get("connectorId")
        if requested == "StatusNotification":

            def statuses() -> None:
                if conn_id in (None, 0):
                    self._status_received(0, self.station_status, self.station_error)
                for conn in self.connectors:
                    if conn_id in (None, 0, conn.number):
                        self._status_received(conn.number, conn.status, conn.error_code)
                self.dispatch()

            self.schedule(statuses)
        elif requested == "MeterValues":
            self.schedule(lambda: self._triggered_meter_values(conn_id))
        return {"status": "Accepted"}

    def _triggered_meter_values(self, conn_id: int | None) -> None:
        for conn in self.connectors:
            if conn_id in (None, 0, conn.number):
                offered = self.offered_current(conn.number)
                drawing = conn.status == "Charging"
                amps = tuple(min(a, offered) if drawing else 0.0 for a in conn.sample.currents)
                conn.sample = Sample(
                    amps,  # type: ignore[arg-type]
                    conn.sample.voltages,
                    tuple(
                        float(round(a * v)) for a, v in zip(amps, conn.sample.voltages, strict=True)
                    ),  # type: ignore[arg-type]
                )
                self._meter_values(conn, offered, "Sample.Periodic")
        self.dispatch()

    def _on_DataTransfer(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted", "data": "sim-ok"}

    def _on_GetDiagnostics(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"fileName": "diag.log"}

    def _on_UpdateFirmware(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    # -- the charger applying its profiles --------------------------------------------

    @staticmethod
    def _profile_amps(profile: Mapping[str, Any]) -> float:
        schedule = profile["chargingSchedule"]
        limit = float(schedule["chargingSchedulePeriod"][0]["limit"])
        if schedule.get("chargingRateUnit") == "W":
            return limit / (NOMINAL_VOLTAGE * 3)
        return limit

    def _best(self, conn_id: int, purpose: str, tx_id: int | None = None) -> float | None:
        candidates = [
            p
            for p in self.profiles[conn_id].values()
            if p.get("chargingProfilePurpose") == purpose
            and (purpose != "TxProfile" or p.get("transactionId") == tx_id)
        ]
        if not candidates:
            return None
        return self._profile_amps(max(candidates, key=lambda p: p.get("stackLevel", 0)))

    def offered_current(self, conn_id: int) -> float:
        """What the connector offers the car under its installed profiles."""
        if self.behaviour.ignore_limits:
            return self.hardware_offered
        conn = self.connector(conn_id)
        limits = [self.hardware_offered]
        if (station := self._best(0, "ChargePointMaxProfile")) is not None:
            limits.append(station)
        tx = None
        if conn.transaction_id is not None:
            tx = self._best(conn_id, "TxProfile", conn.transaction_id)
        if tx is None:
            tx = self._best(conn_id, "TxDefaultProfile")
        if tx is None:
            tx = self._best(0, "TxDefaultProfile")
        if tx is not None:
            limits.append(tx)
        return float(min(limits))

    def _follow_limits(self) -> None:
        """A compliant charger pauses below 6 A (SuspendedEVSE) and resumes above."""
        if self.behaviour.ignore_limits or not self.connected:
            return
        for conn in self.connectors:
            if conn.transaction_id is None:
                continue
            offered = self.offered_current(conn.number)
            if offered < 6.0 and conn.status in ("Charging", "SuspendedEV"):
                self.suspend_evse(conn.number)
            elif offered >= 6.0 and conn.status == "SuspendedEVSE":
                self.charging(conn.number)

    # -- the integration's actions ---------------------------------------------------

    def set_charge_rate(
        self,
        *,
        limit_amps: float | None = None,
        limit_watts: int | None = None,
        conn_id: int = 0,
        custom_profile: str | dict[str, Any] | None = None,
    ) -> bool:
        """``ocpp.set_charge_rate`` as v0.11.0 does it; True when a profile was accepted."""
        if custom_profile is not None:
            if isinstance(custom_profile, str):
                custom_profile = json.loads(custom_profile.replace("'", '"'))
            response = self._send(
                "SetChargingProfile", {"connectorId": conn_id, "csChargingProfiles": custom_profile}
            )
            return bool(response["status"] == "Accepted")
        if limit_watts is None and limit_amps is None:
            return False
        # v0.11.0 uses the default of the other unit when the charger's unit differs.
        amps = 32.0 if limit_amps is None else float(limit_amps)
        watts = 22000.0 if limit_watts is None else float(limit_watts)
        if limit_watts is not None:
            amps = 32.0
        return self._limit_cascade(amps, watts, conn_id)

    def _limit_cascade(self, amps: float, watts: float, conn_id: int) -> bool:
        if not self.behaviour.smart_charging:
            return False
        unit_key = "ChargingScheduleAllowedChargingRateUnit"
        unit_answer = self._send("GetConfiguration", {"key": [unit_key]})
        unit = unit_answer["configurationKey"][0]["value"]
        stack_answer = self._send("GetConfiguration", {"key": ["ChargeProfileMaxStackLevel"]})
        stack = int(stack_answer["configurationKey"][0]["value"])
        rate_unit, limit = ("W", watts) if unit == "Power" else ("A", amps)

        def schedule() -> dict[str, Any]:
            return {
                "chargingRateUnit": rate_unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }

        station = self._send(
            "SetChargingProfile",
            {
                "connectorId": 0,
                "csChargingProfiles": {
                    "chargingProfileId": 1000,
                    "stackLevel": stack,
                    "chargingProfileKind": "Relative",
                    "chargingProfilePurpose": "ChargePointMaxProfile",
                    "chargingSchedule": schedule(),
                },
            },
        )
        if station["status"] == "Accepted":
            return True
        target = conn_id or 1
        accepted = False
        tx_id = self.connector(target).transaction_id
        if tx_id is not None:
            answer = self._send(
                "SetChargingProfile",
                {
                    "connectorId": target,
                    "csChargingProfiles": {
                        "chargingProfileId": 3000 + target,
                        "stackLevel": stack,
                        "chargingProfileKind": "Relative",
                        "chargingProfilePurpose": "TxProfile",
                        "chargingSchedule": schedule(),
                        "transactionId": tx_id,
                    },
                },
            )
            accepted = answer["status"] == "Accepted"
        answer = self._send(
            "SetChargingProfile",
            {
                "connectorId": target,
                "csChargingProfiles": {
                    "chargingProfileId": 2000 + target,
                    "stackLevel": stack - 1,
                    "chargingProfileKind": "Relative",
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingSchedule": schedule(),
                },
            },
        )
        return accepted or answer["status"] == "Accepted"

    def set_maximum_current(self, number_conn: int, value: float) -> None:
        """``number.set_value`` on a maximum-current number (0 = the flat one).

        Same path as ``limit_amps``; raises when every profile is refused (the state
        then keeps the last accepted value).
        """
        if not self._limit_cascade(float(value), 22000.0, number_conn):
            raise LimitRefusedError(
                f"Failed to set charging current limit: charger did not accept {float(value)} A"
            )
        self.number_values[number_conn] = float(value)
        self.dispatch()

    def clear_profile(self) -> None:
        """``ocpp.clear_profile``: every profile everywhere."""
        self._send("ClearChargingProfile", {})

    def remote_start(self, conn_id: int) -> None:
        """The charge-control switch turned on: RemoteStartTransaction with HA's tag."""
        response = self._send(
            "RemoteStartTransaction", {"idTag": self.remote_id_tag, "connectorId": conn_id}
        )
        if response["status"] != "Accepted":
            self.notifications.append(
                f"Warning: Start transaction failed with response {response['status']}"
            )

    def remote_stop(self, conn_id: int) -> None:
        """The charge-control switch turned off: RemoteStopTransaction, if a transaction runs."""
        tx_id = self.connector(conn_id).transaction_id
        if tx_id is not None:
            self._send("RemoteStopTransaction", {"transactionId": tx_id})

    def change_availability(self, conn_id: int, operative: bool) -> None:
        """An availability switch."""
        self._send(
            "ChangeAvailability",
            {"connectorId": conn_id, "type": "Operative" if operative else "Inoperative"},
        )

    def unlock(self, conn_id: int) -> None:
        """The unlock button."""
        self._send("UnlockConnector", {"connectorId": conn_id})

    def reset(self) -> None:
        """The reset button."""
        self._send("Reset", {"type": "Hard"})

    def trigger_message(self, requested: str) -> None:
        """``ocpp.trigger_custom_message`` (no connector id, as measured)."""
        self._send("TriggerMessage", {"requestedMessage": requested})

    def get_configuration(self, key: str | None) -> dict[str, Any]:
        """``ocpp.get_configuration``: one value, or every key."""
        answer = self._send("GetConfiguration", {"key": [key]} if key else {})
        values = {item["key"]: item["value"] for item in answer["configurationKey"]}
        return {"value": values[key] if key else values}

    def configure(self, key: str, value: str) -> dict[str, Any]:
        """``ocpp.configure``: GetConfiguration, then ChangeConfiguration."""
        self._send("GetConfiguration", {"key": [key]})
        answer = self._send("ChangeConfiguration", {"key": key, "value": value})
        if answer["status"] == "Rejected":
            self.notifications.append(f"Warning: {key} is read-only")
        return {"reboot_required": answer["status"] == "RebootRequired"}

    def data_transfer(self, vendor_id: str, message_id: str, data: str) -> None:
        """``ocpp.data_transfer``."""
        self._send("DataTransfer", {"vendorId": vendor_id, "messageId": message_id, "data": data})

    def get_diagnostics(self, upload_url: str) -> None:
        """``ocpp.get_diagnostics``."""
        self._send("GetDiagnostics", {"location": upload_url})

    def update_firmware(self, firmware_url: str, delay_hours: int) -> None:
        """``ocpp.update_firmware``."""
        retrieve = (self.clock() + timedelta(hours=delay_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._send("UpdateFirmware", {"location": firmware_url, "retrieveDate": retrieve})


# --------------------------------------------------------------------------------------
# Pure layer: the entity and device layout of an entry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """One entity as the integration creates it."""

    platform: str  # sensor / switch / number / button
    key: str
    name: str
    entity_id: str
    unique_id: str
    device: str  # the identifier value of the device it sits on
    conn: int | None  # the connector it reads; None for charger-level entities
    flat: bool  # a connector entity under the single-connector names
    device_class: str | None = None
    unit: str | None = None
    state_class: str | None = None
    category: str | None = None
    icon: str | None = ICON


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One device the integration registers."""

    identifiers: frozenset[tuple[str, str]]
    name: str
    via: str | None  # identifier value of the parent


_STATION_SENSORS: tuple[tuple[str, str, str | None, str | None], ...] = (
    # key, name, device_class, state_class (all diagnostic)
    ("connectors", "Connectors", None, None),
    ("error_code", "Error Code", None, None),
    ("features", "Features", None, None),
    ("heartbeat", "Heartbeat", "timestamp", None),
    ("id", "ID", None, None),
    ("id_tag", "Id Tag", None, None),
    ("latency_ping", "Latency Ping", None, "measurement"),
    ("latency_pong", "Latency Pong", None, "measurement"),
    ("model", "Model", None, None),
    ("reconnects", "Reconnects", None, None),
    ("serial", "Serial", None, None),
    ("status", "Status", None, None),
    ("status_firmware", "Status Firmware", None, None),
    ("timestamp_config_response", "Timestamp Config Response", "timestamp", None),
    ("timestamp_data_response", "Timestamp Data Response", "timestamp", None),
    ("timestamp_data_transfer", "Timestamp Data Transfer", "timestamp", None),
    ("vendor", "Vendor", None, None),
    ("version_firmware", "Version Firmware", None, None),
)
_CONNECTOR_SENSORS: tuple[tuple[str, str, str | None, str | None, str | None, str | None], ...] = (
    # key, name, device_class, unit, state_class, category
    ("energy_meter_start", "Energy Meter Start", "energy", "kWh", "total_increasing", None),
    ("energy_session", "Energy Session", "energy", "kWh", "total_increasing", None),
    ("error_code_connector", "Error Code Connector", None, None, None, "diagnostic"),
    ("status_connector", "Status Connector", None, None, None, "diagnostic"),
    ("stop_reason", "Stop Reason", None, None, None, None),
    ("time_session", "Time Session", None, None, "measurement", None),
    ("transaction_id", "Transaction Id", None, None, None, None),
)
_MEASURAND_META: dict[str, tuple[str | None, str | None, str | None]] = {
    # measurand prefix -> device_class, unit, state_class
    "Current": ("current", "A", "measurement"),
    "Energy.Active": ("energy", "kWh", "total_increasing"),
    "Energy.Reactive": (None, "kvarh", "total_increasing"),
    "Frequency": ("frequency", "Hz", "measurement"),
    "Power.Active": ("power", "kW", "measurement"),
    "Power.Offered": ("power", "kW", "measurement"),
    "Power.Reactive": ("reactive_power", "kvar", "measurement"),
    "Power.Factor": ("power_factor", None, "measurement"),
    "RPM": (None, None, "measurement"),
    "SoC": ("battery", "%", "measurement"),
    "Temperature": ("temperature", "°C", "measurement"),
    "Voltage": ("voltage", "V", "measurement"),
}


def _measurand_meta(measurand: str) -> tuple[str | None, str | None, str | None]:
    for prefix, meta in _MEASURAND_META.items():
        if measurand.startswith(prefix):
            return meta
    return (None, None, None)  # pragma: no cover - every measurand has a prefix above


def device_specs(cpid: str, ocpp_id: str, csid: str, num_connectors: int) -> list[DeviceSpec]:
    """The central system, the charger and (with several connectors) one device per connector."""
    devices = [
        DeviceSpec(frozenset({(DOMAIN, csid)}), csid, None),
        DeviceSpec(frozenset({(DOMAIN, cpid), (DOMAIN, ocpp_id)}), cpid, csid),
    ]
    if num_connectors > 1:
        devices.extend(
            DeviceSpec(frozenset({(DOMAIN, f"{cpid}-conn{n}")}), f"{cpid} Connector {n}", cpid)
            for n in range(1, num_connectors + 1)
        )
    return devices


def entity_specs(cpid: str, num_connectors: int, measurands: Iterable[str]) -> list[EntitySpec]:
    """Every entity of a charger for an entry's ``num_connectors`` and ``monitored_variables``."""
    specs: list[EntitySpec] = []

    def add(
        platform: str,
        key: str,
        name: str,
        conn: int | None,
        *,
        station: bool = False,
        **meta: Any,
    ) -> None:
        flat = conn is not None and num_connectors == 1
        if station or flat:
            entity_id = f"{platform}.{cpid}_{key}"
            scope = cpid
            device = cpid
        else:
            entity_id = f"{platform}.{cpid}_connector_{conn}_{key}"
            scope = f"{cpid}.conn{conn}"
            device = f"{cpid}-conn{conn}"
        unique_id = (
            f"{DOMAIN}.{scope}.{key}.sensor"
            if platform == "sensor"
            else f"{platform}.{DOMAIN}.{scope}.{key}"
        )
        specs.append(
            EntitySpec(platform, key, name, entity_id, unique_id, device, conn, flat, **meta)
        )

    for key, name, device_class, state_class in _STATION_SENSORS:
        add(
            "sensor",
            key,
            name,
            None,
            station=True,
            device_class=device_class,
            state_class=state_class,
            category="diagnostic",
        )
    add("switch", "availability", "Availability", None, station=True)
    add(
        "button",
        "reset",
        "Reset",
        None,
        station=True,
        device_class="restart",
        category="config",
        icon=None,
    )
    for conn in range(1, num_connectors + 1):
        for key, name, device_class, unit, state_class, category in _CONNECTOR_SENSORS:
            add(
                "sensor",
                key,
                name,
                conn,
                device_class=device_class,
                unit=unit,
                state_class=state_class,
                category=category,
            )
        for measurand in sorted(measurands):
            device_class, unit, state_class = _measurand_meta(measurand)
            add(
                "sensor",
                measurand_key(measurand),
                measurand.replace(".", " "),
                conn,
                device_class=device_class,
                unit=unit,
                state_class=state_class,
            )
        add("switch", "charge_control", "Charge Control", conn)
        add("number", "maximum_current", "Maximum Current", conn, unit="A")
        add("button", "unlock", "Unlock", conn, category="config", icon=None)
        if num_connectors > 1:
            add("switch", "connnector_availability", "Connector Availability", conn)
    return specs


# --------------------------------------------------------------------------------------
# Home Assistant entities reading a model
# --------------------------------------------------------------------------------------


class OcppEntity(Entity):
    """An entity of the integration: rewritten on every dispatch, never polled."""

    _attr_should_poll = False
    _attr_has_entity_name = False

    def __init__(self, model: ChargePointModel, spec: EntitySpec, calls: list[Call]) -> None:
        self.model = model
        self.spec = spec
        self.calls = calls
        self.entity_id = spec.entity_id
        self._attr_unique_id = spec.unique_id
        self._attr_name = spec.name
        self._attr_icon = spec.icon
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, spec.device)})
        if spec.category is not None:
            self._attr_entity_category = EntityCategory(spec.category)

    @property
    def conn(self) -> int:
        """The connector this entity reads (a flat entity reads connector 1)."""
        return self.spec.conn or 1

    @property
    def available(self) -> bool:
        """Unavailable while the websocket is down; connector entities also while Faulted."""
        if not self.model.connected:
            return False
        bound = self.spec.conn is not None and (
            not self.spec.flat or self.spec.key in ("charge_control", "unlock")
        )
        return not (bound and self.model.connector(self.conn).status == "Faulted")

    async def async_added_to_hass(self) -> None:
        """Follow the model's dispatches."""
        self.async_on_remove(self.model.add_listener(self._dispatched))

    @callback
    def _dispatched(self) -> None:
        self.async_write_ha_state()

    async def async_update(self) -> None:
        """Nothing to read: a forced refresh only rewrites the state (unavailable if away)."""

    def _record(self, service: str, **data: Any) -> None:
        self.calls.append(Call(service, {"entity_id": self.entity_id, **data}))


class OcppSensor(OcppEntity, SensorEntity):
    """A sensor: a charger-level or connector-level metric."""

    def __init__(self, model: ChargePointModel, spec: EntitySpec, calls: list[Call]) -> None:
        super().__init__(model, spec, calls)
        if spec.device_class is not None:
            self._attr_device_class = SensorDeviceClass(spec.device_class)
        if spec.state_class is not None:
            self._attr_state_class = SensorStateClass(spec.state_class)

    def _metric(self) -> Metric:
        if self.spec.conn is None:
            return self.model.station_value(self.spec.key)
        return self.model.connector_value(self.conn, self.spec.key)

    @property
    def native_value(self) -> Any:
        """The metric's value."""
        return self._metric().value

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Fixed for measurands; the session time and latencies get theirs once connected."""
        if self.spec.key == "time_session":
            return "min" if self.model.has_connected else None
        if self.spec.key in ("latency_ping", "latency_pong"):
            return "ms" if self.model.has_connected else None
        return self.spec.unit

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Per-phase values, unit, location and context, as the integration keeps them."""
        return dict(self._metric().attrs) or None


class OcppChargeControlSwitch(OcppEntity, SwitchEntity):
    """Charge control: on exactly while the connector is Charging or Suspended*."""

    @property
    def is_on(self) -> bool:
        """Derived from the connector status."""
        return self.model.charge_control_on(self.conn)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """RemoteStartTransaction."""
        self._record("switch.turn_on")
        self.model.remote_start(self.conn)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """RemoteStopTransaction (nothing without a transaction)."""
        self._record("switch.turn_off")
        self.model.remote_stop(self.conn)


class OcppAvailabilitySwitch(OcppEntity, SwitchEntity):
    """Station or connector availability: ChangeAvailability."""

    @property
    def is_on(self) -> bool:
        """On while the station (or connector) is not Unavailable."""
        if self.spec.conn is None:
            return self.model.station_status != "Unavailable"
        return self.model.connector(self.conn).status != "Unavailable"

    async def async_turn_on(self, **kwargs: Any) -> None:
        """ChangeAvailability Operative."""
        self._record("switch.turn_on")
        self.model.change_availability(self.spec.conn or 0, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """ChangeAvailability Inoperative."""
        self._record("switch.turn_off")
        self.model.change_availability(self.spec.conn or 0, False)


class OcppMaximumCurrentNumber(OcppEntity, NumberEntity):
    """The maximum-current slider: the station-wide limit_amps path."""

    _attr_native_min_value = 0
    _attr_native_step = 1
    _attr_mode = NumberMode.AUTO

    def __init__(self, model: ChargePointModel, spec: EntitySpec, calls: list[Call]) -> None:
        super().__init__(model, spec, calls)
        self._attr_native_max_value = float(model.max_current)
        self._attr_native_unit_of_measurement = spec.unit

    @property
    def _slot(self) -> int:
        return 0 if self.spec.flat else self.conn

    @property
    def available(self) -> bool:
        """Only with the SmartCharging feature."""
        return super().available and self.model.behaviour.smart_charging

    @property
    def native_value(self) -> float | None:
        """The last value set through this number (starts at max_current)."""
        return self.model.number_values.get(self._slot)

    async def async_set_native_value(self, value: float) -> None:
        """Same cascade as set_charge_rate limit_amps; raises and keeps the old value if refused."""
        self._record("number.set_value", value=value)
        try:
            self.model.set_maximum_current(self._slot, value)
        except LimitRefusedError as err:
            raise HomeAssistantError(str(err)) from err


class OcppButton(OcppEntity, ButtonEntity):
    """Reset (station) or unlock (connector)."""

    def __init__(self, model: ChargePointModel, spec: EntitySpec, calls: list[Call]) -> None:
        super().__init__(model, spec, calls)
        if spec.device_class is not None:
            self._attr_device_class = ButtonDeviceClass(spec.device_class)

    async def async_press(self) -> None:
        """Reset Hard, or UnlockConnector."""
        self._record("button.press")
        if self.spec.key == "reset":
            self.model.reset()
        else:
            self.model.unlock(self.conn)


def build_entities(
    platform: str, model: ChargePointModel, specs: Iterable[EntitySpec], calls: list[Call]
) -> list[Entity]:
    """The entity objects of one platform for a charger."""
    entities: list[Entity] = []
    for spec in specs:
        if spec.platform != platform:
            continue
        if platform == "sensor":
            entities.append(OcppSensor(model, spec, calls))
        elif platform == "switch" and spec.key == "charge_control":
            entities.append(OcppChargeControlSwitch(model, spec, calls))
        elif platform == "switch":
            entities.append(OcppAvailabilitySwitch(model, spec, calls))
        elif platform == "number":
            entities.append(OcppMaximumCurrentNumber(model, spec, calls))
        else:
            entities.append(OcppButton(model, spec, calls))
    return entities


# --------------------------------------------------------------------------------------
# Actions with the measured schemas
# --------------------------------------------------------------------------------------

_NON_NEGATIVE_FLOAT = vol.All(vol.Coerce(float), vol.Range(min=0))
_NON_NEGATIVE_INT = vol.All(vol.Coerce(int), vol.Range(min=0))
SERVICE_SCHEMAS: dict[str, vol.Schema | None] = {
    "set_charge_rate": vol.Schema(
        {
            vol.Optional("devid"): cv.string,
            vol.Optional("limit_amps"): _NON_NEGATIVE_FLOAT,
            vol.Optional("limit_watts"): _NON_NEGATIVE_INT,
            vol.Optional("conn_id"): _NON_NEGATIVE_INT,
            vol.Optional("custom_profile"): vol.Any(cv.string, dict),
        }
    ),
    "clear_profile": None,
    "configure": vol.Schema(
        {
            vol.Optional("devid"): cv.string,
            vol.Required("ocpp_key"): cv.string,
            vol.Required("value"): cv.string,
        }
    ),
    "get_configuration": vol.Schema(
        {vol.Optional("devid"): cv.string, vol.Optional("ocpp_key"): cv.string}
    ),
    "trigger_custom_message": vol.Schema(
        {vol.Optional("devid"): cv.string, vol.Required("requested_message"): cv.string}
    ),
    "data_transfer": vol.Schema(
        {
            vol.Optional("devid"): cv.string,
            vol.Required("vendor_id"): cv.string,
            vol.Optional("message_id"): cv.string,
            vol.Optional("data"): cv.string,
        }
    ),
    "get_diagnostics": vol.Schema(
        {vol.Optional("devid"): cv.string, vol.Required("upload_url"): cv.string}
    ),
    "update_firmware": vol.Schema(
        {
            vol.Optional("devid"): cv.string,
            vol.Required("firmware_url"): cv.string,
            vol.Optional("delay_hours"): _NON_NEGATIVE_INT,
        }
    ),
}
SERVICE_RESPONSES = {
    "configure": SupportsResponse.OPTIONAL,
    "get_configuration": SupportsResponse.ONLY,
}


class OcppActions:
    """The ``ocpp`` actions over a set of charger models (first one = the fallback)."""

    def __init__(self, models: Callable[[], Sequence[ChargePointModel]], calls: list[Call]):
        self._models = models
        self.calls = calls

    def register(self, hass: HomeAssistant) -> None:
        """Register every action under the ``ocpp`` domain."""
        for name, schema in SERVICE_SCHEMAS.items():
            if not hass.services.has_service(DOMAIN, name):
                hass.services.async_register(
                    DOMAIN,
                    name,
                    self._handler(name),
                    schema=schema,
                    supports_response=SERVICE_RESPONSES.get(name, SupportsResponse.NONE),
                )

    def _resolve(self, devid: str | None) -> ChargePointModel:
        models = self._models()
        for model in models:
            if devid in (model.cpid, model.ocpp_id):
                return model
        return models[0]  # an unknown or missing devid silently drives the first charger

    def _handler(self, name: str) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
        async def handle(call: ServiceCall) -> ServiceResponse:
            self.calls.append(Call(f"{DOMAIN}.{name}", dict(call.data)))
            model = self._resolve(call.data.get("devid"))
            if not model.connected:
                raise HomeAssistantError(
                    "unavailable", translation_domain=DOMAIN, translation_key="unavailable"
                )
            data = call.data
            if name == "set_charge_rate":
                model.set_charge_rate(
                    limit_amps=data.get("limit_amps"),
                    limit_watts=data.get("limit_watts"),
                    conn_id=data.get("conn_id", 0),
                    custom_profile=data.get("custom_profile"),
                )
            elif name == "clear_profile":
                model.clear_profile()
            elif name == "configure":
                response = model.configure(data["ocpp_key"], data["value"])
                return response if call.return_response else None
            elif name == "get_configuration":
                return model.get_configuration(data.get("ocpp_key") or None)
            elif name == "trigger_custom_message":
                model.trigger_message(data["requested_message"])
            elif name == "data_transfer":
                model.data_transfer(
                    data["vendor_id"], data.get("message_id", ""), data.get("data", "")
                )
            elif name == "get_diagnostics":
                model.get_diagnostics(data["upload_url"])
            else:
                model.update_firmware(data["firmware_url"], data.get("delay_hours", 0))
            return None

        return handle


# --------------------------------------------------------------------------------------
# Registration in a test hass
# --------------------------------------------------------------------------------------

PLATFORMS = ("button", "number", "sensor", "switch")


def entry_data(
    models: Sequence[ChargePointModel],
    *,
    csid: str = "central",
    discovered: bool = False,
) -> dict[str, Any]:
    """Entry data as the integration stores it (version 2.2).

    ``discovered`` gives what the discovery flow writes before the charger's first
    full connection: all 22 measurands and one connector, whatever the charger has.
    """
    return {
        "host": "127.0.0.1",
        "port": 9000,
        "ssl": False,
        "csid": csid,
        "ocpp_version": "1.6",
        "websocket_close_timeout": 1,
        "websocket_ping_tries": 2,
        "websocket_ping_interval": 20,
        "websocket_ping_timeout": 20,
        "cpids": [
            {
                model.ocpp_id: {
                    "cpid": model.cpid,
                    "max_current": model.max_current,
                    "idle_interval": 900,
                    "meter_interval": 60,
                    "monitored_variables_autoconfig": True,
                    "skip_schema_validation": False,
                    "force_smart_charging": False,
                    "enable_ha_notifications": True,
                    "monitored_variables": ",".join(
                        ALL_MEASURANDS if discovered else model.measurands
                    ),
                    "num_connectors": 1 if discovered else model.num_connectors,
                }
            }
            for model in models
        ],
    }


def _remove_replaced_flat_entities(
    registry: er.EntityRegistry, cpid: str, cfg: Mapping[str, Any]
) -> None:
    """Flat connector entities that get a per-connector twin are deleted (measured);
    unsupported measurand sensors stay registered."""
    replaced = {
        (spec.platform, spec.key)
        for spec in entity_specs(cpid, cfg["num_connectors"], cfg["monitored_variables"].split(","))
        if spec.conn is not None
    }
    for flat in entity_specs(cpid, 1, ALL_MEASURANDS):
        if not flat.flat or (flat.platform, flat.key) not in replaced:
            continue
        if entity_id := registry.async_get_entity_id(flat.platform, DOMAIN, flat.unique_id):
            registry.async_remove(entity_id)


class OcppConfigFlow(ConfigFlow):
    """Only there so entries of version 2.2 load (the real flow is not simulated)."""

    VERSION = 2
    MINOR_VERSION = 2


def _entry_chargers(entry: ConfigEntry) -> list[tuple[str, dict[str, Any]]]:
    return [(ocpp_id, cfg) for item in entry.data["cpids"] for ocpp_id, cfg in item.items()]


class FakeOcpp:
    """The ``ocpp`` integration, its entry, devices, entities and actions in a test hass.

    ``FakeOcpp(hass)`` simulates one charger (cpid ``charger``, OCPP id ``sim_cp_1``);
    keyword arguments go to :class:`ChargePointModel`, or pass ``models`` for several
    chargers (the first one is what an unknown ``devid`` drives).  The drivers
    (``plug_in``...) act on the first charger; use :attr:`chargers` for the others.
    Call :meth:`close` when the test ends (it drops the flow handler it registered).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        models: Sequence[ChargePointModel] | None = None,
        csid: str = "central",
        discovered: bool = False,
        ignore_limits: bool = False,
        **model_kwargs: Any,
    ) -> None:
        self.hass = hass
        self.csid = csid
        self.discovered = discovered
        if models is None:
            model_kwargs.setdefault("clock", dt_util.utcnow)
            models = [ChargePointModel(**model_kwargs)]
        self.models = list(models)
        self.chargers = {model.cpid: model for model in self.models}
        for model in self.models:
            model.schedule = self._schedule
            if ignore_limits:
                model.behaviour.ignore_limits = True
        self.calls: list[Call] = []
        self.actions = OcppActions(lambda: self.models, self.calls)
        self.entry: Any = None
        self._cleanup = ExitStack()

    # -- set-up ---------------------------------------------------------------------

    async def async_setup(self, *, connect: bool = True) -> None:
        """Register the integration and its entry, set it up, and connect the chargers."""
        from pytest_homeassistant_custom_component.common import (
            MockConfigEntry,
            MockModule,
            MockPlatform,
            mock_config_flow,
            mock_integration,
            mock_platform,
        )

        # Entries of version 2.2 need a flow handler of that version (no migration).
        self._cleanup.enter_context(mock_config_flow(DOMAIN, OcppConfigFlow))

        mock_integration(
            self.hass,
            MockModule(
                DOMAIN,
                async_setup_entry=self._async_setup_entry,
                async_unload_entry=self._async_unload_entry,
            ),
        )
        mock_platform(self.hass, f"{DOMAIN}.config_flow", None)
        for platform in PLATFORMS:
            mock_platform(
                self.hass,
                f"{DOMAIN}.{platform}",
                MockPlatform(async_setup_entry=self._platform_setup(platform)),
            )
        self.entry = MockConfigEntry(
            domain=DOMAIN,
            title=self.csid,
            data=entry_data(self.models, csid=self.csid, discovered=self.discovered),
            version=2,
            minor_version=2,
        )
        self.entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()
        if connect:
            for model in self.models:
                self._connect(model)
            await self.hass.async_block_till_done()

    async def _async_setup_entry(self, hass: HomeAssistant, entry: ConfigEntry) -> bool:
        devices = dr.async_get(hass)
        registry = er.async_get(hass)
        for ocpp_id, cfg in _entry_chargers(entry):
            cpid = cfg["cpid"]
            for spec in device_specs(cpid, ocpp_id, self.csid, cfg["num_connectors"]):
                devices.async_get_or_create(
                    config_entry_id=entry.entry_id,
                    identifiers=set(spec.identifiers),
                    name=spec.name,
                    via_device=(DOMAIN, spec.via) if spec.via else None,
                )
            if cfg["num_connectors"] > 1:
                _remove_replaced_flat_entities(registry, cpid, cfg)
        self.actions.register(hass)
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        return True

    async def _async_unload_entry(self, hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)

    def _platform_setup(
        self, platform: str
    ) -> Callable[[HomeAssistant, ConfigEntry, AddEntitiesCallback], Any]:
        async def setup(
            hass: HomeAssistant, entry: ConfigEntry, add_entities: AddEntitiesCallback
        ) -> None:
            by_ocpp_id = {model.ocpp_id: model for model in self.models}
            for ocpp_id, cfg in _entry_chargers(entry):
                model = by_ocpp_id[ocpp_id]
                specs = entity_specs(
                    cfg["cpid"],
                    cfg["num_connectors"],
                    cfg["monitored_variables"].split(","),
                )
                add_entities(build_entities(platform, model, specs, self.calls))

        return setup

    def _schedule(self, job: Callable[[], None]) -> None:
        """What the charger does after answering runs a moment later, like a real one."""

        async def run() -> None:
            job()

        self.hass.async_create_task(run(), eager_start=False)

    def _connect(self, model: ChargePointModel) -> None:
        model.connect()
        device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, model.cpid)})
        if device is not None:
            dr.async_get(self.hass).async_update_device(
                device.id,
                manufacturer=model.vendor,
                model=model.model,
                sw_version=model.firmware,
            )

    async def async_unload(self) -> None:
        """Unload the entry (entities go unavailable, as on a real unload)."""
        await self.hass.config_entries.async_unload(self.entry.entry_id)
        await self.hass.async_block_till_done()

    def close(self) -> None:
        """Drop the flow handler registered for the entry (call at the end of a test)."""
        self._cleanup.close()

    async def reload_with_new_entity_set(self) -> None:
        """The reload after a discovered charger's first full connection (measured).

        The entry gets the detected connectors and measurands, and the entity set
        changes: with two connectors the flat connector entities are deleted and the
        per-connector ones created; unsupported measurand sensors stay registered and
        go ``unavailable``.
        """
        self.discovered = False
        data = entry_data(self.models, csid=self.csid)
        self.hass.config_entries.async_update_entry(self.entry, data=data)
        assert await self.hass.config_entries.async_reload(self.entry.entry_id)
        await self.hass.async_block_till_done()

    # -- look-ups -----------------------------------------------------------------------

    @property
    def charger(self) -> ChargePointModel:
        """The first charger."""
        return self.models[0]

    @property
    def frames(self) -> list[Frame]:
        """Frames the first charger received."""
        return self.charger.frames

    def device_id(self, cpid: str | None = None) -> str:
        """The device registry id of a charger (first by default)."""
        device = dr.async_get(self.hass).async_get_device(
            identifiers={(DOMAIN, cpid or self.charger.cpid)}
        )
        assert device is not None
        return device.id

    def entity_id(self, platform: str, key: str, conn: int | None = None) -> str | None:
        """The entity id registered for a key (``conn`` None = charger level or flat)."""
        cpid = self.charger.cpid
        scope = cpid if conn is None else f"{cpid}.conn{conn}"
        unique_id = (
            f"{DOMAIN}.{scope}.{key}.sensor"
            if platform == "sensor"
            else f"{platform}.{DOMAIN}.{scope}.{key}"
        )
        return er.async_get(self.hass).async_get_entity_id(platform, DOMAIN, unique_id)

    # -- drivers (first charger) -------------------------------------------------------

    def plug_in(self, conn: int) -> None:
        """Cable in."""
        self.charger.plug_in(conn)

    def authorize(self, conn: int, id_tag: str) -> None:
        """An RFID card presented (publishes nothing)."""
        self.charger.authorize(conn, id_tag)

    def start_transaction(self, conn: int, id_tag: str, *, charging: bool = True) -> int:
        """StartTransaction (then Charging); returns the transaction id."""
        return self.charger.start_transaction(conn, id_tag, charging=charging)

    def charging(self, conn: int) -> None:
        """Charging (again)."""
        self.charger.charging(conn)

    def meter(self, conn: int, **values: Any) -> None:
        """MeterValues; see :meth:`ChargePointModel.meter`."""
        self.charger.meter(conn, **values)

    def suspend_ev(self, conn: int) -> None:
        """SuspendedEV."""
        self.charger.suspend_ev(conn)

    def stop_transaction(self, conn: int, reason: str = "Local", *, finishing: bool = True) -> None:
        """StopTransaction, then Finishing."""
        self.charger.stop_transaction(conn, reason, finishing=finishing)

    def unplug(self, conn: int) -> None:
        """Cable out."""
        self.charger.unplug(conn)

    def disconnect(self) -> None:
        """The websocket closes: states go stale, actions raise, the switch is skipped."""
        self.charger.disconnect()

    def reconnect(self) -> None:
        """The charger comes back (same server-side object: the transaction survives)."""
        self._connect(self.charger)
