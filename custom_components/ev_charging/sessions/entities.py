"""Sensors of the session tracker.

- per charge port, on the charger's own device: the running session (state, user,
  vehicle, energy, power, duration, cost, SoC added), the last session as attributes,
  and the energy cross-check as a diagnostic;
- per user (a device per user subentry, added and removed with the subentry): totals,
  this month and this year in local time, the last session, the mean energy;
- on a household device: the guests together and the unassigned sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .aggregates import BUCKET_GUESTS, BUCKET_UNKNOWN, Totals, charger_bucket, user_bucket
from .const import SIGNAL_CHARGER, SIGNAL_STATS, SUBENTRY_USER
from .directory import UserType
from .events import SessionProgress
from .snapshot import Phase
from .tracker import SIGNAL_NEW_CHARGER, SIGNAL_REMOVED_CHARGER, SessionTracker

# --- per charge port ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionSensorDescription(SensorEntityDescription):
    """A sensor of a charge port's running session."""

    value_fn: Callable[[SessionProgress], StateType]
    monetary: bool = False


def _last_attrs(last: Mapping[str, Any] | None) -> dict[str, Any]:
    if last is None:
        return {}
    return {
        "last_session_id": last["id"],
        "last_user": last.get("user_name"),
        "last_vehicle": last.get("vehicle_name"),
        "last_started_at": last.get("started_at"),
        "last_ended_at": last.get("ended_at"),
        "last_energy_kwh": last.get("energy_kwh"),
        "last_cost": last.get("cost"),
        "last_duration_s": last.get("duration_s"),
        "last_charging_s": last.get("charging_s"),
    }


SESSION_SENSORS: tuple[SessionSensorDescription, ...] = (
    SessionSensorDescription(
        key="session_user",
        translation_key="session_user",
        value_fn=lambda p: p.user_name,
    ),
    SessionSensorDescription(
        key="session_vehicle",
        translation_key="session_vehicle",
        value_fn=lambda p: p.vehicle_name,
    ),
    SessionSensorDescription(
        key="session_energy",
        translation_key="tracked_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda p: p.energy_kwh,
    ),
    SessionSensorDescription(
        key="session_power",
        translation_key="tracked_session_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda p: p.power_w,
    ),
    SessionSensorDescription(
        key="session_duration",
        translation_key="tracked_session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda p: round(p.duration_s),
    ),
    SessionSensorDescription(
        key="session_cost",
        translation_key="tracked_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda p: p.cost,
        monetary=True,
    ),
    SessionSensorDescription(
        key="session_soc_added",
        translation_key="session_soc_added",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        value_fn=lambda p: p.soc_added_pct,
    ),
)


class _TrackerSensor(SensorEntity):
    """Reads the tracker; refreshed through dispatcher signals."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, tracker: SessionTracker, signals: Iterable[str]) -> None:
        self.tracker = tracker
        self._signals = tuple(signals)

    async def async_added_to_hass(self) -> None:
        """Follow the tracker."""
        for signal in self._signals:
            self.async_on_remove(async_dispatcher_connect(self.hass, signal, self._refresh))

    @callback
    def _refresh(self, *_: Any) -> None:
        self.async_write_ha_state()


class _PortSensor(_TrackerSensor):
    """A sensor of one charge port, on the charger's device."""

    def __init__(self, tracker: SessionTracker, charger_id: str, key: str) -> None:
        super().__init__(tracker, (SIGNAL_CHARGER.format(charger_id), SIGNAL_STATS))
        self.charger_id = charger_id
        self._attr_unique_id = f"{charger_id}_tracker_{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, charger_id)})

    @property
    def available(self) -> bool:
        """Available while the charger's entry is loaded."""
        return self.tracker.attached(self.charger_id)


