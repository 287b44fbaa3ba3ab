"""The tracker's pure helpers: periods text, totals, hourly shares, exports, the directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.models import ChargerStatus
from custom_components.ev_charging.sessions.aggregates import (
    BUCKET_GUESTS,
    Totals,
    aggregate,
    deviation_pct,
)
from custom_components.ev_charging.sessions.directory import (
    Attribution,
    Directory,
    User,
    UserType,
)
from custom_components.ev_charging.sessions.engine import EngineConfig, SessionEngine
from custom_components.ev_charging.sessions.export import render
from custom_components.ev_charging.sessions.periods import (
    PeriodError,
    format_periods,
    parse_periods,
)
from custom_components.ev_charging.sessions.pricing import GuestPricingMethod
from custom_components.ev_charging.sessions.records import DataQuality, SessionRecord
from custom_components.ev_charging.sessions.settings import (
    Settings,
    build_directory,
    guest_pricing,
    tag_scheme,
)
from custom_components.ev_charging.sessions.statistics import hourly_shares, series_for

from . import at, state

T = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def test_periods_round_trip() -> None:
    """Text -> periods -> text; days as ranges, lists and ranges across Sunday."""
    text = "22:00-7:00 0.12\n07:00-22:00 0,3 mon-fri; 8:00-12:00 0.2 sat-mon,wed"
    periods = parse_periods(text)
    assert periods == [
        {"start": "22:00", "end": "07:00", "price": 0.12, "weekdays": list(range(7))},
        {"start": "07:00", "end": "22:00", "price": 0.3, "weekdays": [0, 1, 2, 3, 4]},
        {"start": "08:00", "end": "12:00", "price": 0.2, "weekdays": [0, 2, 5, 6]},
    ]
    assert format_periods(periods) == (
        "22:00-07:00 0.12\n07:00-22:00 0.3 mon,tue,wed,thu,fri\n08:00-12:00 0.2 mon,wed,sat,sun"
    )
    assert parse_periods(format_periods(periods)) == periods


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("25:00-07:00 0.1", 1),
        ("22:00-07:00 0.1 someday", 1),
        ("22:00-07:00 0.1 mon-xyz", 1),
        ("08:00-09:00 0.1\n22:00-07:00 -1", 2),
        ("22:00-07:00 cheap", 1),
        ("every night", 1),
    ],
)
def test_periods_errors_name_the_line(text: str, line: int) -> None:
    """A bad line is reported by number."""
    with pytest.raises(PeriodError) as err:
        parse_periods(text)
    assert err.value.line == line


def _record(**changes: object) -> SessionRecord:
    values: dict[str, object] = {
        "id": "c-1",
        "charger_id": "c",
        "plugged_in_at": T,
        "started_at": T,
        "ended_at": T + timedelta(minutes=90),
        "energy_kwh": 3.0,
        "cost": 0.9,
    }
    return SessionRecord(**(values | changes))  # type: ignore[arg-type]


def test_hourly_shares_follow_the_charging_time() -> None:
    """Charging 10:30-12:00: a third in the first hour; no charging time: the session."""
    charging = _record(
        charging_started_at=T + timedelta(minutes=30), charging_ended_at=T + timedelta(hours=2)
    )
    assert hourly_shares(charging) == [
        (T, pytest.approx(1 / 3)),
        (T + timedelta(hours=1), pytest.approx(2 / 3)),
    ]
    assert hourly_shares(_record()) == [(T, pytest.approx(2 / 3)), (T + timedelta(hours=1), 1 / 3)]
    instant = _record(ended_at=T + timedelta(minutes=5), started_at=T + timedelta(minutes=5))
    assert hourly_shares(instant) == [(T, 1.0)]


def test_totals_and_deviation() -> None:
    """Guests count in their own bucket; the deviation is relative to the larger reading."""
    guest = _record(user_id="g", user_type=UserType.GUEST, guest_price=1.5)
    totals = aggregate([guest, _record(id="c-2", cost=None)])
    assert totals[BUCKET_GUESTS].billed == 1.5
    assert totals["all"].cost == 0.9
    assert totals["all"].average_kwh == 3.0
    assert Totals().average_kwh is None
    assert Totals.from_dict({"sessions": 2, "last": "garbage"}) == Totals(sessions=2)
    assert deviation_pct(None) is None
    assert deviation_pct({"counter_kwh": None, "energy_kwh": 1}) is None
    assert deviation_pct({"counter_kwh": 0.0, "energy_kwh": 0.0}) == 0.0
    assert deviation_pct({"counter_kwh": 10.0, "energy_kwh": 9.0}) == 10.0


def test_statistics_series_only_for_users_and_the_unassigned() -> None:
    """A deleted user (or the guests together) has no statistics of its own."""
    directory = Directory(users=(User(id="u1", name="Ana María"),))
    series = series_for("user:u1", directory)
    assert series is not None
    assert (series.energy_id, series.cost_id) == (
        "ev_charging:user_ana_maria_energy",
        "ev_charging:user_ana_maria_cost",
    )
    assert series_for("user:gone", directory) is None
    assert series_for(BUCKET_GUESTS, directory) is None


def test_export_renders_csv_and_json() -> None:
    """CSV: a header and flat rows; JSON: the full records."""
    record = _record(flags=frozenset({DataQuality.REASSIGNED, DataQuality.COUNTER_RESET}))
    lines = render([record], "csv").splitlines()
    assert lines[0].startswith("id,charger_id,user_id,user_name")
    assert lines[1].endswith(",counter_reset;reassigned")
    assert '"energy_kwh": 3.0' in render([record], "json")


def test_settings_and_directory_from_the_entry() -> None:
    """Defaults, guest pricing inheritance, cards without UID or slot are skipped."""
    settings = Settings.from_options({})
    assert settings.tariff == {"mode": "static", "price_per_kwh": 0.0}
    assert settings.retention_months == 36
    assert guest_pricing("fixed", None) is None
    assert guest_pricing("none", 1) is None
    household = guest_pricing("markup", "1.2")
    assert household is not None
    assert household.method is GuestPricingMethod.MARKUP
    entry = MockConfigEntry(
        domain=DOMAIN,
        subentries_data=[
            {
                "subentry_id": "g",
                "subentry_type": "user",
                "title": "G",
                "unique_id": "user_g",
                "data": {"name": "G", "type": "guest", "guest_method": "default"},
            },
            {
                "subentry_id": "empty",
                "subentry_type": "card",
                "title": "?",
                "unique_id": "card_empty",
                "data": {"uid": " ", "user_id": "g"},
            },
            {
                "subentry_id": "slot",
                "subentry_type": "card",
                "title": "#2",
                "unique_id": "card_c_2",
                "data": {"index": 2, "charger_id": "c", "user_id": "g"},
            },
        ],
    )
    directory = build_directory(entry, household)
    assert directory.users[0].guest_pricing == household
    assert len(directory.cards) == 1
    assert tag_scheme(directory, "c").index_offset == 0
    assert tag_scheme(directory, "other").index_offset is None
    resolved = directory.resolve("2", charger_id="c", scheme=tag_scheme(directory, "c"))
    assert resolved.user_id == "g"


def test_engine_assign_attributes_the_running_session() -> None:
    """Assigned by hand: kept against later cards; nothing to assign without a session."""
    engine = SessionEngine(EngineConfig(charger_id="c"))
    user = User(id="u", name="U")
    assert engine.assign(Attribution.for_user(user), at(0)).events == ()
    engine.update(state(ChargerStatus.CHARGING, power=7000, lifetime=100.0), at(0))
    step = engine.assign(Attribution.for_user(user), at(30))
    assert step.persist
    engine.update(state(ChargerStatus.CHARGING, power=7000, lifetime=100.2, tag="AB"), at(60))
    progress = engine.progress(at(60))
    assert progress is not None
    assert progress.user_id == "u"
    assert DataQuality.REASSIGNED in progress.flags
