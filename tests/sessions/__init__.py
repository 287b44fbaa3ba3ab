"""Tests of the session cores, and the helpers they share.

The scenario fixtures describe a go-e charger as Home Assistant entities; ``row_state``
maps one timeline row onto the normalized ``ChargerState`` a backend would produce:
plug off -> available, plug on -> plugged / charging / suspended by car status,
``unavailable`` -> unknown with nothing measured, trx ``null`` -> no tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.ev_charging.models import ChargerState, ChargerStatus
from custom_components.ev_charging.sessions.directory import Directory, TagScheme
from custom_components.ev_charging.sessions.engine import EngineConfig, SessionEngine
from custom_components.ev_charging.sessions.events import SessionEvent
from custom_components.ev_charging.sessions.pricing import Tariff, tariff_from_config
from custom_components.ev_charging.sessions.spot_prices import parse_spot_attributes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sessions"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
GOE_TAGS = TagScheme(index_offset=1, open_access_tags=frozenset({"0"}))
CHARGER = "goe_abc123"

_CAR_STATUS = {
    "Charging": ChargerStatus.CHARGING,
    "Complete": ChargerStatus.SUSPENDED_EV,
}


def ts(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text).astimezone(UTC)


def load_fixture(name: str) -> dict[str, Any]:
    """One scenario file of ``tests/fixtures/sessions``."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _number(value: object) -> float | None:
    return None if value == "unavailable" or value is None else float(str(value))


def row_state(row: Mapping[str, Any]) -> ChargerState:
    """The normalized charger state for one fixture timeline row."""
    if row["plug"] == "unavailable":
        return ChargerState(status=ChargerStatus.UNKNOWN)
    if row["plug"] == "off":
        status = ChargerStatus.AVAILABLE
    else:
        status = _CAR_STATUS.get(row["car_status"], ChargerStatus.PLUGGED)
    rfid = row["rfid"]
    return ChargerState(
        status=status,
        vendor_status=row["car_status"],
        power=_number(row["power_w"]),
        session_energy=_number(row["energy_kwh"]),
        lifetime_energy=_number(row["total_energy_kwh"]),
        rfid_tag=None if rfid in ("null", "unavailable") else rfid,
    )


def fixture_directory(config: Mapping[str, Any]) -> Directory:
    """The lookup table of a fixture (card index = go-e slot)."""
    return Directory.from_dict(
        {
            "users": config["users"],
            "vehicles": config["vehicles"],
            "cards": [
                {
                    "index": m["card_index"],
                    "user_id": m["user_id"],
                    "vehicle_id": m.get("vehicle_id"),
                    "active": m.get("active", True),
                }
                for m in config["rfid_mappings"]
            ],
        }
    )


def fixture_engine_config(fixture: Mapping[str, Any]) -> EngineConfig:
    """Engine settings from a fixture's config and assumptions."""
    assumptions = fixture["assumptions"]
    return EngineConfig(
        charger_id=CHARGER,
        directory=fixture_directory(fixture["config"]),
        tag_scheme=GOE_TAGS,
        min_session_s=float(assumptions["min_session_duration_s"]),
        min_session_kwh=float(assumptions["min_session_energy_wh"]) / 1000,
    )


def fixture_tariff(
    pricing: Mapping[str, Any], *, currency: str = "SEK", now: datetime | None = None
) -> Tariff:
    """A tariff from a fixture's pricing block (spot lists read from its attributes)."""
    spot = None
    if pricing["mode"] == "spot":
        spot = parse_spot_attributes(
            pricing["attributes"], tz=STOCKHOLM, now=now or ts("2026-03-10T12:00:00Z")
        )
    return tariff_from_config(pricing, currency=currency, timezone=STOCKHOLM, spot_prices=spot)


def replay(
    engine: SessionEngine, rows: Iterable[Mapping[str, Any]], **kwargs: Any
) -> list[SessionEvent]:
    """Feed rows in order and collect the events."""
    events: list[SessionEvent] = []
    for row in rows:
        events.extend(engine.update(row_state(row), ts(row["t"]), **kwargs).events)
    return events


def kinds(events: Iterable[SessionEvent]) -> list[str]:
    """The event types, in order, without the periodic updates."""
    return [e.kind.value for e in events if e.kind.value != "session_updated"]


T0 = ts("2026-03-10T10:00:00Z")


def at(seconds: float) -> datetime:
    """``T0`` plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def state(
    status: ChargerStatus = ChargerStatus.PLUGGED,
    *,
    power: float | None = None,
    session: float | None = None,
    lifetime: float | None = None,
    tag: str | None = None,
    transaction: str | None = None,
) -> ChargerState:
    """A charger reading for hand-written timelines."""
    return ChargerState(
        status=status,
        power=power,
        session_energy=session,
        lifetime_energy=lifetime,
        rfid_tag=tag,
        transaction_id=transaction,
    )
