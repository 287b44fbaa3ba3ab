"""Run the ev_charging demo: simulators, Home Assistant, onboarding and config entries.

Started by ``scripts/demo`` once ``.venv`` is ready; uses the standard library only.

1. Starts the charger simulators listed in ``SIMULATORS`` as background processes.
2. Starts Home Assistant with the configuration directory ``.demo/config`` on
   http://127.0.0.1:8123, the integration linked into its ``custom_components``.
3. On the first run, completes onboarding through Home Assistant's onboarding API
   (owner ``demo`` / ``demo-ev-charging``), removes the entries onboarding adds for
   every new installation (weather, radio...) and stores a long-lived access token in
   ``.demo/token``.
4. Adds the config entries listed in ``FLOWS`` through the config flow REST API; a flow
   that has completed once is remembered in ``.demo/state.json`` and not run again.
5. Runs until Ctrl-C, then stops Home Assistant and the simulators.

With ``--check`` it stops after verifying that the integration has at least one sensor
with a numeric state, and exits non-zero when something failed.

To add a simulator, append a ``Simulator`` to ``SIMULATORS``; to add a config entry,
append a ``DemoFlow`` to ``FLOWS`` (one payload per flow step). ``rm -rf .demo`` starts
over from a fresh Home Assistant.
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import Iterator, Sequence
import contextlib
import ctypes
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from types import FrameType
from typing import IO, Any, TextIO
import urllib.error
import urllib.parse
import urllib.request

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / ".demo"
CONFIG_DIR = DEMO_DIR / "config"
LOG_DIR = DEMO_DIR / "logs"
STATE_FILE = DEMO_DIR / "state.json"
PYTHONPATH_DIR = DEMO_DIR / "pythonpath"
TOKEN_FILE = DEMO_DIR / "token"
HA_LOG = CONFIG_DIR / "home-assistant.log"

DOMAIN = "ev_charging"
HA_HOST = "127.0.0.1"
HA_PORT = 8123
HA_URL = f"http://{HA_HOST}:{HA_PORT}"
CLIENT_ID = f"{HA_URL}/"
REDIRECT_URI = f"{HA_URL}/?auth_callback=1"

USERNAME = "demo"
PASSWORD = "demo-ev-charging"
OWNER_NAME = "Demo"
LANGUAGE = "en"

# What the onboarding "core config" step stores (Brussels, metric, euro).
CORE_CONFIG: dict[str, Any] = {
    "location_name": "EV Charging demo",
    "latitude": 50.8466,
    "longitude": 4.3528,
    "elevation": 30,
    "unit_system": "metric",
    "currency": "EUR",
    "country": "BE",
    "language": LANGUAGE,
    "time_zone": "Europe/Brussels",
}

# Integrations loaded by the demo; their Python requirements are in requirements_demo.txt.
HOUSE_LOADS = "".join(
    f"""\
  house_load_l{n}:
    name: House load L{n}
    min: 0
    max: 40
    step: 0.5
    initial: 2
    unit_of_measurement: A
    mode: slider
"""
    for n in (1, 2, 3)
)

METER_SENSORS = "".join(
    f"""\
      - name: House meter L{n}
        unique_id: demo_house_meter_l{n}
        unit_of_measurement: A
        device_class: current
        state_class: measurement
        state: >
          {{{{ (states('input_number.house_load_l{n}') | float(0)
              + states('sensor.eno_one_port_1_current_l{n}') | float(0)
              + states('sensor.eno_one_port_2_current_l{n}') | float(0)) | round(2) }}}}
"""
    for n in (1, 2, 3)
)

CONFIGURATION_YAML = f"""\
# Written by scripts/demo on every start: changes made here are overwritten.
# Only what is needed to see the {DOMAIN} integration at work.
http:
  server_host: {HA_HOST}
  server_port: {HA_PORT}

config:
energy:
frontend:
history:
logbook:
recorder:
system_log:

