"""Back-off after 429/5xx, optional families, network failures and cloud health."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from custom_components.ev_charging.backends.base import (
    BackendConnectionError,
    BackendInvalidDataError,
)
from custom_components.ev_charging.backends.enphase import (
    EnphaseCloudUnavailableError,
    EnphaseRateLimitedError,
)
from custom_components.ev_charging.models import ChargerStatus

from . import SN, harness, poll, running_backend

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_429_backs_off_and_ten_polls_make_one_request() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        before = h.total()
        h.cloud.fail_next("ev_chargers/status", 429, retry_after=120)
        with pytest.raises(EnphaseRateLimitedError) as caught:
            await poll(h, backend, 30)
        assert caught.value.retry_at == h.cloud.now + 120  # Retry-After beats the 60 s base
        assert h.client.backoff_until == h.cloud.now + 120
        for _ in range(10):
            with pytest.raises(EnphaseRateLimitedError):
                await poll(h, backend, 10)
        assert h.total() - before == 1  # ten refusals, no request
        assert h.client.health.last_error == "rate limited"
        assert h.client.health.last_error_status == 429
        states = await poll(h, backend, 20)  # the back-off ended at +120 s
        assert states[SN].status is ChargerStatus.AVAILABLE
        assert h.client.backoff_until is None
        assert h.client.health.consecutive_failures == 0


async def test_5xx_backs_off_exponentially_up_to_the_cap() -> None:
    async with running_backend() as (h, backend):
        delays = []
        for _ in range(7):
            h.cloud.fail_next("ev_chargers/status", 503)
            with pytest.raises(EnphaseCloudUnavailableError) as caught:
                await poll(h, backend)
            assert caught.value.retry_at is not None
            delay = caught.value.retry_at - h.cloud.now
            delays.append(delay)
            h.cloud.advance(delay)
        assert delays == [60, 120, 240, 480, 900, 900, 900]
        assert h.cloud.requests["status"] == 1 + 7  # setup, then one per back-off
        assert h.client.health.reachable is False
        await poll(h, backend)
        assert h.client.health.reachable is True
        assert h.client.health.consecutive_failures == 0


async def test_retry_after_as_http_date() -> None:
    async with harness() as h:
        await h.client.async_login()
        when = datetime.fromtimestamp(h.cloud.now + 300, UTC)
        h.cloud.fail_next("ev_chargers/status", 429, retry_after=format_datetime(when, usegmt=True))
        with pytest.raises(EnphaseRateLimitedError) as caught:
            await h.client.async_get_status(h.cloud.site_id)
        assert caught.value.retry_at == pytest.approx(h.cloud.now + 300)
        h.cloud.advance(300)
        h.cloud.fail_next("ev_chargers/status", 429, retry_after="soon")
        with pytest.raises(EnphaseRateLimitedError) as caught:
            await h.client.async_get_status(h.cloud.site_id)
        assert caught.value.retry_at == h.cloud.now + 120  # second failure: 60 x 2


async def test_optional_family_5xx_does_not_stop_the_status_poll() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        h.cloud.fail_next("ev_chargers/summary", 503)
        h.cloud.fail_next("evse_scheduler", 503)
        h.cloud.fail_next("enho_historical_events_ms", 503)
        states = await poll(h, backend, 3600)  # every optional family is due
        assert states[SN].lifetime_energy == pytest.approx(1482.31572)  # kept from setup
        assert states[SN].charge_mode == "manual"  # kept
        assert states[SN].energy_today == 0.0  # kept
        assert h.client.backoff_until is None
        assert set(h.client.family_backoff()) == {"summary", "scheduler", "history"}
        errors = backend.diagnostics()["optional_errors"]
        assert set(errors) == {"summary", f"charge_mode:{SN}", f"sessions:{SN}"}
        # The optional back-off refuses its own family only, without a request.
        with pytest.raises(EnphaseCloudUnavailableError):
            await h.client.async_get_summary(h.cloud.site_id)
        assert h.cloud.requests["summary"] == 2


async def test_429_on_an_optional_family_pauses_everything() -> None:
    async with running_backend() as (h, backend):
        await poll(h, backend)
        h.cloud.fail_next("ev_chargers/summary", 429)
        states = await poll(h, backend, 600)
        assert states[SN].status is ChargerStatus.AVAILABLE
        status_requests = h.cloud.requests["status"]
        with pytest.raises(EnphaseRateLimitedError):
            await poll(h, backend, 30)
        assert h.cloud.requests["status"] == status_requests


async def test_unreachable_cloud_is_a_connection_error() -> None:
    async with harness() as h:
        url = h.cloud.url
        await h.cloud.stop()
        h.cloud.url = url
        with pytest.raises(BackendConnectionError):
            await h.client.async_login()
        health = h.client.health
        assert health.reachable is False
        assert health.last_error is not None
        assert health.backoff_until is None  # network errors do not back off


async def test_timeout_bounds_every_request() -> None:
    async with harness(request_timeout=0.1) as h:
        await h.client.async_login()
        h.cloud.stall_next("ev_chargers/status", 0.3)
        with pytest.raises(BackendConnectionError, match="timeout"):
            await h.client.async_get_status(h.cloud.site_id)
        assert h.client.health.last_error == "timeout"
        assert h.client.health.reachable is False


async def test_empty_status_body_is_invalid_data() -> None:
    async with harness() as h:
        await h.client.async_login()
        h.cloud.fail_next("ev_chargers/status", 200)
        with pytest.raises(BackendInvalidDataError):
            await h.client.async_get_status(h.cloud.site_id)


async def test_unexpected_4xx_is_a_connection_error() -> None:
    async with harness() as h:
        await h.client.async_login()
        with pytest.raises(BackendConnectionError, match="404"):
            await h.client.async_get_status("999")
        assert h.client.backoff_until is None


async def test_health_after_a_good_call() -> None:
    async with harness() as h:
        assert h.client.health.reachable is None
        await h.client.async_login()
        await h.client.async_get_status(h.cloud.site_id)
        health = h.client.health
        assert health.reachable is True
        assert health.last_latency_ms is not None
        assert health.last_latency_ms >= 0
        assert health.last_success_at == h.cloud.now
        assert health.last_error is None
