"""Config flow steps for an AMPECO cloud account: log in, pick the charge points.

The same two login forms serve the first set-up, reauth and reconfigure: e-mail and
password (OAuth password grant with the vendor app's client id and secret), or a
pasted bearer token for tenants whose login goes elsewhere. A login is accepted
once the account's personal charge points can be listed. The unique id is the
tenant host with the account's user id, so one account cannot be added twice and
reauth or reconfigure cannot switch to another account.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_TOKEN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from ...const import CONF_BACKEND, DOMAIN, LOGGER
from ..base import (
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendError,
    BackendInvalidDataError,
)
from .api import AmpecoClient
from .auth import AmpecoAuthError
from .backend import charger_id_for
from .entry import (
    AUTH_PASSWORD,
    AUTH_TOKEN,
    CONF_ACCOUNT_ID,
    CONF_AUTH_METHOD,
    CONF_CHARGE_POINT_IDS,
    CONF_TOKENS,
    DEFAULT_CLIENT_ID,
    KEY,
    client_for,
)
from .payloads import AmpecoChargePoint

STEP_PASSWORD: Final = "ampeco_password"
STEP_TOKEN: Final = "ampeco_token"
STEP_CHARGE_POINTS: Final = "ampeco_charge_points"
LOGIN_STEPS: Final = [STEP_PASSWORD, STEP_TOKEN]
SECTION_ADVANCED: Final = "advanced"

type Login = Callable[[AmpecoClient], Awaitable[object]]

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


@dataclass(frozen=True, slots=True)
class _Account:
    """A login that listed its charge points."""

    unique_id: str
    data: dict[str, Any]  # host, credentials (no password), tokens, account id
    points: tuple[AmpecoChargePoint, ...]


def _password_schema(with_host: bool) -> vol.Schema:
    fields: dict[Any, Any] = {}
    if with_host:
        fields[vol.Required(CONF_HOST)] = _URL
    fields[vol.Required(CONF_EMAIL)] = TextSelector(
        TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
    )
    fields[vol.Required(CONF_PASSWORD)] = TextSelector(
        TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
    )
    fields[vol.Required(CONF_CLIENT_SECRET)] = TextSelector(
        TextSelectorConfig(type=TextSelectorType.PASSWORD)
    )
    # A fresh section each time: suggested values are written into it.
    fields[vol.Required(SECTION_ADVANCED)] = section(
        vol.Schema({vol.Required(CONF_CLIENT_ID, default=DEFAULT_CLIENT_ID): TextSelector()}),
        {"collapsed": True},
    )
    return vol.Schema(fields)


def _token_schema(with_host: bool) -> vol.Schema:
    fields: dict[Any, Any] = {}
    if with_host:
        fields[vol.Required(CONF_HOST)] = _URL
    fields[vol.Required(CONF_TOKEN)] = TextSelector(
        TextSelectorConfig(type=TextSelectorType.PASSWORD)
    )
    return vol.Schema(fields)


def _suggested(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a form shows again: never a password or token."""
    suggested = {
        key: data[key] for key in (CONF_HOST, CONF_EMAIL, CONF_CLIENT_SECRET) if data.get(key)
    }
    advanced = data.get(SECTION_ADVANCED)
    client_id = advanced.get(CONF_CLIENT_ID) if isinstance(advanced, Mapping) else None
    stored = client_id or data.get(CONF_CLIENT_ID) or DEFAULT_CLIENT_ID
    suggested[SECTION_ADVANCED] = {CONF_CLIENT_ID: stored}
    return suggested


async def _async_account_id(client: AmpecoClient, points: tuple[AmpecoChargePoint, ...]) -> str:
    """The account's user id; a tenant without the profile route is named by its points."""
    try:
        return (await client.async_get_profile()).id
    except (BackendCommandRejectedError, BackendInvalidDataError) as err:
        LOGGER.debug("No account profile at %s (%s)", client.host, err)
        return "charge-points:" + ",".join(sorted(point.id for point in points))


async def _async_validate(
    client: AmpecoClient, credentials: dict[str, Any], login: Login
) -> tuple[_Account | None, dict[str, str]]:
    """Log in and list the charge points: (the account, errors by field)."""
    try:
        await login(client)
        points = await client.async_list_charge_points()
        if not points:
            return None, {"base": "no_charge_points"}
        account_id = await _async_account_id(client, points)
    except AmpecoAuthError as err:
        return None, {CONF_CLIENT_SECRET if err.reason == "invalid_client" else "base": err.reason}
    except BackendConnectionError as err:
        LOGGER.debug("Cannot reach %s: %s", client.host, err)
        return None, {"base": "cloud_unreachable"}
    except BackendError:
        LOGGER.exception("Unexpected answer from %s", client.host)
        return None, {"base": "unknown"}
    tokens = client.tokens
    assert tokens is not None  # a login or a pasted token sets them
    data = {
        CONF_HOST: client.host,
        **credentials,
        CONF_TOKENS: tokens.as_dict(),
        CONF_ACCOUNT_ID: account_id,
    }
    unique_id = f"{urlsplit(client.host).netloc.lower()}/{account_id}"
    return _Account(unique_id, data, points), {}


