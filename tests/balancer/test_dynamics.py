"""Edge paths of the control cycle: seeding, fallbacks, solar, switching, watchdog."""

from __future__ import annotations

import pytest

from custom_components.ev_charging.balancer.algorithm import needs_command, step
from custom_components.ev_charging.balancer.model import (
    BalancerConfig,
    ChargeMode,
    ChargerConfig,
    ChargerTarget,
    ChargerTelemetry,
    EventType,
    FallbackMode,
    Inputs,
    MeterKind,
    MeterReading,
    OperatingState,
    SiteConfig,
    SolarConfig,
    TargetReason,
    Tuning,
    initial_state,
)
from custom_components.ev_charging.models import ChargerStatus

from .sim import Car, Sim

V = 230.0


def site(**changes: object) -> SiteConfig:
    values: dict[str, object] = {"margin": 0.0}
    values.update(changes)
    return SiteConfig(**values)  # type: ignore[arg-type]


def three_phase(**changes: object) -> SiteConfig:
    values: dict[str, object] = {"phases": 3, "phase_limits": (32.0, 32.0, 32.0)}
    values.update(changes)
    return site(**values)


def cfg(*chargers: ChargerConfig, **changes: object) -> BalancerConfig:
    values: dict[str, object] = {"site": site(), "chargers": chargers}
    values.update(changes)
    return BalancerConfig(**values)  # type: ignore[arg-type]


def charger(key: str = "a", **changes: object) -> ChargerConfig:
    return ChargerConfig(charger_id=key, **changes)  # type: ignore[arg-type]


def target(current: float, *, command: bool = True) -> ChargerTarget:
    return ChargerTarget(
        charger_id="a",
        current=current,
        phases=1,
        reason=TargetReason.ALLOCATED,
        command=command,
        allocated=current,
        changed=False,
    )


def telemetry(**changes: object) -> ChargerTelemetry:
    values: dict[str, object] = {"charger_id": "a", "status": ChargerStatus.CHARGING}
    values.update(changes)
    return ChargerTelemetry(**values)  # type: ignore[arg-type]


def first(config: BalancerConfig, car: ChargerTelemetry, amps: float = 0.0) -> ChargerTarget:
    """The target of the first cycle after start for one telemetry snapshot."""
    inputs = Inputs(meter=MeterReading(0.0, (amps,) * config.site.phases), chargers=(car,))
    return step(config, initial_state(0.0), inputs, 0.0).targets["a"]


# --------------------------------------------------------------------------- actuation


def test_needs_command_compares_the_observed_offer_with_the_target() -> None:
    assert needs_command(target(10.0), telemetry(offered=10.2)) is False
    assert needs_command(target(10.0), telemetry(offered=11.0)) is True
    assert needs_command(target(10.0), telemetry(commanded=10.0)) is False
    assert needs_command(target(10.0), telemetry()) is True  # nothing observed: send
    assert needs_command(target(10.0, command=False), telemetry(offered=0.0)) is False
    assert needs_command(target(10.0), None) is False
    assert needs_command(target(10.0), telemetry(online=False, offered=0.0)) is False


def test_paused_property_and_power_of_a_target() -> None:
    paused = ChargerTarget(
        charger_id="a",
        current=0.0,
        phases=1,
        reason=TargetReason.PAUSED,
        command=True,
        allocated=0.0,
        changed=True,
    )
    idle = ChargerTarget(
        charger_id="a",
        current=0.0,
        phases=1,
        reason=TargetReason.IDLE,
        command=True,
        allocated=0.0,
        changed=False,
    )
    assert paused.paused is True
    assert idle.paused is False
    assert target(16.0).power(V) == 3680.0


# --------------------------------------------------------------------------- seeding


def test_seed_uses_offer_then_command_then_measurement_then_minimum() -> None:
    config = cfg(charger())
    assert first(config, telemetry(offered=40.0)).current == 32.0  # clamped to the maximum
    assert first(config, telemetry(offered=3.0)).current == 6.0  # below the minimum
    assert first(config, telemetry(commanded=12.7)).current == 12.0  # on the step grid
    assert first(config, telemetry(currents=(9.0, None, None))).current == 9.0
    assert first(config, telemetry()).current == 6.0  # nothing known: the minimum
    assert first(config, telemetry(status=ChargerStatus.PLUGGED, offered=0.0)).current == 6.0


