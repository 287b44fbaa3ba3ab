"""Client of the AMPECO cloud "driver app" API (the API of the vendors' mobile apps).

Pure: no Home Assistant imports. The caller injects the ``aiohttp`` session and a
clock (seconds; ``time.time`` by default) that times token expiry and back-off.

A config flow uses it like this::

    client = AmpecoClient(session, host, oauth_client=OAuthClient("1", secret))
    tokens = await client.async_login(email, password)  # or client.set_token(pasted)
    points = await client.async_list_charge_points()  # empty: no charge point

and stores ``client.host`` and ``tokens.as_dict()``. At run time, pass the stored
tokens (and, optionally, the e-mail and password) back in, and ``on_tokens`` to
persist the renewed tokens: Passport rotates the refresh token on every use.

Errors are the typed errors of :mod:`..base`: a 401 renews the token once (refresh
grant, then a password grant when the password is known) and retries once, then
raises :class:`AmpecoAuthError`; 429, 5xx, timeouts and unreachable hosts start an
exponential back-off (:mod:`.backoff`) during which every call raises
:class:`BackendConnectionError` without a request; 404/406/422 become
:class:`BackendCommandRejectedError` with a reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
import json
import logging
import time
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

from ..base import BackendCommandRejectedError, BackendConnectionError, BackendInvalidDataError
from .auth import AmpecoAuthError, AmpecoTokens, OAuthClient
from .backoff import Backoff
from .payloads import (
    AmpecoChargePoint,
    AmpecoEvse,
    AmpecoHistoryEntry,
    AmpecoProfile,
    AmpecoSession,
    error_message,
    parse_charge_point_body,
    parse_charge_point_list,
    parse_history,
    parse_profile,
    parse_session_body,
)

_LOGGER = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
ROUTE_TOKEN = "/app/oauth/token"
ROUTE_CHARGE_POINTS = "/app/personal/charge-points"
ROUTE_SESSION_START = "/app/session/start"
ROUTE_SESSION = "/app/session"
ROUTE_HISTORY = "/app/profile/session_history"
ROUTE_PROFILE = "/app/profile"

DEFAULT_TIMEOUT = 10.0  # s
REFRESH_MARGIN = 60.0  # s before expiry a token is renewed

StartIdForm = Literal["identifier", "id"]
StopRoute = Literal["end", "stop"]
_Command = Literal["start", "stop", "read"]


def normalize_host(host: str) -> str:
    """``https://<tenant>.<region>.charge.ampeco.tech`` from what a user types.

    Adds a missing scheme, drops a trailing ``/`` and a pasted ``/api/v1``.
    """
    text = host.strip()
    if "://" not in text:
        text = f"https://{text}"
    text = text.rstrip("/")
    if text.endswith(API_PREFIX):
        text = text[: -len(API_PREFIX)]
    return text.rstrip("/")


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    body: Any  # decoded JSON, or None when the body is empty or not JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own delay
        return None


class AmpecoClient:
    """One AMPECO account on one white-label tenant."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        oauth_client: OAuthClient | None = None,
        tokens: AmpecoTokens | None = None,
        email: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        on_tokens: Callable[[AmpecoTokens], None] | None = None,
    ) -> None:
        self._session = session
        self._host = normalize_host(host)
        self._oauth = oauth_client or OAuthClient()
        self._tokens = tokens
        self._email = email
        self._password = password
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        #: Called with every new token pair, for the caller to persist.
        self.on_tokens = on_tokens
        self._backoff = Backoff()
        self._renew_lock = asyncio.Lock()
        self._auth_error: AmpecoAuthError | None = None
        self._start_forms: dict[str, StartIdForm] = {}
        self._stop_route: StopRoute = "end"
        #: The last raw body of each route, for diagnostics (not redacted here).
        self.last_payloads: dict[str, Any] = {}

    # --- state -----------------------------------------------------------------

    @property
    def host(self) -> str:
        """The normalized host (without ``/api/v1``)."""
        return self._host

    @property
    def tokens(self) -> AmpecoTokens | None:
        """The current tokens (renewed ones included)."""
        return self._tokens

    @property
    def can_renew(self) -> bool:
        """Whether a rejected or expiring token can be renewed without the user."""
        has_refresh = self._tokens is not None and self._tokens.refresh_token is not None
        return has_refresh or self._has_password

    @property
    def backoff_until(self) -> float | None:
        """Clock time before which no request goes out (``None``: no back-off)."""
        return self._backoff.until

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last answer of the cloud."""
        return self._backoff.failures

    def backoff_remaining(self) -> float:
        """Seconds left in the back-off (0 when none)."""
        return self._backoff.remaining(self._clock())

    def diagnostics(self) -> dict[str, Any]:
        """State worth a look in a diagnostics download (no secrets)."""
        return {
            "host": self._host,
            "password_known": self._has_password,
            "token_expires_at": self._tokens.expires_at if self._tokens else None,
            "has_refresh_token": bool(self._tokens and self._tokens.refresh_token),
            "auth_failed": self._auth_error is not None,
            "backoff_until": self._backoff.until,
            "consecutive_failures": self._backoff.failures,
            # which EVSE id form the tenant took, without the ids themselves
            "start_id_forms": sorted(set(self._start_forms.values())),
            "stop_route": self._stop_route,
        }

    @property
    def _has_password(self) -> bool:
        return bool(self._email and self._password)

    # --- authentication ------------------------------------------------------------

    def set_token(self, access_token: str) -> None:
        """Use a pasted bearer token: no renewal, so a 401 is final."""
        self._tokens = AmpecoTokens(access_token=access_token.strip())
        self._email = self._password = None
        self._auth_error = None

    async def async_login(self, email: str, password: str) -> AmpecoTokens:
        """Password grant; keeps the password in memory to log in again if a refresh fails.

        Raises :class:`AmpecoAuthError` (``invalid_auth`` or ``invalid_client``) or
        :class:`BackendConnectionError`.
        """
        self._auth_error = None
        tokens = await self._async_grant(
            {"grant_type": "password", "username": email, "password": password}
        )
        self._email, self._password = email, password
        return tokens

    async def _async_grant(self, fields: dict[str, str]) -> AmpecoTokens:
        payload = {
            **fields,
            "client_id": self._oauth.client_id,
            "client_secret": self._oauth.client_secret,
            "scope": "*",
        }
        previous = self._tokens.refresh_token if self._tokens else None
        response = await self._send("POST", ROUTE_TOKEN, json_body=payload, token=None)
        if response.ok and isinstance(response.body, dict):
            tokens = AmpecoTokens.from_grant(
                response.body,
                now=self._clock(),
                previous_refresh=previous if fields["grant_type"] == "refresh_token" else None,
            )
            self._tokens = tokens
            if self.on_tokens is not None:
                self.on_tokens(tokens)
            return tokens
        body = response.body if isinstance(response.body, dict) else {}
        reason: Literal["invalid_auth", "invalid_client"] = (
            "invalid_client" if body.get("error") == "invalid_client" else "invalid_auth"
        )
        raise AmpecoAuthError(reason, error_message(body) or f"HTTP {response.status}")

    async def _async_renew(self, rejected: str | None) -> AmpecoTokens:
        """A fresh token: refresh grant first, then a password grant if that fails."""
        async with self._renew_lock:
            current = self._tokens
            if current is not None and current.access_token != rejected:
                return current  # another call renewed it while we waited
            if current is not None and current.refresh_token is not None:
                try:
                    return await self._async_grant(
                        {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
                    )
                except AmpecoAuthError as err:
                    if err.reason == "invalid_client" or not self._has_password:
                        raise self._fail(err) from err
                    _LOGGER.debug("Refresh grant refused (%s); logging in again", err)
            email, password = self._email, self._password
            if not email or not password:
                raise self._fail(AmpecoAuthError("invalid_auth", "the token cannot be renewed"))
            try:
                return await self._async_grant(
                    {"grant_type": "password", "username": email, "password": password}
                )
            except AmpecoAuthError as err:
                raise self._fail(err) from err

    def _fail(self, err: AmpecoAuthError) -> AmpecoAuthError:
        """Remember a final auth failure so later calls do not hammer the token route."""
        self._auth_error = err
        return err

    async def _async_token(self) -> str:
        if self._auth_error is not None:
            raise self._auth_error
        tokens = self._tokens
        if tokens is None:
            tokens = await self._async_renew(None)
        elif (
            tokens.expires_at is not None
            and self._clock() >= tokens.expires_at - REFRESH_MARGIN
            and self.can_renew
        ):
            tokens = await self._async_renew(tokens.access_token)
        return tokens.access_token

    # --- transport -----------------------------------------------------------------

    async def _send(
        self,
        method: str,
        route: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        token: str | None,
    ) -> _Response:
        """One HTTP exchange; back-off and transport failures handled here."""
        wait = self._backoff.remaining(self._clock())
        if wait > 0:
            raise BackendConnectionError(f"backing off for another {wait:.0f} s")
        headers = {"Accept": "application/json", "Accept-Language": "en"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self._session.request(
                method,
                f"{self._host}{API_PREFIX}{route}",
                json=json_body,
                params=params,
                headers=headers,
                timeout=self._timeout,
            ) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as err:
            delay = self._backoff.failure(self._clock())
            _LOGGER.debug("%s %s failed (%r); backing off %.0f s", method, route, err, delay)
            raise BackendConnectionError(f"{method} {route}: {err!r}") from err
        _LOGGER.debug("%s %s -> %s", method, route, status)
        if status == 429 or status >= 500:
            self._backoff.failure(self._clock(), _retry_after(retry_after))
            raise BackendConnectionError(f"{method} {route}: HTTP {status}")
        self._backoff.success()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return _Response(status, body)

    async def _call(
        self,
        method: str,
        route: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> _Response:
        """An authenticated exchange: a 401 renews the token once, then is final."""
        token = await self._async_token()
        response = await self._send(method, route, json_body=json_body, params=params, token=token)
        if response.status != 401:
            return response
        if not self.can_renew:
            raise self._fail(AmpecoAuthError("invalid_auth", "the server rejected the token"))
        renewed = await self._async_renew(token)
        response = await self._send(
            method, route, json_body=json_body, params=params, token=renewed.access_token
        )
        if response.status == 401:
            raise self._fail(AmpecoAuthError("invalid_auth", "the renewed token was rejected"))
        return response

    def _body(self, response: _Response, key: str, command: _Command = "read") -> Any:
        """The JSON body of a success, else the typed rejection."""
        if response.ok:
            if response.body is None and command == "read":
                raise BackendInvalidDataError(f"{key}: the response is not JSON")
            self.last_payloads[key] = response.body
            return response.body
        raise _rejection(response, command)

    # --- routes --------------------------------------------------------------------

    async def async_list_charge_points(self) -> tuple[AmpecoChargePoint, ...]:
        """Every personal charge point, each EVSE with its live session: one request."""
        response = await self._call("GET", ROUTE_CHARGE_POINTS)
        return parse_charge_point_list(self._body(response, "charge_points"))

    async def async_get_charge_point(self, charge_point_id: str) -> AmpecoChargePoint:
        """One charge point (404: ``not_found``)."""
        response = await self._call("GET", f"{ROUTE_CHARGE_POINTS}/{quote(charge_point_id, '')}")
        return parse_charge_point_body(self._body(response, "charge_point"))

    async def async_start_session(
        self, evse: AmpecoEvse, *, max_current: int | None = None
    ) -> AmpecoSession | None:
        """Start a session; returns the new session when the response holds one.

        Tenants disagree on which EVSE id to send: the public ``identifier`` goes
        first, the internal ``id`` when that is refused (404/422), and the form
        that worked is kept for next time. ``max_current`` (A) is sent as
        ``maxCurrent``, which some tenants may ignore.
        """
        forms = self._start_id_forms(evse)
        response: _Response | None = None
        for index, (form, value) in enumerate(forms):
            body: dict[str, Any] = {"evseId": value, "source": "App"}
            if max_current is not None:
                body["maxCurrent"] = int(max_current)
            response = await self._call("POST", ROUTE_SESSION_START, json_body=body)
            if response.ok:
                self._start_forms[evse.id] = form
                payload = self._body(response, "session_start", "start")
                return parse_session_body(payload) if isinstance(payload, dict) else None
            if response.status not in (404, 422) or index == len(forms) - 1:
                break
            _LOGGER.debug("Start refused for the %s form of the EVSE id; trying the other", form)
        assert response is not None
        raise _rejection(response, "start")

    def _start_id_forms(self, evse: AmpecoEvse) -> list[tuple[StartIdForm, str | int]]:
        forms: list[tuple[StartIdForm, str | int]] = []
        if evse.identifier is not None:
            # the app that sends the identifier sends it as a number when it is one
            value: str | int = (
                int(evse.identifier) if evse.identifier.isdigit() else evse.identifier
            )
            forms.append(("identifier", value))
        forms.append(("id", evse.id))
        if self._start_forms.get(evse.id) == "id":
            forms.reverse()
        return forms

    async def async_stop_session(self, session_id: str) -> AmpecoSession | None:
        """End a session: ``/end``, then ``/stop`` when ``/end`` is 404 or 405.

        A 404 from both means the session has already ended: ``no_active_session``.
        """
        routes: list[StopRoute] = [self._stop_route, "stop" if self._stop_route == "end" else "end"]
        response: _Response | None = None
        for index, suffix in enumerate(routes):
            route = f"{ROUTE_SESSION}/{quote(session_id, '')}/{suffix}"
            response = await self._call("POST", route)
            if response.ok:
                self._stop_route = suffix
                payload = self._body(response, "session_stop", "stop")
                return parse_session_body(payload) if isinstance(payload, dict) else None
            if response.status not in (404, 405) or index == len(routes) - 1:
                break
        assert response is not None
        raise _rejection(response, "stop")

    async def async_get_session_history(
        self, start: date, end: date
    ) -> tuple[AmpecoHistoryEntry, ...]:
        """Sessions between two dates (inclusive on real tenants), newest first."""
        params = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        response = await self._call("GET", ROUTE_HISTORY, params=params)
        return parse_history(self._body(response, "session_history"))

    async def async_get_profile(self) -> AmpecoProfile:
        """The account (its ``id`` makes a stable unique id for the config entry)."""
        response = await self._call("GET", ROUTE_PROFILE)
        return parse_profile(self._body(response, "profile"))


_REASONS: dict[tuple[_Command, int], tuple[str, bool]] = {
    ("start", 404): ("evse_not_found", False),
    ("start", 406): ("already_active", True),
    ("stop", 404): ("no_active_session", True),
    ("read", 404): ("not_found", False),
}


def _rejection(response: _Response, command: _Command) -> BackendCommandRejectedError:
    """A refusal of the cloud as a typed error whose reason is a translation key."""
    message = error_message(response.body) or f"HTTP {response.status}"
    if response.status == 422:
        return BackendCommandRejectedError("validation", message, user_error=True)
    reason, user_error = _REASONS.get((command, response.status), ("rejected", False))
    return BackendCommandRejectedError(reason, message, user_error=user_error)
