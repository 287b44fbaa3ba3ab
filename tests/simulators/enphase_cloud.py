"""A fake Enlighten cloud for the Enphase IQ EV Charger 2, served on 127.0.0.1.

It answers the charger routes the way the real cloud does (shapes from the JSON
payloads in ``data/enphase/``): form login with or without an e-mailed one-time
code, Entrez tokens that expire, sites, status, summary, start/stop, charge mode,
live stream, OCPP trigger and session history. It checks the session cookie on
every data route, a valid ``e-auth-token`` when one is sent, and a bearer token on
control, scheduler and history routes, answering 401 otherwise.

Public API::

    cloud = EnphaseCloud(email=..., password=..., chargers=(FakeCharger(sn), ...), now=...)
    await cloud.start()            # port 0 picks a free port
    cloud.url                      # the Enlighten base, e.g. http://127.0.0.1:41234
    cloud.entrez_url               # the Entrez base (same server, below /entrez)
    cloud.plug_in(sn); cloud.unplug(sn)
    cloud.set_status(sn, connector_status="SUSPENDED_EVSE", faulted=..., connected=..., ...)
    cloud.advance(seconds)         # move the clock; charging chargers add energy
    cloud.fail_next(path_substring, status, count=1, retry_after=None)
    cloud.stall_next(path_substring, seconds, count=1)
    cloud.html_wall(on)            # data routes answer with the HTML login page
    cloud.expire_tokens()          # every session and token becomes invalid
    cloud.mfa_required(on)         # logins need the code ``cloud.otp_code``
    cloud.too_many_sessions(on); cloud.block_account(on)
    cloud.token_ttl = 600.0        # lifetime of the next Entrez tokens (s)
    cloud.status_payload = {...}   # serve this exact status JSON instead
    cloud.add_session(sn, start, end, kwh)
    cloud.requests                 # Counter of requests per endpoint name
    await cloud.stop()

Endpoint names in ``requests``: ``login``, ``mfa_generate``, ``mfa_validate``,
``tokens``, ``sites``, ``status``, ``summary``, ``start_charging``,
``stop_charging``, ``trigger_message``, ``start_live_stream``,
``stop_live_stream``, ``charge_mode_get``, ``charge_mode_put``, ``sessions``.

Demo: ``python -m tests.simulators.enphase_cloud --port 18080 --evolve`` serves site
3381904 ("Maple Street Home") with charger 482501234567 charging at 16 A and charger
482509876543 ("Carport") idle; log in as ``owner@example.com`` / ``demo-password``
(add ``--mfa`` to require the code 123456). ``--evolve`` advances the clock every
second. SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import itertools
import json
from pathlib import Path
import secrets
import signal
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

DATA_DIR = Path(__file__).parent / "data" / "enphase"
FIXTURE_NOW = 1773483300.0  # 2026-03-14T10:15:00Z, the time of the sample payloads
MANUAL, SCHEDULED, GREEN, SMART = (
    "MANUAL_CHARGING",
    "SCHEDULED_CHARGING",
    "GREEN_CHARGING",
    "SMART_CHARGING",
)
_ACTIVE = {"CHARGING", "SUSPENDED_EV", "SUSPENDED_EVSE", "FINISHING"}
_MESSAGES = {
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
}
_LOGIN_WALL = (
    "<!DOCTYPE html><html><head><meta http-equiv='X-UA-Compatible' content='IE=edge'>"
    "<title>Enlighten</title></head><body><form action='/login/login' method='post'>"
    "<p>Sign in to enlighten.enphaseenergy.com</p></form></body></html>"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def load(name: str) -> Any:
    """A sample payload of ``data/enphase/``."""
    return json.loads((DATA_DIR / name).read_text())


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z[UTC]"


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c3ludGhldGljLXNpZ25hdHVyZQ"


@dataclass
class FakeCharger:
    """One charger's state; the status payload is built from it."""

    sn: str
    name: str = "IQ EV Charger"
    plugged: bool = False
    connector_status: str = "AVAILABLE"
    reason: str = ""
    info: str = ""
    connected: bool = True
    faulted: bool = False
    mode: str = MANUAL
    schedules_enabled: bool = True
    charge_level: int | None = None
    min_amps: int = 6
    max_amps: int = 32
    voltage: float = 230.0
    phases: int = 3
    car_max_amps: float | None = None  # the car takes at most this (None: all offered)
    session_wh: float = 0.0
    session_start: float | None = None
    plugged_in_at: float | None = None
    plugged_out_at: float | None = None
    lifetime_wh: float = 1482315.72
    reported_at: float = FIXTURE_NOW
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def power_w(self) -> float:
        """What the car draws now."""
        if self.connector_status != "CHARGING" or not self.connected:
            return 0.0
        amps: float = self.charge_level or self.max_amps
        if self.car_max_amps is not None:
            amps = min(amps, self.car_max_amps)
        return amps * self.voltage * self.phases