def test_seed_keeps_the_phase_count_of_a_switchable_charger() -> None:
    config = cfg(charger(phases=3, phase_switching=True), site=three_phase())
    seeded = first(config, telemetry(offered=10.0, active_phases=1))
    assert (seeded.phases, seeded.current) == (1, 10.0)


def test_start_stop_only_charger_runs_at_its_maximum_or_not_at_all() -> None:
    config = cfg(charger(can_set_current=False, min_current=6.0, max_current=16.0))
    assert first(config, telemetry(offered=10.0)).current == 16.0
    sim = Sim(config, house=[20.0, 0.0, 0.0], cars={"a": Car(ChargerStatus.PLUGGED)})
    decision = sim.tick()
    assert decision.targets["a"].current == 0.0  # 12 A free is not enough for 16 A
    sim.house[0] = 10.0
    sim.run_until(5)
    assert sim.changes("a") == [(1.0, 16.0)]


def test_a_large_step_still_raises_by_at_least_one_step() -> None:
    config = cfg(charger(step=5.0, min_current=5.0), tuning=Tuning(ramp_step=4.0))
    sim = Sim(config, cars={"a": Car(offered=10.0)})
    sim.run_until(40)
    assert sim.changes("a") == [(15.0, 15.0), (25.0, 20.0), (35.0, 25.0)]


# --------------------------------------------------------------------------- fallback


def test_hold_fallback_keeps_the_last_current_and_stop_fallback_pauses_at_once() -> None:
    hold = Sim(
        cfg(charger(), site=site(fallback=FallbackMode.HOLD)),
        house=[12.0, 0.0, 0.0],
        cars={"a": Car(offered=20.0)},
    )
    hold.tick()
    hold.meter_unavailable = True
    assert hold.run_until(100).targets["a"].current == 20.0
    assert hold.run_until(120).targets["a"].current == 0.0  # the stop timeout still applies
    stop = Sim(
        cfg(charger(), site=site(fallback=FallbackMode.STOP, stop_after=None)),
        house=[12.0, 0.0, 0.0],
        cars={"a": Car(offered=20.0)},
    )
    stop.tick()
    stop.meter_unavailable = True
    stop.now = 1.0
    decision = stop.tick()
    assert decision.targets["a"].current == 0.0
    assert [e.type for e in decision.events] == [
        EventType.METER_UNAVAILABLE,
        EventType.FALLBACK_ENGAGED,
        EventType.CHARGING_PAUSED,
        EventType.ALLOCATION_CHANGED,
    ]
    assert stop.run_until(500).targets["a"].current == 0.0


def test_fixed_fallback_is_never_more_than_an_equal_share_of_each_phase() -> None:
    chargers = [charger(k, fallback_current=16.0) for k in ("a", "b", "c")]
    chargers.append(charger("d", can_set_current=False, max_current=16.0))
    chargers.append(charger("e", can_set_current=False, max_current=8.0, fallback_current=8.0))
    config = cfg(*chargers, site=site(phase_limits=(50.0,)))
    cars = {k: Car(offered=16.0) for k in "abcd"}
    cars["e"] = Car(offered=8.0)
    sim = Sim(config, cars=cars)
    sim.meter_unavailable = True
    decision = sim.tick()
    currents = {k: t.current for k, t in decision.targets.items()}
    # 50 A over five chargers: at most 10 A each; a start/stop charger cannot go lower.
    assert currents == {"a": 10.0, "b": 10.0, "c": 10.0, "d": 0.0, "e": 8.0}


def test_fallback_before_any_reading_leaves_unplugged_and_offline_chargers_alone() -> None:
    config = cfg(charger("a"), charger("b"), charger("c"))
    sim = Sim(
        config,
        cars={
            "a": Car(offered=20.0),
            "b": Car(ChargerStatus.AVAILABLE),
            "c": Car(offered=20.0, online=False),
        },
    )
    sim.meter_unavailable = True
    decision = sim.tick()
    assert decision.targets["a"].current == 6.0
    assert decision.targets["b"].reason is TargetReason.IDLE
    assert decision.targets["c"].reason is TargetReason.OFFLINE
    assert decision.meter_age is None
    assert decision.available is None
    assert decision.surplus is None


# --------------------------------------------------------------------------- house load


