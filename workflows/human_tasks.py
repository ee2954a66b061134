"""The one human-task mechanism every workflow with approval steps inherits.

A workflow calls ``await self.ask(step, spec)``: an inbox row is opened, the workflow waits for a
``decide_task`` update, escalates the task to another role when it is due and closes it as expired
when the policy says so. The update's validator rejects the wrong role or organisation, a stale
task, an outcome the task does not offer and, for four-eyes steps, a repeat decider, before
anything reaches history. The update returns the workflow's answer once it has acted on the
decision (``self.reply``), so the caller learns the new state of the process synchronously.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.attention import ATTENTION_TASK_KIND, ENDED_BY_OPS, AttentionOutcome
    from contracts.common import OPERATOR_ORG_ID, Role
    from contracts.tasks import (
        CloseTaskInput,
        DecideTaskInput,
        EscalateTaskInput,
        NotifyInput,
        OpenTaskInput,
        TaskAnswer,
        TaskDecision,
        TaskSpec,
        TaskStatus,
    )
    from workflows import policies


@dataclass
class _OpenTask:
    spec: TaskSpec
    role: Role
    org_id: str
    decision: TaskDecision | None = None


# Outcomes that end something for the other side, or pass over a step, so they must say why.
REASONED_OUTCOMES = frozenset({"reject", "decline", "skip", "end"})
# The task mechanism's own steps: when one of them fails for good there is no task to ask with.
_TASK_ACTIVITIES = frozenset({"open_task", "escalate_task", "close_task"})


def process_key(step: str) -> str:
    """A key unique to this process and step, stable across retries, replays and continue-as-new.

    Workflow ids come from business keys and may be reused (a rejected supplier applies again),
    so the first run of the chain tells one process from the next: by the run id's last twelve
    hex digits, which are random in UUIDv4 and UUIDv7 alike (v7 starts with the time, so two
    runs a minute apart share their first digits).
    """
    info = workflow.info()
    run = info.first_execution_run_id.replace("-", "")[-12:]
    return f"{info.workflow_id}:{run}:{step}"


def _rejected(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _never() -> bool:
    return False


class Abandoned(Exception):
    """Raised by ``ask`` when the process no longer needs the decision (``abandoned()``): the
    task is closed as cancelled. A decision that arrived first still wins."""


class HumanTaskWorkflow:
    """Base class: holds open tasks, the ``decide_task`` update and its validator."""

    def __init__(self) -> None:
        self._tasks: dict[str, _OpenTask] = {}
        # Tasks whose inbox row is written: people can see them now.
        self._in_inbox: set[str] = set()
        self._answers: dict[str, TaskAnswer] = {}
        self._attention_asked = 0
        # Ids a task was known by under an earlier version of this code, for the decisions that
        # name them (an attention task opened before its id carried the run's).
        self._aliases: dict[str, str] = {}

    @workflow.update(
        description=(
            "Decide an open human task. Input: {task_id, outcome, comment, actor: {user_id, "
            "org_id, roles}}. Returns the process's new status."
        )
    )
    async def decide_task(self, decision: DecideTaskInput) -> TaskAnswer:
        task = self._tasks[self._aliases.get(decision.task_id, decision.task_id)]
        task.decision = TaskDecision(
            task_id=decision.task_id,
            outcome=decision.outcome,
            comment=decision.comment,
            choices=decision.choices,
            actor=decision.actor,
            decided_at=workflow.now(),
        )
        await workflow.wait_condition(lambda: decision.task_id in self._answers)
        return self._answers.pop(decision.task_id)

    @decide_task.validator
    def validate_decide_task(self, decision: DecideTaskInput) -> None:
        task = self._tasks.get(self._aliases.get(decision.task_id, decision.task_id))
        if task is None or task.decision is not None:
            raise _rejected(
                f"task {decision.task_id} is not open: decided, expired or unknown", "StaleTask"
            )
        if decision.outcome not in task.spec.outcomes:
            raise _rejected(
                f"outcome must be one of {', '.join(task.spec.outcomes)}", "MalformedDecision"
            )
        if task.role not in decision.actor.roles or decision.actor.org_id != task.org_id:
            raise _rejected(
                f"only the {task.role.value} role of organisation {task.org_id} may decide",
                "WrongRole",
            )
        if decision.actor.user_id in task.spec.excluded_user_ids:
            raise _rejected("four eyes: a different person must take this decision", "SameApprover")
        if decision.outcome in REASONED_OUTCOMES and not decision.comment.strip():
            raise _rejected(
                f"comment: {decision.outcome} must give its reason", "MalformedDecision"
            )
        problem = self.choices_problem(task.spec, decision)
        if problem is not None:
            raise _rejected(problem, "MalformedDecision")

    def abandoned(self) -> bool:
        """Whether the process has given up its pending decisions (an order cancelled, say).
        Checked while tasks wait, so they end without cancelling work in flight."""
        return False

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        """Why the decision's ``choices`` do not fit the task, or None. Tasks that take no
        choices refuse any; workflows whose tasks take some override this."""
        if decision.choices:
            return f"choices: task kind {spec.kind} takes none"
        return None

    async def attend(self, *, activity: str, error: str, skippable: bool) -> AttentionOutcome:
        """Ask platform ops what to do about a step that failed for good (``policies`` calls
        this): retry once the cause is fixed, skip it with a reason, or end the process with a
        reason. The task waits for ops however long it takes, even in an abandoned process:
        the step that failed may be the compensation itself."""
        info = workflow.info()
        if activity in _TASK_ACTIVITIES:
            raise ApplicationError(
                f"{activity} failed for good, so no task can ask ops: {error}",
                type=ENDED_BY_OPS,
                non_retryable=True,
            )
        self._attention_asked += 1
        outcomes = tuple(
            o.value for o in AttentionOutcome if skippable or o is not AttentionOutcome.SKIP
        )
        spec = TaskSpec(
            kind=ATTENTION_TASK_KIND,
            role=Role.OPS_SUPERVISOR,
            org_id=OPERATOR_ORG_ID,
            subject_type="process",
            subject_id=info.workflow_id,
            title="流程需要处理 Process needs attention",
            summary=(
                f"{info.workflow_type} {info.workflow_id}: the step {activity} failed and "
                f"retrying cannot cure it ({error}). Fix the cause, then retry; "
                + ("or skip the step, " if skippable else "")
                + "or end the process, giving the reason."
            ),
            outcomes=outcomes,
            details={"activity": activity, "error": error[:2000], "process": info.workflow_type},
        )
        # The count restarts with each run of a chain that continues as new (accreditation):
        # the run's own id keeps a later run's task from reusing an earlier run's inbox row.
        run = info.run_id.replace("-", "")[-12:]
        step = f"attention-{run}-{self._attention_asked}"
        if info.run_id == info.first_execution_run_id:
            # Before that, the first run's tasks were "attention-<n>": a process still waiting
            # on one, or its recorded history, decides it by that id.
            legacy = process_key(f"attention-{self._attention_asked}")
            self._aliases[legacy] = process_key(step)
        decision = await self.ask(step, spec, abandonable=False)
        if decision is None:  # no expiry is set, so a decision always comes
            raise ApplicationError("attention task ended undecided", non_retryable=True)
        outcome = AttentionOutcome(decision.outcome)
        by = decision.actor.user_id
        if outcome is AttentionOutcome.END:
            self.reply(decision, process_status="ended", message=f"ended by {by}")
            raise ApplicationError(
                f"ended by ops ({by}) after {activity} failed: {decision.comment}",
                type=ENDED_BY_OPS,
                non_retryable=True,
            )
        message = f"{activity} {'skipped' if outcome is AttentionOutcome.SKIP else 'retried'}"
        self.reply(decision, process_status=outcome.value, message=message)
        return outcome

    async def ask(
        self,
        step: str,
        spec: TaskSpec,
        *,
        expires_at: datetime | None = None,
        abandonable: bool = True,
    ) -> TaskDecision | None:
        """Open a task and wait for its decision; None when it expired undecided.

        ``expires_at`` overrides ``spec.expire_after`` when the process has its own deadline.
        An ``abandonable`` task ends when the process gives up its decisions (``abandoned()``).
        The caller must ``reply`` to the decision once it has acted on it.
        """
        abandoned = self.abandoned if abandonable else _never
        if abandoned():
            raise Abandoned(step)
        task_id = process_key(step)
        now = workflow.now()
        due_at = now + spec.escalate_after if spec.escalate_after else None
        if expires_at is None and spec.expire_after is not None:
            expires_at = now + spec.expire_after
        # Held open before the inbox row exists, so a decision sent the moment the row
        # appears is never refused as stale.
        task = _OpenTask(spec=spec, role=spec.role, org_id=spec.org_id)
        self._tasks[task_id] = task
        await policies.run(
            "open_task",
            OpenTaskInput(
                task_id=task_id,
                workflow_id=workflow.info().workflow_id,
                spec=spec,
                due_at=due_at,
                expires_at=expires_at,
            ),
        )
        self._in_inbox.add(task_id)
        first_deadline = min((d for d in (due_at, expires_at) if d is not None), default=None)
        try:
            decided = await self._wait_for_decision(task, until=first_deadline, abandoned=abandoned)
            if (
                not decided
                and not abandoned()
                and due_at is not None
                and (expires_at is None or due_at < expires_at)
            ):
                task.role = spec.escalate_to
                task.org_id = spec.escalate_to_org or spec.org_id
                await policies.run(
                    "escalate_task",
                    EscalateTaskInput(
                        task_id=task_id, to_role=spec.escalate_to, to_org_id=spec.escalate_to_org
                    ),
                )
                decided = await self._wait_for_decision(task, until=expires_at, abandoned=abandoned)
        except asyncio.CancelledError:
            # The process no longer needs this decision (the other party declined, say):
            # the inbox row must not stay open.
            if task.decision is None:
                del self._tasks[task_id]
                await self._close(CloseTaskInput(task_id=task_id, status=TaskStatus.CANCELLED))
                raise
            decided = True
        if not decided:
            del self._tasks[task_id]
            given_up = abandoned()
            status = TaskStatus.CANCELLED if given_up else TaskStatus.EXPIRED
            await self._close(CloseTaskInput(task_id=task_id, status=status))
            if given_up:
                raise Abandoned(step)
            return None
        del self._tasks[task_id]
        decision = task.decision
        if decision is None:  # unreachable: _wait_for_decision returned True
            raise ApplicationError(f"task {task_id} has no decision", non_retryable=True)
        await self._close(
            CloseTaskInput(task_id=task_id, status=TaskStatus.DECIDED, decision=decision)
        )
        return decision

    def reply(self, decision: TaskDecision, *, process_status: str, message: str) -> None:
        """Answer the decider's update with the state the decision led to."""
        self._answers[decision.task_id] = TaskAnswer(
            task_id=decision.task_id,
            outcome=decision.outcome,
            process_status=process_status,
            message=message,
        )

    def open_task_ids(self) -> tuple[str, ...]:
        """Open tasks people can see: their inbox row is written."""
        return tuple(task_id for task_id in self._tasks if task_id in self._in_inbox)

    def in_inbox(self, step: str) -> bool:
        """Whether the task ``ask(step, ...)`` opened has its inbox row yet."""
        return process_key(step) in self._in_inbox

    async def notify(self, notice: NotifyInput) -> None:
        await policies.run("notify", notice)

    async def _wait_for_decision(
        self, task: _OpenTask, *, until: datetime | None, abandoned: Callable[[], bool]
    ) -> bool:
        """True once decided; False when ``until`` passed or the process abandoned the task."""
        timeout: timedelta | None = None
        if until is not None:
            timeout = until - workflow.now()
            if timeout <= timedelta(0):
                return task.decision is not None
        try:
            await workflow.wait_condition(
                lambda: task.decision is not None or abandoned(), timeout=timeout
            )
        except TimeoutError:
            return False
        return task.decision is not None

    async def _close(self, close: CloseTaskInput) -> None:
        await policies.run("close_task", close)
