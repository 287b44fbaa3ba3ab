"""The repository's commands and metadata: scripts/demo helpers, pins, HACS file."""

from __future__ import annotations

from importlib import metadata
import importlib.util
import json
from pathlib import Path
import re
import socket
import sys
from types import ModuleType

from awesomeversion import AwesomeVersion
import pytest
import yaml

ROOT = Path(__file__).parent.parent


def _load_demo_setup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_setup", ROOT / "scripts" / "demo_setup.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("demo_setup", module)
    spec.loader.exec_module(module)
    return module


demo = _load_demo_setup()


def _ha_version_of_scripts() -> str:
    match = re.search(r'^HA_VERSION="([^"]+)"', (ROOT / "scripts" / "_venv.sh").read_text(), re.M)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("state", "expected"),
    [("12.5", 12.5), ("0", 0.0), ("-3", -3.0), ("unavailable", None), ("unknown", None),
     ("nan", None), ("inf", None), ("", None)],
)  # fmt: skip
def test_numeric_state(state: str, expected: float | None) -> None:
    """Only finite numbers count as a numeric sensor state."""
    assert demo.numeric_state(state) == expected


def test_state_file_round_trip(tmp_path: Path) -> None:
    """A missing or corrupt state file means no flow has run; saved state loads back."""
    path = tmp_path / "state.json"
    assert demo.load_state(path) == {"flows_done": []}
    path.write_text("{not json")
    assert demo.load_state(path) == {"flows_done": []}
    path.write_text(json.dumps({"flows_done": "enovates"}))
    assert demo.load_state(path) == {"flows_done": []}
    demo.save_state({"flows_done": ["enovates"], "remove_onboarding_extras": False}, path)
    assert demo.load_state(path) == {"flows_done": ["enovates"], "remove_onboarding_extras": False}


def test_pending_flows_skip_completed_ones() -> None:
    """A flow whose entry was created before is not run again."""
    one = demo.DemoFlow("one", ({"next_step_id": "x"},))
    two = demo.DemoFlow("two", ({"host": "h"},))
    assert demo.pending_flows([one, two], {"flows_done": ["one"]}) == [two]
    assert demo.pending_flows([one, two], {}) == [one, two]


def test_menu_options_accept_list_and_dict() -> None:
    """Home Assistant sends menu options as a list or as a dict of labels."""
    assert demo.menu_options({"menu_options": ["a", "b"]}) == ["a", "b"]
    assert demo.menu_options({"menu_options": {"a": "A", "b": "B"}}) == ["a", "b"]
    assert demo.menu_options({}) == []


def test_demo_flows_and_simulators_are_consistent() -> None:
    """Flow names are unique; every simulator exists and has its own port."""
    names = [flow.name for flow in demo.FLOWS]
    assert len(names) == len(set(names))
    assert all(flow.steps for flow in demo.FLOWS)
    ports = [sim.port for sim in demo.SIMULATORS]
    assert len(ports) == len(set(ports))
    assert demo.HA_PORT not in ports
    for sim in demo.SIMULATORS:
        assert demo.module_exists(sim.module), sim.module
        assert sim.argv("python")[:3] == ["python", "-m", sim.module]


def test_demo_configuration_serves_loopback_only() -> None:
    """The demo's Home Assistant listens on 127.0.0.1:8123 and loads the frontend."""
    config = yaml.safe_load(demo.CONFIGURATION_YAML)
    assert config["http"] == {"server_host": "127.0.0.1", "server_port": 8123}
    assert "frontend" in config


@pytest.mark.parametrize("size", [5, 125, 126, 300, 70_000])
def test_websocket_frames_round_trip(size: int) -> None:
    """Frames written by the client (masked) are read back intact, for every length form."""
    left, right = socket.socketpair()
    try:
        writer = demo.WebSocket.__new__(demo.WebSocket)
        reader = demo.WebSocket.__new__(demo.WebSocket)
        writer._sock, writer._buffer = left, b""
        reader._sock, reader._buffer = right, b""
        payload = json.dumps({"data": "x" * size}).encode()
        writer._send_frame(0x1, payload)
        assert reader._read_frame() == (True, 0x1, payload)
    finally:
        left.close()
        right.close()


@pytest.mark.parametrize("name", ["requirements_dev.txt", "requirements_demo.txt"])
def test_requirements_are_pinned(name: str) -> None:
    """Everyone installs the same versions."""
    lines = [
        line.strip()
        for line in (ROOT / name).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.]+", line), line


def test_home_assistant_versions_agree() -> None:
    """The constraints, the installed Home Assistant and hacs.json tell the same story."""
    ha_version = _ha_version_of_scripts()
    assert metadata.version("homeassistant") == ha_version
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"]
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(ha_version)


def test_committed_scaffolding_has_no_machine_paths() -> None:
    """Scripts, workflows and docs work on any machine."""
    files = [
        *(ROOT / "scripts").glob("*"),
        ROOT / ".ci" / "run",
        *(ROOT / ".github" / "workflows").glob("*.yml"),
        ROOT / "README.md",
        ROOT / "hacs.json",
        ROOT / "requirements_dev.txt",
        ROOT / "requirements_demo.txt",
    ]
    for path in files:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            # Joined at run time so that this file does not itself contain the paths.
            for fragment in (f"/{name}/" for name in ("root", "work", "tmp", "home")):
                assert fragment not in text, f"{path.name} mentions {fragment}"


def test_integration_log_problems_picks_only_our_warnings() -> None:
    """Warnings of the integration are reported; other loggers and levels are not."""
    log = "\n".join(
        [
            "2025-01-01 10:00:00.000 WARNING (MainThread) [custom_components.ev_charging] a",
            "2025-01-01 10:00:00.000 ERROR (MainThread) [custom_components.ev_charging.x] b",
            "2025-01-01 10:00:00.000 INFO (MainThread) [custom_components.ev_charging] c",
            "2025-01-01 10:00:00.000 WARNING (MainThread) [homeassistant.loader] ev_charging",
            "2025-01-01 10:00:00.000 ERROR (MainThread) [custom_components.ev_chargingx] d",
            "Traceback (most recent call last):",
        ]
    )
    assert [line[-1] for line in demo.integration_log_problems(log)] == ["a", "b"]