def test_offline_charger_never_seen_reserves_its_maximum_when_the_meter_excludes_it() -> None:
    config = cfg(
        charger("a", max_current=16.0), charger("b"), site=site(meter_includes_chargers=False)
    )
    sim = Sim(config, cars={"a": Car(online=False), "b": Car(ChargerStatus.PLUGGED)})
    decision = sim.tick()
    assert decision.non_ev_load == (16.0,)
    assert decision.targets["b"].allocated == 16.0


def test_charger_without_telemetry_is_offline() -> None:
    config = cfg(charger("a"), charger("b"))
    sim = Sim(config, cars={"a": Car(offered=10.0)})
    assert sim.tick().targets["b"].reason is TargetReason.OFFLINE


def test_unmeasured_charging_car_is_assumed_at_its_command() -> None:
    sim = Sim(cfg(charger()), house=[10.0, 0.0, 0.0], cars={"a": Car(offered=16.0, measures=False)})
    assert sim.tick().non_ev_load == (10.0,)
    idle = Sim(
        cfg(charger(), site=site(meter_includes_chargers=False)),
        house=[10.0, 0.0, 0.0],
        cars={"a": Car(ChargerStatus.AVAILABLE, measures=False)},
    )
    assert idle.tick().non_ev_load == (10.0,)


def test_car_drawing_in_mode_off_counts_as_house_load() -> None:
    sim = Sim(
        cfg(charger("a"), charger("b")),
        house=[4.0, 0.0, 0.0],
        cars={"a": Car(offered=10.0), "b": Car(ChargerStatus.PLUGGED)},
    )
    sim.tick()
    sim.config = cfg(charger("a", mode=ChargeMode.OFF), charger("b"))
    sim.cars["a"].ignores_limit = 10.0  # the car has not reacted yet
    sim.now = 1.0
    decision = sim.tick()
    assert decision.targets["a"].current == 0.0
    assert decision.targets["a"].reason is TargetReason.IDLE
    assert decision.targets["a"].changed is True
    assert decision.non_ev_load == (14.0,)
    assert decision.targets["b"].allocated == 18.0
    assert decision.targets["b"].current == 6.0


def test_phase_power_meter_with_measured_voltage() -> None:
    config = cfg(charger(), site=three_phase(meter_kind=MeterKind.PHASE_POWERS))
    car = telemetry(currents=(10.0, 0.0, 0.0), offered=10.0)
    reading = MeterReading(0.0, (4800.0, 2400.0, 0.0), voltages=(240.0, 500.0, None))
    decision = step(
        cfg(charger(), site=three_phase(meter_kind=MeterKind.PHASE_POWERS)),
        initial_state(0.0),
        Inputs(meter=reading, chargers=(car,)),
        0.0,
    )
    # L1 at a measured 240 V; L2's 500 V is implausible, so 230 V is used.
    assert decision.non_ev_load == pytest.approx((10.0, 2400.0 / V, 0.0))
    assert config.site.meter_kind is MeterKind.PHASE_POWERS


def test_total_power_meter_excluding_the_cars_adds_the_reserved_offline_current() -> None:
    config = cfg(
        charger("a"),
        charger("b", phases=3),
        site=three_phase(meter_kind=MeterKind.TOTAL_POWER, meter_includes_chargers=False),
    )
    sim = Sim(
        config,
        house=[10.0, 10.0, 10.0],
        cars={"a": Car(offered=12.0), "b": Car(offered=10.0, phases=3)},
    )
    assert sim.tick().non_ev_load == pytest.approx((10.0, 10.0, 10.0))
    sim.cars["a"].online = False
    sim.now = 1.0
    decision = sim.tick()
    # The offline car keeps its last target reserved: 11 A, its share of L1 before.
    assert decision.non_ev_load == pytest.approx((21.0, 10.0, 10.0))


def test_invalid_first_reading_keeps_waiting() -> None:
    config = cfg(charger())
    bad = MeterReading(0.0, (1.0, 2.0))  # two values for a one-phase site
    decision = step(config, initial_state(0.0), Inputs(meter=bad, chargers=(telemetry(),)), 0.0)
    assert decision.operating_state is OperatingState.STARTING
    assert decision.targets == {}


# --------------------------------------------------------------------------- dynamics


def test_disable_then_enable_reseeds_from_what_the_charger_does() -> None:
    sim = Sim(cfg(charger()), cars={"a": Car(offered=10.0)})
    sim.tick()
    sim.enabled = False
    sim.run_until(3)
    sim.cars["a"].offered = 20.0  # changed by hand while disabled
    sim.enabled = True
    decision = sim.run_until(4)
    assert decision.targets["a"].current == 20.0
    assert decision.targets["a"].changed is False


