"""The session tracker over the OCPP proxy backend: the fake ``ocpp`` integration behind.

A household with Alice and her card ``ABC123``; the charger is one connector of the
``ocpp`` integration.  A card read for a transaction attributes that transaction; the
integration's id-tag sensor keeps showing the card afterwards, which must not attribute
a later transaction started from Home Assistant.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.sessions.directory import UnknownReason
from custom_components.ev_charging.sessions.records import SessionRecord
from custom_components.ev_charging.sessions.tracker import SessionTracker
from tests.simulators.fake_ocpp import ChargerBehaviour, FakeOcpp

from .conftest import EntryFactory, FakeFactory, our_entity, settle

CID = "ocpp_charger_1"
TAG = "ABC123"
ALICE = "alice00000000000000000000"
ALICE_CARD = "card00000000000000000000a"
HOUSEHOLD_ID = "household0000000000000000"
PRICE = 0.30  # EUR/kWh, static
REGISTER_KWH = 1012.345  # the fake charger's lifetime register at the start


def household() -> MockConfigEntry:
    """The household entry as the flows create it: Alice and her card, a static price."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=HOUSEHOLD_ID,
        title="Charging sessions",
        data={"feature": "sessions"},
        options={"mode": "static", "price_per_kwh": PRICE, "guest_method": "none"},
        subentries_data=[
            {
                "subentry_id": ALICE,
                "subentry_type": "user",
                "title": "Alice",
                "unique_id": "user_alice",
                "data": {"name": "Alice", "type": "resident", "guest_method": "default"},
            },
            {
                "subentry_id": ALICE_CARD,
                "subentry_type": "card",
                "title": f"{TAG} (Alice)",
                "unique_id": f"card_{TAG}",
                "data": {"uid": TAG, "user_id": ALICE, "active": True},
            },
        ],
    )


class Site:
    """The fake charger, our charger entry and the household tracker, on one clock."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        fake: FakeOcpp,
        tracker: SessionTracker,
    ) -> None:
        self.hass = hass
        self.freezer = freezer
        self.fake = fake
        self.tracker = tracker
        self.register_kwh = REGISTER_KWH

    def session(self, key: str) -> Any:
        """A session sensor of the charge port (state, attributes)."""
        state = self.hass.states.get(our_entity(self.hass, "sensor", f"tracker_{key}", CID))
        assert state is not None
        return state

    def lifetime(self) -> float | None:
        """Our lifetime energy sensor of the charge port."""
        state = self.hass.states.get(our_entity(self.hass, "sensor", "lifetime_energy", CID))
        assert state is not None
        return None if state.state == "unknown" else float(state.state)

    async def start(self, start_with: str) -> None:
        """Start charging from Home Assistant: our switch or the action."""
        if start_with == "switch":
            entity_id = our_entity(self.hass, "switch", "charging_enabled", CID)
            await self.hass.services.async_call(
                "switch", "turn_on", {"entity_id": entity_id}, blocking=True
            )
        else:
            device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, CID)})
            assert device is not None
            await self.hass.services.async_call(
                DOMAIN, "start_charging", {"device_id": device.id}, blocking=True
            )

    def household(self, entity_id: str) -> str:
        """A household-wide sensor's state."""
        state = self.hass.states.get(entity_id)
        assert state is not None
        return state.state

    async def settle(self, seconds: float = 1.0) -> None:
        """Let the debounced push through."""
        await settle(self.hass, self.freezer, seconds)

    async def charge(self, minutes: int, power_w: float) -> float:
        """MeterValues once a minute at ``power_w``, the register rising with it; kWh added."""
        step_kwh = power_w / 60 / 1000
        start = self.register_kwh
        for minute in range(1, minutes + 1):
            self.register_kwh = round(start + step_kwh * minute, 3)
            self.fake.meter(1, power_w=power_w, energy_kwh=self.register_kwh)
            await self.settle(60)
        return round(self.register_kwh - start, 3)

    async def records(self) -> list[SessionRecord]:
        """Completed sessions, oldest first."""
        records = await self.tracker.store.async_records()
        return sorted(records, key=lambda record: record.plugged_in_at)


