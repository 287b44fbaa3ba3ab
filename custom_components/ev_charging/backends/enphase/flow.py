"""Config flow steps for the Enphase IQ EV Charger 2: account, one-time code, site, chargers.

The same steps serve three sources: adding an entry (``enphase``), reauth
(``reauth_enphase_confirm``: the password again) and reconfigure
(``reconfigure_enphase``: another account, site or set of chargers; with the same
account and no password the stored session is reused, so no new one-time code).
The entry keeps the login (``auth_state``) so that a restart needs no new login.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

import aiohttp
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol
from yarl import URL

from ...const import CONF_BACKEND, LOGGER
from ..base import BackendAuthError, BackendConnectionError, BackendError
from .api import EnphaseClient
from .backend import MIN_FAST_INTERVAL_S, MIN_SLOW_INTERVAL_S
from .const import DEFAULT_BASE_URL
from .data import EnphaseSite, EnphaseSummary, LoginResult
from .entry import (
    CONF_AUTH_STATE,
    CONF_SERIALS,
    CONF_SITE_ID,
    CONF_SITE_NAME,
    KEY,
    MAX_INTERVAL_S,
    MAX_TIMEOUT_S,
    MAX_VOLTAGE,
    MIN_TIMEOUT_S,
    MIN_VOLTAGE,
    OPT_FAST_INTERVAL,
    OPT_NOMINAL_VOLTAGE,
    OPT_SLOW_INTERVAL,
    OPT_TIMEOUT,
    new_client,
    new_session,
    options_of,
    unique_id,
)
from .errors import (
    EnphaseCloudUnavailableError,
    EnphaseMfaResendWaitError,
    EnphaseOtpBlockedError,
    EnphaseOtpInvalidError,
    EnphaseRateLimitedError,
    EnphaseTooManySessionsError,
)

CONF_CODE = "code"
CONF_RESEND = "resend"

_EMAIL = TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username"))
_PASSWORD = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_CODE = TextSelector(TextSelectorConfig(autocomplete="one-time-code"))


def _error_key(err: BackendError) -> str:
    """The form error for a failed login or read (most specific first)."""
    for kind, key in (
        (EnphaseTooManySessionsError, "too_many_active_sessions"),
        (EnphaseRateLimitedError, "rate_limited"),
        (EnphaseCloudUnavailableError, "service_unavailable"),
        (EnphaseOtpBlockedError, "otp_blocked"),
        (EnphaseOtpInvalidError, "otp_invalid"),
        (BackendAuthError, "invalid_auth"),
        (BackendConnectionError, "cloud_unreachable"),
    ):
        if isinstance(err, kind):
            return key
    LOGGER.warning("Unexpected answer from the Enlighten cloud: %s", err)
    return "unknown"


def _server(user_input: Mapping[str, Any]) -> str | None:
    """The Enlighten base URL typed in advanced mode; ``None`` for the vendor's own."""
    url = str(user_input.get(CONF_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    return None if url == DEFAULT_BASE_URL else url


def _valid_server(url: str | None) -> bool:
    if url is None:
        return True
    parsed = URL(url)
    return parsed.scheme in ("http", "https") and bool(parsed.host)


@dataclass(slots=True)
class _Login:
    """What the flow learnt so far; the session lives until the flow ends."""

    session: aiohttp.ClientSession
    client: EnphaseClient | None = None
    email: str = ""
    password: str | None = None
    url: str | None = None
    needs_code: bool = False  # the account asks for a one-time code at each login
    restored: bool = False  # reconfigure reuses the entry's session (no new login)
    sites: tuple[EnphaseSite, ...] = ()
    site: EnphaseSite | None = None
    chargers: tuple[EnphaseSummary, ...] = ()


class EnphaseFlowMixin(ConfigFlow):
    """The Enphase steps of the integration's config flow."""

    _enphase: _Login | None = None

    # --- plumbing ----------------------------------------------------------------------

    def _enphase_login(self) -> _Login:
        if self._enphase is None:
            # Its own cookie jar; not tied to an entry, so detached in async_remove.
            self._enphase = _Login(new_session(self.hass, auto_cleanup=False))
        return self._enphase

    def _enphase_client(self) -> EnphaseClient:
        client = self._enphase_login().client
        if client is None:
            raise RuntimeError("no Enphase login in progress")
        return client

    @callback
    def async_remove(self) -> None:
        """The flow ended: release its HTTP session."""
        if self._enphase is not None:
            self._enphase.session.detach()
            self._enphase = None
        super().async_remove()

    def _enphase_credentials_form(
        self, errors: dict[str, str], user_input: Mapping[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The credentials form of the flow's source."""
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            return self.async_show_form(
                step_id="reauth_enphase_confirm",
                data_schema=vol.Schema({vol.Required(CONF_PASSWORD): _PASSWORD}),
                errors=errors,
                description_placeholders={"email": entry.data[CONF_EMAIL]},
            )
        password: vol.Marker
        defaults: Mapping[str, Any] = {}
        if self.source == SOURCE_RECONFIGURE:
            step_id, password = "reconfigure_enphase", vol.Optional(CONF_PASSWORD)
            defaults = self._get_reconfigure_entry().data
        else:
            step_id, password = "enphase", vol.Required(CONF_PASSWORD)
        fields: dict[Any, Any] = {vol.Required(CONF_EMAIL): _EMAIL, password: _PASSWORD}
        if self.show_advanced_options:
            fields[vol.Optional(CONF_URL)] = _URL
        suggested = {
            CONF_EMAIL: defaults.get(CONF_EMAIL),
            CONF_URL: defaults.get(CONF_URL) or DEFAULT_BASE_URL,
        }
        if user_input is not None:
            suggested.update({k: v for k, v in user_input.items() if k != CONF_PASSWORD})
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), suggested),
            errors=errors,
        )

    # --- credentials -------------------------------------------------------------------

    async def async_step_enphase(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Enlighten account (and, in advanced mode, the server)."""
        if user_input is None:
            return self._enphase_credentials_form({})
        return await self._enphase_log_in(user_input)

    async def async_step_reauth_enphase(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The stored login stopped working: ask for the password again."""
        return await self.async_step_reauth_enphase_confirm()

    async def async_step_reauth_enphase_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The password of the entry's account."""
        if user_input is None:
            return self._enphase_credentials_form({})
        entry = self._get_reauth_entry()
        return await self._enphase_log_in(
            {
                CONF_EMAIL: entry.data[CONF_EMAIL],
                CONF_PASSWORD: user_input[CONF_PASSWORD],
                CONF_URL: entry.data.get(CONF_URL),
            }
        )

    async def async_step_reconfigure_enphase(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Another account, site or set of chargers; no password keeps the session."""
        if user_input is None:
            return self._enphase_credentials_form({})
        entry = self._get_reconfigure_entry()
        # Outside advanced mode there is no server field: the entry's server stays.
        user_input = {CONF_URL: entry.data.get(CONF_URL), **user_input}
        email = str(user_input[CONF_EMAIL]).strip().casefold()
        same_account = email == str(entry.data[CONF_EMAIL]).casefold() and _server(
            user_input
        ) == entry.data.get(CONF_URL)
        if user_input.get(CONF_PASSWORD) or not same_account:
            return await self._enphase_log_in(user_input)
        login = self._enphase_login()
        login.email = entry.data[CONF_EMAIL]
        login.password = entry.data.get(CONF_PASSWORD)
        login.url = entry.data.get(CONF_URL)
        login.needs_code = login.password is None
        login.restored = True
        login.client = new_client(login.session, entry.data)
        return await self._enphase_logged_in()

    async def _enphase_log_in(self, user_input: Mapping[str, Any]) -> ConfigFlowResult:
        """Log in with the form's credentials; on to the code, or to the sites."""
        url = _server(user_input)
        if not _valid_server(url):
            return self._enphase_credentials_form({CONF_URL: "invalid_url"}, user_input)
        login = self._enphase_login()
        login.email = str(user_input[CONF_EMAIL]).strip()
        login.password = str(user_input.get(CONF_PASSWORD) or "") or None
        login.url = url
        login.restored = False
        login.client = new_client(
            login.session,
            {CONF_EMAIL: login.email, CONF_PASSWORD: login.password, CONF_URL: url},
        )
        try:
            result = await login.client.async_login()
        except BackendError as err:
            return self._enphase_credentials_form({"base": _error_key(err)}, user_input)
        login.needs_code = result is LoginResult.MFA_REQUIRED
        if login.needs_code:
            return await self.async_step_enphase_mfa()
        return await self._enphase_logged_in()

    # --- one-time code -----------------------------------------------------------------

    async def async_step_enphase_mfa(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The code the cloud e-mailed; tick "resend" for a new one (every 30 s at most)."""
        client = self._enphase_client()
        errors: dict[str, str] = {}
        placeholders = {"email": self._enphase_login().email, "seconds": "30"}
        if user_input is not None:
            code = str(user_input.get(CONF_CODE) or "").strip()
            try:
                if user_input.get(CONF_RESEND):
                    await client.async_resend_mfa_code()
                elif code:
                    await client.async_submit_mfa_code(code)
                    return await self._enphase_logged_in()
                else:
                    errors[CONF_CODE] = "otp_required"
            except EnphaseMfaResendWaitError as err:
                errors["base"] = "resend_wait"
                placeholders["seconds"] = str(math.ceil(err.wait_s))
            except (EnphaseOtpInvalidError, EnphaseOtpBlockedError) as err:
                errors["base"] = _error_key(err)
            except BackendAuthError:
                # The pending login expired: start over with the credentials.
                return self._enphase_credentials_form({"base": "login_expired"})
            except BackendError as err:
                errors["base"] = _error_key(err)
        return self.async_show_form(
            step_id="enphase_mfa",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_CODE): _CODE,
                    vol.Optional(CONF_RESEND, default=False): BooleanSelector(),
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- site and chargers -------------------------------------------------------------

    async def _enphase_logged_in(self) -> ConfigFlowResult:
        """Read the account's sites: reauth checks its site, the others pick one."""
        login = self._enphase_login()
        try:
            sites = await self._enphase_client().async_get_sites()
        except BackendError as err:
            key = _error_key(err)
            if login.restored and key == "invalid_auth":
                key = "session_expired"
            return self._enphase_credentials_form({"base": key})
        if self.source == SOURCE_REAUTH:
            return self._enphase_finish_reauth(sites)
        if not sites:
            return self._enphase_credentials_form({"base": "no_sites"})
        login.sites = sites
        if len(sites) == 1:
            return await self._enphase_site_chosen(sites[0])
        return await self.async_step_enphase_site()

    def _enphase_site_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        login = self._enphase_login()
        current = login.site.site_id if login.site else None
        if current is None and self.source == SOURCE_RECONFIGURE:
            current = self._get_reconfigure_entry().data[CONF_SITE_ID]
        options = [
            SelectOptionDict(value=site.site_id, label=site.name or site.site_id)
            for site in login.sites
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_SITE_ID): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(
            step_id="enphase_site",
            data_schema=self.add_suggested_values_to_schema(schema, {CONF_SITE_ID: current}),
            errors=errors,
        )

    async def async_step_enphase_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the account's sites (asked only when there are several)."""
        if user_input is None:
            return self._enphase_site_form({})
        login = self._enphase_login()
        site = next(s for s in login.sites if s.site_id == user_input[CONF_SITE_ID])
        return await self._enphase_site_chosen(site)

    async def _enphase_site_chosen(self, site: EnphaseSite) -> ConfigFlowResult:
        login = self._enphase_login()
        login.site = site
        uid = unique_id(login.email, site.site_id)
        if self.source == SOURCE_RECONFIGURE:
            this = self._get_reconfigure_entry().entry_id
            if any(
                entry.unique_id == uid and entry.entry_id != this
                for entry in self._async_current_entries(include_ignore=False)
            ):
                return self.async_abort(reason="already_configured")
        else:
            await self.async_set_unique_id(uid)
            self._abort_if_unique_id_configured()
        try:
            login.chargers = await self._enphase_client().async_get_chargers(site.site_id)
        except BackendError as err:
            return self._enphase_site_form({"base": _error_key(err)})
        if not login.chargers:
            return self._enphase_site_form({"base": "no_chargers"})
        return await self.async_step_enphase_chargers()

    async def async_step_enphase_chargers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tick the chargers to add (all by default; the current ones on reconfigure)."""
        login = self._enphase_login()
        serials = [charger.serial for charger in login.chargers]
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = [sn for sn in user_input.get(CONF_SERIALS, []) if sn in serials]
            if chosen:
                return self._enphase_finish(chosen)
            errors[CONF_SERIALS] = "chargers_required"
        default = serials
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            kept = [sn for sn in entry.data.get(CONF_SERIALS, []) if sn in serials]
            same_site = login.site is not None and login.site.site_id == entry.data[CONF_SITE_ID]
            default = kept if same_site and kept else serials
        options = [
            SelectOptionDict(value=c.serial, label=f"{c.name or 'IQ EV Charger'} ({c.serial})")
            for c in login.chargers
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_SERIALS): SelectSelector(
                    SelectSelectorConfig(
                        options=options, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="enphase_chargers",
            data_schema=self.add_suggested_values_to_schema(schema, {CONF_SERIALS: default}),
            errors=errors,
            description_placeholders={"site": self._enphase_site_title()},
        )

    # --- the entry ---------------------------------------------------------------------

    def _enphase_site_title(self) -> str:
        site = self._enphase_login().site
        if site is None:
            return ""
        return site.name or f"Enphase site {site.site_id}"

    def _enphase_account_data(self) -> dict[str, Any]:
        """Login and credentials; the password only where a silent re-login can work."""
        login = self._enphase_login()
        data: dict[str, Any] = {
            CONF_EMAIL: login.email,
            CONF_AUTH_STATE: self._enphase_client().auth_state.as_dict(),
        }
        if login.password and not login.needs_code:
            data[CONF_PASSWORD] = login.password
        if login.url:
            data[CONF_URL] = login.url
        return data

    def _enphase_finish(self, serials: list[str]) -> ConfigFlowResult:
        login = self._enphase_login()
        site = login.site
        if site is None:
            raise RuntimeError("no site chosen")
        data = {
            CONF_BACKEND: KEY,
            **self._enphase_account_data(),
            CONF_SITE_ID: site.site_id,
            CONF_SITE_NAME: site.name,
            CONF_SERIALS: serials,
        }
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(),
                unique_id=unique_id(login.email, site.site_id),
                title=self._enphase_site_title(),
                data=data,
            )
        return self.async_create_entry(title=self._enphase_site_title(), data=data)

    def _enphase_finish_reauth(self, sites: tuple[EnphaseSite, ...]) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        if entry.data[CONF_SITE_ID] not in {site.site_id for site in sites}:
            return self.async_abort(reason="wrong_account")
        data = {
            key: value
            for key, value in entry.data.items()
            if key not in (CONF_PASSWORD, CONF_AUTH_STATE)
        }
        return self.async_update_reload_and_abort(entry, data=data | self._enphase_account_data())


class EnphaseOptionsFlow(OptionsFlow):
    """Poll intervals (never below the vendor's limits), timeout and nominal voltage."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The one options form."""
        return await self.async_step_enphase_options(user_input)

    async def async_step_enphase_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show or save the options; the entry reloads with them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[OPT_SLOW_INTERVAL] < user_input[OPT_FAST_INTERVAL]:
                errors[OPT_SLOW_INTERVAL] = "slow_below_fast"
            else:
                return self.async_create_entry(data=user_input)

        def number(low: float, high: float, unit: str, step: float = 1) -> NumberSelector:
            return NumberSelector(
                NumberSelectorConfig(
                    min=low,
                    max=high,
                    step=step,
                    unit_of_measurement=unit,
                    mode=NumberSelectorMode.BOX,
                )
            )

        schema = vol.Schema(
            {
                vol.Required(OPT_FAST_INTERVAL): number(MIN_FAST_INTERVAL_S, MAX_INTERVAL_S, "s"),
                vol.Required(OPT_SLOW_INTERVAL): number(MIN_SLOW_INTERVAL_S, MAX_INTERVAL_S, "s"),
                vol.Required(OPT_TIMEOUT): number(MIN_TIMEOUT_S, MAX_TIMEOUT_S, "s"),
                vol.Required(OPT_NOMINAL_VOLTAGE): number(MIN_VOLTAGE, MAX_VOLTAGE, "V"),
            }
        )
        return self.async_show_form(
            step_id="enphase_options",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or options_of(self.config_entry.options)
            ),
            errors=errors,
        )


def enphase_options_flow(entry: ConfigEntry[Any]) -> OptionsFlow:
    """The options flow of an Enphase entry (``OPTIONS_FLOWS`` entry)."""
    return EnphaseOptionsFlow()
