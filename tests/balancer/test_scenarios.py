"""The 45 numbered scenarios of the balancer specification, one test each.

Defaults unless a test says otherwise: 230 V, one phase, a 32 A limit, no margin,
chargers 6..32 A in 1 A steps, the meter includes the cars, a 15 s hold before the
first increase, then 4 A steps every 10 s.
"""

from __future__ import annotations

import math
import random

import pytest

from custom_components.ev_charging.balancer.algorithm import needs_command, step
from custom_components.ev_charging.balancer.allocation import Claim, allocate
from custom_components.ev_charging.balancer.model import (
    BalancerConfig,
    ChargeMode,
    ChargerConfig,
    ChargerTelemetry,
    EventType,
    Inputs,
    MeterKind,
    MeterReading,
    OperatingState,
    SiteConfig,
    SolarConfig,
    TargetReason,
    TotalPowerSplit,
    Tuning,
    initial_state,
)
from custom_components.ev_charging.balancer.readings import parse_number, to_watts
from custom_components.ev_charging.models import ChargerStatus

from .sim import Car, Sim

V = 230.0


def site(**changes: object) -> SiteConfig:
    """The scenarios' site: one phase, 32 A, no margin."""
    values: dict[str, object] = {"margin": 0.0}
    values.update(changes)
    return SiteConfig(**values)  # type: ignore[arg-type]


def config(*chargers: ChargerConfig, **changes: object) -> BalancerConfig:
    values: dict[str, object] = {"site": site(), "chargers": chargers}
    values.update(changes)
    return BalancerConfig(**values)  # type: ignore[arg-type]


def charger(key: str = "a", **changes: object) -> ChargerConfig:
    return ChargerConfig(charger_id=key, **changes)  # type: ignore[arg-type]


def claim(key: str, demand: float = 32.0, **changes: object) -> Claim:
    values: dict[str, object] = {"phases": (0,), "min_current": 6.0}
    values.update(changes)
    return Claim(charger_id=key, demand=demand, **values)  # type: ignore[arg-type]


def solar_sim(mode: ChargeMode = ChargeMode.SOLAR, export_w: float = 0.0, **solar: object) -> Sim:
    """A one-phase site metered by total power, a plugged car in a surplus mode."""
    cfg = config(
        charger("a", mode=mode),
        site=site(meter_kind=MeterKind.TOTAL_POWER),
        solar=SolarConfig(**solar),  # type: ignore[arg-type]
    )
    return Sim(cfg, house=[-export_w / V, 0.0, 0.0], cars={"a": Car(ChargerStatus.PLUGGED)})


# --------------------------------------------------------------------------- core maths


def test_s01_idle_car_gets_limit_minus_house_load_ramping_from_the_minimum() -> None:
    sim = Sim(
        config(charger(), site=site(meter_kind=MeterKind.TOTAL_POWER)),
        house=[2300.0 / V, 0.0, 0.0],
        cars={"a": Car(ChargerStatus.PLUGGED)},
    )
    first = sim.tick()
    assert first.available == pytest.approx((22.0,))
    assert first.targets["a"].allocated == 22.0
    assert first.targets["a"].current == 6.0  # a new car starts at its minimum
    sim.run_until(60)
    assert sim.changes("a") == [(0.0, 6.0), (15.0, 10.0), (25.0, 14.0), (35.0, 18.0), (45.0, 22.0)]


def test_s02_car_measured_at_16_with_32_metered_is_steady_and_sends_nothing() -> None:
    sim = Sim(
        config(charger(), site=site(meter_kind=MeterKind.TOTAL_POWER)),
        house=[16.0, 0.0, 0.0],
        cars={"a": Car(offered=16.0)},
    )
    sim.run_until(60)
    for _, decision in sim.history:
        assert decision.non_ev_load == pytest.approx((16.0,))
        assert decision.targets["a"].current == 16.0
        assert decision.targets["a"].changed is False
        assert decision.events == ()
        assert decision.operating_state is OperatingState.ACTIVE


def test_s03_meter_excluding_the_car_counts_all_metered_load_as_house_load() -> None:
    sim = Sim(
        config(
            charger(),
            site=site(meter_kind=MeterKind.TOTAL_POWER, meter_includes_chargers=False),
        ),
        house=[2300.0 / V, 0.0, 0.0],
        cars={"a": Car(offered=16.0)},
    )
    first = sim.tick()
    assert first.non_ev_load == pytest.approx((10.0,))
    assert first.targets["a"].allocated == 22.0
    sim.run_until(40)
    assert sim.changes("a") == [(15.0, 20.0), (25.0, 22.0)]


def test_s04_car_drawing_below_its_offer_is_estimated_by_measurement_not_command() -> None:
    sim = Sim(config(charger()), house=[10.0, 0.0, 0.0], cars={"a": Car(offered=16.0, draw_cap=10)})
    first = sim.tick()
    # Commanded-current estimate would say house 4 A, available 28: overload when the car ramps.
    assert first.non_ev_load == pytest.approx((10.0,))
    assert first.available == pytest.approx((22.0,))
    assert first.targets["a"].allocated == 22.0
    sim.run_until(59)
    assert max(current for _, current in sim.currents("a")) == 22.0


