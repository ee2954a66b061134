"""Fuzzing the API as each kind of user: no input may cause a 5xx, an answer that breaks the
declared schema, or a request left unanswered (issue 8, section 6).

Schemathesis calls synchronously, so each run happens in a thread while the event loop keeps the
worker answering the processes the calls start.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fuzz.conftest import World
from tests.fuzz.runs import budget_from_environment, fuzz_operations, fuzz_scenarios, role_schema


@pytest.mark.parametrize("role", ["buyer", "supplier", "ops", "regulator"])
async def test_no_input_breaks_the_api(world: World, role: str) -> None:
    budget = budget_from_environment()
    async with httpx.AsyncClient(base_url=world.api_url) as http:
        openapi = (await http.get("/openapi.json")).raise_for_status().json()
    schema = role_schema(openapi, base_url=world.api_url, token=world.tokens[role], budget=budget)

    def run() -> list[str]:
        return fuzz_operations(schema, known_ids=world.ids[role], budget=budget) + fuzz_scenarios(
            schema, budget=budget
        )

    failures = await asyncio.to_thread(run)
    assert not failures, f"{len(failures)} failures as {role}:\n\n" + "\n\n".join(failures)
