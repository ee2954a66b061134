"""When a process cannot go on by itself: the failure types that ask ops for help, and the task.

An activity's error is classified once, in the worker (``activities.failures``): an error retrying
may cure (a connection lost, a timeout, a 5xx, a serialisation failure) goes back to the retry
policy; any other becomes ``PermanentFailure``, non-retryable, so the step fails at once. The
workflow then opens a ``process_attention`` task for platform ops instead of failing silently
or retrying forever: ops fix the cause and retry, skip the step with a reason (only a step whose
result nothing reads), or end the process with a reason.
"""

from __future__ import annotations

from enum import StrEnum

# Raised by the worker for an error retrying cannot cure.
PERMANENT_FAILURE = "PermanentFailure"
# Raised by activities that find a record they need missing or malformed.
INVALID_RECORD = "InvalidRecord"
# Failure types that open the attention task rather than end the process.
NEEDS_ATTENTION = frozenset({PERMANENT_FAILURE, INVALID_RECORD})
# The workflow's own failure when ops end it.
ENDED_BY_OPS = "EndedByOps"

ATTENTION_TASK_KIND = "process_attention"
# The version marker a workflow records the first time it opens an attention task: histories
# from before the mechanism existed replay the old way (the failure ended the process).
ATTENTION_PATCH = "attention-task-v1"

# An activity still failing after this many attempts, or this long, is an incident.
INCIDENT_ATTEMPTS = 10
INCIDENT_AFTER_SECONDS = 15 * 60


class AttentionOutcome(StrEnum):
    RETRY = "retry"
    SKIP = "skip"
    END = "end"
