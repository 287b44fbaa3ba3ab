"""Config flow steps for the ENO one: host, port, dual port, EMS control."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)
import voluptuous as vol

from ...const import CONF_BACKEND, CONF_DUAL_PORT, CONF_EMS_CONTROL, LOGGER
from ..base import BackendConnectionError, BackendError
from . import registers as reg
from .client import DEFAULT_PORT, EnovatesClient, ModbusExceptionResponse

PROBE_TIMEOUT = 3.0


def _schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): TextSelector(),
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): vol.All(
                NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)),
                vol.Coerce(int),
            ),
            vol.Required(CONF_DUAL_PORT, default=defaults.get(CONF_DUAL_PORT, False)): (
                BooleanSelector()
            ),
            vol.Required(CONF_EMS_CONTROL, default=defaults.get(CONF_EMS_CONTROL, False)): (
                BooleanSelector()
            ),
        }
    )


async def probe(user_input: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
    """Connect and identify the charger: (serial, errors by field)."""
    client = EnovatesClient(user_input[CONF_HOST], user_input[CONF_PORT], timeout=PROBE_TIMEOUT)
    try:
        version = reg.decode_api_version(await client.read(reg.API_VERSION))
        if not reg.api_supported(version):
            return None, {"base": "unsupported_firmware"}
        serial = reg.DiagnosticsBlock.decode(await client.read(reg.DIAGNOSTICS)).serial
        if user_input[CONF_EMS_CONTROL]:
            try:
                await client.read(reg.TRANSACTION_TOKEN)
            except ModbusExceptionResponse:
                return None, {CONF_EMS_CONTROL: "ems_control_disabled"}
        if user_input[CONF_DUAL_PORT]:
            try:
                await client.read(reg.STATE, unit=2)
            except ModbusExceptionResponse:
                return None, {CONF_DUAL_PORT: "no_second_port"}
    except BackendConnectionError:
        return None, {CONF_HOST: "cannot_connect"}
    except BackendError:
        LOGGER.exception("Unexpected answer from %s", user_input[CONF_HOST])
        return None, {"base": "unknown"}
    finally:
        await client.close()
    if not serial:
        return None, {"base": "unknown"}
    return serial, {}


class EnovatesFlowMixin(ConfigFlow):
    """The ENO one's steps of the integration's config flow."""

    async def async_step_enovates(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the charger is and how it is set up."""
        errors: dict[str, str] = {}
        if user_input is not None:
            serial, errors = await probe(user_input)
            if serial is not None:
                await self.async_set_unique_id(serial)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"ENO one ({user_input[CONF_HOST]})",
                    data={CONF_BACKEND: "enovates", **user_input},
                )
        return self.async_show_form(
            step_id="enovates",
            data_schema=self.add_suggested_values_to_schema(_schema({}), user_input),
            errors=errors,
        )

    async def async_step_reconfigure_enovates(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address or the set-up of the same charger."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            serial, errors = await probe(user_input)
            if serial is not None:
                await self.async_set_unique_id(serial)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry,
                    title=f"ENO one ({user_input[CONF_HOST]})",
                    data_updates=user_input,
                )
        return self.async_show_form(
            step_id="reconfigure_enovates",
            data_schema=_schema(user_input or entry.data),
            errors=errors,
        )
