"""Keys, names and defaults of the load balancer entry."""

from __future__ import annotations

from typing import Final

FEATURE_LOAD_BALANCER: Final = "load_balancer"
UNIQUE_ID: Final = "load_balancer"  # one balancer per site
TITLE: Final = "Load balancer"
EVENT_PREFIX: Final = "ev_charging_balancer_"

# The site and its meter.
CONF_PHASES: Final = "phases"
CONF_METER_KIND: Final = "meter_kind"
CONF_METER_ENTITIES: Final = "meter_entities"
CONF_SPLIT: Final = "total_power_split"
CONF_INCLUDES_CHARGERS: Final = "meter_includes_chargers"
CONF_GRID_POWER: Final = "grid_power_entity"
CONF_PHASE_LIMITS: Final = "phase_limits"
CONF_MARGIN: Final = "margin"
CONF_POWER_LIMIT: Final = "power_limit"
CONF_VOLTAGE: Final = "voltage"
# Behaviour.
CONF_FALLBACK: Final = "fallback"
CONF_STALE_AFTER: Final = "stale_after"
CONF_STOP_AFTER: Final = "stop_after"
CONF_HOLD_TIME: Final = "hold_time"
CONF_RAMP_STEP: Final = "ramp_step"
CONF_ENABLED: Final = "enabled"
# Chargers.
CONF_CHARGERS: Final = "chargers"
CONF_CHARGER_ID: Final = "charger_id"
CONF_PRIORITY: Final = "priority"
CONF_WEIGHT: Final = "weight"
CONF_ROTATION: Final = "rotation"
CONF_MAX_CURRENT: Final = "max_current"
CONF_FALLBACK_CURRENT: Final = "fallback_current"
CONF_MODE: Final = "mode"

# Form fields that are stored as lists.
METER_FIELDS: Final = ("meter_l1", "meter_l2", "meter_l3")
METER_TOTAL: Final = "meter_total"
LIMIT_FIELDS: Final = ("limit_l1", "limit_l2", "limit_l3")

ROTATIONS: Final[dict[str, tuple[int, int, int]]] = {
    "l1_l2_l3": (0, 1, 2),
    "l2_l3_l1": (1, 2, 0),
    "l3_l1_l2": (2, 0, 1),
}
DEFAULT_ROTATION: Final = "l1_l2_l3"

# Repair issues (translation keys; the issue ids add the phase or the charger).
ISSUE_METER_STALE: Final = "balancer_meter_stale"
ISSUE_IGNORES_LIMIT: Final = "balancer_charger_ignores_limit"
ISSUE_OVERLOAD: Final = "balancer_overload"

METER_ISSUE_AFTER: Final = 300.0  # s of meter outage before the repair issue
LIMIT_ISSUE_AFTER: Final = 60.0  # s a charger draws above its limit before the issue
LIMIT_ISSUE_MARGIN: Final = 2.0  # A above the limit that counts as ignoring it

# Actuation.
TICK_SECONDS: Final = 1.0
REASSERT_INTERVAL: Final = 30.0  # s before an accepted value the charger does not show is re-sent
BACKOFF: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # s after the 1st, 2nd... failure
COMMAND_TOLERANCE: Final = 0.5  # A between the target and the observed offer
STOP_TIMEOUT: Final = 10.0  # s a command in flight may take to end when the entry unloads
