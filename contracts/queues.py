"""Which task queue serves what: workflows on the platform's queue, activities split off beside it.

A workflow cannot read settings, so the activity queues are named from the queue the workflow
itself runs on: ``<queue>-io`` for activities that wait on the database, the object store or
another system, ``<queue>-render`` for those that render a PDF (CPU-bound: their workers render
in processes, so weasyprint never holds the interpreter lock of a workflow worker). One setting
(``TRADEFLOW_TASK_QUEUE``) names the family, and a test's fresh queue brings its own.
"""

from __future__ import annotations

from enum import StrEnum

# The version marker a workflow records before its first activity on the split queues: histories
# from before the split replay with every activity on the workflow's own queue.
QUEUES_PATCH = "activity-queues-v1"

# Activities that render a PDF with weasyprint (then store it once under its document id).
RENDER_ACTIVITIES = frozenset(
    {
        "issue_accreditation_certificate",
        "render_contract",
        "issue_invoice",
        "seal_waybill",
        "record_cold_decision",
    }
)


class Role(StrEnum):
    """What a worker process serves; ``worker.py --roles`` starts any subset."""

    WORKFLOWS = "workflows"
    IO = "io"
    RENDER = "render"
    # Duties that run once per cluster: the reconciliation's start, the notification relay, the
    # audit sealer. Give exactly one process this role.
    SINGLETONS = "singletons"


def io_queue(workflow_queue: str) -> str:
    return f"{workflow_queue}-io"


def render_queue(workflow_queue: str) -> str:
    return f"{workflow_queue}-render"


def activity_queue(workflow_queue: str, activity: str) -> str:
    """The queue whose workers serve ``activity`` for a workflow on ``workflow_queue``."""
    if activity in RENDER_ACTIVITIES:
        return render_queue(workflow_queue)
    return io_queue(workflow_queue)
