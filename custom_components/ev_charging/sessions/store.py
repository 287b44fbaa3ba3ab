"""Persistence of sessions in Home Assistant's ``.storage``.

Three kinds of files, so that no write ever rewrites the whole history:

- ``ev_charging.sessions.active``: each charger's engine snapshot (the session in
  progress), written on every transition and periodically while energy flows;
- ``ev_charging.sessions.YYYY-MM``: the completed sessions that started in that local
  month; completing a session rewrites this month's file only;
- ``ev_charging.sessions.index``: the months that exist and their totals per bucket
  (user, guests, charger...), plus the totals of months already pruned. Sensors and
  statistics read this alone, so start-up loads no history at all.

A file that cannot be read as what it should hold is moved aside (``<key>.corrupt.<time>``)
and reported; the tracker starts without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
import os
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .aggregates import Totals, aggregate, merge_all, month_key, record_month
from .records import SessionRecord
from .snapshot import EngineSnapshot

VERSION = 1
PREFIX = "ev_charging.sessions"
INDEX_KEY = f"{PREFIX}.index"
ACTIVE_KEY = f"{PREFIX}.active"
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_ID_STAMP = re.compile(r"-(\d{8}T\d{6})(?:\.\d+)?Z$")

type Payload = dict[str, Any]


def segment_key(month: str) -> str:
    """The storage key of one month's sessions."""
    return f"{PREFIX}.{month}"


@dataclass(frozen=True, slots=True)
class CorruptStore:
    """A file that was moved aside: its key and where it went."""

    key: str
    moved_to: str


class _Invalid(ValueError):
    """The content of a store is not what it should be."""


