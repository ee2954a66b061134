"""The baseline processes: an accreditation's or an order's shape of activities, each a no-op.

``BareWorkflow`` (accreditation): batches of activities run concurrently as in the recorded
accreditation; the last activity before the decision "opens the task", and ``decide_task`` answers
once the activities after it are done, like the real update answers with the process's new status.

``BareProcessWorkflow`` (order): the recorded phases of a process of many updates, each begun by
``advance``; an activity of each phase tells the driver it may act, as an opened task does, and
where the order renders a PDF (its invoice, its e-waybill) the bare process renders the same
document (``bench_render``): the work that is the order's own, not the platform's overhead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

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
    def __init__(
        self, opened: OpenedTasks, renders: Mapping[str, Callable[[], bytes]] | None = None
    ) -> None:
        self._opened = opened
        self._renders = dict(renders or {})

    @activity.defn(name="bench_noop")
    def noop(self, step: str) -> None:
        """Does nothing: the baseline measures orchestration alone."""

    @activity.defn(name="bench_render")
    def render(self, name: str) -> int:
        """Renders the PDF the order's activity ``name`` renders (not stored); its size."""
        return len(self._renders[name]())

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


class BarePhase(BaseModel):
    """A stretch of a process begun by its start or by one update: batches of activities before
    the update answers, then batches after it. ``ready_at`` numbers the activity of ``then``
    (counted from 0 across batches) whose completion tells the driver it may act again, as an
    opened task or a reached status does; None when the answer is enough."""

    answer: tuple[int, ...] = ()
    then: tuple[int, ...] = ()
    ready_at: int | None = None
    # (position in ``then``, counted as ``ready_at`` is; the order's activity) for each PDF the
    # order renders there.
    renders: tuple[tuple[int, str], ...] = ()


class BareScript(BaseModel):
    """A whole process: phase 0 runs at the start, every later phase begins with an update."""

    phases: tuple[BarePhase, ...]

    @property
    def activities(self) -> int:
        return sum(sum(p.answer) + sum(p.then) for p in self.phases)

    @property
    def updates(self) -> int:
        return len(self.phases) - 1


@workflow.defn(name="BenchBareProcessWorkflow")
class BareProcessWorkflow:
    """A process of many updates (an order's confirmation, events, acceptance and payment) as
    no-op activities in the recorded phases; ``advance`` begins the next phase and answers once
    its ``answer`` activities are done."""

    def __init__(self) -> None:
        self._requested = 0
        self._answered = 0

    @workflow.run
    async def run(self, script: BareScript) -> str:
        for number, phase in enumerate(script.phases):
            await self._begun(number)
            await self._batches(f"{number}-answer", phase.answer, None)
            self._answered = number
            await self._batches(f"{number}-then", phase.then, phase.ready_at, dict(phase.renders))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DONE

    async def _begun(self, number: int) -> None:
        await workflow.wait_condition(lambda: self._requested >= number)

    async def _batches(
        self,
        name: str,
        batches: tuple[int, ...],
        ready_at: int | None,
        renders: dict[int, str] | None = None,
    ) -> None:
        renders = renders or {}
        done = 0
        for number, size in enumerate(batches):
            await asyncio.gather(
                *(
                    self._one(done + i, ready_at, renders, f"{name}-{number}-{i}")
                    for i in range(size)
                )
            )
            done += size

    @staticmethod
    async def _one(at: int, ready_at: int | None, renders: dict[int, str], step: str) -> None:
        if at in renders:
            await policies.run("bench_render", renders[at], policy=policies.DOCUMENT)
        else:
            await policies.run("bench_open_task" if at == ready_at else "bench_noop", step)

    @workflow.update
    async def advance(self, step: int) -> int:
        self._requested = step
        await workflow.wait_condition(lambda: self._answered >= step)
        return step

    @advance.validator
    def validate_advance(self, step: int) -> None:
        # Like the real validators: one step at a time, in order.
        if step != self._requested + 1:
            raise ApplicationError(f"step {step} is not the next one", type="StaleTask")
