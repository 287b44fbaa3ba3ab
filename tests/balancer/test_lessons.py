"""The refinements learnt from simulating a house (specification section 4.6)."""

from __future__ import annotations

from custom_components.ev_charging.balancer.model import (
    BalancerConfig,
    ChargerConfig,
    EventType,
    OperatingState,
    SiteConfig,
    Tuning,
)

from .sim import Car, Sim


def one_phase(**tuning: object) -> BalancerConfig:
    return BalancerConfig(
        site=SiteConfig(margin=0.0),
        chargers=(ChargerConfig(charger_id="a"),),
        tuning=Tuning(**tuning),  # type: ignore[arg-type]
    )


def test_load_moving_between_phases_at_equal_total_is_seen() -> None:
    cfg = BalancerConfig(
        site=SiteConfig(phases=3, phase_limits=(25.0, 25.0, 25.0), margin=0.0),
        chargers=(ChargerConfig(charger_id="a"),),
    )
    sim = Sim(cfg, house=[5.0, 15.0, 0.0], cars={"a": Car(offered=16.0)})
    assert sim.tick().targets["a"].allocated == 20.0
    sim.house = [15.0, 5.0, 0.0]  # same total, now on the car's phase
    sim.now = 1.0
    assert sim.tick().targets["a"].current == 10.0


def test_a_car_still_drawing_the_old_current_does_not_cause_a_pause() -> None:
    sim = Sim(one_phase(), house=[12.0, 0.0, 0.0], cars={"a": Car(offered=20.0)})
    sim.tick()
    sim.house[0] = 20.0
    sim.now = 1.0
    assert sim.tick().targets["a"].current == 12.0
    # The car takes two seconds to follow: it still draws 20 A, the meter reads 40 A.
    sim.cars["a"].ignores_limit = 20.0
    for second in (2.0, 3.0):
        sim.now = second
        decision = sim.tick()
        assert decision.non_ev_load == (20.0,)
        assert decision.targets["a"].current == 12.0
    assert sim.events(EventType.CHARGING_PAUSED) == []


def test_no_increase_while_any_phase_reads_over_its_limit() -> None:
    cfg = BalancerConfig(
        site=SiteConfig(phases=3, phase_limits=(32.0, 32.0, 20.0), margin=0.0),
        chargers=(ChargerConfig(charger_id="a"),),
    )
    sim = Sim(cfg, house=[0.0, 0.0, 21.0], cars={"a": Car(offered=10.0)})
    sim.run_until(60)
    assert sim.changes("a") == []
    assert all(d.operating_state is OperatingState.OVERLOAD for _, d in sim.history)
    sim.house[2] = 19.0
    sim.run_until(80)
    assert sim.changes("a") == [(76.0, 14.0)]  # 15 s after the phase fell below its limit


def test_repeated_forced_decreases_lengthen_the_hold_before_increases() -> None:
    sim = Sim(one_phase(), house=[10.0, 0.0, 0.0], cars={"a": Car(offered=22.0)})
    sim.tick()
    for second, load in ((5, 18.0), (6, 10.0), (25, 18.0), (26, 10.0)):
        sim.run_until(second - 1)
        sim.house[0] = load
        sim.run_until(second)
    sim.run_until(200)
    # Two forced decreases within five minutes: 120 s instead of 15 s.
    assert sim.changes("a") == [
        (5.0, 14.0),
        (21.0, 18.0),
        (25.0, 14.0),
        (146.0, 18.0),
        (156.0, 22.0),
    ]
    calm = Sim(
        one_phase(spiky_hold_time=None), house=[10.0, 0.0, 0.0], cars={"a": Car(offered=22.0)}
    )
    calm.tick()
    for second, load in ((5, 18.0), (6, 10.0), (25, 18.0), (26, 10.0)):
        calm.run_until(second - 1)
        calm.house[0] = load
        calm.run_until(second)
    calm.run_until(200)
    assert calm.changes("a") == [
        (5.0, 14.0),
        (21.0, 18.0),
        (25.0, 14.0),
        (41.0, 18.0),
        (51.0, 22.0),
    ]


def test_default_resume_rules_are_the_faster_ones() -> None:
    sim = Sim(one_phase(), house=[28.0, 0.0, 0.0], cars={"a": Car(offered=10.0)})
    sim.tick()
    sim.house[0] = 26.0  # 6 A: enough for the minimum
    sim.run_until(60)
    assert sim.changes("a")[:2] == [(0.0, 0.0), (30.0, 6.0)]  # 30 s minimum off-time


def test_staleness_follows_the_meter_period_when_enabled() -> None:
    for periods, expected in ((3.0, 14.0), (None, 38.0)):
        cfg = BalancerConfig(
            site=SiteConfig(margin=0.0, stale_periods=periods),
            chargers=(ChargerConfig(charger_id="a"),),
        )
        sim = Sim(cfg, house=[10.0, 0.0, 0.0], cars={"a": Car(offered=16.0)})
        sim.run_until(8.0, every=2.0)  # a reading every 2 s
        sim.meter_live = False  # silent from 8 s on
        sim.run_until(40.0, every=1.0)
        fallback = [t for t, d in sim.history if d.operating_state is OperatingState.FALLBACK]
        # Three periods of 2 s, floored at 5 s: 6 s after the last reading.
        assert fallback[0] == expected
