"""A charger that can only start and stop (AMPECO cloud): balanced at its maximum or off."""

from __future__ import annotations

from collections.abc import AsyncIterator

from homeassistant.core import HomeAssistant
import pytest

from tests.ampeco.conftest import CHARGER, open_login, password_form
from tests.simulators.ampeco_cloud import AmpecoCloud

from .conftest import Site, attrs, start_balancer, state

pytestmark = pytest.mark.usefixtures("unload_all")

START = "POST /app/session/start"
STOP = "POST /app/session/{session_id}/{action}"
LAST = "sensor.load_balancer_garage_charger_last_command"
CAR = 7200 / 230 / 3  # A per phase the simulated car draws while charging


@pytest.fixture
async def cloud(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[AmpecoCloud]:
    """The fake cloud with one charge point, its account added through the flow."""
    cloud = AmpecoCloud()
    await cloud.start()
    flow_id = await open_login(hass, "ampeco_password")
    result = await hass.config_entries.flow.async_configure(flow_id, password_form(cloud))
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    yield cloud
    await cloud.stop()


def _stops(cloud: AmpecoCloud) -> int:
    return cloud.requests[STOP]


async def _report(site: Site, cloud: AmpecoCloud, house: float) -> None:
    charging = cloud.evse().session is not None and cloud.evse().power_w > 0
    draw = CAR if charging and cloud.evse().status == "charging" else 0.0
    site.report(*(house + draw,) * 3)
    await site.settle()


async def _run(site: Site, cloud: AmpecoCloud, house: float, seconds: int) -> None:
    for _ in range(seconds):
        cloud.advance(1)
        await site.tick(report=False)
        await _report(site, cloud, house)


async def test_started_with_room_for_its_maximum_and_stopped_without(
    hass: HomeAssistant, site: Site, cloud: AmpecoCloud
) -> None:
    """16 A or nothing: started when 16 A fit, stopped when not, resumed after the off-time."""
    await start_balancer(hass, chargers=[{"charger_id": CHARGER, "phases": 3}])
    cloud.plug_in()
    await site.refresh()
    await _report(site, cloud, 12)  # 12 A free: not enough for its 16 A
    await _run(site, cloud, 12, 3)
    assert cloud.requests[START] == 0
    await _report(site, cloud, 5)  # 19 A free: started
    assert cloud.requests[START] == 1
    assert state(hass, LAST) == "start"
    await _run(site, cloud, 5, 5)
    assert state(hass, "sensor.load_balancer_garage_charger_allocated_current") == ("16.0")
    assert cloud.evse().status == "charging"

    await _report(site, cloud, 12)  # 12 A free: stopped at once
    assert _stops(cloud) == 1
    assert state(hass, LAST) == "stop"
    assert attrs(hass, LAST)["status"] == "confirmed"
    await _run(site, cloud, 12, 20)  # the session ends; still a pause, not a new start
    assert cloud.requests[START] == 1
    assert _stops(cloud) == 1
    await _run(site, cloud, 5, 14)  # room again: off for 30 s and room for 15 s first
    assert cloud.requests[START] == 1
    await _run(site, cloud, 5, 2)
    assert cloud.requests[START] == 2