def test_override_below_the_minimum_stops_for_one_cycle() -> None:
    sim = Sim(cfg(charger()), cars={"a": Car(offered=16.0)})
    sim.tick()
    sim.now = 1.0
    decision = sim.tick(overrides={"a": 3.0})
    assert decision.targets["a"].current == 0.0
    assert decision.targets["a"].reason is TargetReason.OVERRIDE
    sim.now = 2.0
    assert sim.tick().targets["a"].current == 6.0  # a fresh start, not a paused car


def test_mismatch_cap_is_lifted_to_probe_after_five_minutes() -> None:
    sim = Sim(cfg(charger()), cars={"a": Car(offered=20.0, draw_cap=8.0)})
    sim.run_until(440)
    changes = sim.changes("a")
    # It ramps as usual, is capped at 8 + 2 A after 60 s of mismatch, probes at 360 s.
    assert changes[:5] == [(15.0, 24.0), (25.0, 28.0), (35.0, 32.0), (60.0, 10.0), (375.0, 14.0)]
    assert changes[-1] == (436.0, 10.0)


def test_watchdog_cuts_the_lowest_priority_first_and_releases_the_cap() -> None:
    config = cfg(charger("hi", priority=1), charger("lo"), site=site(phase_limits=(40.0,)))
    sim = Sim(
        config,
        house=[0.0, 0.0, 0.0],
        cars={
            "hi": Car(offered=16.0, ignores_limit=20.0),
            "lo": Car(offered=16.0, ignores_limit=24.0),
        },
    )
    sim.run_until(5)
    cut = sim.events(EventType.OVERLOAD)
    assert cut == [
        (
            5.0,
            {
                "phase": "L1",
                "measured_a": 44.0,
                "limit_a": 40.0,
                "stage": "cut",
                "chargers": {"lo": 6.0, "hi": 14.0},
                "repair": False,
            },
        )
    ]
    sim.cars["lo"].ignores_limit = None
    sim.cars["hi"].ignores_limit = None
    sim.run_until(130)
    assert sim.history[-1][1].state.chargers["lo"].overload_cap is None
    # Ramps again once the overload is gone, after the long hold of a spiky site.
    assert sim.changes("lo")[-1] == (126.0, 8.0)


def test_switchable_charger_goes_back_to_three_phases_after_the_enable_delay() -> None:
    config = cfg(
        charger("a", phases=3, rotation=(1, 2, 0), phase_switching=True),
        site=three_phase(phase_limits=(25.0, 25.0, 25.0)),
    )
    sim = Sim(config, house=[20.0, 0.0, 0.0], cars={"a": Car(offered=10.0, phases=3)})
    moved = sim.tick()
    assert (moved.targets["a"].phases, moved.targets["a"].current) == (1, 25.0)
    sim.run_until(10)
    assert sim.history[-1][1].targets["a"].phases == 1
    sim.house = [0.0, 0.0, 0.0]
    sim.run_until(400)
    switches = sim.events(EventType.PHASES_CHANGED)
    assert [(t, e["phases"]) for t, e in switches] == [(0.0, 1), (300.0, 3)]


def test_solar_uses_the_grid_power_input_and_takes_falls_at_once() -> None:
    config = cfg(charger("a", mode=ChargeMode.MIN_SOLAR), site=site(meter_includes_chargers=False))
    sim = Sim(config, cars={"a": Car(offered=6.0)}, grid_power=-2000.0)
    decision = sim.tick()
    assert decision.surplus == pytest.approx(2000.0 + 6 * V)
    sim.meter_live = False  # no fresh reading: a rise is ignored, a fall is taken
    sim.grid_power = -3000.0
    sim.now = 1.0
    assert sim.tick().surplus == pytest.approx(2000.0 + 6 * V)
    sim.grid_power = 0.0
    sim.now = 2.0
    assert sim.tick().surplus == pytest.approx(6 * V)


