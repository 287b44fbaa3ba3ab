"""The entities a single-charger balancer's users know, on the balancer device:
the last command per charger, whether a charger is limited, its maximum current,
the hold time and the configured meter fallback."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest

from tests.enovates.conftest import SERIAL
from tests.simulators.enovates import FULL_CONTROL, MONITORING_ONLY, EnovatesSimulator

from .conftest import Site, attrs, controller_of, start_balancer, state, writes

pytestmark = pytest.mark.usefixtures("unload_all")

LAST = "sensor.load_balancer_eno_one_last_command"
LIMITED = "binary_sensor.load_balancer_eno_one_limited"
MAXIMUM = "number.load_balancer_eno_one_maximum_current"
HOLD = "number.load_balancer_hold_time"
FALLBACK = "sensor.load_balancer_meter_fallback"


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
    )
    await hass.async_block_till_done()


async def test_last_command_after_a_decrease(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Unknown before the first command; then what was sent, why, confirmed, how fast."""
    await start_balancer(hass)
    assert state(hass, LAST) == "unknown"
    assert attrs(hass, LAST)["status"] is None
    site.report(5, 5, 5)
    await site.settle()
    site.report(12, 5, 5)  # L1: 12 + 16 > 24 -> 12 A
    await site.settle()
    assert writes(eno) == [12000]
    assert state(hass, LAST) == "set_current"
    last = attrs(hass, LAST)
    assert last["target_current"] == 12.0
    assert last["reason"] == "allocated"
    assert last["status"] == "confirmed"
    assert last["last_error"] is None
    assert last["retry_count"] == 0
    assert last["latency_ms"] >= 0
    assert last["timestamp"] == dt_util.utcnow().isoformat()  # sent on the meter event
    assert last["options"] == ["set_current", "start", "stop"]
    entry = er.async_get(hass).async_get(LAST)
    assert entry is not None
    assert entry.entity_category is EntityCategory.DIAGNOSTIC