@pytest.mark.parametrize(
    ("headroom", "expected"), [(15.7, 15.0), (5.9, 0.0), (6.0, 6.0), (40.0, 32.0)]
)
def test_s05_allocation_is_floored_to_the_step_and_paused_below_the_minimum(
    headroom: float, expected: float
) -> None:
    assert allocate([claim("a")], [headroom]) == {"a": expected}
    sim = Sim(config(charger()), house=[32.0 - headroom, 0.0, 0.0], cars={"a": Car(offered=6.0)})
    assert sim.tick().targets["a"].allocated == min(expected, 32.0)


def test_s06_export_never_raises_headroom_above_limit_minus_margin() -> None:
    export = [-10_000.0 / V, 0.0, 0.0]
    for margin, expected in ((0.0, 32.0), (1.0, 31.0)):
        sim = Sim(
            config(charger(), site=site(margin=margin)),
            house=list(export),
            cars={"a": Car(offered=6.0)},
        )
        decision = sim.tick()
        assert decision.non_ev_load == (0.0,)
        assert decision.available == (expected,)
        assert decision.targets["a"].allocated == math.floor(expected)


# --------------------------------------------------------------------------- dynamics


def test_s07_rising_house_load_lowers_the_car_in_the_same_evaluation() -> None:
    sim = Sim(config(charger()), house=[12.0, 0.0, 0.0], cars={"a": Car(offered=20.0)})
    assert sim.tick().targets["a"].current == 20.0
    sim.house[0] = 20.0
    sim.now = 1.0
    decision = sim.tick()
    assert decision.targets["a"].current == 12.0
    assert decision.targets["a"].changed is True
    assert decision.operating_state is OperatingState.OVERLOAD  # the reading was 40 A


def test_s08_ramp_is_timer_driven_without_further_meter_events() -> None:
    cfg = config(charger(), site=site(meter_includes_chargers=False))
    sim = Sim(cfg, house=[20.0, 0.0, 0.0], cars={"a": Car(offered=20.0)})
    assert sim.tick().targets["a"].current == 12.0  # t=0: 20 -> 12
    sim.house[0] = 12.0
    sim.now = 1.0
    sim.tick()  # the last meter report
    sim.meter_live = False
    sim.run_until(29)
    assert all(
        d.state.last_meter is not None and d.state.last_meter.at == 1.0
        for t, d in sim.history
        if t >= 1
    )
    assert sim.changes("a") == [(0.0, 12.0), (16.0, 16.0), (26.0, 20.0)]
    assert sim.target_at("a", 15.0) == 12.0
    holds = [t for t, d in sim.history if d.operating_state is OperatingState.RAMP_HOLD]
    assert holds[0] == 1.0


def test_s09_jitter_inside_the_deadband_sends_no_command() -> None:
    rng = random.Random(9)
    sim = Sim(config(charger()), house=[16.4, 0.0, 0.0], cars={"a": Car(offered=15.0)})
    sim.tick()
    for second in range(1, 301):
        sim.house[0] = 16.4 + rng.uniform(-0.39, 0.39)
        sim.now = float(second)
        sim.tick()
    assert sim.changes("a") == []
    # Jitter straddling 16 A allows an increase now and then, never for 15 s in a row.
    for second in range(301, 601):
        sim.house[0] = 15.7 if second % 2 else 16.3
        sim.now = float(second)
        sim.tick()
    assert sim.changes("a") == []


