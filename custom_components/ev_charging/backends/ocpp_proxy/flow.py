"""Config flow steps for a charger of the ``ocpp`` integration.

The ``ocpp`` integration is the OCPP central system; here the user picks one of its
chargers (and a connector on multi-connector chargers) and how current limits are
sent.  Nothing is asked about the network: the charger is reached through the
``ocpp`` integration's entities and actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from ...const import CONF_BACKEND, DOMAIN
from .backend import LIMIT_MODE_PROFILE, LIMIT_MODES, OcppProxyBackend
from .discovery import (
    REASON_MISSING_ENTITIES,
    OcppChargerChoice,
    OcppDiscoveryError,
    async_list_ocpp_chargers,
)
from .entry import (
    CONF_CONNECTOR,
    CONF_CPID,
    CONF_LIMIT_MODE,
    CONF_OCPP_DEVICE_ID,
    charger_unique_id,
)

KEY: Final = OcppProxyBackend.key
CONF_CHARGER: Final = "charger"  # form field: the cpid of the picked charger
REASON_CHARGER_GONE: Final = "ocpp_charger_gone"
LIMIT_MODE_SELECTOR: Final = "ocpp_limit_mode"  # selector.<key>.options in the translations


def _limit_mode_selector() -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=list(LIMIT_MODES),
            translation_key=LIMIT_MODE_SELECTOR,
            mode=SelectSelectorMode.LIST,
        )
    )


def _connector_selector(connectors: Iterable[int]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=[str(n) for n in connectors], mode=SelectSelectorMode.DROPDOWN)
    )


def _label(choice: OcppChargerChoice) -> str:
    kind = " ".join(part for part in (choice.manufacturer, choice.model) if part)
    return f"{choice.name} ({kind})" if kind else choice.name


def _missing(choices: Iterable[OcppChargerChoice]) -> str:
    """The charger names and the entity keys each one lacks, for the messages."""
    lines = []
    for choice in choices:
        keys = sorted(
            {role.split(".", 1)[1] for roles in choice.missing.values() for role in roles}
        )
        lines.append(f"{choice.name}: {', '.join(keys)}")
    return "; ".join(lines)


def _all_connectors(choice: OcppChargerChoice) -> tuple[int, ...]:
    return tuple(sorted({*choice.connectors, *choice.missing}))


def _title(choice: OcppChargerChoice, connector: int) -> str:
    if len(_all_connectors(choice)) > 1:
        return f"{choice.name} connector {connector} (OCPP)"
    return f"{choice.name} (OCPP)"


class OcppProxyFlowMixin(ConfigFlow):
    """The steps that add or reconfigure a charger of the ``ocpp`` integration."""

    _ocpp_choice: OcppChargerChoice | None = None
    _ocpp_limit_mode: str = LIMIT_MODE_PROFILE

    def _ocpp_configured(self, exclude: ConfigEntry[Any] | None = None) -> set[str]:
        """Unique ids of this backend's entries (but ``exclude``)."""
        return {
            entry.unique_id
            for entry in self._async_current_entries(include_ignore=False)
            if entry.data.get(CONF_BACKEND) == KEY
            and entry.unique_id is not None
            and entry is not exclude
        }

    async def async_step_ocpp_proxy(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a charger of the ``ocpp`` integration and the limit mode."""
        try:
            choices = await async_list_ocpp_chargers(self.hass)
        except OcppDiscoveryError as err:
            return self.async_abort(reason=err.reason)
        if all(choice.reason is not None for choice in choices):
            return self.async_abort(
                reason=REASON_MISSING_ENTITIES,
                description_placeholders={"missing": _missing(choices)},
            )
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            choice = next((c for c in choices if c.cpid == user_input[CONF_CHARGER]), None)
            if choice is None:
                # Removed from the ocpp integration while the form was open.
                errors[CONF_CHARGER] = REASON_CHARGER_GONE
                placeholders["charger"] = user_input[CONF_CHARGER]
            elif choice.reason is not None:
                errors[CONF_CHARGER] = REASON_MISSING_ENTITIES
                placeholders["missing"] = _missing([choice])
            else:
                self._ocpp_choice = choice
                self._ocpp_limit_mode = user_input[CONF_LIMIT_MODE]
                if len(choice.connectors) > 1:
                    return await self.async_step_ocpp_proxy_connector()
                return await self._ocpp_create(choice.connectors[0])
        schema = vol.Schema(
            {
                vol.Required(CONF_CHARGER): SelectSelector(
                    SelectSelectorConfig(
                        options=[SelectOptionDict(value=c.cpid, label=_label(c)) for c in choices],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_LIMIT_MODE, default=LIMIT_MODE_PROFILE): (_limit_mode_selector()),
            }
        )
        return self.async_show_form(
            step_id="ocpp_proxy",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_ocpp_proxy_connector(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the connector of a multi-connector charger (those not added yet)."""
        choice = self._ocpp_choice
        assert choice is not None
        if user_input is not None:
            return await self._ocpp_create(int(user_input[CONF_CONNECTOR]))
        configured = self._ocpp_configured()
        free = [n for n in choice.connectors if charger_unique_id(choice.cpid, n) not in configured]
        if not free:
            return self.async_abort(reason="already_configured")
        return self.async_show_form(
            step_id="ocpp_proxy_connector",
            data_schema=vol.Schema({vol.Required(CONF_CONNECTOR): _connector_selector(free)}),
            description_placeholders={"charger": choice.name},
        )

    async def _ocpp_create(self, connector: int) -> ConfigFlowResult:
        choice = self._ocpp_choice
        assert choice is not None
        await self.async_set_unique_id(charger_unique_id(choice.cpid, connector))
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=_title(choice, connector),
            data={
                CONF_BACKEND: KEY,
                CONF_OCPP_DEVICE_ID: choice.device_id,
                CONF_CPID: choice.cpid,
                CONF_CONNECTOR: connector,
                CONF_LIMIT_MODE: self._ocpp_limit_mode,
            },
        )

    async def async_step_reconfigure_ocpp_proxy(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the limit mode, or the connector of a multi-connector charger."""
        entry = self._get_reconfigure_entry()
        try:
            choices = await async_list_ocpp_chargers(self.hass)
        except OcppDiscoveryError as err:
            return self.async_abort(reason=err.reason)
        cpid = entry.data[CONF_CPID]
        choice = next((c for c in choices if c.cpid == cpid), None)
        if choice is None:
            return self.async_abort(
                reason=REASON_CHARGER_GONE, description_placeholders={"charger": cpid}
            )
        current: int = entry.data[CONF_CONNECTOR]
        if user_input is not None:
            connector = int(user_input.get(CONF_CONNECTOR, current))
            if connector != current:
                self._ocpp_forget_device(entry, charger_unique_id(cpid, current))
            return self.async_update_reload_and_abort(
                entry,
                unique_id=charger_unique_id(cpid, connector),
                title=_title(choice, connector),
                data_updates={
                    CONF_OCPP_DEVICE_ID: choice.device_id,
                    CONF_CONNECTOR: connector,
                    CONF_LIMIT_MODE: user_input[CONF_LIMIT_MODE],
                },
            )
        taken = self._ocpp_configured(exclude=entry)
        connectors = [
            n for n in choice.connectors if n == current or charger_unique_id(cpid, n) not in taken
        ]
        fields: dict[Any, Any] = {}
        if len(connectors) > 1:
            fields[vol.Required(CONF_CONNECTOR, default=str(current))] = _connector_selector(
                connectors
            )
        fields[vol.Required(CONF_LIMIT_MODE)] = _limit_mode_selector()
        return self.async_show_form(
            step_id="reconfigure_ocpp_proxy",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(fields), {CONF_LIMIT_MODE: entry.data[CONF_LIMIT_MODE]}
            ),
            description_placeholders={"charger": choice.name},
        )

    def _ocpp_forget_device(self, entry: ConfigEntry[Any], charger_id: str) -> None:
        """Another connector is another charge port: its old device and entities go."""
        devices = dr.async_get(self.hass)
        device = devices.async_get_device(identifiers={(DOMAIN, charger_id)})
        if device is not None:
            devices.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
