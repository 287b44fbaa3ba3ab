"""What an Enphase config entry holds, and the client and options built from it.

Entry data: ``email``, ``password`` (only when the account logs in without a
one-time code, for the client's one silent re-login on a 401), ``site_id``,
``site_name``, ``serials``, ``auth_state`` (:meth:`.auth.AuthState.as_dict`, so a
restart needs no new login) and, for a test server only, ``url``. Options: the two
poll intervals, the request timeout and the nominal voltage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import aiohttp
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_create_clientsession
from homeassistant.util import dt as dt_util

from .api import EnphaseClient
from .auth import AuthState
from .backend import MIN_FAST_INTERVAL_S, MIN_SLOW_INTERVAL_S, EnphaseOptions
from .const import DEFAULT_BASE_URL, DEFAULT_ENTREZ_URL, DEFAULT_TIMEOUT_S

KEY: Final = "enphase"

CONF_SITE_ID: Final = "site_id"
CONF_SITE_NAME: Final = "site_name"
CONF_SERIALS: Final = "serials"
CONF_AUTH_STATE: Final = "auth_state"

OPT_FAST_INTERVAL: Final = "fast_interval"
OPT_SLOW_INTERVAL: Final = "slow_interval"
OPT_TIMEOUT: Final = "timeout"
OPT_NOMINAL_VOLTAGE: Final = "nominal_voltage"

MAX_INTERVAL_S: Final = 3600
MIN_TIMEOUT_S: Final = 5
MAX_TIMEOUT_S: Final = 120
DEFAULT_VOLTAGE: Final = 230
MIN_VOLTAGE: Final = 100
MAX_VOLTAGE: Final = 480

DEFAULT_OPTIONS: Final[Mapping[str, float]] = {
    OPT_FAST_INTERVAL: MIN_FAST_INTERVAL_S,
    OPT_SLOW_INTERVAL: MIN_SLOW_INTERVAL_S,
    OPT_TIMEOUT: DEFAULT_TIMEOUT_S,
    OPT_NOMINAL_VOLTAGE: DEFAULT_VOLTAGE,
}


def entrez_url(base_url: str) -> str:
    """The Entrez base: the vendor's own host, or ``/entrez`` below a test server."""
    base = base_url.rstrip("/")
    return DEFAULT_ENTREZ_URL if base == DEFAULT_BASE_URL else f"{base}/entrez"


def options_of(options: Mapping[str, Any]) -> dict[str, float]:
    """The entry's options, with the defaults for the ones never set."""
    return {key: float(options.get(key, default)) for key, default in DEFAULT_OPTIONS.items()}


def backend_options(options: Mapping[str, Any]) -> EnphaseOptions:
    """The backend's tunables from the entry options."""
    values = options_of(options)
    return EnphaseOptions(
        fast_interval_s=values[OPT_FAST_INTERVAL],
        slow_interval_s=values[OPT_SLOW_INTERVAL],
        nominal_voltage=values[OPT_NOMINAL_VOLTAGE],
    )


def client_clock() -> float:
    """Epoch seconds from Home Assistant's clock (tests move it with the frozen time)."""
    return dt_util.utcnow().timestamp()


def new_session(hass: HomeAssistant, *, auto_cleanup: bool) -> aiohttp.ClientSession:
    """A session with a cookie jar of its own: the Enlighten login lives in its cookies.

    ``unsafe`` keeps cookies of hosts given as an IP address (a test server).
    """
    return async_create_clientsession(
        hass, auto_cleanup=auto_cleanup, cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


def new_client(
    session: aiohttp.ClientSession,
    data: Mapping[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    clock: Callable[[], float] = client_clock,
) -> EnphaseClient:
    """A client for the account in ``data`` (entry data or flow input)."""
    base = str(data.get(CONF_URL) or DEFAULT_BASE_URL)
    auth = data.get(CONF_AUTH_STATE)
    return EnphaseClient(
        session,
        str(data[CONF_EMAIL]),
        data.get(CONF_PASSWORD) or None,
        base_url=base,
        entrez_url=entrez_url(base),
        timeout=timeout,
        auth_state=AuthState.from_dict(auth) if isinstance(auth, Mapping) else None,
        clock=clock,
    )


def unique_id(email: str, site_id: str) -> str:
    """One entry per account and site."""
    return f"{email.strip().casefold()}_{site_id}"