async def test_last_command_when_the_charger_refuses(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """A refused pause: failed with the error, retried with a rising count, then confirmed."""
    await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    eno.set_ems_mode(MONITORING_ONLY)  # writes are acknowledged and ignored
    site.report(3, 21, 3)  # no room: pause
    await site.settle()
    last = attrs(hass, LAST)
    assert state(hass, LAST) == "set_current"
    assert last["target_current"] == 0.0
    assert last["reason"] == "paused"
    assert last["status"] == "failed"
    assert last["retry_count"] == 1
    assert last["last_error"]
    assert last["latency_ms"] >= 0
    error = last["last_error"]

    await site.tick()  # the retry after 1 s fails too
    last = attrs(hass, LAST)
    assert last["status"] == "failed"
    assert last["retry_count"] == 2
    assert last["last_error"] == error

    eno.set_ems_mode(FULL_CONTROL)
    await site.run(2)  # after the 2 s back-off it is delivered
    last = attrs(hass, LAST)
    assert writes(eno) == [0]
    assert last["status"] == "confirmed"
    assert last["retry_count"] == 0
    assert last["last_error"] is None


async def test_last_command_shows_a_retry_in_flight(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """While a retry is on the wire the status says so, with the failures before it."""
    entry = await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    eno.set_ems_mode(MONITORING_ONLY)
    site.report(3, 21, 3)
    await site.settle()
    seen: list[tuple[str | None, int | None]] = []
    actuator = controller_of(entry).actuators[SERIAL]

    def record() -> None:
        found = hass.states.get(LAST)
        assert found is not None
        seen.append((found.attributes["status"], found.attributes["retry_count"]))

    controller_of(entry).add_listener(record)
    await site.tick()
    assert actuator.failures == 2
    assert ("retrying", 1) in seen
    assert seen[-1] == ("failed", 2)


async def test_limited_follows_the_house_load(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """On while the car gets less than its maximum; off at its maximum or without a car."""
    await start_balancer(hass)
    assert state(hass, LIMITED) == "off"  # starting: nothing decided
    site.report(5, 5, 5)
    await site.settle()
    assert state(hass, LIMITED) == "off"  # 16 A, its maximum
    site.report(12, 5, 5)
    await site.settle()
    assert state(hass, LIMITED) == "on"  # 12 A
    site.report(2, 2, 2)
    await site.run(14)
    assert state(hass, LIMITED) == "on"  # the increase is held
    await site.run(2)
    assert writes(eno) == [12000, 16000]
    assert state(hass, LIMITED) == "off"
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.load_balancer_eno_one_mode", "option": "off"},
        blocking=True,
    )
    await site.tick()
    assert state(hass, LIMITED) == "off"  # off by the user: idle, not limited


async def test_maximum_current_caps_the_charger(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Between the charger's limits, its maximum by default; a lower cap is sent at once,
    the balancer does not count it as limiting, and it survives a reload."""
    entry = await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    assert state(hass, MAXIMUM) == "16.0"
    assert attrs(hass, MAXIMUM)["min"] == 6.0
    assert attrs(hass, MAXIMUM)["max"] == 16.0
    await _set(hass, MAXIMUM, 10)
    assert state(hass, MAXIMUM) == "10.0"
    assert writes(eno) == [10000]
    assert entry.options["chargers"][0]["max_current"] == 10.0
    assert controller_of(entry).config.chargers[0].max_current == 10.0
    await site.tick()
    assert state(hass, LIMITED) == "off"  # at the user's cap
    site.report(12, 3, 3)  # 12 + 10 <= 24: the cap still fits
    await site.settle()
    assert writes(eno) == [10000]
    registry_entry = er.async_get(hass).async_get(MAXIMUM)
    assert registry_entry is not None
    assert registry_entry.entity_category is EntityCategory.CONFIG

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, MAXIMUM) == "10.0"
    site.report(3, 3, 3)
    await site.run(30)
    assert writes(eno) == [10000]  # never above the cap


async def test_maximum_current_of_a_charger_not_loaded(hass: HomeAssistant, site: Site) -> None:
    """Without its entry the range is the defaults, the value its default maximum."""
    await start_balancer(hass)
    number = f"number.load_balancer_{SERIAL.lower()}_maximum_current"
    assert state(hass, number) == "16.0"
    assert attrs(hass, number)["min"] == 6.0
    assert attrs(hass, number)["max"] == 16.0


async def test_hold_time_number_delays_the_increase(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """A hold time of 30 s: the increase waits 30 s instead of 15, without a reload."""
    entry = await start_balancer(hass)
    assert state(hass, HOLD) == "15.0"
    await _set(hass, HOLD, 30)
    assert state(hass, HOLD) == "30.0"
    assert entry.options["hold_time"] == 30.0
    assert controller_of(entry).config.tuning.hold_time == 30.0
    site.report(12, 5, 5)
    await site.settle()
    assert writes(eno) == [12000]
    site.report(2, 2, 2)
    await site.run(29)
    assert writes(eno) == [12000]
    assert state(hass, "sensor.load_balancer_state") == "ramp_hold"
    await site.run(2)
    assert writes(eno) == [12000, 16000]


async def test_hold_time_number_shortens_the_hold(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Lowered to 5 s: the increase comes after 5 s."""
    await start_balancer(hass)
    await _set(hass, HOLD, 5)
    site.report(12, 5, 5)
    await site.settle()
    site.report(2, 2, 2)
    await site.run(4)
    assert writes(eno) == [12000]
    await site.run(2)
    assert writes(eno) == [12000, 16000]


async def test_fallback_sensor_shows_the_configured_behaviour(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Fixed by default with the charger's fixed current; follows the options."""
    entry = await start_balancer(hass)
    assert state(hass, FALLBACK) == "fixed"
    assert attrs(hass, FALLBACK)["fixed_current"] == {"ENO one": 6.0}
    assert attrs(hass, FALLBACK)["options"] == ["stop", "hold", "fixed"]
    options = {**entry.data, "fallback": "stop"}
    options["chargers"] = [{**entry.data["chargers"][0], "fallback_current": 8.0}]
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()
    assert state(hass, FALLBACK) == "stop"
    assert attrs(hass, FALLBACK)["fixed_current"] == {"ENO one": 8.0}
    registry_entry = er.async_get(hass).async_get(FALLBACK)
    assert registry_entry is not None
    assert registry_entry.entity_category is EntityCategory.DIAGNOSTIC
