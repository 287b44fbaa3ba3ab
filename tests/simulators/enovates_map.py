"""Register map and word codec of the Enovates ENO one simulator.

The map, the enums and the two profiles come from ``data/enovates_registers.json``; this module
only turns them into typed objects and converts between decoded values and 16-bit words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
import json
from pathlib import Path
from typing import Any, Final

FIXTURE_PATH: Final = Path(__file__).parent / "data" / "enovates_registers.json"

type Value = int | str | bool

# Shown once by integrations and, on a dual-port device, one physical thing: these registers
# are stored once per simulated device and served identically on every unit id.
DEVICE_WIDE_KEYS: Final = frozenset(
    {
        "api_version_major",
        "api_version_minor",
        "max_amp_per_phase",
        "ocpp_state",
        "load_shedding_state",
        "installation_current_l1",
        "installation_current_l2",
        "installation_current_l3",
        "manufacturer",
        "vendor_id",
        "serial_nr",
        "model_id",
        "firmware_version",
    }
)

_INT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "uint16": (0, 0xFFFF),
    "enum16": (0, 0xFFFF),
    "int16": (-0x8000, 0x7FFF),
    "int32": (-0x8000_0000, 0x7FFF_FFFF),
}


@dataclass(frozen=True, slots=True)
class RegisterDef:
    """One field of the map, at a 0-based protocol address."""

    key: str
    address: int
    count: int
    type: str
    access: str
    availability: str
    block: str

    @property
    def addresses(self) -> range:
        """Protocol addresses the field occupies."""
        return range(self.address, self.address + self.count)

    @property
    def device_wide(self) -> bool:
        """True when the field is shared by every unit id of the device."""
        return self.key in DEVICE_WIDE_KEYS


@dataclass(frozen=True, slots=True)
class Profile:
    """A named set of register contents: decoded values and the raw words to serve."""

    name: str
    values: Mapping[str, Value]
    words: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """The whole fixture in typed form."""

    registers: Mapping[str, RegisterDef]
    profiles: Mapping[str, Profile]
    enums: Mapping[str, Mapping[int, str]]

    @property
    def mapped_addresses(self) -> frozenset[int]:
        """Every protocol address that belongs to a register."""
        return frozenset(a for reg in self.registers.values() for a in reg.addresses)

    @property
    def device_wide_addresses(self) -> frozenset[int]:
        """Addresses stored once per device rather than once per unit id."""
        return frozenset(
            a for reg in self.registers.values() if reg.device_wide for a in reg.addresses
        )

    def enum_value(self, enum: str, name: str) -> int:
        """Number of an enum member by its name, e.g. ``("mode3_state", "C2") -> 5``."""
        for number, member in self.enums[enum].items():
            if member == name:
                return number
        raise KeyError(f"{enum} has no member {name}")


@cache
def load_register_map(path: Path = FIXTURE_PATH) -> RegisterMap:
    """Read and index the fixture (cached: it never changes during a run)."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    registers = {
        item["key"]: RegisterDef(
            key=item["key"],
            address=int(item["address"]),
            count=int(item["count"]),
            type=item["type"],
            access=item["access"],
            availability=item["availability"],
            block=item["block"],
        )
        for item in raw["registers"]
    }
    profiles = {
        name: Profile(
            name=name,
            values=dict(body["values"]),
            words={int(addr): int(word) for addr, word in body["holding_registers"].items()},
        )
        for name, body in raw["profiles"].items()
    }
    enums = {
        name: {int(number): member for number, member in members.items()}
        for name, members in raw["enums"].items()
    }
    return RegisterMap(registers=registers, profiles=profiles, enums=enums)


def encode(reg: RegisterDef, value: Value) -> list[int]:
    """Encode a decoded value into the register's words (big-endian words, ASCII strings)."""
    if reg.type == "string":
        if not isinstance(value, str):
            raise TypeError(f"{reg.key} takes a str, not {value!r}")
        data = value.encode("ascii")
        if len(data) > 2 * reg.count:
            raise ValueError(f"{reg.key} holds at most {2 * reg.count} characters")
        data = data.ljust(2 * reg.count, b"\x00")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if reg.type == "bool16":
        if not isinstance(value, (bool, int)):
            raise TypeError(f"{reg.key} takes a bool, not {value!r}")
        return [1 if value else 0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{reg.key} takes an int, not {value!r}")
    low, high = _INT_RANGES[reg.type]
    if not low <= value <= high:
        raise ValueError(f"{reg.key} ({reg.type}) cannot hold {value}")
    unsigned = value & ((1 << (16 * reg.count)) - 1)
    return [(unsigned >> (16 * (reg.count - 1 - i))) & 0xFFFF for i in range(reg.count)]


def decode(reg: RegisterDef, words: Sequence[int]) -> Value:
    """Decode the register's words; strings lose their NUL padding."""
    if len(words) != reg.count:
        raise ValueError(f"{reg.key} needs {reg.count} words, got {len(words)}")
    if reg.type == "string":
        data = b"".join(word.to_bytes(2, "big") for word in words)
        return data.rstrip(b"\x00").decode("ascii", errors="replace")
    if reg.type == "bool16":
        return words[0] != 0
    unsigned = 0
    for word in words:
        unsigned = (unsigned << 16) | word
    if reg.type in ("int16", "int32"):
        bits = 16 * reg.count
        if unsigned >= 1 << (bits - 1):
            return unsigned - (1 << bits)
    return unsigned
