"""Users, vehicles and RFID cards, and who a presented tag belongs to.

Chargers report a tag in one of two ways: a card UID (OCPP idTag, "last tag" sensors,
Modbus transaction tokens) or a charger-specific slot index (go-e style ``trx``
values). A :class:`Card` may carry either or both; an index card can be bound to one
charger. Attribution is copied into the session when it starts, so later edits of the
lookup table do not rewrite a session in progress (or lose a guest's price on restart).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .pricing import GuestPricing
from .spot_prices import parse_number

# OCPP 2.x reports "<type>:<idToken>"; the type is not part of the card's identity.
_TOKEN_TYPES = frozenset(
    {
        "iso14443",
        "iso15693",
        "emaid",
        "central",
        "keycode",
        "local",
        "macaddress",
        "noauthorization",
        "evccid",
    }
)


# Placeholders some integrations show instead of "no tag".
_NO_TAG = frozenset({"NULL", "NONE", "N_A", "UNKNOWN", "UNAVAILABLE"})


class UserType(StrEnum):
    """Who charged, for billing and statistics."""

    RESIDENT = "resident"
    GUEST = "guest"
    UNKNOWN = "unknown"


class UnknownReason(StrEnum):
    """Why a session has no user; stored in the record so it can be fixed later."""

    NO_CARD = "no_card"  # charging began before (or without) any card
    OPEN_ACCESS = "open_access"  # the charger reported its free-charging token
    UNKNOWN_CARD = "unknown_card"  # no card in the table has this UID / index
    CARD_INACTIVE = "card_inactive"
    USER_MISSING = "user_missing"  # the card points to a user that does not exist
    USER_INACTIVE = "user_inactive"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A person who charges; guests may pay their own price."""

    id: str
    name: str
    type: UserType = UserType.RESIDENT
    active: bool = True
    guest_pricing: GuestPricing | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    """A car, for the state-of-charge estimate."""

    id: str
    name: str
    usable_capacity_kwh: float | None = None
    efficiency: float = 0.9  # share of the delivered energy that ends up in the battery

    def soc_added(self, energy_kwh: float) -> float | None:
        """Estimated state of charge added, in % of usable capacity (0.1 % steps)."""
        if not self.usable_capacity_kwh or self.usable_capacity_kwh <= 0:
            return None
        return round(energy_kwh * self.efficiency / self.usable_capacity_kwh * 100, 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "id": self.id,
            "name": self.name,
            "usable_capacity_kwh": self.usable_capacity_kwh,
            "efficiency": self.efficiency,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vehicle:
        """Read a vehicle; ``usable_battery_kwh`` / ``battery_capacity_kwh`` also accepted."""
        capacity = None
        for key in ("usable_capacity_kwh", "usable_battery_kwh", "battery_capacity_kwh"):
            capacity = parse_number(data.get(key))
            if capacity is not None:
                break
        efficiency = parse_number(data.get("efficiency", data.get("charging_efficiency")))
        if efficiency is None:
            efficiency = 0.9
        if not 0 < efficiency <= 1:
            raise ValueError(f"efficiency must be in (0, 1]: {efficiency}")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", data["id"])),
            usable_capacity_kwh=capacity,
            efficiency=efficiency,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    """An RFID card: by UID, by charger slot index, or both."""

    user_id: str
    uid: str | None = None  # normalised on creation, see normalize_tag
    index: int | None = None
    charger_id: str | None = None  # the charger whose slot ``index`` is; None = any
    vehicle_id: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "uid", normalize_tag(self.uid))

    def serves(self, charger_id: str) -> bool:
        """Whether the card is valid on ``charger_id``."""
        return self.charger_id is None or self.charger_id == charger_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TagScheme:
    """How one charger reports tags.

    ``index_offset``: tags are slot numbers and ``tag - offset`` is the card index (go-e
    ``trx`` n means slot n-1: offset 1); ``None`` = the charger reports UIDs only.
    ``open_access_tags``: values meaning "charging without a card" (go-e ``"0"``).
    """

    index_offset: int | None = None
    open_access_tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """Who a session belongs to, copied into the session at start."""

    user_id: str | None = None
    user_name: str | None = None
    user_type: UserType = UserType.UNKNOWN
    guest_pricing: GuestPricing | None = None
    vehicle: Vehicle | None = None
    card_uid: str | None = None
    card_index: int | None = None
    unknown_reason: UnknownReason | None = None

    @property
    def has_card(self) -> bool:
        """Whether a card (known or not) was presented."""
        return self.unknown_reason not in (UnknownReason.NO_CARD, UnknownReason.OPEN_ACCESS)

    @classmethod
    def for_user(
        cls,
        user: User,
        vehicle: Vehicle | None = None,
        *,
        card_uid: str | None = None,
        card_index: int | None = None,
    ) -> Attribution:
        """A known user's attribution."""
        return cls(
            user_id=user.id,
            user_name=user.name,
            user_type=user.type,
            guest_pricing=user.guest_pricing if user.type is UserType.GUEST else None,
            vehicle=vehicle,
            card_uid=card_uid,
            card_index=card_index,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "user_id": self.user_id,
            "user_name": self.user_name,
            "user_type": self.user_type.value,
            "guest_pricing": self.guest_pricing.to_dict() if self.guest_pricing else None,
            "vehicle": self.vehicle.to_dict() if self.vehicle else None,
            "card_uid": self.card_uid,
            "card_index": self.card_index,
            "unknown_reason": self.unknown_reason.value if self.unknown_reason else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attribution:
        """Inverse of :meth:`to_dict`."""
        reason = data.get("unknown_reason")
        return cls(
            user_id=data.get("user_id"),
            user_name=data.get("user_name"),
            user_type=UserType(data.get("user_type", UserType.UNKNOWN)),
            guest_pricing=GuestPricing.from_dict(data["guest_pricing"])
            if data.get("guest_pricing")
            else None,
            vehicle=Vehicle.from_dict(data["vehicle"]) if data.get("vehicle") else None,
            card_uid=data.get("card_uid"),
            card_index=data.get("card_index"),
            unknown_reason=UnknownReason(reason) if reason else None,
        )


def normalize_tag(raw: object) -> str | None:
    """A comparable tag: no OCPP type prefix, no separators, upper case; ``None`` if empty."""
    if raw is None:
        return None
    text = str(raw).strip()
    prefix, colon, rest = text.partition(":")
    if colon and prefix.lower() in _TOKEN_TYPES:
        text = rest
    text = "".join(ch for ch in text if ch not in ":- ").upper()
    return text if text and text not in _NO_TAG else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Directory:
    """The lookup table: users, vehicles and cards."""

    users: tuple[User, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    cards: tuple[Card, ...] = ()
    _users: dict[str, User] = field(init=False, repr=False, compare=False)
    _vehicles: dict[str, Vehicle] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_users", {u.id: u for u in self.users})
        object.__setattr__(self, "_vehicles", {v.id: v for v in self.vehicles})

    def user(self, user_id: str | None) -> User | None:
        """The user with ``user_id``."""
        return None if user_id is None else self._users.get(user_id)

    def vehicle(self, vehicle_id: str | None) -> Vehicle | None:
        """The vehicle with ``vehicle_id``."""
        return None if vehicle_id is None else self._vehicles.get(vehicle_id)

    def resolve(self, tag: str | None, *, charger_id: str, scheme: TagScheme) -> Attribution:
        """Who ``tag`` (already normalised) belongs to on ``charger_id``."""
        if tag is None:
            return Attribution(unknown_reason=UnknownReason.NO_CARD)
        if tag in {normalize_tag(t) for t in scheme.open_access_tags}:
            return Attribution(unknown_reason=UnknownReason.OPEN_ACCESS)
        usable = [card for card in self.cards if card.serves(charger_id)]
        card = next((c for c in usable if c.uid is not None and c.uid == tag), None)
        index: int | None = None
        if card is None and scheme.index_offset is not None and tag.isdigit():
            index = int(tag) - scheme.index_offset
            if index < 0:
                return Attribution(unknown_reason=UnknownReason.OPEN_ACCESS)
            card = next((c for c in usable if c.index == index), None)
        uid = tag if index is None else None
        if card is None:
            return Attribution(
                card_uid=uid, card_index=index, unknown_reason=UnknownReason.UNKNOWN_CARD
            )
        uid, index = uid or card.uid, card.index
        if not card.active:
            return Attribution(
                card_uid=uid, card_index=index, unknown_reason=UnknownReason.CARD_INACTIVE
            )
        user = self.user(card.user_id)
        if user is None or not user.active:
            reason = UnknownReason.USER_MISSING if user is None else UnknownReason.USER_INACTIVE
            return Attribution(card_uid=uid, card_index=index, unknown_reason=reason)
        return Attribution.for_user(
            user, self.vehicle(card.vehicle_id), card_uid=uid, card_index=index
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Directory:
        """Read ``{users, vehicles, cards}`` as the config flow stores them.

        users: ``{id, name, type: resident|guest, active, guest_pricing}``;
        vehicles: see :meth:`Vehicle.from_dict`;
        cards: ``{uid, index, charger_id, user_id, vehicle_id, active}``.
        """
        return cls(
            users=tuple(_user(item) for item in _items(data.get("users"))),
            vehicles=tuple(Vehicle.from_dict(item) for item in _items(data.get("vehicles"))),
            cards=tuple(_card(item) for item in _items(data.get("cards"))),
        )


def _items(raw: object) -> Iterable[Mapping[str, Any]]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not all(isinstance(i, Mapping) for i in raw):
        raise ValueError(f"expected a list of objects: {raw!r}")
    return raw


def _user(data: Mapping[str, Any]) -> User:
    kind = str(data.get("type", UserType.RESIDENT))
    user_type = UserType.RESIDENT if kind == "regular" else UserType(kind)
    if user_type is UserType.UNKNOWN:
        raise ValueError("a configured user cannot be of type unknown")
    pricing = data.get("guest_pricing")
    return User(
        id=str(data["id"]),
        name=str(data.get("name", data["id"])),
        type=user_type,
        active=bool(data.get("active", True)),
        guest_pricing=GuestPricing.from_dict(pricing) if pricing else None,
    )


def _card(data: Mapping[str, Any]) -> Card:
    index = data.get("index")
    card = Card(
        user_id=str(data["user_id"]),
        uid=normalize_tag(data.get("uid")),
        index=None if index is None else int(index),
        charger_id=data.get("charger_id"),
        vehicle_id=data.get("vehicle_id"),
        active=bool(data.get("active", True)),
    )
    if card.uid is None and card.index is None:
        raise ValueError(f"a card needs a uid or an index: {data!r}")
    return card