def test_s10_kettle_cycling_gives_decreases_only_and_recovery_after_it_stops() -> None:
    cfg = config(charger(), tuning=Tuning(spiky_hold_time=None))
    sim = Sim(cfg, house=[10.0, 0.0, 0.0], cars={"a": Car(offered=22.0)})
    sim.tick()
    kettle = 2000.0 / V
    for second in range(1, 200):
        on = 10 <= second < 120 and (second // 10) % 2 == 1
        sim.house[0] = 10.0 + (kettle if on else 0.0)
        sim.now = float(second)
        sim.tick()
    changes = sim.changes("a")
    assert changes == [(10.0, 13.0), (135.0, 17.0), (145.0, 21.0), (155.0, 22.0)]


def test_s11_pause_and_resume_respect_margin_delay_off_time_and_hourly_cap() -> None:
    tuning = Tuning(resume_margin=1.0, resume_delay=60.0, min_off_time=120.0, max_pauses_per_hour=6)
    cfg = config(charger(), tuning=tuning)

    def run(avail_from: float) -> Sim:
        sim = Sim(cfg, house=[28.0, 0.0, 0.0], cars={"a": Car(offered=10.0)})
        decision = sim.tick()  # available 4 A: pause at once
        assert decision.targets["a"].current == 0.0
        assert decision.targets["a"].reason is TargetReason.PAUSED
        assert [e.type for e in decision.events].count(EventType.CHARGING_PAUSED) == 1
        sim.house[0] = 25.5  # 6.5 A: below min + 1
        sim.run_until(avail_from - 1)
        sim.house[0] = 25.0  # 7 A
        sim.run_until(400)
        return sim

    early = run(10.0)  # condition holds from 10 s: off-time (120 s) decides
    assert early.changes("a") == [(0.0, 0.0), (120.0, 6.0), (135.0, 7.0)]
    late = run(100.0)  # condition from 100 s: the 60 s delay decides
    assert late.changes("a") == [(0.0, 0.0), (160.0, 6.0), (175.0, 7.0)]
    never = Sim(cfg, house=[28.0, 0.0, 0.0], cars={"a": Car(offered=10.0)})
    never.tick()
    never.house[0] = 25.5
    never.run_until(600)
    assert never.changes("a") == [(0.0, 0.0)]

    # Pause as soon as it resumes: six cycles, then the seventh pause locks it out.
    sim = Sim(cfg, house=[28.0, 0.0, 0.0], cars={"a": Car(offered=10.0)})
    sim.tick()
    while sim.now < 4000:
        sim.now += 1
        sim.house[0] = 28.0 if sim.cars["a"].offered > 0 else 25.0
        sim.tick()
    resumes = [t for t, _ in sim.events(EventType.CHARGING_RESUMED)]
    locks = sim.events(EventType.PAUSE_LIMIT_REACHED)
    assert resumes[:6] == [120.0, 241.0, 362.0, 483.0, 604.0, 725.0]
    assert locks[0] == (726.0, {"charger_id": "a", "pauses_last_hour": 6})
    assert resumes[6] == 3720.0  # the first resume left the one-hour window
    assert sim.history[2000][1].targets["a"].reason is TargetReason.PAUSE_LIMIT


def test_s12_big_swings_give_at_most_one_command_per_5_s_except_decreases() -> None:
    rng = random.Random(12)
    cfg = config(charger(), tuning=Tuning(spiky_hold_time=None))
    sim = Sim(cfg, house=[5.0, 0.0, 0.0], cars={"a": Car(offered=6.0)})
    sim.tick()
    for second in range(1, 601):
        swinging = (second // 60) % 2 == 0
        sim.house[0] = rng.uniform(0.0, 25.0) if swinging else 5.0
        sim.now = float(second)
        sim.tick()
    changes = sim.changes("a")
    increases = [
        (t, now_a)
        for (t, now_a), (_, before) in zip(changes[1:], changes, strict=False)
        if now_a > before
    ]
    assert len(increases) >= 5
    times = [t for t, _ in changes]
    for t, _ in increases:
        previous = max(x for x in times if x < t)
        assert t - previous >= 5.0
    windows: dict[int, int] = {}
    for t, _ in increases:
        windows.setdefault(int(t // 5), 0)
        windows[int(t // 5)] += 1
    assert max(windows.values()) == 1


# --------------------------------------------------------------------------- fail-safe


def test_s13_unavailable_meter_falls_back_at_once_and_recovery_ramps_from_there() -> None:
    sim = Sim(config(charger()), house=[12.0, 0.0, 0.0], cars={"a": Car(offered=20.0)})
    sim.tick()
    sim.meter_unavailable = True
    sim.now = 1.0
    decision = sim.tick()
    assert decision.operating_state is OperatingState.FALLBACK
    assert decision.targets["a"].current == 6.0
    assert decision.targets["a"].reason is TargetReason.FALLBACK
    kinds = [e.type for e in decision.events]
    assert EventType.METER_UNAVAILABLE in kinds
    assert EventType.FALLBACK_ENGAGED in kinds
    assert dict(decision.events[0].data) == {"reason": "unavailable", "age_s": 1.0}
    sim.run_until(9)
    sim.meter_unavailable = False
    sim.now = 10.0
    back = sim.tick()
    assert [e.type for e in back.events] == [EventType.METER_RESTORED]
    assert back.targets["a"].current == 6.0
    sim.run_until(70)
    assert sim.changes("a") == [(1.0, 6.0), (25.0, 10.0), (35.0, 14.0), (45.0, 18.0), (55.0, 20.0)]


def test_s14_frozen_meter_counts_as_unavailable_after_the_staleness_timeout() -> None:
    sim = Sim(
        config(charger(), site=site(stale_after=30.0)),
        house=[12.0, 0.0, 0.0],
        cars={"a": Car(offered=20.0)},
    )
    sim.tick()
    sim.meter_live = False  # same value, no new report
    sim.run_until(31)
    assert sim.target_at("a", 29.0) == 20.0
    assert sim.history[29][1].operating_state is OperatingState.ACTIVE
    assert sim.history[30][1].operating_state is OperatingState.FALLBACK
    assert sim.target_at("a", 30.0) == 6.0
    assert sim.target_at("a", 31.0) == 6.0
    assert sim.events(EventType.METER_UNAVAILABLE) == [(30.0, {"reason": "stale", "age_s": 30.0})]


def test_s15_meter_silent_beyond_the_stop_timeout_pauses_charging() -> None:
    sim = Sim(
        config(charger(), site=site(stop_after=120.0)),
        house=[12.0, 0.0, 0.0],
        cars={"a": Car(offered=20.0)},
    )
    sim.tick()
    sim.meter_live = False
    sim.run_until(121)
    assert sim.target_at("a", 119.0) == 6.0
    assert sim.target_at("a", 120.0) == 0.0
    assert sim.target_at("a", 121.0) == 0.0
    assert sim.events(EventType.FALLBACK_ENGAGED)[-1] == (120.0, {"mode": "stop", "stage": "stop"})
    assert sim.events(EventType.CHARGING_PAUSED) == [
        (120.0, {"charger_id": "a", "previous_a": 6.0, "reason": "fallback"})
    ]


def test_s16_garbage_readings_are_ignored_and_age_toward_staleness() -> None:
    assert parse_number("abc") is None
    assert parse_number("nan") is None
    assert parse_number(float("nan")) is None
    cfg = config(charger(), site=site(meter_kind=MeterKind.TOTAL_POWER))
    car = ChargerTelemetry(
        charger_id="a", status=ChargerStatus.CHARGING, currents=(20.0, 0.0, 0.0), offered=20.0
    )
    state = initial_state(0.0)
    good = MeterReading(at=0.0, values=(32.0 * V,))
    decision = step(cfg, state, Inputs(meter=good, chargers=(car,)), 0.0)
    garbage = [parse_number("abc"), float("nan"), 250_000.0]
    for second in range(1, 31):
        value = garbage[second % 3]
        reading = MeterReading(at=float(second), values=(value,))
        decision = step(cfg, decision.state, Inputs(meter=reading, chargers=(car,)), float(second))
        assert decision.state.last_meter == good
        assert decision.meter_age == float(second)
        expected = OperatingState.FALLBACK if second >= 30 else OperatingState.ACTIVE
        assert decision.operating_state is expected
    # Exactly 200 kW is still a believable reading.
    edge = MeterReading(at=31.0, values=(200_000.0,))
    assert (
        step(cfg, decision.state, Inputs(meter=edge, chargers=(car,)), 31.0).state.last_meter
        == edge
    )


def test_s17_kilowatt_and_watt_meters_give_the_same_decision() -> None:
    assert to_watts("7.36", "kW") == pytest.approx(7360.0)
    cfg = config(charger(), site=site(meter_kind=MeterKind.TOTAL_POWER))
    state = initial_state(0.0)

    def decide(watts: float | None, car_power: float | None) -> tuple[float, ...]:
        car = ChargerTelemetry(
            charger_id="a", status=ChargerStatus.CHARGING, power=car_power, offered=16.0
        )
        assert watts is not None
        decision = step(cfg, state, Inputs(meter=MeterReading(0.0, (watts,)), chargers=(car,)), 0.0)
        assert decision.non_ev_load is not None
        return (*decision.non_ev_load, decision.targets["a"].allocated)

    # The charger's power sensor in kW (as the OCPP integration reports it) is handled too.
    in_kw = decide(to_watts(7.36, "kW"), to_watts(3.68, "kW"))
    in_w = decide(to_watts(7360, "W"), to_watts(3680, "W"))
    assert in_kw == in_w == pytest.approx((16.0, 16.0))


def test_s18_offline_charger_keeps_its_last_current_reserved_and_gets_it_back() -> None:
    cfg = config(
        charger("a"), charger("b", max_current=10.0), site=site(meter_includes_chargers=False)
    )
    sim = Sim(cfg, house=[2.0, 0.0, 0.0], cars={"a": Car(offered=20.0), "b": Car(offered=10.0)})
    assert sim.tick().targets["a"].current == 20.0
    sim.cars["a"].online = False
    sim.now = 1.0
    offline = sim.tick()
    assert offline.non_ev_load == (22.0,)  # house 2 A + the 20 A kept for the offline car
    assert offline.targets["b"].allocated == 10.0
    assert offline.targets["a"].command is False
    assert offline.targets["a"].reason is TargetReason.OFFLINE
    assert offline.targets["a"].current == 20.0
    # The charger comes back after a reboot offering its own maximum.
    sim.cars["a"] = Car(offered=32.0)
    sim.now = 2.0
    back = step(cfg, offline.state, sim.inputs(), 2.0)
    assert back.targets["a"].current == 20.0
    assert back.targets["a"].command is True
    telemetry = {t.charger_id: t for t in sim.telemetry()}
    assert needs_command(back.targets["a"], telemetry["a"]) is True


def test_s19_a_failed_stop_stays_desired_until_delivered() -> None:
    cfg = config(charger())
    car = Car(offered=20.0)
    sim = Sim(cfg, house=[28.0, 0.0, 0.0], cars={"a": car})
    inputs = sim.inputs()
    decision = step(cfg, sim.state, inputs, 0.0)  # type: ignore[arg-type]
    assert decision.targets["a"].current == 0.0
    # The stop command fails: the charger still offers 20 A; a new reading arrives.
    sim.house[0] = 27.0
    for second in (1.0, 2.0, 3.0):
        sim.now = second
        decision = step(cfg, decision.state, sim.inputs(), second)
        telemetry = {t.charger_id: t for t in sim.telemetry()}
        assert decision.targets["a"].current == 0.0
        assert needs_command(decision.targets["a"], telemetry["a"]) is True
    car.follow(0.0, 1)  # delivered on retry
    telemetry = {t.charger_id: t for t in sim.telemetry()}
    assert needs_command(decision.targets["a"], telemetry["a"]) is False


def test_s20_charger_ignoring_its_limit_is_cut_after_5_s_and_paused_after_30_s() -> None:
    sim = Sim(
        config(charger()), house=[10.0, 0.0, 0.0], cars={"a": Car(offered=16.0, ignores_limit=32.0)}
    )
    sim.run_until(31)
    assert sim.target_at("a", 4.0) == 16.0  # never raised while a phase is over its limit
    assert sim.target_at("a", 5.0) == 6.0
    assert sim.target_at("a", 29.0) == 6.0
    assert sim.target_at("a", 30.0) == 0.0
    overloads = sim.events(EventType.OVERLOAD)
    assert overloads == [
        (
            5.0,
            {
                "phase": "L1",
                "measured_a": 42.0,
                "limit_a": 32.0,
                "stage": "cut",
                "chargers": {"a": 6.0},
                "repair": False,
            },
        ),
        (
            30.0,
            {
                "phase": "L1",
                "measured_a": 42.0,
                "limit_a": 32.0,
                "stage": "pause",
                "chargers": {"a": 0.0},
                "repair": True,
            },
        ),
    ]
    assert sim.history[30][1].targets["a"].reason is TargetReason.OVERLOAD
    assert all(d.operating_state is OperatingState.OVERLOAD for _, d in sim.history)


# --------------------------------------------------------------------------- three phases


def three_phase(**changes: object) -> SiteConfig:
    values: dict[str, object] = {"phases": 3, "phase_limits": (32.0, 32.0, 32.0)}
    values.update(changes)
    return site(**values)


def test_s21_one_loaded_phase_pauses_a_3p_charger_or_moves_a_switchable_one() -> None:
    limits = three_phase(phase_limits=(25.0, 25.0, 25.0))
    house = [20.0, 5.0, 5.0]
    fixed = Sim(
        config(charger("a", phases=3), site=limits),
        house=list(house),
        cars={"a": Car(ChargerStatus.PLUGGED, phases=3)},
    )
    decision = fixed.tick()
    assert decision.available == (5.0, 20.0, 20.0)
    assert decision.targets["a"].current == 0.0
    assert decision.targets["a"].allocated == 0.0
    one_phase_on_l2 = Sim(
        config(charger("b", rotation=(1, 2, 0)), site=limits),
        house=list(house),
        cars={"b": Car(ChargerStatus.PLUGGED)},
    )
    assert one_phase_on_l2.tick().targets["b"].allocated == 20.0
    # A switchable charger wired with its L1 on site L2, charging at 10 A on three phases.
    switchable = charger("c", phases=3, rotation=(1, 2, 0), phase_switching=True)
    sim = Sim(
        config(switchable, site=limits),
        house=[5.0, 5.0, 5.0],
        cars={"c": Car(offered=10.0, phases=3)},
    )
    assert sim.tick().targets["c"].current == 10.0
    sim.house = list(house)
    sim.now = 1.0
    moved = sim.tick()
    assert moved.targets["c"].phases == 1
    assert moved.targets["c"].current == 20.0
    assert [e.type for e in moved.events][:1] == [EventType.PHASES_CHANGED]


def test_s22_phase_rotation_lets_two_single_phase_chargers_use_their_own_phase() -> None:
    cfg = config(
        charger("a"),
        charger("b", rotation=(1, 2, 0)),
        site=three_phase(phase_limits=(16.0, 16.0, 16.0)),
    )
    sim = Sim(cfg, cars={"a": Car(ChargerStatus.PLUGGED), "b": Car(ChargerStatus.PLUGGED)})
    decision = sim.tick()
    assert decision.targets["a"].allocated == 16.0
    assert decision.targets["b"].allocated == 16.0
    sim.run_until(60)
    assert sim.target_at("a", 60.0) == sim.target_at("b", 60.0) == 16.0
    assert sim.site_currents() == [16.0, 16.0, 0.0]


def test_s23_unequal_breakers_limit_a_3p_charger_to_the_weakest_phase() -> None:
    cfg = config(charger("a", phases=3), site=three_phase(phase_limits=(32.0, 25.0, 20.0)))
    sim = Sim(cfg, cars={"a": Car(ChargerStatus.PLUGGED, phases=3)})
    assert sim.tick().targets["a"].allocated == 20.0


def test_s24_total_power_meter_is_split_balanced_or_worst_case() -> None:
    def non_ev(split: TotalPowerSplit) -> tuple[float, ...] | None:
        cfg = config(
            charger("a", phases=3),
            site=three_phase(meter_kind=MeterKind.TOTAL_POWER, total_power_split=split),
        )
        sim = Sim(cfg, house=[10.0, 10.0, 10.0], cars={"a": Car(ChargerStatus.AVAILABLE)})
        assert sim.reading().values == (6900.0,)
        return sim.tick().non_ev_load

    assert non_ev(TotalPowerSplit.BALANCED) == pytest.approx((10.0, 10.0, 10.0))
    assert non_ev(TotalPowerSplit.WORST_CASE) == pytest.approx((30.0, 30.0, 30.0))


def test_s25_site_power_cap_limits_a_3p_charger_below_its_current_limits() -> None:
    cfg = config(charger("a", phases=3), site=three_phase(power_limit=11_000.0))
    sim = Sim(cfg, cars={"a": Car(ChargerStatus.PLUGGED, phases=3)})
    assert sim.tick().targets["a"].allocated == 15.0


# --------------------------------------------------------------------------- fairness


def test_s26_equal_priority_shares_equally() -> None:
    assert allocate([claim("a"), claim("b")], [40.0]) == {"a": 20.0, "b": 20.0}


def test_s27_capped_charger_returns_its_unused_share() -> None:
    assert allocate([claim("a", 16.0), claim("b")], [40.0]) == {"a": 16.0, "b": 24.0}


def test_s28_too_little_for_two_runs_one_instead_of_none() -> None:
    assert allocate([claim("a"), claim("b")], [10.0]) == {"a": 10.0, "b": 0.0}
    assert allocate([claim("b"), claim("a")], [10.0]) == {"a": 10.0, "b": 0.0}
    sim = Sim(
        config(charger("a"), charger("b")),
        house=[22.0, 0.0, 0.0],
        cars={"a": Car(ChargerStatus.PLUGGED), "b": Car(ChargerStatus.PLUGGED)},
    )
    decision = sim.tick()
    assert (decision.targets["a"].current, decision.targets["b"].current) == (6.0, 0.0)


def test_s29_tiers_come_first_weights_share_within_a_tier() -> None:
    assert allocate([claim("a", tier=1), claim("b")], [30.0]) == {"a": 30.0, "b": 0.0}
    assert allocate([claim("a", weight=2.0), claim("b")], [30.0]) == {"a": 20.0, "b": 10.0}


def test_s30_three_chargers_water_fill_around_a_small_maximum() -> None:
    claims = [claim("a", 10.0), claim("b"), claim("c")]
    assert allocate(claims, [50.0]) == {"a": 10.0, "b": 20.0, "c": 20.0}


def test_s31_rounding_remainder_goes_back_in_priority_order() -> None:
    result = allocate([claim("a"), claim("b"), claim("c")], [20.0])
    assert result == {"a": 7.0, "b": 7.0, "c": 6.0}
    assert sum(result.values()) <= 20.0


def test_s32_a_joining_car_rebalances_instead_of_first_come_first_served() -> None:
    cfg = config(charger("a"), charger("b"), site=site(phase_limits=(40.0,)))
    sim = Sim(cfg, cars={"a": Car(offered=32.0), "b": Car(ChargerStatus.AVAILABLE)})
    sim.run_until(9)
    sim.cars["b"].status = ChargerStatus.PLUGGED
    sim.run_until(70)
    assert sim.changes("a") == [(10.0, 20.0)]
    assert sim.changes("b") == [(10.0, 6.0), (25.0, 10.0), (35.0, 14.0), (45.0, 18.0), (55.0, 20.0)]


def test_s33_a_car_drawing_less_than_offered_frees_current_for_others() -> None:
    cfg = config(charger("a"), charger("b"), site=site(phase_limits=(40.0,)))
    sim = Sim(cfg, cars={"a": Car(offered=20.0, draw_cap=8.0), "b": Car(offered=20.0)})
    sim.run_until(100)
    assert sim.target_at("a", 59.0) == 20.0
    assert sim.changes("a") == [(60.0, 10.0)]
    assert sim.history[60][1].targets["b"].allocated == 30.0
    assert sim.changes("b") == [(75.0, 24.0), (85.0, 28.0), (95.0, 30.0)]


def test_s34_invariants_hold_on_a_fixed_random_sample() -> None:
    rng = random.Random(34)
    for _ in range(300):
        claims = [
            Claim(
                charger_id=f"c{i}",
                phases=rng.choice([(0,), (1,), (2,), (0, 1, 2)]),
                demand=rng.uniform(6, 32),
                min_current=6.0,
                tier=rng.randint(0, 1),
                weight=rng.choice([1.0, 2.0]),
            )
            for i in range(rng.randint(1, 6))
        ]
        headroom = [rng.uniform(-5, 60) for _ in range(3)]
        result = allocate(claims, headroom)
        for p in range(3):
            used = sum(result[c.charger_id] for c in claims if p in c.phases)
            assert used <= max(0.0, headroom[p]) + 1e-6
        for c in claims:
            value = result[c.charger_id]
            assert value == 0 or c.min_current <= value <= c.demand
        assert allocate(list(reversed(claims)), headroom) == result


# --------------------------------------------------------------------------- solar


def test_s35_export_must_last_the_enable_delay_before_a_start_at_the_minimum() -> None:
    sim = solar_sim(export_w=1600.0)
    sim.run_until(70)
    assert all(sim.target_at("a", t) == 0.0 for t in range(60))
    assert sim.history[59][1].targets["a"].reason is TargetReason.SOLAR_WAIT
    assert sim.changes("a") == [(60.0, 6.0)]
    assert sim.history[60][1].targets["a"].phases == 1
    assert sim.history[70][1].surplus == pytest.approx(1600.0)


def test_s36_low_surplus_holds_the_minimum_for_the_disable_delay_then_pauses() -> None:
    sim = solar_sim(export_w=1600.0)
    sim.run_until(99)
    sim.house[0] = -920.0 / V  # share 4 A
    sim.run_until(300)
    assert sim.target_at("a", 279.0) == 6.0
    assert sim.changes("a") == [(60.0, 6.0), (280.0, 0.0)]
    assert sim.events(EventType.CHARGING_PAUSED) == [
        (280.0, {"charger_id": "a", "previous_a": 6.0, "reason": "solar"})
    ]
    recovering = solar_sim(export_w=1600.0)
    recovering.run_until(99)
    recovering.house[0] = -920.0 / V
    recovering.run_until(269)
    recovering.house[0] = -1600.0 / V  # back at 170 s: the timer resets
    recovering.run_until(274)
    recovering.house[0] = -920.0 / V
    recovering.run_until(500)
    assert recovering.changes("a") == [(60.0, 6.0), (455.0, 0.0)]


def test_s37_residual_power_is_kept_off_the_surplus() -> None:
    sim = solar_sim(export_w=3000.0, residual_power=200.0)
    sim.run_until(90)
    assert sim.history[60][1].surplus == pytest.approx(2800.0)
    assert sim.history[60][1].targets["a"].allocated == 12.0
    assert sim.changes("a") == [(60.0, 6.0), (75.0, 10.0), (85.0, 12.0)]


def test_s38_min_solar_charges_at_the_minimum_and_adds_the_surplus() -> None:
    sim = solar_sim(ChargeMode.MIN_SOLAR)
    sim.run_until(29)
    assert all(current == 6.0 for _, current in sim.currents("a"))
    assert sim.history[29][1].surplus == pytest.approx(0.0)
    sim.house[0] = -(4000.0 + 6 * V) / V  # 4 kW export while the car takes 1,380 W
    sim.run_until(100)
    assert sim.reading().values[0] == pytest.approx(-4000.0 + (23 - 6) * V)
    assert sim.history[100][1].targets["a"].allocated == 23.0
    assert sim.changes("a") == [
        (0.0, 6.0),
        (45.0, 10.0),
        (55.0, 14.0),
        (65.0, 18.0),
        (75.0, 22.0),
        (85.0, 23.0),
    ]


def test_s39_the_breaker_caps_what_the_surplus_would_allow() -> None:
    sim = solar_sim(export_w=6900.0)
    sim.config = config(
        charger("a", mode=ChargeMode.SOLAR),
        site=site(meter_kind=MeterKind.TOTAL_POWER, phase_limits=(20.0,)),
    )
    sim.run_until(110)
    assert sim.history[60][1].targets["a"].allocated == 20.0
    assert sim.history[60][1].surplus == pytest.approx(6900.0)
    assert sim.changes("a")[-1] == (105.0, 20.0)


def test_s40_solar_phase_switching_with_delays_and_a_5_minute_spacing() -> None:
    def make() -> Sim:
        cfg = config(
            charger("a", phases=3, phase_switching=True, max_current=16.0, mode=ChargeMode.SOLAR),
            site=three_phase(meter_kind=MeterKind.TOTAL_POWER),
            solar=SolarConfig(smoothing=1.0),
        )
        sim = Sim(cfg, house=[-6.0, -6.0, -6.0], cars={"a": Car(ChargerStatus.PLUGGED, phases=3)})
        sim.run_until(99)
        assert sim.history[60][1].targets["a"].current == 6.0
        assert sim.history[60][1].targets["a"].phases == 3
        sim.house = [-3000.0 / 3 / V] * 3
        return sim

    def phases(sim: Sim, when: float) -> tuple[int, float]:
        target = sim.history[int(when)][1].targets["a"]
        return target.phases, target.current

    sim = make()
    sim.run_until(299)
    assert phases(sim, 279) == (3, 6.0)  # held at the minimum on three phases
    assert phases(sim, 280) == (1, 13.0)  # 3,000 W / 230 V on one phase
    sim.house = [-5000.0 / 3 / V] * 3
    sim.run_until(700)
    assert phases(sim, 579) == (1, 16.0)
    assert phases(sim, 580) == (3, 7.0)  # wanted since 360 s, allowed 300 s after 280 s
    switches = [t for t, _ in sim.events(EventType.PHASES_CHANGED)]
    assert switches == [280.0, 580.0]

    later = make()
    later.run_until(599)
    later.house = [-5000.0 / 3 / V] * 3
    later.run_until(700)
    assert phases(later, 659) == (1, 16.0)
    assert phases(later, 660) == (3, 7.0)  # the 60 s enable delay


# --------------------------------------------------------------------------- lifecycle


def test_s41_restart_sends_nothing_before_a_fresh_reading_then_ramps_from_observed() -> None:
    sim = Sim(config(charger()), cars={"a": Car(offered=20.0)})
    sim.meter_live = False
    sim.last_reading = MeterReading(at=-5.0, values=(20.0,))  # reported before the restart
    sim.run_until(2)
    assert all(d.targets == {} for _, d in sim.history)
    assert all(d.operating_state is OperatingState.STARTING for _, d in sim.history)
    sim.meter_live = True
    sim.run_until(60)
    assert sim.target_at("a", 3.0) == 20.0  # the first command: what it already does
    assert sim.changes("a") == [(18.0, 24.0), (28.0, 28.0), (38.0, 32.0)]
    # No fresh reading at all: the fallback after the staleness timeout, never the maximum.
    silent = Sim(config(charger()), cars={"a": Car(offered=20.0)})
    silent.meter_live = False
    silent.last_reading = MeterReading(at=-5.0, values=(20.0,))
    silent.run_until(29)
    assert silent.history[-1][1].targets == {}
    decision = silent.run_until(30)
    assert decision.operating_state is OperatingState.FALLBACK
    assert decision.targets["a"].current == 6.0


def test_s42_charger_statuses_map_to_balancer_roles() -> None:
    cfg = config(charger("a"), charger("b"), charger("c"), charger("d"))
    sim = Sim(
        cfg,
        house=[0.0, 0.0, 0.0],
        cars={
            "a": Car(ChargerStatus.SUSPENDED_EV, offered=16.0),
            "b": Car(offered=16.0),
            "c": Car(ChargerStatus.FAULTED, offered=6.0),
            "d": Car(ChargerStatus.FINISHING, offered=6.0),
        },
    )
    decision = sim.tick()
    # SuspendedEV: the car takes nothing, so it keeps only its minimum.
    assert decision.targets["a"].allocated == 6.0
    assert decision.targets["a"].current == 6.0
    assert decision.targets["b"].allocated == 26.0
    # Faulted: offline, nothing is sent.
    assert decision.targets["c"].reason is TargetReason.OFFLINE
    assert decision.targets["c"].command is False
    # Finishing: the session is over.
    assert decision.targets["d"].reason is TargetReason.IDLE
    assert decision.targets["d"].current == 0.0
    # SuspendedEVSE after our own 0 A: expected, it waits to resume.
    sim.house[0] = 24.0
    sim.now = 1.0
    paused = sim.tick()
    assert sim.cars["b"].status is ChargerStatus.SUSPENDED_EVSE
    sim.now = 2.0
    again = sim.tick()
    assert paused.targets["b"].current == 0.0
    assert again.targets["b"].reason is TargetReason.PAUSED
    assert again.targets["b"].command is True


def test_s43_targets_carry_what_the_charge_rate_payload_needs() -> None:
    cfg = config(charger("a", phases=3, step=0.1), site=three_phase())
    sim = Sim(cfg, house=[16.25, 0.0, 0.0], cars={"a": Car(offered=16.0, phases=3)})
    target = sim.tick().targets["a"]
    assert target.allocated == 15.7  # 0.1 A resolution, truncated
    assert target.current == 15.7
    assert target.phases == 3
    assert target.power(V) == pytest.approx(15.7 * V * 3)  # for chargers limited in W


def test_s44_connectors_of_one_station_are_balanced_by_their_own_ids() -> None:
    one, two = "station_connector_1", "station_connector_2"
    cfg = config(charger(one), charger(two))
    sim = Sim(cfg, cars={one: Car(offered=16.0), two: Car(offered=16.0)})
    decision = sim.tick()
    assert set(decision.targets) == {one, two}
    sim.cars[two].online = False
    sim.now = 1.0
    decision = sim.tick()
    assert decision.targets[one].command is True
    assert decision.targets[two].command is False
    assert decision.targets[one].allocated == 16.0  # the other connector's 16 A stays counted


def test_s45_disable_override_and_a_lowered_limit() -> None:
    cfg = config(charger())
    sim = Sim(cfg, house=[2.0, 0.0, 0.0], cars={"a": Car(offered=25.0)})
    sim.tick()
    sim.enabled = False
    sim.run_until(5)
    assert all(
        d.targets == {} and d.operating_state is OperatingState.DISABLED
        for t, d in sim.history
        if t >= 1
    )
    sim.enabled = True
    sim.now = 6.0
    assert sim.tick().targets["a"].current == 25.0
    # A one-shot override holds for its cycle only.
    sim.now = 7.0
    overridden = sim.tick(overrides={"a": 10.0})
    assert overridden.targets["a"].current == 10.0
    assert overridden.targets["a"].reason is TargetReason.OVERRIDE
    sim.now = 8.0
    assert sim.tick().targets["a"].current == 10.0  # back to the rules: ramps from there
    sim.run_until(23)
    assert sim.target_at("a", 23.0) == 14.0
    # The user lowers the limit from 32 to 20 A while the car is at 25 A.
    sim2 = Sim(cfg, cars={"a": Car(offered=25.0)})
    sim2.tick()
    sim2.config = config(charger(), site=site(phase_limits=(20.0,)))
    sim2.now = 1.0
    assert sim2.tick().targets["a"].current == 20.0
