"""Authentication: password grant, pasted token, renewal, and failures that are final."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from custom_components.ev_charging.backends.ampeco import (
    AmpecoAuthError,
    AmpecoClient,
    AmpecoTokens,
)
from custom_components.ev_charging.backends.base import BackendAuthError, BackendConnectionError
from tests.simulators.ampeco_cloud import EMAIL, PASSWORD, STATIC_TOKEN

from . import fake_cloud, logged_in, make_client

pytestmark = pytest.mark.usefixtures("socket_enabled")

TOKEN = "POST /app/oauth/token"
LIST = "GET /app/personal/charge-points"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_password_grant_ok_and_tokens_reported() -> None:
    seen: list[AmpecoTokens] = []
    async with fake_cloud(token_lifetime=3600) as (cloud, http):
        client = make_client(cloud, http, on_tokens=seen.append)
        tokens = await client.async_login(EMAIL.upper(), PASSWORD)
        assert tokens.access_token.startswith("fake-access-token-")
        assert tokens.refresh_token is not None
        assert tokens.expires_at == cloud.now + 3600
        assert seen == [tokens]
        assert client.tokens == tokens
        assert client.can_renew
        points = await client.async_list_charge_points()
        assert [p.id for p in points] == ["HMC0012345"]
        assert cloud.requests[TOKEN] == 1
        assert cloud.requests[LIST] == 1
        assert client.diagnostics()["password_known"] is True


async def test_wrong_password() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http)
        with pytest.raises(AmpecoAuthError) as err:
            await client.async_login(EMAIL, "wrong")
        assert err.value.reason == "invalid_auth"
        assert isinstance(err.value, BackendAuthError)
        assert "do not match" in str(err.value)
        assert client.tokens is None


async def test_wrong_client_secret() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http, secret="not-the-secret")
        with pytest.raises(AmpecoAuthError) as err:
            await client.async_login(EMAIL, PASSWORD)
        assert err.value.reason == "invalid_client"
        assert err.value.placeholders["reason"] == "invalid_client"


async def test_pasted_token_ok() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http)
        client.set_token(f" {STATIC_TOKEN} ")
        assert not client.can_renew
        points = await client.async_list_charge_points()
        assert len(points) == 1
        assert cloud.requests[TOKEN] == 0
        assert client.diagnostics()["password_known"] is False


async def test_pasted_token_rejected_is_final() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http, tokens=AmpecoTokens(cloud.issue_token()))
        await client.async_list_charge_points()
        cloud.expire_tokens()
        with pytest.raises(AmpecoAuthError) as err:
            await client.async_list_charge_points()
        assert err.value.reason == "invalid_auth"
        # final: no renewal attempt, and no further request either
        with pytest.raises(AmpecoAuthError):
            await client.async_list_charge_points()
        assert cloud.requests[TOKEN] == 0
        assert cloud.requests[LIST] == 2
        assert client.diagnostics()["auth_failed"] is True
        # a new pasted token clears the failure
        client.set_token(cloud.issue_token())
        assert len(await client.async_list_charge_points()) == 1


async def test_no_credentials_at_all() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http)
        with pytest.raises(AmpecoAuthError):
            await client.async_list_charge_points()
        assert sum(cloud.requests.values()) == 0


async def test_unreachable_host() -> None:
    async with aiohttp.ClientSession() as http:
        client = AmpecoClient(http, f"http://127.0.0.1:{closed_port()}", clock=lambda: 0.0)
        with pytest.raises(BackendConnectionError):
            await client.async_login(EMAIL, PASSWORD)
        assert client.backoff_until == 30.0
        client.set_token("token")
        with pytest.raises(BackendConnectionError, match="backing off"):
            await client.async_list_charge_points()


async def test_token_refreshed_before_expiry() -> None:
    seen: list[AmpecoTokens] = []
    async with fake_cloud(token_lifetime=300) as (cloud, http):
        client = await logged_in(cloud, http)
        client.on_tokens = seen.append
        first = client.tokens
        assert first is not None
        cloud.advance(200)  # not yet within a minute of expiry
        await client.async_list_charge_points()
        assert cloud.requests[TOKEN] == 1
        cloud.advance(50)  # 50 s left: renew first
        await client.async_list_charge_points()
        assert cloud.requests[TOKEN] == 2
        assert cloud.requests[LIST] == 2  # no 401 on the way
        assert len(seen) == 1
        assert seen[0].access_token != first.access_token
        assert seen[0].refresh_token != first.refresh_token  # rotated
        assert seen[0].expires_at == cloud.now + 300


async def test_stored_tokens_refreshed_after_restart() -> None:
    async with fake_cloud(token_lifetime=300) as (cloud, http):
        stored = (await logged_in(cloud, http)).tokens
        assert stored is not None
        cloud.advance(400)  # expired while Home Assistant was down
        client = make_client(cloud, http, tokens=AmpecoTokens.from_dict(stored.as_dict()))
        await client.async_list_charge_points()
        assert cloud.requests[TOKEN] == 2
        assert cloud.requests[LIST] == 1


async def test_token_refreshed_after_a_401() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.expire_tokens()
        assert len(await client.async_list_charge_points()) == 1
        assert cloud.requests[TOKEN] == 2
        assert cloud.requests[LIST] == 2


async def test_concurrent_calls_renew_once() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.expire_tokens()
        await asyncio.gather(
            client.async_list_charge_points(),
            client.async_get_profile(),
            client.async_list_charge_points(),
        )
        assert cloud.requests[TOKEN] == 2


async def test_refused_refresh_falls_back_to_the_password() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.expire_tokens(refresh=True)
        assert len(await client.async_list_charge_points()) == 1
        assert cloud.requests[TOKEN] == 3  # login, refused refresh, password grant


async def test_refused_refresh_without_password_is_final() -> None:
    async with fake_cloud() as (cloud, http):
        stored = (await logged_in(cloud, http)).tokens
        client = make_client(cloud, http, tokens=stored)
        cloud.expire_tokens(refresh=True)
        with pytest.raises(AmpecoAuthError) as err:
            await client.async_list_charge_points()
        assert err.value.reason == "invalid_auth"
        requests = sum(cloud.requests.values())
        with pytest.raises(AmpecoAuthError):
            await client.async_list_charge_points()
        assert sum(cloud.requests.values()) == requests  # no hammering of the token route


async def test_changed_client_secret_is_final_even_with_password() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.client_secret = "rotated"
        cloud.expire_tokens()
        with pytest.raises(AmpecoAuthError) as err:
            await client.async_list_charge_points()
        assert err.value.reason == "invalid_client"
        assert cloud.requests[TOKEN] == 2  # no password grant: it would fail the same


async def test_wrong_password_on_relogin_is_final() -> None:
    async with fake_cloud(issue_refresh_tokens=False) as (cloud, http):
        client = await logged_in(cloud, http)
        assert client.tokens is not None
        assert client.tokens.refresh_token is None
        cloud.password = "changed"
        cloud.expire_tokens()
        with pytest.raises(AmpecoAuthError) as err:
            await client.async_list_charge_points()
        assert err.value.reason == "invalid_auth"
        assert cloud.requests[TOKEN] == 2


async def test_renewed_token_rejected_too() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/charge-points", 401, count=2)
        with pytest.raises(AmpecoAuthError, match="renewed token"):
            await client.async_list_charge_points()
        assert cloud.requests[TOKEN] == 2
        assert cloud.requests[LIST] == 2


async def test_rate_limited_login_backs_off() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http)
        cloud.fail_next("/oauth/token", 429, retry_after=60)
        with pytest.raises(BackendConnectionError):
            await client.async_login(EMAIL, PASSWORD)
        assert client.backoff_until == cloud.now + 60
        with pytest.raises(BackendConnectionError):
            await client.async_login(EMAIL, PASSWORD)
        assert cloud.requests[TOKEN] == 1
        cloud.advance(60)
        await client.async_login(EMAIL, PASSWORD)
        assert client.backoff_until is None


async def test_token_response_without_access_token() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http)
        cloud.fail_next("/oauth/token", 200, body={"token_type": "Bearer"})
        with pytest.raises(AmpecoAuthError):
            await client.async_login(EMAIL, PASSWORD)
        cloud.fail_next("/oauth/token", 400, body="<html>bad request</html>")
        with pytest.raises(AmpecoAuthError, match="HTTP 400"):
            await client.async_login(EMAIL, PASSWORD)


def test_tokens_round_trip_and_grant_parsing() -> None:
    tokens = AmpecoTokens("a", "r", 123.0)
    assert AmpecoTokens.from_dict(tokens.as_dict()) == tokens
    assert AmpecoTokens.from_dict({"access_token": "a"}) == AmpecoTokens("a")
    with pytest.raises(AmpecoAuthError):
        AmpecoTokens.from_dict({"refresh_token": "r"})
    renewed = AmpecoTokens.from_grant({"access_token": "b"}, now=10.0, previous_refresh="r")
    assert renewed == AmpecoTokens("b", "r", None)
    fresh = AmpecoTokens.from_grant(
        {"access_token": "c", "refresh_token": "s", "expires_in": "60"}, now=10.0
    )
    assert fresh == AmpecoTokens("c", "s", 70.0)
