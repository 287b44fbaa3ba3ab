"""The numbers that matter, measured and printed as one table.

Run ``scripts/bench`` (or ``python -m scripts.bench [--events N] [--cycles N]``):

- the balancer's decision time: one ``step`` and one ``allocate`` for 1, 10 and 100
  chargers (median and 99th percentile over ``--cycles`` calls with varying loads);
- the event-to-command latency in a running Home Assistant: a meter state change to the
  ENO one simulator receiving the EMS write, over ``--events`` events (each event raises
  the house load so the balancer lowers the charger at once);
- the ENO one's Modbus requests per poll (the simulator's request counter);
- the session store's rows, from ``scripts.bench_sessions`` when it offers ``rows()``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import importlib
import logging
from pathlib import Path
import random
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.ev_charging.balancer.algorithm import initial_state, step  # noqa: E402
from custom_components.ev_charging.balancer.allocation import Claim, allocate  # noqa: E402
from custom_components.ev_charging.balancer.model import (  # noqa: E402
    BalancerConfig,
    ChargerConfig,
    ChargerTelemetry,
    Inputs,
    MeterReading,
    SiteConfig,
)
from custom_components.ev_charging.models import ChargerStatus  # noqa: E402

ROTATIONS = ((0, 1, 2), (1, 2, 0), (2, 0, 1))


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a measure, its median and 99th percentile, the sample count."""

    measure: str
    median: str
    p99: str
    samples: str


