"""The load balancer driving an OCPP charger: the fake ``ocpp`` integration behind.

A three-phase house of 25 A per phase (1 A margin) with a current meter per phase at
the grid connection; one OCPP charger (connector 1) with a car charging at 16 A in a
transaction. The meter entities are set by the test (house load plus what the car
draws); the car draws what the charger offers, up to 16 A. Every limit the balancer
sets reaches the charger as a SetChargingProfile frame, recorded by the fake.
"""

from __future__ import annotations

import asyncio
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_charging.balancer.const import FEATURE_LOAD_BALANCER, UNIQUE_ID
from custom_components.ev_charging.balancer.settings import BalancerSettings, ChargerSettings
from custom_components.ev_charging.const import DOMAIN
from tests.simulators.fake_ocpp import FakeOcpp

from .conftest import RFID, EntryFactory, FakeFactory, our_entity

CID = "ocpp_charger_1"
METER = ("sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3")
DEMAND = 16.0  # A the car draws per phase when it may
FALLBACK = 8.0  # A the charger gets while the meter is away


def balancer_entry() -> MockConfigEntry:
    """The balancer entry as the config flow creates it, over the OCPP charge port."""
    settings = BalancerSettings(
        phases=3,
        meter_entities=METER,
        phase_limits=(25.0, 25.0, 25.0),
        margin=1.0,
        chargers=(
            ChargerSettings(
                charger_id=CID,
                phases=3,
                max_current=16.0,
                fallback_current=FALLBACK,
            ),
        ),
    )
    return MockConfigEntry(
        domain=DOMAIN,
        title="Load balancer",
        unique_id=UNIQUE_ID,
        data={"feature": FEATURE_LOAD_BALANCER, **settings.to_dict()},
    )


class House:
    """The house load, the meter that sees it with the car, and the clock."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory, fake: FakeOcpp):
        self.hass = hass
        self.freezer = freezer
        self.fake = fake
        self.load: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.tx: int | None = None
        # A limit the charger does not follow keeps its command waiting for the
        # confirmation (on the frozen clock): the loop is run, not waited dry.
        self.commands_wait = False

    # -- the car and the charger ---------------------------------------------------

    def car(self) -> tuple[float, ...]:
        """What the car draws per phase now (the charger's last MeterValues)."""
        return self.fake.charger.connector(1).sample.currents

    def offered(self) -> float:
        """What the charger offers the car under its profiles."""
        return self.fake.charger.offered_current(1)

    def follow(self) -> None:
        """The car takes what it is offered (up to its demand); the charger reports it."""
        draw = min(DEMAND, self.offered())
        if self.car() != (draw,) * 3:
            self.fake.meter(1, currents=(draw,) * 3)

    def limits(self) -> list[float]:
        """The limit of every SetChargingProfile frame the charger received, in order."""
        return [
            frame.payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0][
                "limit"
            ]
            for frame in self.fake.frames
            if frame.action == "SetChargingProfile"
        ]

    def profiles(self) -> list[dict[str, Any]]:
        """The SetChargingProfile frames (payload and answer)."""
        return [
            {"payload": frame.payload, "response": frame.response}
            for frame in self.fake.frames
            if frame.action == "SetChargingProfile"
        ]

    # -- the meter -----------------------------------------------------------------

    def report(self, *load: float) -> None:
        """The meter reports the house load (when given) plus the car, fresh now."""
        if load:
            self.load = (load[0], load[1], load[2])
            self.freezer.tick(0.1)  # a new reading is a later one
        for phase, entity_id in enumerate(METER):
            value = round(self.load[phase] + self.car()[phase], 2)
            self.hass.states.async_set(entity_id, str(value), {"unit_of_measurement": "A"})

    def unavailable(self) -> None:
        """The meter entities become unavailable."""
        for entity_id in METER:
            self.hass.states.async_set(entity_id, "unavailable")

    # -- time ----------------------------------------------------------------------

    async def settle(self) -> None:
        """Let what runs finish (or reach its next wait on the clock)."""
        if not self.commands_wait:
            await self.hass.async_block_till_done()
            return
        for _ in range(50):
            await asyncio.sleep(0)

    async def tick(self, *, report: bool = True) -> None:
        """One second: the timers run, the car follows its offer and the charger's
        MeterValues reach our entities, then the meter reports."""
        for _ in range(2):
            self.freezer.tick(0.5)
            async_fire_time_changed(self.hass)
            await self.settle()
            self.follow()
        if report:
            self.report()
        await self.settle()

    async def run(self, seconds: int, **kwargs: Any) -> None:
        """``seconds`` one-second ticks."""
        for _ in range(seconds):
            await self.tick(**kwargs)

    # -- our entities --------------------------------------------------------------

    def ours(self, platform: str, key: str) -> str:
        """The state of one of our entities of the charge port."""
        state = self.hass.states.get(our_entity(self.hass, platform, key, CID))
        assert state is not None
        return state.state

    def balancer(self, entity_id: str) -> str:
        """The state of a balancer entity."""
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state


