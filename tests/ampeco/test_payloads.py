"""Parsing of the driver-app payloads: fields, units, and defensive reading."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ev_charging.backends.ampeco.api import normalize_host
from custom_components.ev_charging.backends.ampeco.payloads import (
    as_float,
    as_str,
    error_message,
    parse_charge_point,
    parse_charge_point_body,
    parse_charge_point_list,
    parse_evse,
    parse_history,
    parse_profile,
    parse_session,
    parse_session_body,
)
from custom_components.ev_charging.backends.base import BackendInvalidDataError

from . import fixture


def test_charging_charge_point_fields_and_units() -> None:
    point = parse_charge_point_body(fixture("charge_point_charging.json"))
    assert point.id == "HMC0012345"
    assert point.name == "Garage Charger"
    assert point.status == "available"
    assert point.firmware == "5.8.1-2210"
    assert point.max_current_a == 16
    assert point.allowed_min_current_a == 6
    assert point.allowed_max_current_a == 16
    assert point.allowed_max_power_w == 11000.0  # "11.0" kW
    assert point.last_month_energy_kwh == pytest.approx(142.608)
    assert point.last_month_cost == 0.0
    (evse,) = point.evses
    assert (evse.id, evse.identifier, evse.status) == ("58231", "4107", "charging")
    assert evse.max_power_w == 11040.0
    assert evse.current_type == "ac"
    assert evse.connector_name == "Type 2"
    session = evse.session
    assert session is not None
    assert session.id == "902114"
    assert session.status == "active"
    assert session.active
    assert session.power_w == 7215.0  # W stays W
    assert session.energy_kwh == pytest.approx(5.231)  # Wh -> kWh
    assert session.duration_s == 2712.0
    assert session.power_avg_w == pytest.approx(6944.2)
    assert session.amount == pytest.approx(1.31)
    assert session.currency == "EUR"
    assert session.evse_identifier == "4107"
    assert session.charging_state == "charging"
    assert session.started_at == datetime(2025, 6, 12, 17, 5, 10, tzinfo=UTC)
    assert session.stopped_at is None
    assert evse.active_session is session


def test_idle_charge_point_has_no_session() -> None:
    point = parse_charge_point_body(fixture("charge_point_idle.json"))
    assert point.evses[0].session is None
    assert point.evses[0].active_session is None


def test_list_and_evse_fixture() -> None:
    points = parse_charge_point_list(fixture("charge_points_list.json"))
    assert [p.id for p in points] == ["HMC0012345"]
    evse = parse_evse(fixture("evse_status.json"))
    assert evse is not None
    assert evse.status == "charging"
    assert evse.session is not None
    assert evse.session.energy_kwh == pytest.approx(5.231)


@pytest.mark.parametrize(
    ("power", "energy", "watts", "kwh"),
    [
        (800, 90, 800.0, 0.09),  # small values are not mistaken for kW / kWh
        (3481, 489, 3481.0, 0.489),
        ("7215", "5231", 7215.0, 5.231),  # numeric strings
        (0, 0, 0.0, 0.0),
        (11.0, 10.5, 11.0, 0.0105),  # romci's kW-looking test values are still W / Wh
    ],
)
def test_units_are_always_converted(power: Any, energy: Any, watts: float, kwh: float) -> None:
    session = parse_session({"id": 1, "power": power, "energy": energy, "duration": 61})
    assert session is not None
    assert session.id == "1"
    assert session.power_w == watts
    assert session.energy_kwh == pytest.approx(kwh)
    assert session.duration_s == 61.0


def test_session_detail_history_and_start_stop_bodies() -> None:
    detail = parse_session_body(fixture("session_detail.json"))
    assert detail is not None
    assert detail.status == "finished"
    assert detail.active is False
    started = parse_session_body(fixture("session_start_ok.json"))
    assert started is not None
    assert (started.id, started.status, started.charging_state) == ("902115", "pending", None)
    stopping = parse_session_body(fixture("session_stop_ok.json"))
    assert stopping is not None
    assert stopping.status == "stopping"
    assert stopping.active
    history = parse_history(fixture("session_history.json"))
    assert [h.session.id for h in history] == ["902114", "901877"]
    assert history[0].session.energy_kwh == pytest.approx(6.431)
    assert history[0].session.stop_reason == "remote"
    assert history[0].session.stopped_at == datetime(2025, 6, 12, 18, 0, 30, tzinfo=UTC)
    assert history[0].note == "Garage Charger"
    assert history[0].type == "private"
    assert parse_session_body({"session": None}) is None
    active = parse_session_body(fixture("session_active.json"))
    assert active is not None
    assert (active.status, active.power_w) == ("active", 7215.0)


def test_profile() -> None:
    profile = parse_profile(fixture("profile.json"))
    assert profile.id == "48213"
    assert profile.email == "driver@example.invalid"
    assert (profile.first_name, profile.last_name) == ("Test", "Driver")
    assert parse_profile({"data": {"id": "7"}}).id == "7"
    with pytest.raises(BackendInvalidDataError):
        parse_profile({"email": "x"})


def test_defensive_reading_of_odd_values() -> None:
    point = parse_charge_point(
        {
            "id": 42,
            "evses": [
                {"id": "1", "connectors": [], "maxPower": "n/a", "session": {"power": 5}},
                {"name": "no id"},
                "garbage",
            ],
            "allowed_max_power_kw": None,
            "max_current_a": True,
            "last_month_energy_kwh": "NaN",
        }
    )
    assert point is not None
    assert point.id == "42"
    assert point.name == "42"  # no name: the id stands in
    assert len(point.evses) == 1
    evse = point.evses[0]
    assert evse.connector_name is None
    assert evse.max_power_w is None
    assert evse.session is None  # a session without an id is no session
    assert point.allowed_max_power_w is None
    assert point.max_current_a is None  # a bool is not a number
    assert point.last_month_energy_kwh is None
    assert parse_charge_point({"name": "no id"}) is None
    session = parse_session(
        {
            "id": "s",
            "startedAt": "not a date",
            "currency": "DKK",
            "stoppedAt": "2025-06-01T10:00:00",
        }
    )
    assert session is not None
    assert session.started_at is None
    assert session.stopped_at == datetime(2025, 6, 1, 10, tzinfo=UTC)  # naive means UTC
    assert session.currency == "DKK"
    assert session.active  # no status: not known to have ended


@pytest.mark.parametrize(
    ("value", "text", "number"),
    [
        ("  abc ", "abc", None),
        ("", None, None),
        (12, "12", 12.0),
        (12.5, "12.5", 12.5),
        (3.0, "3", 3.0),
        (float("inf"), None, None),
        (None, None, None),
        (False, None, None),
        ([1], None, None),
        (" 7.5 ", "7.5", 7.5),
    ],
)
def test_field_readers(value: Any, text: str | None, number: float | None) -> None:
    assert as_str(value) == text
    assert as_float(value) == number


@pytest.mark.parametrize(
    "body",
    [[], "x", None, {"data": {}}, {"data": "x"}, {"nodata": []}],
)
def test_unreadable_list_bodies_raise(body: Any) -> None:
    with pytest.raises(BackendInvalidDataError):
        parse_charge_point_list(body)


@pytest.mark.parametrize("body", [[], {"data": {"name": "x"}}, {"data": None}])
def test_unreadable_charge_point_bodies_raise(body: Any) -> None:
    with pytest.raises(BackendInvalidDataError):
        parse_charge_point_body(body)


def test_unreadable_history_raises_and_bad_rows_are_skipped() -> None:
    with pytest.raises(BackendInvalidDataError):
        parse_history({"session_history": {}})
    rows = parse_history({"session_history": [{"session": {"id": "1"}}, {"session": {}}, 3]})
    assert [r.session.id for r in rows] == ["1"]


def test_error_messages() -> None:
    assert error_message(fixture("error_422_validation.json")) == "The selected evse id is invalid."
    assert error_message(fixture("oauth_token_invalid_client.json")) == (
        "Client authentication failed"
    )
    assert error_message({"error_description": "desc"}) == "desc"
    assert error_message({"errors": {"x": []}, "error": "code"}) == "code"
    assert error_message(None) == ""


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("drivee.eu.charge.ampeco.tech", "https://drivee.eu.charge.ampeco.tech"),
        ("https://drivee.eu.charge.ampeco.tech/", "https://drivee.eu.charge.ampeco.tech"),
        ("https://x.charge.ampeco.tech/api/v1/", "https://x.charge.ampeco.tech"),
        (" http://127.0.0.1:18081/api/v1 ", "http://127.0.0.1:18081"),
    ],
)
def test_normalize_host(typed: str, normalized: str) -> None:
    assert normalize_host(typed) == normalized


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_SESSION_KEYS = ("id", "power", "energy", "startedAt", "currency")
_CHARGE_POINT = st.fixed_dictionaries(
    {},
    optional={
        "id": _JSON,
        "name": _JSON,
        "status": _JSON,
        "max_current_a": _JSON,
        "allowed_max_power_kw": _JSON,
        "evses": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": _JSON,
                    "status": _JSON,
                    "connectors": _JSON,
                    "session": st.fixed_dictionaries(
                        {},
                        optional=dict.fromkeys(
                            ("id", "power", "energy", "startedAt", "currency"), _JSON
                        ),
                    ),
                },
            ),
            max_size=2,
        ),
    },
)


@settings(max_examples=150, deadline=None)
@given(body=st.one_of(_JSON, st.fixed_dictionaries({"data": st.lists(_CHARGE_POINT, max_size=3)})))
def test_any_json_parses_or_raises_invalid_data(body: Any) -> None:
    try:
        points = parse_charge_point_list(body)
    except BackendInvalidDataError:
        return
    for point in points:
        assert point.id
        for evse in point.evses:
            assert evse.id
            if evse.session is not None and evse.session.energy_kwh is not None:
                assert evse.session.energy_kwh == evse.session.energy_kwh  # never NaN