def _percentiles(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def _timed_row(measure: str, seconds: Sequence[float], unit: str = "µs") -> Row:
    scale = 1e6 if unit == "µs" else 1e3
    median, p99 = _percentiles(seconds)
    return Row(
        measure, f"{median * scale:,.1f} {unit}", f"{p99 * scale:,.1f} {unit}", str(len(seconds))
    )


# --------------------------------------------------------------------------- decision time


def _site(chargers: int) -> tuple[BalancerConfig, list[ChargerConfig]]:
    configs = [
        ChargerConfig(
            charger_id=f"c{n}",
            phases=3 if n % 3 == 0 else 1,
            rotation=ROTATIONS[n % 3],
            max_current=16.0 if n % 2 else 32.0,
            priority=n % 3,
            weight=1.0 + (n % 2),
        )
        for n in range(chargers)
    ]
    limit = max(25.0, 9.0 * chargers)  # tight enough that the allocation binds
    site = SiteConfig(phases=3, phase_limits=(limit, limit, limit), margin=1.0)
    return BalancerConfig(site=site, chargers=tuple(configs)), configs


def _telemetry(
    configs: Sequence[ChargerConfig], rng: random.Random
) -> tuple[ChargerTelemetry, ...]:
    items = []
    for config in configs:
        draw = rng.uniform(6.0, config.max_current)
        currents = (
            draw,
            draw if config.phases == 3 else None,
            draw if config.phases == 3 else None,
        )
        items.append(
            ChargerTelemetry(
                charger_id=config.charger_id,
                status=ChargerStatus.CHARGING,
                currents=currents,
                offered=round(draw),
                session_energy=rng.uniform(0, 20),
            )
        )
    return tuple(items)


def bench_step(chargers: int, cycles: int) -> list[float]:
    """Seconds per ``step`` call, on a meter reading each second."""
    rng = random.Random(chargers)
    config, configs = _site(chargers)
    state = initial_state(0.0)
    limit = config.site.phase_limits[0]
    samples = []
    for cycle in range(cycles + 20):
        now = float(cycle + 1)
        house = tuple(rng.uniform(0.3, 0.9) * limit for _ in range(3))
        inputs = Inputs(meter=MeterReading(at=now, values=house), chargers=_telemetry(configs, rng))
        began = time.perf_counter()
        decision = step(config, state, inputs, now)
        elapsed = time.perf_counter() - began
        state = decision.state
        if cycle >= 20:  # past the start-up and the first holds
            samples.append(elapsed)
    return samples


def bench_allocate(chargers: int, cycles: int) -> list[float]:
    """Seconds per ``allocate`` call with every charger claiming."""
    rng = random.Random(chargers)
    _, configs = _site(chargers)
    samples = []
    for _ in range(cycles):
        claims = [
            Claim(
                charger_id=c.charger_id,
                phases=c.site_phases(c.phases),
                demand=c.max_current,
                min_current=c.min_current,
                tier=c.priority,
                weight=c.weight,
                energy=rng.uniform(0, 20),
            )
            for c in configs
        ]
        headroom = [rng.uniform(0.2, 1.0) * 9.0 * max(3, chargers) for _ in range(3)]
        began = time.perf_counter()
        allocate(claims, headroom)
        samples.append(time.perf_counter() - began)
    return samples


# --------------------------------------------------------------------------- Home Assistant


class _Writes(list[tuple[int, int]]):
    """The simulator's record of EMS writes, telling when one arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()
        self.at = 0.0

    def append(self, item: tuple[int, int]) -> None:
        self.at = time.perf_counter()
        super().append(item)
        self.arrived.set()


async def _latency(events: int) -> tuple[list[float], float]:
    """(seconds from a meter change to the EMS write, Modbus requests per poll)."""
    from homeassistant import loader
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.ev_charging.balancer.const import UNIQUE_ID
    from custom_components.ev_charging.balancer.settings import (
        BalancerSettings,
        ChargerSettings,
    )
    from custom_components.ev_charging.const import DOMAIN
    from tests.simulators.enovates import EnovatesSimulator

    meter = ("sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3")
    sim = EnovatesSimulator(units={1: "charging_3p_16a"})
    writes = _Writes()
    sim.ems_limit_writes = writes
    await sim.start()
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # load custom_components/
            charger = MockConfigEntry(
                domain=DOMAIN,
                unique_id="bench",
                data={
                    "backend": "enovates",
                    "host": sim.host,
                    "port": sim.port,
                    "dual_port": False,
                    "ems_control": True,
                },
            )
            charger.add_to_hass(hass)
            assert await hass.config_entries.async_setup(charger.entry_id)
            await hass.async_block_till_done()
            coordinator = charger.runtime_data.coordinator
            charger_id = next(iter(coordinator.chargers))

            sim.reset_counters()
            polls = 20
            for _ in range(polls):
                await coordinator.async_refresh()
            per_poll = sim.request_count / polls

            settings = BalancerSettings(
                phases=3,
                meter_entities=meter,
                phase_limits=(25.0, 25.0, 25.0),
                chargers=(ChargerSettings(charger_id=charger_id, phases=3),),
            )
            balancer = MockConfigEntry(
                domain=DOMAIN,
                unique_id=UNIQUE_ID,
                data={"feature": "load_balancer", **settings.to_dict()},
            )
            balancer.add_to_hass(hass)

            def report(house_l1: float) -> None:
                for phase, entity_id in enumerate(meter):
                    car = int(sim.value(1, f"current_l{phase + 1}")) / 1000
                    house = house_l1 if phase == 0 else 2.0
                    hass.states.async_set(
                        entity_id, f"{house + car:.2f}", {"unit_of_measurement": "A"}
                    )

            samples: list[float] = []
            while len(samples) < events:
                # A fresh start: the charger at 16 A, the balancer loaded, a first reading.
                await coordinator.async_command(
                    coordinator.backend.async_set_current, charger_id, 16.0
                )
                assert await hass.config_entries.async_setup(balancer.entry_id)
                await hass.async_block_till_done()
                house = 8.0  # 16 A of room on L1
                report(house)
                await hass.async_block_till_done()
                while house < 17.0 and len(samples) < events:
                    house += 0.6  # each event takes 0.6 A from the car: a write at once
                    writes.arrived.clear()
                    began = time.perf_counter()
                    report(house)
                    async with asyncio.timeout(5):
                        await writes.arrived.wait()
                    samples.append(writes.at - began)
                    await hass.async_block_till_done()
                assert await hass.config_entries.async_unload(balancer.entry_id)
                await hass.async_block_till_done()
            assert await hass.config_entries.async_unload(charger.entry_id)
            await hass.async_block_till_done()
            await hass.async_stop(force=True)
    await sim.stop()
    return samples, per_poll


# --------------------------------------------------------------------------- sessions


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def session_rows() -> list[Row]:
    """The session store's rows, if ``scripts.bench_sessions`` offers ``rows()``."""
    try:
        module = importlib.import_module("scripts.bench_sessions")
    except ImportError:
        return []
    rows_fn: Callable[[], Sequence[Any]] | None = getattr(module, "rows", None)
    if not callable(rows_fn):
        return []
    rows = []
    for row in rows_fn():
        if isinstance(row, dict):
            measure, value, unit = row.get("measure"), row.get("value"), row.get("unit", "")
        elif hasattr(row, "measure"):
            measure, value, unit = row.measure, getattr(row, "value", ""), getattr(row, "unit", "")
        else:
            cells = [*row, "", ""]
            measure, value, unit = cells[0], cells[1], cells[2]
        rows.append(Row(f"sessions: {measure}", f"{_cell(value)} {unit}".strip(), "", ""))
    return rows


# --------------------------------------------------------------------------- table


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table."""
    header = Row("measure", "median", "p99", "samples")
    widths = [
        max(len(getattr(r, f)) for r in (header, *rows))
        for f in ("measure", "median", "p99", "samples")
    ]
    lines = []
    for index, row in enumerate((header, *rows)):
        cells = (row.measure, row.median, row.p99, row.samples)
        lines.append(
            "  ".join(
                cell.ljust(width) if n == 0 else cell.rjust(width)
                for n, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run(events: int, cycles: int, *, with_hass: bool = True) -> list[Row]:
    """Measure everything; the rows of the table."""
    rows: list[Row] = []
    for chargers in (1, 10, 100):
        count = cycles if chargers < 100 else max(50, cycles // 4)
        rows.append(_timed_row(f"step, {chargers} charger(s)", bench_step(chargers, count)))
    for chargers in (1, 10, 100):
        rows.append(
            _timed_row(f"allocate, {chargers} charger(s)", bench_allocate(chargers, cycles))
        )
    if with_hass:
        latency, per_poll = asyncio.run(_latency(events))
        rows.append(_timed_row("meter change -> EMS write (running hass)", latency, "ms"))
        rows.append(
            Row("ENO one Modbus requests per poll (charging, EMS)", f"{per_poll:g}", "", "20")
        )
    rows += session_rows()
    return rows


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Run the benchmark, print the table, return its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50, help="meter events for the latency")
    parser.add_argument("--cycles", type=int, default=1000, help="calls per decision-time row")
    parser.add_argument("--no-hass", action="store_true", help="skip the Home Assistant rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)  # "not tested by HA"
    rows = run(args.events, args.cycles, with_hass=not args.no_hass)
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main()