async def _charging_house(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
    **fake_kwargs: Any,
) -> House:
    """The fake charger with a car charging at 16 A (RFID transaction), our entry over
    it, a quiet house on the meter and the balancer started."""
    fake = await make_fake(**fake_kwargs)
    await make_entry(fake)
    house = House(hass, freezer, fake)
    fake.plug_in(1)
    fake.authorize(1, RFID)
    house.tx = fake.start_transaction(1, RFID)
    fake.meter(1, currents=(DEMAND,) * 3)
    await house.tick(report=False)
    assert house.ours("sensor", "status") == "charging"
    assert house.ours("sensor", "current_offered") == "16.0"

    entry = balancer_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    house.report(5, 5, 5)  # 21 A per phase with the car: 16 A fits
    await house.tick()
    assert house.balancer("sensor.load_balancer_state") == "active"
    assert house.limits() == []
    return house


def _tx_profile(limit: float, tx: int | None) -> dict[str, Any]:
    """The frame our backend sends for a limit in a running transaction."""
    return {
        "payload": {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 4101,
                "stackLevel": 1,
                "chargingProfileKind": "Relative",
                "chargingProfilePurpose": "TxProfile",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                },
                "transactionId": tx,
            },
        },
        "response": {"status": "Accepted"},
    }


async def test_a_rising_house_load_lowers_the_limit_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """L1 rises to 12 A: a TxProfile of 12 A for the running transaction on connector 1,
    sent on the meter event; the charger offers 12 A and the car follows."""
    house = await _charging_house(hass, freezer, make_fake, make_entry)
    house.report(12, 5, 5)  # L1: 12 + 16 > 24
    await hass.async_block_till_done()
    assert house.profiles() == [_tx_profile(12.0, house.tx)]
    rates = [c.data for c in house.fake.calls if c.service == "ocpp.set_charge_rate"]
    assert [(r["devid"], r["conn_id"]) for r in rates] == [("charger", 1)]
    assert house.offered() == 12.0

    await house.tick()
    assert hass.states.get("sensor.charger_current_offered").state == "12.0"  # type: ignore[union-attr]
    assert house.ours("sensor", "current_offered") == "12.0"
    assert house.ours("sensor", "current_l1") == "12.0"
    assert house.ours("number", "charging_current") == "12.0"
    assert house.balancer("sensor.load_balancer_charger_allocated_current") == "12.0"
    await house.run(5)
    assert house.limits() == [12.0]  # nothing re-sent while the charger shows 12 A


