"""Config flow of the household entry: pricing, then users, vehicles and cards as subentries.

The entry holds the pricing and history settings in its options (edited by the options
flow); users, vehicles and RFID cards are config subentries, so adding one takes effect
at once, without reloading the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Literal

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.util import slugify
import voluptuous as vol

from ..const import CONF_BACKEND, CONF_FEATURE, DOMAIN
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
    FEATURE_SESSIONS,
    GUEST_DEFAULT,
    GUEST_FIXED,
    GUEST_MARKUP,
    GUEST_NONE,
    MODE_SPOT,
    MODE_STATIC,
    MODE_TIME_OF_USE,
    MODES,
    SUBENTRY_CARD,
    SUBENTRY_USER,
    SUBENTRY_VEHICLE,
)
from .directory import UserType, normalize_tag
from .periods import PeriodError, format_periods, parse_periods

TITLE = "Charging sessions"
_NAME = re.compile(r"[^\W_]")  # a name needs a letter or a digit
_PRICING_KEYS = (
    CONF_PRICE,
    CONF_SPOT_ENTITY,
    CONF_FALLBACK_PRICE,
    CONF_PERIODS,
    CONF_DEFAULT_PRICE,
    CONF_ADDITIONAL_COST,
    CONF_MULTIPLIER,
)


def _number(
    low: float,
    high: float | None = None,
    step: float | Literal["any"] = "any",
    unit: str | None = None,
) -> NumberSelector:
    config = NumberSelectorConfig(min=low, step=step, mode=NumberSelectorMode.BOX)
    if high is not None:
        config["max"] = high
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _select(options: list[str] | list[SelectOptionDict], key: str | None = None) -> SelectSelector:
    config = SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
    if key is not None:
        config["translation_key"] = key
    return SelectSelector(config)


def _default(values: Mapping[str, Any], key: str, fallback: Any = vol.UNDEFINED) -> Any:
    value = values.get(key)
    return fallback if value is None else value


# --- pricing (shared by the config flow and the options flow) ----------------------------


def general_schema(values: Mapping[str, Any], *, history: bool) -> vol.Schema:
    """The pricing mode, the household guest pricing and (in options) history settings."""
    schema: dict[Any, Any] = {
        vol.Required(CONF_MODE, default=_default(values, CONF_MODE, MODE_STATIC)): _select(
            list(MODES), "pricing_mode"
        ),
        vol.Required(
            CONF_GUEST_METHOD, default=_default(values, CONF_GUEST_METHOD, GUEST_NONE)
        ): _select([GUEST_NONE, GUEST_FIXED, GUEST_MARKUP], "household_guest_method"),
        vol.Optional(
            CONF_GUEST_VALUE, description={"suggested_value": values.get(CONF_GUEST_VALUE)}
        ): _number(0),
    }
    if history:
        schema |= {
            vol.Required(
                CONF_RETENTION_MONTHS,
                default=_default(values, CONF_RETENTION_MONTHS, DEFAULT_RETENTION_MONTHS),
            ): vol.All(_number(0, 600, 1), vol.Coerce(int)),
            vol.Required(
                CONF_MIN_SESSION_S,
                default=_default(values, CONF_MIN_SESSION_S, DEFAULT_MIN_SESSION_S),
            ): vol.All(_number(0, 3600, 1, "s"), vol.Coerce(int)),
            vol.Required(
                CONF_MIN_SESSION_KWH,
                default=_default(values, CONF_MIN_SESSION_KWH, DEFAULT_MIN_SESSION_KWH),
            ): _number(0, 10, "any", "kWh"),
            vol.Required(
                CONF_CROSSCHECK_PCT,
                default=_default(values, CONF_CROSSCHECK_PCT, DEFAULT_CROSSCHECK_PCT),
            ): _number(0.5, 100, "any", "%"),
        }
    return vol.Schema(schema)


def validate_general(user_input: Mapping[str, Any]) -> dict[str, str]:
    """A fixed guest price or markup needs its value."""
    method = user_input[CONF_GUEST_METHOD]
    if method in (GUEST_FIXED, GUEST_MARKUP) and user_input.get(CONF_GUEST_VALUE) is None:
        return {CONF_GUEST_VALUE: "guest_value_required"}
    return {}


def pricing_schema(mode: str, values: Mapping[str, Any]) -> vol.Schema:
    """The fields of one pricing mode, pre-filled with ``values``."""
    surcharges: dict[Any, Any] = {
        vol.Required(
            CONF_ADDITIONAL_COST, default=_default(values, CONF_ADDITIONAL_COST, 0.0)
        ): _number(0),
        vol.Required(CONF_MULTIPLIER, default=_default(values, CONF_MULTIPLIER, 1.0)): _number(
            0.01, 10
        ),
    }
    if mode == MODE_SPOT:
        return vol.Schema(
            {
                vol.Required(CONF_SPOT_ENTITY, default=_default(values, CONF_SPOT_ENTITY)): (
                    EntitySelector(EntitySelectorConfig(domain=["sensor", "input_number"]))
                ),
                **surcharges,
                vol.Optional(
                    CONF_FALLBACK_PRICE,
                    description={"suggested_value": values.get(CONF_FALLBACK_PRICE)},
                ): _number(0),
            }
        )
    if mode == MODE_TIME_OF_USE:
        return vol.Schema(
            {
                vol.Required(CONF_PERIODS, default=_periods_text(values.get(CONF_PERIODS))): (
                    TextSelector(TextSelectorConfig(multiline=True))
                ),
                vol.Optional(
                    CONF_DEFAULT_PRICE,
                    description={"suggested_value": values.get(CONF_DEFAULT_PRICE)},
                ): _number(0),
                **surcharges,
            }
        )
    return vol.Schema(
        {vol.Required(CONF_PRICE, default=_default(values, CONF_PRICE, 0.25)): _number(0)}
    )


def _periods_text(value: object) -> str:
    """Stored periods as text; text entered (with an error) as it was."""
    if isinstance(value, str):
        return value
    return format_periods(value) if isinstance(value, list) else ""


def validate_pricing(
    hass: HomeAssistant, mode: str, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The options of a pricing step, or errors (with description placeholders)."""
    options = dict(user_input)
    if mode == MODE_SPOT and hass.states.get(options[CONF_SPOT_ENTITY]) is None:
        return {}, {CONF_SPOT_ENTITY: "entity_not_found"}, {}
    if mode == MODE_TIME_OF_USE:
        try:
            options[CONF_PERIODS] = parse_periods(str(options[CONF_PERIODS]))
        except PeriodError as err:
            return {}, {CONF_PERIODS: "invalid_periods"}, {"line": str(err.line)}
        if not options[CONF_PERIODS]:
            return {}, {CONF_PERIODS: "invalid_periods"}, {"line": "1"}
    return options, {}, {}


