"""Invariants of the allocation and of a control cycle, checked with hypothesis."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings, strategies as st

from custom_components.ev_charging.balancer.algorithm import step
from custom_components.ev_charging.balancer.allocation import Claim, allocate
from custom_components.ev_charging.balancer.model import (
    BalancerConfig,
    ChargerConfig,
    SiteConfig,
    TargetReason,
    Tuning,
)
from custom_components.ev_charging.models import ChargerStatus

from .sim import Car, Sim

V = 230.0
PHASE_SETS = [(0,), (1,), (2,), (0, 1, 2)]
FAST = settings(max_examples=200, deadline=None)


@st.composite
def claims(
    draw: st.DrawFn,
    *,
    same_tier: bool = False,
    phases: tuple[int, ...] | None = None,
    minimum: float | None = None,
    step: float | None = None,
) -> list[Claim]:
    count = draw(st.integers(1, 8))
    result = []
    for index in range(count):
        low = minimum if minimum is not None else draw(st.sampled_from([0.0, 6.0, 8.0]))
        result.append(
            Claim(
                charger_id=f"c{index}",
                phases=phases if phases is not None else draw(st.sampled_from(PHASE_SETS)),
                demand=draw(st.floats(0.0, 40.0)),
                min_current=low,
                step=step if step is not None else draw(st.sampled_from([1.0, 0.5, 0.1])),
                tier=0 if same_tier else draw(st.integers(0, 2)),
                weight=draw(st.sampled_from([1.0, 2.0, 3.0])),
                energy=draw(st.floats(0.0, 20.0)),
            )
        )
    return result


headrooms = st.lists(st.floats(-10.0, 80.0), min_size=3, max_size=3)
power_headrooms = st.one_of(st.none(), st.floats(0.0, 30_000.0))


@FAST
@given(claims(), headrooms, power_headrooms)
def test_allocation_stays_within_each_phase_and_the_power_cap(
    requests: list[Claim], headroom: list[float], power: float | None
) -> None:
    result = allocate(requests, headroom, power_headroom=power, voltage=V)
    for phase in range(3):
        used = sum(result[c.charger_id] for c in requests if phase in c.phases)
        assert used <= max(0.0, headroom[phase]) + 1e-6
    if power is not None:
        watts = sum(V * result[c.charger_id] * len(c.phases) for c in requests)
        assert watts <= power + 1e-3


@FAST
@given(claims(), headrooms, power_headrooms)
def test_each_allocation_is_zero_or_within_min_and_demand_on_the_step_grid(
    requests: list[Claim], headroom: list[float], power: float | None
) -> None:
    result = allocate(requests, headroom, power_headroom=power, voltage=V)
    assert set(result) == {c.charger_id for c in requests}
    for claim in requests:
        value = result[claim.charger_id]
        if value == 0:
            continue
        assert claim.min_current - 1e-9 <= value <= claim.demand + 1e-9
        on_grid = math.isclose(value / claim.step, round(value / claim.step), abs_tol=1e-6)
        assert on_grid or value == claim.min_current


@FAST
@given(claims(), headrooms, power_headrooms, st.randoms(use_true_random=False))
def test_the_order_of_the_chargers_does_not_matter(
    requests: list[Claim], headroom: list[float], power: float | None, rng: random.Random
) -> None:
    shuffled = list(requests)
    rng.shuffle(shuffled)
    expected = allocate(requests, headroom, power_headroom=power, voltage=V)
    assert allocate(shuffled, headroom, power_headroom=power, voltage=V) == expected


@FAST
@given(
    st.sampled_from(PHASE_SETS),
    st.data(),
    headrooms,
    st.lists(st.floats(0.0, 20.0), min_size=3, max_size=3),
)
def test_more_headroom_never_lowers_an_allocation_within_a_tier(
    phases: tuple[int, ...], data: st.DataObject, headroom: list[float], extra: list[float]
) -> None:
    """Chargers sharing the same phases and step: without minimums every one gains; with
    them, every one gains while the same ones run, and no more of them stop."""
    minimum = data.draw(st.sampled_from([0.0, 6.0]))
    step = data.draw(st.sampled_from([1.0, 0.5, 0.1]))
    requests = data.draw(claims(same_tier=True, phases=phases, minimum=minimum, step=step))
    more = [h + e for h, e in zip(headroom, extra, strict=True)]
    before = allocate(requests, headroom)
    after = allocate(requests, more)
    running_before = {k for k, v in before.items() if v > 0}
    running_after = {k for k, v in after.items() if v > 0}
    assert sum(after.values()) >= sum(before.values()) - 1e-9
    if minimum > 0:
        assert len(running_after) >= len(running_before)
    if minimum == 0 or running_before == running_after:
        for key in before:
            assert after[key] >= before[key] - 1e-9


# --------------------------------------------------------------------------- control cycle


@st.composite
def sites(draw: st.DrawFn, *, one_phase: bool = False) -> tuple[BalancerConfig, dict[str, Car]]:
    """A site with one to four chargers in fast mode and their cars."""
    count = draw(st.integers(1, 4))
    chargers = []
    cars = {}
    for index in range(count):
        three = not one_phase and draw(st.booleans())
        rotation = (0, 1, 2) if one_phase else draw(st.sampled_from(ROTATIONS))
        key = f"c{index}"
        chargers.append(
            ChargerConfig(
                charger_id=key,
                phases=3 if three else 1,
                rotation=rotation,
                max_current=draw(st.sampled_from([10.0, 16.0, 32.0])),
                priority=0 if one_phase else draw(st.integers(0, 1)),
            )
        )
        status = draw(st.sampled_from([ChargerStatus.CHARGING, ChargerStatus.PLUGGED]))
        cars[key] = Car(
            status, offered=draw(st.sampled_from([0.0, 6.0, 16.0])), phases=3 if three else 1
        )
    if one_phase:
        site = SiteConfig(phases=1, phase_limits=(40.0,), margin=1.0)
    else:
        site = SiteConfig(phases=3, phase_limits=(25.0, 32.0, 40.0), margin=1.0)
    return BalancerConfig(site=site, chargers=tuple(chargers), tuning=Tuning()), cars


ROTATIONS = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
loads = st.lists(st.floats(0.0, 30.0), min_size=3, max_size=3)


@settings(max_examples=150, deadline=None)
@given(sites(), st.lists(loads, min_size=1, max_size=25))
def test_targets_never_exceed_their_share_or_the_phase_headroom(
    site: tuple[BalancerConfig, dict[str, Car]], history: list[list[float]]
) -> None:
    config, cars = site
    sim = Sim(config, cars=cars)
    for house in history:
        sim.house = list(house)
        decision = sim.tick()
        sim.now += 1.0
        assert decision.available is not None
        used = [0.0, 0.0, 0.0]
        for charger in config.chargers:
            target = decision.targets[charger.charger_id]
            assert target.current <= charger.max_current
            if target.reason is TargetReason.IDLE:
                continue
            assert target.current <= target.allocated + 1e-9
            for phase in charger.site_phases(target.phases):
                used[phase] += target.current
        for phase in range(3):
            assert used[phase] <= max(0.0, decision.available[phase]) + 1e-6


@settings(max_examples=150, deadline=None)
@given(sites(), st.lists(loads, min_size=1, max_size=25), loads)
def test_decreases_are_applied_in_full_on_the_same_step(
    site: tuple[BalancerConfig, dict[str, Car]], history: list[list[float]], house: list[float]
) -> None:
    config, cars = site
    sim = Sim(config, cars=cars)
    for load in [*history, house]:
        sim.house = list(load)
        assert sim.state is not None
        before = {k: r.target for k, r in sim.state.chargers.items() if r.known}
        decision = sim.tick()
        sim.now += 1.0
        for key, target in decision.targets.items():
            if key in before and target.command and target.allocated < before[key]:
                assert target.current in (target.allocated, 0.0)


@settings(max_examples=150, deadline=None)
@given(sites(one_phase=True), st.lists(loads, min_size=1, max_size=25), loads, loads)
def test_a_lower_headroom_never_yields_a_higher_total_on_the_same_step(
    site: tuple[BalancerConfig, dict[str, Car]],
    history: list[list[float]],
    house: list[float],
    extra: list[float],
) -> None:
    """One phase, one tier: the same cycle with more house load never offers more.

    (With tiers or mixed phase sets a higher tier's share, reserved while it ramps,
    can shrink under load and let a lower tier start: that is priority, not a slow
    decrease.)
    """
    config, cars = site
    sim = Sim(config, cars=cars)
    for load in history:
        sim.house = list(load)
        sim.tick()
        sim.now += 1.0
    assert sim.state is not None
    sim.house = list(house)
    roomy = step(config, sim.state, sim.inputs(), sim.now)
    sim.house = [h + e for h, e in zip(house, extra, strict=True)]
    tight = step(config, sim.state, sim.inputs(), sim.now)
    total_roomy = sum(t.current for t in roomy.targets.values())
    total_tight = sum(t.current for t in tight.targets.values())
    assert total_tight <= total_roomy + 1e-9


def _one_at_a_time(requests: list[Claim], headroom: float) -> set[str]:
    """Reference: single-phase water-filling that drops one charger per refill."""

    def rank(claim: Claim) -> tuple[float, str]:
        return (claim.energy, claim.charger_id)

    active = [c for c in requests if c.demand >= c.min_current]
    while active:
        room, left, level = headroom, len(active), math.inf
        for claim in sorted(active, key=lambda c: c.demand):
            if claim.demand * left <= room:
                room -= claim.demand
                left -= 1
            else:
                level = room / left
                break
        below = [c for c in active if min(c.demand, level) < c.min_current - 1e-9]
        if not below:
            return {c.charger_id for c in active}
        active.remove(max(below, key=rank))
    return set()


@FAST
@given(
    st.lists(st.floats(0.0, 32.0), min_size=1, max_size=30),
    st.lists(st.floats(0.0, 20.0), min_size=30, max_size=30),
    st.floats(0.0, 200.0),
)
def test_identical_chargers_drop_exactly_as_one_at_a_time(
    demands: list[float], energies: list[float], headroom: float
) -> None:
    requests = [
        Claim(charger_id=f"c{i:02d}", phases=(0,), demand=d, min_current=6.0, energy=energies[i])
        for i, d in enumerate(demands)
    ]
    result = allocate(requests, [headroom])
    assert {k for k, v in result.items() if v > 0} == _one_at_a_time(requests, headroom)
