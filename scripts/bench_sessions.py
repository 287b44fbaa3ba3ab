"""Benchmark of the session store: load time, memory and write cost for 10,000 sessions.

Run ``python -m scripts.bench_sessions [--sessions N] [--months M]``; ``main()`` returns
the rows it prints. The history is written in Home Assistant's own ``.storage`` format
(one file per month plus the index) into a temporary folder, through ``Store``, then:

- start-up: what the tracker loads when Home Assistant starts (index and snapshots);
- full history: every session read back (what an export or an edit does);
- one completed session appended: bytes and time written, compared with keeping the
  whole history in a single file that every completion rewrites.

Memory is what the loaded objects keep (``tracemalloc``, after a warm-up load so that
one-time caches of the JSON reader are not counted), not the process size.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import gc
import json
from pathlib import Path
import random
import sys
import tempfile
import time
import tracemalloc
from typing import Any, NamedTuple

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from custom_components.ev_charging.sessions.directory import UserType
from custom_components.ev_charging.sessions.pricing import PriceSource
from custom_components.ev_charging.sessions.records import (
    DataQuality,
    PriceInterval,
    SessionRecord,
)
from custom_components.ev_charging.sessions.store import SessionStore

USERS = (
    ("u1", "Alice", UserType.RESIDENT),
    ("u2", "Bob", UserType.GUEST),
    (None, None, UserType.UNKNOWN),
)


class Row(NamedTuple):
    """One line of the result table."""

    measure: str
    value: float
    unit: str


def make_records(count: int, months: int, seed: int = 1) -> list[SessionRecord]:
    """Plausible sessions spread over ``months`` months, with hourly spot intervals."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = timedelta(days=30.4 * months)
    records = []
    for number in range(count):
        plugged = start + span * number / count
        hours = rng.randint(1, 8)
        energy = round(rng.uniform(2, 11) * hours, 3)
        user_id, name, kind = USERS[number % len(USERS)]
        first = plugged.replace(minute=0, second=0, microsecond=0)
        intervals = tuple(
            PriceInterval(
                start=first + timedelta(hours=h),
                end=first + timedelta(hours=h + 1),
                price=round(rng.uniform(0.1, 0.4), 6),
                base_price=round(rng.uniform(0.05, 0.3), 6),
                source=PriceSource.SPOT,
                energy_kwh=round(energy / hours, 6),
                cost=round(energy / hours * 0.25, 6),
            )
            for h in range(hours)
        )
        records.append(
            SessionRecord(
                id=f"EN1A2401000123-{plugged:%Y%m%dT%H%M%S}Z",
                charger_id="EN1A2401000123",
                user_id=user_id,
                user_name=name,
                user_type=kind,
                vehicle_id="v1" if user_id else None,
                vehicle_name="Model 3" if user_id else None,
                card_uid="04A1B2C3D4" if user_id else None,
                plugged_in_at=plugged,
                started_at=plugged,
                ended_at=plugged + timedelta(hours=hours, minutes=20),
                plugged_out_at=plugged + timedelta(hours=hours, minutes=20),
                charging_started_at=plugged,
                charging_ended_at=plugged + timedelta(hours=hours),
                charging_seconds=hours * 3600.0,
                charging_windows=1,
                energy_kwh=energy,
                max_power_w=11000.0,
                cost=round(sum(i.cost or 0 for i in intervals), 4),
                currency="EUR",
                price_source="spot",
                price_intervals=intervals,
                guest_price=round(energy * 0.5, 2) if kind is UserType.GUEST else None,
                soc_added_pct=round(energy * 0.9 / 60 * 100, 1) if user_id else None,
                lifetime_start_kwh=1000.0 + number,
                lifetime_end_kwh=1000.0 + number + energy,
                flags=frozenset({DataQuality.ENERGY_FROM_LIFETIME_COUNTER}),
            )
        )
    return records


