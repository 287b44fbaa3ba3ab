"""Fixed values of the Enlighten cloud API: hosts, paths, headers, timings."""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://enlighten.enphaseenergy.com"
DEFAULT_ENTREZ_URL: Final = "https://entrez.enphaseenergy.com"
DEFAULT_TIMEOUT_S: Final = 15.0

# Paths below the Enlighten base (``{site}``/``{sn}`` filled by the client).
PATH_LOGIN: Final = "/login/login.json"
PATH_MFA_VALIDATE: Final = "/app-api/validate_login_otp"
PATH_MFA_GENERATE: Final = "/app-api/generate_mfa_login_otp"
PATH_SITES: Final = "/app-api/search_sites.json"
PATH_STATUS: Final = "/service/evse_controller/{site}/ev_chargers/status"
PATH_SUMMARY: Final = "/service/evse_controller/api/v2/{site}/ev_chargers/summary"
PATH_START: Final = "/service/evse_controller/{site}/ev_chargers/{sn}/start_charging"
PATH_STOP: Final = "/service/evse_controller/{site}/ev_chargers/{sn}/stop_charging"
# The singular ``ev_charger`` is what the cloud uses for this one route.
PATH_TRIGGER: Final = "/service/evse_controller/{site}/ev_charger/{sn}/trigger_message"
PATH_STREAM_START: Final = "/service/evse_controller/{site}/ev_chargers/start_live_stream"
PATH_STREAM_STOP: Final = "/service/evse_controller/{site}/ev_chargers/stop_live_stream"
PATH_MODE: Final = "/service/evse_scheduler/api/v1/iqevc/charging-mode/{site}/{sn}/preference"
PATH_SESSIONS: Final = "/service/enho_historical_events_ms/{site}/sessions/{sn}/history"
# Below the Entrez base.
PATH_TOKENS: Final = "/tokens"

USER_AGENT: Final = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
ACCEPT_ANY: Final = "*/*"
ACCEPT_JSON: Final = "application/json, text/plain, */*"
ACCEPT_JSON_JS: Final = "application/json, text/javascript, */*; q=0.01"

SESSION_COOKIES: Final = ("_enlighten_4_session", "enlighten_session", "_enlighten_session")
MANAGER_TOKEN_COOKIE: Final = "enlighten_manager_token_production"
XSRF_COOKIES: Final = ("xsrf-token", "bp-xsrf-token")  # matched case-insensitively
OTP_NONCE_COOKIE: Final = "login_otp_nonce"

# Renew the Entrez token this long before its ``exp``.
TOKEN_RENEW_MARGIN_S: Final = 300.0
# The cloud sends a new code at most this often (the web app enforces the same).
MFA_RESEND_WAIT_S: Final = 30.0
# Silent re-logins: at most one per window; a rejected one pauses them, and
# repeated rejections pause them for a day (the cloud locks accounts that insist).
RELOGIN_WINDOW_S: Final = 300.0
RELOGIN_REJECTED_PAUSE_S: Final = 300.0
RELOGIN_REJECTIONS_BEFORE_LONG_PAUSE: Final = 3
RELOGIN_LONG_PAUSE_S: Final = 86400.0
# "Too many active sessions": logging in again only makes it worse.
TOO_MANY_SESSIONS_PAUSE_S: Final = 3600.0
# Exponential back-off after 429 / 5xx: base x 2^(n-1), capped.
BACKOFF_BASE_S: Final = 60.0
BACKOFF_CAP_S: Final = 900.0
# Concurrent requests per client (the web app keeps to two).
MAX_CONCURRENT_REQUESTS: Final = 2

TRIGGER_MESSAGES: Final = frozenset(
    {
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    }
)
