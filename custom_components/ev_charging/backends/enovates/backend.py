"""Enovates ENO one over Modbus TCP: vendor registers -> the charger model.

Pure: no Home Assistant imports. Polling groups follow how fast the data changes:

* every poll: state (50-56), measurements (200-217), EMS limit and current offered.
  In EMS Full Control 400-417 is one request (limit + RFID token + offer), so a
  poll costs 3 requests a port; without EMS control the token is not readable
  and 400 and 417 are read apart: 4 requests a port.
* every 10 s: the Mode 3 block (300-307) — and at once when the fast registers
  show an edge (lock, contactor or offer changed), so plug-in and unplug are seen
  within one poll rather than ten seconds.
* daily: API version and diagnostics (firmware may be updated).

Start/stop: the API has no start/stop register. Stop writes an EMS limit of 0 A
(the charger then offers nothing: IEC 61851 forbids charging below 6 A), start
restores the limit in force before the stop (or "no limit").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from ...models import Capability, ChargerInfo, ChargerState, ChargerStatus, Phases
from ..base import (
    Backend,
    BackendCommandRejectedError,
    BackendInvalidDataError,
    BackendUnsupportedError,
    PollIntervals,
)
from . import registers as reg
from .client import EnovatesClient, ModbusExceptionResponse

MODE3_INTERVAL = 10.0
DIAGNOSTICS_INTERVAL = 86400.0
MIN_CURRENT = 6.0

_BASE_CAPABILITIES = (
    Capability.POWER
    | Capability.PHASE_CURRENTS
    | Capability.PHASE_VOLTAGES
    | Capability.PHASE_POWERS
    | Capability.CURRENT_OFFERED
    | Capability.CURRENT_LIMIT
    | Capability.LIFETIME_ENERGY
)
_EMS_CAPABILITIES = (
    Capability.START_STOP | Capability.SET_CURRENT | Capability.CLEAR_LIMIT | Capability.RFID
)

# Mode 3 state -> normalized status (B1 becomes SUSPENDED_EVSE when we paused it).
STATUS_TABLE: Mapping[reg.Mode3State, ChargerStatus] = {
    reg.Mode3State.A1: ChargerStatus.AVAILABLE,
    reg.Mode3State.A2: ChargerStatus.AVAILABLE,
    reg.Mode3State.B1: ChargerStatus.PLUGGED,
    reg.Mode3State.B2: ChargerStatus.SUSPENDED_EV,
    reg.Mode3State.C1: ChargerStatus.SUSPENDED_EVSE,
    reg.Mode3State.C2: ChargerStatus.CHARGING,
    reg.Mode3State.D1: ChargerStatus.SUSPENDED_EVSE,
    reg.Mode3State.D2: ChargerStatus.CHARGING,
    reg.Mode3State.E: ChargerStatus.FAULTED,
    reg.Mode3State.F: ChargerStatus.FAULTED,
}


def derive_status(
    mode3: reg.Mode3State | None, state: reg.StateBlock, meas: reg.MeasurementsBlock, paused: bool
) -> ChargerStatus:
    """The normalized status from a (possibly 10 s old) Mode 3 state and fresh measurements."""
    if state.contactor_closed and sum(meas.currents) > 0.5:
        return ChargerStatus.CHARGING  # current flows: trust it over a stale Mode 3 state
    if mode3 is None:
        return ChargerStatus.UNKNOWN
    status = STATUS_TABLE[mode3]
    if status is ChargerStatus.PLUGGED and paused:
        return ChargerStatus.SUSPENDED_EVSE
    return status


@dataclass(slots=True)
class _Port:
    """What the backend remembers of one charge port between polls."""

    unit: int
    charger_id: str
    mode3: reg.Mode3Block | None = None
    mode3_at: float = float("-inf")
    edge: tuple[object, ...] = ()
    limit: float | None = None  # A; None = no limit
    token: str | None = None
    resume_ma: int = reg.NO_LIMIT  # the limit to restore on start


class EnovatesBackend(Backend):
    """One Modbus TCP connection to an ENO one (one or two charge ports)."""

    key = "enovates"

    def __init__(
        self, client: EnovatesClient, *, dual_port: bool = False, ems_control: bool = False
    ) -> None:
        super().__init__()
        self.client = client
        self.ems_control = ems_control
        self._units = (1, 2) if dual_port else (1,)
        self._ports: dict[str, _Port] = {}
        self._diagnostics_at: float | None = None  # set by the first fetch: setup read them
        self._token_readable = ems_control
        self.api_version: tuple[int, int] | None = None

    @property
    def intervals(self) -> PollIntervals:
        """Local and cheap: every second while a car is connected."""
        return PollIntervals(
            active=timedelta(seconds=1), idle=timedelta(seconds=5), burst=timedelta(seconds=1)
        )

    async def async_setup(self) -> Sequence[ChargerInfo]:
        """Check the API version and identify each port."""
        version = reg.decode_api_version(await self.client.read(reg.API_VERSION))
        if not reg.api_supported(version):
            raise UnsupportedApiError(version)
        self.api_version = version
        diag = reg.DiagnosticsBlock.decode(await self.client.read(reg.DIAGNOSTICS))
        if not diag.serial:
            raise BackendInvalidDataError("the charger reports no serial number")
        for unit in self._units:
            state = reg.StateBlock.decode(await self.client.read(reg.STATE, unit))
            charger_id = diag.serial if unit == 1 else f"{diag.serial}_{unit}"
            self._ports[charger_id] = _Port(unit, charger_id)
            self.chargers[charger_id] = self._info(diag, state, unit, charger_id)
        return list(self.chargers.values())

    def _info(
        self, diag: reg.DiagnosticsBlock, state: reg.StateBlock, unit: int, charger_id: str
    ) -> ChargerInfo:
        capabilities = _BASE_CAPABILITIES
        if self.ems_control:
            capabilities |= _EMS_CAPABILITIES
        dual = len(self._units) > 1
        return ChargerInfo(
            charger_id=charger_id,
            serial=diag.serial,
            name=f"ENO one port {unit}" if dual else "ENO one",
            manufacturer=diag.manufacturer or "Enovates",
            model=diag.model_id or "ENO one",
            model_id=diag.vendor_id or None,
            firmware=diag.firmware or None,
            api_version=f"{self.api_version[0]}.{self.api_version[1]}"
            if self.api_version
            else None,
            connector=unit,
            phases=state.number_of_phases,
            min_current=MIN_CURRENT,
            max_current=float(state.max_amp_per_phase),
            current_step=0.1,
            capabilities=capabilities,
            via_charger_id=None if unit == 1 else diag.serial,
        )

    async def async_fetch(self, now: float) -> dict[str, ChargerState]:
        """Poll every port; slower groups only when due."""
        if self._diagnostics_at is None:
            self._diagnostics_at = now
        elif now - self._diagnostics_at >= DIAGNOSTICS_INTERVAL:
            await self._refresh_diagnostics()
            self._diagnostics_at = now
        return {cid: await self._fetch_port(port, now) for cid, port in self._ports.items()}

    async def _refresh_diagnostics(self) -> None:
        version = reg.decode_api_version(await self.client.read(reg.API_VERSION))
        diag = reg.DiagnosticsBlock.decode(await self.client.read(reg.DIAGNOSTICS))
        self.api_version = version
        api = f"{version[0]}.{version[1]}"
        for cid, info in self.chargers.items():
            self.chargers[cid] = replace(info, firmware=diag.firmware or None, api_version=api)

    async def _read_limit_token_offer(self, port: _Port) -> float:
        if self._token_readable:
            try:
                words = await self.client.read(reg.EMS_TOKEN_OFFERED, port.unit)
            except ModbusExceptionResponse:
                # EMS switched to Monitoring Only on the charger: the token is gone.
                self._token_readable = False
            else:
                port.limit, token, offered = reg.decode_ems_token_offered(words)
                port.token = token or None
                return offered
        port.limit = reg.decode_limit((await self.client.read(reg.EMS_LIMIT, port.unit))[0])
        return (await self.client.read(reg.CURRENT_OFFERED, port.unit))[0] / 1000

    async def _fetch_port(self, port: _Port, now: float) -> ChargerState:
        state = reg.StateBlock.decode(await self.client.read(reg.STATE, port.unit))
        meas = reg.MeasurementsBlock.decode(await self.client.read(reg.MEASUREMENTS, port.unit))
        offered = await self._read_limit_token_offer(port)
        edge = (state.lock_state, state.contactor_closed, offered > 0)
        if edge != port.edge or now - port.mode3_at >= MODE3_INTERVAL:
            port.mode3 = reg.Mode3Block.decode(await self.client.read(reg.MODE3, port.unit))
            port.mode3_at = now
            port.edge = edge
        return self._state(port, state, meas, offered)

    def _state(
        self, port: _Port, state: reg.StateBlock, meas: reg.MeasurementsBlock, offered: float
    ) -> ChargerState:
        mode3 = port.mode3
        paused = port.limit is not None and port.limit < MIN_CURRENT
        phases = state.number_of_phases

        def per_phase(values: tuple[float, float, float]) -> Phases:
            return Phases(*(v if i < phases else None for i, v in enumerate(values)))

        status = derive_status(mode3.state if mode3 else None, state, meas, paused)
        extra: dict[str, object] = {
            "lock_state": state.lock_state,
            "led_color": state.led_color,
            "contactor_closed": state.contactor_closed,
            "number_of_phases": phases,
            "max_amp_per_phase": state.max_amp_per_phase,
        }
        if mode3 is not None:
            extra |= {
                "mode3_state": mode3.state,
                "pwm_current": mode3.pwm_current,
                "duty_cycle": mode3.duty_cycle,
                "cable_rating": mode3.cable_rating,
                "cp_positive": mode3.cp_positive,
                "cp_negative": mode3.cp_negative,
            }
        if port.unit == 1:  # device-wide values, shown once
            extra |= {
                "ocpp_connected": state.ocpp_connected,
                "load_shedding": state.load_shedding,
                "installation_current_l1": meas.installation_currents[0],
                "installation_current_l2": meas.installation_currents[1],
                "installation_current_l3": meas.installation_currents[2],
            }
        return ChargerState(
            status=status,
            vendor_status=mode3.state_text if mode3 else None,
            power=float(meas.power_total),
            currents=per_phase(meas.currents),
            voltages=Phases(*(float(v) for v in meas.voltages)),
            powers=per_phase(tuple(float(p) for p in meas.powers)),  # type: ignore[arg-type]
            current_offered=offered,
            current_limit=port.limit,
            lifetime_energy=meas.energy_import,
            rfid_tag=port.token if self.ems_control else None,
            charging_enabled=(not paused) if self.ems_control else None,
            active_phases=sum(1 for c in meas.currents if c > 0.5) or None,
            error=None
            if status is not ChargerStatus.FAULTED
            else (mode3.state_text if mode3 else None),
            extra=extra,
        )

    def _port(self, charger_id: str) -> _Port:
        if not self.ems_control:
            raise BackendUnsupportedError("EMS control is off", reason="ems_control_off")
        return self._ports[charger_id]

    async def _write_limit(self, port: _Port, milliamps: int) -> None:
        await self.client.write(reg.EMS_LIMIT_ADDRESS, reg.to_word(milliamps), port.unit)
        word = (await self.client.read(reg.EMS_LIMIT, port.unit))[0]
        if reg.int16(word) != milliamps:
            # Acknowledged but ignored: the charger is in EMS "Monitoring Only".
            raise BackendCommandRejectedError("limit_not_applied")
        port.limit = reg.decode_limit(word)

    async def async_set_current(self, charger_id: str, amps: float) -> None:
        """Write the EMS limit (A -> mA) and read it back."""
        port = self._port(charger_id)
        milliamps = round(amps * 1000)
        await self._write_limit(port, milliamps)
        if milliamps >= MIN_CURRENT * 1000:
            port.resume_ma = milliamps

    async def async_clear_current_limit(self, charger_id: str) -> None:
        """No EMS limit: the charger offers its own maximum."""
        port = self._port(charger_id)
        await self._write_limit(port, reg.NO_LIMIT)
        port.resume_ma = reg.NO_LIMIT

    async def async_stop(self, charger_id: str) -> None:
        """Pause by offering 0 A; the limit in force is restored by start."""
        port = self._port(charger_id)
        if port.limit is None or port.limit >= MIN_CURRENT:
            port.resume_ma = reg.NO_LIMIT if port.limit is None else round(port.limit * 1000)
        await self._write_limit(port, 0)

    async def async_start(self, charger_id: str) -> None:
        """Resume with the limit in force before the pause (or no limit)."""
        port = self._port(charger_id)
        await self._write_limit(port, port.resume_ma)

    async def async_close(self) -> None:
        """Close the TCP connection."""
        await self.client.close()

    def diagnostics(self) -> Mapping[str, Any]:
        """Connection facts and the raw Mode 3 state of each port."""
        return {
            "host": self.client.host,
            "port": self.client.port,
            "units": list(self._units),
            "ems_control": self.ems_control,
            "token_readable": self._token_readable,
            "api_version": self.api_version,
            "modbus_requests": self.client.requests,
            "mode3": {
                f"port_{p.unit}": p.mode3 and p.mode3.state_text for p in self._ports.values()
            },
        }


class UnsupportedApiError(BackendInvalidDataError):
    """The firmware speaks an API older than 1.2."""

    translation_key = "unsupported_firmware"

    def __init__(self, version: tuple[int, int]) -> None:
        super().__init__(f"API {version[0]}.{version[1]}", version=f"{version[0]}.{version[1]}")
        self.version = version
