"""Client of the Enlighten cloud for the IQ EV Charger 2 (no Home Assistant imports).

One client per Enlighten account. It logs in like the web app (form login, optional
e-mailed one-time code, a JWT from Entrez), keeps the session in the injected
``aiohttp`` session's cookie jar, renews the JWT before it expires, re-logs in once
on a 401 when it holds the password, and backs off after 429/5xx without sending
anything until the back-off ends.

A config flow drives it as::

    client = EnphaseClient(session, email, password, base_url=..., entrez_url=...)
    if await client.async_login() is LoginResult.MFA_REQUIRED:
        await client.async_submit_mfa_code(code)  # async_resend_mfa_code() for a new one
    sites = await client.async_get_sites()
    chargers = await client.async_get_chargers(sites[0].site_id)
    keep = client.auth_state.as_dict()  # restore later with EnphaseClient(..., auth_state=)

``clock`` (epoch seconds, default :func:`time.time`) times token expiry, back-off and
re-login windows, so tests move time without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import date
import logging
import re
import time
from typing import Any, Final

import aiohttp
from yarl import URL

from ..base import (
    BackendAuthError,
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendError,
    BackendInvalidDataError,
)
from .auth import AuthState, b64, claim, jwt_claims, jwt_expiry
from .const import (
    DEFAULT_BASE_URL,
    DEFAULT_ENTREZ_URL,
    DEFAULT_TIMEOUT_S,
    MANAGER_TOKEN_COOKIE,
    MFA_RESEND_WAIT_S,
    OTP_NONCE_COOKIE,
    PATH_LOGIN,
    PATH_MFA_GENERATE,
    PATH_MFA_VALIDATE,
    PATH_MODE,
    PATH_SESSIONS,
    PATH_SITES,
    PATH_START,
    PATH_STATUS,
    PATH_STOP,
    PATH_STREAM_START,
    PATH_STREAM_STOP,
    PATH_SUMMARY,
    PATH_TOKENS,
    PATH_TRIGGER,
    RELOGIN_LONG_PAUSE_S,
    RELOGIN_REJECTED_PAUSE_S,
    RELOGIN_REJECTIONS_BEFORE_LONG_PAUSE,
    RELOGIN_WINDOW_S,
    SESSION_COOKIES,
    TOKEN_RENEW_MARGIN_S,
    TOO_MANY_SESSIONS_PAUSE_S,
    TRIGGER_MESSAGES,
)
from .data import (
    ChargeMode,
    CommandOutcome,
    EnphaseChargeModes,
    EnphaseLiveStream,
    EnphaseSession,
    EnphaseSite,
    EnphaseStatusSnapshot,
    EnphaseSummary,
    LoginResult,
)
from .errors import (
    EnphaseCloudUnavailableError,
    EnphaseMfaRequiredError,
    EnphaseMfaResendWaitError,
    EnphaseOtpBlockedError,
    EnphaseOtpInvalidError,
    EnphaseTooManySessionsError,
)
from .parse import (
    accepted,
    as_bool,
    as_float,
    as_str,
    error_code,
    parse_charge_modes,
    parse_live_stream,
    parse_sessions,
    parse_sites,
    parse_status,
    parse_summary,
)
from .transport import EnlightenTransport

_LOGGER = logging.getLogger(__name__)

_TOO_MANY_SESSIONS: Final = "too many active sessions"
_MESSAGE_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_HISTORY_PAGE: Final = 50
_HISTORY_MAX_PAGES: Final = 5


class EnphaseClient(EnlightenTransport):
    """One Enlighten account (see the module docstring for the call order)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        email: str,
        password: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        entrez_url: str = DEFAULT_ENTREZ_URL,
        timeout: float = DEFAULT_TIMEOUT_S,
        auth_state: AuthState | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            session, base_url=base_url, entrez_url=entrez_url, timeout=timeout, clock=clock
        )
        self._email = email
        self._password = password
        self._auth_lock = asyncio.Lock()
        self._authenticated = False
        self._mfa_pending = False
        self._mfa_sent_at: float | None = None
        self._last_relogin_at: float | None = None
        self._relogin_rejections = 0
        self._login_pause_error: type[BackendError] = BackendAuthError

        #: Called after every login or token renewal, to persist :attr:`auth_state`.
        self.on_auth_changed: Callable[[AuthState], None] | None = None

        if auth_state is not None:
            self._restore(auth_state)

    # --- state ---------------------------------------------------------------------

    @property
    def email(self) -> str:
        """The account e-mail."""
        return self._email

    @property
    def has_password(self) -> bool:
        """Whether the client can log in again by itself."""
        return bool(self._password)

    @property
    def authenticated(self) -> bool:
        """Whether a session exists (it may still turn out expired)."""
        return self._authenticated

    @property
    def mfa_pending(self) -> bool:
        """Whether a login waits for its one-time code."""
        return self._mfa_pending

    @property
    def auth_state(self) -> AuthState:
        """The session as it stands, to keep across restarts."""
        return AuthState(
            session_id=self._session_id,
            token=self._token,
            token_expires_at=self._token_expires_at,
            manager_token=self._manager_token,
            cookies=self._auth_cookies(),
        )

    # --- login -------------------------------------------------------------------------

    async def async_login(self, password: str | None = None) -> LoginResult:
        """Log in with e-mail and password (an explicit login ignores re-login pauses).

        Returns :attr:`LoginResult.MFA_REQUIRED` after asking the cloud to e-mail a
        code; finish with :meth:`async_submit_mfa_code`.
        """
        if password is not None:
            self._password = password
        async with self._auth_lock:
            result = await self._login(send_code=True)
        if result is LoginResult.OK:
            self._login_ok()
        return result

    async def async_ensure_login(self) -> None:
        """Log in unless a session exists; a login needing a code raises."""
        if self._authenticated:
            return
        if not self._password:
            raise BackendAuthError("no session and no password")
        if await self.async_login() is LoginResult.MFA_REQUIRED:
            raise EnphaseMfaRequiredError("a one-time code is required")

    async def async_submit_mfa_code(self, code: str) -> None:
        """Finish a login with the e-mailed one-time code."""
        if not self._mfa_pending:
            raise BackendAuthError("no login waits for a code")
        code = code.strip()
        if not code:
            raise EnphaseOtpInvalidError("empty code")
        form = {
            "email": b64(self._email),
            "otp": b64(code),
            "xhrFields[withCredentials]": "true",
        }
        async with self._auth_lock:
            reply = await self._call(
                "auth", "POST", self._base + PATH_MFA_VALIDATE, kind="mfa", form=form, raw=True
            )
            if reply.status == 429:
                raise EnphaseOtpBlockedError("too many attempts")
            if reply.status in (401, 403):
                raise BackendAuthError("login expired, start again")
            if reply.status in (400, 404, 409, 422):
                raise EnphaseOtpInvalidError(f"HTTP {reply.status}")
            self._raise_for_status("auth", reply)
            data = self._json_object(reply, "mfa")
            if as_bool(data.get("isBlocked")):
                raise EnphaseOtpBlockedError("blocked")
            if as_bool(data.get("isValid")) is False:
                raise EnphaseOtpInvalidError("wrong code")
            await self._complete_login(data)
        self._login_ok()

    async def async_resend_mfa_code(self) -> None:
        """Ask for a new code (at most every 30 s)."""
        if not self._mfa_pending:
            raise BackendAuthError("no login waits for a code")
        if self._mfa_sent_at is not None:
            wait = MFA_RESEND_WAIT_S - (self._clock() - self._mfa_sent_at)
            if wait > 0:
                raise EnphaseMfaResendWaitError(wait)
        async with self._auth_lock:
            await self._send_mfa_code()

    async def _login(self, *, send_code: bool) -> LoginResult:
        """Form login; a code is e-mailed only when a user waits for it (``send_code``)."""
        if not self._password:
            raise BackendAuthError("no password")
        self._forget_session()
        form = {"user[email]": self._email, "user[password]": self._password}
        reply = await self._call(
            "auth", "POST", self._base + PATH_LOGIN, kind="login", form=form, raw=True
        )
        if _TOO_MANY_SESSIONS in reply.text.lower():
            self._pause_logins(TOO_MANY_SESSIONS_PAUSE_S, EnphaseTooManySessionsError)
            raise EnphaseTooManySessionsError(
                "too many active sessions", retry_at=self._login_paused_until
            )
        if reply.status in (401, 403):
            raise BackendAuthError("invalid credentials")
        if reply.status < 400 and not isinstance(reply.data, Mapping):
            raise EnphaseCloudUnavailableError("login: the reply is not JSON")
        self._raise_for_status("auth", reply)
        data = self._json_object(reply, "login")
        if as_bool(data.get("isBlocked")):
            raise BackendAuthError("account blocked")
        nonce = self._cookie(OTP_NONCE_COOKIE)
        mfa_alt = as_bool(data.get("success")) is True and "session_id" not in data
        if as_bool(data.get("requires_mfa")) or (mfa_alt and nonce):
            self._mfa_pending = True
            if send_code:
                await self._send_mfa_code()
            return LoginResult.MFA_REQUIRED
        await self._complete_login(data)
        return LoginResult.OK

    async def _send_mfa_code(self) -> None:
        reply = await self._call(
            "auth",
            "POST",
            self._base + PATH_MFA_GENERATE,
            kind="mfa",
            form={"locale": "en"},
            raw=True,
        )
        if reply.status == 429:
            raise EnphaseOtpBlockedError("too many codes asked")
        if reply.status in (401, 403):
            raise BackendAuthError("login expired, start again")
        self._raise_for_status("auth", reply)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        if as_bool(data.get("isBlocked")):
            raise EnphaseOtpBlockedError("blocked")
        if as_bool(data.get("success")) is False:
            raise BackendAuthError("code refused")
        self._mfa_sent_at = self._clock()

    async def _complete_login(self, data: Mapping[str, Any]) -> None:
        if as_bool(data.get("success")) is False:
            raise BackendAuthError("login refused")
        manager = as_str(data.get("manager_token")) or self._cookie(MANAGER_TOKEN_COOKIE)
        session_id = (
            as_str(data.get("session_id"))
            or next(filter(None, map(self._cookie, SESSION_COOKIES)), None)
            or claim(jwt_claims(manager), "session_id", "sessionId", "session")
        )
        if session_id is None:
            raise BackendAuthError("missing session identifier")
        self._session_id = session_id
        self._manager_token = manager
        self._mfa_pending = False
        self._authenticated = True
        self._auth_generation += 1
        try:
            await self._request_token()
        except BackendConnectionError as err:
            _LOGGER.debug("Entrez unreachable (%s); cookies only", err)
        self._notify_auth_changed()

    async def _request_token(self) -> bool:
        """Get the Entrez JWT; False when the cloud gave none (the old one stays)."""
        reply = await self._call(
            "auth",
            "POST",
            self._entrez + PATH_TOKENS,
            kind="entrez",
            json_body={"session_id": self._session_id, "email": self._email},
            raw=True,
        )
        if reply.status in (401, 403):
            self._authenticated = False
            raise BackendAuthError("token refused")
        data = reply.data if isinstance(reply.data, Mapping) else {}
        token = as_str(data.get("token") or data.get("auth_token") or data.get("access_token"))
        if reply.status >= 400 or token is None:
            _LOGGER.debug("Entrez token unavailable (HTTP %s)", reply.status)
            return False
        self._token = token
        self._token_expires_at = as_float(
            data.get("expires_at") or data.get("expiresAt") or data.get("expiration")
        ) or jwt_expiry(token)
        return True

    async def _ensure_fresh_token(self) -> None:
        """Renew the Entrez JWT shortly before it expires."""
        if not self._token_due():
            return
        async with self._auth_lock:
            if not self._token_due():
                return  # another call renewed it meanwhile
            try:
                renewed = await self._request_token()
            except BackendAuthError:
                # The session behind the token is gone: one silent re-login, if allowed.
                if not await self._relogin():
                    raise
                return
            except BackendConnectionError:
                renewed = False
            if renewed:
                self._notify_auth_changed()
            elif self._token_expires_at is not None and self._clock() >= self._token_expires_at:
                _LOGGER.debug("Entrez token expired and not renewed; cookies only")
                self._token = self._token_expires_at = None

    def _token_due(self) -> bool:
        return (
            self._token is not None
            and self._token_expires_at is not None
            and self._clock() >= self._token_expires_at - TOKEN_RENEW_MARGIN_S
        )

    async def _relogin_after_401(self, generation: int) -> bool:
        """One silent re-login for a request that met a 401; True when it may retry."""
        async with self._auth_lock:
            if self._auth_generation != generation:
                return True  # a concurrent call logged in again already
            return await self._relogin()

    async def _relogin(self) -> bool:
        now = self._clock()
        if self._login_paused_until is not None and now < self._login_paused_until:
            raise self._login_pause_error("automatic login paused")
        if not self._password:
            return False
        if self._last_relogin_at is not None and now - self._last_relogin_at < RELOGIN_WINDOW_S:
            return False  # rejected again right after a re-login: the user must act
        self._last_relogin_at = now
        try:
            result = await self._login(send_code=False)
        except EnphaseTooManySessionsError:
            raise
        except BackendAuthError:
            self._relogin_rejected(BackendAuthError)
            raise
        if result is LoginResult.MFA_REQUIRED:
            self._relogin_rejected(EnphaseMfaRequiredError)
            raise EnphaseMfaRequiredError("a one-time code is required")
        self._login_ok()
        return True

    def _relogin_rejected(self, error: type[BackendError]) -> None:
        """Pause silent logins; from the third rejection in a row, for a day."""
        self._relogin_rejections += 1
        long = self._relogin_rejections >= RELOGIN_REJECTIONS_BEFORE_LONG_PAUSE
        self._pause_logins(RELOGIN_LONG_PAUSE_S if long else RELOGIN_REJECTED_PAUSE_S, error)

    def _pause_logins(self, seconds: float, error: type[BackendError]) -> None:
        self._login_paused_until = self._clock() + seconds
        self._login_pause_error = error

    def _login_ok(self) -> None:
        self._login_paused_until = None
        self._relogin_rejections = 0

    def _forget_session(self) -> None:
        self._session_id = self._token = self._token_expires_at = self._manager_token = None
        self._authenticated = False
        self._mfa_pending = False
        names = {*SESSION_COOKIES, MANAGER_TOKEN_COOKIE, OTP_NONCE_COOKIE}
        self._session.cookie_jar.clear(lambda morsel: morsel.key in names)

    def _restore(self, state: AuthState) -> None:
        if state.cookies:
            self._session.cookie_jar.update_cookies(dict(state.cookies), URL(self._base))
        self._session_id = state.session_id
        self._token = state.token
        self._token_expires_at = state.token_expires_at or jwt_expiry(state.token)
        self._manager_token = state.manager_token
        self._authenticated = bool(state.session_id or state.cookies)

    def _notify_auth_changed(self) -> None:
        if self.on_auth_changed is not None:
            self.on_auth_changed(self.auth_state)

    # --- discovery ---------------------------------------------------------------------

    async def async_get_sites(self) -> tuple[EnphaseSite, ...]:
        """The account's sites."""
        reply = await self._call(
            "status",
            "GET",
            self._base + PATH_SITES,
            kind="sites",
            params={"searchText": "", "favourite": "false"},
        )
        return parse_sites(reply.data)

    async def async_get_chargers(self, site_id: str) -> tuple[EnphaseSummary, ...]:
        """The site's chargers (from the summary list; retired ones left out)."""
        return await self.async_get_summary(site_id)

    # --- data --------------------------------------------------------------------------

    async def async_get_status(self, site_id: str) -> EnphaseStatusSnapshot:
        """The main poll: every charger of the site."""
        reply = await self._call(
            "status", "GET", self._base + PATH_STATUS.format(site=site_id), site_id=site_id
        )
        self.last_payloads["status"] = reply.data
        return parse_status(reply.data)

    async def async_get_summary(self, site_id: str) -> tuple[EnphaseSummary, ...]:
        """Amps range, phases, voltage, firmware, network and lifetime energy per charger."""
        reply = await self._call(
            "summary",
            "GET",
            self._base + PATH_SUMMARY.format(site=site_id),
            site_id=site_id,
            params={"filter_retired": "true"},
        )
        self.last_payloads["summary"] = reply.data
        return parse_summary(reply.data)

    async def async_get_sessions(
        self, site_id: str, serial: str, first_day: date, last_day: date, timezone: str
    ) -> tuple[EnphaseSession, ...]:
        """Sessions between two local days (inclusive), up to five pages."""
        url = self._base + PATH_SESSIONS.format(site=site_id, sn=serial)
        sessions: list[EnphaseSession] = []
        for page in range(_HISTORY_MAX_PAGES):
            body = {
                "source": "evse",
                "params": {
                    "offset": page * _HISTORY_PAGE,
                    "limit": _HISTORY_PAGE,
                    "startDate": first_day.strftime("%d-%m-%Y"),
                    "endDate": last_day.strftime("%d-%m-%Y"),
                    "timezone": timezone,
                },
            }
            reply = await self._call(
                "history", "POST", url, site_id=site_id, kind="history", json_body=body
            )
            self.last_payloads[f"sessions:{serial}"] = reply.data
            found, more = parse_sessions(reply.data)
            sessions.extend(found)
            if not more:
                break
        return tuple(sessions)

    # --- commands ----------------------------------------------------------------------

    async def async_start_charging(
        self, site_id: str, serial: str, charging_level: float | None = None, connector_id: int = 1
    ) -> CommandOutcome:
        """Start a session; ``charging_level`` A is left out in green/smart mode.

        Raises :class:`BackendCommandRejectedError` with reason ``not_plugged`` or
        ``already_charging`` (both ``user_error``) when the cloud says so.
        """
        body: dict[str, int] = {"connectorId": connector_id}
        if charging_level is not None:
            body = {"chargingLevel": round(charging_level), "connectorId": connector_id}
        reply = await self._call(
            "control",
            "POST",
            self._base + PATH_START.format(site=site_id, sn=serial),
            site_id=site_id,
            kind="control",
            json_body=body,
            passthrough=frozenset({400, 404, 405, 409, 422, 500}),
        )
        if reply.status < 400:
            return CommandOutcome.ACCEPTED
        code, message = error_code(reply.data)
        text = (message or "").lower()
        if reply.status in (409, 422) or code == "iqevc_ms-10008" or "not plugged" in text:
            raise BackendCommandRejectedError("not_plugged", message or "", user_error=True)
        if code == "iqevc_ms-10012" or "already in charging" in text:
            raise BackendCommandRejectedError("already_charging", message or "", user_error=True)
        if "invalid charge level" in text:
            raise BackendCommandRejectedError("invalid_charge_level", text, user_error=True)
        self._raise_for_status("control", reply, passthrough=frozenset({400, 404, 405}))
        raise BackendCommandRejectedError("rejected", message or f"HTTP {reply.status}")

    async def async_stop_charging(self, site_id: str, serial: str) -> CommandOutcome:
        """Stop the session; no active session is :attr:`CommandOutcome.NOT_ACTIVE`."""
        reply = await self._call(
            "control",
            "PUT",
            self._base + PATH_STOP.format(site=site_id, sn=serial),
            site_id=site_id,
            kind="control",
            passthrough=frozenset({400, 404, 409, 422}),
        )
        return CommandOutcome.ACCEPTED if reply.status < 400 else CommandOutcome.NOT_ACTIVE

    async def async_trigger_message(
        self, site_id: str, serial: str, message: str
    ) -> Mapping[str, Any]:
        """Ask the charger to send an OCPP message; returns the cloud's reply."""
        if message not in TRIGGER_MESSAGES or not _MESSAGE_NAME.match(message):
            raise BackendCommandRejectedError("invalid_message", message, user_error=True)
        reply = await self._call(
            "control",
            "POST",
            self._base + PATH_TRIGGER.format(site=site_id, sn=serial),
            site_id=site_id,
            kind="control",
            json_body={"requestedMessage": message},
            passthrough=frozenset({400, 404, 405, 422}),
        )
        if reply.status >= 400 or not accepted(reply.data):
            raise BackendCommandRejectedError("rejected", error_code(reply.data)[1] or "")
        return reply.data if isinstance(reply.data, Mapping) else {}

    async def async_start_live_stream(self, site_id: str) -> EnphaseLiveStream:
        """Ask the chargers of the site to report faster for a while."""
        reply = await self._call(
            "control",
            "GET",
            self._base + PATH_STREAM_START.format(site=site_id),
            site_id=site_id,
            kind="control",
        )
        if not accepted(reply.data):
            raise BackendCommandRejectedError("rejected", error_code(reply.data)[1] or "")
        return parse_live_stream(reply.data)

    async def async_stop_live_stream(self, site_id: str) -> None:
        """End the live stream."""
        reply = await self._call(
            "control",
            "GET",
            self._base + PATH_STREAM_STOP.format(site=site_id),
            site_id=site_id,
            kind="control",
        )
        if not accepted(reply.data):
            raise BackendCommandRejectedError("rejected", error_code(reply.data)[1] or "")

    async def async_get_charge_mode(self, site_id: str, serial: str) -> EnphaseChargeModes:
        """The scheduler preference of a charger."""
        reply = await self._call(
            "scheduler",
            "GET",
            self._base + PATH_MODE.format(site=site_id, sn=serial),
            site_id=site_id,
            kind="control",
        )
        self.last_payloads[f"charge_mode:{serial}"] = reply.data
        return parse_charge_modes(reply.data)

    async def async_set_charge_mode(
        self, site_id: str, serial: str, mode: ChargeMode
    ) -> EnphaseChargeModes:
        """Select a charge mode; Scheduled without an enabled schedule is refused."""
        reply = await self._call(
            "scheduler",
            "PUT",
            self._base + PATH_MODE.format(site=site_id, sn=serial),
            site_id=site_id,
            kind="control",
            json_body={"mode": mode.value},
            passthrough=frozenset({400, 422}),
        )
        if reply.status >= 400:
            code, message = error_code(reply.data)
            reason = "no_schedules_enabled" if code == "iqevc_sch_10031" else "rejected"
            raise BackendCommandRejectedError(reason, message or "", user_error=True)
        try:
            return parse_charge_modes(reply.data)
        except BackendInvalidDataError:
            return EnphaseChargeModes(current=mode)