def test_a_surplus_dip_right_after_a_step_waits_for_the_command_interval() -> None:
    config = cfg(
        charger("a", mode=ChargeMode.MIN_SOLAR),
        site=site(meter_kind=MeterKind.TOTAL_POWER),
        solar=SolarConfig(smoothing=1.0),
    )
    sim = Sim(config, house=[-(16 * V) / V - 6.0, 0.0, 0.0], cars={"a": Car(offered=6.0)})
    sim.run_until(15)
    assert sim.changes("a") == [(15.0, 10.0)]
    sim.house[0] = -8.0  # the surplus falls to 8 A two seconds later
    sim.run_until(22)
    assert sim.changes("a") == [(15.0, 10.0), (20.0, 8.0)]


def test_min_solar_switchable_starts_on_one_phase_and_drops_phases_without_pausing() -> None:
    config = cfg(
        charger("a", phases=3, phase_switching=True, mode=ChargeMode.MIN_SOLAR, max_current=16.0),
        site=three_phase(meter_kind=MeterKind.TOTAL_POWER),
        solar=SolarConfig(smoothing=1.0),
    )
    sim = Sim(config, cars={"a": Car(ChargerStatus.PLUGGED, phases=3)})
    start = sim.tick().targets["a"]
    assert (start.phases, start.current) == (1, 6.0)  # no surplus: the cheapest minimum
    sim.house = [-4.0, -4.0, -4.0]  # 2,760 W
    sim.run_until(10)
    assert sim.history[-1][1].targets["a"].phases == 1
    sim.house = [-8.0, -8.0, -8.0]  # 5,520 W: three phases pay off after the enable delay
    sim.run_until(400)
    phases = [(t, e["phases"]) for t, e in sim.events(EventType.PHASES_CHANGED)]
    assert phases == [(0.0, 1), (300.0, 3)]
    sim.house = [0.0, 0.0, 0.0]
    sim.run_until(900)
    phases = [(t, e["phases"]) for t, e in sim.events(EventType.PHASES_CHANGED)]
    assert phases == [(0.0, 1), (300.0, 3), (600.0, 1)]
    assert all(d.targets["a"].current >= 6.0 for _, d in sim.history)


def test_solar_pauses_when_the_phase_switch_budget_is_spent() -> None:
    config = cfg(
        charger("a", phases=3, phase_switching=True, mode=ChargeMode.SOLAR, max_current=16.0),
        site=three_phase(meter_kind=MeterKind.TOTAL_POWER),
        solar=SolarConfig(smoothing=1.0),
        tuning=Tuning(max_phase_switches_per_hour=0),
    )
    sim = Sim(config, house=[-6.0, -6.0, -6.0], cars={"a": Car(ChargerStatus.PLUGGED, phases=3)})
    sim.run_until(99)
    sim.house = [-3000.0 / 3 / V] * 3
    sim.run_until(300)
    assert sim.changes("a") == [(60.0, 6.0), (280.0, 0.0)]
    assert sim.events(EventType.PHASES_CHANGED) == []


def test_unplugging_returns_a_charger_to_idle() -> None:
    sim = Sim(cfg(charger()), cars={"a": Car(offered=16.0)})
    sim.tick()
    sim.cars["a"].status = ChargerStatus.AVAILABLE
    sim.now = 1.0
    decision = sim.tick()
    assert decision.targets["a"].current == 0.0
    assert decision.targets["a"].reason is TargetReason.IDLE
    assert [e.type for e in decision.events] == [EventType.ALLOCATION_CHANGED]
    assert decision.operating_state is OperatingState.ACTIVE


def test_a_paused_car_waiting_to_resume_keeps_no_headroom_from_running_cars() -> None:
    sim = Sim(
        cfg(charger("a"), charger("b")),
        house=[22.0, 0.0, 0.0],
        cars={"a": Car(offered=10.0), "b": Car(offered=10.0)},
    )
    first = sim.tick()  # 10 A for two: one runs at 10, the other pauses
    assert (first.targets["a"].current, first.targets["b"].current) == (10.0, 0.0)
    sim.house[0] = 10.0
    sim.run_until(29)
    waiting = sim.history[-1][1]
    assert waiting.targets["b"].reason is TargetReason.PAUSED
    assert waiting.targets["b"].allocated == 11.0  # what it would get
    assert waiting.targets["a"].allocated == 22.0  # not squeezed meanwhile
    assert sim.changes("a") == [(16.0, 14.0), (26.0, 18.0)]
    resumed = sim.run_until(30)  # off for 30 s, enough for 15 s: back, and a makes room
    assert (resumed.targets["a"].current, resumed.targets["b"].current) == (11.0, 6.0)
