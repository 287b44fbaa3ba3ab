"""How an AMPECO config entry builds its client and backend, and keeps its tokens.

The entry stores the tokens, never the password: Passport rotates the refresh
token on every use, so each new pair is written back into ``entry.data`` at once
(a restart then resumes with the newest pair instead of a password grant). When
the refresh token is refused, or a pasted token expires, the coordinator's
``ConfigEntryAuthFailed`` opens the reauth flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ..base import Backend
from .api import AmpecoClient
from .auth import AmpecoAuthError, AmpecoTokens, OAuthClient
from .backend import AmpecoBackend

KEY: Final = "ampeco"

CONF_AUTH_METHOD: Final = "auth_method"
CONF_TOKENS: Final = "tokens"
CONF_ACCOUNT_ID: Final = "account_id"
CONF_CHARGE_POINT_IDS: Final = "charge_point_ids"

AUTH_PASSWORD: Final = "password"
AUTH_TOKEN: Final = "token"
DEFAULT_CLIENT_ID: Final = "1"


def _clock() -> float:
    """Seconds since the epoch from Home Assistant's clock (token expiry, back-off)."""
    return dt_util.utcnow().timestamp()


def client_for(
    hass: HomeAssistant,
    host: str,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    tokens: AmpecoTokens | None = None,
) -> AmpecoClient:
    """A client on Home Assistant's shared HTTP session."""
    return AmpecoClient(
        async_get_clientsession(hass),
        host,
        oauth_client=OAuthClient(client_id or DEFAULT_CLIENT_ID, client_secret or ""),
        tokens=tokens,
        clock=_clock,
    )


def stored_tokens(data: Mapping[str, Any]) -> AmpecoTokens | None:
    """The tokens of an entry (``None`` when unreadable: the first call asks for reauth)."""
    try:
        return AmpecoTokens.from_dict(data.get(CONF_TOKENS) or {})
    except AmpecoAuthError:
        return None


def create_backend(hass: HomeAssistant, entry: ConfigEntry[Any]) -> Backend:
    """The backend of an entry being set up, persisting every renewed token pair."""
    data = entry.data
    client = client_for(
        hass,
        data[CONF_HOST],
        client_id=data.get(CONF_CLIENT_ID),
        client_secret=data.get(CONF_CLIENT_SECRET),
        tokens=stored_tokens(data),
    )
    client.on_tokens = lambda tokens: _persist_tokens(hass, entry, tokens)
    return AmpecoBackend(
        client,
        data[CONF_CHARGE_POINT_IDS],
        time_zone=dt_util.get_default_time_zone(),
        utcnow=dt_util.utcnow,
    )


@callback
def _persist_tokens(hass: HomeAssistant, entry: ConfigEntry[Any], tokens: AmpecoTokens) -> None:
    """Write a renewed pair into the entry (the client calls this in the event loop)."""
    if hass.config_entries.async_get_entry(entry.entry_id) is not entry:
        return  # removed meanwhile
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_TOKENS: tokens.as_dict()}
    )