class SessionStore:
    """The active snapshots, the history by month and its index."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        timezone: Callable[[], tzinfo] = dt_util.get_default_time_zone,
        on_corrupt: Callable[[CorruptStore], None] | None = None,
    ) -> None:
        self._hass = hass
        self._on_corrupt = on_corrupt
        self._tz = timezone
        self._index = Store[Payload](hass, VERSION, INDEX_KEY)
        self._active_store = Store[Payload](hass, VERSION, ACTIVE_KEY)
        self._months: dict[str, dict[str, Totals]] = {}
        self._counts: dict[str, int] = {}
        self._archived: dict[str, Totals] = {}
        self._active: dict[str, Payload] = {}
        self._cache: tuple[str, list[SessionRecord]] | None = None  # the month appended to
        self._lock = asyncio.Lock()
        self.problems: list[CorruptStore] = []

    # --- loading ---------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the index and the active snapshots (never the history itself)."""
        self._active = await self._load(self._active_store, _parse_active) or {}
        index = await self._load(self._index, _parse_index)
        if index is None:  # first start, or lost: recount the month files on disk
            index = await self._rebuild_index()
        self._months, self._counts, self._archived = index

    async def _load[T](self, store: Store[Payload], parse: Callable[[Any], T]) -> T | None:
        try:
            raw = await store.async_load()
        except (HomeAssistantError, NotImplementedError, ValueError):
            # Unreadable or from a newer version: keep it out of the way.
            await self._rename_aside(store)
            return None
        if raw is None:
            return None
        try:
            return parse(raw)
        except (_Invalid, KeyError, TypeError, ValueError):
            await self._move_aside(store, raw)
            return None

    async def _move_aside(self, store: Store[Payload], raw: Any) -> None:
        target = f"{store.key}.corrupt.{_stamp()}"
        await Store[Any](self._hass, VERSION, target).async_save(raw)
        await store.async_remove()
        self._report(CorruptStore(store.key, target))

    async def _rename_aside(self, store: Store[Payload]) -> None:
        path = Path(store.path)
        target = path.with_name(f"{path.name}.corrupt.{_stamp()}")
        if await self._hass.async_add_executor_job(_rename, path, target):
            self._report(CorruptStore(store.key, target.name))
            return
        await store.async_remove()
        self._report(CorruptStore(store.key, store.key))

    def _report(self, problem: CorruptStore) -> None:
        self.problems.append(problem)
        if self._on_corrupt is not None:
            self._on_corrupt(problem)

    async def _rebuild_index(
        self,
    ) -> tuple[dict[str, dict[str, Totals]], dict[str, int], dict[str, Totals]]:
        """Recount the month files on disk after the index was lost."""
        folder = Path(self._hass.config.path(".storage"))
        names = await self._hass.async_add_executor_job(_list, folder)
        months: dict[str, dict[str, Totals]] = {}
        counts: dict[str, int] = {}
        for name in names:
            month = name.removeprefix(f"{PREFIX}.")
            if name.startswith(f"{PREFIX}.") and _MONTH.match(month):
                records = await self._segment(month)
                if records:
                    months[month], counts[month] = aggregate(records), len(records)
        self._months, self._counts = months, counts
        await self._save_index()
        return months, counts, {}

    # --- the sessions in progress -------------------------------------------------------

    @property
    def active(self) -> Mapping[str, Payload]:
        """The saved engine snapshot of each charger."""
        return self._active

    async def async_save_active(self, snapshots: Mapping[str, Payload]) -> None:
        """Replace the saved snapshots."""
        self._active = dict(snapshots)
        await self._active_store.async_save({"chargers": self._active})

    # --- the history --------------------------------------------------------------------

    @property
    def months(self) -> list[str]:
        """The months that hold sessions, oldest first."""
        return sorted(self._months)

    def count(self) -> int:
        """How many sessions are kept."""
        return sum(self._counts.values())

    def totals(self, bucket: str) -> Totals:
        """Everything ever counted in a bucket (pruned months included)."""
        parts = [self._archived, *self._months.values()]
        return merge_all(parts).get(bucket, Totals())

    def archived(self, bucket: str) -> Totals:
        """The totals of the months already pruned."""
        return self._archived.get(bucket, Totals())

    def period(self, bucket: str, months: Iterable[str]) -> Totals:
        """The totals of some months."""
        return merge_all(self._months.get(month, {}) for month in months).get(bucket, Totals())

    def buckets(self) -> set[str]:
        """Every bucket with sessions."""
        return set(self._archived).union(*self._months.values())

    async def async_add(self, record: SessionRecord) -> SessionRecord | None:
        """Store a completed session; returns the record it replaced (same id), if any.

        Replacing happens after a crash between this write and the snapshot that follows
        it: the engine completes the same session again.
        """
        async with self._lock:
            month = record_month(record, self._tz())
            records = await self._segment(month)
            previous = next((r for r in records if r.id == record.id), None)
            if previous is not None:
                records = [record if r.id == record.id else r for r in records]
            else:
                records = [*records, record]
            await self._save_segment(month, records, cache=True)
            return previous

    async def async_find(self, session_id: str) -> SessionRecord | None:
        """The stored session with this id."""
        async with self._lock:
            found = await self._locate(session_id)
            return None if found is None else found[1]

    async def async_replace(self, record: SessionRecord) -> SessionRecord:
        """Overwrite a stored session (an edit); returns the old version."""
        async with self._lock:
            found = await self._locate(record.id)
            if found is None:
                raise KeyError(record.id)
            month, old, records = found
            new_month = record_month(record, self._tz())
            if new_month == month:
                await self._save_segment(
                    month, [record if r.id == record.id else r for r in records]
                )
            else:
                await self._save_segment(month, [r for r in records if r.id != record.id])
                await self._save_segment(new_month, [*await self._segment(new_month), record])
            return old

    async def async_delete(self, session_id: str) -> SessionRecord | None:
        """Remove a stored session; returns it (``None`` when there was none)."""
        async with self._lock:
            found = await self._locate(session_id)
            if found is None:
                return None
            month, old, records = found
            await self._save_segment(month, [r for r in records if r.id != session_id])
            return old

    async def async_records(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[SessionRecord]:
        """Stored sessions that started in ``[start, end)``, oldest first."""
        tz = self._tz()
        first = month_key(start, tz) if start else None
        last = month_key(end - timedelta(microseconds=1), tz) if end else None
        found: list[SessionRecord] = []
        async with self._lock:
            for month in self.months:
                if (first and month < first) or (last and month > last):
                    continue
                found.extend(
                    r
                    for r in await self._segment(month)
                    if (start is None or r.started_at >= start)
                    and (end is None or r.started_at < end)
                )
        return sorted(found, key=lambda r: (r.started_at, r.id))

    async def async_prune(self, retention_months: int, today: date) -> list[str]:
        """Drop the months older than the retention; their totals are kept."""
        if retention_months <= 0:
            return []
        first_kept = _shift_month(today.year, today.month, 1 - retention_months)
        old = [month for month in self.months if month < first_kept]
        if not old:
            return []
        async with self._lock:
            self._archived = merge_all([self._archived, *(self._months.pop(m) for m in old)])
            for month in old:
                self._counts.pop(month, None)
                if self._cache is not None and self._cache[0] == month:
                    self._cache = None
                await Store[Payload](self._hass, VERSION, segment_key(month)).async_remove()
            await self._save_index()
        return old

    async def async_remove_all(self) -> None:
        """Delete every file of the tracker (the household entry was deleted)."""
        await self.async_load()
        for month in self.months:
            await Store[Payload](self._hass, VERSION, segment_key(month)).async_remove()
        await self._active_store.async_remove()
        await self._index.async_remove()
        self._months, self._counts, self._archived, self._active = {}, {}, {}, {}
        self._cache = None

    # --- internals ----------------------------------------------------------------------

    async def _segment(self, month: str) -> list[SessionRecord]:
        if self._cache is not None and self._cache[0] == month:
            return list(self._cache[1])
        store = Store[Payload](self._hass, VERSION, segment_key(month))
        records = await self._load(store, _parse_segment)
        if records is None:
            records = []
            if month in self._months:  # it was lost: its totals go with it
                self._months.pop(month)
                self._counts.pop(month, None)
                await self._save_index()
        return records

    async def _save_segment(
        self, month: str, records: list[SessionRecord], *, cache: bool = False
    ) -> None:
        store = Store[Payload](self._hass, VERSION, segment_key(month))
        if records:
            await store.async_save({"records": [r.to_dict() for r in records]})
            self._months[month], self._counts[month] = aggregate(records), len(records)
        else:
            await store.async_remove()
            self._months.pop(month, None)
            self._counts.pop(month, None)
        if cache or (self._cache is not None and self._cache[0] == month):
            self._cache = (month, list(records))
        await self._save_index()

    async def _save_index(self) -> None:
        await self._index.async_save(
            {
                "months": {
                    month: {
                        "count": self._counts.get(month, 0),
                        "buckets": {b: t.to_dict() for b, t in buckets.items()},
                    }
                    for month, buckets in sorted(self._months.items())
                },
                "archived": {b: t.to_dict() for b, t in self._archived.items()},
            }
        )

    async def _locate(
        self, session_id: str
    ) -> tuple[str, SessionRecord, list[SessionRecord]] | None:
        for month in self._likely_months(session_id):
            records = await self._segment(month)
            for record in records:
                if record.id == session_id:
                    return month, record, records
        return None

    def _likely_months(self, session_id: str) -> list[str]:
        """The months to search, the one the id's plug-in time suggests first."""
        months = self.months[::-1]
        match = _ID_STAMP.search(session_id)
        if match is None:
            return months
        stamp = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        guess = month_key(stamp, self._tz())
        near = [m for m in months if m == guess]
        return near + [m for m in months if m != guess]


def _parse_active(raw: Any) -> dict[str, Payload]:
    chargers = raw.get("chargers") if isinstance(raw, dict) else None
    if not isinstance(chargers, dict):
        raise _Invalid("no chargers")
    for charger_id, snapshot in chargers.items():
        if EngineSnapshot.from_dict(snapshot).charger_id != charger_id:
            raise _Invalid(charger_id)
    return chargers


def _parse_index(
    raw: Any,
) -> tuple[dict[str, dict[str, Totals]], dict[str, int], dict[str, Totals]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("months"), dict):
        raise _Invalid("no months")
    months: dict[str, dict[str, Totals]] = {}
    counts: dict[str, int] = {}
    for month, info in raw["months"].items():
        if not _MONTH.match(month):
            raise _Invalid(month)
        months[month] = {b: Totals.from_dict(t) for b, t in info["buckets"].items()}
        counts[month] = int(info["count"])
    archived = {b: Totals.from_dict(t) for b, t in raw.get("archived", {}).items()}
    return months, counts, archived


def _parse_segment(raw: Any) -> list[SessionRecord]:
    items = raw.get("records") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise _Invalid("no records")
    return [SessionRecord.from_dict(item) for item in items]


def _shift_month(year: int, month: int, delta: int) -> str:
    index = year * 12 + (month - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _stamp() -> str:
    return dt_util.utcnow().strftime("%Y%m%dT%H%M%S")


def _rename(path: Path, target: Path) -> bool:
    if not path.exists():
        return False
    os.replace(path, target)
    return True


def _list(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
