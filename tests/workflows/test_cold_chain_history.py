"""A month of dense readings on the time-skipping server: the trip's workflow continues as new
and each run's history stays bounded. On a server of its own: a month of skipped time must not
wait on what another test left in flight."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from contracts.cold_chain import ColdChainInput, Disposition, TripArrival
from db.cold_chain import ColdTrip
from rules.cold_chain_zones import cold_lines
from tests.harness import cold_chain as c
from tests.harness.histories import record_history
from tests.harness.temporal import skip_time
from tests.workflows.test_cold_chain_order import confirmed_chilled_order
from tests.workflows.test_order import Harness, harness, time_skipping_env
from workflows.cold_chain import ColdChainWorkflow
from workflows.order import OrderWorkflow

__all__ = ["harness", "time_skipping_env"]  # the fixtures, with a server for this module


async def test_a_month_of_dense_readings_keeps_each_runs_history_bounded(
    harness: Harness,
) -> None:
    parties, handle, order_id, trip_id, terms = await confirmed_chilled_order(harness)
    c.logger_on_trip(
        harness.sessions,
        org_id=parties.supplier.org.id,
        trip_id=trip_id,
        logger_id="LG-M1",
        zone="chilled",
    )
    # An ocean reefer: a reading a minute for 30 days, sent once a day over satellite; it may be
    # silent 25 h.
    view = await handle.query(OrderWorkflow.get_status)
    zones, lines = cold_lines(terms.lines, view.shipments[0].shipment)
    zone = zones[0].model_copy(update={"max_silence_s": 25 * 3600})
    start = await harness.now()
    limit = 100
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
            history_limit=limit,
        ),
        id=f"ColdChain:month-{trip_id}",
        task_queue=harness.task_queue,
    )
    harness.started.append(trip)  # type: ignore[arg-type]
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

    # Follow the chain from the first run: each continued as new within the limit.
    lengths = []
    run_id: str | None = trip.first_execution_run_id
    while run_id:
        history = await harness.client.get_workflow_handle(trip.id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        attributes = last.workflow_execution_continued_as_new_event_attributes
        run_id = attributes.new_execution_run_id or None
    assert len(lengths) > 3, lengths  # it continued as new several times
    # The run checks the limit between waits; one wait's events may pass it a little.
    assert max(lengths) <= limit + 40, lengths
    # The last run began from what the one before handed over.
    await record_history(harness.client.get_workflow_handle(trip.id), "cold_chain_continued")
