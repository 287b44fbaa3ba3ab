"""The forms of the balancer's config, reconfigure and options flows, and their checks.

Four forms, then one per charger: the site (phases, what the meter measures), the
meter entities and the limits, the behaviour (fallback, timers), the chargers to
balance, and for each of them its priority, weight, wiring and mode. Every check
returns field -> translated error key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from ..models import ChargerInfo
from .const import (
    CONF_CHARGERS,
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
    LIMIT_FIELDS,
    METER_FIELDS,
    METER_TOTAL,
    ROTATIONS,
)
from .model import ChargeMode, FallbackMode, MeterKind, TotalPowerSplit
from .readings import CURRENT_UNITS, POWER_UNITS
from .settings import DEFAULT_MIN_CURRENT, BalancerSettings, ChargerSettings

PHASE_OPTIONS = ["1", "3"]
METER_DOMAINS = ["sensor", "input_number", "number"]
MAX_CURRENT = 80.0  # A, the largest charger current the form accepts


def _number(
    low: float,
    high: float,
    step: float | Literal["any"] = "any",
    unit: str | None = None,
) -> NumberSelector:
    config = NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _select(options: Sequence[str], key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=list(options), mode=SelectSelectorMode.DROPDOWN, translation_key=key
        )
    )


def _entity() -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain=METER_DOMAINS))


def _optional(key: str, value: Any) -> vol.Optional:
    return vol.Optional(key, description={"suggested_value": value})


# --------------------------------------------------------------------------- site


def site_schema(settings: BalancerSettings) -> vol.Schema:
    """Phases and what the meter measures."""
    return vol.Schema(
        {
            vol.Required(CONF_PHASES, default=str(settings.phases)): _select(
                PHASE_OPTIONS, "balancer_phases"
            ),
            vol.Required(CONF_METER_KIND, default=settings.meter_kind.value): _select(
                [kind.value for kind in MeterKind], "balancer_meter_kind"
            ),
            vol.Required(CONF_SPLIT, default=settings.total_power_split.value): _select(
                [split.value for split in TotalPowerSplit], "balancer_split"
            ),
            vol.Required(
                CONF_INCLUDES_CHARGERS, default=settings.meter_includes_chargers
            ): BooleanSelector(),
        }
    )


def site_values(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The site form as stored."""
    return {
        CONF_PHASES: int(user_input[CONF_PHASES]),
        CONF_METER_KIND: user_input[CONF_METER_KIND],
        CONF_SPLIT: user_input[CONF_SPLIT],
        CONF_INCLUDES_CHARGERS: user_input[CONF_INCLUDES_CHARGERS],
    }


# --------------------------------------------------------------------------- meter and limits


def meter_fields(settings: BalancerSettings) -> tuple[str, ...]:
    """The entity fields the meter kind needs."""
    if settings.meter_kind is MeterKind.TOTAL_POWER:
        return (METER_TOTAL,)
    return METER_FIELDS[: settings.phases]


def meter_schema(settings: BalancerSettings, previous: BalancerSettings) -> vol.Schema:
    """The meter entities and the limits (``previous`` pre-fills what still fits)."""
    schema: dict[Any, Any] = {}
    same_meter = (previous.meter_kind, previous.phases) == (settings.meter_kind, settings.phases)
    for index, field in enumerate(meter_fields(settings)):
        known = previous.meter_entities[index] if same_meter and previous.meter_entities else None
        schema[vol.Required(field, default=known or vol.UNDEFINED)] = _entity()
    schema[_optional(CONF_GRID_POWER, previous.grid_power_entity)] = _entity()
    for index, field in enumerate(LIMIT_FIELDS[: settings.phases]):
        limits = previous.phase_limits
        default = limits[index] if index < len(limits) else limits[0]
        schema[vol.Required(field, default=default)] = _number(1, 250, 0.5, "A")
    schema |= {
        vol.Required(CONF_MARGIN, default=previous.margin): _number(0, 20, 0.5, "A"),
        _optional(CONF_POWER_LIMIT, previous.power_limit): _number(1000, 1_000_000, 100, "W"),
        vol.Required(CONF_VOLTAGE, default=previous.voltage): _number(100, 480, 1, "V"),
    }
    return vol.Schema(schema)


def _unit_error(hass: HomeAssistant, entity_id: str, currents: bool) -> str | None:
    state = hass.states.get(entity_id)
    if state is None:
        return "meter_not_found"
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if currents:
        return None if unit in CURRENT_UNITS else "meter_unit_current"
    return None if unit in POWER_UNITS else "meter_unit_power"


