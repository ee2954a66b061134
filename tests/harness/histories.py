"""Recording workflow histories for the replay test.

Set ``TRADEFLOW_RECORD_HISTORIES=1`` to (re)write them under ``tests/histories/``; commit them
only when a workflow change is meant to be compatible with what already runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    if os.environ.get("TRADEFLOW_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())
