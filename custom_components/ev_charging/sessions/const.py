"""Keys and defaults of the household entry (the session tracker)."""

from __future__ import annotations

from typing import Final

FEATURE_SESSIONS: Final = "sessions"
EVENT_PREFIX: Final = "ev_charging_"

# Subentry types.
SUBENTRY_USER: Final = "user"
SUBENTRY_VEHICLE: Final = "vehicle"
SUBENTRY_CARD: Final = "card"

# Options of the household entry: pricing.
CONF_MODE: Final = "mode"
MODE_STATIC: Final = "static"
MODE_SPOT: Final = "spot"
MODE_TIME_OF_USE: Final = "time_of_use"
MODES: Final = (MODE_STATIC, MODE_SPOT, MODE_TIME_OF_USE)
CONF_PRICE: Final = "price_per_kwh"
CONF_SPOT_ENTITY: Final = "spot_entity"
CONF_FALLBACK_PRICE: Final = "fallback_price"
CONF_PERIODS: Final = "periods"
CONF_DEFAULT_PRICE: Final = "default_price"
CONF_ADDITIONAL_COST: Final = "additional_cost_per_kwh"
CONF_MULTIPLIER: Final = "multiplier"
CONF_GUEST_METHOD: Final = "guest_method"
CONF_GUEST_VALUE: Final = "guest_value"

# Options of the household entry: history and checks.
CONF_RETENTION_MONTHS: Final = "retention_months"
CONF_MIN_SESSION_S: Final = "min_session_s"
CONF_MIN_SESSION_KWH: Final = "min_session_kwh"
CONF_CROSSCHECK_PCT: Final = "crosscheck_threshold_pct"

DEFAULT_RETENTION_MONTHS: Final = 36  # 0 keeps everything
DEFAULT_MIN_SESSION_S: Final = 60
DEFAULT_MIN_SESSION_KWH: Final = 0.05
DEFAULT_CROSSCHECK_PCT: Final = 5.0
CROSSCHECK_MIN_KWH: Final = 0.2  # smaller differences are counter resolution, not a problem

# Guest pricing choices of a user ("default": the household's guest pricing).
GUEST_DEFAULT: Final = "default"
GUEST_NONE: Final = "none"
GUEST_FIXED: Final = "fixed"
GUEST_MARKUP: Final = "markup"

# User subentry data.
CONF_NAME: Final = "name"
CONF_USER_TYPE: Final = "type"
CONF_ACTIVE: Final = "active"
# Vehicle subentry data.
CONF_CAPACITY: Final = "usable_capacity_kwh"
CONF_EFFICIENCY: Final = "efficiency"
# Card subentry data.
CONF_UID: Final = "uid"
CONF_INDEX: Final = "index"
CONF_CHARGER: Final = "charger_id"
CONF_USER: Final = "user_id"
CONF_VEHICLE: Final = "vehicle_id"

# How often the active sessions are saved while energy flows (besides every transition).
SNAPSHOT_INTERVAL_S: Final = 60

# Dispatcher signals.
SIGNAL_CHARGER: Final = "ev_charging_sessions_charger_{}"
SIGNAL_STATS: Final = "ev_charging_sessions_stats"

# Repair issues (translation keys under "issues").
ISSUE_CORRUPT_STORE: Final = "corrupt_session_store"
ISSUE_ENERGY_MISMATCH: Final = "session_energy_mismatch"

EXPORT_DIR: Final = "ev_charging_exports"