def check_meter(
    hass: HomeAssistant, settings: BalancerSettings, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Entities exist and report in a unit the kind needs; limits leave room."""
    errors: dict[str, str] = {}
    currents = settings.meter_kind is MeterKind.PHASE_CURRENTS
    seen: set[str] = set()
    for field in meter_fields(settings):
        entity_id = user_input[field]
        if entity_id in seen:
            errors[field] = "meter_duplicate"
        elif (error := _unit_error(hass, entity_id, currents)) is not None:
            errors[field] = error
        seen.add(entity_id)
    grid = user_input.get(CONF_GRID_POWER)
    if grid and (error := _unit_error(hass, grid, currents=False)) is not None:
        errors[CONF_GRID_POWER] = error
    limits = [user_input[field] for field in LIMIT_FIELDS[: settings.phases]]
    if user_input[CONF_MARGIN] >= min(limits):
        errors[CONF_MARGIN] = "margin_too_large"
    power_limit = user_input.get(CONF_POWER_LIMIT)
    if power_limit is not None and power_limit < DEFAULT_MIN_CURRENT * user_input[CONF_VOLTAGE]:
        errors[CONF_POWER_LIMIT] = "power_limit_too_low"
    return errors


def meter_values(settings: BalancerSettings, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The meter form as stored."""
    return {
        CONF_METER_ENTITIES: [user_input[field] for field in meter_fields(settings)],
        CONF_GRID_POWER: user_input.get(CONF_GRID_POWER) or None,
        CONF_PHASE_LIMITS: [float(user_input[f]) for f in LIMIT_FIELDS[: settings.phases]],
        CONF_MARGIN: float(user_input[CONF_MARGIN]),
        CONF_POWER_LIMIT: user_input.get(CONF_POWER_LIMIT),
        CONF_VOLTAGE: float(user_input[CONF_VOLTAGE]),
    }


# --------------------------------------------------------------------------- behaviour


def behaviour_schema(settings: BalancerSettings) -> vol.Schema:
    """The fallback and the control loop's timers."""
    return vol.Schema(
        {
            vol.Required(CONF_FALLBACK, default=settings.fallback.value): _select(
                [mode.value for mode in FallbackMode], "balancer_fallback"
            ),
            vol.Required(CONF_STALE_AFTER, default=settings.stale_after): _number(5, 600, 1, "s"),
            vol.Required(CONF_STOP_AFTER, default=settings.stop_after or 0): _number(
                0, 3600, 1, "s"
            ),
            vol.Required(CONF_HOLD_TIME, default=settings.hold_time): _number(0, 600, 1, "s"),
            vol.Required(CONF_RAMP_STEP, default=settings.ramp_step): _number(0.5, 32, 0.5, "A"),
        }
    )


def check_behaviour(user_input: Mapping[str, Any]) -> dict[str, str]:
    """The stop stage comes after the fallback."""
    stop_after = user_input[CONF_STOP_AFTER]
    if stop_after and stop_after <= user_input[CONF_STALE_AFTER]:
        return {CONF_STOP_AFTER: "stop_after_too_short"}
    return {}


# --------------------------------------------------------------------------- chargers


def chargers_schema(choices: Mapping[str, str], picked: Sequence[str]) -> vol.Schema:
    """Which charge ports to balance."""
    options = [SelectOptionDict(value=cid, label=name) for cid, name in choices.items()]
    return vol.Schema(
        {
            vol.Required(CONF_CHARGERS, default=[c for c in picked if c in choices]): (
                SelectSelector(
                    SelectSelectorConfig(
                        options=options, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            )
        }
    )


def charger_defaults(
    charger_id: str, info: ChargerInfo | None, previous: BalancerSettings, site_phases: int
) -> ChargerSettings:
    """What the charger form starts from: the stored settings, else the charger's facts."""
    if charger_id in previous.charger_ids:
        return previous.charger(charger_id)
    phases = info.phases if info is not None and info.phases in (1, 3) else site_phases
    return ChargerSettings(
        charger_id=charger_id,
        phases=min(phases or 1, site_phases),
        max_current=info.max_current if info is not None else None,
    )


def charger_schema(defaults: ChargerSettings, site_phases: int) -> vol.Schema:
    """Priority, weight, wiring, maximum, fallback current and mode of one charger."""
    schema: dict[Any, Any] = {
        vol.Required(CONF_PRIORITY, default=defaults.priority): vol.All(
            _number(0, 10, 1), vol.Coerce(int)
        ),
        vol.Required(CONF_WEIGHT, default=defaults.weight): _number(0.1, 10, 0.1),
    }
    if site_phases == 3:
        schema[vol.Required(CONF_PHASES, default=str(min(defaults.phases, 3)))] = _select(
            PHASE_OPTIONS, "balancer_phases"
        )
        schema[vol.Required(CONF_ROTATION, default=defaults.rotation)] = _select(
            list(ROTATIONS), "balancer_rotation"
        )
    schema[_optional(CONF_MAX_CURRENT, defaults.max_current)] = _number(1, MAX_CURRENT, 0.1, "A")
    schema[_optional(CONF_FALLBACK_CURRENT, defaults.fallback_current)] = _number(
        0, MAX_CURRENT, 0.1, "A"
    )
    schema[vol.Required(CONF_MODE, default=defaults.mode.value)] = _select(
        [mode.value for mode in ChargeMode], "balancer_mode"
    )
    return vol.Schema(schema)


def check_charger(user_input: Mapping[str, Any], info: ChargerInfo | None) -> dict[str, str]:
    """The maximum is not below the charger's minimum; the fallback not above the maximum."""
    minimum = info.min_current if info is not None else DEFAULT_MIN_CURRENT
    maximum = user_input.get(CONF_MAX_CURRENT)
    if maximum is not None and maximum < minimum:
        return {CONF_MAX_CURRENT: "charger_max_below_min"}
    fallback = user_input.get(CONF_FALLBACK_CURRENT)
    ceiling = maximum if maximum is not None else (info.max_current if info else None)
    if fallback is not None and ceiling is not None and fallback > ceiling:
        return {CONF_FALLBACK_CURRENT: "fallback_above_max"}
    return {}


def charger_values(charger_id: str, user_input: Mapping[str, Any]) -> ChargerSettings:
    """The charger form as stored."""
    return ChargerSettings(
        charger_id=charger_id,
        priority=int(user_input[CONF_PRIORITY]),
        weight=float(user_input[CONF_WEIGHT]),
        rotation=user_input.get(CONF_ROTATION, DEFAULT_ROTATION),
        phases=int(user_input.get(CONF_PHASES, 1)),
        max_current=user_input.get(CONF_MAX_CURRENT),
        fallback_current=user_input.get(CONF_FALLBACK_CURRENT),
        mode=ChargeMode(user_input[CONF_MODE]),
    )
