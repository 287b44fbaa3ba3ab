"""The config flow: a menu of backends and site features, then each one's own steps.

Each backend or feature brings its steps as a mixin (``async_step_<key>``; where it
applies ``async_step_reconfigure_<key>`` and ``async_step_reauth_<key>``), and may
register an options flow or subentry types below under its key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback

from .backends.ampeco.flow import AmpecoFlowMixin
from .backends.enovates.flow import EnovatesFlowMixin
from .backends.enphase.flow import EnphaseFlowMixin, enphase_options_flow
from .backends.ocpp_proxy.flow import OcppProxyFlowMixin
from .backends.registry import BACKENDS
from .balancer.flow import BalancerFlowMixin, options_flow as balancer_options_flow
from .const import CONF_BACKEND, CONF_FEATURE, DOMAIN
from .feature_registry import FEATURES
from .sessions.flow import SUBENTRY_FLOWS, SessionsFlowMixin, options_flow as sessions_options_flow

OPTIONS_FLOWS: dict[str, Callable[[ConfigEntry[Any]], OptionsFlow]] = {}
OPTIONS_FLOWS["enphase"] = enphase_options_flow
SUBENTRY_TYPES: dict[str, dict[str, type[ConfigSubentryFlow]]] = {}
OPTIONS_FLOWS["sessions"] = sessions_options_flow
SUBENTRY_TYPES["sessions"] = SUBENTRY_FLOWS
OPTIONS_FLOWS["load_balancer"] = balancer_options_flow


def _kind(entry: ConfigEntry[Any]) -> str:
    """The backend or feature key of an entry."""
    return str(entry.data.get(CONF_BACKEND) or entry.data.get(CONF_FEATURE))


class EvChargingConfigFlow(
    EnovatesFlowMixin,
    EnphaseFlowMixin,
    AmpecoFlowMixin,
    OcppProxyFlowMixin,
    SessionsFlowMixin,
    BalancerFlowMixin,
    domain=DOMAIN,
):
    """Add a charger (pick its backend) or a site feature."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the implemented backends and the site features."""
        return self.async_show_menu(step_id="user", menu_options=[*BACKENDS, *FEATURES])

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hand over to the backend's or feature's reconfigure step."""
        step = getattr(self, f"async_step_reconfigure_{_kind(self._get_reconfigure_entry())}")
        result: ConfigFlowResult = await step()
        return result

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Hand over to the backend's reauth step (only cloud backends have credentials)."""
        step = getattr(self, f"async_step_reauth_{_kind(self._get_reauth_entry())}")
        result: ConfigFlowResult = await step(entry_data)
        return result

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> OptionsFlow:
        """The options of a backend or feature that has some."""
        return OPTIONS_FLOWS[_kind(config_entry)](config_entry)

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry[Any]) -> bool:
        """Only entries whose backend or feature has options show the button."""
        return _kind(config_entry) in OPTIONS_FLOWS

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry[Any]
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Subentries (users, vehicles, cards...) of the features that have them."""
        return SUBENTRY_TYPES.get(_kind(config_entry), {})
