"""Priority-tiered, phase-aware water-filling: how many amps each charger may take.

Tiers are served from the highest down; within a tier every charger rises with
the same level times its weight until it reaches its demand or one of the
constraints it sits on binds (a site phase, or the site power cap). A charger that
cannot reach its minimum is removed one at a time, lowest rank first, and the rest
refilled, so ten amps and two six-amp chargers give 10 / 0, never 0 / 0. Shares
are floored to each charger's step and the remainder is handed back in rank order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import heapq
import math

_EPS = 1e-9
POWER = 3  # index of the site power constraint, after the three phases
_CONSTRAINTS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """One charger asking for current this cycle."""

    charger_id: str
    phases: tuple[int, ...]  # site phases it draws from (0, 1, 2)
    demand: float  # A it would take at most
    min_current: float  # A below which it cannot run
    step: float = 1.0
    tier: int = 0
    weight: float = 1.0
    energy: float = 0.0  # kWh this session; more energy loses a tie


@dataclass(frozen=True, slots=True)
class _Item:
    key: str
    coefs: tuple[tuple[int, float], ...]  # (constraint, usage per unit)
    demand: float
    minimum: float
    weight: float
    rank: tuple[int, float, float, str]  # smaller is served first, dropped last


def rank_key(tier: int, weight: float, energy: float, key: str) -> tuple[int, float, float, str]:
    """Priority order: higher tier, then higher weight, then less energy, then id."""
    return (-tier, -weight, energy, key)


def floor_to_step(value: float, step: float) -> float:
    """``value`` rounded down to a multiple of ``step`` (tolerant of float noise)."""
    return round(math.floor(value / step + _EPS) * step, 6)


def allocate(
    claims: Sequence[Claim],
    headroom: Sequence[float],
    *,
    power_headroom: float | None = None,
    voltage: float = 230.0,
) -> dict[str, float]:
    """Share ``headroom`` (A per site phase) and ``power_headroom`` (W) between claims.

    Returns every claim's current: 0, or a value within [min, demand] on its step
    grid. The result does not depend on the order of ``claims``.
    """
    ids = [claim.charger_id for claim in claims]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate charger id")
    caps = [math.inf] * _CONSTRAINTS
    for phase, room in enumerate(headroom):
        caps[phase] = max(0.0, room)
    if power_headroom is not None:
        caps[POWER] = max(0.0, power_headroom / voltage)
    steps = {claim.charger_id: claim.step for claim in claims}
    items = [
        _Item(
            key=claim.charger_id,
            coefs=(*((p, 1.0) for p in claim.phases), (POWER, float(len(claim.phases)))),
            demand=claim.demand,
            minimum=claim.min_current,
            weight=claim.weight,
            rank=rank_key(claim.tier, claim.weight, claim.energy, claim.charger_id),
        )
        for claim in claims
    ]
    return _distribute(
        items, caps, lambda item, share: floor_to_step(share, steps[item.key]), steps
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerClaim:
    """A surplus-mode charger asking for a share of the surplus (W)."""

    charger_id: str
    demand: float  # W
    minimum: float  # W below which it gets nothing
    tier: int = 0
    weight: float = 1.0
    energy: float = 0.0


def share_power(claims: Sequence[PowerClaim], surplus: float) -> dict[str, float]:
    """Share ``surplus`` W between claims with the same tiers, weights and minimums."""
    caps = [math.inf] * _CONSTRAINTS
    caps[POWER] = max(0.0, surplus)
    items = [
        _Item(
            key=claim.charger_id,
            coefs=((POWER, 1.0),),
            demand=claim.demand,
            minimum=claim.minimum,
            weight=claim.weight,
            rank=rank_key(claim.tier, claim.weight, claim.energy, claim.charger_id),
        )
        for claim in claims
    ]
    return _distribute(items, caps, None, {})


def _distribute(
    items: Sequence[_Item],
    caps: list[float],
    rounding: Callable[[_Item, float], float] | None,
    steps: dict[str, float],
) -> dict[str, float]:
    result = {item.key: 0.0 for item in items}
    for tier in sorted({item.rank[0] for item in items}):
        members = sorted(
            (i for i in items if i.rank[0] == tier and i.demand > 0 and i.demand >= i.minimum),
            key=lambda i: i.rank,
        )
        shares = _feasible_fill(members, caps)
        if rounding is not None:
            shares = _round(members, shares, caps, rounding, steps)
        for item in members:
            for constraint, coef in item.coefs:
                caps[constraint] -= coef * shares[item.key]
        result.update(shares)
    return result


def _feasible_fill(members: list[_Item], caps: Sequence[float]) -> dict[str, float]:
    """Fill, then drop the lowest-ranked charger below its minimum and refill."""
    active = list(members)
    shares: dict[str, float] = {item.key: 0.0 for item in members}
    uniform = len({(i.coefs, i.weight, i.minimum) for i in members}) == 1
    while active:
        filled = _fill(active, caps)
        below = sorted(
            (item for item in active if filled[item.key] < item.minimum - _EPS),
            key=lambda i: i.rank,
        )
        if not below:
            shares.update(filled)
            break
        count = _drops_needed(active, below, caps) if uniform and len(below) > 1 else 1
        dropped = {item.key for item in below[-count:]}
        active = [item for item in active if item.key not in dropped]
    return shares


def _drops_needed(active: list[_Item], below: list[_Item], caps: Sequence[float]) -> int:
    """How many of the lowest-ranked ``below`` one-at-a-time dropping removes.

    Only for a tier of identical chargers: they all rise together, so dropping more
    only raises the others and a binary search finds the same point as dropping
    one at a time, in a logarithmic number of refills.
    """
    low, high = 1, len(below)  # dropping all of ``below`` always suffices
    while low < high:
        middle = (low + high) // 2
        dropped = {item.key for item in below[-middle:]}
        trial = [item for item in active if item.key not in dropped]
        filled = _fill(trial, caps)
        if any(filled[item.key] < item.minimum - _EPS for item in trial):
            low = middle + 1
        else:
            high = middle
    return low


def _fill(items: Sequence[_Item], caps: Sequence[float]) -> dict[str, float]:
    """Progressive filling: raise a common level until demands or constraints stop each."""
    room = list(caps)
    rate = [0.0] * _CONSTRAINTS  # weight of the unfrozen chargers on each constraint
    members = [0] * _CONSTRAINTS
    for item in items:
        for constraint, coef in item.coefs:
            rate[constraint] += coef * item.weight
            members[constraint] += 1
    alive = {item.key: item for item in items}
    by_demand = sorted(items, key=lambda i: (i.demand / i.weight, i.rank))
    shares: dict[str, float] = {}
    pos = 0

    def freeze(item: _Item, share: float) -> None:
        shares[item.key] = share
        del alive[item.key]
        for constraint, coef in item.coefs:
            room[constraint] -= coef * share
            members[constraint] -= 1
            rate[constraint] = (
                0.0 if members[constraint] == 0 else rate[constraint] - coef * item.weight
            )

    while alive:
        while by_demand[pos].key not in alive:
            pos += 1
        nearest = by_demand[pos]
        level_demand = nearest.demand / nearest.weight
        level_bound, bound = math.inf, -1
        for constraint in range(_CONSTRAINTS):
            if members[constraint] and rate[constraint] > 0:
                level = max(0.0, room[constraint]) / rate[constraint]
                if level < level_bound:
                    level_bound, bound = level, constraint
        if level_demand <= level_bound:
            freeze(nearest, nearest.demand)
            continue
        for item in [i for i in alive.values() if any(c == bound for c, _ in i.coefs)]:
            freeze(item, item.weight * level_bound)
    return shares


def _round(
    members: Sequence[_Item],
    shares: dict[str, float],
    caps: Sequence[float],
    rounding: Callable[[_Item, float], float],
    steps: dict[str, float],
) -> dict[str, float]:
    """Floor to the step grid, then hand the remainder back one step at a time.

    Each step goes to the charger whose level (current / weight) would stay the
    lowest, ties in priority order: discrete water-filling, so a little more
    headroom never takes a step away from anyone in a tier.
    """
    result: dict[str, float] = {}
    room = list(caps)
    for item in members:
        share = shares[item.key]
        value = max(item.minimum, rounding(item, share)) if share > 0 else 0.0
        result[item.key] = value
        for constraint, coef in item.coefs:
            room[constraint] -= coef * value

    def next_value(item: _Item) -> float:
        step = steps[item.key]
        return round((math.floor(result[item.key] / step + _EPS) + 1) * step, 6)

    # Dropped chargers (share 0) need their minimum first and get nothing here.
    queue = [(next_value(i) / i.weight, i.rank, i) for i in members if shares[i.key] > 0]
    heapq.heapify(queue)
    while queue:
        _, _, item = heapq.heappop(queue)
        raised = next_value(item)
        delta = raised - result[item.key]
        if raised > item.demand + _EPS or any(
            coef * delta > room[c] + _EPS for c, coef in item.coefs
        ):
            continue  # room only shrinks: it cannot take a step later either
        result[item.key] = raised
        for constraint, coef in item.coefs:
            room[constraint] -= coef * delta
        heapq.heappush(queue, (next_value(item) / item.weight, item.rank, item))
    return result
