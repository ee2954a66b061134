"""Recording workflow histories for the replay test.

Set ``TRADEFLOW_RECORD_HISTORIES=1`` to (re)write them under ``tests/histories/``; commit them
only when a workflow change is meant to be compatible with what already runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowHistory

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    if os.environ.get("TRADEFLOW_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    # The workflow id is part of the recording: workflows derive ids (tasks, documents) from it.
    document = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
    (HISTORIES / f"{name}.json").write_text(json.dumps(document))


def load_history(path: Path) -> WorkflowHistory:
    document = json.loads(path.read_text())
    return WorkflowHistory.from_json(document["workflow_id"], document["history"])
