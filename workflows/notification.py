"""One process event told to whoever its organisations' notification rules name.

Started by the worker's relay for each event of the outbox (``process_events``), under the id
``notification:<event id>`` with duplicates rejected, so an event is planned once however often
it is relayed. Plans the deliveries (``plan_deliveries``), then delivers each at once, each
retried with back-off up to ten minutes apart for a day; a delivery the receiver refuses, or one
still failing after a day, is marked failed and the organisation's principal told in-app
(``fail_delivery``). No updates, signals or queries: its result counts what was delivered.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.liveness import HEARTBEAT_TIMEOUT
    from contracts.notifications import (
        DeliverInput,
        DeliveryPlan,
        FailDeliveryInput,
        NotificationInput,
        NotificationOutcome,
        PlanInput,
    )
    from workflows import policies

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["DeliveryRejected", "InvalidRecord"],
)
# How long a delivery is retried before it is given up as failed.
GIVE_UP_AFTER = timedelta(hours=24)


@workflow.defn
class NotificationWorkflow:
    @workflow.run
    async def run(self, notification: NotificationInput) -> NotificationOutcome:
        plan = await policies.call(
            "plan_deliveries",
            PlanInput(event_id=notification.event_id),
            DeliveryPlan,
            policy=policies.DATABASE,
        )
        delivered = await asyncio.gather(*(self._deliver(d) for d in plan.delivery_ids))
        return NotificationOutcome(
            event_id=notification.event_id,
            delivered=sum(delivered),
            failed=len(delivered) - sum(delivered),
        )

    async def _deliver(self, delivery_id: str) -> bool:
        try:
            await workflow.execute_activity(
                "deliver",
                DeliverInput(delivery_id=delivery_id),
                task_queue=policies.queue_for("deliver"),
                start_to_close_timeout=timedelta(seconds=60),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as failed:
            # Expected: the receiver refused, or stayed away for a day. Recorded, not raised.
            reason = str(failed.cause or failed)
            await policies.run(
                "fail_delivery",
                FailDeliveryInput(delivery_id=delivery_id, reason=reason[:1000]),
            )
            return False
        return True
