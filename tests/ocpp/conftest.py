"""Fixtures of the ``ocpp`` tests: the fake integration in a real hass, the measured dumps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from tests.simulators.fake_ocpp import FakeOcpp

DATA_DIR = Path(__file__).parent.parent / "simulators" / "data" / "ocpp"
# The measured runs happened at this time; freezing it makes timestamps comparable.
MEASURED_AT = "2026-11-21T17:06:28+00:00"


def load_dump(name: str) -> Any:
    """A measured dump of the real integration."""
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


type FakeFactory = Callable[..., Awaitable[FakeOcpp]]


@pytest.fixture
async def make_fake(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> AsyncIterator[FakeFactory]:
    """Set up a FakeOcpp (``connect=False`` leaves the charger away); closed at the end."""
    freezer.move_to(MEASURED_AT)
    assert await async_setup_component(hass, "homeassistant", {})
    created: list[FakeOcpp] = []

    async def make(*, connect: bool = True, **kwargs: Any) -> FakeOcpp:
        fake = FakeOcpp(hass, **kwargs)
        created.append(fake)
        await fake.async_setup(connect=connect)
        return fake

    yield make
    for fake in created:
        fake.close()


@pytest.fixture
async def fake(make_fake: FakeFactory) -> FakeOcpp:
    """One connected single-connector charger."""
    return await make_fake()
