"""A spawned pool whose process died is renewed by the caller that met it, once, and names its
new processes; a pool's processes end with their worker, however it ends, and run what was left
to their exit."""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from stack.process_pools import PARENT_WATCH_SECONDS, SpawnedPool, at_exit, scratch_root


def test_a_broken_pool_is_renewed_once_and_works_again() -> None:
    pool = SpawnedPool()
    assert pool.executor() == (None, 0)
    assert pool.process_ids() == frozenset()
    pool.use(1)
    try:
        broken, count = pool.executor()
        assert broken is not None and count == 1
        first = broken.submit(os.getpid).result()
        assert pool.process_ids() == {first}
        with pytest.raises(BrokenProcessPool):
            broken.submit(os._exit, 1).result()
        pool.renew(broken)
        fresh, _ = pool.executor()
        assert fresh is not None and fresh is not broken
        pool.renew(broken)  # a second caller that met the same broken pool
        assert pool.executor()[0] is fresh
        assert fresh.submit(abs, -3).result() == 3
        assert pool.process_ids() == {fresh.submit(os.getpid).result()} != {first}
    finally:
        pool.stop()
    assert pool.executor() == (None, 0)


def _touched_at_exit(marker: str) -> int:
    """In a pool process: ``marker`` is made when the process ends; its pid."""
    at_exit(Path(marker).touch)
    return os.getpid()


def test_a_pool_process_ending_normally_runs_what_it_was_given_at_exit(tmp_path: Path) -> None:
    marker = tmp_path / "ended"
    pool = SpawnedPool()
    pool.use(1)
    try:
        executor, _ = pool.executor()
        assert executor is not None
        executor.submit(_touched_at_exit, str(marker)).result()
        assert not marker.exists()
    finally:
        pool.stop()  # waits for the process to end
    assert marker.exists()


def _temporary_folder() -> tuple[int, str]:
    """In a pool process: a temporary folder, as weasyprint makes one for its copy of the font."""
    return os.getpid(), tempfile.mkdtemp(prefix="weasyprint-")


def _terminate_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_pool_processs_temporary_folders_go_with_it_however_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped, terminated (as a broken pool ends its other processes) or killed outright (its
    folder removed as the pool is renewed), a pool process leaves nothing in the temporary
    directory."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stranger = scratch_root() / str(os.getpid())
    stranger.mkdir(parents=True)  # a running process's folder: never swept
    pool = SpawnedPool()
    pool.use(1)
    try:
        for end in (_terminate_self, _kill_self):
            executor, _ = pool.executor()
            assert executor is not None
            pid, made = executor.submit(_temporary_folder).result()
            assert Path(made).parent == scratch_root() / str(pid)
            assert Path(made).is_dir()
            with pytest.raises(BrokenProcessPool):
                executor.submit(end).result()
            if end is _terminate_self:
                assert not Path(made).parent.exists()  # gone before the pool saw it die
            else:
                assert Path(made).is_dir()  # killed: nothing ran
                # The pool sees a process die as it closes its files, before it is gone: its
                # folder is swept once it has been reaped, which shutting the pool down waits for.
                executor.shutdown(wait=True)
            pool.renew(executor)
            assert not Path(made).parent.exists()
        executor, _ = pool.executor()
        assert executor is not None
        _, made = executor.submit(_temporary_folder).result()
    finally:
        pool.stop()
    assert not Path(made).parent.exists()
    assert [p.name for p in scratch_root().iterdir()] == [stranger.name]
    assert scratch_root().stat().st_mode & 0o777 == 0o700  # this user's alone


def test_a_scratch_root_not_this_users_own_folder_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link by the root's name (another user's trap) is neither written to nor swept: the
    processes keep their files in the temporary directory, as before."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "12345678").mkdir(parents=True)  # no such process: swept were it ours
    scratch_root().symlink_to(elsewhere)
    pool = SpawnedPool()
    pool.use(1)
    try:
        executor, _ = pool.executor()
        assert executor is not None
        _, made = executor.submit(_temporary_folder).result()
    finally:
        pool.stop()
    Path(made).rmdir()
    assert not Path(made).is_relative_to(elsewhere)
    assert [p.name for p in elsewhere.iterdir()] == ["12345678"]


def _worker(report: Connection, marker: str) -> None:
    """A worker with a pool of one process: reports that process's pid, then waits."""
    pool = SpawnedPool()
    pool.use(1)
    executor, _ = pool.executor()
    assert executor is not None
    report.send(executor.submit(_touched_at_exit, marker).result())
    report.recv()  # never sent: the test kills this process


def _alive(pid: int) -> bool:
    """The process runs (a zombie, exited and not yet reaped, does not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_workers_pool_processes_end_with_it(tmp_path: Path) -> None:
    """Killed outright, the worker leaves its pool's processes no queue to end on: each sees
    its parent gone and exits, running what it was given at exit (a render process's copy of
    the font goes so)."""
    marker = tmp_path / "ended"
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    worker = spawn.Process(target=_worker, args=(theirs, str(marker)))
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
        assert marker.exists()
    finally:
        if worker.is_alive():
            worker.kill()
        if pooled and _alive(pooled):
            os.kill(pooled, signal.SIGKILL)
