"""The polling helper: a condition never reached says which, and what the probe last saw."""

from __future__ import annotations

import pytest

from tests.harness.temporal import eventually


async def test_returns_the_first_answer_once_the_probe_stops_failing() -> None:
    seen = iter(["checking", "checking", "under_review"])

    async def reviewing() -> str:
        status = next(seen)
        assert status == "under_review"
        return status

    assert await eventually(reviewing, interval=0) == "under_review"


async def test_failure_names_the_condition_and_the_last_thing_seen() -> None:
    statuses = iter(["checking", "rejected"])

    async def reviewing() -> str:
        status = next(statuses, "rejected")
        assert status == "under_review", f"status {status}"
        return status

    with pytest.raises(AssertionError) as never:
        await eventually(reviewing, what="a review task", attempts=3, interval=0)

    message = str(never.value)
    assert message.startswith("a review task not reached after 3 attempts in ")
    assert "last time the probe failed with: status rejected" in message
    assert isinstance(never.value.__cause__, AssertionError)


async def test_a_probe_returning_none_is_named_by_its_function() -> None:
    async def opened() -> str | None:
        return None

    with pytest.raises(AssertionError, match=r"opened not reached .* the probe returned None"):
        await eventually(opened, attempts=2, interval=0)


async def test_other_errors_end_the_wait_at_once() -> None:
    calls = 0

    async def broken() -> str:
        nonlocal calls
        calls += 1
        raise LookupError("no such workflow")

    with pytest.raises(LookupError):
        await eventually(broken, attempts=5, interval=0)
    assert calls == 1
