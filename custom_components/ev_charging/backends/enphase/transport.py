"""HTTP plumbing of the Enlighten client: headers per endpoint family, cookies, back-off.

No Home Assistant imports. :class:`EnlightenTransport` sends requests through the
injected ``aiohttp`` session (its cookie jar keeps the Enlighten session), bounds
each with the timeout, refuses to send while a back-off runs, and records the
cloud's health. The login side (:class:`.api.EnphaseClient`) plugs in through two
hooks: renewing the token before a request and recovering from a 401.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
import json
import time
from typing import Any, Final, Literal
from urllib.parse import unquote
import uuid

import aiohttp
from yarl import URL

from ..base import (
    BackendAuthError,
    BackendConnectionError,
    BackendInvalidDataError,
)
from .auth import claim, jwt_claims, jwt_expiry, looks_like_login_wall
from .backoff import Backoff
from .const import (
    ACCEPT_ANY,
    ACCEPT_JSON,
    ACCEPT_JSON_JS,
    MANAGER_TOKEN_COOKIE,
    MAX_CONCURRENT_REQUESTS,
    SESSION_COOKIES,
    USER_AGENT,
    XSRF_COOKIES,
)
from .data import CloudHealth
from .errors import EnphaseCloudUnavailableError, EnphaseRateLimitedError
from .parse import as_float, error_code

#: Endpoint families: each optional one has its own back-off; a 5xx on a core
#: family, or a 429 anywhere (the limit is per account), pauses every call.
Family = Literal["auth", "status", "summary", "control", "scheduler", "history"]
_CORE_FAMILIES: Final = frozenset({"auth", "status", "control"})
#: Header sets: login and MFA forms, Entrez, site search, the "today" data routes,
#: control and scheduler routes (with a bearer), history (session id and user id).
Kind = Literal["login", "mfa", "entrez", "sites", "today", "control", "history"]


@dataclass(frozen=True, slots=True)
class Reply:
    """A response read in full."""

    status: int
    text: str
    data: Any  # the decoded JSON, or None when the body is empty or not JSON
    retry_after: float | None


class EnlightenTransport:
    """Requests to the Enlighten cloud, with back-off and health bookkeeping."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        entrez_url: str,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._entrez = entrez_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

        # What the headers carry; the login side fills these.
        self._session_id: str | None = None
        self._token: str | None = None  # the Entrez JWT
        self._token_expires_at: float | None = None
        self._manager_token: str | None = None
        self._auth_generation = 0  # bumped by every login
        self._login_paused_until: float | None = None

        self._backoff = Backoff()
        self._family_backoff: dict[str, Backoff] = {}
        self._reachable: bool | None = None
        self._latency_ms: float | None = None
        self._last_success_at: float | None = None
        self._last_error: str | None = None
        self._last_error_status: int | None = None

        #: The last raw JSON of each data family, for diagnostics (the caller redacts).
        self.last_payloads: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        """The Enlighten base URL."""
        return self._base

    @property
    def backoff_until(self) -> float | None:
        """Client clock time before which no request is sent, or ``None``."""
        return self._backoff.until if self._backoff.active(self._clock()) else None

    @property
    def health(self) -> CloudHealth:
        """Latency, last error, back-off and reachability of the cloud."""
        paused = self._login_paused_until
        return CloudHealth(
            reachable=self._reachable,
            last_latency_ms=self._latency_ms,
            last_success_at=self._last_success_at,
            last_error=self._last_error,
            last_error_status=self._last_error_status,
            backoff_until=self.backoff_until,
            consecutive_failures=self._backoff.failures,
            auto_login_paused_until=paused if paused and paused > self._clock() else None,
        )

    def family_backoff(self) -> dict[str, float]:
        """Back-off end per optional endpoint family still backing off."""
        now = self._clock()
        return {
            name: scope.until
            for name, scope in self._family_backoff.items()
            if scope.until is not None and scope.active(now)
        }

    # --- hooks for the login side ------------------------------------------------------

    async def _ensure_fresh_token(self) -> None:
        """Renew the token if it is about to expire (before every data request)."""
        raise NotImplementedError

    async def _relogin_after_401(self, generation: int) -> bool:
        """Log in again after a 401; True when the request may be sent again."""
        raise NotImplementedError

    # --- requests ----------------------------------------------------------------------

    async def _call(
        self,
        family: Family,
        method: str,
        url: str,
        *,
        site_id: str | None = None,
        kind: Kind = "today",
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: object = None,
        passthrough: frozenset[int] = frozenset(),
        raw: bool = False,
    ) -> Reply:
        """Send one request with the family's headers; handle 401, back-off and errors.

        ``raw`` hands every status back to the caller (auth calls read them all);
        otherwise statuses outside ``passthrough`` raise.
        """
        self._refuse_while_backing_off(family)
        if family != "auth":
            await self._ensure_fresh_token()
        headers = self._headers(kind, site_id)
        generation = self._auth_generation
        reply = await self._send(method, url, headers, params, form, json_body)
        if raw:
            return reply
        if _unauthorized(reply):
            self._note_error("unauthorized" if reply.status == 401 else "login wall", reply.status)
            if not await self._relogin_after_401(generation):
                raise BackendAuthError("session rejected")
            # Once only: a second refusal right after a fresh login is final.
            headers = self._headers(kind, site_id)
            reply = await self._send(method, url, headers, params, form, json_body)
            if _unauthorized(reply):
                self._note_error("unauthorized after re-login", reply.status)
                raise BackendAuthError("session rejected after re-login")
        self._raise_for_status(family, reply, passthrough=passthrough)
        return reply

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        params: Mapping[str, str] | None,
        form: Mapping[str, str] | None,
        json_body: object,
    ) -> Reply:
        started = time.perf_counter()
        try:
            async with (
                self._limit,
                self._session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=form,
                    json=json_body,
                    timeout=self._timeout,
                ) as response,
            ):
                text = await response.text(errors="replace")
                status = response.status
                retry_after = self._retry_after(response.headers.get("Retry-After"))
        except TimeoutError as err:
            self._note_unreachable("timeout")
            raise BackendConnectionError("timeout") from err
        except aiohttp.ClientError as err:
            self._note_unreachable(type(err).__name__)
            raise BackendConnectionError(str(err) or type(err).__name__) from err
        self._latency_ms = round((time.perf_counter() - started) * 1000, 1)
        self._reachable = status < 500
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            data = None
        return Reply(status, text, data, retry_after)

    def _raise_for_status(
        self, family: Family, reply: Reply, *, passthrough: frozenset[int] = frozenset()
    ) -> None:
        """Raise for an error status; count successes and failures for the back-off."""
        status = reply.status
        if status in passthrough:
            return
        now = self._clock()
        if status == 429:
            self._note_error("rate limited", status)
            retry_at = self._backoff.record(
                now, EnphaseRateLimitedError, "HTTP 429", reply.retry_after
            )
            raise EnphaseRateLimitedError("rate limited", retry_at=retry_at)
        if status >= 500:
            self._note_error(f"HTTP {status}", status)
            scope = self._scope(family)
            retry_at = scope.record(
                now, EnphaseCloudUnavailableError, f"HTTP {status}", reply.retry_after
            )
            raise EnphaseCloudUnavailableError(f"HTTP {status}", retry_at=retry_at)
        if status == 403:
            self._note_error("forbidden", status)
            raise BackendAuthError("forbidden")
        if status >= 400:
            self._note_error(f"HTTP {status}", status)
            code, message = error_code(reply.data)
            raise BackendConnectionError(f"HTTP {status} {code or ''} {message or ''}".strip())
        if reply.data is None and reply.text.strip():
            self._note_error("not JSON", status)
            raise BackendInvalidDataError(f"{family}: the reply is not JSON")
        self._backoff.reset()
        self._scope(family).reset()
        self._last_success_at = now
        self._last_error = self._last_error_status = None

    @staticmethod
    def _json_object(reply: Reply, what: str) -> Mapping[str, Any]:
        if isinstance(reply.data, Mapping):
            return reply.data
        raise BackendInvalidDataError(f"{what}: unexpected reply")

    def _scope(self, family: Family) -> Backoff:
        if family in _CORE_FAMILIES:
            return self._backoff
        return self._family_backoff.setdefault(family, Backoff())

    def _refuse_while_backing_off(self, family: Family) -> None:
        now = self._clock()
        for scope in (self._backoff, self._scope(family)):
            if scope.active(now):
                raise scope.refusal()

    def _note_error(self, text: str, status: int | None) -> None:
        self._last_error = text
        self._last_error_status = status

    def _note_unreachable(self, text: str) -> None:
        self._reachable = False
        self._note_error(text, None)

    def _retry_after(self, value: str | None) -> float | None:
        if not value:
            return None
        seconds = as_float(value)
        if seconds is not None:
            return max(seconds, 0.0)
        try:
            return max(parsedate_to_datetime(value).timestamp() - self._clock(), 0.0)
        except (TypeError, ValueError):
            return None

    # --- headers and cookies -----------------------------------------------------------

    def _headers(self, kind: Kind, site_id: str | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "X-Requested-With": "XMLHttpRequest"}
        if kind == "entrez":
            return {"User-Agent": USER_AGENT, "Accept": "application/json"}
        xsrf = self._xsrf()
        if xsrf:
            headers["X-CSRF-Token"] = xsrf
        if kind in ("login", "mfa"):
            headers["Accept"] = ACCEPT_ANY if kind == "login" else ACCEPT_JSON
            headers["Referer"] = f"{self._base}/"
            return headers
        if kind == "history":
            token = self._token or self._manager_token
            claims = jwt_claims(token)
            session = claim(claims, "session_id", "sessionId", "session")
            user = claim(claims, "user_id", "userId", "userid")
            headers["Accept"] = ACCEPT_JSON_JS
            headers["requestid"] = str(uuid.uuid4())
            if token:
                headers["Authorization"] = f"Bearer {token}"
            if session:
                headers["e-auth-token"] = session
            if user:
                headers["username"] = user
            return headers
        if self._token:
            headers["e-auth-token"] = self._token
        if kind == "sites":
            headers["Accept"] = ACCEPT_ANY
            headers["Referer"] = f"{self._base}/"
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            return headers
        headers["Referer"] = f"{self._base}/web/{site_id}/today/graph/hours"
        if kind == "today":
            headers["Accept"] = ACCEPT_ANY
            return headers
        headers["Accept"] = ACCEPT_JSON_JS
        bearer = self._bearer()
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def _bearer(self) -> str | None:
        """The manager JWT while it is valid, else the Entrez JWT."""
        manager = self._cookie(MANAGER_TOKEN_COOKIE) or self._manager_token
        expiry = jwt_expiry(manager)
        if manager and (expiry is None or self._clock() < expiry):
            return manager
        return self._token

    def _cookies(self) -> dict[str, str]:
        jar = self._session.cookie_jar.filter_cookies(URL(self._base))
        return {name: morsel.value for name, morsel in jar.items()}

    def _cookie(self, name: str) -> str | None:
        return self._cookies().get(name) or None

    def _xsrf(self) -> str | None:
        for name, value in self._cookies().items():
            if name.lower() in XSRF_COOKIES and value:
                return unquote(value).strip('"')
        return None

    def _auth_cookies(self) -> dict[str, str]:
        names = {*SESSION_COOKIES, MANAGER_TOKEN_COOKIE}
        return {k: v for k, v in self._cookies().items() if k in names or k.lower() in XSRF_COOKIES}


def _unauthorized(reply: Reply) -> bool:
    """A 401, or the HTML login page where JSON was expected."""
    return reply.status == 401 or (reply.status < 300 and looks_like_login_wall(reply.text))
