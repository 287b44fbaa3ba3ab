"""The Enovates ENO one Modbus register map (API 1.2) and its decoding.

Pure: no Home Assistant and no pymodbus imports. Holding registers, 0-based
protocol addresses, big-endian words, signed values in two's complement, ASCII
strings two characters a register padded with NUL. Each block is read with one
FC3 request and never spans a gap of the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Block:
    """A run of registers read with a single request."""

    name: str
    address: int
    count: int


API_VERSION = Block("api_version", 0, 2)
STATE = Block("state", 50, 7)
MEASUREMENTS = Block("measurements", 200, 18)
MODE3 = Block("mode3", 300, 8)
EMS_LIMIT = Block("ems_limit", 400, 1)
TRANSACTION_TOKEN = Block("transaction_token", 401, 16)
CURRENT_OFFERED = Block("current_offered", 417, 1)
# Only readable in EMS Full Control: limit + token + current offered in one request.
EMS_TOKEN_OFFERED = Block("ems_token_offered", 400, 18)
DIAGNOSTICS = Block("diagnostics", 5000, 80)

EMS_LIMIT_ADDRESS = 400
NO_LIMIT = -1  # the EMS limit value meaning "no limit"
MIN_API_VERSION = (1, 2)


class LockState(StrEnum):
    """Cable lock (register 54)."""

    UNLOCKED = "unlocked"
    LOCKED = "locked"
    NO_LOCK_PRESENT = "no_lock_present"


class LedColor(StrEnum):
    """LED colour (register 56)."""

    OFF = "off"
    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    CYAN = "cyan"
    YELLOW = "yellow"
    PINK = "pink"
    WHITE = "white"
    ORANGE = "orange"
    PURPLE = "purple"


class Mode3State(StrEnum):
    """IEC 61851 control pilot state (register 300)."""

    A1 = "a1"
    A2 = "a2"
    B1 = "b1"
    B2 = "b2"
    C1 = "c1"
    C2 = "c2"
    D1 = "d1"
    D2 = "d2"
    E = "e"
    F = "f"


_LOCK = list(LockState)
_LED = list(LedColor)
_MODE3 = list(Mode3State)


def _enum[E: StrEnum](members: list[E], raw: int) -> E | None:
    # An unknown value (newer firmware) must not fail the whole block.
    return members[raw] if 0 <= raw < len(members) else None


def int16(word: int) -> int:
    """A register as a signed 16-bit value."""
    return word - 0x10000 if word >= 0x8000 else word


def int32(high: int, low: int) -> int:
    """Two registers, most significant word first, as a signed 32-bit value."""
    value = (high << 16) | low
    return value - 0x1_0000_0000 if value >= 0x8000_0000 else value


def string(words: Sequence[int]) -> str:
    """ASCII, two characters a register, high byte first, NUL padded."""
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()


def to_word(value: int) -> int:
    """A signed 16-bit value as the register word that carries it."""
    return value & 0xFFFF


def _check(words: Sequence[int], block: Block) -> None:
    if len(words) != block.count:
        raise ValueError(f"{block.name}: expected {block.count} registers, got {len(words)}")


@dataclass(frozen=True, slots=True)
class StateBlock:
    """Registers 50-56."""

    number_of_phases: int
    max_amp_per_phase: int
    ocpp_connected: bool
    load_shedding: bool
    lock_state: LockState | None
    contactor_closed: bool
    led_color: LedColor | None

    @classmethod
    def decode(cls, words: Sequence[int]) -> StateBlock:
        """Decode the block."""
        _check(words, STATE)
        return cls(
            number_of_phases=words[0],
            max_amp_per_phase=words[1],
            ocpp_connected=words[2] != 0,
            load_shedding=words[3] != 0,
            lock_state=_enum(_LOCK, words[4]),
            contactor_closed=words[5] != 0,
            led_color=_enum(_LED, words[6]),
        )


@dataclass(frozen=True, slots=True)
class MeasurementsBlock:
    """Registers 200-217 in SI units (A, V, W, kWh)."""

    currents: tuple[float, float, float]
    voltages: tuple[int, int, int]
    power_total: int
    powers: tuple[int, int, int]
    installation_currents: tuple[float, float, float]
    energy_import: float

    @classmethod
    def decode(cls, words: Sequence[int]) -> MeasurementsBlock:
        """Decode the block."""
        _check(words, MEASUREMENTS)
        return cls(
            currents=(words[0] / 1000, words[1] / 1000, words[2] / 1000),
            voltages=(int16(words[3]), int16(words[4]), int16(words[5])),
            power_total=int16(words[6]),
            powers=(int16(words[7]), int16(words[8]), int16(words[9])),
            installation_currents=(
                int32(words[10], words[11]) / 1000,
                int32(words[12], words[13]) / 1000,
                int32(words[14], words[15]) / 1000,
            ),
            energy_import=int32(words[16], words[17]) / 1000,
        )


@dataclass(frozen=True, slots=True)
class Mode3Block:
    """Registers 300-307."""

    state: Mode3State | None
    state_text: str
    pwm_current: float  # A advertised through the duty cycle
    duty_cycle: float  # %; 100 = steady, no PWM
    cable_rating: int  # A; 0 = no cable (socket only)
    cp_positive: int  # V
    cp_negative: int  # V

    @classmethod
    def decode(cls, words: Sequence[int]) -> Mode3Block:
        """Decode the block."""
        _check(words, MODE3)
        return cls(
            state=_enum(_MODE3, words[0]),
            state_text=string(words[1:3]),
            pwm_current=int16(words[3]) / 1000,
            duty_cycle=int16(words[4]) / 10,
            cable_rating=int16(words[5]),
            cp_positive=int16(words[6]),
            cp_negative=int16(words[7]),
        )


@dataclass(frozen=True, slots=True)
class DiagnosticsBlock:
    """Registers 5000-5079."""

    manufacturer: str
    vendor_id: str
    serial: str
    model_id: str
    firmware: str

    @classmethod
    def decode(cls, words: Sequence[int]) -> DiagnosticsBlock:
        """Decode the block."""
        _check(words, DIAGNOSTICS)
        parts = [string(words[i : i + 16]) for i in range(0, 80, 16)]
        return cls(*parts)


def decode_api_version(words: Sequence[int]) -> tuple[int, int]:
    """Registers 0-1 as (major, minor)."""
    _check(words, API_VERSION)
    return (words[0], words[1])


def api_supported(version: tuple[int, int]) -> bool:
    """Whether this API version carries the map above (1.x with x >= 2)."""
    return version[0] == MIN_API_VERSION[0] and version[1] >= MIN_API_VERSION[1]


def decode_limit(word: int) -> float | None:
    """The EMS limit register in A; ``None`` means no limit."""
    value = int16(word)
    return None if value < 0 else value / 1000


def decode_ems_token_offered(words: Sequence[int]) -> tuple[float | None, str, float]:
    """Registers 400-417: (limit A or None, token, current offered A)."""
    _check(words, EMS_TOKEN_OFFERED)
    return decode_limit(words[0]), string(words[1:17]), words[17] / 1000
