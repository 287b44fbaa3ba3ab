"""Repair issues of the balancer: a meter gone for long, a charger ignoring its limit,
a phase that stays overloaded. Each is raised while the problem lasts and removed as
soon as it is gone (and when the entry unloads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..models import Capability, ChargerStatus
from .actuator import Port
from .const import (
    ISSUE_IGNORES_LIMIT,
    ISSUE_METER_STALE,
    ISSUE_OVERLOAD,
    LIMIT_ISSUE_AFTER,
    LIMIT_ISSUE_MARGIN,
    METER_ISSUE_AFTER,
)
from .model import PHASE_NAMES, BalancerEvent, Decision, EventType


class Issues:
    """Keeps the repair issues in step with what the balancer sees."""

    def __init__(self, hass: HomeAssistant, meter: Callable[[], str]) -> None:
        self.hass = hass
        self._meter = meter  # the meter entities, for the text
        self._open: set[str] = set()
        self._limit_since: dict[str, float] = {}

    def _raise(self, issue_id: str, key: str, placeholders: Mapping[str, str]) -> None:
        if issue_id in self._open:
            return
        self._open.add(issue_id)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders=dict(placeholders),
        )

    def _clear(self, issue_id: str) -> None:
        if issue_id in self._open:
            self._open.discard(issue_id)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    def update(
        self,
        decision: Decision,
        now: float,
        ports: Mapping[str, Port],
        commanded: Mapping[str, float | None],
    ) -> None:
        """Raise or clear the issues after a cycle."""
        self._meter_issue(decision, now)
        self._overload_issues(decision)
        for charger_id in set(self._limit_since) - set(ports):
            self._limit_since.pop(charger_id)
        for charger_id, port in ports.items():
            self._limit_issue(charger_id, port, commanded.get(charger_id), now)

    def _meter_issue(self, decision: Decision, now: float) -> None:
        since = decision.state.meter_down_since
        if since is None:
            self._clear(ISSUE_METER_STALE)
        elif now - since >= METER_ISSUE_AFTER:
            minutes = str(round((now - since) / 60))
            self._raise(
                ISSUE_METER_STALE,
                ISSUE_METER_STALE,
                {"entities": self._meter(), "minutes": minutes},
            )

    def overload(self, event: BalancerEvent) -> None:
        """The watchdog paused the chargers of a phase that stays over its limit."""
        if event.type is EventType.OVERLOAD and event.data.get("repair"):
            phase = str(event.data["phase"])
            self._raise(
                f"{ISSUE_OVERLOAD}_{phase.lower()}",
                ISSUE_OVERLOAD,
                {
                    "phase": phase,
                    "measured": str(event.data["measured_a"]),
                    "limit": str(event.data["limit_a"]),
                },
            )

    def _overload_issues(self, decision: Decision) -> None:
        for index, phase in enumerate(PHASE_NAMES):
            if not decision.state.overload_paused[index]:
                self._clear(f"{ISSUE_OVERLOAD}_{phase.lower()}")

    def _limit_issue(
        self, charger_id: str, port: Port, commanded: float | None, now: float
    ) -> None:
        """A charger that draws well above the limit it accepted, for a while."""
        issue_id = f"{ISSUE_IGNORES_LIMIT}_{charger_id}"
        state = port.state
        limit = commanded if commanded is not None else state.current_limit
        drawn = [c for c in (state.currents.as_tuple() if state.currents else ()) if c is not None]
        over = (
            port.info.can(Capability.SET_CURRENT)
            and state.status is ChargerStatus.CHARGING
            and limit is not None
            and bool(drawn)
            and max(drawn) > limit + LIMIT_ISSUE_MARGIN
        )
        if not over:
            self._limit_since.pop(charger_id, None)
            self._clear(issue_id)
            return
        since = self._limit_since.setdefault(charger_id, now)
        if now - since >= LIMIT_ISSUE_AFTER:
            self._raise(
                issue_id,
                ISSUE_IGNORES_LIMIT,
                {
                    "charger": port.info.name,
                    "measured": f"{max(drawn):g}",
                    "limit": f"{limit:g}",
                },
            )

    def clear_all(self) -> None:
        """The entry unloads: nothing is watched any more."""
        for issue_id in list(self._open):
            self._clear(issue_id)
