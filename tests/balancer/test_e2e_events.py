"""Bus events and repair issues of the balancer, in a running Home Assistant."""

from __future__ import annotations

from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.enovates.conftest import SERIAL
from tests.simulators.enovates import EnovatesSimulator

from .conftest import Site, payloads, start_balancer, state, writes

pytestmark = pytest.mark.usefixtures("unload_all")

NAME = "ENO one"


async def test_events_carry_documented_payloads(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator, bus: dict[str, list[Event]]
) -> None:
    """A decrease, a pause, a meter outage, its end and a resume, each with its payload."""
    entry = await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    site.report(12, 3, 3)
    await site.settle()
    assert payloads(bus["allocation_changed"]) == [
        {
            "charger_id": SERIAL,
            "charger_name": NAME,
            "previous_a": 16.0,
            "current_a": 12.0,
            "phases": 3,
            "reason": "allocated",
        }
    ]
    assert bus["allocation_changed"][0].data["entry_id"] == entry.entry_id

    site.report(20, 3, 3)
    await site.settle()
    assert payloads(bus["charging_paused"]) == [
        {"charger_id": SERIAL, "charger_name": NAME, "previous_a": 12.0, "reason": "paused"}
    ]
    assert writes(eno) == [12000, 0]

    site.unavailable()
    await site.settle()
    assert payloads(bus["meter_unavailable"]) == [{"reason": "unavailable", "age_s": 0.0}]
    assert payloads(bus["fallback_engaged"]) == [{"mode": "fixed", "stage": "fallback"}]
    await site.run(10, report=False)
    site.report(3, 3, 3)
    await site.settle()
    assert payloads(bus["meter_restored"]) == [{"outage_s": 10.1}]  # + 0.1 s to report

    await site.run(20)  # off for 30 s and room for 15 s: resumed at the minimum
    assert payloads(bus["charging_resumed"]) == [
        {"charger_id": SERIAL, "charger_name": NAME, "current_a": 6.0, "kind": "resume"}
    ]
    assert writes(eno) == [12000, 0, 6000]


async def test_charger_ignoring_its_limit_raises_a_repair(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Drawing 20 A under a 16 A limit for a minute: a repair; following again: gone."""
    await start_balancer(hass)
    site.report(1, 1, 1)
    await site.settle()
    site.stubborn = 20.0
    await site.run(59)
    registry = ir.async_get(hass)
    issue_id = f"balancer_charger_ignores_limit_{SERIAL}"
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    await site.run(2)
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "balancer_charger_ignores_limit"
    assert issue.translation_placeholders == {"charger": NAME, "measured": "20", "limit": "16"}

    site.stubborn = None
    site.poke_draw(16)
    await site.run(1)
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_overload_watchdog_cuts_pauses_and_raises_a_repair(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator, bus: dict[str, list[Event]]
) -> None:
    """A car over its limit keeps the phases over: cut after 5 s, paused after 30 s."""
    await start_balancer(hass)
    site.report(8, 8, 8)
    await site.settle()
    site.stubborn = 20.0  # 8 + 20 = 28 A > 25 A on every phase
    await site.run(6)
    cut = payloads(bus["overload"])
    assert cut[0] | {"chargers": None} == {
        "phase": "L1",
        "measured_a": 28.0,
        "limit_a": 25.0,
        "stage": "cut",
        "chargers": None,
        "repair": False,
    }
    assert cut[0]["chargers"] == {SERIAL: 13.0}
    assert writes(eno)[0] == 13000
    assert state(hass, "sensor.load_balancer_state") == "overload"

    await site.run(25)
    paused = [p for p in payloads(bus["overload"]) if p["stage"] == "pause"]
    assert paused[0]["repair"] is True
    assert paused[0]["chargers"] == {SERIAL: 0.0}
    assert writes(eno)[-1] == 0
    registry = ir.async_get(hass)
    issue = registry.async_get_issue(DOMAIN, "balancer_overload_l1")
    assert issue is not None
    assert issue.translation_placeholders == {"phase": "L1", "measured": "28.0", "limit": "25.0"}

    site.stubborn = None
    site.poke_draw(0)
    await site.run(1)
    assert registry.async_get_issue(DOMAIN, "balancer_overload_l1") is None


async def test_meter_gone_for_long_raises_a_repair(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Five minutes without the meter: a repair issue; a reading removes it."""
    await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    site.unavailable()
    await site.settle()
    assert writes(eno) == [6000]
    await site.tick(120, report=False)
    assert writes(eno) == [6000, 0]  # stop_after: every car pauses
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, "balancer_meter_stale") is None
    await site.tick(180, report=False)
    issue = registry.async_get_issue(DOMAIN, "balancer_meter_stale")
    assert issue is not None
    assert issue.translation_placeholders == {
        "entities": "sensor.grid_l1, sensor.grid_l2, sensor.grid_l3",
        "minutes": "5",
    }
    site.report(3, 3, 3)
    await site.settle()
    assert registry.async_get_issue(DOMAIN, "balancer_meter_stale") is None
