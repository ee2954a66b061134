"""What the cold-chain benchmark reads back once the loggers are done: each trip's chain of
workflow runs and their histories (events a run, and how long each ``assess_cold_trip`` waited
and ran, where an excursion's latency goes), the readings' table sizes, and the alert tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, text
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from bench.cold_chain_bare import BARE_READINGS
from bench.cold_chain_trips import Trip

ASSESS = "assess_cold_trip"


@dataclass(frozen=True)
class Chain:
    runs: int
    events: tuple[int, ...]  # each run's history length


@dataclass(frozen=True)
class Histories:
    chains: tuple[Chain, ...]
    assess_waited_ms: tuple[float, ...]  # scheduled -> started
    assess_ran_ms: tuple[float, ...]  # started -> completed


def _assessments(history: WorkflowHistory) -> tuple[list[float], list[float]]:
    scheduled: dict[int, float] = {}
    started: dict[int, float] = {}
    waited: list[float] = []
    ran: list[float] = []
    for event in history.events:
        at = event.event_time.ToMicroseconds() / 1000
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == ASSESS:
                scheduled[event.event_id] = at
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            scheduled_id = event.activity_task_started_event_attributes.scheduled_event_id
            if scheduled_id in scheduled:
                started[scheduled_id] = at
                waited.append(at - scheduled[scheduled_id])
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            scheduled_id = event.activity_task_completed_event_attributes.scheduled_event_id
            if scheduled_id in started:
                ran.append(at - started[scheduled_id])
    return waited, ran


async def histories(client: Client, trips: Sequence[Trip]) -> Histories:
    """Every run of every trip's chain, the running one included."""
    chains: list[Chain] = []
    waited: list[float] = []
    ran: list[float] = []
    for trip in trips:
        lengths: list[int] = []
        async for run in client.list_workflows(f"WorkflowId = '{trip.workflow_id}'"):
            handle = client.get_workflow_handle(trip.workflow_id, run_id=run.run_id)
            history = await handle.fetch_history()
            lengths.append(len(history.events))
            more_waited, more_ran = _assessments(history)
            waited += more_waited
            ran += more_ran
        chains.append(Chain(runs=len(lengths), events=tuple(lengths)))
    return Histories(tuple(chains), tuple(waited), tuple(ran))


def table_sizes(engine: Engine) -> dict[str, tuple[int, int, int]]:
    """Rows, heap bytes and index bytes of the platform's readings and the bare ones."""
    found: dict[str, tuple[int, int, int]] = {}
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
        for name in ("temperature_readings", BARE_READINGS):
            connection.execute(text(f"ANALYZE {name}"))
            rows, heap, indexes = connection.execute(
                text(
                    f"SELECT count(*), pg_table_size('{name}'), pg_indexes_size('{name}') "
                    f"FROM {name}"
                )
            ).one()
            found[name] = (int(rows), int(heap), int(indexes))
    return found


def alert_tasks(engine: Engine) -> dict[str, int]:
    """The cold-chain alert tasks opened, by kind (excursion, silence, warning, outside)."""
    query = text(
        "SELECT split_part(details->>'alert', ':', 1), count(*) FROM human_tasks "
        "WHERE kind = 'cold_chain_alert' GROUP BY 1 ORDER BY 1"
    )
    with engine.connect() as connection:
        return {kind: int(n) for kind, n in connection.execute(query)}