def _forget_other_devices(hass: HomeAssistant, entry: ConfigEntry[Any], keep: set[str]) -> None:
    """Detach the devices of charge points no longer picked (or gone from the account)."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        ids = {ident for domain, ident in device.identifiers if domain == DOMAIN}
        if ids and not ids & keep:
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


class AmpecoFlowMixin(ConfigFlow):
    """The AMPECO steps of the integration's config flow."""

    _ampeco_account: _Account | None = None

    # --- entry points ------------------------------------------------------------

    async def async_step_ampeco(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the two ways to log in."""
        return self.async_show_menu(step_id=KEY, menu_options=LOGIN_STEPS)

    async def async_step_reauth_ampeco(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The tokens were refused: log in again, either way."""
        return self.async_show_menu(
            step_id="reauth_ampeco",
            menu_options=LOGIN_STEPS,
            description_placeholders={"host": str(entry_data[CONF_HOST])},
        )

    async def async_step_reconfigure_ampeco(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Log in again (maybe another way), then pick the charge points again."""
        return self.async_show_menu(step_id="reconfigure_ampeco", menu_options=LOGIN_STEPS)

    # --- the login forms ---------------------------------------------------------

    async def async_step_ampeco_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """E-mail and password, with the OAuth client of the vendor's app."""
        errors: dict[str, str] = {}
        if user_input is not None:
            advanced = user_input.get(SECTION_ADVANCED) or {}
            client_id = str(advanced.get(CONF_CLIENT_ID) or DEFAULT_CLIENT_ID).strip()
            secret = str(user_input[CONF_CLIENT_SECRET]).strip()
            email = str(user_input[CONF_EMAIL]).strip()
            password = str(user_input[CONF_PASSWORD])
            client = client_for(
                self.hass, self._ampeco_host(user_input), client_id=client_id, client_secret=secret
            )
            credentials = {
                CONF_AUTH_METHOD: AUTH_PASSWORD,
                CONF_EMAIL: email,
                CONF_CLIENT_ID: client_id,
                CONF_CLIENT_SECRET: secret,
            }

            async def login(client: AmpecoClient) -> object:
                return await client.async_login(email, password)

            account, errors = await _async_validate(client, credentials, login)
            if account is not None:
                return await self._async_ampeco_account(account)
        return self.async_show_form(
            step_id=STEP_PASSWORD,
            data_schema=self.add_suggested_values_to_schema(
                _password_schema(self.source != SOURCE_REAUTH),
                _suggested(user_input if user_input is not None else self._ampeco_defaults()),
            ),
            errors=errors,
        )

    async def async_step_ampeco_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A bearer token copied from the vendor's app (it cannot be renewed)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            token = str(user_input[CONF_TOKEN]).strip()
            token = token.removeprefix("Bearer ").removeprefix("bearer ").strip()
            client = client_for(self.hass, self._ampeco_host(user_input))
            credentials = {
                CONF_AUTH_METHOD: AUTH_TOKEN,
                CONF_EMAIL: None,
                CONF_CLIENT_ID: None,
                CONF_CLIENT_SECRET: None,
            }

            async def login(client: AmpecoClient) -> object:
                client.set_token(token)
                return None

            account, errors = await _async_validate(client, credentials, login)
            if account is not None:
                return await self._async_ampeco_account(account)
        suggested = user_input if user_input is not None else self._ampeco_defaults()
        return self.async_show_form(
            step_id=STEP_TOKEN,
            data_schema=self.add_suggested_values_to_schema(
                _token_schema(self.source != SOURCE_REAUTH),
                {CONF_HOST: suggested.get(CONF_HOST)} if suggested.get(CONF_HOST) else {},
            ),
            errors=errors,
        )

    # --- after the login ---------------------------------------------------------

    async def async_step_ampeco_charge_points(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the charge points to add (each of their EVSEs becomes a device)."""
        account = self._ampeco_account
        assert account is not None  # only reached after a login
        known = [point.id for point in account.points]
        errors: dict[str, str] = {}
        if user_input is not None:
            picked = [cp for cp in known if cp in user_input[CONF_CHARGE_POINT_IDS]]
            if picked:
                return self._async_ampeco_finish(account, picked)
            errors["base"] = "no_charge_point_selected"
        default = known
        if self.source == SOURCE_RECONFIGURE:
            current = self._get_reconfigure_entry().data.get(CONF_CHARGE_POINT_IDS) or []
            default = [cp for cp in known if cp in current] or known
        options = [
            SelectOptionDict(value=point.id, label=f"{point.name} ({point.id})")
            for point in account.points
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_CHARGE_POINT_IDS, default=default): SelectSelector(
                    SelectSelectorConfig(
                        options=options, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(step_id=STEP_CHARGE_POINTS, data_schema=schema, errors=errors)

    async def _async_ampeco_account(self, account: _Account) -> ConfigFlowResult:
        """A working login: check the account, then update the entry or pick the points."""
        await self.async_set_unique_id(account.unique_id)
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates=account.data
            )
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
        else:
            self._abort_if_unique_id_configured()
        self._ampeco_account = account
        if len(account.points) == 1:
            return self._async_ampeco_finish(account, [account.points[0].id])
        return await self.async_step_ampeco_charge_points()

    def _async_ampeco_finish(self, account: _Account, picked: list[str]) -> ConfigFlowResult:
        data = {CONF_BACKEND: KEY, **account.data, CONF_CHARGE_POINT_IDS: picked}
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            keep = {
                charger_id_for(point.id, evse.id)
                for point in account.points
                if point.id in picked
                for evse in point.evses
            }
            _forget_other_devices(self.hass, entry, keep)
            return self.async_update_reload_and_abort(entry, data=data)
        names = [point.name for point in account.points if point.id in picked]
        return self.async_create_entry(title=", ".join(names), data=data)

    # --- helpers -----------------------------------------------------------------

    def _ampeco_host(self, user_input: Mapping[str, Any]) -> str:
        """The host typed in, or the entry's during reauth (the form has no host then)."""
        if self.source == SOURCE_REAUTH:
            return str(self._get_reauth_entry().data[CONF_HOST])
        return str(user_input[CONF_HOST])

    def _ampeco_defaults(self) -> Mapping[str, Any]:
        """The entry's values for the forms of reauth and reconfigure."""
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry().data
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry().data
        return {}
