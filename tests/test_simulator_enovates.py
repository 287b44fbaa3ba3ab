"""Tests of the Enovates ENO one Modbus TCP simulator, through a real pymodbus client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import inspect
import json
from pathlib import Path
import re
import signal
import sys
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException
import pytest

from tests.simulators.enovates import (
    MONITORING_ONLY,
    EnovatesSimulator,
    _Evolver,
    main,
    run_forever,
)
from tests.simulators.enovates_map import (
    DEVICE_WIDE_KEYS,
    FIXTURE_PATH,
    RegisterDef,
    decode,
    encode,
    load_register_map,
)

# The harness bans sockets unless asked; its allow-list keeps them on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")

FIXTURE: dict[str, Any] = json.loads(FIXTURE_PATH.read_text(encoding="utf-8"))
PROFILES = sorted(FIXTURE["profiles"])
REGISTERS = load_register_map().registers
REPO_ROOT = Path(__file__).resolve().parent.parent

# pymodbus 3.8/3.9 call the unit id `slave`, 3.10+ `device_id`.
UNIT_KW = (
    "device_id"
    if "device_id" in inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    else "slave"
)


def kw(unit: int) -> dict[str, Any]:
    """The unit id keyword of client calls."""
    return {UNIT_KW: unit}


type SimFactory = Callable[..., Awaitable[EnovatesSimulator]]
type ClientFactory = Callable[[int], Awaitable[AsyncModbusTcpClient]]


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    """Start simulators on free ports; every one is stopped at teardown."""
    sims: list[EnovatesSimulator] = []

    async def _make(**kwargs: Any) -> EnovatesSimulator:
        sim = EnovatesSimulator(**kwargs)
        await sim.start()
        sims.append(sim)
        return sim

    yield _make
    for sim in sims:
        await sim.stop()


@pytest.fixture
async def connect(make_sim: SimFactory) -> AsyncIterator[ClientFactory]:
    """Connected pymodbus clients (no automatic reconnect), closed before the simulators."""
    clients: list[AsyncModbusTcpClient] = []

    async def _connect(port: int) -> AsyncModbusTcpClient:
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=port, timeout=1, retries=0, reconnect_delay=0
        )
        clients.append(client)
        assert await client.connect()
        return client

    yield _connect
    for client in clients:
        client.close()


async def read(client: AsyncModbusTcpClient, address: int, count: int, unit: int = 1) -> list[int]:
    reply = await client.read_holding_registers(address, count=count, **kw(unit))
    assert not reply.isError(), reply
    return list(reply.registers)


async def read_error(client: AsyncModbusTcpClient, address: int, count: int, unit: int = 1) -> int:
    reply: Any = await client.read_holding_registers(address, count=count, **kw(unit))
    assert reply.isError(), reply
    return int(reply.exception_code)


async def write(
    client: AsyncModbusTcpClient, address: int, value: int, unit: int = 1
) -> int | None:
    """FC6; returns the exception code, or None when acknowledged."""
    reply: Any = await client.write_register(address, value & 0xFFFF, **kw(unit))
    return int(reply.exception_code) if reply.isError() else None


def pymodbus_decode(reg: RegisterDef, words: list[int]) -> Any:
    """Decode with pymodbus' own converters, independently of the simulator's codec."""
    types = AsyncModbusTcpClient.DATATYPE
    if reg.type == "string":
        text = AsyncModbusTcpClient.convert_from_registers(words, types.STRING)
        assert isinstance(text, str)
        return text.rstrip("\x00")
    if reg.type == "bool16":
        return words[0] != 0
    data_type = {"uint16": types.UINT16, "enum16": types.UINT16, "int16": types.INT16}.get(
        reg.type, types.INT32
    )
    return AsyncModbusTcpClient.convert_from_registers(words, data_type)


async def wait_until(condition: Callable[[], bool], limit: float = 2.0) -> None:
    """Poll state that changes on the other side of a socket."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def refused(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


# ---------------------------------------------------------------------- codec and fixture


@pytest.mark.parametrize("profile", PROFILES)
def test_codec_reproduces_fixture_words(profile: str) -> None:
    body = FIXTURE["profiles"][profile]
    for key, reg in REGISTERS.items():
        words = [body["holding_registers"][str(a)] for a in reg.addresses]
        assert encode(reg, body["values"][key]) == words, key
        assert decode(reg, words) == body["values"][key], key


