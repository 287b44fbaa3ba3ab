"""Constants of the ev_charging integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "ev_charging"
LOGGER = logging.getLogger(__package__)

CONF_BACKEND: Final = "backend"
CONF_FEATURE: Final = "feature"
CONF_DUAL_PORT: Final = "dual_port"
CONF_EMS_CONTROL: Final = "ems_control"

ATTR_CURRENT: Final = "current"

SERVICE_START_CHARGING: Final = "start_charging"
SERVICE_STOP_CHARGING: Final = "stop_charging"
SERVICE_SET_CURRENT: Final = "set_current"
SERVICE_REFRESH: Final = "refresh"
