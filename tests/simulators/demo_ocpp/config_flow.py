"""Set up the demo central system: one form, defaults as the real integration's."""

from __future__ import annotations

import re
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
import voluptuous as vol

from tests.simulators.fake_ocpp import DOMAIN, ChargePointModel, entry_data

CSID = "central"


class DemoOcppConfigFlow(ConfigFlow, domain=DOMAIN):
    """One central system with one charger (entry data as the real version 2.2 stores it)."""

    VERSION = 2
    MINOR_VERSION = 2

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the charger id and its connectors."""
        await self.async_set_unique_id(CSID)
        self._abort_if_unique_id_configured()
        errors: dict[str, str] = {}
        if user_input is not None and not re.fullmatch(r"[\da-z_]+", user_input["cpid"]):
            errors["cpid"] = "invalid_cpid"  # the real integration's rule for entity ids
        elif user_input is not None:
            model = ChargePointModel(
                cpid=user_input["cpid"], num_connectors=user_input["num_connectors"]
            )
            return self.async_create_entry(title=CSID, data=entry_data([model], csid=CSID))
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("cpid", default="charger"): str,
                    vol.Required("num_connectors", default=1): vol.In([1, 2]),
                }
            ),
            errors=errors,
        )