async def _measure(count: int, months: int, folder: Path) -> list[Row]:
    hass = HomeAssistant(str(folder))
    records = make_records(count, months)
    writer = SessionStore(hass)
    await writer.async_load()
    by_month: dict[str, list[SessionRecord]] = {}
    for record in records:
        by_month.setdefault(f"{record.started_at:%Y-%m}", []).append(record)
    for month, items in by_month.items():
        await writer._save_segment(month, items)  # bulk preparation: one write per month
    storage = folder / ".storage"
    files = sorted(storage.glob("ev_charging.sessions.*"))
    total_bytes = sum(p.stat().st_size for p in files)
    index_bytes = (storage / "ev_charging.sessions.index").stat().st_size

    await SessionStore(hass).async_load()  # warm-up: one-time caches of the JSON reader
    gc.collect()
    store = SessionStore(hass)
    tracemalloc.start()
    began = time.perf_counter()
    await store.async_load()
    startup_s = time.perf_counter() - began
    gc.collect()
    startup_mem = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    tracemalloc.start()
    began = time.perf_counter()
    loaded = await store.async_records()
    full_s = time.perf_counter() - began
    gc.collect()
    full_mem, full_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(loaded) == count

    last_month = max(by_month)
    segment_bytes = (storage / f"ev_charging.sessions.{last_month}").stat().st_size
    late = loaded[-1].started_at + timedelta(hours=1)
    extra = replace(
        make_records(1, 1, seed=2)[0],
        id="new",
        plugged_in_at=late,
        started_at=late,
        ended_at=late + timedelta(hours=2),
    )
    began = time.perf_counter()
    await store.async_add(extra)  # the month file is read first, then kept for the next
    first_append_s = time.perf_counter() - began
    began = time.perf_counter()
    await store.async_add(replace(extra, id="newer", ended_at=extra.ended_at + timedelta(hours=1)))
    append_s = time.perf_counter() - began
    appended_bytes = (storage / f"ev_charging.sessions.{last_month}").stat().st_size + (
        storage / "ev_charging.sessions.index"
    ).stat().st_size

    single = Store[dict[str, list[dict[str, Any]]]](hass, 1, "bench_single_file")
    payload = {"records": [r.to_dict() for r in loaded]}
    await single.async_save(payload)
    began = time.perf_counter()
    payload["records"].append(extra.to_dict())
    await single.async_save(payload)
    single_s = time.perf_counter() - began
    single_bytes = (storage / "bench_single_file").stat().st_size
    await hass.async_stop(force=True)

    mib = 1024 * 1024
    return [
        Row("sessions stored", count, ""),
        Row("month files", len(files) - 1, ""),
        Row("size on disk", total_bytes / mib, "MiB"),
        Row("index size", index_bytes / 1024, "KiB"),
        Row("start-up load (index + snapshots)", startup_s * 1000, "ms"),
        Row("start-up memory kept", startup_mem / 1024, "KiB"),
        Row("full history load", full_s * 1000, "ms"),
        Row("full history memory kept", full_mem / mib, "MiB"),
        Row("full history memory peak", full_peak / mib, "MiB"),
        Row("append one session: first after start-up", first_append_s * 1000, "ms"),
        Row("append one session: time", append_s * 1000, "ms"),
        Row("append one session: bytes written", appended_bytes / 1024, "KiB"),
        Row("  (month file before the append)", segment_bytes / 1024, "KiB"),
        Row("single-file history: time per append", single_s * 1000, "ms"),
        Row("single-file history: bytes per append", single_bytes / 1024, "KiB"),
    ]


def run(count: int = 10_000, months: int = 36) -> list[Row]:
    """Measure in a temporary folder (removed afterwards)."""
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_measure(count, months, Path(folder)))


def rows() -> list[Row]:
    """The default measurement (10,000 sessions over 36 months), for ``scripts/bench``."""
    return run()


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table."""
    width = max(len(row.measure) for row in rows)
    lines = [f"{'measure':<{width}}  {'value':>10}  unit", f"{'-' * width}  {'-' * 10}  ----"]
    for row in rows:
        value = f"{row.value:,.0f}" if row.unit == "" else f"{row.value:,.2f}"
        lines.append(f"{row.measure:<{width}}  {value:>10}  {row.unit}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Run the benchmark, print the table, return the rows (defaults when imported)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args([] if argv is None else argv)
    rows = run(args.sessions, args.months)
    if args.json:
        print(json.dumps([row._asdict() for row in rows]))
    else:
        print(f"Session store, {args.sessions:,} sessions over {args.months} months")
        print(format_table(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