@dataclass
class _Rule:
    path: str
    count: int
    status: int = 0
    retry_after: float | str | None = None
    delay: float = 0.0
    body: str | None = None


class EnphaseCloud:
    """The fake cloud (see the module docstring)."""

    def __init__(
        self,
        *,
        email: str = "owner@example.com",
        password: str = "demo-password",
        site_id: str = "3381904",
        site_name: str = "Maple Street Home",
        timezone: str = "Europe/Amsterdam",
        chargers: Iterable[FakeCharger] | None = None,
        user_id: str = "7654321",
        otp_code: str = "123456",
        now: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.email = email
        self.password = password
        self.site_id = site_id
        self.site_name = site_name
        self.timezone = timezone
        self.user_id = user_id
        self.otp_code = otp_code
        self.now = FIXTURE_NOW if now is None else now
        self.chargers = {c.sn: c for c in (chargers or [FakeCharger("482501234567")])}
        self.token_ttl = 604800.0
        self.manager_token_ttl = 86400.0
        self.max_otp_attempts = 3
        self.status_payload: Any = None
        self.requests: Counter[str] = Counter()
        self.otp_sent = 0
        self.triggered: list[tuple[str, str]] = []
        self.started: list[tuple[str, int | None]] = []
        self.live_stream_until: float | None = None
        self._host = host
        self._port = port
        self._mfa = False
        self._wall = False
        self._too_many = False
        self._blocked = False
        self._otp_failures = 0
        self._rules: list[_Rule] = []
        self._sessions: set[str] = set()
        self._tokens: dict[str, float] = {}
        self._nonces: set[str] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on ``host:port`` (port 0: a free one)."""
        app = web.Application()
        for method, path, key, handler in self._routes():
            app.router.add_route(method, path, self._wrap(key, handler))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Close the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def entrez_url(self) -> str:
        """The Entrez base."""
        return f"{self.url}/entrez"

    # --- state setters -----------------------------------------------------------------

    def plug_in(self, sn: str) -> None:
        """A car is plugged in (not charging yet)."""
        charger = self.chargers[sn]
        charger.plugged = True
        charger.connector_status = "AVAILABLE"
        charger.plugged_in_at, charger.plugged_out_at = self.now, None
        charger.session_wh, charger.session_start, charger.charge_level = 0.0, None, None
        charger.reported_at = self.now

    def unplug(self, sn: str) -> None:
        """The car leaves; a session that charged goes to the history."""
        charger = self.chargers[sn]
        if charger.session_start is not None:
            self.add_session(sn, charger.session_start, self.now, charger.session_wh / 1000)
        charger.plugged = False
        charger.connector_status = "AVAILABLE"
        charger.reason = ""
        charger.plugged_out_at = self.now
        charger.charge_level = None
        charger.reported_at = self.now

    def set_status(self, sn: str, **fields: Any) -> None:
        """Set any :class:`FakeCharger` field (``connector_status``, ``faulted``, ...)."""
        charger = self.chargers[sn]
        for name, value in fields.items():
            if not hasattr(charger, name):
                raise AttributeError(name)
            setattr(charger, name, value)
        charger.reported_at = self.now

    def advance(self, seconds: float) -> None:
        """Move the clock; charging chargers add energy and report."""
        self.now += seconds
        for charger in self.chargers.values():
            if not charger.connected:
                continue
            energy = charger.power_w * seconds / 3600
            charger.session_wh += energy
            charger.lifetime_wh += energy
            charger.reported_at = self.now

    def add_session(self, sn: str, start: float, end: float, kwh: float) -> None:
        """A finished session in the history (epoch seconds)."""
        self.chargers[sn].history.append({"start": start, "end": end, "kwh": kwh})

    def fail_next(
        self,
        path: str,
        status: int,
        count: int = 1,
        *,
        retry_after: float | str | None = None,
        body: str | None = None,
    ) -> None:
        """The next ``count`` requests whose path holds ``path`` answer ``status``.

        ``retry_after`` (seconds or an HTTP date) goes out as the ``Retry-After``
        header; ``body`` (JSON or HTML text) replaces the usual error body.
        """
        self._rules.append(_Rule(path, count, status=status, retry_after=retry_after, body=body))

    def stall_next(self, path: str, seconds: float, count: int = 1) -> None:
        """The next ``count`` matching requests wait ``seconds`` (real time) first."""
        self._rules.append(_Rule(path, count, delay=seconds))

    def html_wall(self, on: bool) -> None:
        """Data routes answer 200 with the HTML login page."""
        self._wall = on

    def expire_tokens(self) -> None:
        """Every session, manager token and Entrez token stops working."""
        self._sessions.clear()
        self._tokens.clear()

    def mfa_required(self, on: bool) -> None:
        """Logins need the e-mailed code."""
        self._mfa = on

    def too_many_sessions(self, on: bool) -> None:
        """Logins answer "Too many active sessions"."""
        self._too_many = on

    def block_account(self, on: bool) -> None:
        """Logins answer ``isBlocked: true``."""
        self._blocked = on

    # --- plumbing ----------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, str, Handler]]:
        ctl = "/service/evse_controller/{site}"
        mode = "/service/evse_scheduler/api/v1/iqevc/charging-mode/{site}/{sn}/preference"
        return [
            ("POST", "/login/login.json", "login", self._login),
            ("POST", "/app-api/generate_mfa_login_otp", "mfa_generate", self._mfa_generate),
            ("POST", "/app-api/validate_login_otp", "mfa_validate", self._mfa_validate),
            ("POST", "/entrez/tokens", "tokens", self._tokens_route),
            ("GET", "/app-api/search_sites.json", "sites", self._sites),
            ("GET", ctl + "/ev_chargers/status", "status", self._status),
            (
                "GET",
                "/service/evse_controller/api/v2/{site}/ev_chargers/summary",
                "summary",
                self._summary,
            ),
            ("POST", ctl + "/ev_chargers/{sn}/start_charging", "start_charging", self._start),
            ("PUT", ctl + "/ev_chargers/{sn}/start_charging", "start_charging", self._start),
            ("PUT", ctl + "/ev_chargers/{sn}/stop_charging", "stop_charging", self._stop),
            ("POST", ctl + "/ev_chargers/{sn}/stop_charging", "stop_charging", self._stop),
            ("POST", ctl + "/ev_charger/{sn}/trigger_message", "trigger_message", self._trigger),
            ("GET", ctl + "/ev_chargers/start_live_stream", "start_live_stream", self._stream_on),
            ("GET", ctl + "/ev_chargers/stop_live_stream", "stop_live_stream", self._stream_off),
            ("GET", mode, "charge_mode_get", self._mode_get),
            ("PUT", mode, "charge_mode_put", self._mode_put),
            (
                "POST",
                "/service/enho_historical_events_ms/{site}/sessions/{sn}/history",
                "sessions",
                self._history,
            ),
        ]

    def _wrap(self, key: str, handler: Handler) -> Handler:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.requests[key] += 1
            for rule in self._rules:
                if rule.count > 0 and rule.path in request.path:
                    rule.count -= 1
                    if rule.delay:
                        await asyncio.sleep(rule.delay)
                        continue
                    return self._failure(rule, request.path)
            if self._wall and request.path.startswith(("/service/", "/app-api/search")):
                return web.Response(text=_LOGIN_WALL, content_type="text/html")
            site = request.match_info.get("site")
            if site is not None and site != self.site_id:
                return web.json_response({"error": {"displayMessage": "Unknown site"}}, status=404)
            sn = request.match_info.get("sn")
            if sn is not None and sn not in self.chargers:
                return web.json_response(
                    {"error": {"displayMessage": "Unknown charger"}}, status=404
                )
            return await handler(request)

        return counted

    @staticmethod
    def _failure(rule: _Rule, path: str) -> web.Response:
        after = rule.retry_after
        headers = (
            {}
            if after is None
            else {"Retry-After": after if isinstance(after, str) else f"{after:g}"}
        )
        if rule.body is not None:
            json_body = rule.body.lstrip().startswith(("{", "["))
            kind = "application/json" if json_body else "text/html"
            return web.Response(
                status=rule.status, text=rule.body, content_type=kind, headers=headers
            )
        if rule.status == 429:
            return web.json_response(
                load("error_rate_limited_429.json"), status=429, headers=headers
            )
        if rule.status >= 500:
            name = (
                "scheduler_unavailable_503.json"
                if "evse_scheduler" in path
                else "error_server_503.json"
            )
            return web.json_response(load(name), status=rule.status, headers=headers)
        return web.Response(status=rule.status, headers=headers)

    def _token(self, ttl: float, **claims: Any) -> str:
        exp = int(self.now + ttl)
        token = _jwt({**claims, "jti": next(self._ids), "iat": int(self.now), "exp": exp})
        self._tokens[token] = exp
        return token

    def _valid_token(self, token: str | None) -> bool:
        return token is not None and self._tokens.get(token, 0) > self.now

    def _unauthorized(
        self, request: web.Request, *, bearer: bool = False, history: bool = False
    ) -> web.Response | None:
        """``None`` when allowed (compare with ``is None``: a response is an empty mapping),
        else a 401: unless the session cookie, any ``e-auth-token`` and the bearer are valid.

        History routes carry the session id as ``e-auth-token`` and the user id as
        ``username`` instead.
        """
        if request.cookies.get("_enlighten_4_session") not in self._sessions:
            return web.Response(status=401)
        e_auth = request.headers.get("e-auth-token")
        if history:
            session = self._bearer_claim(request, "session_id")
            if e_auth not in (None, session) or request.headers.get("username") != self.user_id:
                return web.Response(status=401)
        elif e_auth is not None and not self._valid_token(e_auth):
            return web.Response(status=401)
        if bearer and not self._valid_token(self._bearer(request)):
            return web.Response(status=401)
        return None

    @staticmethod
    def _bearer(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def _issue_session(self, body: dict[str, Any]) -> web.Response:
        sid = secrets.token_hex(16)
        self._sessions.add(sid)
        manager = self._token(
            self.manager_token_ttl,
            data={"user_id": self.user_id, "session_id": sid, "email": self.email},
            user_id=self.user_id,
            session_id=sid,
        )
        response = web.json_response({**body, "session_id": sid, "manager_token": manager})
        response.set_cookie("_enlighten_4_session", sid, path="/")
        response.set_cookie("enlighten_manager_token_production", manager, path="/")
        response.set_cookie("XSRF-TOKEN", "xsrf%3Dfake", path="/")
        return response

    # --- auth routes -------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if self._too_many:
            return web.json_response(load("login_too_many_sessions.json"))
        if self._blocked:
            return web.json_response(load("login_blocked.json"))
        if form.get("user[email]") != self.email or form.get("user[password]") != self.password:
            return web.Response(status=401)
        if not self._mfa:
            return self._issue_session(load("login_success.json"))
        nonce = secrets.token_hex(8)
        self._nonces = {nonce}
        self._otp_failures = 0
        self.otp_sent = 0
        response = web.json_response(load("login_mfa_required.json"))
        response.set_cookie("login_otp_nonce", nonce, path="/", max_age=300)
        response.set_cookie("XSRF-TOKEN", "xsrf%3Dfake", path="/")
        return response

    async def _mfa_generate(self, request: web.Request) -> web.StreamResponse:
        if request.cookies.get("login_otp_nonce") not in self._nonces:
            return web.Response(status=401)
        if self._otp_failures >= self.max_otp_attempts:
            return web.json_response({"success": False, "isBlocked": True})
        nonce = secrets.token_hex(8)
        self._nonces = {nonce}
        self.otp_sent += 1
        response = web.json_response(load("mfa_resend_ok.json"))
        response.set_cookie("login_otp_nonce", nonce, path="/", max_age=300)
        return response

    async def _mfa_validate(self, request: web.Request) -> web.StreamResponse:
        if request.cookies.get("login_otp_nonce") not in self._nonces:
            return web.Response(status=401)
        form = await request.post()
        email = base64.b64decode(str(form.get("email", ""))).decode()
        code = base64.b64decode(str(form.get("otp", ""))).decode()
        if email != self.email:
            return web.Response(status=401)
        if self._otp_failures >= self.max_otp_attempts:
            return web.json_response(load("mfa_validate_blocked.json"))
        if not self.otp_sent or code != self.otp_code:
            self._otp_failures += 1
            blocked = self._otp_failures >= self.max_otp_attempts
            name = "mfa_validate_blocked.json" if blocked else "mfa_validate_invalid.json"
            return web.json_response(load(name))
        self._nonces.clear()
        return self._issue_session(load("mfa_validate_success.json"))

    async def _tokens_route(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("session_id") not in self._sessions or body.get("email") != self.email:
            return web.Response(status=401)
        token = self._token(
            self.token_ttl, user_id=self.user_id, session_id=body["session_id"], username=self.email
        )
        return web.json_response({"token": token, "expires_at": self._tokens[token]})

    # --- data routes -------------------------------------------------------------------

    async def _sites(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        sites = load("sites_list.json")
        sites["sites"][0].update(id=int(self.site_id), title=self.site_name)
        return web.json_response(sites)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if self.status_payload is not None:
            return web.json_response(self.status_payload)
        template = load("status_idle.json")
        entry = template["data"]["chargers"][0]
        template["meta"]["serverTimeStamp"] = int(self.now * 1000)
        template["data"].update(site=self.site_id, tz=self.timezone)
        template["data"]["chargers"] = [
            self._status_entry(c, entry) for c in self.chargers.values()
        ]
        return web.json_response(template)

    def _status_entry(self, c: FakeCharger, template: dict[str, Any]) -> dict[str, Any]:
        entry = copy.deepcopy(template)
        green = c.mode == GREEN
        entry.update(
            sn=c.sn,
            name=c.name,
            lst_rpt_at=_iso(c.reported_at),
            offlineAt=None if c.connected else _iso(c.reported_at),
            connected=c.connected,
            mode=1 if green else 0,
            charging=c.connector_status == "CHARGING",
            pluggedIn=c.plugged,
            faulted=c.faulted,
            sch_d={"status": 1, "info": [{"type": "greencharging", "limit": 0}]}
            if green
            else {"status": 0, "info": []},
        )
        entry["session_d"].update(
            plg_in_at=_iso(c.plugged_in_at),
            plg_out_at=_iso(c.plugged_out_at),
            strt_chrg=int(c.session_start * 1000) if c.session_start else None,
            e_c=round(c.session_wh, 1),
            charge_level=c.charge_level,
        )
        entry["connectors"][0].update(
            connectorStatusType=c.connector_status,
            connectorStatusReason=c.reason,
            connectorStatusInfo=c.info,
            safeLimitState=0,
            pluggedIn=c.plugged,
        )
        return entry

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        payload = load("summary.json")
        template = payload["data"][0]
        payload["data"] = []
        for c in self.chargers.values():
            item = copy.deepcopy(template)
            item.update(
                serialNumber=c.sn,
                displayName=c.name,
                maxCurrent=c.max_amps,
                operatingVoltage=f"{c.voltage:g}",
                phaseMode=c.phases,
                phaseCount=c.phases,
                lifeTimeConsumption=round(c.lifetime_wh, 2),
                isConnected=c.connected,
                timezone=self.timezone,
            )
            item["chargeLevelDetails"].update(min=str(c.min_amps), max=str(c.max_amps))
            payload["data"].append(item)
        payload["meta"]["rowCount"] = len(payload["data"])
        return web.json_response(payload)

    # --- control routes ----------------------------------------------------------------

    async def _start(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        c = self.chargers[request.match_info["sn"]]
        body = await request.json() if request.can_read_body else {}
        level = body.get("chargingLevel")
        if not c.plugged:
            return web.json_response(load("start_charging_not_plugged.json"), status=400)
        if c.connector_status == "CHARGING":
            return web.json_response(load("start_charging_already_charging.json"), status=400)
        if level is not None and not c.min_amps <= level <= c.max_amps:
            return web.json_response(load("start_charging_invalid_level.json"), status=500)
        self.started.append((c.sn, level))
        c.charge_level = None if c.mode in (GREEN, SMART) else (level or c.max_amps)
        if c.mode == GREEN:
            c.connector_status, c.reason = "SUSPENDED_EVSE", "INSUFFICIENT_SOLAR"
        else:
            c.connector_status, c.reason = "CHARGING", ""
        if c.session_start is None:
            c.session_start = self.now
        c.reported_at = self.now
        return web.json_response({**load("start_charging_ok.json"), "chargingLevel": level})

    async def _stop(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        c = self.chargers[request.match_info["sn"]]
        if c.connector_status not in _ACTIVE:
            # The body is invented: the real one was never captured.
            return web.json_response(
                {"data": None, "error": {"displayMessage": "No active charging session"}},
                status=400,
            )
        c.connector_status, c.reason, c.charge_level = "AVAILABLE", "", None
        c.reported_at = self.now
        return web.json_response(load("stop_charging_ok.json"))

    async def _trigger(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        message = (await request.json()).get("requestedMessage")
        if message not in _MESSAGES:
            return web.json_response({"error": {"displayMessage": "Unsupported"}}, status=400)
        self.triggered.append((request.match_info["sn"], message))
        return web.json_response(load("trigger_message_ok.json"))

    async def _stream_on(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        payload = load("live_stream_start.json")
        payload["data"]["liveStreamTopicList"] = [
            f"v1/evse/prod/live-stream/{sn}" for sn in self.chargers
        ]
        self.live_stream_until = self.now + payload["data"]["liveStreamDuration"]
        return web.json_response(payload)

    async def _stream_off(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        self.live_stream_until = None
        return web.json_response(load("live_stream_stop.json"))

    def _modes(self, c: FakeCharger) -> dict[str, Any]:
        payload = load("scheduler_mode_smart.json")
        for entry in payload["data"]["modes"].values():
            entry["enabled"] = entry["chargingMode"] == c.mode
        payload["data"]["modes"]["scheduledCharging"]["schedulesEnabled"] = int(c.schedules_enabled)
        return dict(payload)

    async def _mode_get(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        return web.json_response(self._modes(self.chargers[request.match_info["sn"]]))

    async def _mode_put(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True)) is not None:
            return denied
        c = self.chargers[request.match_info["sn"]]
        mode = (await request.json()).get("mode")
        if mode not in (MANUAL, SCHEDULED, GREEN, SMART):
            return web.json_response({"error": {"displayMessage": "Invalid mode"}}, status=400)
        if mode == SCHEDULED and not c.schedules_enabled:
            return web.json_response(load("scheduler_mode_no_schedules_error.json"), status=400)
        c.mode = mode
        return web.json_response(self._modes(c))

    async def _history(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request, bearer=True, history=True)) is not None:
            return denied
        params = (await request.json())["params"]
        tz = ZoneInfo(params["timezone"])
        first = datetime.strptime(params["startDate"], "%d-%m-%Y").date()
        last = datetime.strptime(params["endDate"], "%d-%m-%Y").date()
        low = _day_start(first, tz)
        high = _day_start(last + timedelta(days=1), tz)
        c = self.chargers[request.match_info["sn"]]
        found = [s for s in c.history if s["end"] > low and s["start"] < high]
        offset, limit = int(params["offset"]), int(params["limit"])
        payload = load("sessions_today.json")
        template = payload["data"]["result"][0]
        payload["data"].update(
            result=[self._session_entry(c.sn, s, template) for s in found[offset : offset + limit]],
            hasMore=offset + limit < len(found),
            startDate=params["startDate"],
            endDate=params["endDate"],
            offset=offset,
            limit=limit,
        )
        return web.json_response(payload)

    def _bearer_claim(self, request: web.Request, name: str) -> Any:
        token = self._bearer(request) or ""
        segment = token.split(".")[1] if token.count(".") == 2 else ""
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)) or b"{}")
        return claims.get(name)

    @staticmethod
    def _session_entry(sn: str, s: dict[str, float], template: dict[str, Any]) -> dict[str, Any]:
        entry = copy.deepcopy(template)
        entry.update(
            id=f"{sn}:{int(s['start'])}",
            sessionId=int(s["start"]),
            startTime=_iso(s["start"]),
            endTime=_iso(s["end"]),
            aggEnergyValue=round(s["kwh"], 3),
            activeChargeTime=int(s["end"] - s["start"]),
        )
        return entry

    # --- demo --------------------------------------------------------------------------

    @classmethod
    def demo(cls, *, port: int = 0, mfa: bool = False) -> EnphaseCloud:
        """One site, two chargers: the first charging at 16 A, the second idle."""
        now = time.time()
        cloud = cls(
            chargers=[
                FakeCharger("482501234567", name="IQ EV Charger_4567"),
                FakeCharger("482509876543", name="Carport", max_amps=16, phases=1),
            ],
            now=now,
            port=port,
        )
        cloud.mfa_required(mfa)
        cloud.plug_in("482501234567")
        cloud.set_status(
            "482501234567", connector_status="CHARGING", charge_level=16, session_start=now - 1800
        )
        cloud.set_status("482501234567", session_wh=16 * 230 * 3 * 0.5)
        cloud.add_session("482509876543", now - 86400, now - 86400 + 7200, 7.4)
        return cloud

    async def evolve(self, step: float = 1.0) -> None:
        """Advance the clock with real time, forever (cancel to stop)."""
        while True:
            await asyncio.sleep(step)
            self.advance(step)


def _day_start(day: date, tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


async def _serve(args: argparse.Namespace) -> None:
    cloud = EnphaseCloud.demo(port=args.port, mfa=args.mfa)
    await cloud.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    evolving = asyncio.create_task(cloud.evolve()) if args.evolve else None
    print(
        f"Enphase fake cloud on {cloud.url} (Entrez {cloud.entrez_url}), "
        f"site {cloud.site_id}; log in as {cloud.email} / {cloud.password}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        if evolving is not None:
            evolving.cancel()
            await asyncio.gather(evolving, return_exceptions=True)
        await cloud.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Fake Enlighten cloud (Enphase IQ EV Charger 2)")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--evolve", action="store_true", help="advance the clock in real time")
    parser.add_argument("--mfa", action="store_true", help="require the one-time code 123456")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
