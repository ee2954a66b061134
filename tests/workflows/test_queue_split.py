"""Workers split by task queue: an order's activities go to the I/O and render queues beside the
workflows' own, each served only by a worker of that role, the PDFs rendered in processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.fulfilment import CarrierEventKind, OrderStatus, PaymentInput
from contracts.queues import QUEUES_PATCH, RENDER_ACTIVITIES, Role, io_queue, render_queue
from db.models import Invoice
from documents.render import stop_render_processes, use_render_processes
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from settings import Settings
from stack.worker_registry import activity_name
from stack.worker_roles import Workers
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.histories import record_history
from tests.harness.temporal import eventually, new_task_queue
from tests.workflows.test_order import Harness, decide, report
from worker import build_worker
from workflows.order import OrderWorkflow

Build = Callable[[frozenset[Role]], Workers]


@pytest.fixture
def build(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> tuple[str, Build]:
    task_queue = new_task_queue()

    def workers(roles: frozenset[Role]) -> Workers:
        return build_worker(
            time_skipping_env.client,
            roles=roles,
            settings=settings,
            sessions=sessions,
            store=store,
            registry=registry,
            regulator=regulator,
            task_queue=task_queue,
        )

    return task_queue, workers


def served(worker: Worker) -> set[str]:
    activities: list[Callable[..., Any]] = list(worker.config().get("activities") or [])
    return {activity_name(a) for a in activities}


async def test_each_role_serves_its_own_queue(build: tuple[str, Build]) -> None:
    queue, workers = build
    (workflows,) = workers(frozenset({Role.WORKFLOWS})).workers
    assert workflows.task_queue == queue and not served(workflows)
    assert workflows.config().get("workflows")
    (render,) = workers(frozenset({Role.RENDER})).workers
    assert (render.task_queue, served(render)) == (render_queue(queue), set(RENDER_ACTIVITIES))
    # The I/O role also serves, on the workflows' queue, what pre-split workflows schedule there.
    legacy, io = workers(frozenset({Role.IO})).workers
    assert io.task_queue == io_queue(queue)
    assert served(io).isdisjoint(RENDER_ACTIVITIES) and "record_order" in served(io)
    assert legacy.task_queue == queue and served(legacy) == served(io) | RENDER_ACTIVITIES
    assert not workers(frozenset({Role.SINGLETONS})).workers


async def test_an_order_waits_for_a_render_worker_for_its_invoice(
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    build: tuple[str, Build],
) -> None:
    queue, workers = build
    harness = Harness(time_skipping_env, time_skipping_env.client, queue, sessions, store)
    parties = harness.parties()
    terms = await harness.executed_contract(parties, dangerous=False)
    async with workers(frozenset({Role.WORKFLOWS})), workers(frozenset({Role.IO})):
        handle = await harness.start(terms)
        order_id = handle.id.removeprefix("Order:")
        try:
            confirm = await harness.task(order_id, "order_confirmation")
            await decide(handle, confirm.id, parties.supplier.actor, "confirm")
            await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
            now = await harness.now()
            for kind in (
                CarrierEventKind.PICKED_UP,
                CarrierEventKind.DEPARTED,
                CarrierEventKind.ARRIVED,
            ):
                await report(handle, parties.logistics.actor, kind, now)
            proof = b.store_document(sessions, store, org_id=parties.supplier.org.id)
            await report(
                handle, parties.logistics.actor, CarrierEventKind.DELIVERED, now, proof=proof
            )
            acceptance = await harness.task(order_id, "order_acceptance")
            await decide(handle, acceptance.id, parties.buyer.actor, "accept")

            async def invoice_waiting() -> bool | None:
                described = await handle.describe()
                pending = [
                    a
                    for a in described.raw_description.pending_activities
                    if a.activity_type.name == "issue_invoice"
                ]
                assert pending, "no issue_invoice pending yet"
                return pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED

            # Scheduled, and nobody starts it: no worker of this process serves the render queue.
            assert await eventually(invoice_waiting, attempts=400)
            assert not harness.rows(Invoice, order_id=order_id)

            use_render_processes(1)
            try:
                async with workers(frozenset({Role.RENDER})):
                    await harness.status(order_id, OrderStatus.INVOICED)
            finally:
                stop_render_processes()
            assert len(harness.rows(Invoice, order_id=order_id)) == 1
            await handle.execute_update(
                OrderWorkflow.record_payment,
                PaymentInput(
                    amount=terms.total,
                    reference="BANK-REF-SPLIT",
                    paid_on=now.date(),
                    actor=parties.finance.actor,
                ),
            )
            outcome = await handle.result()
        finally:
            await harness.close()
    assert outcome.status == OrderStatus.COMPLETED
    queues = scheduled_queues(await handle.fetch_history())
    assert queues["issue_invoice"] == {render_queue(queue)}
    assert queues["record_order"] == queues["set_order_status"] == {io_queue(queue)}
    await record_history(handle, "order_ordinary_paid_split_queues")


def scheduled_queues(history: WorkflowHistory) -> dict[str, set[str]]:
    """Each activity type and the queues it was scheduled on, once a patch marker precedes
    them (the patch's id travels encrypted by the codec, so only the marker is visible)."""
    queues: dict[str, set[str]] = {}
    for event in history.events:
        if not queues and event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            assert any(
                e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and e.marker_recorded_event_attributes.marker_name == "core_patch"
                for e in history.events[: event.event_id]
            ), f"no patch marker ({QUEUES_PATCH}) before the first activity"
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            queues.setdefault(scheduled.activity_type.name, set()).add(scheduled.task_queue.name)
    return queues
