"""Workflow ids whose review task is open, shared between activity threads and the driver."""

from __future__ import annotations

import threading
from collections.abc import Collection


class OpenedTasks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set()

    def add(self, workflow_id: str) -> None:
        with self._lock:
            self._ids.add(workflow_id)

    def taken(self, workflow_ids: Collection[str]) -> dict[str, str]:
        """The given ids that are open, removed from the set; the task id is the workflow id."""
        with self._lock:
            ready = self._ids.intersection(workflow_ids)
            self._ids -= ready
        return {workflow_id: workflow_id for workflow_id in ready}