def test_codec_rejects_values_the_register_cannot_hold() -> None:
    with pytest.raises(ValueError):
        encode(REGISTERS["ems_limit"], 40000)
    with pytest.raises(ValueError):
        encode(REGISTERS["current_l1"], -1)
    with pytest.raises(ValueError):
        encode(REGISTERS["mode3_state_str"], "TOOLONG")
    with pytest.raises(TypeError):
        encode(REGISTERS["pwm"], "267")
    with pytest.raises(TypeError):
        encode(REGISTERS["serial_nr"], 5)
    assert encode(REGISTERS["installation_current_l1"], -4210) == [0xFFFF, 61326]


# ---------------------------------------------------------------------- serving the map


@pytest.mark.parametrize("profile", PROFILES)
async def test_every_register_decodes_to_the_profile(
    make_sim: SimFactory, connect: ClientFactory, profile: str
) -> None:
    sim = await make_sim(units={1: profile})
    client = await connect(sim.port)
    expected = FIXTURE["profiles"][profile]["values"]
    for block in FIXTURE["blocks"]:
        words = await read(client, block["address"], block["count"])
        for reg in REGISTERS.values():
            if reg.block != block["name"]:
                continue
            offset = reg.address - block["address"]
            value = pymodbus_decode(reg, words[offset : offset + reg.count])
            assert value == expected[reg.key], reg.key
            assert sim.value(1, reg.key) == expected[reg.key], reg.key
    assert sim.request_count == len(FIXTURE["blocks"])


@pytest.mark.parametrize("address", [2, 49, 57, 199, 218, 299, 308, 399, 418, 4999, 5080, 65535])
async def test_gap_addresses_answer_illegal_address(
    make_sim: SimFactory, connect: ClientFactory, address: int
) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    assert await read_error(client, address, 1) == 2


@pytest.mark.parametrize(
    ("address", "count"), [(0, 3), (49, 2), (56, 2), (199, 2), (217, 2), (307, 2), (5079, 2)]
)
async def test_read_spanning_a_gap_fails_whole(
    make_sim: SimFactory, connect: ClientFactory, address: int, count: int
) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    assert await read_error(client, address, count) == 2
    # The mapped part alone is fine.
    assert await read(client, 216, 2) == [18, 54919]