async def test_a_falling_house_load_raises_the_limit_after_the_hold_in_steps(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """Down to 6 A at once; room again: 10, 14, 16 A, the first after the 15 s hold,
    then one 4 A step every 10 s."""
    house = await _charging_house(hass, freezer, make_fake, make_entry)
    house.report(18, 5, 5)  # L1: 18 + 16 > 24: down to what is left, at once
    await house.settle()
    assert house.limits() == [6.0]

    house.report(2, 2, 2)
    await house.run(14)
    assert house.limits() == [6.0]
    assert house.balancer("sensor.load_balancer_state") == "ramp_hold"
    await house.run(2)
    assert house.limits() == [6.0, 10.0]
    await house.run(10)
    assert house.limits() == [6.0, 10.0, 14.0]
    await house.run(10)
    assert house.limits() == [6.0, 10.0, 14.0, 16.0]
    await house.run(20)
    assert house.limits() == [6.0, 10.0, 14.0, 16.0]
    assert house.profiles()[-1] == _tx_profile(16.0, house.tx)
    assert house.car() == (16.0, 16.0, 16.0)
    assert house.ours("sensor", "current_offered") == "16.0"


async def test_meter_unavailable_sends_the_fallback_current(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """The meter goes away: the configured 8 A at once, held while it stays away."""
    house = await _charging_house(hass, freezer, make_fake, make_entry)
    house.unavailable()
    await hass.async_block_till_done()
    assert house.profiles() == [_tx_profile(FALLBACK, house.tx)]
    await house.run(10, report=False)
    assert house.limits() == [FALLBACK]
    assert house.balancer("sensor.load_balancer_state") == "fallback"
    assert house.balancer("binary_sensor.load_balancer_fallback_active") == "on"
    assert house.ours("sensor", "current_offered") == "8.0"
    assert house.car() == (8.0, 8.0, 8.0)


async def test_a_charger_ignoring_its_limit_raises_the_repair(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
) -> None:
    """Profiles accepted, 16 A offered and drawn anyway: L1 stays over its limit, so the
    chargers are paused and the phase reported after 30 s; the charger itself after a
    minute above its limit. Following again, both notices go."""
    house = await _charging_house(hass, freezer, make_fake, make_entry, ignore_limits=True)
    house.commands_wait = True
    registry = ir.async_get(hass)
    ignores = f"balancer_charger_ignores_limit_{CID}"
    house.report(12, 5, 5)  # L1: 12 + 16 = 28 A
    await house.settle()
    assert house.profiles() == [_tx_profile(12.0, house.tx)]

    await house.run(29)
    assert house.offered() == 16.0
    assert house.car() == (16.0, 16.0, 16.0)
    assert registry.async_get_issue(DOMAIN, "balancer_overload_l1") is None
    await house.run(2)
    overload = registry.async_get_issue(DOMAIN, "balancer_overload_l1")
    assert overload is not None
    assert overload.translation_placeholders == {"phase": "L1", "measured": "28.0", "limit": "25.0"}
    assert house.limits() == [12.0, 0.0]  # the pause, ignored as well
    assert house.balancer("sensor.load_balancer_charger_allocated_current") == "0.0"

    await house.run(28)
    assert registry.async_get_issue(DOMAIN, ignores) is None
    await house.run(2)
    issue = registry.async_get_issue(DOMAIN, ignores)
    assert issue is not None
    assert issue.translation_key == "balancer_charger_ignores_limit"
    assert issue.translation_placeholders == {"charger": "charger", "measured": "16", "limit": "0"}
    assert house.ours("sensor", "current_offered") == "16.0"

    # The charger follows its profiles again: the pause, re-sent, takes; the car stops.
    house.fake.charger.behaviour.ignore_limits = False
    await house.run(2)
    assert house.limits() == [12.0, 0.0, 0.0]
    assert house.profiles()[-1] == _tx_profile(0.0, house.tx)
    assert house.offered() == 0.0
    assert house.car() == (0.0, 0.0, 0.0)
    assert house.ours("sensor", "status") == "suspended_evse"
    assert registry.async_get_issue(DOMAIN, ignores) is None
    assert registry.async_get_issue(DOMAIN, "balancer_overload_l1") is None
