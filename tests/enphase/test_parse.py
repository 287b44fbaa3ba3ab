"""Defensive parsing: odd or missing fields give None; unrecognizable shapes raise."""

from __future__ import annotations

from datetime import UTC, datetime
import json

import pytest

from custom_components.ev_charging.backends.base import BackendInvalidDataError
from custom_components.ev_charging.backends.enphase.auth import (
    claim,
    jwt_claims,
    jwt_expiry,
    looks_like_login_wall,
)
from custom_components.ev_charging.backends.enphase.data import ChargeMode
from custom_components.ev_charging.backends.enphase.parse import (
    accepted,
    as_bool,
    as_datetime,
    as_float,
    as_int,
    as_str,
    error_code,
    parse_charge_modes,
    parse_live_stream,
    parse_sessions,
    parse_sites,
    parse_status,
    parse_summary,
)
from tests.simulators.enphase_cloud import load


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3.0),
        ("6.5", 6.5),
        (" 7 ", 7.0),
        ("x", None),
        (True, None),
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        ([1], None),
    ],
)
def test_as_float(value: object, expected: float | None) -> None:
    assert as_float(value) == expected


def test_scalar_helpers() -> None:
    assert as_int("3") == 3
    assert as_int(2.5) is None
    assert as_bool(1) is True
    assert as_bool(0.0) is False
    assert as_bool(2) is None
    assert as_bool(" TRUE ") is True
    assert as_bool("maybe") is None
    assert as_bool(None) is None
    assert as_str(12) == "12"
    assert as_str("  ") is None
    assert as_str(True) is None
    assert as_str(1.5) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-14T10:15:00.000Z[UTC]", datetime(2026, 3, 14, 10, 15, tzinfo=UTC)),
        ("2026-03-14T11:15:00+01:00", datetime(2026, 3, 14, 10, 15, tzinfo=UTC)),
        ("2026-03-14T10:15:00", datetime(2026, 3, 14, 10, 15, tzinfo=UTC)),
        (1773483300, datetime(2026, 3, 14, 10, 15, tzinfo=UTC)),
        (1773483300000, datetime(2026, 3, 14, 10, 15, tzinfo=UTC)),
        ("1773483300", datetime(2026, 3, 14, 10, 15, tzinfo=UTC)),
        ("[UTC]", None),
        ("yesterday", None),
        (0, None),
        (1e20, None),
        (None, None),
    ],
)
def test_as_datetime(value: object, expected: datetime | None) -> None:
    assert as_datetime(value) == expected


def test_error_code_shapes() -> None:
    assert error_code(load("start_charging_not_plugged.json")) == (
        "iqevc_ms-10008",
        "Charger is not plugged to EV",
    )
    assert error_code({"errorMessageCode": "x", "message": "y"}) == ("x", "y")
    assert error_code("nonsense") == (None, None)


def test_accepted() -> None:
    assert accepted(load("start_charging_ok.json"))
    assert accepted(load("trigger_message_ok.json"))
    assert accepted(load("live_stream_stop.json"))
    assert not accepted({"status": "rejected"})


def test_sites_shapes() -> None:
    assert parse_sites([{"site_id": 1, "site_name": "A"}, {"siteId": "2"}, {"id": 1}, {}]) == (
        parse_sites({"data": [{"id": 1, "name": "A"}, {"system_id": 2}]})
    )
    assert parse_sites({"systems": []}) == ()
    with pytest.raises(BackendInvalidDataError):
        parse_sites({"unexpected": True})


def test_status_defensive() -> None:
    payload = load("status_charging.json")
    charger = payload["data"]["chargers"][0]
    charger.update(connected="yes", mode="green", session_d={"e_c": "lots"}, connectors=[])
    del charger["pluggedIn"]
    payload["data"]["chargers"].append({"name": "no serial"})
    snapshot = parse_status(payload)
    parsed = snapshot.chargers[0]
    assert len(snapshot.chargers) == 1
    assert parsed.connected is None
    assert parsed.mode is None
    assert parsed.plugged_in is None
    assert parsed.connector_status is None
    assert parsed.session is not None
    assert parsed.session.energy_kwh is None
    assert snapshot.timezone == "Europe/Amsterdam"
    assert snapshot.charger("nope") is None
    with pytest.raises(BackendInvalidDataError):
        parse_status({"data": []})
    with pytest.raises(BackendInvalidDataError):
        parse_status("<html>")


def test_status_green_window_and_empty_session() -> None:
    payload = load("status_plugged_suspended_evse.json")
    charger = payload["data"]["chargers"][0]
    charger["session_d"] = {}
    charger["sch_d"] = {"info": "odd"}
    parsed = parse_status(payload).chargers[0]
    assert parsed.session is None
    assert parsed.green_scheduled is False
    assert parse_status(load("status_plugged_suspended_evse.json")).chargers[0].green_scheduled


