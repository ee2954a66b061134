"""Human tasks: how any workflow asks a person to decide, and how the decision comes back."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from contracts.common import Actor, Frozen, Role, Text

# Tasks whose decision moves money: deciding one needs a recent second factor (the API asks for
# a step-up grant in ``X-Step-Up``; see api.second_factor).
SECOND_FACTOR_TASK_KINDS = frozenset(
    {"loan_approval", "loan_disbursement_rejected", "loan_write_off"}
)


class TaskStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TaskSpec(Frozen):
    """What a workflow asks for. ``org_id`` is the organisation whose members may decide."""

    kind: Text
    role: Role
    org_id: Text
    subject_type: Text
    subject_id: Text
    title: Text
    summary: Text
    outcomes: tuple[Text, ...] = ("approve", "reject")
    document_ids: tuple[Text, ...] = ()
    details: dict[Text, Text] = Field(default_factory=dict)
    # Four eyes: users who may not decide this task (they decided an earlier step).
    excluded_user_ids: tuple[Text, ...] = ()
    escalate_after: timedelta | None = None
    escalate_to: Role = Role.OPS_SUPERVISOR
    # Escalation may leave the organisation (an unconfirmed supplier order goes to platform ops).
    escalate_to_org: Text | None = None
    expire_after: timedelta | None = None


class OpenTaskInput(Frozen):
    task_id: Text
    workflow_id: Text
    spec: TaskSpec
    due_at: datetime | None
    expires_at: datetime | None


class EscalateTaskInput(Frozen):
    task_id: Text
    to_role: Role
    to_org_id: Text | None = None


class DecideTaskInput(Frozen):
    """The payload of every workflow's ``decide_task`` update (also typed into the Web UI)."""

    task_id: Text
    outcome: Text
    comment: Text = Field(default="", max_length=2000)
    # What some decisions carry besides the outcome (an award's supplier per line, the hash of
    # the document a signer read); each workflow validates its own tasks' keys.
    choices: dict[Text, Text] = Field(default_factory=dict, max_length=5000)
    actor: Actor


class TaskDecision(Frozen):
    task_id: Text
    outcome: Text
    comment: Text
    choices: dict[Text, Text] = Field(default_factory=dict)
    actor: Actor
    decided_at: datetime


class CloseTaskInput(Frozen):
    task_id: Text
    status: TaskStatus
    decision: TaskDecision | None = None


class TaskAnswer(Frozen):
    """What the workflow answers the decider, synchronously."""

    task_id: Text
    outcome: Text
    process_status: Text
    message: Text


class NotifyInput(Frozen):
    """A message to an organisation's members with a role (or all members when role is None)."""

    notification_id: Text
    org_id: Text
    role: Role | None
    kind: Text
    subject_type: Text
    subject_id: Text
    message: Text
