"""A small async Modbus TCP client for the ENO one.

Pure: no Home Assistant imports. One TCP connection serves both charge ports
(unit ids 1 and 2). pymodbus renamed the unit keyword from ``slave`` (3.8/3.9, the
version Home Assistant 2025.4 pins) to ``device_id`` (3.10+); the keyword is picked
once from the installed client's signature so the same code runs on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import inspect
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from ..base import BackendConnectionError, BackendInvalidDataError
from .registers import Block

DEFAULT_PORT = 502
DEFAULT_TIMEOUT = 3.0


def _unit_keyword() -> str:
    params = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    return "device_id" if "device_id" in params else "slave"


_UNIT_KEYWORD = _unit_keyword()


def _unit(unit: int) -> dict[str, Any]:
    return {_UNIT_KEYWORD: unit}


class ModbusExceptionResponse(BackendInvalidDataError):
    """The charger answered a request with a Modbus exception (e.g. 2: illegal address)."""

    def __init__(self, block: str, code: int) -> None:
        super().__init__(f"{block}: Modbus exception {code}")
        self.code = code


class EnovatesClient:
    """Reads blocks and writes the EMS limit; reconnects lazily after a failure."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, timeout: float = DEFAULT_TIMEOUT):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._client: AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self.requests = 0  # requests sent, for the benchmark and the docs

    async def _connected(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        await self.close()
        kwargs: dict[str, Any] = {"port": self.port, "timeout": self.timeout, "retries": 0}
        if "reconnect_delay" in inspect.signature(AsyncModbusTcpClient).parameters:
            # We reconnect on the next poll ourselves; pymodbus's background
            # reconnect loop would outlive an unloaded entry.
            kwargs["reconnect_delay"] = 0
        client = AsyncModbusTcpClient(self.host, **kwargs)
        try:
            async with asyncio.timeout(self.timeout + 1):
                ok = await client.connect()
        except (OSError, TimeoutError, ModbusException) as err:
            client.close()
            raise BackendConnectionError(f"{self.host}:{self.port}: {err}") from err
        if not ok:
            client.close()
            raise BackendConnectionError(f"cannot connect to {self.host}:{self.port}")
        self._client = client
        return client

    async def read(self, block: Block, unit: int = 1) -> Sequence[int]:
        """Read one block of holding registers (FC3)."""
        async with self._lock:
            client = await self._connected()
            self.requests += 1
            try:
                async with asyncio.timeout(self.timeout + 1):
                    reply = await client.read_holding_registers(
                        block.address, count=block.count, **_unit(unit)
                    )
            except (OSError, TimeoutError, ModbusException) as err:
                await self._drop()
                raise BackendConnectionError(f"{block.name}: {err}") from err
        if reply.isError():
            raise ModbusExceptionResponse(block.name, getattr(reply, "exception_code", 0))
        registers = list(reply.registers)
        if len(registers) != block.count:
            raise BackendInvalidDataError(f"{block.name}: short reply ({len(registers)})")
        return registers

    async def write(self, address: int, word: int, unit: int = 1) -> None:
        """Write one holding register (FC6)."""
        async with self._lock:
            client = await self._connected()
            self.requests += 1
            try:
                async with asyncio.timeout(self.timeout + 1):
                    reply = await client.write_register(address, word, **_unit(unit))
            except (OSError, TimeoutError, ModbusException) as err:
                await self._drop()
                raise BackendConnectionError(f"write {address}: {err}") from err
        if reply.isError():
            raise ModbusExceptionResponse(f"write {address}", getattr(reply, "exception_code", 0))

    async def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        await self._drop()
