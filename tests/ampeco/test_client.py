"""Client routes against the fake cloud: reads, start, stop, and mapped refusals."""

from __future__ import annotations

from datetime import date

import pytest

from custom_components.ev_charging.backends.ampeco import AmpecoClient, AmpecoEvse
from custom_components.ev_charging.backends.base import (
    BackendCommandRejectedError,
    BackendConnectionError,
    BackendInvalidDataError,
)
from tests.simulators.ampeco_cloud import EMAIL, PASSWORD, AmpecoCloud

from . import fake_cloud, logged_in, make_client

pytestmark = pytest.mark.usefixtures("socket_enabled")

START = "POST /app/session/start"
END = "POST /app/session/{session_id}/{action}"


async def first_evse(client: AmpecoClient) -> AmpecoEvse:
    (point,) = await client.async_list_charge_points()
    return point.evses[0]


async def test_list_and_one_charge_point() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        (point,) = await client.async_list_charge_points()
        assert point.evses[0].identifier == "4107"
        one = await client.async_get_charge_point("HMC0012345")
        assert one == point
        assert set(client.last_payloads) == {"charge_points", "charge_point"}
        assert cloud.requests["GET /app/personal/charge-points/{cp_id}"] == 1


async def test_unknown_charge_point_is_not_found() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_get_charge_point("nope")
        assert err.value.reason == "not_found"
        assert err.value.user_error is False
        assert "No query results" in str(err.value)


async def test_no_charge_point() -> None:
    async with fake_cloud(charge_points=0) as (cloud, http):
        client = await logged_in(cloud, http)
        assert await client.async_list_charge_points() == ()


async def test_start_with_the_public_identifier_first() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        session = await client.async_start_session(await first_evse(client))
        assert session is not None
        assert (session.status, session.evse_identifier) == ("pending", "4107")
        assert cloud.start_bodies == [{"evseId": 4107, "source": "App"}]


async def test_start_falls_back_to_the_internal_id_and_remembers_it() -> None:
    async with fake_cloud(accept_identifier=False) as (cloud, http):
        client = await logged_in(cloud, http)
        evse = await first_evse(client)
        session = await client.async_start_session(evse)
        assert session is not None
        assert [b["evseId"] for b in cloud.start_bodies] == [4107, "58231"]
        assert client.diagnostics()["start_id_forms"] == ["id"]
        cloud.plug_in()
        cloud.advance(5)
        await client.async_stop_session(session.id)
        cloud.advance(30)
        await client.async_start_session(evse)
        assert [b["evseId"] for b in cloud.start_bodies] == [4107, "58231", "58231"]


async def test_start_refused_in_both_forms() -> None:
    async with fake_cloud(accept_identifier=False, accept_internal_id=False) as (cloud, http):
        client = await logged_in(cloud, http)
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_start_session(await first_evse(client))
        assert err.value.reason == "validation"
        assert err.value.user_error is True
        assert str(err.value) == "The selected evse id is invalid."
        assert cloud.requests[START] == 2


async def test_start_not_found_in_both_forms() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/session/start", 404, count=2)
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_start_session(await first_evse(client))
        assert err.value.reason == "evse_not_found"
        assert cloud.requests[START] == 2


async def test_start_without_identifier_sends_the_internal_id() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        evse = AmpecoEvse(
            id="58231",
            identifier=None,
            status="available",
            max_power_w=None,
            current_type=None,
            connector_name=None,
            session=None,
        )
        await client.async_start_session(evse)
        assert cloud.start_bodies == [{"evseId": "58231", "source": "App"}]


async def test_start_when_already_active_is_406() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        evse = await first_evse(client)
        await client.async_start_session(evse)
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_start_session(evse)
        assert err.value.reason == "already_active"
        assert err.value.user_error is True
        assert cloud.requests[START] == 2  # no retry with the other id form


