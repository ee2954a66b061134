"""The cold-chain benchmark's bare workflow: one per trip, told of each batch by one signal
(the platform's ``readings`` signal and payload), it only counts the readings; an alarm batch
opens a bare task row through one activity (``bench.cold_chain_bare.BareTaskActivities``). It
ends once it has counted every reading of its trip."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from bench.cold_chain_bare import BareTask
    from contracts.cold_chain import ReadingsBatch
    from workflows import policies


@workflow.defn(name="BenchBareTripWorkflow")
class BareTripWorkflow:
    def __init__(self) -> None:
        self._readings = 0
        self._alarms: list[ReadingsBatch] = []

    @workflow.run
    async def run(self, expected: int) -> int:
        while True:
            await workflow.wait_condition(lambda: bool(self._alarms) or self._readings >= expected)
            if not self._alarms:
                return self._readings
            batch = self._alarms.pop(0)
            task = BareTask(workflow_id=workflow.info().workflow_id, key=batch.last_at.isoformat())
            await policies.run("bench_open_bare_task", task)

    @workflow.signal(name="readings")
    def readings(self, batch: ReadingsBatch) -> None:
        self._readings += batch.count
        if batch.alarm:
            self._alarms.append(batch)
