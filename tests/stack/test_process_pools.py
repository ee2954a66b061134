"""A spawned pool whose process died is renewed by the caller that met it, once; a pool's
processes end with their worker, however it ends."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from stack.process_pools import PARENT_WATCH_SECONDS, SpawnedPool


def test_a_broken_pool_is_renewed_once_and_works_again() -> None:
    pool = SpawnedPool()
    assert pool.executor() == (None, 0)
    pool.use(1)
    try:
        broken, count = pool.executor()
        assert broken is not None and count == 1
        with pytest.raises(BrokenProcessPool):
            broken.submit(os._exit, 1).result()
        pool.renew(broken)
        fresh, _ = pool.executor()
        assert fresh is not None and fresh is not broken
        pool.renew(broken)  # a second caller that met the same broken pool
        assert pool.executor()[0] is fresh
        assert fresh.submit(abs, -3).result() == 3
    finally:
        pool.stop()
    assert pool.executor() == (None, 0)


def _worker(report: Connection) -> None:
    """A worker with a pool of one process: reports that process's pid, then waits."""
    pool = SpawnedPool()
    pool.use(1)
    executor, _ = pool.executor()
    assert executor is not None
    report.send(executor.submit(os.getpid).result())
    report.recv()  # never sent: the test kills this process


def _alive(pid: int) -> bool:
    """The process runs (a zombie, exited and not yet reaped, does not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_workers_pool_processes_end_with_it() -> None:
    """Killed outright, the worker leaves its pool's processes no queue to end on: each sees
    its parent gone and exits."""
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    worker = spawn.Process(target=_worker, args=(theirs,))
    worker.start()
    pooled = 0
    try:
        assert ours.poll(120), "the worker's pool never started"
        pooled = ours.recv()
        assert _alive(pooled)
        os.kill(worker.pid or 0, signal.SIGKILL)
        worker.join()
        deadline = time.monotonic() + 20 * PARENT_WATCH_SECONDS + 10
        while _alive(pooled) and time.monotonic() < deadline:
            time.sleep(PARENT_WATCH_SECONDS / 5)  # waiting on another process's exit
        assert not _alive(pooled), "the pool's process outlived its worker"
    finally:
        if worker.is_alive():
            worker.kill()
        if pooled and _alive(pooled):
            os.kill(pooled, signal.SIGKILL)