class SessionSensor(_PortSensor):
    """A value of the running session; unknown between sessions."""

    entity_description: SessionSensorDescription

    def __init__(
        self, tracker: SessionTracker, charger_id: str, description: SessionSensorDescription
    ) -> None:
        super().__init__(tracker, charger_id, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        """The running session's value."""
        progress = self.tracker.progress(self.charger_id)
        return None if progress is None else self.entity_description.value_fn(progress)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The tariff's currency for costs."""
        if self.entity_description.monetary:
            tariff = self.tracker.tariff
            return tariff.currency if tariff else self.hass.config.currency
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Who the user is (or why unknown) on the user sensor."""
        if self.entity_description.key != "session_user":
            return None
        progress = self.tracker.progress(self.charger_id)
        if progress is None:
            return None
        return {
            "user_id": progress.user_id,
            "user_type": progress.user_type.value,
            "card_uid": progress.card_uid,
            "card_index": progress.card_index,
            "unknown_reason": progress.unknown_reason.value if progress.unknown_reason else None,
        }


class SessionStateSensor(_PortSensor):
    """Idle, waiting for a card, a session running, or closed by hand; the last session."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [phase.value for phase in Phase]
    _attr_translation_key = "session_state"

    def __init__(self, tracker: SessionTracker, charger_id: str) -> None:
        super().__init__(tracker, charger_id, "session_state")

    @property
    def native_value(self) -> str:
        """The engine's phase."""
        return self.tracker.phase(self.charger_id).value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The running session's id and price source, and the last completed session."""
        progress = self.tracker.progress(self.charger_id)
        last = self.tracker.totals(charger_bucket(self.charger_id)).last
        return {
            "session_id": progress.session_id if progress else None,
            "price_source": progress.price_source if progress else None,
            "flags": sorted(f.value for f in progress.flags) if progress else [],
        } | _last_attrs(last)


class EnergyDeviationSensor(_PortSensor):
    """How far the last session's energy is off the charger's lifetime counter."""

    _attr_translation_key = "energy_deviation"
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 1
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, tracker: SessionTracker, charger_id: str) -> None:
        super().__init__(tracker, charger_id, "energy_deviation")

    @property
    def native_value(self) -> float | None:
        """Percent of the larger of the two readings."""
        found = self.tracker.deviation(self.charger_id)
        return None if found is None else found[0]

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The session and both energies compared."""
        found = self.tracker.deviation(self.charger_id)
        if found is None:
            return None
        last = found[1]
        return {
            "session_id": last["id"],
            "session_energy_kwh": last["energy_kwh"],
            "counter_energy_kwh": last["counter_kwh"],
        }


def port_sensors(tracker: SessionTracker, charger_id: str) -> list[SensorEntity]:
    """Every sensor of one charge port (the cross-check where there is a counter)."""
    sensors: list[SensorEntity] = [
        SessionStateSensor(tracker, charger_id),
        *(SessionSensor(tracker, charger_id, d) for d in SESSION_SENSORS),
    ]
    if tracker.has_lifetime_counter(charger_id):
        sensors.append(EnergyDeviationSensor(tracker, charger_id))
    return sensors


# --- per user, the guests, the unassigned sessions ----------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """The totals of a bucket for all time, this local month and this local year."""

    total: Totals
    month: Totals
    year: Totals
    month_start: datetime
    year_start: datetime


@dataclass(frozen=True, kw_only=True)
class TotalsSensorDescription(SensorEntityDescription):
    """A total of a bucket."""

    value_fn: Callable[[Period], StateType | datetime]
    reset_fn: Callable[[Period], datetime] | None = None
    monetary: bool = False
    attrs_fn: Callable[[Period], dict[str, Any]] | None = None


def _energy(
    key: str, value: Callable[[Period], float], reset: Any = None
) -> TotalsSensorDescription:
    return TotalsSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda p: round(value(p), 3),
        reset_fn=reset,
    )


def _money(
    key: str, value: Callable[[Period], float], reset: Any = None
) -> TotalsSensorDescription:
    return TotalsSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda p: round(value(p), 2),
        reset_fn=reset,
        monetary=True,
    )


def _months(period: Period) -> dict[str, Any]:
    return {
        "month_sessions": period.month.sessions,
        "year_sessions": period.year.sessions,
    }


def _last(period: Period) -> dict[str, Any]:
    return _last_attrs(period.total.last)


TOTAL_ENERGY = _energy("total_energy", lambda p: p.total.energy_kwh)
TOTAL_COST = _money("total_cost", lambda p: p.total.cost)
SESSIONS = TotalsSensorDescription(
    key="sessions",
    translation_key="sessions",
    state_class=SensorStateClass.TOTAL,
    value_fn=lambda p: p.total.sessions,
    attrs_fn=_months,
)
LAST_SESSION = TotalsSensorDescription(
    key="last_session",
    translation_key="last_session",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda p: p.total.last_ended_at,
    attrs_fn=_last,
)
AVERAGE_ENERGY = TotalsSensorDescription(
    key="average_energy",
    translation_key="average_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
    value_fn=lambda p: None if p.total.average_kwh is None else round(p.total.average_kwh, 3),
)
MONTH_ENERGY = _energy("month_energy", lambda p: p.month.energy_kwh, lambda p: p.month_start)
MONTH_COST = _money("month_cost", lambda p: p.month.cost, lambda p: p.month_start)
YEAR_ENERGY = _energy("year_energy", lambda p: p.year.energy_kwh, lambda p: p.year_start)
YEAR_COST = _money("year_cost", lambda p: p.year.cost, lambda p: p.year_start)
BILLED = _money("billed", lambda p: p.total.billed)
MONTH_BILLED = _money("month_billed", lambda p: p.month.billed, lambda p: p.month_start)
YEAR_BILLED = _money("year_billed", lambda p: p.year.billed, lambda p: p.year_start)

USER_SENSORS = (
    TOTAL_ENERGY,
    TOTAL_COST,
    SESSIONS,
    LAST_SESSION,
    AVERAGE_ENERGY,
    MONTH_ENERGY,
    MONTH_COST,
    YEAR_ENERGY,
    YEAR_COST,
)
GUEST_SENSORS = (*USER_SENSORS, BILLED, MONTH_BILLED, YEAR_BILLED)
UNASSIGNED_SENSORS = (TOTAL_ENERGY, SESSIONS, LAST_SESSION)


def period_of(tracker: SessionTracker, bucket: str, today: date) -> Period:
    """All-time, this month's and this year's totals of a bucket (local calendar)."""
    tz = dt_util.get_default_time_zone()
    month = f"{today.year:04d}-{today.month:02d}"
    year = [m for m in tracker.store.months if m.startswith(f"{today.year:04d}-")]
    return Period(
        total=tracker.totals(bucket),
        month=tracker.store.period(bucket, [month]),
        year=tracker.store.period(bucket, year),
        month_start=datetime.combine(today.replace(day=1), time(), tzinfo=tz),
        year_start=datetime.combine(date(today.year, 1, 1), time(), tzinfo=tz),
    )


class TotalsSensor(_TrackerSensor):
    """A total of a user, of the guests or of the unassigned sessions."""

    entity_description: TotalsSensorDescription

    def __init__(
        self,
        tracker: SessionTracker,
        bucket: str,
        prefix: str,
        description: TotalsSensorDescription,
        device: DeviceInfo,
    ) -> None:
        super().__init__(tracker, (SIGNAL_STATS,))
        self.bucket = bucket
        self.entity_description = description
        self._attr_translation_key = f"{prefix}{description.translation_key}"
        self._attr_unique_id = f"{tracker.entry.entry_id}_{bucket}_{description.key}"
        self._attr_device_info = device

    def _period(self) -> Period:
        return period_of(self.tracker, self.bucket, dt_util.now().date())

    @property
    def native_value(self) -> StateType | datetime:
        """The total."""
        return self.entity_description.value_fn(self._period())

    @property
    def last_reset(self) -> datetime | None:
        """The start of the month or year for the current-period totals."""
        reset = self.entity_description.reset_fn
        return None if reset is None else reset(self._period())

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The household currency for money."""
        if self.entity_description.monetary:
            return self.hass.config.currency
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details where the description has some."""
        attrs = self.entity_description.attrs_fn
        return None if attrs is None else attrs(self._period())


def household_device(entry: ConfigEntry[Any]) -> DeviceInfo:
    """The device of the household entry (guests, unassigned sessions)."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_household")},
        name=entry.title,
        entry_type=DeviceEntryType.SERVICE,
    )