# A simulated house meter for the load balancer: move the sliders to load the house.
# The meter sees the house plus the chargers, and reports every 2 s like a P1 meter.
input_number:
{HOUSE_LOADS}template:
  - trigger:
      - trigger: time_pattern
        seconds: "/2"
      - trigger: state
        entity_id:
          - input_number.house_load_l1
          - input_number.house_load_l2
          - input_number.house_load_l3
    sensor:
{METER_SENSORS}"""

# Integrations whose entries Home Assistant creates when onboarding completes; the
# demo removes them again (their requirements are in requirements_demo.txt so that
# nothing is installed while they are briefly set up).
ONBOARDING_EXTRAS = ("google_translate", "met", "radio_browser", "shopping_list")
ONBOARDING_EXTRAS_TIMEOUT = 30.0

HA_START_TIMEOUT = 300.0
HA_STOP_TIMEOUT = 60.0
SIMULATOR_START_TIMEOUT = 30.0
SIMULATOR_STOP_TIMEOUT = 10.0
CHECK_TIMEOUT = 120.0


@dataclass(frozen=True)
class Simulator:
    """A simulator run as ``python -m <module> <args>`` from the repository root."""

    name: str
    module: str
    args: tuple[str, ...]
    port: int

    def argv(self, python: str) -> list[str]:
        """Return the command line that starts the simulator."""
        return [python, "-m", self.module, *self.args]


@dataclass(frozen=True)
class DemoFlow:
    """A config entry added through the config flow, one payload per step.

    ``name`` identifies the flow in ``.demo/state.json`` once its entry exists. A
    payload ``{"next_step_id": ...}`` answers a menu step; any other payload is the
    user input of a form step. The last step must create the entry.
    """

    name: str
    steps: tuple[dict[str, Any], ...]
    handler: str = DOMAIN
    subentries: tuple[DemoSubentry, ...] = ()


@dataclass(frozen=True)
class DemoSubentry:
    """A subentry (a user, a card...) added to the entry a ``DemoFlow`` created.

    A string value ``"@<unique_id>"`` in ``data`` is replaced by the id of the entry's
    subentry with that unique id (a card names its user that way).
    """

    subentry_type: str
    data: dict[str, Any]


SIMULATORS: tuple[Simulator, ...] = (
    Simulator(
        name="Enovates Modbus TCP",
        module="tests.simulators.enovates",
        args=(
            "--host",
            "127.0.0.1",
            "--port",
            "15020",
            "--unit",
            "1=charging_3p_16a",
            "--unit",
            "2=charging_3p_16a",
            "--evolve",
            "--cycle",
            "300",
        ),
        port=15020,
    ),
    Simulator(
        name="Enphase fake cloud",
        module="tests.simulators.enphase_cloud",
        args=("--port", "18080", "--evolve"),
        port=18080,
    ),
    Simulator(
        name="AMPECO fake cloud",
        module="tests.simulators.ampeco_cloud",
        # Like a real cloud, the fake one keeps the tokens it issued across demo restarts.
        args=("--port", "18081", "--evolve", "--state", ".demo/ampeco_tokens.json"),
        port=18081,
    ),
)

FLOWS: tuple[DemoFlow, ...] = (
    DemoFlow(
        name="enovates",
        steps=(
            {"next_step_id": "enovates"},
            {"host": "127.0.0.1", "port": 15020, "dual_port": True, "ems_control": True},
        ),
    ),
    DemoFlow(
        name="enphase",
        steps=(
            {"next_step_id": "enphase"},
            # The server field shows in advanced mode only; the demo points it at the fake cloud.
            {
                "email": "owner@example.com",
                "password": "demo-password",
                "url": "http://127.0.0.1:18080",
            },
            {"site_id": "3381904"},
            {"serials": ["482501234567", "482509876543"]},
        ),
    ),
    DemoFlow(
        name="ampeco",
        steps=(
            {"next_step_id": "ampeco"},
            {"next_step_id": "ampeco_password"},
            {
                "host": "http://127.0.0.1:18081",
                "email": "driver@example.invalid",
                "password": "demo-password",
                "client_secret": "demo-client-secret",
                "advanced": {"client_id": "1"},
            },
        ),
    ),
    # The balancer over both ENO one ports, on the simulated house meter above.
    DemoFlow(
        name="load_balancer",
        steps=(
            {"next_step_id": "load_balancer"},
            {
                "phases": "3",
                "meter_kind": "phase_currents",
                "total_power_split": "balanced",
                "meter_includes_chargers": True,
            },
            {
                "meter_l1": "sensor.house_meter_l1",
                "meter_l2": "sensor.house_meter_l2",
                "meter_l3": "sensor.house_meter_l3",
                "limit_l1": 25,
                "limit_l2": 25,
                "limit_l3": 25,
                "margin": 1,
                "voltage": 230,
            },
            {
                "fallback": "fixed",
                "stale_after": 30,
                "stop_after": 120,
                "hold_time": 15,
                "ramp_step": 4,
            },
            {"chargers": ["EN1A2401000123", "EN1A2401000123_2"]},
            {"priority": 1, "weight": 1, "phases": "3", "rotation": "l1_l2_l3", "mode": "fast"},
            {"priority": 0, "weight": 1, "phases": "3", "rotation": "l1_l2_l3", "mode": "fast"},
        ),
    ),
    # The stand-in `ocpp` integration first, then our charger on top of it.
    DemoFlow(name="ocpp", handler="ocpp", steps=({"cpid": "charger", "num_connectors": 1},)),
    DemoFlow(
        name="ocpp_proxy",
        steps=({"next_step_id": "ocpp_proxy"}, {"charger": "charger", "limit_mode": "profile"}),
    ),
    # The household: Alice's card is the RFID token the demo ENO one reports.
    DemoFlow(
        name="sessions",
        steps=(
            {"next_step_id": "sessions"},
            {"mode": "static", "guest_method": "fixed", "guest_value": 0.45},
            {"price_per_kwh": 0.32},
        ),
        subentries=(
            DemoSubentry("user", {"name": "Alice", "type": "resident", "guest_method": "default"}),
            DemoSubentry(
                "user",
                {"name": "Guest", "type": "guest", "guest_method": "fixed", "guest_value": 0.5},
            ),
            DemoSubentry("card", {"uid": "04A1B2C3D4E580", "user_id": "@user_alice"}),
        ),
    ),
)


class DemoError(Exception):
    """A demo step failed; the message says which and why."""


class StopDemo(Exception):
    """Raised by the signal handler to leave the foreground loop."""


# --------------------------------------------------------------------------- output


def emit(text: str, stream: TextIO | None = None) -> None:
    """Print a line; a closed output (``scripts/demo | head``) must not stop the cleanup."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream or sys.stdout, flush=True)


