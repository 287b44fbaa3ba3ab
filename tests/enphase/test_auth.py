"""Login, MFA, Entrez tokens and silent re-login against the fake cloud."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from custom_components.ev_charging.backends.base import (
    BackendAuthError,
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendInvalidDataError,
)
from custom_components.ev_charging.backends.enphase import (
    AuthState,
    EnphaseCloudUnavailableError,
    EnphaseMfaRequiredError,
    EnphaseMfaResendWaitError,
    EnphaseOtpBlockedError,
    EnphaseOtpInvalidError,
    EnphaseTooManySessionsError,
    LoginResult,
)
from custom_components.ev_charging.backends.enphase.auth import jwt_claims
from custom_components.ev_charging.backends.enphase.data import ChargeMode

from . import harness

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_login_ok_gives_session_token_and_sites() -> None:
    async with harness() as h:
        assert await h.client.async_login() is LoginResult.OK
        state = h.client.auth_state
        assert state.session_id is not None
        assert state.token is not None
        assert state.token_expires_at == h.cloud.now + h.cloud.token_ttl
        assert jwt_claims(state.token)["user_id"] == h.cloud.user_id
        assert state.cookies is not None
        assert "_enlighten_4_session" in state.cookies
        sites = await h.client.async_get_sites()
        assert [(s.site_id, s.name) for s in sites] == [
            ("3381904", "Maple Street Home"),
            ("3381999", "Holiday Cottage"),
        ]
        chargers = await h.client.async_get_chargers(sites[0].site_id)
        assert [c.serial for c in chargers] == ["482501234567"]
        assert h.cloud.requests["login"] == 1
        assert h.cloud.requests["tokens"] == 1


async def test_wrong_password_is_an_auth_error() -> None:
    async with harness(password="wrong") as h:
        with pytest.raises(BackendAuthError):
            await h.client.async_login()
        assert not h.client.authenticated


async def test_blocked_account_is_an_auth_error() -> None:
    async with harness() as h:
        h.cloud.block_account(True)
        with pytest.raises(BackendAuthError, match="blocked"):
            await h.client.async_login()


async def test_too_many_sessions_is_distinct_and_pauses_silent_logins() -> None:
    async with harness() as h:
        assert await h.client.async_login() is LoginResult.OK
        h.cloud.too_many_sessions(True)
        h.cloud.expire_tokens()
        with pytest.raises(EnphaseTooManySessionsError) as caught:
            await h.client.async_get_status(h.cloud.site_id)
        assert caught.value.retry_at == h.cloud.now + 3600
        assert h.client.health.auto_login_paused_until == h.cloud.now + 3600
        logins = h.cloud.requests["login"]
        # While paused, a 401 does not log in again.
        with pytest.raises(EnphaseTooManySessionsError):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == logins
        # An explicit login (the user, through the config flow) goes through.
        h.cloud.too_many_sessions(False)
        assert await h.client.async_login() is LoginResult.OK
        assert h.client.health.auto_login_paused_until is None


async def test_mfa_required_then_code_then_ok() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        assert await h.client.async_login() is LoginResult.MFA_REQUIRED
        assert h.client.mfa_pending
        assert h.cloud.otp_sent == 1  # the code goes out with the login
        await h.client.async_submit_mfa_code(" 123456 ")
        assert not h.client.mfa_pending
        assert h.client.authenticated
        assert h.client.auth_state.token is not None
        assert len(await h.client.async_get_sites()) == 2


async def test_mfa_wrong_code_then_blocked() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        await h.client.async_login()
        for _ in range(2):
            with pytest.raises(EnphaseOtpInvalidError):
                await h.client.async_submit_mfa_code("000000")
        with pytest.raises(EnphaseOtpBlockedError):
            await h.client.async_submit_mfa_code("000000")
        with pytest.raises(EnphaseOtpInvalidError):
            await h.client.async_submit_mfa_code("   ")
        assert not h.client.authenticated


async def test_mfa_resend_waits_30_s_and_rotates_the_nonce() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        await h.client.async_login()
        with pytest.raises(EnphaseMfaResendWaitError) as caught:
            await h.client.async_resend_mfa_code()
        assert caught.value.reason == "resend_wait"
        assert caught.value.user_error
        assert caught.value.wait_s == pytest.approx(30)
        assert h.cloud.otp_sent == 1
        h.cloud.advance(31)
        await h.client.async_resend_mfa_code()
        assert h.cloud.otp_sent == 2
        # The code still works with the rotated nonce cookie.
        await h.client.async_submit_mfa_code(h.cloud.otp_code)
        assert h.client.authenticated


async def test_mfa_resend_blocked_after_too_many_wrong_codes() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        await h.client.async_login()
        h.cloud.max_otp_attempts = 1
        with pytest.raises(EnphaseOtpBlockedError):
            await h.client.async_submit_mfa_code("999999")
        h.cloud.advance(31)
        with pytest.raises(EnphaseOtpBlockedError):
            await h.client.async_resend_mfa_code()


@pytest.mark.parametrize(
    ("status", "error"), [(429, EnphaseOtpBlockedError), (401, BackendAuthError)]
)
async def test_mfa_resend_http_errors(status: int, error: type[Exception]) -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        await h.client.async_login()
        h.cloud.advance(31)
        h.cloud.fail_next("generate_mfa_login_otp", status)
        with pytest.raises(error):
            await h.client.async_resend_mfa_code()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, EnphaseOtpBlockedError),
        (403, BackendAuthError),
        (422, EnphaseOtpInvalidError),
        (503, EnphaseCloudUnavailableError),
    ],
)
async def test_mfa_validate_http_errors(status: int, error: type[Exception]) -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        await h.client.async_login()
        h.cloud.fail_next("validate_login_otp", status)
        with pytest.raises(error):
            await h.client.async_submit_mfa_code("123456")


async def test_mfa_calls_without_a_pending_login_are_refused() -> None:
    async with harness() as h:
        with pytest.raises(BackendAuthError):
            await h.client.async_submit_mfa_code("123456")
        with pytest.raises(BackendAuthError):
            await h.client.async_resend_mfa_code()
        assert sum(h.cloud.requests.values()) == 0


async def test_ensure_login_with_mfa_or_without_password() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        with pytest.raises(EnphaseMfaRequiredError):
            await h.client.async_ensure_login()
        no_password = h.new_client()
        with pytest.raises(BackendAuthError):
            await no_password.async_ensure_login()
        with pytest.raises(BackendAuthError):
            await no_password.async_login()


async def test_login_server_errors() -> None:
    async with harness() as h:
        h.cloud.fail_next("/login/login.json", 503)
        with pytest.raises(EnphaseCloudUnavailableError):
            await h.client.async_login()
        assert h.client.backoff_until == h.cloud.now + 60
        h.cloud.advance(60)
        h.cloud.fail_next("/login/login.json", 406)
        with pytest.raises(BackendConnectionError, match="406"):
            await h.client.async_login()


async def test_login_reply_not_json_is_service_unavailable() -> None:
    async with harness() as h:
        h.cloud.fail_next("/login/login.json", 200)  # an empty 200, not JSON
        with pytest.raises(EnphaseCloudUnavailableError, match="not JSON"):
            await h.client.async_login()


async def test_entrez_failure_leaves_cookie_only_mode() -> None:
    async with harness() as h:
        h.cloud.fail_next("/entrez/tokens", 503)
        assert await h.client.async_login() is LoginResult.OK
        assert h.client.auth_state.token is None
        # Cookies and the manager bearer still carry the data and control calls.
        snapshot = await h.client.async_get_status(h.cloud.site_id)
        assert snapshot.chargers[0].serial == "482501234567"
        assert (await h.client.async_get_charge_mode(h.cloud.site_id, "482501234567")).current


async def test_entrez_refusal_fails_the_login() -> None:
    async with harness() as h:
        h.cloud.fail_next("/entrez/tokens", 401)
        with pytest.raises(BackendAuthError, match="token"):
            await h.client.async_login()


async def test_token_expiry_mid_run_is_renewed_silently() -> None:
    async with harness() as h:
        h.cloud.token_ttl = 600
        await h.client.async_login()
        first = h.client.auth_state.token
        h.cloud.advance(400)  # inside the 300 s renewal margin, still valid
        await h.client.async_get_status(h.cloud.site_id)
        assert h.client.auth_state.token != first
        assert h.cloud.requests["tokens"] == 2
        assert h.cloud.requests["login"] == 1
        h.cloud.advance(700)  # past the renewed token's expiry: renewed before the call
        await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["tokens"] == 3
        assert h.cloud.requests["login"] == 1
        assert h.cloud.requests["status"] == 2  # no 401 on the way


async def test_token_renewal_unreachable_keeps_a_valid_token() -> None:
    async with harness() as h:
        h.cloud.token_ttl = 600
        await h.client.async_login()
        token = h.client.auth_state.token
        h.cloud.advance(400)
        h.cloud.fail_next("/entrez/tokens", 503)
        await h.client.async_get_status(h.cloud.site_id)
        assert h.client.auth_state.token == token
        h.cloud.advance(300)  # expired now; renewal fails again: cookies only
        h.cloud.fail_next("/entrez/tokens", 503)
        await h.client.async_get_status(h.cloud.site_id)
        assert h.client.auth_state.token is None


async def test_token_renewal_refused_logs_in_again() -> None:
    async with harness() as h:
        h.cloud.token_ttl = 600
        await h.client.async_login()
        h.cloud.advance(400)
        h.cloud.expire_tokens()  # the session behind the token is gone too
        await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 2


async def test_token_renewal_refused_without_password_is_an_auth_error() -> None:
    async with harness() as h:
        h.cloud.token_ttl = 600
        await h.client.async_login()
        restored = h.new_client(auth_state=h.client.auth_state)
        h.cloud.advance(400)
        h.cloud.expire_tokens()
        with pytest.raises(BackendAuthError):
            await restored.async_get_status(h.cloud.site_id)


async def test_one_silent_relogin_on_401() -> None:
    async with harness() as h:
        await h.client.async_login()
        changes: list[AuthState] = []
        h.client.on_auth_changed = changes.append
        h.cloud.expire_tokens()
        snapshot = await h.client.async_get_status(h.cloud.site_id)
        assert snapshot.chargers
        assert h.cloud.requests["login"] == 2
        assert h.cloud.requests["status"] == 2  # the 401, then the retry
        assert len(changes) == 1
        assert changes[0].session_id == h.client.auth_state.session_id
        # A second 401 inside the re-login window is final: no login loop.
        h.cloud.advance(60)
        h.cloud.expire_tokens()
        with pytest.raises(BackendAuthError):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 2
        # After the window, one re-login again.
        h.cloud.advance(300)
        await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 3


async def test_401_again_after_the_relogin_is_final() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.fail_next("ev_chargers/status", 401, count=2)
        with pytest.raises(BackendAuthError, match="after re-login"):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 2
        assert h.cloud.requests["status"] == 2


async def test_401_without_password_is_an_auth_error() -> None:
    async with harness() as h:
        await h.client.async_login()
        restored = h.new_client(auth_state=h.client.auth_state)
        assert restored.authenticated
        assert not restored.has_password
        assert (await restored.async_get_status(h.cloud.site_id)).chargers
        h.cloud.expire_tokens()
        with pytest.raises(BackendAuthError):
            await restored.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 1


async def test_rejected_relogin_pauses_automatic_logins() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.password = "changed"
        h.cloud.expire_tokens()
        with pytest.raises(BackendAuthError):
            await h.client.async_get_status(h.cloud.site_id)
        h.cloud.advance(100)
        with pytest.raises(BackendAuthError, match="paused"):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 2


async def test_third_rejected_relogin_pauses_for_a_day() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.password = "changed"
        for _ in range(3):
            h.cloud.expire_tokens()
            with pytest.raises(BackendAuthError, match="invalid credentials"):
                await h.client.async_get_status(h.cloud.site_id)
            h.cloud.advance(301)
        assert h.client.health.auto_login_paused_until == h.cloud.now - 301 + 86400
        assert h.cloud.requests["login"] == 4
        # The user logs in again (reauth): the pause ends.
        h.cloud.password = "demo-password"
        await h.client.async_login()
        assert h.client.health.auto_login_paused_until is None


async def test_relogin_needing_mfa_is_an_mfa_error() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.mfa_required(True)
        h.cloud.expire_tokens()
        with pytest.raises(EnphaseMfaRequiredError):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.otp_sent == 0  # nobody waits for a code: none is e-mailed


async def test_html_login_wall_is_an_auth_failure() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.html_wall(True)
        with pytest.raises(BackendAuthError):
            await h.client.async_get_status(h.cloud.site_id)
        # One re-login was tried, then the wall again: no loop.
        assert h.cloud.requests["login"] == 2
        assert h.cloud.requests["status"] == 2
        assert h.client.health.last_error == "unauthorized after re-login"


async def test_forbidden_is_an_auth_error_without_relogin() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.fail_next("ev_chargers/status", 403)
        with pytest.raises(BackendAuthError, match="forbidden"):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.cloud.requests["login"] == 1


async def test_auth_state_round_trip() -> None:
    async with harness() as h:
        await h.client.async_login()
        saved = h.client.auth_state.as_dict()
        assert AuthState.from_dict(saved) == h.client.auth_state
        assert AuthState.from_dict({"cookies": "odd", "token_expires_at": "x"}) == AuthState()
        await h.session.close()
        # A fresh session (after a restart) carries on from the saved state.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as fresh:
            h.session = fresh
            restored = h.new_client(auth_state=AuthState.from_dict(saved))
            assert (await restored.async_get_status(h.cloud.site_id)).chargers
            assert h.cloud.requests["login"] == 1


async def test_command_rejected_error_shape_for_resend_wait() -> None:
    err = EnphaseMfaResendWaitError(12.4)
    assert isinstance(err, BackendCommandRejectedError)
    assert err.placeholders["reason"] == "resend_wait"


async def test_login_with_an_explicit_password() -> None:
    async with harness(password=None) as h:
        assert h.client.email == h.cloud.email
        assert not h.client.has_password
        assert await h.client.async_login("demo-password") is LoginResult.OK
        assert h.client.has_password


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        ('{"success": false}', BackendAuthError, "refused"),
        ("{}", BackendAuthError, "missing session"),
        ("[]", EnphaseCloudUnavailableError, "not JSON"),
    ],
)
async def test_odd_login_replies(body: str, error: type[Exception], match: str) -> None:
    async with harness() as h:
        h.cloud.fail_next("/login/login.json", 200, body=body)
        with pytest.raises(error, match=match):
            await h.client.async_login()


async def test_mfa_alternate_shape_needs_the_nonce_cookie() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        await h.client.async_login()  # leaves a nonce cookie behind
        h.cloud.fail_next("/login/login.json", 200, body='{"success": true, "isBlocked": false}')
        h.cloud.fail_next("/login/login.json", 200, body='{"success": true, "isBlocked": false}')
        # The login clears the old nonce first: without a fresh one it is a failure.
        with pytest.raises(BackendAuthError, match="missing session"):
            await h.client.async_login()


async def test_mfa_generate_refusal() -> None:
    async with harness() as h:
        h.cloud.mfa_required(True)
        h.cloud.fail_next("generate_mfa_login_otp", 200, body='{"success": false}')
        with pytest.raises(BackendAuthError, match="code refused"):
            await h.client.async_login()


async def test_entrez_unreachable_at_login_leaves_cookie_only_mode() -> None:
    async with harness(request_timeout=0.1) as h:
        h.cloud.stall_next("/entrez/tokens", 0.3)
        assert await h.client.async_login() is LoginResult.OK
        assert h.client.auth_state.token is None
        assert (await h.client.async_get_status(h.cloud.site_id)).chargers


async def test_token_renewal_unreachable_keeps_going() -> None:
    async with harness(request_timeout=0.1) as h:
        h.cloud.token_ttl = 600
        await h.client.async_login()
        token = h.client.auth_state.token
        h.cloud.advance(400)
        h.cloud.stall_next("/entrez/tokens", 0.3)
        assert (await h.client.async_get_status(h.cloud.site_id)).chargers
        assert h.client.auth_state.token == token


async def test_concurrent_calls_share_one_renewal_and_one_relogin() -> None:
    async with harness() as h:
        h.cloud.token_ttl = 600
        await h.client.async_login()
        h.cloud.advance(400)
        await asyncio.gather(*(h.client.async_get_status(h.cloud.site_id) for _ in range(3)))
        assert h.cloud.requests["tokens"] == 2
        h.cloud.expire_tokens()
        await asyncio.gather(*(h.client.async_get_status(h.cloud.site_id) for _ in range(3)))
        assert h.cloud.requests["login"] == 2


async def test_bearer_falls_back_to_the_entrez_token_when_the_manager_token_expired() -> None:
    async with harness() as h:
        h.cloud.manager_token_ttl = 100
        await h.client.async_login()
        h.cloud.advance(200)
        modes = await h.client.async_get_charge_mode(h.cloud.site_id, "482501234567")
        assert modes.current is not None
        assert h.cloud.requests["login"] == 1


async def test_non_json_replies() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.fail_next("ev_chargers/status", 200, body="<html><body>maintenance</body></html>")
        with pytest.raises(BackendInvalidDataError, match="not JSON"):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.client.health.last_error == "not JSON"
        h.cloud.fail_next("evse_scheduler", 200)  # an empty reply to the mode change
        modes = await h.client.async_set_charge_mode(
            h.cloud.site_id, "482501234567", ChargeMode.GREEN
        )
        assert modes.current is ChargeMode.GREEN
        h.cloud.mfa_required(True)
        await h.client.async_login()
        h.cloud.fail_next("validate_login_otp", 200, body="[]")
        with pytest.raises(BackendInvalidDataError):
            await h.client.async_submit_mfa_code("123456")
