"""The fake AMPECO cloud keeps the tokens it issued across a restart (for the demo)."""

from __future__ import annotations

import aiohttp
import pytest

from tests.simulators.ampeco_cloud import AmpecoCloud


@pytest.mark.usefixtures("socket_enabled")
async def test_tokens_survive_a_restart() -> None:
    """A refresh token issued before the restart still works after it; others do not."""
    first = AmpecoCloud()
    await first.start()
    form = {
        "grant_type": "password",
        "client_id": first.client_id,
        "client_secret": first.client_secret,
        "username": first.email,
        "password": first.password,
        "scope": "*",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{first.url}/app/oauth/token", data=form) as reply:
            issued = await reply.json()
        saved = first.export_tokens()
        await first.stop()

        second = AmpecoCloud()
        second.import_tokens(saved)
        await second.start()
        try:
            refresh = {
                "grant_type": "refresh_token",
                "client_id": second.client_id,
                "client_secret": second.client_secret,
                "refresh_token": issued["refresh_token"],
            }
            async with session.post(f"{second.url}/app/oauth/token", data=refresh) as reply:
                assert reply.status == 200
                renewed = await reply.json()
            assert renewed["access_token"] != issued["access_token"]  # no serial reused
            refresh["refresh_token"] = "never-issued"
            async with session.post(f"{second.url}/app/oauth/token", data=refresh) as reply:
                assert reply.status in (400, 401)
        finally:
            await second.stop()
