"""The household entry read into the cores' terms: tariff settings, directory, thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry

from .const import (
    CONF_ACTIVE,
    CONF_ADDITIONAL_COST,
    CONF_CAPACITY,
    CONF_CHARGER,
    CONF_CROSSCHECK_PCT,
    CONF_DEFAULT_PRICE,
    CONF_EFFICIENCY,
    CONF_FALLBACK_PRICE,
    CONF_GUEST_METHOD,
    CONF_GUEST_VALUE,
    CONF_INDEX,
    CONF_MIN_SESSION_KWH,
    CONF_MIN_SESSION_S,
    CONF_MODE,
    CONF_MULTIPLIER,
    CONF_NAME,
    CONF_PERIODS,
    CONF_PRICE,
    CONF_RETENTION_MONTHS,
    CONF_SPOT_ENTITY,
    CONF_UID,
    CONF_USER,
    CONF_USER_TYPE,
    CONF_VEHICLE,
    DEFAULT_CROSSCHECK_PCT,
    DEFAULT_MIN_SESSION_KWH,
    DEFAULT_MIN_SESSION_S,
    DEFAULT_RETENTION_MONTHS,
    GUEST_DEFAULT,
    GUEST_FIXED,
    GUEST_MARKUP,
    MODE_STATIC,
    SUBENTRY_CARD,
    SUBENTRY_USER,
    SUBENTRY_VEHICLE,
)
from .directory import Card, Directory, TagScheme, User, UserType, Vehicle, normalize_tag
from .pricing import GuestPricing, GuestPricingMethod

_TARIFF_KEYS = (
    CONF_MODE,
    CONF_PRICE,
    CONF_FALLBACK_PRICE,
    CONF_PERIODS,
    CONF_DEFAULT_PRICE,
    CONF_ADDITIONAL_COST,
    CONF_MULTIPLIER,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The household options, typed."""

    tariff: Mapping[str, Any]  # what pricing.tariff_from_config reads
    spot_entity: str | None
    guest_pricing: GuestPricing | None
    retention_months: int
    min_session_s: float
    min_session_kwh: float
    crosscheck_pct: float

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Settings:
        """Read the entry's options; missing keys take their defaults."""
        tariff = {key: options[key] for key in _TARIFF_KEYS if options.get(key) is not None}
        tariff.setdefault(CONF_MODE, MODE_STATIC)
        if tariff[CONF_MODE] == MODE_STATIC:
            tariff.setdefault(CONF_PRICE, 0.0)
        return cls(
            tariff=tariff,
            spot_entity=options.get(CONF_SPOT_ENTITY) or None,
            guest_pricing=guest_pricing(
                options.get(CONF_GUEST_METHOD), options.get(CONF_GUEST_VALUE)
            ),
            retention_months=int(options.get(CONF_RETENTION_MONTHS, DEFAULT_RETENTION_MONTHS)),
            min_session_s=float(options.get(CONF_MIN_SESSION_S, DEFAULT_MIN_SESSION_S)),
            min_session_kwh=float(options.get(CONF_MIN_SESSION_KWH, DEFAULT_MIN_SESSION_KWH)),
            crosscheck_pct=float(options.get(CONF_CROSSCHECK_PCT, DEFAULT_CROSSCHECK_PCT)),
        )


def guest_pricing(method: object, value: object) -> GuestPricing | None:
    """A fixed price or a markup; ``None`` for any other method or a missing value."""
    if method not in (GUEST_FIXED, GUEST_MARKUP) or value is None:
        return None
    return GuestPricing(GuestPricingMethod(method), float(str(value)))


def build_directory(entry: ConfigEntry[Any], household_guest: GuestPricing | None) -> Directory:
    """Users, vehicles and cards from the entry's subentries (ids are subentry ids)."""
    users: list[User] = []
    vehicles: list[Vehicle] = []
    cards: list[Card] = []
    for subentry_id, subentry in entry.subentries.items():
        data = subentry.data
        if subentry.subentry_type == SUBENTRY_USER:
            users.append(_user(subentry_id, data, household_guest))
        elif subentry.subentry_type == SUBENTRY_VEHICLE:
            vehicles.append(
                Vehicle(
                    id=subentry_id,
                    name=str(data.get(CONF_NAME, subentry.title)),
                    usable_capacity_kwh=data.get(CONF_CAPACITY),
                    efficiency=float(data.get(CONF_EFFICIENCY, 0.9)),
                )
            )
        elif subentry.subentry_type == SUBENTRY_CARD:
            uid, index = normalize_tag(data.get(CONF_UID)), data.get(CONF_INDEX)
            if uid is None and index is None:
                continue
            cards.append(
                Card(
                    user_id=str(data[CONF_USER]),
                    uid=uid,
                    index=None if index is None else int(index),
                    charger_id=data.get(CONF_CHARGER) or None,
                    vehicle_id=data.get(CONF_VEHICLE) or None,
                    active=bool(data.get(CONF_ACTIVE, True)),
                )
            )
    return Directory(users=tuple(users), vehicles=tuple(vehicles), cards=tuple(cards))


def _user(subentry_id: str, data: Mapping[str, Any], household: GuestPricing | None) -> User:
    user_type = UserType(data.get(CONF_USER_TYPE, UserType.RESIDENT))
    pricing = None
    if user_type is UserType.GUEST:
        method = data.get(CONF_GUEST_METHOD, GUEST_DEFAULT)
        if method == GUEST_DEFAULT:
            pricing = household
        else:
            pricing = guest_pricing(method, data.get(CONF_GUEST_VALUE))
    return User(
        id=subentry_id,
        name=str(data[CONF_NAME]),
        type=user_type,
        active=bool(data.get(CONF_ACTIVE, True)),
        guest_pricing=pricing,
    )


def tag_scheme(directory: Directory, charger_id: str) -> TagScheme:
    """Index cards bound to a charger make its numeric tags slot numbers (offset 0)."""
    indexed = any(c.index is not None and c.charger_id == charger_id for c in directory.cards)
    return TagScheme(index_offset=0 if indexed else None)
