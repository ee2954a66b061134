"""What a benchmark's side asked of Temporal, read from the dev server's Prometheus endpoint, so
a baseline is seen to do the same orchestration as the platform it is compared with.

Counted: the frontend's requests by operation (what clients and workers call: workflow starts,
updates, workflow and activity task completions, polls); as one figure, the requests the server
made of its own store, which follow from them; and the timers it fired, by kind: timeouts (each
activity's first, its heartbeat timeout since every step has one, and each workflow task's,
checked when they come due whether or not the work finished) and the workflows' own. The
timeouts of what a run started in its last seconds come due after it: they are counted, and
cost, in whatever runs next (``bench.fulfilment`` waits them out between runs).
"""

from __future__ import annotations

import re
from collections import Counter

import httpx

STORE = "the server's store"
# The timers fired, by the history service's task type.
TIMERS = {
    "TimerActiveTaskActivityTimeout": "timers fired: activity timeouts",
    "TimerActiveTaskWorkflowTaskTimeout": "timers fired: workflow task timeouts",
    "TimerActiveTaskUserTimer": "timers fired: the workflows' own",
}
OTHER_TIMERS = "timers fired: other"
_SAMPLE = re.compile(r"^(service_requests|persistence_requests|task_requests)\{([^}]*)\} (\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def requests_in(metrics: str) -> Counter[str]:
    """The counts so far in a Prometheus text exposition of the Temporal server's metrics."""
    counts: Counter[str] = Counter()
    for line in metrics.splitlines():
        sample = _SAMPLE.match(line)
        if sample is None:
            continue
        name, labels, value = sample.groups()
        label = dict(_LABEL.findall(labels))
        if name == "persistence_requests":
            counts[STORE] += round(float(value))
        elif name == "task_requests":
            task_type = label.get("task_type", "")
            if task_type.startswith("TimerActiveTask"):
                counts[TIMERS.get(task_type, OTHER_TIMERS)] += round(float(value))
        elif label.get("service_name") == "frontend":
            counts[label.get("operation", "unknown")] += round(float(value))
    return counts


def temporal_requests(metrics_url: str) -> Counter[str]:
    """The counts so far at ``metrics_url`` (``Services.temporal_metrics_url``)."""
    answer = httpx.get(metrics_url, timeout=10)
    answer.raise_for_status()
    return requests_in(answer.text)
