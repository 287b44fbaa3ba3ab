"""Enovates ENO one charger simulated over Modbus TCP (pymodbus server on loopback).

Serves the register map of ``data/enovates_registers.json`` the way the charger does: holding
registers only, FC3 reads, FC6/FC16 writes, 0-based protocol addresses, one unit id per charge
port. Addresses outside the map answer Modbus exception 2 (illegal data address), so a read that
spans a gap fails as a whole.

Writes: only the EMS limit (400) is writable. A write to any other address, mapped read-only or
not, answers exception 2; an EMS limit below -1 answers exception 3 (illegal data value). In
Monitoring Only the EMS write is acknowledged and ignored, and a read touching the transaction
token (401-416) answers exception 2.

Dynamic behaviour (a synthesized, deterministic rule; the vendor does not document it): while a
car is connected the current offered (417) is min(max_amp_per_phase, EMS limit if >= 0, cable
rating if > 0). An offer of at least 6 A is signalled by PWM and a car that wants charge draws
exactly that on each of its phases (state C2); below 6 A there is no PWM and no current (C1, or
B1 for a full car). The offer keeps its computed value in 417 even below 6 A. The rule runs on
an EMS write, ``plug_in``, ``unplug`` and ``car_full``; ``set_profile`` and ``set_value`` poke
registers verbatim.

Run it as a process for a demo::

    python -m tests.simulators.enovates --port 15020 --unit 1=charging_3p_16a --unit 2=idle
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from fractions import Fraction
import logging
import math
import signal
from typing import Any, Final

from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadDiscreteInputsRequest,
    WriteMultipleCoilsRequest,
    WriteSingleCoilRequest,
)
from pymodbus.pdu.register_message import (
    MaskWriteRegisterRequest,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadWriteMultipleRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)
from pymodbus.server import ModbusTcpServer

from .enovates_map import RegisterMap, Value, decode, encode, load_register_map

__all__ = [
    "FULL_CONTROL",
    "MONITORING_ONLY",
    "EnovatesSimulator",
    "main",
    "run_forever",
]

FULL_CONTROL: Final = "full_control"
MONITORING_ONLY: Final = "monitoring_only"
EMS_MODES: Final = (FULL_CONTROL, MONITORING_ONLY)

IDLE: Final = "idle"
CHARGING: Final = "charging_3p_16a"

ILLEGAL_FUNCTION: Final = 1
ILLEGAL_ADDRESS: Final = 2
ILLEGAL_VALUE: Final = 3
GATEWAY_NO_RESPONSE: Final = 0x0B

EMS_LIMIT_ADDRESS: Final = 400
TOKEN_ADDRESSES: Final = range(401, 417)
MAX_READ: Final = 125
MAX_WRITE: Final = 123
MIN_CHARGE_MA: Final = 6000
NO_LOCK_PRESENT: Final = 2
LOCKED: Final = 1

_PHASE_KEYS: Final = (
    ("current_l1", "voltage_l1", "charger_active_power_l1"),
    ("current_l2", "voltage_l2", "charger_active_power_l2"),
    ("current_l3", "voltage_l3", "charger_active_power_l3"),
)
_MODE3_KEYS: Final = (
    "mode3_state_num",
    "mode3_state_str",
    "pwm_amp",
    "pwm",
    "pp",
    "cp_pos",
    "cp_neg",
)
_ENERGY_KEY: Final = "active_energy_import_total"


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _duty_per_mille(offer_ma: int) -> int:
    """CP duty cycle for an offered current (IEC 61851: 0.6 A per %, 2.5 A per % above 51 A)."""
    if offer_ma <= 51_000:
        return _round_half_up(Fraction(offer_ma, 60))
    return min(1000, _round_half_up(Fraction(offer_ma * 4, 1000)) + 640)


@dataclass(slots=True)
class _Port:
    """One charge port (unit id): its own words and the sub-Wh energy not yet counted."""

    profile: str
    words: dict[int, int]
    energy_remainder: Fraction = field(default_factory=Fraction)


class _UnitContext:
    """Routes the Modbus requests of one unit id into the simulator."""

    def __init__(self, simulator: EnovatesSimulator, unit: int) -> None:
        self._simulator = simulator
        self._unit = unit

    def read(self, address: int, count: int) -> list[int] | int:
        return self._simulator._modbus_read(self._unit, address, count)

    def write(self, address: int, words: Sequence[int]) -> int | None:
        return self._simulator._modbus_write(self._unit, address, words)


class _ServerContext(ModbusServerContext):
    """Unit id -> context. Counts every request and answers unknown unit ids itself.

    pymodbus 3.8 answers an unknown unit id with a malformed exception frame that kills the
    client's connection, so every unit id gets a context and unknown ones answer 0x0B.
    """

    def __init__(self, simulator: EnovatesSimulator) -> None:
        super().__init__(single=False)  # type: ignore[no-untyped-call]
        self._simulator = simulator

    def __getitem__(self, unit: int) -> Any:
        self._simulator.request_count += 1
        return _UnitContext(self._simulator, unit)

    def __contains__(self, unit: object) -> bool:
        return unit in self._simulator._ports

    def slaves(self) -> list[int]:
        return sorted(self._simulator._ports)

    def device_ids(self) -> list[int]:
        return sorted(self._simulator._ports)


# The request classes carry the whole FC3/FC6/FC16 semantics, so any exception code can be
# answered and no datastore API (renamed and reshaped across pymodbus 3.8 -> 3.11) is involved.
class _ReadHoldingRegisters(ReadHoldingRegistersRequest):
    async def update_datastore(self, context: Any) -> ModbusPDU:
        result = context.read(self.address, self.count)
        if isinstance(result, int):
            return ExceptionResponse(self.function_code, result)
        return ReadHoldingRegistersResponse(
            registers=result, dev_id=self.dev_id, transaction_id=self.transaction_id
        )


class _WriteSingleRegister(WriteSingleRegisterRequest):
    async def update_datastore(self, context: Any) -> ModbusPDU:
        code = context.write(self.address, list(self.registers))
        if code is not None:
            return ExceptionResponse(self.function_code, code)
        return WriteSingleRegisterResponse(
            address=self.address,
            registers=list(self.registers),
            dev_id=self.dev_id,
            transaction_id=self.transaction_id,
        )


class _WriteMultipleRegisters(WriteMultipleRegistersRequest):
    async def update_datastore(self, context: Any) -> ModbusPDU:
        if len(self.registers) != self.count:
            return ExceptionResponse(self.function_code, ILLEGAL_VALUE)
        code = context.write(self.address, list(self.registers))
        if code is not None:
            return ExceptionResponse(self.function_code, code)
        return WriteMultipleRegistersResponse(
            address=self.address,
            count=self.count,
            dev_id=self.dev_id,
            transaction_id=self.transaction_id,
        )


def _unsupported(base: type[ModbusPDU]) -> type[ModbusPDU]:
    """A request class that answers "illegal function": the charger has holding registers only."""

    async def update_datastore(self: ModbusPDU, context: Any) -> ModbusPDU:
        return ExceptionResponse(self.function_code, ILLEGAL_FUNCTION)

    return type(f"_Unsupported{base.__name__}", (base,), {"update_datastore": update_datastore})


_CUSTOM_PDUS: Final[list[type[ModbusPDU]]] = [
    _ReadHoldingRegisters,
    _WriteSingleRegister,
    _WriteMultipleRegisters,
    *(
        _unsupported(base)
        for base in (
            ReadCoilsRequest,
            ReadDiscreteInputsRequest,
            ReadInputRegistersRequest,
            WriteSingleCoilRequest,
            WriteMultipleCoilsRequest,
            MaskWriteRegisterRequest,
            ReadWriteMultipleRegistersRequest,
        )
    ),
]


class EnovatesSimulator:
    """An ENO one (one or two charge ports) answering Modbus TCP on loopback."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        units: Mapping[int, str] | None = None,
        ems_mode: str = FULL_CONTROL,
    ) -> None:
        self.host = host
        self.port = port
        self.ems_limit_writes: list[tuple[int, int]] = []
        self.request_count = 0
        self._map: RegisterMap = load_register_map()
        self._mapped = self._map.mapped_addresses
        self._device_addresses = self._map.device_wide_addresses
        self._device_words: dict[int, int] = {}
        self._ports: dict[int, _Port] = {}
        self._context = _ServerContext(self)
        self._ems_mode = FULL_CONTROL
        self._fail_code: int | None = None
        self._server: ModbusTcpServer | None = None
        self._listener: asyncio.Server | None = None
        self._started = False
        self.set_ems_mode(ems_mode)
        for unit, profile in sorted((units or {1: IDLE}).items()):
            self.set_profile(unit, profile)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind and serve; ``port=0`` picks a free port, readable from ``self.port`` after."""
        if self._started:
            raise RuntimeError("simulator already started")
        await self._listen()
        self._started = True

    async def stop(self) -> None:
        """Close the listener and every client connection. Safe to call more than once."""
        self._started = False
        await self._close()

    async def drop_connections(self) -> None:
        """Abort every open client connection; the listener keeps accepting new ones."""
        if self._server is None:
            return
        self._abort_connections(self._server)
        # Aborted transports report connection_lost on the next loop iterations.
        for _ in range(100):
            if not self._server.active_connections:
                break
            await asyncio.sleep(0)

    async def pause(self) -> None:
        """The charger disappears: stop listening and drop connections, keep the port."""
        if not self._started:
            raise RuntimeError("simulator not started")
        await self._close()

    async def resume(self) -> None:
        """Listen again on the port used before ``pause``."""
        if not self._started:
            raise RuntimeError("simulator not started")
        if self._server is None:
            await self._listen()

    async def _listen(self) -> None:
        server = ModbusTcpServer(
            self._context, address=(self.host, self.port), custom_pdu=_CUSTOM_PDUS
        )
        with contextlib.suppress(RuntimeError):  # how newer pymodbus reports a failed bind
            await server.serve_forever(background=True)
        listener = server.transport
        if not isinstance(listener, asyncio.Server):
            # pymodbus 3.8 only logs a failed bind; make it an error in every version.
            await server.shutdown()  # type: ignore[no-untyped-call]
            raise OSError(f"cannot listen on {self.host}:{self.port}")
        self.port = int(listener.sockets[0].getsockname()[1])
        self._server, self._listener = server, listener

    async def _close(self) -> None:
        server, listener = self._server, self._listener
        self._server = self._listener = None
        if server is None:
            return
        self._abort_connections(server)
        await server.shutdown()  # type: ignore[no-untyped-call]
        if listener is not None:
            # Waits for the aborted connections too; bounded so a stuck peer cannot hang a test.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await listener.wait_closed()

    @staticmethod
    def _abort_connections(server: ModbusTcpServer) -> None:
        for connection in list(server.active_connections.values()):
            transport = connection.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()

    # ------------------------------------------------------------------ registers

    def set_profile(self, unit: int, profile: str) -> None:
        """Load a fixture profile into a unit id (adds the unit when it is new).

        The lowest unit id also supplies the device-wide registers (API version, diagnostics,
        max current, OCPP/load-shedding state, installation currents).
        """
        if not 1 <= unit <= 247:
            raise ValueError(f"unit id {unit} is outside 1..247")
        if profile not in self._map.profiles:
            raise ValueError(f"unknown profile {profile!r}; known: {sorted(self._map.profiles)}")
        words = self._map.profiles[profile].words
        self._ports[unit] = _Port(
            profile=profile,
            words={a: w for a, w in words.items() if a not in self._device_addresses},
        )
        if unit == min(self._ports) or not self._device_words:
            self._device_words = {a: w for a, w in words.items() if a in self._device_addresses}

    def value(self, unit: int, key: str) -> Value:
        """Decoded value of a register by the fixture's key."""
        self._port(unit)
        reg = self._map.registers[key]
        return decode(reg, [self._word(unit, a) for a in reg.addresses])

    def set_value(self, unit: int, key: str, value: Value) -> None:
        """Store a value, encoded by the register's type; no rule runs."""
        port = self._port(unit)
        self._put(unit, key, value)
        if key == _ENERGY_KEY:
            port.energy_remainder = Fraction(0)

    def _port(self, unit: int) -> _Port:
        try:
            return self._ports[unit]
        except KeyError:
            raise KeyError(f"unit {unit} is not simulated") from None

    def _word(self, unit: int, address: int) -> int:
        if address in self._device_addresses:
            return self._device_words[address]
        return self._ports[unit].words[address]

    def _put(self, unit: int, key: str, value: Value) -> None:
        reg = self._map.registers[key]
        store = self._device_words if reg.device_wide else self._ports[unit].words
        for address, word in zip(reg.addresses, encode(reg, value), strict=True):
            store[address] = word

    def _int(self, unit: int, key: str) -> int:
        return int(self.value(unit, key))

    # ------------------------------------------------------------------ car and time

    def plug_in(self, unit: int = 1) -> None:
        """A car connects and asks for charge (C2 when at least 6 A can be offered)."""
        self._port(unit)
        if self._int(unit, "pp") == 0:
            # The cable of the charging profile (32 A) comes with the car.
            self._put(unit, "pp", self._map.profiles[CHARGING].values["pp"])
        self._apply_rule(unit, connected=True, wants_charge=True)

    def unplug(self, unit: int = 1) -> None:
        """The car leaves: the idle profile's Mode 3 state A1, no current, contactor open."""
        self._port(unit)
        self._apply_rule(unit, connected=False, wants_charge=False)

    def car_full(self, unit: int = 1) -> None:
        """The car stops asking for charge (C2 -> B2, no current)."""
        self._port(unit)
        car = self._car(unit)
        if car is None or not car[0]:
            raise ValueError(f"no car connected on unit {unit}")
        self._apply_rule(unit, connected=True, wants_charge=False)

    def tick(self, seconds: float) -> None:
        """Advance time: every port's energy counter grows by its total power times ``seconds``.

        Exact arithmetic (``Fraction`` of the decimal ``seconds``) keeps the sub-Wh remainder, so
        many small ticks add up to the same count as one long tick.
        """
        if seconds < 0:
            raise ValueError("time does not run backwards")
        dt = Fraction(str(seconds))
        for unit, port in self._ports.items():
            power = self._int(unit, "charger_active_power_total")
            if power <= 0:
                continue
            total = self._int(unit, _ENERGY_KEY) + port.energy_remainder + power * dt / 3600
            whole = math.floor(total)
            self._put(unit, _ENERGY_KEY, whole)
            port.energy_remainder = total - whole

    def _car(self, unit: int) -> tuple[bool, bool] | None:
        """(connected, wants charge) read from the Mode 3 state; None for faults/unknown."""
        state = self._map.enums["mode3_state"].get(self._int(unit, "mode3_state_num"))
        if state in ("A1", "A2"):
            return (False, False)
        if state in ("B1", "B2"):
            return (True, False)
        if state in ("C1", "C2", "D1", "D2"):
            return (True, True)
        return None

    def _apply_rule(self, unit: int, *, connected: bool, wants_charge: bool) -> None:
        idle = self._map.profiles[IDLE].values
        charging = self._map.profiles[CHARGING].values
        fixed_cable = self._int(unit, "lock_state") == NO_LOCK_PRESENT
        if not connected:
            for key in _MODE3_KEYS:
                self._put(unit, key, idle[key])
            self._put(unit, "lock_state", NO_LOCK_PRESENT if fixed_cable else idle["lock_state"])
            self._put(unit, "led_color", idle["led_color"])
            self._put(unit, "active_current_offered", 0)
            self._set_flow(unit, 0)
            return

        offer = self._int(unit, "max_amp_per_phase") * 1000
        if (limit := self._int(unit, "ems_limit")) >= 0:
            offer = min(offer, limit)
        if (cable := self._int(unit, "pp")) > 0:
            offer = min(offer, cable * 1000)
        pwm_on = offer >= MIN_CHARGE_MA
        if wants_charge:
            state, cp_pos = ("C2" if pwm_on else "C1"), 6
        else:
            state, cp_pos = ("B2" if pwm_on else "B1"), 9
        charging_now = state == "C2"
        self._put(unit, "mode3_state_num", self._map.enum_value("mode3_state", state))
        self._put(unit, "mode3_state_str", state)
        self._put(unit, "pwm_amp", offer if pwm_on else 0)
        self._put(unit, "pwm", _duty_per_mille(offer) if pwm_on else 1000)
        self._put(unit, "cp_pos", cp_pos)
        # Steady DC (no PWM) has no negative half: the negative reading equals the positive one.
        self._put(unit, "cp_neg", -12 if pwm_on else cp_pos)
        self._put(unit, "lock_state", NO_LOCK_PRESENT if fixed_cable else LOCKED)
        self._put(unit, "led_color", charging["led_color"] if charging_now else idle["led_color"])
        self._put(unit, "active_current_offered", offer)
        self._set_flow(unit, offer if charging_now else 0)

    def _set_flow(self, unit: int, current_ma: int) -> None:
        """Draw ``current_ma`` on each wired phase; powers follow from the voltages."""
        phases = self._int(unit, "number_of_phases")
        total = 0
        for index, (current_key, voltage_key, power_key) in enumerate(_PHASE_KEYS):
            current = current_ma if index < phases else 0
            power = _round_half_up(Fraction(self._int(unit, voltage_key) * current, 1000))
            self._put(unit, current_key, current)
            self._put(unit, power_key, power)
            total += power
        self._put(unit, "charger_active_power_total", total)
        self._put(unit, "contactor_state", current_ma > 0)

    # ------------------------------------------------------------------ EMS and faults

    @property
    def ems_mode(self) -> str:
        """``full_control`` or ``monitoring_only``."""
        return self._ems_mode

    def set_ems_mode(self, mode: str) -> None:
        """Switch the EMS mode (an installer setting on the real charger)."""
        if mode not in EMS_MODES:
            raise ValueError(f"EMS mode must be one of {EMS_MODES}, not {mode!r}")
        self._ems_mode = mode

    def fail_reads(self, exception_code: int | None) -> None:
        """Answer every read with this Modbus exception code until called with None."""
        if exception_code is not None and not 1 <= exception_code <= 0xFF:
            raise ValueError(f"exception code {exception_code} is outside 1..255")
        self._fail_code = exception_code

    def reset_counters(self) -> None:
        """Forget the recorded EMS writes and the request count."""
        self.ems_limit_writes.clear()
        self.request_count = 0

    # ------------------------------------------------------------------ Modbus semantics

    def _modbus_read(self, unit: int, address: int, count: int) -> list[int] | int:
        """Words for FC3, or the exception code to answer."""
        if unit not in self._ports:
            return GATEWAY_NO_RESPONSE
        if not 1 <= count <= MAX_READ:
            return ILLEGAL_VALUE
        if self._fail_code is not None:
            return self._fail_code
        addresses = range(address, address + count)
        if any(a not in self._mapped for a in addresses):
            return ILLEGAL_ADDRESS
        if self._ems_mode == MONITORING_ONLY and any(a in TOKEN_ADDRESSES for a in addresses):
            return ILLEGAL_ADDRESS
        return [self._word(unit, a) for a in addresses]

    def _modbus_write(self, unit: int, address: int, words: Sequence[int]) -> int | None:
        """Apply FC6/FC16; None acknowledges, an int is the exception code to answer."""
        if unit not in self._ports:
            return GATEWAY_NO_RESPONSE
        if not 1 <= len(words) <= MAX_WRITE:
            return ILLEGAL_VALUE
        if address != EMS_LIMIT_ADDRESS or len(words) != 1:
            return ILLEGAL_ADDRESS
        limit = words[0] - 0x10000 if words[0] >= 0x8000 else words[0]
        if limit < -1:
            return ILLEGAL_VALUE
        if self._ems_mode == MONITORING_ONLY:
            return None
        self._put(unit, "ems_limit", limit)
        self.ems_limit_writes.append((unit, limit))
        if (car := self._car(unit)) is not None and car[0]:
            self._apply_rule(unit, connected=True, wants_charge=car[1])
        return None


