"""The files Home Assistant, hassfest and HACS read are complete and consistent."""

from __future__ import annotations

import json
from pathlib import Path
import re

import yaml

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "custom_components" / "ev_charging"

RULES = {
    # Bronze
    "action-setup", "appropriate-polling", "brands", "common-modules",
    "config-flow-test-coverage", "config-flow", "dependency-transparency", "docs-actions",
    "docs-high-level-description", "docs-installation-instructions", "docs-removal-instructions",
    "docs-triggers", "docs-conditions", "entity-event-setup", "entity-unique-id",
    "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
    "docs-installation-parameters", "entity-unavailable", "integration-owner",
    "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    # Gold
    "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
    "docs-examples", "docs-known-limitations", "docs-supported-devices",
    "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
    "entity-category", "entity-device-class", "entity-disabled-by-default",
    "entity-translations", "exception-translations", "icon-translations",
    "reconfiguration-flow", "repair-issues", "stale-devices",
    # Platinum
    "async-dependency", "inject-websession", "strict-typing",
}  # fmt: skip


def _json(name: str) -> dict:
    return json.loads((PACKAGE / name).read_text())


def test_manifest_keys_are_ordered_as_hassfest_wants() -> None:
    """domain, name, then alphabetical; the keys HACS requires are present."""
    keys = list(_json("manifest.json"))
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    for required in ("version", "documentation", "issue_tracker", "codeowners"):
        assert required in keys


def test_quality_scale_lists_every_rule_honestly() -> None:
    """All 54 rules, each done/todo/exempt, and every exemption explains itself."""
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == RULES
    for name, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, name
        if status == "exempt":
            assert value["comment"], name


def test_every_translation_key_in_the_code_is_translated() -> None:
    """Entity names, exception messages and services all have English text."""
    strings = _json("translations/en.json")
    code = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    entity_keys = re.findall(r'(?:translation_key="|_attr_translation_key = ")([a-z0-9_]+)"', code)
    for key in set(entity_keys):
        found = any(key in strings["entity"][platform] for platform in strings["entity"])
        assert found or key in strings["exceptions"], key
    for key in set(re.findall(r'(?<!_attr_)translation_key = "([a-z0-9_]+)"', code)):
        assert key in strings["exceptions"], key
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text())
    for service, spec in services.items():
        assert strings["services"][service]["name"]
        for field in spec.get("fields", {}):
            assert strings["services"][service]["fields"][field]["description"]
    icons = _json("icons.json")
    assert set(icons["services"]) == set(services)


def test_hacs_declares_the_minimum_version() -> None:
    """Config subentries need Home Assistant 2025.4."""
    assert json.loads((ROOT / "hacs.json").read_text())["homeassistant"] == "2025.4.0"
