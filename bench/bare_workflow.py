"""The baseline process: an accreditation's shape of activities, each a no-op, and one update.

Batches of activities run concurrently as in the recorded accreditation; the last activity before
the decision "opens the task", and ``decide_task`` answers once the activities after it are done,
like the real update answers with the process's new status.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from bench.opened import OpenedTasks
    from contracts.accreditation import AccreditationStatus
    from workflows import policies

# What the real update answers once the certificate is issued.
DONE = AccreditationStatus.ACCREDITED.value


class BareInput(BaseModel):
    """Sizes of the activity batches before and after the decision."""

    before: tuple[int, ...]
    after: tuple[int, ...]


class BareActivities:
    def __init__(self, opened: OpenedTasks) -> None:
        self._opened = opened

    @activity.defn(name="bench_noop")
    def noop(self, step: str) -> None:
        """Does nothing: the baseline measures orchestration alone."""

    @activity.defn(name="bench_open_task")
    def open_task(self, step: str) -> None:
        """Tells the driver the task is open, as the real activity's inbox row does."""
        workflow_id = activity.info().workflow_id
        if workflow_id is None:
            raise RuntimeError("bench_open_task runs only inside a workflow")
        self._opened.add(workflow_id)


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    def __init__(self) -> None:
        self._open = False
        self._decided = False
        self._answered = False

    @workflow.run
    async def run(self, input: BareInput) -> str:
        for number, size in enumerate(input.before):
            opens = number == len(input.before) - 1
            await asyncio.gather(
                *(self._step(f"before-{number}-{i}", opens and i == 0) for i in range(size))
            )
        self._open = True
        await workflow.wait_condition(lambda: self._decided)
        for number, size in enumerate(input.after):
            await asyncio.gather(*(self._step(f"after-{number}-{i}") for i in range(size)))
        self._answered = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DONE

    async def _step(self, step: str, opens: bool = False) -> None:
        await policies.run("bench_open_task" if opens else "bench_noop", step)

    @workflow.update
    async def decide_task(self, task_id: str) -> str:
        self._decided = True
        await workflow.wait_condition(lambda: self._answered)
        return DONE

    @decide_task.validator
    def validate_decide_task(self, task_id: str) -> None:
        # Same rule as the real validator: no decision before the task is open, nor twice.
        if not self._open or self._decided:
            raise ApplicationError(f"task {task_id} is not open", type="StaleTask")
