"""Connecting to Temporal waits for a server that starts late, and gives up clearly when none
answers within the configured time: a real dev server, started on a port the client already
knocks at."""

from __future__ import annotations

import asyncio
import logging

import pytest
from temporalio.testing import WorkflowEnvironment

from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import TemporalUnavailable, connect, dev_server_path
from tests.harness.api_server import free_port
from tests.harness.temporal import eventually


def _retries(caplog: pytest.LogCaptureFixture) -> int:
    return sum(r.name == "tradeflow.temporal" for r in caplog.records)


async def test_connect_waits_for_a_server_that_starts_late(
    keyring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tradeflow.temporal")
    port = free_port()
    late = Settings(
        environment="test", temporal_address=f"127.0.0.1:{port}", temporal_connect_wait_s=120
    )
    connecting = asyncio.create_task(connect(late, keyring))

    async def refused_once() -> bool | None:
        return True if _retries(caplog) >= 1 else None

    await eventually(refused_once)
    assert not connecting.done()
    env = await WorkflowEnvironment.start_local(
        port=port,
        dev_server_existing_path=str(dev_server_path()),
        data_converter=data_converter(keyring),
        dev_server_log_level="error",
    )
    try:
        client = await asyncio.wait_for(connecting, timeout=60)
        assert await client.service_client.check_health()
    finally:
        await env.shutdown()


async def test_connect_gives_up_after_the_configured_wait(
    keyring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tradeflow.temporal")
    address = f"127.0.0.1:{free_port()}"
    nobody = Settings(environment="test", temporal_address=address, temporal_connect_wait_s=1.5)
    with pytest.raises(TemporalUnavailable) as error:
        await connect(nobody, keyring)
    assert error.value.attempts > 1
    assert _retries(caplog) == error.value.attempts - 1
    assert f"Temporal at {address} did not answer within 1.5s" in str(error.value)
    assert "Connection refused" in str(error.value)