def say(message: str) -> None:
    """Print a progress line."""
    emit(f"[demo] {message}")


def warn(message: str) -> None:
    """Print a warning line."""
    emit(f"[demo] WARNING: {message}")


def shown(path: Path) -> str:
    """Return a path relative to the repository root when it is inside it."""
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or an empty string."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- state


def load_state(path: Path = STATE_FILE) -> dict[str, Any]:
    """Return the remembered demo state (completed flows)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"flows_done": []}
    if not isinstance(data, dict) or not isinstance(data.get("flows_done"), list):
        return {"flows_done": []}
    return data


def save_state(state: dict[str, Any], path: Path = STATE_FILE) -> None:
    """Write the demo state atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def pending_flows(flows: Sequence[DemoFlow], state: dict[str, Any]) -> list[DemoFlow]:
    """Return the flows whose entry has not been created yet."""
    done = set(state.get("flows_done", []))
    return [flow for flow in flows if flow.name not in done]


def numeric_state(state: str) -> float | None:
    """Return the state as a finite number, or None when it is not numeric."""
    try:
        value = float(state)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- config dir


def prepare_config_dir() -> None:
    """Create .demo/config, write configuration.yaml and link the integration."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    (CONFIG_DIR / "configuration.yaml").write_text(CONFIGURATION_YAML, encoding="utf-8")
    custom = CONFIG_DIR / "custom_components"
    custom.mkdir(exist_ok=True)
    _link(custom / DOMAIN, REPO_ROOT / "custom_components" / DOMAIN)
    # The stand-in for the community `ocpp` integration, and a PYTHONPATH that gives it
    # the repository's `tests` package only: the repository root itself would shadow
    # the config dir's `custom_components` with ours.
    _link(custom / "ocpp", REPO_ROOT / "tests" / "simulators" / "demo_ocpp")
    PYTHONPATH_DIR.mkdir(parents=True, exist_ok=True)
    _link(PYTHONPATH_DIR / "tests", REPO_ROOT / "tests")


def _link(link: Path, destination: Path) -> None:
    """Make ``link`` a relative symlink to ``destination`` (left alone when it is one)."""
    target = Path(os.path.relpath(destination, link.parent))
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.exists():
        raise DemoError(f"{shown(link)} exists and is not a link to {shown(destination)}")
    link.symlink_to(target, target_is_directory=True)


# --------------------------------------------------------------------------- processes


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a child: receive SIGTERM if the demo process dies (Linux; a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """A background process started by the demo."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    stop_timeout: float
    reported_exit: bool = False