def test_summary_fields() -> None:
    (summary,) = parse_summary(load("summary.json"))
    assert summary.serial == "482501234567"
    assert (summary.min_amps, summary.max_amps, summary.amps_step) == (6, 32, 1)
    assert summary.operating_voltage == 230
    assert (summary.phase_mode, summary.phase_count) == (3, 3)
    assert summary.firmware == "25.37.1.14"
    assert summary.hardware == "2.0.713.0"
    assert summary.model == "IQ-EVSE-EU-3032"
    assert summary.model_id == "IQ-EVSE-EU-3032-0105-1300"
    assert summary.active_connection == "ethernet"
    assert summary.ip_address == "192.168.1.57"
    assert summary.reporting_interval == 300
    assert summary.lifetime_energy_kwh == pytest.approx(1482.31572)
    assert summary.dlb_enabled is True
    assert summary.last_reported_at == datetime(2026, 3, 14, 10, 14, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("network", "ip", "mac"),
    [
        (
            json.dumps([{"ipaddr": "10.0.0.2", "mac": "aa", "connectionStatus": "1"}]),
            "10.0.0.2",
            "aa",
        ),
        ("[\nnetmask=,ipaddr=10.0.0.3,connectionStatus=1,mac_addr=bb\n]", "10.0.0.3", "bb"),
        ([{"ip": "10.0.0.4", "connectionStatus": "0"}], None, None),
        ("not a list", None, None),
        (42, None, None),
    ],
)
def test_summary_network_config(network: object, ip: str | None, mac: str | None) -> None:
    (summary,) = parse_summary({"data": [{"serialNumber": "1", "networkConfig": network}]})
    assert (summary.ip_address, summary.mac_address) == (ip, mac)


def test_summary_shapes() -> None:
    single = parse_summary(load("status_v2_keyed.json") | {"data": {"serialNumber": "9"}})
    assert [s.serial for s in single] == ["9"]
    retired = parse_summary({"chargers": [{"sn": "1", "isRetired": True}, {"id": "2"}, {}]})
    assert [s.serial for s in retired] == ["2"]
    assert retired[0].lifetime_energy_kwh is None
    nested = parse_summary({"data": {"chargers": [{"serialNumber": "3"}]}})
    assert [s.serial for s in nested] == ["3"]
    with pytest.raises(BackendInvalidDataError):
        parse_summary({"meta": {}})


def test_charge_modes() -> None:
    modes = parse_charge_modes(load("scheduler_mode_smart.json"))
    assert modes.current is ChargeMode.SMART
    assert modes.available == tuple(ChargeMode)
    manual = parse_charge_modes(load("scheduler_mode_manual.json"))
    assert manual.current is ChargeMode.MANUAL
    assert ChargeMode.SMART not in manual.available
    odd = parse_charge_modes(
        {
            "data": {
                "modes": {
                    "greenCharging": {"chargingMode": "??", "enabled": True, "isHidden": True},
                    "manualCharging": "odd",
                }
            }
        }
    )
    assert odd.current is ChargeMode.GREEN
    assert odd.available == ()
    with pytest.raises(BackendInvalidDataError):
        parse_charge_modes(load("scheduler_mode_no_schedules_error.json"))


def test_charge_mode_keys() -> None:
    assert ChargeMode.from_key("green") is ChargeMode.GREEN
    assert ChargeMode.SCHEDULED.key == "scheduled"
    assert ChargeMode.SMART.controls_current
    assert not ChargeMode.MANUAL.controls_current
    with pytest.raises(ValueError, match="turbo"):
        ChargeMode.from_key("turbo")


def test_live_stream_and_sessions() -> None:
    stream = parse_live_stream(load("live_stream_start.json"))
    assert stream.duration_s == 900
    assert stream.topics == ("v1/evse/prod/live-stream/482501234567",)
    assert parse_live_stream({"data": {"liveStreamDuration": -1}}).duration_s == 900
    sessions, more = parse_sessions(load("sessions_today.json"))
    assert not more
    assert sessions[0].energy_kwh == pytest.approx(21.37)
    assert sessions[0].start == datetime(2026, 3, 14, 0, 5, 12, tzinfo=UTC)
    assert sessions[0].active_charge_time_s == 12911
    assert parse_sessions(load("sessions_empty.json")) == ((), False)
    with pytest.raises(BackendInvalidDataError):
        parse_sessions({"data": {}})


def test_jwt_helpers() -> None:
    token = load("login_success.json")["manager_token"]
    claims = jwt_claims(token)
    assert claim(claims, "user_id") == "7654321"
    assert claim({"data": {"userId": 5}}, "user_id", "userId") == "5"
    assert claim({}, "user_id") is None
    assert jwt_expiry(token) == 1773569700
    assert jwt_claims(None) == {}
    assert jwt_claims("a.!!!.c") == {}
    assert jwt_claims("a.WzFd.c") == {}  # a list, not claims


def test_login_wall_detection() -> None:
    assert looks_like_login_wall("<!DOCTYPE html><form action='/login/login'>")
    assert not looks_like_login_wall("<html><body>maintenance</body></html>")
    assert not looks_like_login_wall('{"json": "/login/login"}')
