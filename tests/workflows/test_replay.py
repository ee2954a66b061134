"""Committed histories must replay against today's workflow code: non-determinism fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.worker import Replayer

from security.keys import KeyRing
from security.payload_codec import data_converter
from stack.worker_registry import WORKFLOWS
from tests.harness.histories import HISTORIES, load_history

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_committed() -> None:
    assert len(RECORDED) >= 3, (
        "record them with TRADEFLOW_RECORD_HISTORIES=1 (tests/harness/histories.py)"
    )


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_history_replays(path: Path, keyring: KeyRing) -> None:
    history = load_history(path)
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(keyring))
    await replayer.replay_workflow(history)
