"""The load balancer's steps in the config flow, its reconfigure flow and its options flow.

The three share the same forms (``schema``): the site, the meter and limits, the
behaviour, the chargers, then one form per charger. The config flow creates the entry
(one per site), reconfigure replaces its data (and resets the options), the options
flow stores everything in the options, applied without a reload unless the chargers
or the phases changed.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntryBaseFlow,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant

from ..const import CONF_BACKEND, CONF_FEATURE, DOMAIN
from ..models import ChargerInfo
from .const import CONF_CHARGERS, FEATURE_LOAD_BALANCER, TITLE, UNIQUE_ID
from .schema import (
    behaviour_schema,
    charger_defaults,
    charger_schema,
    charger_values,
    chargers_schema,
    check_behaviour,
    check_charger,
    check_meter,
    meter_schema,
    meter_values,
    site_schema,
    site_values,
)
from .settings import BalancerSettings, ChargerSettings


def charger_infos(hass: HomeAssistant) -> dict[str, ChargerInfo]:
    """The charge ports of the loaded charger entries."""
    infos: dict[str, ChargerInfo] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if CONF_BACKEND in entry.data and entry.state is ConfigEntryState.LOADED:
            infos.update(entry.runtime_data.coordinator.chargers)
    return infos


def charger_choices(hass: HomeAssistant, previous: BalancerSettings) -> dict[str, str]:
    """Charger id -> label: the loaded ports, and the balanced ones that are not loaded."""
    choices = {cid: info.name for cid, info in charger_infos(hass).items()}
    for charger_id in previous.charger_ids:
        choices.setdefault(charger_id, charger_id)
    return choices


class BalancerSteps(ConfigEntryBaseFlow):
    """The forms shared by the config, reconfigure and options flows."""

    _lb_previous: BalancerSettings = BalancerSettings()  # what the forms start from
    _lb_values: dict[str, Any]
    _lb_queue: list[str]
    _lb_chargers: list[ChargerSettings]

    @property
    def _lb_settings(self) -> BalancerSettings:
        return BalancerSettings.from_mapping(self._lb_values)

    async def _lb_finish(self, settings: BalancerSettings) -> ConfigFlowResult:
        raise NotImplementedError

    async def _lb_site(self, step_id: str, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        if user_input is not None:
            self._lb_values = self._lb_previous.to_dict() | site_values(user_input)
            return await self.async_step_load_balancer_meter()
        return self.async_show_form(step_id=step_id, data_schema=site_schema(self._lb_previous))

    async def async_step_load_balancer_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The meter entities, the limits, the margin, the power cap and the voltage."""
        settings = self._lb_settings
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = check_meter(self.hass, settings, user_input)
            if not errors:
                self._lb_values |= meter_values(settings, user_input)
                return await self.async_step_load_balancer_behaviour()
        schema = self.add_suggested_values_to_schema(
            meter_schema(settings, self._lb_previous), user_input
        )
        return self.async_show_form(
            step_id="load_balancer_meter", data_schema=schema, errors=errors
        )

    async def async_step_load_balancer_behaviour(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The fallback and the timers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = check_behaviour(user_input)
            if not errors:
                self._lb_values |= user_input
                return await self.async_step_load_balancer_chargers()
        schema = self.add_suggested_values_to_schema(
            behaviour_schema(self._lb_previous), user_input
        )
        return self.async_show_form(
            step_id="load_balancer_behaviour", data_schema=schema, errors=errors
        )

    async def async_step_load_balancer_chargers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which charge ports to balance."""
        choices = charger_choices(self.hass, self._lb_previous)
        errors: dict[str, str] = {}
        if user_input is not None:
            picked = [cid for cid in user_input[CONF_CHARGERS] if cid in choices]
            if picked:
                self._lb_queue, self._lb_chargers = picked, []
                return await self.async_step_load_balancer_charger()
            errors[CONF_CHARGERS] = "no_charger_selected"
        return self.async_show_form(
            step_id="load_balancer_chargers",
            data_schema=chargers_schema(choices, self._lb_previous.charger_ids),
            errors=errors,
        )

    async def async_step_load_balancer_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Priority, weight, wiring and mode of the next picked charger."""
        charger_id = self._lb_queue[0]
        info = charger_infos(self.hass).get(charger_id)
        site_phases = self._lb_settings.phases
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = check_charger(user_input, info)
            if not errors:
                self._lb_chargers.append(charger_values(charger_id, user_input))
                self._lb_queue.pop(0)
                if self._lb_queue:
                    return await self.async_step_load_balancer_charger()
                self._lb_values[CONF_CHARGERS] = [c.to_dict() for c in self._lb_chargers]
                return await self._lb_finish(self._lb_settings)
        defaults = charger_defaults(charger_id, info, self._lb_previous, site_phases)
        schema = self.add_suggested_values_to_schema(
            charger_schema(defaults, site_phases), user_input
        )
        return self.async_show_form(
            step_id="load_balancer_charger",
            data_schema=schema,
            errors=errors,
            description_placeholders={"charger": info.name if info else charger_id},
        )


class BalancerFlowMixin(BalancerSteps, ConfigFlow):
    """The balancer's steps of the integration's config flow."""

    _lb_reconfiguring = False

    async def async_step_load_balancer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One balancer per site; it needs at least one charger."""
        if user_input is None:
            await self.async_set_unique_id(UNIQUE_ID, raise_on_progress=False)
            self._abort_if_unique_id_configured(error="balancer_already_configured")
            if not charger_infos(self.hass):
                return self.async_abort(reason="balancer_no_chargers")
        return await self._lb_site("load_balancer", user_input)

    async def async_step_reconfigure_load_balancer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The same forms, pre-filled with what the entry uses now."""
        if user_input is None:
            self._lb_reconfiguring = True
            self._lb_previous = BalancerSettings.from_entry(self._get_reconfigure_entry())
        return await self._lb_site("reconfigure_load_balancer", user_input)

    async def _lb_finish(self, settings: BalancerSettings) -> ConfigFlowResult:
        data = {CONF_FEATURE: FEATURE_LOAD_BALANCER, **settings.to_dict()}
        if self._lb_reconfiguring:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(),
                data=data,
                options={},
                reason="balancer_reconfigured",
            )
        return self.async_create_entry(title=TITLE, data=data)


class BalancerOptionsFlow(BalancerSteps, OptionsFlow):
    """Everything of the config flow, changed at runtime."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Step ids are prefixed: the options flows of the integration share translations."""
        return await self.async_step_load_balancer_site()

    async def async_step_load_balancer_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Phases and what the meter measures."""
        if user_input is None:
            self._lb_previous = BalancerSettings.from_entry(self.config_entry)
        return await self._lb_site("load_balancer_site", user_input)

    async def _lb_finish(self, settings: BalancerSettings) -> ConfigFlowResult:
        return self.async_create_entry(data=settings.to_dict())


def options_flow(_: Any) -> OptionsFlow:
    """The options flow of the balancer entry (registered in ``config_flow.OPTIONS_FLOWS``)."""
    return BalancerOptionsFlow()
