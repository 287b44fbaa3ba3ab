"""Session exports: CSV (one flat row per session) or JSON (the full records)."""

from __future__ import annotations

from collections.abc import Sequence
import csv
import io
import json
from pathlib import Path
from typing import Any

from .records import SessionRecord

FORMAT_CSV = "csv"
FORMAT_JSON = "json"
FORMATS = (FORMAT_CSV, FORMAT_JSON)

CSV_COLUMNS = (
    "id",
    "charger_id",
    "user_id",
    "user_name",
    "user_type",
    "vehicle_name",
    "card_uid",
    "card_index",
    "unknown_reason",
    "plugged_in_at",
    "started_at",
    "ended_at",
    "plugged_out_at",
    "connection_seconds",
    "charging_seconds",
    "energy_kwh",
    "average_power_w",
    "max_power_w",
    "cost",
    "currency",
    "price_source",
    "guest_price",
    "soc_added_pct",
    "lifetime_start_kwh",
    "lifetime_end_kwh",
    "flags",
)


def render(records: Sequence[SessionRecord], fmt: str) -> str:
    """The export file's text."""
    if fmt == FORMAT_JSON:
        return json.dumps(
            {"sessions": [r.to_dict() for r in records]}, indent=2, ensure_ascii=False
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(_row(record.to_dict()))
    return buffer.getvalue()


def _row(data: dict[str, Any]) -> dict[str, Any]:
    row = {column: data.get(column) for column in CSV_COLUMNS}
    row["flags"] = ";".join(data["flags"])
    return {key: "" if value is None else value for key, value in row.items()}


def write_file(path: Path, text: str) -> None:
    """Write the export (in the executor: blocking file I/O)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