@dataclass
class Children:
    """The background processes, stopped in reverse order of start."""

    items: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        log_name: str,
        stop_timeout: float,
        env: dict[str, str] | None = None,
    ) -> Child:
        """Start a process in its own session, its output appended to a log file."""
        log_path = LOG_DIR / log_name
        log_file = log_path.open("ab")
        log_file.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {argv}\n".encode())
        log_file.flush()
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            env=env,
        )
        child = Child(name, process, log_path, log_file, stop_timeout)
        self.items.append(child)
        return child

    def stop_all(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL after its timeout."""
        for child in reversed(self.items):
            if child.process.poll() is None:
                say(f"Stopping {child.name} ...")
                with contextlib.suppress(ProcessLookupError):
                    child.process.terminate()
                try:
                    child.process.wait(timeout=child.stop_timeout)
                except subprocess.TimeoutExpired:
                    warn(f"{child.name} did not stop in {child.stop_timeout:.0f} s; killing it")
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()
                    child.process.wait()
            child.log_file.close()
        self.items.clear()


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Return True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def module_exists(module: str) -> bool:
    """Return True when ``python -m module`` would find the module (from the repo root)."""
    parts = module.split(".")
    base = REPO_ROOT.joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()


def start_simulators(children: Children, python: str) -> list[Simulator]:
    """Start every available simulator and wait for its port; return those running."""
    running: list[Simulator] = []
    for sim in SIMULATORS:
        if not module_exists(sim.module):
            warn(f"{sim.name} simulator ({sim.module}) is not in this tree; skipped")
            continue
        if port_open(sim.port):
            raise DemoError(f"port {sim.port} for the {sim.name} simulator is already in use")
        log_name = sim.module.rsplit(".", 1)[-1] + ".log"
        child = children.start(sim.name, sim.argv(python), log_name, SIMULATOR_STOP_TIMEOUT)
        deadline = time.monotonic() + SIMULATOR_START_TIMEOUT
        while not port_open(sim.port):
            if child.process.poll() is not None:
                raise DemoError(
                    f"the {sim.name} simulator exited with code {child.process.returncode}; "
                    f"its log ({shown(child.log_path)}):\n{tail(child.log_path)}"
                )
            if time.monotonic() > deadline:
                raise DemoError(f"the {sim.name} simulator did not open port {sim.port}")
            time.sleep(0.2)
        say(
            f"{sim.name} simulator listening on 127.0.0.1:{sim.port} (log: {shown(child.log_path)})"
        )
        running.append(sim)
    return running


# --------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Response:
    """A decoded HTTP response."""

    status: int
    body: Any


def http(
    method: str,
    path: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send a request to Home Assistant; JSON bodies are decoded, HTTP errors returned."""
    headers = {"Accept": "application/json"}
    data: bytes | None = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(HA_URL + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    text = raw.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = text
    return Response(status, body)


def describe(response: Response) -> str:
    """Return a short human description of an error response."""
    body = response.body
    if isinstance(body, dict) and "message" in body:
        return f"HTTP {response.status}: {body['message']}"
    return f"HTTP {response.status}: {str(body)[:300]}"


def expect_ok(response: Response, what: str) -> Any:
    """Return the body of a 2xx response, or raise DemoError naming the step."""
    if 200 <= response.status < 300:
        return response.body
    raise DemoError(f"{what} failed ({describe(response)})")


# --------------------------------------------------------------------------- WebSocket


class WebSocket:
    """A minimal blocking WebSocket client for Home Assistant's /api/websocket."""

    def __init__(self, token: str, timeout: float = 30.0) -> None:
        """Connect and authenticate."""
        self._sock = socket.create_connection((HA_HOST, HA_PORT), timeout=timeout)
        self._buffer = b""
        self._next_id = 1
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            (
                "GET /api/websocket HTTP/1.1\r\n"
                f"Host: {HA_HOST}:{HA_PORT}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self._recv_some()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise DemoError(f"WebSocket upgrade refused: {head.decode(errors='replace')}")
        if self.receive().get("type") != "auth_required":
            raise DemoError("unexpected WebSocket greeting")
        self._send({"type": "auth", "access_token": token})
        reply = self.receive()
        if reply.get("type") != "auth_ok":
            raise DemoError(f"WebSocket authentication failed: {reply}")

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self._send_frame(0x8, struct.pack("!H", 1000))
        self._sock.close()

    def command(self, message: dict[str, Any]) -> Any:
        """Send a command and return its result, raising DemoError on failure."""
        message_id = self._next_id
        self._next_id += 1
        self._send({**message, "id": message_id})
        while True:
            reply = self.receive()
            if reply.get("id") == message_id and reply.get("type") == "result":
                if not reply.get("success"):
                    raise DemoError(f"WebSocket {message['type']} failed: {reply.get('error')}")
                return reply.get("result")

    def receive(self) -> dict[str, Any]:
        """Return the next JSON message, answering pings on the way."""
        payload = b""
        while True:
            fin, opcode, data = self._read_frame()
            if opcode == 0x9:
                self._send_frame(0xA, data)
                continue
            if opcode == 0x8:
                raise DemoError("Home Assistant closed the WebSocket")
            if opcode in (0x0, 0x1, 0x2):
                payload += data
                if fin:
                    message = json.loads(payload)
                    if not isinstance(message, dict):
                        raise DemoError(f"unexpected WebSocket message: {message!r}")
                    return message

    def _send(self, message: dict[str, Any]) -> None:
        self._send_frame(0x1, json.dumps(message).encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def _recv_some(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise DemoError("Home Assistant closed the WebSocket connection")
        return chunk

    def _read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._buffer += self._recv_some()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read_exact(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
        mask = self._read_exact(4) if second & 0x80 else b""
        data = self._read_exact(length)
        if mask:
            data = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
        return bool(first & 0x80), first & 0x0F, data


@contextlib.contextmanager
def websocket(token: str) -> Iterator[WebSocket]:
    """Open an authenticated WebSocket for the duration of a block."""
    ws = WebSocket(token)
    try:
        yield ws
    finally:
        ws.close()


# --------------------------------------------------------------------------- Home Assistant


def wait_for_http(hass_process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until Home Assistant's HTTP server answers."""
    deadline = time.monotonic() + HA_START_TIMEOUT
    while True:
        if hass_process.poll() is not None:
            raise DemoError(
                f"Home Assistant exited with code {hass_process.returncode}; "
                f"its output ({shown(log_path)}):\n{tail(log_path)}"
            )
        try:
            http("GET", "/api/onboarding", timeout=5)
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise DemoError(
                    f"Home Assistant did not answer on {HA_URL} within "
                    f"{HA_START_TIMEOUT:.0f} s; see {shown(log_path)}"
                ) from None
            time.sleep(1)
            continue
        return


def exchange_code(code: str) -> str:
    """Exchange an authorization code for an access token."""
    body = expect_ok(
        http(
            "POST",
            "/auth/token",
            form={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
        ),
        "getting a token",
    )
    return str(body["access_token"])


def login() -> str:
    """Log in as the demo user through the login flow; return an access token."""
    flow = expect_ok(
        http(
            "POST",
            "/auth/login_flow",
            json_body={
                "client_id": CLIENT_ID,
                "handler": ["homeassistant", None],
                "redirect_uri": REDIRECT_URI,
            },
        ),
        "starting the login flow",
    )
    result = expect_ok(
        http(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json_body={"client_id": CLIENT_ID, "username": USERNAME, "password": PASSWORD},
        ),
        "logging in",
    )
    if result.get("type") != "create_entry":
        raise DemoError(
            f"logging in as {USERNAME!r} failed ({result.get('errors')}); "
            "remove .demo to start over with a fresh Home Assistant"
        )
    return exchange_code(str(result["result"]))


def token_valid(token: str) -> bool:
    """Return True when the token is accepted by the API."""
    return http("GET", "/api/", token=token).status == 200


def onboard_and_authenticate() -> str:
    """Complete whatever onboarding steps remain; return a long-lived access token."""
    status = http("GET", "/api/onboarding")
    steps: dict[str, bool] = {}
    if status.status == 200 and isinstance(status.body, list):
        steps = {item["step"]: bool(item["done"]) for item in status.body}

    token: str | None = None
    if steps and not steps.get("user", True):
        say(f"Onboarding: creating the owner {USERNAME!r} ...")
        created = expect_ok(
            http(
                "POST",
                "/api/onboarding/users",
                json_body={
                    "client_id": CLIENT_ID,
                    "name": OWNER_NAME,
                    "username": USERNAME,
                    "password": PASSWORD,
                    "language": LANGUAGE,
                },
            ),
            "onboarding: creating the owner",
        )
        token = exchange_code(str(created["auth_code"]))
    elif TOKEN_FILE.is_file():
        stored = TOKEN_FILE.read_text(encoding="utf-8").strip()
        if stored and token_valid(stored):
            token = stored
    if token is None:
        token = login()

    if steps and not steps.get("core_config", True):
        say("Onboarding: location Brussels, metric units, EUR, Europe/Brussels ...")
        with websocket(token) as ws:
            ws.command({"type": "config/core/update", **CORE_CONFIG})
        expect_ok(
            http("POST", "/api/onboarding/core_config", token=token, json_body={}),
            "onboarding: core configuration",
        )
        state = load_state()
        state["remove_onboarding_extras"] = True
        save_state(state)
    if steps and not steps.get("analytics", True):
        say("Onboarding: analytics off ...")
        with websocket(token) as ws:
            ws.command(
                {
                    "type": "analytics/preferences",
                    "preferences": {
                        "base": False,
                        "diagnostics": False,
                        "usage": False,
                        "statistics": False,
                    },
                }
            )
        expect_ok(
            http("POST", "/api/onboarding/analytics", token=token, json_body={}),
            "onboarding: analytics",
        )
    if steps and not steps.get("integration", True):
        say("Onboarding: finishing ...")
        expect_ok(
            http(
                "POST",
                "/api/onboarding/integration",
                token=token,
                json_body={"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI},
            ),
            "onboarding: integration step",
        )

    if TOKEN_FILE.is_file() and TOKEN_FILE.read_text(encoding="utf-8").strip() == token:
        return token
    with websocket(token) as ws:
        long_lived = str(
            ws.command(
                {
                    "type": "auth/long_lived_access_token",
                    # Names must be unique per user.
                    "client_name": f"{DOMAIN} demo {time.strftime('%Y-%m-%d %H:%M:%S')}",
                    "lifespan": 3650,
                }
            )
        )
    TOKEN_FILE.write_text(long_lived + "\n", encoding="utf-8")
    TOKEN_FILE.chmod(0o600)
    return long_lived


def wait_until_running(token: str, hass_process: subprocess.Popen[bytes]) -> None:
    """Wait until Home Assistant reports the RUNNING state."""
    deadline = time.monotonic() + HA_START_TIMEOUT
    while True:
        if hass_process.poll() is not None:
            raise DemoError(f"Home Assistant exited with code {hass_process.returncode}")
        body = http("GET", "/api/config", token=token).body
        if isinstance(body, dict) and body.get("state") == "RUNNING":
            return
        if time.monotonic() > deadline:
            raise DemoError("Home Assistant did not finish starting")
        time.sleep(1)


def remove_onboarding_extras(token: str) -> None:
    """Remove the entries Home Assistant adds when onboarding completes, once.

    Finishing the core configuration step starts the config flows of
    ``ONBOARDING_EXTRAS`` (weather, radio, text-to-speech, shopping list) in the
    background. They need the internet or ffmpeg and only add noise to the demo's log.
    """
    state = load_state()
    if not state.get("remove_onboarding_extras"):
        return
    remaining = set(ONBOARDING_EXTRAS)
    deadline = time.monotonic() + ONBOARDING_EXTRAS_TIMEOUT
    while remaining and time.monotonic() < deadline:
        entries = expect_ok(
            http("GET", "/api/config/config_entries/entry", token=token),
            "listing config entries",
        )
        for entry in entries:
            if entry.get("domain") in remaining:
                expect_ok(
                    http(
                        "DELETE",
                        f"/api/config/config_entries/entry/{entry['entry_id']}",
                        token=token,
                    ),
                    f"removing the {entry['domain']} entry added by onboarding",
                )
                remaining.discard(entry["domain"])
        if remaining:
            time.sleep(1)
    state["remove_onboarding_extras"] = False
    save_state(state)


def menu_options(step: dict[str, Any]) -> list[str]:
    """Return the option ids of a menu step (HA allows a list or a dict)."""
    options = step.get("menu_options") or []
    return list(options.keys()) if isinstance(options, dict) else list(options)


def run_flow(flow: DemoFlow, token: str) -> str:
    """Run one config flow to completion; return a one-line outcome."""
    reply = http(
        "POST",
        "/api/config/config_entries/flow",
        token=token,
        json_body={"handler": flow.handler, "show_advanced_options": True},
    )
    if reply.status == 404 or (reply.status == 400 and "handler" in describe(reply).lower()):
        raise DemoError(
            f"the {flow.handler} integration could not be loaded ({describe(reply)}); "
            f"see {shown(HA_LOG)}"
        )
    step = expect_ok(reply, f"starting the {flow.name!r} config flow")
    flow_id = step.get("flow_id")
    try:
        for payload in flow.steps:
            kind = step.get("type")
            if kind not in ("menu", "form"):
                break
            if kind == "menu" and payload.get("next_step_id") not in menu_options(step):
                raise DemoError(
                    f"menu step {step.get('step_id')!r} offers {menu_options(step)}, "
                    f"not {payload.get('next_step_id')!r}"
                )
            step = expect_ok(
                http(
                    "POST",
                    f"/api/config/config_entries/flow/{flow_id}",
                    token=token,
                    json_body=payload,
                ),
                f"step {step.get('step_id')!r}",
            )
            if step.get("type") == "form" and step.get("errors"):
                raise DemoError(f"step {step.get('step_id')!r} returned errors {step['errors']}")
    except DemoError as err:
        with contextlib.suppress(OSError):
            http("DELETE", f"/api/config/config_entries/flow/{flow_id}", token=token)
        raise DemoError(f"config flow {flow.name!r}: {err}") from None

    kind = step.get("type")
    if kind == "create_entry":
        entry_id = step.get("result", {}).get("entry_id")
        for subentry in flow.subentries:
            add_subentry(token, entry_id, subentry)
        added = f" with {len(flow.subentries)} subentries" if flow.subentries else ""
        return f"added config entry {step.get('title')!r} ({flow.name}){added}"
    if kind == "abort" and step.get("reason") == "already_configured":
        return f"config entry for {flow.name!r} already exists"
    with contextlib.suppress(OSError):
        http("DELETE", f"/api/config/config_entries/flow/{flow_id}", token=token)
    raise DemoError(
        f"config flow {flow.name!r} ended with {kind!r} "
        f"(step {step.get('step_id')!r}, reason {step.get('reason')!r}) "
        "instead of creating an entry"
    )


def subentry_ids(token: str, entry_id: str) -> dict[str, str]:
    """Map the unique ids of an entry's subentries to their subentry ids."""
    with websocket(token) as ws:
        listed = ws.command({"type": "config_entries/subentries/list", "entry_id": entry_id})
    return {item["unique_id"]: item["subentry_id"] for item in listed if item.get("unique_id")}


def add_subentry(token: str, entry_id: str, subentry: DemoSubentry) -> None:
    """Run one subentry flow of ``entry_id`` to completion."""
    data = dict(subentry.data)
    if any(isinstance(v, str) and v.startswith("@") for v in data.values()):
        ids = subentry_ids(token, entry_id)
        data = {
            k: ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v
            for k, v in data.items()
        }
    what = f"subentry {subentry.subentry_type!r}"
    step = expect_ok(
        http(
            "POST",
            "/api/config/config_entries/subentries/flow",
            token=token,
            json_body={"handler": [entry_id, subentry.subentry_type]},
        ),
        f"starting {what}",
    )
    step = expect_ok(
        http(
            "POST",
            f"/api/config/config_entries/subentries/flow/{step['flow_id']}",
            token=token,
            json_body=data,
        ),
        what,
    )
    if step.get("type") != "create_entry":
        raise DemoError(f"{what} ended with {step.get('type')!r} ({step.get('errors')})")


def add_entries(token: str) -> list[str]:
    """Run every pending flow; return the error messages (empty when all succeeded)."""
    state = load_state()
    errors: list[str] = []
    for flow in pending_flows(FLOWS, state):
        try:
            outcome = run_flow(flow, token)
        except DemoError as err:
            errors.append(str(err))
            warn(str(err))
            continue
        say(outcome.capitalize())
        state["flows_done"] = sorted({*state["flows_done"], flow.name})
        save_state(state)
    return errors


def integration_sensors(token: str) -> list[tuple[str, str, str]]:
    """Return (entity_id, state, unit) of the integration's sensors with a numeric state."""
    with websocket(token) as ws:
        entries = ws.command({"type": "config/entity_registry/list"})
    wanted = {
        entry["entity_id"]
        for entry in entries
        if entry.get("platform") == DOMAIN
        and entry["entity_id"].startswith("sensor.")
        and not entry.get("disabled_by")
    }
    states = expect_ok(http("GET", "/api/states", token=token), "reading states")
    found = []
    for item in states:
        if item["entity_id"] in wanted and numeric_state(item["state"]) is not None:
            unit = item.get("attributes", {}).get("unit_of_measurement") or ""
            found.append((item["entity_id"], item["state"], unit))
    return sorted(found)


def integration_log_problems(log_text: str) -> list[str]:
    """Return the warning and error lines the integration wrote to Home Assistant's log."""
    pattern = re.compile(
        rf"^\S+ \S+ (WARNING|ERROR|CRITICAL) \([^)]*\) \[custom_components\.{DOMAIN}[\].]"
    )
    return [line for line in log_text.splitlines() if pattern.match(line)]


def check(token: str) -> bool:
    """Wait for numeric ev_charging sensors; print them and return True when found."""
    deadline = time.monotonic() + CHECK_TIMEOUT
    while True:
        sensors = integration_sensors(token)
        if sensors:
            say(f"{len(sensors)} {DOMAIN} sensor(s) with a numeric state:")
            for entity_id, state, unit in sensors:
                emit(f"  {entity_id} = {state} {unit}".rstrip())
            with contextlib.suppress(OSError):
                problems = integration_log_problems(HA_LOG.read_text(errors="replace"))
                if problems:
                    say(f"{len(problems)} warning(s)/error(s) from {DOMAIN} in {shown(HA_LOG)}:")
                    for line in problems[:20]:
                        emit(f"  {line[:300]}")
            return True
        if time.monotonic() > deadline:
            warn(f"no {DOMAIN} sensor has a numeric state after {CHECK_TIMEOUT:.0f} s")
            return False
        time.sleep(2)


# --------------------------------------------------------------------------- main


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopDemo


def run(check_only: bool) -> int:
    """Run the demo; return the process exit code."""
    prepare_config_dir()
    if port_open(HA_PORT, HA_HOST):
        raise DemoError(f"port {HA_PORT} is already in use (is another demo running?)")
    python = sys.executable
    hass = str(Path(python).parent / "hass")
    children = Children()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        start_simulators(children, python)
        say(f"Starting Home Assistant (log: {shown(HA_LOG)}) ...")
        started = time.monotonic()
        ha = children.start(
            "Home Assistant",
            [hass, "-c", str(CONFIG_DIR)],
            "hass.log",
            HA_STOP_TIMEOUT,
            env={**os.environ, "PYTHONPATH": str(PYTHONPATH_DIR)},
        )
        wait_for_http(ha.process, ha.log_path)
        token = onboard_and_authenticate()
        wait_until_running(token, ha.process)
        remove_onboarding_extras(token)
        say(f"Home Assistant is running ({time.monotonic() - started:.0f} s after start)")
        errors = add_entries(token)

        if check_only:
            ok = not errors and check(token)
            say("Check passed" if ok else "Check FAILED")
            return 0 if ok else 1

        emit(
            "\n"
            f"  Home Assistant:  {HA_URL}\n"
            f"  Login:           {USERNAME} / {PASSWORD}\n"
            f"  API token:       {shown(TOKEN_FILE)}\n"
            f"  Logs:            {shown(HA_LOG)}, {shown(LOG_DIR)}/\n"
            "\n  Press Ctrl-C to stop.\n"
        )
        if errors:
            warn("some config entries could not be added (see above); Home Assistant keeps running")
        while True:
            for child in children.items:
                if child.process.poll() is not None and not child.reported_exit:
                    child.reported_exit = True
                    warn(
                        f"{child.name} exited with code {child.process.returncode}; "
                        f"see {shown(child.log_path)}"
                    )
                    if child is ha:
                        return 1
            time.sleep(1)
    except StopDemo:
        emit("")
        return 1 if check_only else 0
    except DemoError as err:
        emit(f"[demo] ERROR: {err}", sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
        say("Stopped.")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify that the integration reports numeric sensor states, then stop",
    )
    args = parser.parse_args(argv)
    try:
        return run(check_only=args.check)
    except DemoError as err:
        emit(f"[demo] ERROR: {err}", sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
