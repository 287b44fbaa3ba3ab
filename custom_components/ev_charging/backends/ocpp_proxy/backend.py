"""A charger of the ``ocpp`` custom integration, read and driven through its entities.

The ``ocpp`` integration is the OCPP central system; this backend only proxies one
connector of one of its chargers:

* **reading**: the connector's entities, found by unique id (both naming layouts,
  re-resolved on every entity-registry change), pushed to the coordinator on state
  changes (debounced);
* **start / stop**: the connector's charge-control switch (RemoteStart /
  RemoteStopTransaction), confirmed by the status that follows;
* **current limit**: ``ocpp.set_charge_rate`` with our own TxProfile (running
  transaction) or TxDefaultProfile (idle) on the connector, or ``limit_amps`` in the
  explicit "station" mode; OCPP 1.6 reports no refusal through the action, so the
  limit is confirmed by reading the offered current back (a MeterValues is triggered).

What the integration does not tell us is worked around: it never refreshes its
entities after the websocket drops (states go stale: flagged after ``stale_after``,
then a forced refresh of the status entity shows ``unavailable``), and its id-tag
sensor keeps the last authorised tag (a tag is only attributed to a transaction when
it was read for that transaction, and never to a remote-started one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.const import ATTR_DOMAIN, ATTR_SERVICE, ATTR_SERVICE_DATA, EVENT_CALL_SERVICE
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HassJob,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceNotFound
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ...models import Capability, ChargerInfo, ChargerState, ChargerStatus
from ..base import (
    Backend,
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendInvalidDataError,
    BackendUnsupportedError,
    PollIntervals,
)
from . import mapping
from .entities import (
    MEASUREMENT_ROLES,
    OCPP_DOMAIN,
    REQUIRED_ROLES,
    ROLE_CHARGE_CONTROL,
    ROLE_CURRENT,
    ROLE_ENERGY,
    ROLE_ERROR,
    ROLE_ID_TAG,
    ROLE_MAX_CURRENT,
    ROLE_METER_START,
    ROLE_OFFERED,
    ROLE_POWER,
    ROLE_SESSION_ENERGY,
    ROLE_SESSION_TIME,
    ROLE_STATUS,
    ROLE_STOP_REASON,
    ROLE_TRANSACTION,
    ROLE_VOLTAGE,
    ConnectorEntities,
    connectors_of,
    cpid_of_device,
    index_ocpp_entities,
    resolve_connector,
)
from .profiles import DEFAULT_STACK_LEVEL, charging_profile

_LOGGER = logging.getLogger(__name__)

LIMIT_MODE_PROFILE: Final = "profile"
LIMIT_MODE_STATION: Final = "station"
LIMIT_MODES: Final = (LIMIT_MODE_PROFILE, LIMIT_MODE_STATION)

DEFAULT_DEBOUNCE: Final = 0.5  # s between a state change and the push
DEFAULT_CONFIRM_TIMEOUT: Final = 30.0  # s for the offered current to follow a limit
DEFAULT_COMMAND_TIMEOUT: Final = 60.0  # s for a remote start / stop to show
DEFAULT_STALE_AFTER: Final = 300.0  # s without MeterValues while "Charging" (5 x 60 s)
REMOTE_START_WINDOW: Final = timedelta(minutes=3)  # a remote start owns the next transaction
OFFER_TOLERANCE: Final = 0.5  # A
MIN_CURRENT: Final = 6.0  # A, IEC 61851
DEFAULT_MAX_CURRENT: Final = 32.0  # A, the integration's default max_current
_KEPT_TRANSACTIONS: Final = 20
_SWITCH_ON_SERVICES: Final = frozenset(
    {("switch", "turn_on"), ("switch", "toggle"), ("homeassistant", "turn_on")}
)

UpdateCallback = Callable[[dict[str, ChargerState]], None]


@dataclass(slots=True)
class _Waiter:
    """A command waiting for the entities to show its effect."""

    predicate: Callable[[], bool]
    future: asyncio.Future[None]


@dataclass(slots=True)
class _Transaction:
    """What we saw of one transaction."""

    rfid_tag: str | None
    started: datetime | None  # None when it ran already when we started watching


class OcppProxyBackend(Backend):
    """One connector of a charger of the ``ocpp`` integration."""

    key = "ocpp_proxy"
    push = True

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        ocpp_device_id: str,
        connector: int,
        limit_mode: str = LIMIT_MODE_PROFILE,
        confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        stale_after: float = DEFAULT_STALE_AFTER,
        debounce: float = DEFAULT_DEBOUNCE,
        stack_level: int = DEFAULT_STACK_LEVEL,
    ) -> None:
        super().__init__()
        if limit_mode not in LIMIT_MODES:
            raise ValueError(f"limit_mode must be one of {LIMIT_MODES}, not {limit_mode!r}")
        self.hass = hass
        self.ocpp_device_id = ocpp_device_id
        self.connector = connector
        self.limit_mode = limit_mode
        self.confirm_timeout = confirm_timeout
        self.command_timeout = command_timeout
        self.stale_after = stale_after
        self.debounce = debounce
        self.stack_level = stack_level

        self.cpid: str | None = None
        self.entities = ConnectorEntities("", connector)
        self._charger_id: str | None = None
        self._callback: UpdateCallback | None = None
        self._listeners: list[CALLBACK_TYPE] = []
        self._state_listeners: list[CALLBACK_TYPE] = []
        self._push_cancel: CALLBACK_TYPE | None = None
        self._stale_cancel: CALLBACK_TYPE | None = None
        self._push_job = HassJob(self._push_now, "ocpp proxy push", cancel_on_shutdown=True)
        self._stale_job = HassJob(self._push_now, "ocpp proxy stale", cancel_on_shutdown=True)
        self._waiters: list[_Waiter] = []
        self._probe_task: asyncio.Task[Any] | None = None
        self._limit: float | None = None
        self._last_tx: str | None = None
        self._transactions: dict[str, _Transaction] = {}
        self._remote_start_at: datetime | None = None
        self._register_held: float | None = None  # the register a session meter left behind
        self._register_holds = False
        self._stale = False
        self._probed = False
        self._closed = False

    # -- contract --------------------------------------------------------------------

    @property
    def intervals(self) -> PollIntervals:
        """Push backend: the coordinator does not poll; these are a safety net."""
        return PollIntervals(
            active=timedelta(seconds=60),
            idle=timedelta(minutes=5),
            burst=timedelta(seconds=5),
        )

    def set_update_callback(self, callback_: UpdateCallback) -> None:
        """Where pushed states go (the coordinator's ``async_set_updated_data``)."""
        self._callback = callback_

    async def async_setup(self) -> Sequence[ChargerInfo]:
        """Find the charger's entities, describe the connector and start listening."""
        if not self.hass.config_entries.async_entries(OCPP_DOMAIN):
            raise BackendConnectionError("the ocpp integration is not set up")
        self._remove_listeners()
        self._closed = False
        self.cpid = self._find_cpid()
        self._resolve()
        if not self.entities.found:
            self._remove_listeners()
            raise BackendConnectionError(
                f"no ocpp entities for connector {self.connector} of {self.cpid}"
            )
        info = self._info()
        self._charger_id = info.charger_id
        self.chargers = {info.charger_id: info}
        self._listeners.append(
            self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._registry_updated)
        )
        self._listeners.append(
            self.hass.bus.async_listen(
                EVENT_CALL_SERVICE, self._remote_start_seen, event_filter=self._is_remote_start
            )
        )
        # A transaction already running was not seen starting: no tag is attributed to it.
        tx = mapping.transaction_id(self._state(ROLE_TRANSACTION))
        if tx is not None:
            self._transactions[tx] = _Transaction(None, None)
        self._last_tx = tx
        return [info]

    async def async_fetch(self, now: float) -> dict[str, ChargerState]:
        """The current states (the coordinator's first refresh, or a poll)."""
        if self._charger_id is None:
            return {}
        if not self.entities.found:
            self._resolve()
        return {self._charger_id: self._read()}

    async def async_close(self) -> None:
        """Remove every listener and timer; pending commands fail. Safe to call twice."""
        self._closed = True
        self._remove_listeners()
        if self._probe_task is not None and not self._probe_task.done():
            self._probe_task.cancel()
        self._probe_task = None
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(BackendConnectionError("the backend was closed"))
        self._waiters.clear()

    def _remove_listeners(self) -> None:
        for remove in (*self._listeners, *self._state_listeners):
            remove()
        self._listeners.clear()
        self._state_listeners.clear()
        for cancel in (self._push_cancel, self._stale_cancel):
            if cancel is not None:
                cancel()
        self._push_cancel = self._stale_cancel = None

    def diagnostics(self) -> Mapping[str, Any]:
        """The resolved entities and what the backend remembers."""
        return {
            "cpid": self.cpid,
            "connector": self.connector,
            "layout": self.entities.layout,
            "limit_mode": self.limit_mode,
            "entities": dict(self.entities.roles),
            "current_limit": self._limit,
            "stale": self._stale,
            "transactions": {
                tx: {"tag_attributed": t.rfid_tag is not None, "started": t.started}
                for tx, t in self._transactions.items()
            },
        }

    # -- entities --------------------------------------------------------------------

    def _find_cpid(self) -> str:
        devices = dr.async_get(self.hass)
        device = devices.async_get(self.ocpp_device_id)
        if device is None:
            raise BackendInvalidDataError(f"the ocpp device {self.ocpp_device_id} is gone")
        index = index_ocpp_entities(self.hass)
        cpid = cpid_of_device(device, index)
        if cpid is None and device.via_device_id is not None:
            # A connector device was picked: its charger is the parent.
            parent = devices.async_get(device.via_device_id)
            cpid = cpid_of_device(parent, index) if parent is not None else None
        if cpid is None:
            raise BackendConnectionError(f"no ocpp entities on device {device.name}")
        return cpid

    def _resolve(self) -> bool:
        """Resolve the connector's entities again; True when they changed."""
        assert self.cpid is not None
        refs = index_ocpp_entities(self.hass).get(self.cpid, [])
        resolved = resolve_connector(refs, self.cpid, self.connector)
        if resolved == self.entities:
            return False
        if self.entities.layout is not None and resolved.layout != self.entities.layout:
            _LOGGER.info(
                "Entities of %s connector %s changed layout: %s -> %s",
                self.cpid,
                self.connector,
                self.entities.layout,
                resolved.layout,
            )
        self.entities = resolved
        self._subscribe_states()
        return True

    def _subscribe_states(self) -> None:
        for remove in self._state_listeners:
            remove()
        self._state_listeners = [
            async_track_state_change_event(
                self.hass, sorted(self.entities.entity_ids), self._state_changed
            ),
            async_track_state_report_event(
                self.hass,
                [eid for role in MEASUREMENT_ROLES if (eid := self.entities.get(role))],
                self._state_reported,
            ),
        ]

    def _state(self, role: str) -> State | None:
        entity_id = self.entities.get(role)
        return self.hass.states.get(entity_id) if entity_id else None

    @callback
    def _registry_updated(self, event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        entity_id = event.data["entity_id"]
        relevant = entity_id in self.entities.entity_ids
        if not relevant and event.data["action"] != "remove":
            entry = er.async_get(self.hass).async_get(entity_id)
            relevant = entry is not None and entry.platform == OCPP_DOMAIN
        if relevant and self._resolve():
            self._check_waiters()
            self._schedule_push()

    @callback
    def _state_changed(self, event: Event[EventStateChangedData]) -> None:
        self._check_waiters()
        self._schedule_push()

    @callback
    def _state_reported(self, event: Event[EventStateReportedData]) -> None:
        # Identical MeterValues only move last_reported: they matter to clear "stale".
        if self._stale:
            self._schedule_push()

    @callback
    def _is_remote_start(self, data: Mapping[str, Any]) -> bool:
        if (data[ATTR_DOMAIN], data[ATTR_SERVICE]) not in _SWITCH_ON_SERVICES:
            return False
        switch = self.entities.get(ROLE_CHARGE_CONTROL)
        targets = data.get(ATTR_SERVICE_DATA, {}).get("entity_id")
        if isinstance(targets, str):
            targets = [targets]
        return switch is not None and switch in (targets or ())

    @callback
    def _remote_start_seen(self, event: Event[Mapping[str, Any]]) -> None:
        self._remote_start_at = dt_util.utcnow()

    # -- pushing ---------------------------------------------------------------------

    def _schedule_push(self) -> None:
        if self._closed or self._push_cancel is not None:
            return
        self._push_cancel = async_call_later(self.hass, self.debounce, self._push_job)

    @callback
    def _push_now(self, _now: datetime | None = None) -> None:
        self._push_cancel = None
        assert self._charger_id is not None  # timers only run between setup and close
        state = self._read()
        if self._callback is not None:
            self._callback({self._charger_id: state})

    # -- reading ---------------------------------------------------------------------

    def _read(self) -> ChargerState:
        """The connector's state from the entities (and what we remember)."""
        if not self.entities.found:
            missing = self.entities.missing(REQUIRED_ROLES)
            return ChargerState(
                status=ChargerStatus.UNKNOWN,
                current_limit=self._limit,
                extra={"stale": False, "missing_entities": missing},
            )
        now = dt_util.utcnow()
        status_state = self._state(ROLE_STATUS)
        status = mapping.map_status(status_state)
        if status is ChargerStatus.OFFLINE:
            self._set_stale(False, status, now)
            return ChargerState(status=status, current_limit=self._limit, extra={"stale": False})
        tx_state = self._state(ROLE_TRANSACTION)
        tx = mapping.transaction_id(tx_state)
        self._observe_transaction(tx, tx_state, now)
        transaction = self._transactions.get(tx) if tx is not None else None
        currents = mapping.phase_currents(self._state(ROLE_CURRENT))
        session_duration: float | None = None
        session_start: datetime | None = None
        if transaction is not None and transaction.started is not None:
            session_start = transaction.started
            session_duration = max(0.0, (now - transaction.started).total_seconds())
        elif tx is not None:
            minutes = mapping.as_float(self._state(ROLE_SESSION_TIME))
            session_duration = None if minutes is None else minutes * 60
        error = mapping.text(self._state(ROLE_ERROR))
        stale = self._set_stale(self._is_stale(status, now), status, now)
        extra: dict[str, object] = {"stale": stale}
        if (reason := mapping.text(self._state(ROLE_STOP_REASON))) is not None:
            extra["stop_reason"] = reason
        return ChargerState(
            status=status,
            vendor_status=status_state.state if status_state is not None else None,
            power=mapping.power_w(self._state(ROLE_POWER)),
            currents=currents,
            voltages=mapping.phase_voltages(self._state(ROLE_VOLTAGE)),
            powers=mapping.phase_powers(self._state(ROLE_POWER)),
            current_offered=mapping.as_float(self._state(ROLE_OFFERED)),
            current_limit=self._limit,
            session_energy=mapping.energy_kwh(self._state(ROLE_SESSION_ENERGY)),
            session_duration=session_duration,
            session_start=session_start,
            lifetime_energy=self._lifetime_energy(tx),
            rfid_tag=transaction.rfid_tag if transaction is not None else None,
            transaction_id=tx,
            charging_enabled=self._in_transaction(),
            active_phases=mapping.active_phases(currents) if status.charging else None,
            error=None if error == "NoError" else error,
            extra=extra,
        )

    def _observe_transaction(self, tx: str | None, tx_state: State | None, now: datetime) -> None:
        """Tie the id tag to a transaction seen starting, unless it was remote-started.

        The id-tag sensor is charger-wide and keeps the last authorised tag for ever,
        so it only names the transaction's card when read as the transaction starts.
        """
        if tx == self._last_tx:
            return
        self._last_tx = tx
        if tx is None or tx in self._transactions:
            return
        remote = self._remote_start_at is not None and (
            now - self._remote_start_at <= REMOTE_START_WINDOW
        )
        self._remote_start_at = None
        tag = None if remote else mapping.text(self._state(ROLE_ID_TAG))
        started = tx_state.last_changed if tx_state is not None else now
        self._transactions[tx] = _Transaction(tag, started)
        while len(self._transactions) > _KEPT_TRANSACTIONS:
            del self._transactions[next(iter(self._transactions))]

    def _lifetime_energy(self, tx: str | None) -> float | None:
        """The lifetime register, unless the entity stands still for a session meter.

        A charger whose meterStart is 0 counts its register from 0 in a transaction: the
        integration then writes it to the session energy only, and the register entity
        keeps the reading from before the transaction until a reading outside one
        changes it.  That old value is not the lifetime register meanwhile.
        """
        register = mapping.energy_kwh(self._state(ROLE_ENERGY))
        if tx is not None and mapping.as_float(self._state(ROLE_METER_START)) == 0:
            if not self._register_holds:
                self._register_holds, self._register_held = True, register
            return None
        if self._register_holds:
            if register is None or register == self._register_held:
                return None
            self._register_holds, self._register_held = False, None
        return register

    def _fresh_at(self) -> datetime | None:
        """When the charger last sent measurements (every dispatch rewrites them)."""
        times = [s.last_reported for role in MEASUREMENT_ROLES if (s := self._state(role))]
        return max(times) if times else None

    def _is_stale(self, status: ChargerStatus, now: datetime) -> bool:
        fresh = self._fresh_at()
        return (
            status is ChargerStatus.CHARGING
            and fresh is not None
            and (now - fresh).total_seconds() > self.stale_after
        )

    def _set_stale(self, stale: bool, status: ChargerStatus, now: datetime) -> bool:
        """Remember staleness, arm the next check, and probe a charger gone quiet."""
        self._stale = stale
        if self._stale_cancel is not None:
            self._stale_cancel()
            self._stale_cancel = None
        if not stale:
            self._probed = False
            fresh = self._fresh_at()
            if status is ChargerStatus.CHARGING and fresh is not None and not self._closed:
                due = (fresh - now).total_seconds() + self.stale_after + 1.0
                self._stale_cancel = async_call_later(self.hass, max(due, 1.0), self._stale_job)
        elif not self._probed:
            self._probed = True
            self._probe()
        return stale

    def _probe(self) -> None:
        """Force a refresh of the status entity: shows ``unavailable`` if the charger left."""
        entity_id = self.entities.get(ROLE_STATUS)
        if entity_id is None or not self.hass.services.has_service(
            "homeassistant", "update_entity"
        ):
            return
        # Not blocking: a failing refresh is logged by Home Assistant and changes nothing.
        self._probe_task = self.hass.async_create_task(
            self.hass.services.async_call(
                "homeassistant", "update_entity", {"entity_id": entity_id}, blocking=False
            ),
            "ocpp proxy probe",
            eager_start=False,
        )

    def _info(self) -> ChargerInfo:
        assert self.cpid is not None
        device = dr.async_get(self.hass).async_get(self.ocpp_device_id)
        assert device is not None
        refs = index_ocpp_entities(self.hass).get(self.cpid, [])
        name = device.name_by_user or device.name or self.cpid
        if len(connectors_of(refs)) > 1 or self.entities.layout == "connector":
            name = f"{name} connector {self.connector}"
        ocpp_ids = sorted(v for d, v in device.identifiers if d == OCPP_DOMAIN and v != self.cpid)
        max_current = DEFAULT_MAX_CURRENT
        if (number := self._state(ROLE_MAX_CURRENT)) is not None:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                max_current = float(number.attributes["max"])
        voltages = mapping.phase_voltages(self._state(ROLE_VOLTAGE))
        phases = None
        if voltages is not None:
            phases = sum(1 for v in voltages.as_tuple() if v is not None) or None
        return ChargerInfo(
            charger_id=f"ocpp_{self.cpid}_{self.connector}",
            serial=ocpp_ids[0] if ocpp_ids else self.cpid,
            name=name,
            manufacturer=device.manufacturer,
            model=device.model,
            firmware=device.sw_version,
            connector=self.connector,
            phases=phases,
            min_current=MIN_CURRENT,
            max_current=max_current,
            current_step=1.0,
            capabilities=self._capabilities(),
        )

    def _capabilities(self) -> Capability:
        caps = (
            Capability.SET_CURRENT
            | Capability.CLEAR_LIMIT
            | Capability.CURRENT_LIMIT
            | Capability.SESSION_DURATION
        )
        optional = {
            ROLE_CHARGE_CONTROL: Capability.START_STOP,
            ROLE_ID_TAG: Capability.RFID,
            ROLE_POWER: Capability.POWER | Capability.PHASE_POWERS,
            ROLE_CURRENT: Capability.PHASE_CURRENTS,
            ROLE_VOLTAGE: Capability.PHASE_VOLTAGES,
            ROLE_OFFERED: Capability.CURRENT_OFFERED,
            ROLE_SESSION_ENERGY: Capability.SESSION_ENERGY,
            ROLE_ENERGY: Capability.LIFETIME_ENERGY,
        }
        for role, capability in optional.items():
            if self.entities.get(role) is not None:
                caps |= capability
        return caps

    # -- commands --------------------------------------------------------------------

    def _check(self, charger_id: str) -> None:
        if charger_id != self._charger_id:
            raise BackendInvalidDataError(f"unknown charger {charger_id}")
        if mapping.map_status(self._state(ROLE_STATUS)) is ChargerStatus.OFFLINE:
            raise BackendConnectionError(f"{self.cpid} is not connected to the ocpp integration")

    async def _call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        try:
            await self.hass.services.async_call(domain, service, data, blocking=True)
        except ServiceNotFound as err:
            raise BackendConnectionError(f"{domain}.{service} is not available") from err
        except vol.Invalid as err:
            raise BackendInvalidDataError(str(err)) from err
        except HomeAssistantError as err:
            # ocpp raises while its charger is disconnected.
            raise BackendConnectionError(str(err) or type(err).__name__) from err

    async def _wait(self, predicate: Callable[[], bool], within: float, reason: str) -> None:
        """Wait until ``predicate`` holds; after ``within`` s reject with ``reason``."""
        if predicate():
            return
        future: asyncio.Future[None] = self.hass.loop.create_future()
        waiter = _Waiter(predicate, future)
        self._waiters.append(waiter)

        @callback
        def expire(_now: datetime) -> None:
            if not future.done():
                future.set_exception(BackendCommandRejectedError(reason))

        cancel = async_call_later(self.hass, within, expire)
        try:
            await future
        finally:
            cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _check_waiters(self) -> None:
        for waiter in list(self._waiters):
            if not waiter.future.done() and waiter.predicate():
                waiter.future.set_result(None)

    def _vendor_status(self) -> str | None:
        state = self._state(ROLE_STATUS)
        return state.state if state is not None else None

    def _in_transaction(self) -> bool:
        """A transaction runs (the status alone when the transaction entity is missing)."""
        if self.entities.get(ROLE_TRANSACTION) is not None:
            return mapping.transaction_id(self._state(ROLE_TRANSACTION)) is not None
        return self._vendor_status() in mapping.ACTIVE_STATUSES

    async def async_start(self, charger_id: str) -> None:
        """RemoteStartTransaction through the charge-control switch; wait for Charging."""
        self._check(charger_id)
        if self._in_transaction():
            return
        if mapping.map_status(self._state(ROLE_STATUS)) is ChargerStatus.AVAILABLE:
            raise BackendCommandRejectedError("not_plugged", user_error=True)
        switch = self.entities.get(ROLE_CHARGE_CONTROL)
        if switch is None:
            raise BackendUnsupportedError("start")
        await self._call("switch", "turn_on", {"entity_id": switch})
        await self._wait(
            lambda: self._vendor_status() in mapping.ACTIVE_STATUSES,
            self.command_timeout,
            "start_not_confirmed",
        )

    async def async_stop(self, charger_id: str) -> None:
        """RemoteStopTransaction through the switch; wait for the transaction to end."""
        self._check(charger_id)
        if not self._in_transaction():
            return
        switch = self.entities.get(ROLE_CHARGE_CONTROL)
        if switch is None:
            raise BackendUnsupportedError("stop")
        await self._call("switch", "turn_off", {"entity_id": switch})
        await self._wait(
            lambda: not self._in_transaction(), self.command_timeout, "stop_not_confirmed"
        )

    async def async_set_current(self, charger_id: str, amps: float) -> None:
        """Limit the connector to ``amps`` and wait until the charger offers no more."""
        self._check(charger_id)
        amps = max(0.0, round(float(amps), 1))
        await self._send_limit(amps)
        self._limit = amps
        self._schedule_push()
        if self._offered() is None:
            return  # the charger does not report Current.Offered: nothing to confirm with
        await self._request_meter_values()
        await self._wait(
            lambda: (offered := self._offered()) is not None and offered <= amps + OFFER_TOLERANCE,
            self.confirm_timeout,
            "limit_not_followed",
        )

    async def async_clear_current_limit(self, charger_id: str) -> None:
        """Lift our limit to the charger's maximum (the ocpp action cannot remove one profile)."""
        self._check(charger_id)
        await self._send_limit(self.chargers[charger_id].max_current)
        self._limit = None
        self._schedule_push()
        await self._request_meter_values()

    async def _send_limit(self, amps: float) -> None:
        data: dict[str, Any] = {"devid": self.cpid, "conn_id": self.connector}
        if self.limit_mode == LIMIT_MODE_STATION:
            data["limit_amps"] = amps
        else:
            tx = mapping.transaction_id(self._state(ROLE_TRANSACTION))
            data["custom_profile"] = charging_profile(
                amps, self.connector, _as_int(tx), stack_level=self.stack_level
            )
        await self._call(OCPP_DOMAIN, "set_charge_rate", data)

    async def _request_meter_values(self) -> None:
        """Ask for MeterValues now rather than at the next sample (60 s by default)."""
        try:
            await self._call(
                OCPP_DOMAIN,
                "trigger_custom_message",
                {"devid": self.cpid, "requested_message": "MeterValues"},
            )
        except (BackendConnectionError, BackendInvalidDataError) as err:
            _LOGGER.debug("TriggerMessage MeterValues to %s failed: %s", self.cpid, err)

    def _offered(self) -> float | None:
        return mapping.as_float(self._state(ROLE_OFFERED))


def _as_int(value: str | None) -> int | None:
    """OCPP 1.6 transaction ids are integers."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
