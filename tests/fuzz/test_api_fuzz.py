"""Fuzzing the API as each kind of user: no input may cause a 5xx, an answer that breaks the
declared schema, or a request left unanswered; and no process it started may be left stuck
(issue 8, sections 1 and 6).

Schemathesis calls synchronously, so each run happens in a thread while the event loop keeps the
worker answering the processes the calls start.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from contracts.attention import ATTENTION_TASK_KIND
from tests.fuzz.conftest import World, processes_on, retrying_activities
from tests.fuzz.runs import budget_from_environment, fuzz_operations, fuzz_scenarios, role_schema
from tests.harness.temporal import eventually

pytestmark = pytest.mark.long(seconds=170)  # handed out first: see tests/conftest.py

# The supplier goes first: it quotes and files before the buyer may cancel what it works on.
# The applicant (a supplier not accredited yet) only applies: the supplier covers the rest. The
# carrier follows the supplier, whose consignment list it makes the waybill from, and fuzzes
# what a carrier uses: its orders, its fleet, its tasks and documents.
# Role name -> the paths it fuzzes (a regular expression), None for all.
ROLES: dict[str, str | None] = {
    "supplier": None,
    "applicant": "^/accreditation/",
    "carrier": "^/(orders|carriers|tasks|documents)",
    "buyer": None,
    "ops": None,
    "regulator": None,
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_no_input_breaks_the_api(world: World, role: str) -> None:
    budget = budget_from_environment()
    async with httpx.AsyncClient(base_url=world.api_url) as http:
        openapi = (await http.get("/openapi.json")).raise_for_status().json()
    schema = role_schema(
        openapi,
        base_url=world.api_url,
        token=world.tokens[role],
        budget=budget,
        path_regex=ROLES[role],
    )

    def run() -> list[str]:
        return fuzz_operations(
            schema, known_ids=world.ids[role], bodies=world.bodies, budget=budget
        ) + fuzz_scenarios(schema, budget=budget)

    failures = await asyncio.to_thread(run)
    assert not failures, f"{len(failures)} failures as {role}:\n\n" + "\n\n".join(failures)


async def test_every_process_the_fuzzer_started_ends_waits_or_asks_ops(
    world: World, dev_env: WorkflowEnvironment
) -> None:
    """Accepted, then stuck: no activity may keep retrying what retrying cannot cure, and no
    input the API accepted may leave a process needing ops' attention."""

    async def settled() -> bool | None:
        return None if await retrying_activities(dev_env.client, world.task_queue) else True

    try:
        await eventually(settled, attempts=150, interval=0.2)
    except AssertionError:
        still = await retrying_activities(dev_env.client, world.task_queue)
        pytest.fail("activities still retrying:\n" + "\n".join(still))
    async with httpx.AsyncClient(
        base_url=world.api_url, headers={"Authorization": f"Bearer {world.tokens['ops']}"}
    ) as http:
        answer = await http.get("/tasks", params={"kind": ATTENTION_TASK_KIND})
    ours = await processes_on(dev_env.client, world.task_queue)
    stuck = [
        f"{task['subject_id']}: {task['summary']}"
        for task in answer.raise_for_status().json()
        if task["subject_id"] in ours
    ]
    assert not stuck, "processes needing attention after fuzzing:\n" + "\n".join(stuck)