async def test_contiguous_blocks_may_be_merged_in_full_control(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    client = await connect(sim.port)
    words = await read(client, 400, 18)
    assert words[0] == 16000
    assert words[17] == 16000
    assert pymodbus_decode(REGISTERS["transaction_token"], words[1:17]) == "04A1B2C3D4E580"


async def test_other_tables_and_bad_counts_are_refused(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    # Holding registers only: every other table is an illegal function.
    reply: Any = await client.read_input_registers(0, count=1, **kw(1))
    assert reply.isError()
    assert reply.exception_code == 1
    reply = await client.read_coils(0, count=1, **kw(1))
    assert reply.isError()
    assert reply.exception_code == 1
    reply = await client.write_coil(0, True, **kw(1))
    assert reply.isError()
    assert reply.exception_code == 1
    reply = await client.readwrite_registers(
        read_address=0, read_count=1, write_address=400, values=[6000], **kw(1)
    )
    assert reply.isError()
    assert reply.exception_code == 1
    assert sim.ems_limit_writes == []
    # Bypass the client's own count check: a 126-register request is illegal.
    assert sim._modbus_read(1, 5000, 126) == 3
    assert sim._modbus_read(1, 5000, 0) == 3


# ---------------------------------------------------------------------- writes and EMS modes


async def test_ems_limit_write_round_trip(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    assert await write(client, 400, 10000) is None
    assert await read(client, 400, 1) == [10000]
    assert sim.value(1, "ems_limit") == 10000
    assert sim.ems_limit_writes == [(1, 10000)]

    reply = await client.write_registers(400, [12000], **kw(1))
    assert not reply.isError()
    assert sim.value(1, "ems_limit") == 12000
    assert sim.ems_limit_writes == [(1, 10000), (1, 12000)]


async def test_no_limit_is_minus_one_as_0xffff(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    client = await connect(sim.port)
    assert await write(client, 400, -1) is None
    assert await read(client, 400, 1) == [0xFFFF]
    assert sim.value(1, "ems_limit") == -1
    assert sim.ems_limit_writes == [(1, -1)]
    sim.set_value(1, "ems_limit", 0)
    assert await read(client, 400, 1) == [0]


async def test_limits_below_minus_one_are_illegal_values(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    client = await connect(sim.port)
    assert await write(client, 400, -2) == 3
    assert await write(client, 400, -32768) == 3
    assert sim.value(1, "ems_limit") == 16000
    assert sim.ems_limit_writes == []


@pytest.mark.parametrize("address", [0, 51, 216, 401, 417, 5032, 2, 1000])
async def test_only_the_ems_limit_is_writable(
    make_sim: SimFactory, connect: ClientFactory, address: int
) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    before = await read(client, 0, 2)
    assert await write(client, address, 7) == 2
    assert await read(client, 0, 2) == before
    assert sim.ems_limit_writes == []


async def test_multiple_write_must_stay_on_the_ems_limit(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    reply: Any = await client.write_registers(400, [5000, 0x3031], **kw(1))
    assert reply.isError()
    assert reply.exception_code == 2
    assert sim.value(1, "ems_limit") == -1
    assert sim.ems_limit_writes == []


async def test_monitoring_only(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"}, ems_mode=MONITORING_ONLY)
    client = await connect(sim.port)
    assert sim.ems_mode == MONITORING_ONLY
    assert await read_error(client, 401, 16) == 2
    assert await read_error(client, 416, 1) == 2
    assert await read_error(client, 400, 18) == 2
    assert await read(client, 400, 1) == [16000]
    assert await read(client, 417, 1) == [16000]

    # Acknowledged, ignored, not recorded.
    assert await write(client, 400, 8000) is None
    assert await read(client, 400, 1) == [16000]
    assert await read(client, 200, 1) == [15820]
    assert sim.ems_limit_writes == []

    sim.set_ems_mode("full_control")
    words = await read(client, 401, 16)
    assert pymodbus_decode(REGISTERS["transaction_token"], words) == "04A1B2C3D4E580"
    with pytest.raises(ValueError):
        sim.set_ems_mode("off")


async def test_transaction_token_can_be_set(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    assert pymodbus_decode(REGISTERS["transaction_token"], await read(client, 401, 16)) == ""
    sim.set_value(1, "transaction_token", "04A1B2C3D4")
    words = await read(client, 401, 16)
    assert words[:5] == [0x3034, 0x4131, 0x4232, 0x4333, 0x4434]
    assert words[5:] == [0] * 11
    sim.plug_in(1)
    assert sim.value(1, "transaction_token") == "04A1B2C3D4"


# ---------------------------------------------------------------------- dynamic rule


async def test_ems_limit_drives_the_charging_car(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    client = await connect(sim.port)

    assert await write(client, 400, 10000) is None
    assert await read(client, 417, 1) == [10000]
    assert await read(client, 200, 10) == [
        10000, 10000, 10000, 229, 228, 230, 6870, 2290, 2280, 2300
    ]  # fmt: skip
    assert await read(client, 300, 5) == [5, 0x4332, 0, 10000, 167]
    assert sim.value(1, "contactor_state") is True
    assert sim.value(1, "led_color") == 3

    assert await write(client, 400, 3000) is None
    assert sim.value(1, "mode3_state_num") == 4
    assert sim.value(1, "mode3_state_str") == "C1"
    assert await read(client, 200, 3) == [0, 0, 0]
    assert sim.value(1, "charger_active_power_total") == 0
    assert sim.value(1, "contactor_state") is False
    assert sim.value(1, "pwm") == 1000
    assert sim.value(1, "pwm_amp") == 0
    assert sim.value(1, "active_current_offered") == 3000

    assert await write(client, 400, -1) is None
    assert await read(client, 417, 1) == [16000]
    assert await read(client, 200, 3) == [16000, 16000, 16000]
    assert sim.value(1, "mode3_state_str") == "C2"
    assert sim.value(1, "pwm") == 267
    assert sim.value(1, "pwm_amp") == 16000
    assert sim.value(1, "charger_active_power_total") == 3664 + 3648 + 3680


async def test_cable_rating_caps_the_offer(make_sim: SimFactory) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    sim.set_value(1, "pp", 13)
    sim.plug_in(1)
    assert sim.value(1, "active_current_offered") == 13000
    assert sim.value(1, "current_l2") == 13000
    assert sim.value(1, "pwm") == 217


async def test_plug_in_charge_full_unplug(make_sim: SimFactory) -> None:
    sim = await make_sim()
    assert sim.value(1, "mode3_state_str") == "A1"
    sim.plug_in()
    assert sim.value(1, "mode3_state_num") == 5
    assert sim.value(1, "mode3_state_str") == "C2"
    assert sim.value(1, "active_current_offered") == 16000
    assert [sim.value(1, f"current_l{n}") for n in (1, 2, 3)] == [16000] * 3
    assert sim.value(1, "charger_active_power_l1") == 3728  # 233 V * 16 A
    assert sim.value(1, "pp") == 32
    assert sim.value(1, "lock_state") == 1
    assert sim.value(1, "contactor_state") is True
    assert sim.value(1, "cp_pos") == 6
    assert sim.value(1, "cp_neg") == -12

    sim.car_full()
    assert sim.value(1, "mode3_state_str") == "B2"
    assert sim.value(1, "mode3_state_num") == 3
    assert sim.value(1, "current_l1") == 0
    assert sim.value(1, "charger_active_power_total") == 0
    assert sim.value(1, "contactor_state") is False
    assert sim.value(1, "pwm") == 267
    assert sim.value(1, "active_current_offered") == 16000

    sim.unplug()
    idle = FIXTURE["profiles"]["idle"]["values"]
    for key in ("mode3_state_num", "mode3_state_str", "pwm_amp", "pwm", "pp", "cp_pos", "cp_neg"):
        assert sim.value(1, key) == idle[key], key
    assert sim.value(1, "active_current_offered") == 0
    assert sim.value(1, "current_l3") == 0
    assert sim.value(1, "contactor_state") is False
    assert sim.value(1, "lock_state") == 0
    with pytest.raises(ValueError):
        sim.car_full()


async def test_plug_in_with_limit_below_six_amps_waits_in_c1(make_sim: SimFactory) -> None:
    sim = await make_sim()
    sim.set_value(1, "ems_limit", 0)
    sim.plug_in()
    assert sim.value(1, "mode3_state_str") == "C1"
    assert sim.value(1, "current_l1") == 0
    assert sim.value(1, "active_current_offered") == 0
    sim.car_full()
    assert sim.value(1, "mode3_state_str") == "B1"
    assert sim.value(1, "pwm") == 1000


async def test_single_phase_port_draws_on_l1_only(make_sim: SimFactory) -> None:
    sim = await make_sim()
    sim.set_value(1, "number_of_phases", 1)
    sim.plug_in()
    assert [sim.value(1, f"current_l{n}") for n in (1, 2, 3)] == [16000, 0, 0]
    assert sim.value(1, "charger_active_power_total") == 3728


async def test_ems_write_without_car_changes_only_the_limit(
    make_sim: SimFactory, connect: ClientFactory
) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    assert await write(client, 400, 10000) is None
    assert sim.value(1, "mode3_state_str") == "A1"
    assert sim.value(1, "active_current_offered") == 0
    sim.plug_in()
    assert sim.value(1, "active_current_offered") == 10000


# ---------------------------------------------------------------------- time


async def test_tick_counts_energy(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    client = await connect(sim.port)
    start = 1241893
    sim.tick(1)  # 10871 W for 1 s = 3.02 Wh
    assert sim.value(1, "active_energy_import_total") == start + 3
    for _ in range(3599):
        sim.tick(1)
    assert sim.value(1, "active_energy_import_total") == start + 10871
    words = await read(client, 216, 2)
    assert AsyncModbusTcpClient.convert_from_registers(
        words, AsyncModbusTcpClient.DATATYPE.INT32
    ) == (start + 10871)

    for _ in range(36):
        sim.tick(0.1)  # fractions of a second add up exactly
    assert sim.value(1, "active_energy_import_total") == start + 10871 + 10
    sim.tick(0)
    with pytest.raises(ValueError):
        sim.tick(-1)


async def test_tick_leaves_idle_ports_alone(make_sim: SimFactory) -> None:
    sim = await make_sim(units={1: "idle", 2: "charging_3p_16a"})
    sim.tick(7200)
    assert sim.value(1, "active_energy_import_total") == 1234567
    assert sim.value(2, "active_energy_import_total") == 1241893 + 2 * 10871
    sim.set_value(2, "active_energy_import_total", 5)
    sim.tick(1)
    assert sim.value(2, "active_energy_import_total") == 8


# ---------------------------------------------------------------------- dual port


async def test_dual_port_units(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim(units={1: "charging_3p_16a", 2: "idle"})
    client = await connect(sim.port)
    charging = FIXTURE["profiles"]["charging_3p_16a"]["values"]
    idle = FIXTURE["profiles"]["idle"]["values"]

    assert await read(client, 300, 1, unit=1) == [5]
    assert await read(client, 300, 1, unit=2) == [0]
    assert await read(client, 200, 1, unit=1) == [15820]
    assert await read(client, 200, 1, unit=2) == [0]
    # Device-wide registers are the same on both unit ids (taken from unit 1's profile).
    for unit in (1, 2):
        words = await read(client, 5000, 80, unit=unit)
        assert pymodbus_decode(REGISTERS["serial_nr"], words[32:48]) == "EN1A2401000123"
        assert await read(client, 0, 2, unit=unit) == [1, 2]
        words = await read(client, 210, 2, unit=unit)
        assert pymodbus_decode(REGISTERS["installation_current_l1"], words) == 11870
    for key in DEVICE_WIDE_KEYS:
        assert sim.value(2, key) == sim.value(1, key) == charging[key], key
    assert sim.value(2, "active_energy_import_total") == idle["active_energy_import_total"]

    assert await write(client, 400, 8000, unit=2) is None
    assert sim.ems_limit_writes == [(2, 8000)]
    assert sim.value(1, "ems_limit") == 16000
    sim.plug_in(2)
    assert await read(client, 200, 3, unit=2) == [8000, 8000, 8000]
    assert await read(client, 200, 3, unit=1) == [15820, 15760, 15890]

    sim.set_value(2, "installation_current_l2", -500)
    assert sim.value(1, "installation_current_l2") == -500

    assert await read_error(client, 0, 1, unit=3) == 0x0B


async def test_profiles_can_change_and_units_can_be_added(make_sim: SimFactory) -> None:
    sim = await make_sim()
    sim.set_profile(1, "charging_3p_16a")
    assert sim.value(1, "current_l1") == 15820
    assert sim.value(1, "installation_current_l1") == 11870
    sim.set_profile(2, "idle")
    # Unit 2 is not the lowest: it keeps unit 1's device-wide registers.
    assert sim.value(2, "installation_current_l1") == 11870
    assert sim.value(2, "mode3_state_str") == "A1"
    with pytest.raises(ValueError):
        sim.set_profile(1, "nope")
    with pytest.raises(ValueError):
        sim.set_profile(0, "idle")
    with pytest.raises(KeyError):
        sim.value(9, "pwm")
    with pytest.raises(KeyError):
        sim.plug_in(9)


# ---------------------------------------------------------------------- connections


async def test_drop_connections(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        assert await read(client, 0, 2) == [1, 2]
        await sim.drop_connections()
        # A raw connection sees the end of the stream.
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 1) == b""
        await wait_until(lambda: not client.connected)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionResetError):
            await writer.wait_closed()
    # The next request fails; the listener stays, so reconnecting works.
    with pytest.raises(ConnectionException):
        await client.read_holding_registers(0, count=2, **kw(1))
    assert await client.connect()
    assert await read(client, 0, 2) == [1, 2]
    await sim.drop_connections()  # nothing open but the new connection: fine again
    await wait_until(lambda: not client.connected)


async def test_pause_and_resume(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim(units={1: "charging_3p_16a"})
    port = sim.port
    client = await connect(port)
    assert await write(client, 400, 9000) is None

    await sim.pause()
    await wait_until(lambda: not client.connected)
    assert await refused(port)
    assert not await client.connect()
    await sim.pause()  # already paused: nothing to do

    await sim.resume()
    assert sim.port == port
    assert await client.connect()
    assert await read(client, 400, 1) == [9000]
    await sim.resume()  # already listening: nothing to do
    assert await read(client, 417, 1) == [9000]


async def test_pause_before_start_is_an_error() -> None:
    sim = EnovatesSimulator()
    with pytest.raises(RuntimeError):
        await sim.pause()
    with pytest.raises(RuntimeError):
        await sim.resume()
    await sim.stop()


async def test_fail_reads(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim()
    client = await connect(sim.port)
    sim.fail_reads(4)
    assert await read_error(client, 0, 2) == 4
    assert await read_error(client, 5000, 80) == 4
    assert await write(client, 400, 6000) is None
    sim.fail_reads(6)
    assert await read_error(client, 400, 1) == 6
    sim.fail_reads(None)
    assert await read(client, 400, 1) == [6000]
    with pytest.raises(ValueError):
        sim.fail_reads(0)


async def test_request_count(make_sim: SimFactory, connect: ClientFactory) -> None:
    sim = await make_sim(units={1: "idle", 2: "idle"})
    client = await connect(sim.port)
    await read(client, 0, 2)
    await read(client, 50, 7, unit=2)
    await read_error(client, 2, 1)
    await read_error(client, 0, 1, unit=7)
    assert await write(client, 400, 7000) is None
    assert await write(client, 400, -5) == 3
    assert sim.request_count == 6
    assert sim.ems_limit_writes == [(1, 7000)]
    sim.reset_counters()
    assert sim.request_count == 0
    assert sim.ems_limit_writes == []
    await read(client, 0, 1)
    assert sim.request_count == 1


async def test_stop_closes_everything(connect: ClientFactory) -> None:
    sim = EnovatesSimulator()
    await sim.start()
    try:
        client = await connect(sim.port)
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        with pytest.raises(RuntimeError):
            await sim.start()
    finally:
        await sim.stop()
    try:
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 1) == b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionResetError):
            await writer.wait_closed()
    await wait_until(lambda: not client.connected)
    assert await refused(sim.port)
    await sim.stop()  # idempotent


async def test_start_on_a_busy_port_fails(make_sim: SimFactory) -> None:
    sim = await make_sim()
    other = EnovatesSimulator(port=sim.port)
    with pytest.raises(OSError):
        await other.start()
    await other.stop()


# ---------------------------------------------------------------------- process entry point


def test_evolver_ticks_and_cycles_the_car() -> None:
    sim = EnovatesSimulator(units={1: "charging_3p_16a"})
    evolver = _Evolver(sim, evolve=True, cycle=100, now=1000.0)
    evolver.step(1036.0)  # 36 s at 10871 W
    assert sim.value(1, "active_energy_import_total") == 1241893 + 108
    evolver.step(1100.0)
    assert sim.value(1, "mode3_state_str") == "A1"
    evolver.step(1119.0)
    assert sim.value(1, "mode3_state_str") == "A1"
    evolver.step(1120.0)  # away for a fifth of the cycle
    assert sim.value(1, "mode3_state_str") == "C2"
    evolver.step(1219.0)
    assert sim.value(1, "mode3_state_str") == "C2"
    evolver.step(1220.0)
    assert sim.value(1, "mode3_state_str") == "A1"

    still = EnovatesSimulator(units={1: "charging_3p_16a"})
    _Evolver(still, evolve=False, cycle=None, now=0.0).step(3600.0)
    assert still.value(1, "active_energy_import_total") == 1241893


async def test_run_forever_serves_until_stopped(
    connect: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_forever(
            port=0,
            units={1: "charging_3p_16a", 2: "idle"},
            ems_mode=MONITORING_ONLY,
            evolve=True,
            interval=0.01,
            stop=stop,
        )
    )
    try:
        printed: list[str] = []

        def announced() -> bool:
            printed.append(capsys.readouterr().out)
            return "listening on" in "".join(printed) or task.done()

        await wait_until(announced)
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", "".join(printed))
        assert match, printed
        port = int(match[1])
        client = await connect(port)
        assert await read_error(client, 401, 16) == 2
        start = await read(client, 216, 2, unit=1)
        # Real time drives the energy counter: 10871 W gives a Wh in about 0.33 s.
        async with asyncio.timeout(3):
            while await read(client, 216, 2, unit=1) == start:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert await read(client, 216, 2, unit=2) == [18, 54919]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert await refused(port)


async def test_run_forever_needs_unit_one_to_cycle() -> None:
    with pytest.raises(ValueError):
        await run_forever(port=0, units={2: "idle"}, cycle=60)


async def test_cli_runs_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.simulators.enovates",
        "--port",
        "0",
        "--unit",
        "1=charging_3p_16a",
        "--unit",
        "2=idle",
        "--evolve",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()  # type: ignore[union-attr]
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=int(match[1]), timeout=2, retries=0, reconnect_delay=0
        )
        try:
            assert await client.connect()
            assert await read(client, 300, 1, unit=1) == [5]
            assert await read(client, 300, 1, unit=2) == [0]
        finally:
            client.close()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_cli_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--unit", "1=nope"], ["--unit", "x=idle"], ["--cycle", "0"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "unknown profile" in capsys.readouterr().err
