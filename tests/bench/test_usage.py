"""What a benchmark's side used: Temporal's requests read from its metrics (the frontend's by
operation, the store's as one figure, the timers by kind), the difference a run made to
them, CPU seconds for a process named by pid, and the orders benchmark's table of both."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.batches import BatchResult
from bench.cpu_time import cpu_seconds
from bench.fulfilment_report import Round, usage_lines
from bench.temporal_requests import OTHER_TIMERS, STORE, TIMERS, requests_in
from bench.usage import Meter, Usage


def exposition(completed: int, store: int) -> str:
    return "\n".join(
        [
            "# HELP service_requests service_requests counter",
            "# TYPE service_requests counter",
            'service_requests{namespace="default",operation="RespondWorkflowTaskCompleted",'
            f'service_name="frontend"}} {completed}',
            'service_requests{namespace="default",operation="AddWorkflowTask",'
            'service_name="matching"} 900',
            'service_requests{namespace="_unknown_",operation="GetSystemInfo",'
            'service_name="frontend"} 1',
            'persistence_requests{operation="UpdateWorkflowExecution",'
            f'service_name="history"}} {store}',
            'persistence_requests{operation="CreateTasks",service_name="matching"} 5',
            'service_latency_sum{operation="RespondWorkflowTaskCompleted"} 12.5',
            'task_requests{operation="TimerActiveTaskActivityTimeout",service_name="history",'
            'task_type="TimerActiveTaskActivityTimeout"} 30',
            'task_requests{operation="TimerActiveTaskWorkflowTaskTimeout",service_name="history",'
            'task_type="TimerActiveTaskWorkflowTaskTimeout"} 12',
            'task_requests{operation="TimerActiveTaskUserTimer",service_name="history",'
            'task_type="TimerActiveTaskUserTimer"} 7',
            'task_requests{operation="TimerActiveTaskDeleteHistoryEvent",service_name="history",'
            'task_type="TimerActiveTaskDeleteHistoryEvent"} 2',
            'task_requests{operation="TransferActiveTaskActivity",service_name="history",'
            'task_type="TransferActiveTaskActivity"} 300',
        ]
    )


def test_the_frontends_requests_by_operation_the_stores_as_one_and_the_timers_by_kind() -> None:
    assert requests_in(exposition(completed=40, store=70)) == Counter(
        {
            "RespondWorkflowTaskCompleted": 40,
            "GetSystemInfo": 1,
            STORE: 75,
            TIMERS["TimerActiveTaskActivityTimeout"]: 30,
            TIMERS["TimerActiveTaskWorkflowTaskTimeout"]: 12,
            TIMERS["TimerActiveTaskUserTimer"]: 7,
            OTHER_TIMERS: 2,
        }
    )


class _Metrics:
    """A metrics endpoint whose counters move on at each reading."""

    def __init__(self) -> None:
        self.readings = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self.readings += 1
            return exposition(completed=10 * self.readings, store=100 * self.readings)


@pytest.fixture
def metrics() -> Iterator[tuple[str, _Metrics]]:
    counters = _Metrics()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = counters.next().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics", counters
    finally:
        server.shutdown()
        server.server_close()


async def test_a_meter_gives_what_the_run_added_to_temporals_counts(
    metrics: tuple[str, _Metrics],
) -> None:
    url, counters = metrics

    async def run() -> str:
        return "done"

    result, used = await Meter(url, (), dict).around(run())
    assert result == "done"
    assert counters.readings == 2
    # Read once before and once after: 10 then 20 completions, 105 then 205 store requests.
    assert used.temporal == Counter({"RespondWorkflowTaskCompleted": 10, STORE: 100})
    assert used.cpu[next(iter(used.cpu))] >= 0.0


BURN = (
    "import sys, time\n"
    "while time.process_time() < 0.2: pass\n"
    "print('burnt', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_process_named_by_pid_has_a_part_of_its_own() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "burnt\n"
        used = cpu_seconds(named={child.pid: "burner"})
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    # Its 0.2 s of CPU is the burner's, not the command line's part ("other").
    assert used["burner"] >= 0.15
    assert used.get("other", 0.0) < 0.15


def test_the_table_puts_the_platforms_costliest_part_first_beside_the_machine() -> None:
    platform = Usage(
        cpu={"API": 14.0, "Temporal dev server": 30.0, "worker (benchmark process)": 28.0},
        temporal=Counter({"StartWorkflowExecution": 100, "GetSystemInfo": 1, STORE: 3000}),
    )
    baseline = Usage(
        cpu={"Temporal dev server": 21.0, "worker (benchmark process)": 14.0, "idle": 0.01},
        temporal=Counter({"StartWorkflowExecution": 100, STORE: 2500}),
    )
    round_ = Round(
        platform=BatchResult((), 40.0),
        baseline=BatchResult((), 20.0),
        requests=Counter(),
        bare_polls=0,
        usage=(platform, baseline),
    )
    lines = usage_lines(round_, cores=2)
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    labels = [row.split("|")[1].strip() for row in rows]
    assert labels[:7] == [
        "CPU seconds by part",
        "Temporal dev server",
        "worker (benchmark process)",
        "API",
        "all",
        "the machine's: wall time x 2 cores",
        "Temporal's requests",
    ]
    assert "idle" not in labels  # under 0.05 s on both sides
    cells = {row.split("|")[1].strip(): row.split("|")[2:4] for row in rows}
    assert [c.strip() for c in cells["all"]] == ["72.0", "35.0"]
    assert [c.strip() for c in cells["the machine's: wall time x 2 cores"]] == ["80.0", "40.0"]
    assert [c.strip() for c in cells["other requests"]] == ["1", "0"]
    assert [c.strip() for c in cells["the server's store"]] == ["3000", "2500"]
    for timers in (*TIMERS.values(), OTHER_TIMERS):
        assert [c.strip() for c in cells[timers]] == ["0", "0"]
