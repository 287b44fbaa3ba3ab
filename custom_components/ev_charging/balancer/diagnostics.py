"""Diagnostics of the balancer entry: settings, the last decision, the command paths.

Chargers are numbered in the order of the settings: their ids carry serial numbers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import CONF_FEATURE
from .const import FEATURE_LOAD_BALANCER
from .controller import BalancerController


def is_balancer_entry(entry: ConfigEntry[Any]) -> bool:
    """Whether an entry is the load balancer."""
    return entry.data.get(CONF_FEATURE) == FEATURE_LOAD_BALANCER


async def async_balancer_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> dict[str, Any]:
    """What the balancer decided last and why, and how its commands fare."""
    controller: BalancerController = entry.runtime_data.controller
    numbers = {cid: f"charger_{n}" for n, cid in enumerate(controller.settings.charger_ids, 1)}
    settings = controller.settings.to_dict()
    for charger in settings["chargers"]:
        charger["charger_id"] = numbers[charger["charger_id"]]
    decision = controller.decision
    state = decision.state if decision is not None else controller.state
    chargers: dict[str, Any] = {}
    for config in controller.config.chargers:
        cid = config.charger_id
        actuator = controller.actuators[cid]
        runtime = state.chargers.get(cid)
        chargers[numbers[cid]] = {
            "loaded": controller.port(cid) is not None,
            "config": {k: v for k, v in asdict(config).items() if k != "charger_id"},
            "runtime": asdict(runtime) if runtime is not None else None,
            "commands": actuator.commands,
            "accepted": actuator.accepted,
            "failures": actuator.failures,
            "last_error": actuator.last_error,
            "latency_ms": actuator.latency_ms,
        }
    return {
        "settings": settings,
        "cycles": controller.cycles,
        "operating_state": controller.snapshot.operating_state.value,
        "available": controller.snapshot.available,
        "non_ev_load": controller.snapshot.non_ev_load,
        "site_power": controller.snapshot.site_power,
        "meter_age": decision.meter_age if decision is not None else None,
        "meter_period": state.meter_period,
        "meter_down_since": state.meter_down_since,
        "chargers": chargers,
    }
