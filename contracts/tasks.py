"""Human tasks: how any workflow asks a person to decide, and how the decision comes back."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from contracts.common import Actor, Frozen, Role


class TaskStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TaskSpec(Frozen):
    """What a workflow asks for. ``org_id`` is the organisation whose members may decide."""

    kind: str
    role: Role
    org_id: str
    subject_type: str
    subject_id: str
    title: str
    summary: str
    outcomes: tuple[str, ...] = ("approve", "reject")
    document_ids: tuple[str, ...] = ()
    details: dict[str, str] = Field(default_factory=dict)
    # Four eyes: users who may not decide this task (they decided an earlier step).
    excluded_user_ids: tuple[str, ...] = ()
    escalate_after: timedelta | None = None
    escalate_to: Role = Role.OPS_SUPERVISOR
    # Escalation may leave the organisation (an unconfirmed supplier order goes to platform ops).
    escalate_to_org: str | None = None
    expire_after: timedelta | None = None


class OpenTaskInput(Frozen):
    task_id: str
    workflow_id: str
    spec: TaskSpec
    due_at: datetime | None
    expires_at: datetime | None


class EscalateTaskInput(Frozen):
    task_id: str
    to_role: Role
    to_org_id: str | None = None


class DecideTaskInput(Frozen):
    """The payload of every workflow's ``decide_task`` update (also typed into the Web UI)."""

    task_id: str
    outcome: str
    comment: str = Field(default="", max_length=2000)
    # What some decisions carry besides the outcome (an award's supplier per line, the hash of
    # the document a signer read); each workflow validates its own tasks' keys.
    choices: dict[str, str] = Field(default_factory=dict, max_length=5000)
    actor: Actor


class TaskDecision(Frozen):
    task_id: str
    outcome: str
    comment: str
    choices: dict[str, str] = Field(default_factory=dict)
    actor: Actor
    decided_at: datetime


class CloseTaskInput(Frozen):
    task_id: str
    status: TaskStatus
    decision: TaskDecision | None = None


class TaskAnswer(Frozen):
    """What the workflow answers the decider, synchronously."""

    task_id: str
    outcome: str
    process_status: str
    message: str


class NotifyInput(Frozen):
    """A message to an organisation's members with a role (or all members when role is None)."""

    notification_id: str
    org_id: str
    role: Role | None
    kind: str
    subject_type: str
    subject_id: str
    message: str