def user_device(entry: ConfigEntry[Any], subentry_id: str, name: str) -> DeviceInfo:
    """The device of one user."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_user_{subentry_id}")},
        name=name,
        entry_type=DeviceEntryType.SERVICE,
    )


# --- adding and removing ------------------------------------------------------------------


class EntityManager:
    """Adds the sensors of chargers and users as they appear, without a reload."""

    def __init__(self, tracker: SessionTracker) -> None:
        self.tracker = tracker
        self._add: AddConfigEntryEntitiesCallback | None = None
        self._ports: set[str] = set()
        self._users: set[str] = set()

    @callback
    def setup(self, hass: HomeAssistant, add: AddConfigEntryEntitiesCallback) -> None:
        """The sensor platform is ready: add everything known, follow what comes."""
        self._add = add
        entry = self.tracker.entry
        device = household_device(entry)
        add(
            [
                *(
                    TotalsSensor(self.tracker, BUCKET_GUESTS, "guests_", d, device)
                    for d in GUEST_SENSORS
                ),
                *(
                    TotalsSensor(self.tracker, BUCKET_UNKNOWN, "unassigned_", d, device)
                    for d in UNASSIGNED_SENSORS
                ),
            ]
        )
        for charger_id in self.tracker.charger_ids:
            self.add_port(charger_id)
        self.sync_users()
        entry.async_on_unload(async_dispatcher_connect(hass, SIGNAL_NEW_CHARGER, self.add_port))
        entry.async_on_unload(
            async_dispatcher_connect(hass, SIGNAL_REMOVED_CHARGER, self._ports.discard)
        )

    @callback
    def add_port(self, charger_id: str) -> None:
        """Sensors of a charge port, once."""
        if self._add is None or charger_id in self._ports:
            return
        self._ports.add(charger_id)
        self._add(port_sensors(self.tracker, charger_id))

    @callback
    def sync_users(self) -> None:
        """Sensors for new user subentries; removed ones go with their subentry."""
        if self._add is None:
            return
        entry = self.tracker.entry
        current = {
            sid: sub for sid, sub in entry.subentries.items() if sub.subentry_type == SUBENTRY_USER
        }
        self._users &= set(current)
        devices = dr.async_get(self.tracker.hass)
        for subentry_id, subentry in current.items():
            if subentry_id in self._users:
                known = devices.async_get_device(
                    identifiers={(DOMAIN, f"{entry.entry_id}_user_{subentry_id}")}
                )
                if known is not None and known.name != subentry.title:
                    devices.async_update_device(known.id, name=subentry.title)
                continue
            self._users.add(subentry_id)
            user = self.tracker.user(subentry_id)
            descriptions = GUEST_SENSORS if user and user.type is UserType.GUEST else USER_SENSORS
            device = user_device(entry, subentry_id, subentry.title)
            self._add(
                [
                    TotalsSensor(self.tracker, user_bucket(subentry_id), "", d, device)
                    for d in descriptions
                ],
                config_subentry_id=subentry_id,
            )