async def test_start_with_max_current() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        evse = await first_evse(client)
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_start_session(evse, max_current=40)
        assert err.value.reason == "validation"
        assert "between 6 and 32" in str(err.value)
        await client.async_start_session(evse, max_current=10)
        assert cloud.start_bodies[-1] == {"evseId": 4107, "source": "App", "maxCurrent": 10}
        session = cloud.evse().session
        assert session is not None
        assert session.max_current == 10


async def test_start_with_an_empty_answer() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/session/start", 202, body="")
        assert await client.async_start_session(await first_evse(client)) is None


async def _running_session(cloud: AmpecoCloud, client: AmpecoClient) -> str:
    session = await client.async_start_session(await first_evse(client))
    assert session is not None
    cloud.plug_in()
    cloud.advance(60)
    return session.id


async def test_stop_through_end() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        session_id = await _running_session(cloud, client)
        stopping = await client.async_stop_session(session_id)
        assert stopping is not None
        assert stopping.status == "stopping"
        assert cloud.requests[END] == 1
        assert client.diagnostics()["stop_route"] == "end"


async def test_stop_falls_back_to_the_alternative_route() -> None:
    async with fake_cloud(stop_routes=("stop",)) as (cloud, http):
        client = await logged_in(cloud, http)
        session_id = await _running_session(cloud, client)
        stopping = await client.async_stop_session(session_id)
        assert stopping is not None
        assert stopping.status == "stopping"
        assert cloud.requests[END] == 2
        assert client.diagnostics()["stop_route"] == "stop"
        cloud.advance(30)
        session_id = await _running_session(cloud, client)
        await client.async_stop_session(session_id)
        assert cloud.requests[END] == 3  # the route that worked goes first


async def test_stop_falls_back_on_405() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        session_id = await _running_session(cloud, client)
        cloud.fail_next("/end", 405, body={"message": "Method not allowed."})
        await client.async_stop_session(session_id)
        assert client.diagnostics()["stop_route"] == "stop"


async def test_stop_without_a_session_is_404_on_both_routes() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_stop_session("424242")
        assert err.value.reason == "no_active_session"
        assert err.value.user_error is True
        assert str(err.value) == "Session not found."
        assert cloud.requests[END] == 2


async def test_other_refusals() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        session_id = await _running_session(cloud, client)
        cloud.fail_next("/end", 406, body={"message": "Rejected by the charge point."})
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_stop_session(session_id)
        assert (err.value.reason, err.value.user_error) == ("rejected", False)
        cloud.fail_next("/charge-points", 403, body="")
        with pytest.raises(BackendCommandRejectedError) as err:
            await client.async_list_charge_points()
        assert (err.value.reason, str(err.value)) == ("rejected", "HTTP 403")
        assert cloud.requests[END] == 1


async def test_history_and_profile() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        rows = await client.async_get_session_history(date(2025, 6, 10), date(2025, 6, 30))
        assert [r.session.id for r in rows] == ["902114"]
        rows = await client.async_get_session_history(date(2025, 6, 1), date(2025, 6, 30))
        assert sum(r.session.energy_kwh or 0 for r in rows) == pytest.approx(30.741)
        profile = await client.async_get_profile()
        assert profile.id == "48213"


async def test_answers_that_are_not_json() -> None:
    async with fake_cloud() as (cloud, http):
        client = await logged_in(cloud, http)
        cloud.fail_next("/charge-points", 200, body="<html>maintenance</html>")
        with pytest.raises(BackendInvalidDataError):
            await client.async_list_charge_points()
        cloud.fail_next("/charge-points", 200, body={"data": "nope"})
        with pytest.raises(BackendInvalidDataError):
            await client.async_list_charge_points()


async def test_timeout_is_a_connection_error() -> None:
    async with fake_cloud() as (cloud, http):
        client = make_client(cloud, http, timeout=0.05)
        await client.async_login(EMAIL, PASSWORD)
        cloud.response_delay = 0.2
        with pytest.raises(BackendConnectionError):
            await client.async_list_charge_points()
        assert client.consecutive_failures == 1
        assert client.backoff_until == cloud.now + 30
