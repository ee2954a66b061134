"""A month of dense readings on the time-skipping server: the trip's workflow continues as new
and each run's history stays bounded. On a server of its own: a month of skipped time must not
wait on what another test left in flight."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from contracts.cold_chain import ColdChainInput, ColdChainOutcome, Disposition, TripArrival
from db.cold_chain import ColdTrip
from rules.cold_chain_zones import cold_lines
from tests.harness import cold_chain as c
from tests.harness.histories import record_history
from tests.harness.temporal import eventually, skip_time
from tests.workflows.test_cold_chain_order import confirmed_chilled_order
from tests.workflows.test_order import Harness, harness, time_skipping_env
from workflows.cold_chain import ColdChainWorkflow
from workflows.order import OrderWorkflow

__all__ = ["harness", "time_skipping_env"]  # the fixtures, with a server for this module


LIMIT = 100


async def _trip(
    harness: Harness, logger_id: str, *, silence: timedelta, back: timedelta = timedelta(0)
) -> tuple[WorkflowHandle[ColdChainWorkflow, ColdChainOutcome], str, datetime]:
    """A chilled order's trip watched by a workflow of its own, with a small history limit;
    ``back``: how long before now the trip began."""
    parties, handle, order_id, trip_id, terms = await confirmed_chilled_order(harness)
    c.logger_on_trip(
        harness.sessions,
        org_id=parties.supplier.org.id,
        trip_id=trip_id,
        logger_id=logger_id,
        zone="chilled",
    )
    view = await handle.query(OrderWorkflow.get_status)
    zones, lines = cold_lines(terms.lines, view.shipments[0].shipment)
    zone = zones[0].model_copy(update={"max_silence_s": int(silence.total_seconds())})
    start = await harness.now() - back
    trip = await harness.client.start_workflow(
        ColdChainWorkflow.run,
        ColdChainInput(
            trip_id=trip_id,
            order_id=order_id,
            shipment=1,
            zones=(zone,),
            lines=lines,
            currency="CNY",
            buyer_org_id=parties.buyer.org.id,
            supplier_org_id=parties.supplier.org.id,
            trip_start=start,
            history_limit=LIMIT,
        ),
        id=f"ColdChain:bounded-{trip_id}",
        task_queue=harness.task_queue,
    )
    harness.started.append(trip)  # type: ignore[arg-type]
    return trip, trip_id, start


async def _run_lengths(harness: Harness, trip: WorkflowHandle[Any, Any]) -> list[int]:
    """Each run's history length, following the chain from the first run."""
    lengths = []
    run_id: str | None = trip.first_execution_run_id
    while run_id:
        history = await harness.client.get_workflow_handle(trip.id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        attributes = last.workflow_execution_continued_as_new_event_attributes
        run_id = attributes.new_execution_run_id or None
    return lengths


async def test_a_month_of_dense_readings_keeps_each_runs_history_bounded(
    harness: Harness,
) -> None:
    # An ocean reefer: a reading a minute for 30 days, sent once a day over satellite; it may be
    # silent 25 h.
    trip, trip_id, start = await _trip(harness, "LG-M1", silence=timedelta(hours=25))
    sent = 0
    for day in range(30):
        await skip_time(harness.env, timedelta(days=1))
        begin = start + timedelta(days=day)
        readings = c.every(
            begin, begin + timedelta(days=1) - timedelta(minutes=1), timedelta(minutes=1), "2.5"
        )
        sent += len(readings)
        await trip.signal(
            ColdChainWorkflow.readings,
            c.store(harness.sessions, trip_id, "LG-M1", readings, low=Decimal(0), high=Decimal(4)),
        )
    assert sent == 43_200
    await trip.signal(ColdChainWorkflow.arrived, TripArrival(at=start + timedelta(days=30)))
    outcome = await trip.result()
    assert outcome.disposition is Disposition.ACCEPT  # in range throughout: accepted alone
    (row,) = harness.rows(ColdTrip, id=trip_id)
    assert row.figures is not None and row.figures["loggers"][0]["readings"] == 43_200
    lengths = await _run_lengths(harness, trip)
    assert len(lengths) > 3, lengths  # it continued as new several times
    # The run checks the limit between waits; one wait's events may pass it a little.
    assert max(lengths) <= LIMIT + 40, lengths


async def test_a_backlog_uploaded_at_once_still_continues_as_new_within_the_limit(
    harness: Harness,
) -> None:
    # Back in coverage after five days: the logger uploads its backlog an hour a batch, with
    # no time for the routine assessment between batches.
    trip, trip_id, start = await _trip(
        harness, "LG-B1", silence=timedelta(days=6), back=timedelta(days=5)
    )
    for hour in range(120):
        begin = start + timedelta(hours=hour)
        readings = c.every(begin, begin + timedelta(minutes=59), timedelta(minutes=1), "2.5")
        await trip.signal(
            ColdChainWorkflow.readings,
            c.store(harness.sessions, trip_id, "LG-B1", readings, low=Decimal(0), high=Decimal(4)),
        )

    async def continued() -> str | None:
        latest = await harness.client.get_workflow_handle(trip.id).describe()
        return latest.run_id if latest.run_id != trip.first_execution_run_id else None

    await eventually(continued, attempts=400)
    await trip.signal(ColdChainWorkflow.arrived, TripArrival(at=start + timedelta(days=5)))
    outcome = await trip.result()
    assert outcome.disposition is Disposition.ACCEPT
    lengths = await _run_lengths(harness, trip)
    assert len(lengths) > 1, lengths
    # Signals that arrive while the workflow runs pile up in its history at once, so a burst
    # may carry a run past the limit; what bounds it is that the run continues as new at its
    # first activation past the limit (the one under way when it crossed may finish first).
    first = await harness.client.get_workflow_handle(
        trip.id, run_id=trip.first_execution_run_id
    ).fetch_history()
    completed_past = [
        event
        for event in first.events
        if event.event_id > LIMIT
        and event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    assert len(completed_past) <= 2, lengths
    await record_history(harness.client.get_workflow_handle(trip.id), "cold_chain_backlog")
