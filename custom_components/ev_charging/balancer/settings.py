"""The balancer entry's stored settings, and the algorithm's configuration built from them.

Pure: no Home Assistant imports. The entry keeps plain JSON (``entry.data`` from the
config flow, ``entry.options`` from the options flow and the runtime entities; the
options win). Chargers are charge ports of charger entries, by charger id; what the
charger itself knows (minimum, maximum, step, capabilities) comes from its
``ChargerInfo`` while its entry is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..models import Capability, ChargerInfo
from .const import (
    CONF_CHARGER_ID,
    CONF_CHARGERS,
    CONF_ENABLED,
    CONF_FALLBACK,
    CONF_FALLBACK_CURRENT,
    CONF_GRID_POWER,
    CONF_HOLD_TIME,
    CONF_INCLUDES_CHARGERS,
    CONF_MARGIN,
    CONF_MAX_CURRENT,
    CONF_METER_ENTITIES,
    CONF_METER_KIND,
    CONF_MODE,
    CONF_PHASE_LIMITS,
    CONF_PHASES,
    CONF_POWER_LIMIT,
    CONF_PRIORITY,
    CONF_RAMP_STEP,
    CONF_ROTATION,
    CONF_SPLIT,
    CONF_STALE_AFTER,
    CONF_STOP_AFTER,
    CONF_VOLTAGE,
    CONF_WEIGHT,
    DEFAULT_ROTATION,
    ROTATIONS,
)
from .model import (
    BalancerConfig,
    ChargeMode,
    ChargerConfig,
    FallbackMode,
    MeterKind,
    SiteConfig,
    TotalPowerSplit,
    Tuning,
)

DEFAULT_MIN_CURRENT = 6.0
DEFAULT_MAX_CURRENT = 16.0


class _Entry(Protocol):
    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def options(self) -> Mapping[str, Any]: ...


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerSettings:
    """What the user set for one charge port."""

    charger_id: str
    priority: int = 0
    weight: float = 1.0
    rotation: str = DEFAULT_ROTATION
    phases: int = 1
    max_current: float | None = None  # A; None: the charger's own maximum
    fallback_current: float | None = None  # A; None: the charger's minimum
    mode: ChargeMode = ChargeMode.FAST

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChargerSettings:
        """Read one stored charger."""
        return cls(
            charger_id=str(data[CONF_CHARGER_ID]),
            priority=int(data.get(CONF_PRIORITY, 0)),
            weight=float(data.get(CONF_WEIGHT, 1.0)),
            rotation=str(data.get(CONF_ROTATION, DEFAULT_ROTATION)),
            phases=int(data.get(CONF_PHASES, 1)),
            max_current=_float(data.get(CONF_MAX_CURRENT)),
            fallback_current=_float(data.get(CONF_FALLBACK_CURRENT)),
            mode=ChargeMode(data.get(CONF_MODE, ChargeMode.FAST)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON the entry stores."""
        return {
            CONF_CHARGER_ID: self.charger_id,
            CONF_PRIORITY: self.priority,
            CONF_WEIGHT: self.weight,
            CONF_ROTATION: self.rotation,
            CONF_PHASES: self.phases,
            CONF_MAX_CURRENT: self.max_current,
            CONF_FALLBACK_CURRENT: self.fallback_current,
            CONF_MODE: self.mode.value,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerSettings:
    """Everything the balancer entry stores."""

    phases: int = 1
    meter_kind: MeterKind = MeterKind.PHASE_CURRENTS
    meter_entities: tuple[str, ...] = ()
    total_power_split: TotalPowerSplit = TotalPowerSplit.BALANCED
    meter_includes_chargers: bool = True
    grid_power_entity: str | None = None
    phase_limits: tuple[float, ...] = (25.0,)
    margin: float = 1.0
    power_limit: float | None = None  # W
    voltage: float = 230.0
    fallback: FallbackMode = FallbackMode.FIXED
    stale_after: float = 30.0
    stop_after: float | None = 120.0  # None: never stop because of the meter
    hold_time: float = 15.0
    ramp_step: float = 4.0
    enabled: bool = True
    chargers: tuple[ChargerSettings, ...] = field(default=())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BalancerSettings:
        """Read what an entry stores (``data | options``)."""
        defaults = cls()
        stop_after = _float(data.get(CONF_STOP_AFTER, defaults.stop_after))
        return cls(
            phases=int(data.get(CONF_PHASES, defaults.phases)),
            meter_kind=MeterKind(data.get(CONF_METER_KIND, defaults.meter_kind)),
            meter_entities=tuple(data.get(CONF_METER_ENTITIES, ())),
            total_power_split=TotalPowerSplit(data.get(CONF_SPLIT, defaults.total_power_split)),
            meter_includes_chargers=bool(data.get(CONF_INCLUDES_CHARGERS, True)),
            grid_power_entity=data.get(CONF_GRID_POWER) or None,
            phase_limits=tuple(float(v) for v in data.get(CONF_PHASE_LIMITS, (25.0,))),
            margin=float(data.get(CONF_MARGIN, defaults.margin)),
            power_limit=_float(data.get(CONF_POWER_LIMIT)),
            voltage=float(data.get(CONF_VOLTAGE, defaults.voltage)),
            fallback=FallbackMode(data.get(CONF_FALLBACK, defaults.fallback)),
            stale_after=float(data.get(CONF_STALE_AFTER, defaults.stale_after)),
            stop_after=stop_after or None,  # 0 turns the stop stage off
            hold_time=float(data.get(CONF_HOLD_TIME, defaults.hold_time)),
            ramp_step=float(data.get(CONF_RAMP_STEP, defaults.ramp_step)),
            enabled=bool(data.get(CONF_ENABLED, True)),
            chargers=tuple(ChargerSettings.from_dict(c) for c in data.get(CONF_CHARGERS, ())),
        )

    @classmethod
    def from_entry(cls, entry: _Entry) -> BalancerSettings:
        """An entry's settings: the config flow's data, overridden by the options."""
        return cls.from_mapping({**entry.data, **entry.options})

    def to_dict(self) -> dict[str, Any]:
        """The JSON the entry stores."""
        return {
            CONF_PHASES: self.phases,
            CONF_METER_KIND: self.meter_kind.value,
            CONF_METER_ENTITIES: list(self.meter_entities),
            CONF_SPLIT: self.total_power_split.value,
            CONF_INCLUDES_CHARGERS: self.meter_includes_chargers,
            CONF_GRID_POWER: self.grid_power_entity,
            CONF_PHASE_LIMITS: list(self.phase_limits),
            CONF_MARGIN: self.margin,
            CONF_POWER_LIMIT: self.power_limit,
            CONF_VOLTAGE: self.voltage,
            CONF_FALLBACK: self.fallback.value,
            CONF_STALE_AFTER: self.stale_after,
            CONF_STOP_AFTER: self.stop_after or 0,
            CONF_HOLD_TIME: self.hold_time,
            CONF_RAMP_STEP: self.ramp_step,
            CONF_ENABLED: self.enabled,
            CONF_CHARGERS: [c.to_dict() for c in self.chargers],
        }

    @property
    def charger_ids(self) -> tuple[str, ...]:
        """The balanced charge ports, in the order the user picked them."""
        return tuple(c.charger_id for c in self.chargers)

    def charger(self, charger_id: str) -> ChargerSettings:
        """One charger's settings."""
        return next(c for c in self.chargers if c.charger_id == charger_id)

    def with_charger(self, charger_id: str, **changes: Any) -> BalancerSettings:
        """A copy with one charger changed."""
        chargers = tuple(
            replace(c, **changes) if c.charger_id == charger_id else c for c in self.chargers
        )
        return replace(self, chargers=chargers)

    def entities(self) -> tuple[str, ...]:
        """Every entity the balancer reads."""
        extra = (self.grid_power_entity,) if self.grid_power_entity else ()
        return (*self.meter_entities, *extra)

    # ------------------------------------------------------------------ algorithm

    def site(self) -> SiteConfig:
        """The grid connection for the algorithm."""
        return SiteConfig(
            phases=self.phases,
            phase_limits=self.phase_limits,
            margin=self.margin,
            power_limit=self.power_limit,
            voltage=self.voltage,
            meter_kind=self.meter_kind,
            total_power_split=self.total_power_split,
            meter_includes_chargers=self.meter_includes_chargers,
            stale_after=self.stale_after,
            stop_after=self.stop_after,
            fallback=self.fallback,
        )

    def tuning(self) -> Tuning:
        """The control loop's timers (the rest keep their defaults)."""
        return Tuning(hold_time=self.hold_time, ramp_step=self.ramp_step)

    def charger_config(self, charger: ChargerSettings, info: ChargerInfo | None) -> ChargerConfig:
        """One charge port for the algorithm; ``info`` while its entry is loaded."""
        rotation = ROTATIONS.get(charger.rotation, ROTATIONS[DEFAULT_ROTATION])
        phases = min(charger.phases, self.phases)
        if self.phases == 1:
            rotation = ROTATIONS[DEFAULT_ROTATION]
        minimum = info.min_current if info is not None else DEFAULT_MIN_CURRENT
        own_max = info.max_current if info is not None else None
        limits = [v for v in (charger.max_current, own_max) if v is not None]
        maximum = max(minimum, min(limits) if limits else DEFAULT_MAX_CURRENT)
        fallback = charger.fallback_current
        return ChargerConfig(
            charger_id=charger.charger_id,
            phases=phases,
            rotation=rotation,
            min_current=minimum,
            max_current=maximum,
            step=info.current_step if info is not None and info.current_step > 0 else 1.0,
            priority=charger.priority,
            weight=charger.weight,
            mode=charger.mode,
            fallback_current=min(fallback, maximum) if fallback is not None else None,
            phase_switching=(
                info is not None and phases == 3 and info.can(Capability.PHASE_SWITCHING)
            ),
            can_set_current=info is None or info.can(Capability.SET_CURRENT),
        )

    def config(self, infos: Mapping[str, ChargerInfo]) -> BalancerConfig:
        """The algorithm's configuration with what the loaded chargers tell."""
        return BalancerConfig(
            site=self.site(),
            chargers=tuple(self.charger_config(c, infos.get(c.charger_id)) for c in self.chargers),
            tuning=self.tuning(),
        )
