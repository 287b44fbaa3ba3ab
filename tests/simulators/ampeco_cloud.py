"""A fake AMPECO cloud (the driver-app API) over HTTP on 127.0.0.1, for tests and the demo.

Bodies are built from the synthesized payloads in ``data/ampeco/``; every route sits
under ``/api/v1``. Time is simulated: nothing moves until :meth:`AmpecoCloud.advance`
(or, in the CLI with ``--evolve``, once a second with the wall clock).

Public API::

    cloud = AmpecoCloud(charge_points=1, evses_per_charge_point=1, token_lifetime=31_536_000,
                        accept_identifier=True, accept_internal_id=True,
                        stop_routes=("end", "stop"), power_w=7200.0, start_time=None)
    await cloud.start()          # binds 127.0.0.1 on ``port`` (0: a free port)
    cloud.url                    # "http://127.0.0.1:<port>/api/v1" (the API base)
    cloud.host                   # "http://127.0.0.1:<port>" (what a user types)
    cloud.now                    # simulated time, seconds since the epoch
    cloud.plug_in(evse)          # evse: internal id or public identifier (default: the first)
    cloud.unplug(evse)           # ends a running session ("local" stop)
    cloud.set_status(evse, status=..., charging_state=..., charge_point_status=...)
    cloud.set_power(evse, watts)
    cloud.expire_tokens(refresh=False)   # access tokens answer 401; refresh tokens too if asked
    cloud.issue_token(lifetime=None)     # a valid bearer token, as a user would paste
    cloud.advance(seconds)       # deterministic: energy += power * s / 3600 Wh while charging
    cloud.fail_next(path_substring, status, count=1, retry_after=None, body=None)
    cloud.requests               # Counter: "GET /app/personal/charge-points" -> n
    cloud.start_bodies           # the JSON bodies of every POST /app/session/start
    await cloud.stop()

Session life: start -> EVSE ``preparing``, session ``pending`` -> (car plugged, next
advance) ``charging``/``active`` -> stop -> session ``stopping`` -> (next advance) the
session moves to the history as ``finished`` (``stopReason: remote``) and the EVSE
shows ``finishing`` for 10 s, then ``preparing`` (still plugged) or ``available``.

Credentials (also for the demo CLI): e-mail ``driver@example.invalid``, password
``demo-password``, client id ``1``, client secret ``demo-client-secret``; a bearer
token to paste: ``demo-bearer-token``. Errors follow Passport: a wrong secret gives
401 ``invalid_client``, a wrong password 400 ``invalid_grant``.

CLI: ``python -m tests.simulators.ampeco_cloud --port 18081 --evolve`` serves one
charge point with one EVSE and a car plugged in; SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
import contextlib
import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
import itertools
import json
from pathlib import Path
import signal
import time
from typing import Any

from aiohttp import web

DATA = Path(__file__).parent / "data" / "ampeco"
API = "/api/v1"

EMAIL = "driver@example.invalid"
PASSWORD = "demo-password"
CLIENT_ID = "1"
CLIENT_SECRET = "demo-client-secret"
STATIC_TOKEN = "demo-bearer-token"

DEFAULT_START = datetime(2025, 6, 13, 6, 0, tzinfo=UTC).timestamp()
PRICE_PER_KWH = 0.25
FINISHING_SECONDS = 10.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@dataclass
class FakeSession:
    """A session as the fake cloud keeps it."""

    id: str
    evse_identifier: str
    started_at: float
    status: str = "pending"
    charging_state: str | None = None
    evse_status: str = "preparing"
    energy_wh: float = 0.0
    duration: float = 0.0
    power_w: float = 0.0
    stop_reason: str | None = None
    stopped_at: float | None = None
    max_current: int | None = None


@dataclass
class FakeEvse:
    """One EVSE of a fake charge point."""

    id: str
    identifier: str
    status: str = "available"
    plugged: bool = False
    power_w: float = 7200.0
    session: FakeSession | None = None
    finishing_left: float = 0.0


@dataclass
class FakeChargePoint:
    """A fake personal charge point."""

    id: str
    name: str
    evses: list[FakeEvse]
    status: str = "available"


@dataclass
class _Failure:
    substring: str
    status: int
    remaining: int
    retry_after: float | str | None
    body: Any


@dataclass
class _Tokens:
    access: dict[str, float | None] = field(default_factory=dict)  # token -> expiry
    refresh: set[str] = field(default_factory=set)
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class AmpecoCloud:
    """The fake cloud; see the module docstring."""

    def __init__(
        self,
        *,
        charge_points: int = 1,
        evses_per_charge_point: int = 1,
        email: str = EMAIL,
        password: str = PASSWORD,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        static_token: str | None = STATIC_TOKEN,
        token_lifetime: float = 31_536_000,
        issue_refresh_tokens: bool = True,
        accept_identifier: bool = True,
        accept_internal_id: bool = True,
        stop_routes: tuple[str, ...] = ("end", "stop"),
        power_w: float = 7200.0,
        start_time: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.email = email
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.issue_refresh_tokens = issue_refresh_tokens
        self.accept_identifier = accept_identifier
        self.accept_internal_id = accept_internal_id
        self.stop_routes = stop_routes
        self.response_delay = 0.0  # s, every answer waits this long (timeout tests)
        self.now = DEFAULT_START if start_time is None else start_time
        self.requests: Counter[str] = Counter()
        self.start_bodies: list[dict[str, Any]] = []
        self.charge_points = [
            FakeChargePoint(
                id=f"HMC00{12345 + cp:05d}",
                name="Garage Charger" if cp == 0 else f"Garage Charger {cp + 1}",
                evses=[
                    FakeEvse(
                        id=str(58231 + cp * 10 + k),
                        identifier=str(4107 + cp * 10 + k),
                        power_w=power_w,
                    )
                    for k in range(evses_per_charge_point)
                ],
            )
            for cp in range(charge_points)
        ]
        self.history: list[dict[str, Any]] = _fixture("session_history.json")["session_history"]
        self._session_ids = itertools.count(902115)
        self._tokens = _Tokens()
        if static_token is not None:
            self._tokens.access[static_token] = None
        self._failures: list[_Failure] = []
        self._cp_template = _fixture("charge_point_idle.json")["data"]
        self._session_template = _fixture("charge_point_charging.json")["data"]["evses"][0][
            "session"
        ]
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1."""
        app = web.Application(middlewares=[self._middleware])
        routes = [
            web.post(f"{API}/app/oauth/token", self._token),
            web.get(f"{API}/app/personal/charge-points", self._charge_points),
            web.get(f"{API}/app/personal/charge-points/{{cp_id}}", self._charge_point),
            web.get(f"{API}/app/session/active", self._active_session),
            web.post(f"{API}/app/session/start", self._start_session),
            web.get(f"{API}/app/session/{{session_id}}", self._session),
            web.post(f"{API}/app/session/{{session_id}}/{{action}}", self._stop_session),
            web.get(f"{API}/app/profile/session_history", self._history),
            web.get(f"{API}/app/profile", self._profile),
        ]
        app.add_routes(routes)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving (safe to call twice)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def host(self) -> str:
        """What a user types as the host."""
        return f"http://{self._host}:{self._port}"

    @property
    def url(self) -> str:
        """The API base."""
        return f"{self.host}{API}"

    # --- scenario controls ------------------------------------------------------------

    def evse(self, evse: str | None = None) -> FakeEvse:
        """An EVSE by internal id or public identifier (default: the first)."""
        for point in self.charge_points:
            for item in point.evses:
                if evse is None or evse in (item.id, item.identifier):
                    return item
        raise KeyError(evse)

    def _point_of(self, evse: FakeEvse) -> FakeChargePoint:
        return next(p for p in self.charge_points if evse in p.evses)

    def plug_in(self, evse: str | None = None) -> None:
        """Connect a car."""
        item = self.evse(evse)
        item.plugged = True
        if item.session is None and item.status == "available":
            item.status = "preparing"

    def unplug(self, evse: str | None = None) -> None:
        """Disconnect the car; a running session ends as a local stop."""
        item = self.evse(evse)
        item.plugged = False
        if item.session is not None:
            self._finish(item, "local")
        item.status = "available"
        item.finishing_left = 0.0

    def set_status(
        self,
        evse: str | None = None,
        *,
        status: str | None = None,
        charging_state: str | None = None,
        charge_point_status: str | None = None,
    ) -> None:
        """Force raw vendor strings (any case) onto the EVSE, its session and its charge point."""
        item = self.evse(evse)
        if status is not None:
            item.status = status
            if item.session is not None:
                item.session.evse_status = status
        if charging_state is not None and item.session is not None:
            item.session.charging_state = charging_state
        if charge_point_status is not None:
            self._point_of(item).status = charge_point_status

    def set_power(self, evse: str | None, watts: float) -> None:
        """The power the car draws while charging."""
        self.evse(evse).power_w = watts

    def expire_tokens(self, *, refresh: bool = False) -> None:
        """Every access token (and, if asked, refresh token) stops working."""
        self._tokens.access.clear()
        if refresh:
            self._tokens.refresh.clear()

    def export_tokens(self) -> dict[str, Any]:
        """The tokens issued so far, JSON-safe (the CLI keeps them across restarts)."""
        serial = next(self._tokens.serial)
        self._tokens.serial = itertools.count(serial)
        return {
            "access": dict(self._tokens.access),
            "refresh": sorted(self._tokens.refresh),
            "serial": serial,
        }

    def import_tokens(self, saved: dict[str, Any]) -> None:
        """Accept again the tokens of ``export_tokens``, as a real cloud would after a restart."""
        self._tokens.access.update(saved.get("access", {}))
        self._tokens.refresh.update(saved.get("refresh", []))
        self._tokens.serial = itertools.count(int(saved.get("serial", 1)))

    def issue_token(self, lifetime: float | None = None) -> str:
        """A valid bearer token, as a user would paste it."""
        token = f"pasted-token-{next(self._tokens.serial)}"
        self._tokens.access[token] = None if lifetime is None else self.now + lifetime
        return token

    def fail_next(
        self,
        path_substring: str,
        status: int,
        count: int = 1,
        retry_after: float | str | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``count`` requests whose path holds the substring with ``status``.

        The body is the matching fixture unless given (a ``str`` goes out as plain text);
        ``retry_after`` goes out as a ``Retry-After`` header (seconds, or a ``str`` as is).
        """
        self._failures.append(_Failure(path_substring, status, count, retry_after, body))

    def utcnow(self) -> datetime:
        """Simulated time as an aware datetime."""
        return datetime.fromtimestamp(self.now, UTC)

    def advance(self, seconds: float) -> None:
        """Move simulated time on; sessions evolve deterministically."""
        self.now += seconds
        for point in self.charge_points:
            for item in point.evses:
                self._evolve(item, seconds)

    def _evolve(self, item: FakeEvse, seconds: float) -> None:
        session = item.session
        if session is None:
            if item.status == "finishing":
                item.finishing_left -= seconds
                if item.finishing_left <= 0:
                    item.status = "preparing" if item.plugged else "available"
            return
        if session.status == "stopping":
            self._finish(item, "remote")
            return
        if session.status == "pending" and item.plugged:
            session.status = "active"
            session.charging_state = "charging"
            session.evse_status = item.status = "charging"
        session.duration += seconds
        state = (session.charging_state or item.status or "").lower()
        flowing = session.status == "active" and state == "charging"
        session.power_w = item.power_w if flowing else 0.0
        session.energy_wh += session.power_w * seconds / 3600.0

    def _finish(self, item: FakeEvse, reason: str) -> None:
        session = item.session
        assert session is not None
        session.status = "finished"
        session.stop_reason = reason
        session.stopped_at = self.now
        session.power_w = 0.0
        session.evse_status = "finishing"
        session.charging_state = "eVConnected" if item.plugged else "available"
        self.history.insert(
            0, {"session": self._render_session(session), "note": "", "type": "private"}
        )
        item.session = None
        item.status = "finishing"
        item.finishing_left = FINISHING_SECONDS

    # --- rendering -----------------------------------------------------------------------

    def _render_session(self, session: FakeSession) -> dict[str, Any]:
        body: dict[str, Any] = copy.deepcopy(self._session_template)
        energy = round(session.energy_wh)
        amount = round(energy / 1000 * PRICE_PER_KWH, 2)
        body.update(
            id=session.id,
            startedAt=_iso(session.started_at),
            stoppedAt=None if session.stopped_at is None else _iso(session.stopped_at),
            duration=round(session.duration),
            totalDuration=round(session.duration),
            energy=energy,
            power=round(session.power_w),
            powerAvg=round(energy * 3600 / session.duration, 1) if session.duration else 0,
            evseId=session.evse_identifier,
            evseStatus=session.evse_status,
            status=session.status,
            chargingState=session.charging_state,
            stopReason=session.stop_reason,
            amount=amount,
            totalAmount=amount,
        )
        if session.status == "pending":
            body.pop("lastPeriod", None)
        return body

    def _render_point(self, point: FakeChargePoint) -> dict[str, Any]:
        body: dict[str, Any] = copy.deepcopy(self._cp_template)
        template_evse = body["evses"][0]
        evses = []
        for item in point.evses:
            evse = copy.deepcopy(template_evse)
            evse.update(id=item.id, identifier=item.identifier, status=item.status)
            evse["connectors"][0]["status"] = "active" if item.session else "available"
            if item.session is not None:
                evse["session"] = self._render_session(item.session)
            evses.append(evse)
        body.update(id=point.id, name=point.name, status=point.status, evses=evses)
        return body

    def _sessions(self) -> Iterator[tuple[FakeEvse, FakeSession]]:
        for point in self.charge_points:
            for item in point.evses:
                if item.session is not None:
                    yield item, item.session

    # --- HTTP --------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        path = resource.canonical if resource is not None else request.path
        self.requests[f"{request.method} {path.removeprefix(API)}"] += 1
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        for failure in self._failures:
            if failure.remaining > 0 and failure.substring in request.path:
                failure.remaining -= 1
                return self._failure_response(failure)
        if not request.path.endswith("/oauth/token") and not self._authorized(request):
            return web.json_response(_fixture("error_401.json"), status=401)
        return await handler(request)

    def _failure_response(self, failure: _Failure) -> web.Response:
        bodies = {
            401: "error_401.json",
            404: "charge_point_not_found_404.json",
            406: "session_start_already_active_406.json",
            422: "error_422_validation.json",
            429: "error_429.json",
        }
        name = bodies.get(failure.status)
        body = _fixture(name) if name else {"message": "Server Error"}
        if isinstance(failure.body, str):
            return web.Response(text=failure.body, status=failure.status)
        if failure.body is not None:
            body = failure.body
        headers = {}
        if failure.status == 429:
            headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"}
        if failure.retry_after is not None:
            retry = failure.retry_after
            headers["Retry-After"] = retry if isinstance(retry, str) else str(int(retry))
        return web.json_response(body, status=failure.status, headers=headers)

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self._tokens.access:
            return False
        expiry = self._tokens.access[token]
        return expiry is None or self.now < expiry

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            raw = await request.json()
            form = {k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        else:
            form = {k: str(v) for k, v in (await request.post()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return web.json_response(_fixture("oauth_token_invalid_client.json"), status=401)
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("username", "").lower() != self.email or form.get("password") != (
                self.password
            ):
                return web.json_response(
                    _fixture("oauth_token_invalid_credentials.json"), status=400
                )
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self._tokens.refresh:
                body = {
                    "error": "invalid_grant",
                    "error_description": "The refresh token is invalid.",
                    "message": "The refresh token is invalid.",
                }
                return web.json_response(body, status=400)
            self._tokens.refresh.discard(refresh)  # Passport rotates refresh tokens
        else:
            body = {"error": "unsupported_grant_type", "message": "Unsupported grant type."}
            return web.json_response(body, status=400)
        serial = next(self._tokens.serial)
        access = f"fake-access-token-{serial:04d}"
        self._tokens.access[access] = self.now + self.token_lifetime
        response = _fixture("oauth_token_ok.json")
        response.update(access_token=access, expires_in=int(self.token_lifetime))
        if self.issue_refresh_tokens:
            response["refresh_token"] = f"fake-refresh-token-{serial:04d}"
            self._tokens.refresh.add(response["refresh_token"])
        else:
            response.pop("refresh_token", None)
        return web.json_response(response)

    async def _charge_points(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [self._render_point(p) for p in self.charge_points]})

    async def _charge_point(self, request: web.Request) -> web.Response:
        for point in self.charge_points:
            if point.id == request.match_info["cp_id"]:
                return web.json_response({"data": self._render_point(point)})
        return web.json_response(_fixture("charge_point_not_found_404.json"), status=404)

    async def _active_session(self, request: web.Request) -> web.Response:
        for _item, session in self._sessions():
            body = {"session": self._render_session(session), "carBatteryPercent": ""}
            return web.json_response(body)
        return web.json_response(_fixture("session_active_none_404.json"), status=404)

    async def _session(self, request: web.Request) -> web.Response:
        wanted = request.match_info["session_id"]
        for _item, session in self._sessions():
            if session.id == wanted:
                return web.json_response({"session": self._render_session(session)})
        for row in self.history:
            if row["session"]["id"] == wanted:
                return web.json_response({"session": row["session"]})
        return web.json_response(_fixture("session_stop_not_found_404.json"), status=404)

    def _find_for_start(self, value: object) -> FakeEvse | None:
        wanted = str(value)
        for point in self.charge_points:
            for item in point.evses:
                if self.accept_identifier and wanted == item.identifier:
                    return item
                if self.accept_internal_id and wanted == item.id:
                    return item
        return None

    async def _start_session(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.start_bodies.append(body)
        item = self._find_for_start(body.get("evseId"))
        if item is None:
            return web.json_response(_fixture("error_422_validation.json"), status=422)
        max_current = body.get("maxCurrent")
        if max_current is not None and (
            not isinstance(max_current, int) or not 6 <= max_current <= 32
        ):
            message = "The max current must be between 6 and 32."
            return web.json_response(
                {"message": message, "errors": {"maxCurrent": [message]}}, status=422
            )
        if item.session is not None:
            return web.json_response(_fixture("session_start_already_active_406.json"), status=406)
        session = FakeSession(
            id=str(next(self._session_ids)),
            evse_identifier=item.identifier,
            started_at=self.now,
            max_current=max_current,
        )
        item.session = session
        item.status = "preparing"
        item.finishing_left = 0.0
        return web.json_response({"session": self._render_session(session)})

    async def _stop_session(self, request: web.Request) -> web.Response:
        if request.match_info["action"] not in self.stop_routes:
            return web.json_response({"message": "Not Found"}, status=404)
        wanted = request.match_info["session_id"]
        for _item, session in self._sessions():
            if session.id == wanted:
                session.status = "stopping"
                return web.json_response({"session": self._render_session(session)})
        return web.json_response(_fixture("session_stop_not_found_404.json"), status=404)

    async def _history(self, request: web.Request) -> web.Response:
        try:
            start = date.fromisoformat(request.query["start_date"])
            end = date.fromisoformat(request.query["end_date"])
        except (KeyError, ValueError):
            message = "The start date field is required."
            return web.json_response(
                {"message": message, "errors": {"start_date": [message]}}, status=422
            )
        rows = [
            row
            for row in self.history
            if start <= datetime.fromisoformat(row["session"]["startedAt"]).date() <= end
        ]
        return web.json_response({"session_history": rows})

    async def _profile(self, request: web.Request) -> web.Response:
        return web.json_response(_fixture("profile.json"))


async def _serve(args: argparse.Namespace) -> None:
    cloud = AmpecoCloud(
        start_time=time.time(), token_lifetime=args.token_lifetime, host=args.host, port=args.port
    )
    state_file = Path(args.state) if args.state else None
    if state_file is not None and state_file.exists():
        cloud.import_tokens(json.loads(state_file.read_text()))
    if not args.unplugged:
        cloud.plug_in()
    await cloud.start()
    print(f"Fake AMPECO cloud at {cloud.host} (API base {cloud.url})", flush=True)
    print(
        f"e-mail {cloud.email}  password {cloud.password}  client id {cloud.client_id}  "
        f"client secret {cloud.client_secret}  bearer token {STATIC_TOKEN}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        last = time.monotonic()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            if state_file is not None:
                state_file.write_text(json.dumps(cloud.export_tokens()))
            if args.evolve:
                current = time.monotonic()
                cloud.advance(current - last)
                last = current
    finally:
        await cloud.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the fake cloud until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="Fake AMPECO driver-app cloud")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--evolve", action="store_true", help="advance with the wall clock")
    parser.add_argument("--unplugged", action="store_true", help="start without a car")
    parser.add_argument("--token-lifetime", type=float, default=31_536_000)
    parser.add_argument("--state", help="a JSON file keeping the issued tokens across restarts")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
