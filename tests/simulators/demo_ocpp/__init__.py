"""A stand-in for the ``ocpp`` custom integration, for the demo.

The demo installs this package as ``custom_components/ocpp`` in its configuration
directory.  It has the real integration's devices, entity ids, unique ids, states and
actions (built from the pure layers of ``tests.simulators.fake_ocpp``) for a simulated
charger, and plays a charging session on every connector in a loop
(:mod:`.scenario`), so that the EV Charging integration can proxy it like a real one.

It needs the repository root on ``PYTHONPATH`` (it imports ``tests.simulators``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

try:
    from tests.simulators.fake_ocpp import (
        DOMAIN,
        PLATFORMS,
        SERVICE_SCHEMAS,
        Call,
        ChargePointModel,
        OcppActions,
        build_entities,
        device_specs,
        entity_specs,
    )
except ModuleNotFoundError as err:  # pragma: no cover - a set-up mistake of the demo
    raise ImportError(
        "The ocpp demo stand-in imports tests.simulators.fake_ocpp: start Home Assistant "
        "with the ev_charging repository root on PYTHONPATH"
    ) from err

from .scenario import DemoScenario

_LOGGER = logging.getLogger(__name__)

TICK = timedelta(seconds=10)
HEARTBEAT_TICKS = 30  # the charger's HeartbeatInterval (300 s) in ticks
_KEPT = 200  # frames, messages and calls kept for inspection
VENDOR = "Demo Charging Co"
MODEL = "DemoBox 22"


@dataclass(slots=True)
class DemoCentralSystem:
    """What a loaded entry holds: the chargers, their stories, the actions received."""

    csid: str
    models: list[ChargePointModel]
    scenarios: list[DemoScenario] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    ticks: int = 0

    def entities(self, entry: ConfigEntry[Any], platform: str) -> list[Entity]:
        """The entities of one platform, for every charger of the entry."""
        configs = dict(_chargers(entry))
        entities: list[Entity] = []
        for model in self.models:
            cfg = configs[model.ocpp_id]
            specs = entity_specs(
                model.cpid, cfg["num_connectors"], cfg["monitored_variables"].split(",")
            )
            entities.extend(build_entities(platform, model, specs, self.calls))
        return entities

    @callback
    def tick(self, _now: datetime | None = None) -> None:
        """One step of every story; old records are dropped so memory stays flat."""
        self.ticks += 1
        for scenario in self.scenarios:
            what = scenario.step()
            _LOGGER.debug("%s connector %s: %s", scenario.model.cpid, scenario.connector, what)
        for model in self.models:
            if self.ticks % HEARTBEAT_TICKS == 0:
                model.heartbeat()
            del model.frames[:-_KEPT]
            del model.messages[:-_KEPT]
        del self.calls[:-_KEPT]


type DemoOcppConfigEntry = ConfigEntry[DemoCentralSystem]


def _chargers(entry: ConfigEntry[Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    return [(ocpp_id, cfg) for item in entry.data["cpids"] for ocpp_id, cfg in item.items()]


def _model(ocpp_id: str, cfg: dict[str, Any]) -> ChargePointModel:
    return ChargePointModel(
        cpid=cfg["cpid"],
        ocpp_id=ocpp_id,
        num_connectors=cfg["num_connectors"],
        measurands=cfg["monitored_variables"].split(","),
        vendor=VENDOR,
        model=MODEL,
        serial=f"DEMO-{ocpp_id.upper()}",
        max_current=cfg["max_current"],
        clock=dt_util.utcnow,
    )


async def async_setup_entry(hass: HomeAssistant, entry: DemoOcppConfigEntry) -> bool:
    """Register the devices, actions and entities, connect the chargers, start the stories."""
    csid = entry.data["csid"]
    central = DemoCentralSystem(csid, [_model(i, cfg) for i, cfg in _chargers(entry)])
    entry.runtime_data = central
    devices = dr.async_get(hass)
    for model in central.models:
        for spec in device_specs(model.cpid, model.ocpp_id, csid, model.num_connectors):
            devices.async_get_or_create(
                config_entry_id=entry.entry_id,
                identifiers=set(spec.identifiers),
                name=spec.name,
                via_device=(DOMAIN, spec.via) if spec.via else None,
            )
        model.schedule = _scheduler(hass, entry)
        central.scenarios.extend(
            # Connectors take turns so that a two-connector charger shows both at work.
            DemoScenario(model, n, tick=TICK.total_seconds(), idle_ticks=3 + 15 * (n - 1))
            for n in range(1, model.num_connectors + 1)
        )
    OcppActions(lambda: central.models, central.calls).register(hass)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    for model in central.models:
        model.connect()  # BootNotification: the device learns its vendor and model
        device = devices.async_get_device(identifiers={(DOMAIN, model.cpid)})
        assert device is not None
        devices.async_update_device(
            device.id, manufacturer=model.vendor, model=model.model, sw_version=model.firmware
        )
    entry.async_on_unload(
        async_track_time_interval(hass, central.tick, TICK, name="ocpp demo charging")
    )
    return True


def _scheduler(hass: HomeAssistant, entry: ConfigEntry[Any]) -> Any:
    """What the charger does after answering a command runs a moment later."""

    def schedule(job: Any) -> None:
        async def run() -> None:
            job()

        entry.async_create_task(hass, run(), "ocpp demo charger reply", eager_start=False)

    return schedule


async def async_unload_entry(hass: HomeAssistant, entry: DemoOcppConfigEntry) -> bool:
    """Remove the entities; the actions go with the last entry."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    others = [e for e in hass.config_entries.async_loaded_entries(DOMAIN) if e is not entry]
    if unloaded and not others:
        for name in SERVICE_SCHEMAS:
            hass.services.async_remove(DOMAIN, name)
    return unloaded
