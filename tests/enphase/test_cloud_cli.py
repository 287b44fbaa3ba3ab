"""The fake cloud's command line, as the demo runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
import signal
import sys

import aiohttp
import pytest

from custom_components.ev_charging.backends.enphase import EnphaseBackend, EnphaseClient
from custom_components.ev_charging.models import ChargerStatus

from . import SN, SN2

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).parents[2]


async def test_cli_serves_the_demo_site_and_stops_on_sigint() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.simulators.enphase_cloud",
        "--port",
        "0",
        "--evolve",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.search(r"on (\S+) \(Entrez (\S+)\), site (\d+); log in as (\S+) / (\S+)", line)
        assert match, line
        url, entrez, site, email, password = match.groups()
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            client = EnphaseClient(session, email, password, base_url=url, entrez_url=entrez)
            backend = EnphaseBackend(client, site)
            infos = await backend.async_setup()
            assert [i.charger_id for i in infos] == [SN, SN2]
            states = await backend.async_fetch(0.0)
        assert states[SN].status is ChargerStatus.CHARGING
        assert states[SN].current_limit == 16
        assert states[SN2].status is ChargerStatus.AVAILABLE
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
