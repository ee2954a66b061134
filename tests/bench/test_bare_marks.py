"""The orders benchmark's bare marks across processes: an activity's mark, set through the mark
board's proxy in one process, reaches the driver polling from another; an order whose mark is
not set stays waiting; a board that goes away fails the orders waiting instead of hanging them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from multiprocessing.context import SpawnContext

import pytest

from bench.bare_orders import MarkBoard, Marks, MarkSource
from bench.batches import polling

POLL_S = 0.01


def set_mark(opened: MarkSource, workflow_id: str) -> None:
    """What ``bench_open_task`` does in the worker's process, run in another one."""
    opened.add(workflow_id)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def spawn() -> SpawnContext:
    return get_context("spawn")


@pytest.fixture
def board(spawn: SpawnContext) -> Iterator[MarkBoard]:
    with MarkBoard(ctx=spawn) as running:
        yield running


async def test_a_mark_set_in_another_process_reaches_the_driver(
    board: MarkBoard, spawn: SpawnContext
) -> None:
    opened: MarkSource = board.OpenedTasks()  # type: ignore[attr-defined]
    marks = Marks(opened)
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
        async with polling([lambda: marks.poll(POLL_S)]):
            marked = marks.expect("BenchBareOrder:1")
            unmarked = marks.expect("BenchBareOrder:2")
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(worker, set_mark, opened, "BenchBareOrder:1")
            seen = await asyncio.wait_for(marked, timeout=30)
            assert seen > 0
            assert not unmarked.done()
    # A mark is taken once: the next wait for the same order needs the next mark.
    assert opened.taken(["BenchBareOrder:1"]) == {}


async def test_a_board_gone_fails_the_orders_waiting(spawn: SpawnContext) -> None:
    board = MarkBoard(ctx=spawn)
    board.start()
    opened: MarkSource = board.OpenedTasks()  # type: ignore[attr-defined]
    board.shutdown()
    marks = Marks(opened)
    async with polling([lambda: marks.poll(POLL_S)]):
        waiting = marks.expect("BenchBareOrder:3")
        with pytest.raises((OSError, EOFError)):
            await asyncio.wait_for(waiting, timeout=30)