# ---------------------------------------------------------------------- process entry point


class _Evolver:
    """Advances a running simulator with a clock: energy, and optionally the port-1 car cycle.

    The car charges for ``cycle`` seconds, stays unplugged for a fifth of that, plugs in again.
    """

    def __init__(
        self, simulator: EnovatesSimulator, *, evolve: bool, cycle: float | None, now: float
    ) -> None:
        self._simulator = simulator
        self._evolve = evolve
        self._cycle = cycle
        self._last = now
        self._next_switch = now + cycle if cycle else math.inf
        self._away = False

    def step(self, now: float) -> None:
        if self._evolve:
            self._simulator.tick(max(0.0, now - self._last))
        self._last = now
        if self._cycle is None or now < self._next_switch:
            return
        if self._away:
            self._simulator.plug_in(1)
            self._next_switch = now + self._cycle
        else:
            self._simulator.unplug(1)
            self._next_switch = now + max(1.0, self._cycle / 5)
        self._away = not self._away


async def run_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 15020,
    units: Mapping[int, str] | None = None,
    ems_mode: str = FULL_CONTROL,
    evolve: bool = False,
    cycle: float | None = None,
    interval: float = 1.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set), evolving once per ``interval``."""
    simulator = EnovatesSimulator(host=host, port=port, units=units, ems_mode=ems_mode)
    units_text = ", ".join(f"{u}={p}" for u, p in sorted((units or {1: IDLE}).items()))
    if cycle is not None and 1 not in (units or {1: IDLE}):
        raise ValueError("the cycle drives the car of unit 1, which is not simulated")
    stop_event = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Signal handlers can only be installed from the main thread.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop_event.set)
            handled.append(sig)
    await simulator.start()
    try:
        print(
            f"Enovates simulator listening on {simulator.host}:{simulator.port} "
            f"(units {units_text}; EMS {ems_mode})",
            flush=True,
        )
        evolver = _Evolver(simulator, evolve=evolve, cycle=cycle, now=loop.time())
        while not stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), timeout=interval)
            evolver.step(loop.time())
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await simulator.stop()


def _unit_arg(text: str) -> tuple[int, str]:
    unit, sep, profile = text.partition("=")
    if not sep or not unit.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected UNIT=PROFILE, got {text!r}")
    return int(unit), profile.strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the simulator as a process (for the demo)."""
    profiles = sorted(load_register_map().profiles)
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulators.enovates",
        description="Enovates ENO one Modbus TCP simulator",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=15020, help="0 picks a free port")
    parser.add_argument(
        "--unit",
        action="append",
        type=_unit_arg,
        metavar="UNIT=PROFILE",
        help=f"unit id and profile ({', '.join(profiles)}); repeat for dual port; default 1=idle",
    )
    parser.add_argument("--ems-mode", choices=EMS_MODES, default=FULL_CONTROL)
    parser.add_argument(
        "--evolve", action="store_true", help="advance simulated time with real time"
    )
    parser.add_argument(
        "--cycle",
        type=float,
        metavar="SECONDS",
        help="unplug and plug in the car of unit 1 every SECONDS (default: never)",
    )
    args = parser.parse_args(argv)
    units = dict(args.unit) if args.unit else {1: IDLE}
    for profile in units.values():
        if profile not in profiles:
            parser.error(f"unknown profile {profile!r}; known: {', '.join(profiles)}")
    if args.cycle is not None and args.cycle <= 0:
        parser.error("--cycle must be positive")
    logging.basicConfig(level=logging.WARNING)
    # pymodbus logs every exception response as an error; they are expected here.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    asyncio.run(
        run_forever(
            host=args.host,
            port=args.port,
            units=units,
            ems_mode=args.ems_mode,
            evolve=args.evolve,
            cycle=args.cycle,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