def _merge(
    current: Mapping[str, Any], general: Mapping[str, Any], pricing: Mapping[str, Any]
) -> dict[str, Any]:
    merged = {k: v for k, v in current.items() if k not in _PRICING_KEYS}
    merged |= general
    if general.get(CONF_GUEST_VALUE) is None:
        merged.pop(CONF_GUEST_VALUE, None)
    return merged | dict(pricing)


class SessionsFlowMixin(ConfigFlow):
    """The household entry's steps of the integration's config flow."""

    _sessions_general: dict[str, Any]

    async def async_step_sessions(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the pricing mode and how guests pay; one household entry only."""
        if any(
            entry.data.get(CONF_FEATURE) == FEATURE_SESSIONS
            for entry in self._async_current_entries(include_ignore=False)
        ):
            return self.async_abort(reason="sessions_already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_general(user_input)
            if not errors:
                self._sessions_general = user_input
                return await self.async_step_sessions_pricing()
        return self.async_show_form(
            step_id="sessions",
            data_schema=general_schema(user_input or {}, history=False),
            errors=errors,
        )

    async def async_step_sessions_pricing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The prices of the chosen mode; then the entry is created."""
        mode = self._sessions_general[CONF_MODE]
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            options, errors, placeholders = validate_pricing(self.hass, mode, user_input)
            if not errors:
                return self.async_create_entry(
                    title=TITLE,
                    data={CONF_FEATURE: FEATURE_SESSIONS},
                    options=_merge({}, self._sessions_general, options),
                )
        return self.async_show_form(
            step_id="sessions_pricing",
            data_schema=pricing_schema(mode, user_input or {}),
            errors=errors,
            description_placeholders={"mode": mode, "line": placeholders.get("line", "")},
        )

    async def async_step_reconfigure_sessions(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pricing and history are options: point there."""
        return self.async_abort(reason="sessions_use_options")


class SessionsOptionsFlow(OptionsFlow):
    """Change pricing, guest pricing, history retention and thresholds."""

    def __init__(self) -> None:
        self._general: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Step ids are prefixed: the options flows of the integration share translations."""
        return await self.async_step_sessions_options()

    async def async_step_sessions_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Mode, guests, retention and thresholds."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_general(user_input)
            if not errors:
                self._general = user_input
                return await self.async_step_sessions_pricing()
        return self.async_show_form(
            step_id="sessions_options",
            data_schema=general_schema(user_input or self.config_entry.options, history=True),
            errors=errors,
        )

    async def async_step_sessions_pricing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The prices of the chosen mode."""
        mode = self._general[CONF_MODE]
        current = self.config_entry.options
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            options, errors, placeholders = validate_pricing(self.hass, mode, user_input)
            if not errors:
                return self.async_create_entry(data=_merge(current, self._general, options))
        values = user_input or (current if current.get(CONF_MODE) == mode else {})
        return self.async_show_form(
            step_id="sessions_pricing",
            data_schema=pricing_schema(mode, values),
            errors=errors,
            description_placeholders={"mode": mode, "line": placeholders.get("line", "")},
        )


# --- subentries: users, vehicles, cards -----------------------------------------------------


def _subentries(flow: ConfigSubentryFlow, kind: str) -> dict[str, str]:
    """Subentry id -> title of one type in the flow's entry."""
    entry = flow.hass.config_entries.async_get_known_entry(flow.handler[0])
    return {sid: sub.title for sid, sub in entry.subentries.items() if sub.subentry_type == kind}


def _taken(flow: ConfigSubentryFlow, kind: str, unique_id: str, own: str | None) -> bool:
    entry = flow.hass.config_entries.async_get_known_entry(flow.handler[0])
    return any(
        sub.subentry_type == kind and sub.unique_id == unique_id and sid != own
        for sid, sub in entry.subentries.items()
    )


def _known_chargers(hass: HomeAssistant) -> dict[str, str]:
    """Charge ports of the loaded charger entries: id -> name."""
    chargers: dict[str, str] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if CONF_BACKEND in entry.data and entry.state is ConfigEntryState.LOADED:
            for charger_id, info in entry.runtime_data.coordinator.chargers.items():
                chargers[charger_id] = info.name
    return chargers


class UserSubentryFlow(ConfigSubentryFlow):
    """A person who charges: a resident, or a guest who pays a price of their own."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a user."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, own=None)
            if not errors:
                return self.async_create_entry(
                    title=data[CONF_NAME], data=data, unique_id=_user_uid(data[CONF_NAME])
                )
        return self.async_show_form(
            step_id="user", data_schema=self._schema(user_input or {}, new=True), errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename, change guest pricing, or deactivate a user (the type stays)."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(
                {**user_input, CONF_USER_TYPE: subentry.data[CONF_USER_TYPE]},
                own=subentry.subentry_id,
            )
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=data[CONF_NAME],
                    data=data,
                    unique_id=_user_uid(data[CONF_NAME]),
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._schema(user_input or dict(subentry.data), new=False),
            errors=errors,
        )

    def _schema(self, values: Mapping[str, Any], *, new: bool) -> vol.Schema:
        schema: dict[Any, Any] = {
            vol.Required(CONF_NAME, default=_default(values, CONF_NAME)): TextSelector(),
        }
        if new:
            schema[
                vol.Required(CONF_USER_TYPE, default=_default(values, CONF_USER_TYPE, "resident"))
            ] = _select([UserType.RESIDENT.value, UserType.GUEST.value], "user_type")
        schema |= {
            vol.Required(
                CONF_GUEST_METHOD, default=_default(values, CONF_GUEST_METHOD, GUEST_DEFAULT)
            ): _select([GUEST_DEFAULT, GUEST_NONE, GUEST_FIXED, GUEST_MARKUP], "guest_method"),
            vol.Optional(
                CONF_GUEST_VALUE, description={"suggested_value": values.get(CONF_GUEST_VALUE)}
            ): _number(0),
        }
        if not new:
            schema[vol.Required(CONF_ACTIVE, default=_default(values, CONF_ACTIVE, True))] = (
                BooleanSelector()
            )
        return vol.Schema(schema)

    def _validate(
        self, user_input: Mapping[str, Any], *, own: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        name = str(user_input[CONF_NAME]).strip()
        if not _NAME.search(name):
            return {}, {CONF_NAME: "invalid_name"}
        if _taken(self, SUBENTRY_USER, _user_uid(name), own):
            return {}, {CONF_NAME: "name_exists"}
        method = user_input[CONF_GUEST_METHOD]
        if (
            user_input[CONF_USER_TYPE] == UserType.GUEST
            and method in (GUEST_FIXED, GUEST_MARKUP)
            and user_input.get(CONF_GUEST_VALUE) is None
        ):
            return {}, {CONF_GUEST_VALUE: "guest_value_required"}
        data = {
            CONF_NAME: name,
            CONF_USER_TYPE: user_input[CONF_USER_TYPE],
            CONF_GUEST_METHOD: method,
            CONF_ACTIVE: bool(user_input.get(CONF_ACTIVE, True)),
        }
        if user_input.get(CONF_GUEST_VALUE) is not None:
            data[CONF_GUEST_VALUE] = float(user_input[CONF_GUEST_VALUE])
        return data, {}


def _user_uid(name: str) -> str:
    return f"user_{slugify(name)}"


class VehicleSubentryFlow(ConfigSubentryFlow):
    """A car, for the state-of-charge estimate."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a vehicle."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, own=None)
            if not errors:
                return self.async_create_entry(
                    title=data[CONF_NAME], data=data, unique_id=_vehicle_uid(data[CONF_NAME])
                )
        return self.async_show_form(
            step_id="user", data_schema=self._schema(user_input or {}), errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a vehicle."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, own=subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=data[CONF_NAME],
                    data=data,
                    unique_id=_vehicle_uid(data[CONF_NAME]),
                )
        values = user_input or {
            **subentry.data,
            CONF_EFFICIENCY: round(float(subentry.data[CONF_EFFICIENCY]) * 100, 1),
        }
        return self.async_show_form(
            step_id="reconfigure", data_schema=self._schema(values), errors=errors
        )

    @staticmethod
    def _schema(values: Mapping[str, Any]) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME, default=_default(values, CONF_NAME)): TextSelector(),
                vol.Required(CONF_CAPACITY, default=_default(values, CONF_CAPACITY)): _number(
                    1, 300, "any", "kWh"
                ),
                vol.Required(CONF_EFFICIENCY, default=_default(values, CONF_EFFICIENCY, 90)): (
                    _number(50, 100, "any", "%")
                ),
            }
        )

    def _validate(
        self, user_input: Mapping[str, Any], *, own: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        name = str(user_input[CONF_NAME]).strip()
        if not _NAME.search(name):
            return {}, {CONF_NAME: "invalid_name"}
        if _taken(self, SUBENTRY_VEHICLE, _vehicle_uid(name), own):
            return {}, {CONF_NAME: "name_exists"}
        return {
            CONF_NAME: name,
            CONF_CAPACITY: float(user_input[CONF_CAPACITY]),
            CONF_EFFICIENCY: float(user_input[CONF_EFFICIENCY]) / 100,
        }, {}


def _vehicle_uid(name: str) -> str:
    return f"vehicle_{slugify(name)}"


class CardSubentryFlow(ConfigSubentryFlow):
    """An RFID card: its UID (or a charger's slot number), whose it is, which car."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a card."""
        if not _subentries(self, SUBENTRY_USER):
            return self.async_abort(reason="no_users")
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, own=None)
            if not errors:
                return self.async_create_entry(
                    title=self._title(data), data=data, unique_id=_card_uid(data)
                )
        return self.async_show_form(
            step_id="user", data_schema=self._schema(user_input or {}, new=True), errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a card's owner, vehicle or state."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, own=subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=self._title(data),
                    data=data,
                    unique_id=_card_uid(data),
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._schema(user_input or dict(subentry.data), new=False),
            errors=errors,
        )

    def _schema(self, values: Mapping[str, Any], *, new: bool) -> vol.Schema:
        users = [
            SelectOptionDict(value=k, label=v) for k, v in _subentries(self, SUBENTRY_USER).items()
        ]
        vehicles = [
            SelectOptionDict(value=k, label=v)
            for k, v in _subentries(self, SUBENTRY_VEHICLE).items()
        ]
        chargers = [
            SelectOptionDict(value=k, label=v) for k, v in _known_chargers(self.hass).items()
        ]
        schema: dict[Any, Any] = {
            vol.Optional(CONF_UID, description={"suggested_value": values.get(CONF_UID)}): (
                TextSelector()
            ),
            vol.Optional(
                CONF_INDEX, description={"suggested_value": values.get(CONF_INDEX)}
            ): vol.All(_number(0, 9999, 1), vol.Coerce(int)),
            vol.Optional(
                CONF_CHARGER, description={"suggested_value": values.get(CONF_CHARGER)}
            ): _select(chargers),
            vol.Required(CONF_USER, default=_default(values, CONF_USER)): _select(users),
            vol.Optional(
                CONF_VEHICLE, description={"suggested_value": values.get(CONF_VEHICLE)}
            ): _select(vehicles),
        }
        if not new:
            schema[vol.Required(CONF_ACTIVE, default=_default(values, CONF_ACTIVE, True))] = (
                BooleanSelector()
            )
        return vol.Schema(schema)

    def _validate(
        self, user_input: Mapping[str, Any], *, own: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        uid = normalize_tag(user_input.get(CONF_UID))
        index = user_input.get(CONF_INDEX)
        charger = user_input.get(CONF_CHARGER) or None
        if uid is None and index is None:
            return {}, {"base": "uid_or_index"}
        if index is not None and charger is None:
            return {}, {CONF_CHARGER: "index_needs_charger"}
        data: dict[str, Any] = {
            CONF_UID: uid,
            CONF_INDEX: index,
            CONF_CHARGER: charger,
            CONF_USER: user_input[CONF_USER],
            CONF_VEHICLE: user_input.get(CONF_VEHICLE) or None,
            CONF_ACTIVE: bool(user_input.get(CONF_ACTIVE, True)),
        }
        if _taken(self, SUBENTRY_CARD, _card_uid(data), own):
            return {}, {"base": "card_exists"}
        return data, {}

    def _title(self, data: Mapping[str, Any]) -> str:
        user = _subentries(self, SUBENTRY_USER)[data[CONF_USER]]
        if data[CONF_UID]:
            return f"{data[CONF_UID]} ({user})"
        charger = _known_chargers(self.hass).get(data[CONF_CHARGER], data[CONF_CHARGER])
        return f"{charger} #{data[CONF_INDEX]} ({user})"


def _card_uid(data: Mapping[str, Any]) -> str:
    if data[CONF_UID]:
        return f"card_{data[CONF_UID]}"
    return f"card_{data[CONF_CHARGER]}_{data[CONF_INDEX]}"


def options_flow(_: Any) -> OptionsFlow:
    """The options flow of the household entry (registered in ``config_flow.OPTIONS_FLOWS``)."""
    return SessionsOptionsFlow()


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_USER: UserSubentryFlow,
    SUBENTRY_VEHICLE: VehicleSubentryFlow,
    SUBENTRY_CARD: CardSubentryFlow,
}
