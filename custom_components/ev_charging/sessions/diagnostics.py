"""Diagnostics of the household entry: settings, engines, store; no names, no cards."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import CONF_FEATURE
from .const import FEATURE_SESSIONS
from .pricing import SpotPrice
from .tracker import SessionTracker

TO_REDACT = {
    "name",
    "user_name",
    "vehicle_name",
    "card_uid",
    "uid",
    "last_tag",
    "pending_tag",
    "last_transaction",
    "spot_entity",
    "id",  # session ids carry the charger's serial number
    "session_id",
}


def is_sessions_entry(entry: ConfigEntry[Any]) -> bool:
    """Whether an entry is the household entry."""
    return entry.data.get(CONF_FEATURE) == FEATURE_SESSIONS


async def async_sessions_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> dict[str, Any]:
    """The tracker's state, personal data redacted; chargers are numbered."""
    tracker: SessionTracker = entry.runtime_data.tracker
    store = tracker.store
    tariff = tracker.tariff
    numbers = {cid: f"charger_{i}" for i, cid in enumerate(tracker.charger_ids, start=1)}
    data: dict[str, Any] = {
        "options": dict(entry.options),
        "subentries": [
            {"type": sub.subentry_type, "data": dict(sub.data)} for sub in entry.subentries.values()
        ],
        "tariff": None
        if tariff is None
        else {
            "source": tariff.nominal_source.value,
            "currency": tariff.currency,
            "spot_intervals": len(tariff.energy.prices.intervals)
            if isinstance(tariff.energy, SpotPrice)
            else None,
        },
        "chargers": {
            number: {
                "attached": tracker.attached(cid),
                "phase": tracker.phase(cid).value,
                "deviation": (found := tracker.deviation(cid)) and found[0],
            }
            for cid, number in numbers.items()
        },
        "store": {
            "months": {month: store.period("all", [month]).sessions for month in store.months},
            "sessions": store.count(),
            "active": {
                numbers.get(cid, "charger"): {
                    k: v for k, v in snapshot.items() if k != "charger_id"
                }
                for cid, snapshot in store.active.items()
            },
            "problems": [problem.key for problem in store.problems],
        },
    }
    redacted: dict[str, Any] = async_redact_data(data, TO_REDACT)
    return redacted