@pytest.fixture(params=[False, True], ids=["lifetime_register", "session_register"])
def behaviour(request: pytest.FixtureRequest) -> ChargerBehaviour:
    """A charger whose energy register counts for ever, or from 0 in each transaction."""
    return ChargerBehaviour(session_energy_meter=request.param)


@pytest.fixture
def register_known() -> bool:
    """Whether a clock-aligned MeterValues showed the register before the car came."""
    return True


@pytest.fixture
async def site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_fake: FakeFactory,
    make_entry: EntryFactory,
    behaviour: ChargerBehaviour,
    register_known: bool,
) -> Site:
    """The fake ``ocpp`` charger, our proxy entry over it, then the household."""
    fake = await make_fake(behaviour=behaviour)
    if register_known:
        fake.meter(1)
    await make_entry(fake)
    entry = household()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return Site(hass, freezer, fake, entry.runtime_data.tracker)


def _payloads(events: list[Event[Any]]) -> list[dict[str, Any]]:
    return [dict(event.data) for event in events]


@pytest.mark.parametrize("start_with", ["switch", "action"])
async def test_rfid_transaction_is_alices_and_a_remote_start_is_not(
    hass: HomeAssistant, site: Site, start_with: str
) -> None:
    """Card ABC123 -> Alice's priced session; a remote start after it -> unassigned."""
    started = async_capture_events(hass, "ev_charging_session_started")
    completed = async_capture_events(hass, "ev_charging_session_completed")
    cancelled = async_capture_events(hass, "ev_charging_session_cancelled")
    fake = site.fake
    session_register = fake.charger.behaviour.session_energy_meter
    assert site.session("session_state").state == "idle"
    assert site.lifetime() == REGISTER_KWH

    # -- Alice: plug in, card, StartTransaction, 30 min at 7.2 kW, stop, unplug --------
    fake.plug_in(1)
    await site.settle()
    assert site.session("session_state").state == "waiting"
    fake.authorize(1, TAG)
    tx = fake.start_transaction(1, TAG)
    await site.settle()
    assert site.session("session_state").state == "active"
    user = site.session("session_user")
    assert user.state == "Alice"
    assert (user.attributes["user_id"], user.attributes["card_uid"]) == (ALICE, TAG)
    assert [(e["user_name"], e["card_uid"]) for e in _payloads(started)] == [("Alice", TAG)]

    alice_kwh = await site.charge(30, power_w=7200.0)
    assert alice_kwh == 3.6
    assert float(site.session("session_energy").state) == alice_kwh
    assert float(site.session("session_cost").state) == round(alice_kwh * PRICE, 4)
    # A register counting the session is not the lifetime register (which stands still).
    assert site.lifetime() == (None if session_register else 1015.945)
    fake.stop_transaction(1, "Local")
    await site.settle()
    fake.unplug(1)
    await site.settle()

    (alice,) = await site.records()
    assert (alice.user_id, alice.user_name, alice.card_uid) == (ALICE, "Alice", TAG)
    assert alice.unknown_reason is None
    assert alice.energy_kwh == 3.6
    assert alice.cost == round(3.6 * PRICE, 4) == 1.08
    assert (alice.price_source, alice.currency) == ("static", "EUR")
    # Plugged at +1 s; charging from the first MeterValues (+62 s) to Finishing (+1803 s).
    assert (alice.connection_seconds, alice.charging_seconds) == (1803, 1741)
    assert alice.flags == frozenset()
    if session_register:  # no lifetime reading spans the session: nothing to cross-check
        assert (alice.lifetime_start_kwh, alice.lifetime_end_kwh) == (None, None)
        assert site.session("energy_deviation").state == "unknown"
    else:
        assert (alice.lifetime_start_kwh, alice.lifetime_end_kwh) == (REGISTER_KWH, 1015.945)
        assert site.session("energy_deviation").state == "0.0"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"energy_mismatch_{CID}") is None
    assert [e["session_id"] for e in _payloads(completed)] == [alice.id]
    done = completed[0].data
    assert (done["user_id"], done["user_name"], done["user_type"]) == (ALICE, "Alice", "resident")
    assert (done["card_uid"], done["unknown_reason"]) == (TAG, None)
    assert (done["energy_kwh"], done["cost"], done["price_source"]) == (3.6, 1.08, "static")
    assert (done["charger_id"], done["currency"]) == (CID, "EUR")
    assert site.session("session_state").state == "idle"
    assert site.household("sensor.alice_charging_sessions") == "1"
    assert float(site.household("sensor.alice_charged_energy")) == 3.6

    fake.meter(1)  # the next clock-aligned MeterValues shows the register again
    await site.settle()
    assert site.lifetime() == 1015.945

    # -- a transaction started from Home Assistant: the id-tag sensor still shows ABC123
    fake.plug_in(1)
    await site.settle()
    await site.start(start_with)
    await site.settle()
    id_tag = hass.states.get(f"sensor.{fake.charger.cpid}_id_tag")
    assert id_tag is not None
    assert id_tag.state == TAG
    assert fake.charger.connector(1).transaction_id not in (None, tx)
    assert fake.charger.connector(1).tx_id_tag != TAG  # the integration's own remote tag
    # No card for this transaction: the session starts once energy flows.
    assert site.session("session_state").state == "waiting"
    remote_kwh = await site.charge(1, power_w=6000.0)
    assert site.session("session_state").state == "active"
    user = site.session("session_user")
    assert user.state == "unknown"
    assert (user.attributes["user_id"], user.attributes["card_uid"]) == (None, None)
    assert user.attributes["unknown_reason"] == UnknownReason.NO_CARD

    remote_kwh += await site.charge(9, power_w=6000.0)
    assert remote_kwh == 1.0
    assert site.session("session_user").state == "unknown"  # no card turns up later
    fake.stop_transaction(1, "Remote")
    await site.settle()
    fake.unplug(1)
    await site.settle()

    first, remote = await site.records()
    assert first == alice
    assert (remote.user_id, remote.user_name, remote.card_uid) == (None, None, None)
    assert remote.unknown_reason is UnknownReason.NO_CARD
    assert remote.energy_kwh == 1.0
    assert remote.cost == round(1.0 * PRICE, 4)
    assert remote.price_source == "static"
    assert remote.flags == frozenset()
    if not session_register:
        assert (remote.lifetime_start_kwh, remote.lifetime_end_kwh) == (1015.945, 1016.945)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"energy_mismatch_{CID}") is None
    assert [e["session_id"] for e in _payloads(completed)] == [alice.id, remote.id]
    done = completed[1].data
    assert (done["user_id"], done["user_name"], done["card_uid"]) == (None, None, None)
    assert done["unknown_reason"] == "no_card"
    assert (done["energy_kwh"], done["cost"]) == (1.0, 0.3)
    assert [(e["user_name"], e["unknown_reason"]) for e in _payloads(started)] == [
        ("Alice", None),
        (None, "no_card"),
    ]
    assert cancelled == []
    # Alice's totals did not move; the household counts one unassigned session.
    assert site.household("sensor.alice_charging_sessions") == "1"
    assert float(site.household("sensor.alice_charged_energy")) == 3.6
    assert site.household("sensor.charging_sessions_unassigned_sessions") == "1"
    assert float(site.household("sensor.charging_sessions_unassigned_energy")) == 1.0


@pytest.mark.parametrize("register_known", [False])
async def test_first_session_after_the_integration_started(hass: HomeAssistant, site: Site) -> None:
    """The register is unknown until the first MeterValues: the session energy still counts
    from StartTransaction, and a counter first read mid-session is no cross-check."""
    fake = site.fake
    assert site.lifetime() is None
    fake.plug_in(1)
    fake.authorize(1, TAG)
    fake.start_transaction(1, TAG)
    await site.settle()
    assert await site.charge(20, power_w=11_040.0) == 3.68
    fake.stop_transaction(1)
    fake.unplug(1)
    await site.settle()

    (record,) = await site.records()
    assert (record.user_name, record.card_uid) == ("Alice", TAG)
    assert record.energy_kwh == 3.68
    assert record.cost == round(3.68 * PRICE, 4)
    assert record.flags == frozenset()
    # The register was first read after 0.184 kWh had flowed: it does not span the session.
    assert (record.lifetime_start_kwh, record.lifetime_end_kwh) == (None, None)
    assert site.session("energy_deviation").state == "unknown"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"energy_mismatch_{CID}") is None
