"""Long-term statistics of each user's charging energy and cost, for the Energy panel.

Each user gets two external statistics, ``ev_charging:user_<name>_energy`` (kWh) and
``ev_charging:user_<name>_cost`` (the household currency); sessions nobody claimed go
to ``ev_charging:unassigned_*``. A session's energy is spread over the clock hours of
its charging time in proportion to time. A completed session appends hourly rows to
the cumulative sum; an edit (assignment, deletion) or a session ending before the last
written hour recomputes the rows from that hour on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import slugify

from ..const import DOMAIN
from .aggregates import BUCKET_UNKNOWN, Totals, user_bucket
from .directory import Directory
from .records import SessionRecord

_HOUR = timedelta(hours=1)


def hourly_shares(record: SessionRecord) -> list[tuple[datetime, float]]:
    """The clock hours (UTC starts) of a session's charging time and each one's share."""
    start, end = record.charging_started_at, record.charging_ended_at
    if start is None or end is None or end <= start:
        start, end = record.started_at, record.ended_at
    if end <= start:
        return [(_floor(end), 1.0)]
    total = (end - start).total_seconds()
    shares: list[tuple[datetime, float]] = []
    hour = _floor(start)
    while hour < end:
        seconds = (min(end, hour + _HOUR) - max(start, hour)).total_seconds()
        if seconds > 0:
            shares.append((hour, seconds / total))
        hour += _HOUR
    return shares


def _floor(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Series:
    """The pair of statistics of one bucket."""

    bucket: str
    slug: str
    name: str

    @property
    def energy_id(self) -> str:
        """Statistic id of the energy."""
        return f"{DOMAIN}:{self.slug}_energy"

    @property
    def cost_id(self) -> str:
        """Statistic id of the cost."""
        return f"{DOMAIN}:{self.slug}_cost"


def series_for(bucket: str, directory: Directory) -> Series | None:
    """The statistics a bucket has: configured users and the unassigned sessions."""
    if bucket == BUCKET_UNKNOWN:
        return Series(bucket, "unassigned", "Unassigned")
    for user in directory.users:
        if user_bucket(user.id) == bucket:
            return Series(bucket, f"user_{slugify(user.name)}", user.name)
    return None


class StatisticsWriter:
    """Writes the hourly rows; a no-op when the recorder is not loaded."""

    def __init__(self, hass: HomeAssistant, currency: str) -> None:
        self._hass = hass
        self.currency = currency
        self._last_hour: dict[str, datetime | None] = {}

    @property
    def enabled(self) -> bool:
        """Whether the recorder runs."""
        return "recorder" in self._hass.config.components

    async def async_needs_rebuild(self, series: Series, record: SessionRecord) -> bool:
        """Whether the record ends before rows already written (then a rebuild is due)."""
        last = await self._last_written(series.energy_id)
        return last is not None and hourly_shares(record)[0][0] < last

    async def async_append(self, series: Series, record: SessionRecord, before: Totals) -> None:
        """Add one session after everything written so far."""
        if not self.enabled:
            return
        energy, cost = before.energy_kwh, before.cost
        energy_rows: list[StatisticData] = []
        cost_rows: list[StatisticData] = []
        for hour, share in hourly_shares(record):
            energy += record.energy_kwh * share
            cost += (record.cost or 0.0) * share
            energy_rows.append(StatisticData(start=hour, state=energy, sum=energy))
            cost_rows.append(StatisticData(start=hour, state=cost, sum=cost))
        self._write(series, energy_rows, cost_rows)

    async def async_rebuild(
        self,
        series: Series,
        records: Iterable[SessionRecord],
        archived: Totals,
        since: datetime,
    ) -> None:
        """Recompute the rows from the hour of ``since`` on, from the bucket's records."""
        start = _floor(since)
        energy_by_hour: dict[datetime, float] = defaultdict(float)
        cost_by_hour: dict[datetime, float] = defaultdict(float)
        for record in records:
            for hour, share in hourly_shares(record):
                energy_by_hour[hour] += record.energy_kwh * share
                cost_by_hour[hour] += (record.cost or 0.0) * share
        energy = archived.energy_kwh + sum(v for h, v in energy_by_hour.items() if h < start)
        cost = archived.cost + sum(v for h, v in cost_by_hour.items() if h < start)
        hours = {h for h in energy_by_hour if h >= start} | await self._written_since(
            series.energy_id, start
        )
        energy_rows: list[StatisticData] = []
        cost_rows: list[StatisticData] = []
        for hour in sorted(hours):
            energy += energy_by_hour.get(hour, 0.0)
            cost += cost_by_hour.get(hour, 0.0)
            energy_rows.append(StatisticData(start=hour, state=energy, sum=energy))
            cost_rows.append(StatisticData(start=hour, state=cost, sum=cost))
        self._write(series, energy_rows, cost_rows)

    def _write(
        self, series: Series, energy_rows: list[StatisticData], cost_rows: list[StatisticData]
    ) -> None:
        if not energy_rows:
            return
        for statistic_id, unit, rows, label in (
            (series.energy_id, UnitOfEnergy.KILO_WATT_HOUR, energy_rows, "charging energy"),
            (series.cost_id, self.currency, cost_rows, "charging cost"),
        ):
            metadata = StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=f"{series.name} {label}",
                source=DOMAIN,
                statistic_id=statistic_id,
                unit_of_measurement=unit,
            )
            async_add_external_statistics(self._hass, metadata, rows)
            last = rows[-1]["start"]
            known = self._last_hour.get(statistic_id)
            self._last_hour[statistic_id] = last if known is None else max(known, last)

    async def _last_written(self, statistic_id: str) -> datetime | None:
        if statistic_id not in self._last_hour:
            if not self.enabled:
                return None
            found = await get_instance(self._hass).async_add_executor_job(
                get_last_statistics, self._hass, 1, statistic_id, False, {"sum"}
            )
            rows = found.get(statistic_id) or []
            self._last_hour[statistic_id] = (
                datetime.fromtimestamp(rows[0]["start"], UTC) if rows else None
            )
        return self._last_hour[statistic_id]

    async def _written_since(self, statistic_id: str, start: datetime) -> set[datetime]:
        found = await get_instance(self._hass).async_add_executor_job(
            statistics_during_period,
            self._hass,
            start,
            None,
            {statistic_id},
            "hour",
            None,
            {"sum"},
        )
        return {datetime.fromtimestamp(row["start"], UTC) for row in found.get(statistic_id, [])}
