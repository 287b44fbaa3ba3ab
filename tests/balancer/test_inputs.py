"""Configuration checks, state-string parsing and meter interpretation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.ev_charging.balancer.allocation import (
    Claim,
    PowerClaim,
    allocate,
    floor_to_step,
    share_power,
)
from custom_components.ev_charging.balancer.loads import phase_voltages, reading_valid
from custom_components.ev_charging.balancer.model import (
    BalancerConfig,
    ChargerConfig,
    ChargerTelemetry,
    MeterKind,
    MeterReading,
    SiteConfig,
)
from custom_components.ev_charging.balancer.readings import (
    is_unavailable,
    parse_number,
    to_amps,
    to_watts,
)
from custom_components.ev_charging.models import ChargerState, ChargerStatus, Phases


@pytest.mark.parametrize(
    "changes",
    [
        {"phases": 2},
        {"phase_limits": (32.0, 32.0)},
        {"phase_limits": (0.0,)},
        {"margin": -1.0},
        {"voltage": 0.0},
        {"power_limit": 0.0},
        {"stale_after": 0.0},
        {"stop_after": -1.0},
    ],
)
def test_site_config_rejects_impossible_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SiteConfig(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"phases": 2},
        {"rotation": (0, 0, 1)},
        {"min_current": 0.0},
        {"min_current": 20.0, "max_current": 16.0},
        {"step": 0.0},
        {"weight": 0.0},
        {"fallback_current": -1.0},
        {"phase_switching": True},
    ],
)
def test_charger_config_rejects_impossible_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ChargerConfig(charger_id="a", **changes)  # type: ignore[arg-type]


def test_balancer_config_rejects_duplicates_and_missing_phases() -> None:
    with pytest.raises(ValueError, match="unique"):
        BalancerConfig(chargers=(ChargerConfig(charger_id="a"), ChargerConfig(charger_id="a")))
    with pytest.raises(ValueError, match="phase the site does not have"):
        BalancerConfig(chargers=(ChargerConfig(charger_id="a", rotation=(1, 2, 0)),))
    with pytest.raises(ValueError, match="phase the site does not have"):
        BalancerConfig(chargers=(ChargerConfig(charger_id="a", phases=3),))


def test_charger_config_helpers() -> None:
    switchable = ChargerConfig(charger_id="a", phases=3, rotation=(2, 0, 1), phase_switching=True)
    assert switchable.site_phases(1) == (2,)
    assert switchable.site_phases(3) == (2, 0, 1)
    assert ChargerConfig(charger_id="b", can_set_current=False, max_current=16.0).lowest == 16.0


def test_telemetry_from_the_normalized_charger_model() -> None:
    state = ChargerState(
        status=ChargerStatus.CHARGING,
        power=3680.0,
        currents=Phases(16.0, None, None),
        current_offered=16.0,
        current_limit=20.0,
        session_energy=4.2,
        active_phases=1,
        session_start=datetime(2026, 1, 1, tzinfo=UTC),
    )
    telemetry = ChargerTelemetry.from_charger_state("a", state)
    assert telemetry == ChargerTelemetry(
        charger_id="a",
        status=ChargerStatus.CHARGING,
        online=True,
        currents=(16.0, None, None),
        power=3680.0,
        offered=16.0,
        commanded=20.0,
        active_phases=1,
        session_energy=4.2,
    )
    estimated = ChargerState(status=ChargerStatus.OFFLINE, power=100.0, power_estimated=True)
    offline = ChargerTelemetry.from_charger_state("a", estimated, commanded=8.0)
    assert (offline.online, offline.power, offline.currents, offline.commanded) == (
        False,
        None,
        None,
        8.0,
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("12.5", 12.5),
        (" -3 ", -3.0),
        (7, 7.0),
        ("abc", None),
        ("nan", None),
        ("inf", None),
        ("unavailable", None),
        ("Unknown", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_parse_number(state: str | float | None, expected: float | None) -> None:
    assert parse_number(state) == expected


def test_units_and_unavailable_states() -> None:
    assert to_watts("7.36", "kW") == pytest.approx(7360.0)
    assert to_watts("7360", None) == 7360.0
    assert to_watts("0.01", "MW") == pytest.approx(10_000.0)
    assert to_watts("1", "BTU/h") is None
    assert to_watts("abc", "W") is None
    assert to_amps("1500", "mA") == pytest.approx(1.5)
    assert to_amps("16", None) == 16.0
    assert to_amps("16", "kA") is None
    assert to_amps("x", "A") is None
    assert is_unavailable("unavailable")
    assert is_unavailable(None)
    assert not is_unavailable("3")


def test_meter_reading_validity_per_kind() -> None:
    three = SiteConfig(phases=3, phase_limits=(25.0, 25.0, 25.0))
    assert reading_valid(three, MeterReading(0.0, (1.0, 2.0, 3.0)))
    assert not reading_valid(three, MeterReading(0.0, (1.0, 2.0)))
    assert not reading_valid(three, MeterReading(0.0, (1.0, None, 3.0)))
    assert not reading_valid(three, MeterReading(0.0, (1.0, 900.0, 3.0)))  # > 200 kW / 230 V
    total = SiteConfig(meter_kind=MeterKind.TOTAL_POWER)
    assert reading_valid(total, MeterReading(0.0, (-200_000.0,)))
    assert not reading_valid(total, MeterReading(0.0, (-200_001.0,)))
    assert not reading_valid(total, MeterReading(0.0, (float("inf"),)))


def test_measured_voltages_are_used_only_when_plausible() -> None:
    three = SiteConfig(phases=3, phase_limits=(25.0, 25.0, 25.0))
    reading = MeterReading(0.0, (0.0, 0.0, 0.0), voltages=(241.0, 50.0, float("nan")))
    assert phase_voltages(three, reading) == (241.0, 230.0, 230.0)
    short = MeterReading(0.0, (0.0, 0.0, 0.0), voltages=(235.0,))
    assert phase_voltages(three, short) == (235.0, 230.0, 230.0)
    assert phase_voltages(three, None) == (230.0, 230.0, 230.0)


def test_allocation_helpers() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        allocate(
            [
                Claim(charger_id="a", phases=(0,), demand=10, min_current=6),
                Claim(charger_id="a", phases=(0,), demand=10, min_current=6),
            ],
            [32.0],
        )
    assert floor_to_step(15.999999999999, 1.0) == 16.0
    assert floor_to_step(6.15, 0.1) == 6.1
    assert allocate([], [32.0]) == {}
    assert allocate([Claim(charger_id="a", phases=(0,), demand=5, min_current=6)], [32]) == {
        "a": 0.0
    }
    shares = share_power(
        [
            PowerClaim(charger_id="a", demand=4000.0, minimum=1380.0),
            PowerClaim(charger_id="b", demand=4000.0, minimum=1380.0),
        ],
        2000.0,
    )
    assert shares == {"a": 2000.0, "b": 0.0}
