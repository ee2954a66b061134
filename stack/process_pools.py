"""Processes a worker hands CPU-bound work to, so it never holds the interpreter lock that the
worker's other activities and workflow activations need.

Rendering PDFs (``documents.render``) and checking a large import's rows
(``activities.catalogue_checking``) each keep a ``SpawnedPool``, set up by ``worker.py`` for the
roles that do that work; until then (tests, a one-off script) the work runs in place. Spawned,
not forked: the worker already runs threads and the Temporal runtime, which a fork would copy
mid-flight. A pool whose process died (killed, out of memory) is broken for good, so the caller
that meets it renews it and fails its own attempt: the activity's retry finds fresh processes.

A pool's processes end with their worker, however it ends. Each holds both ends of the pool's
work queue, so a worker killed outright (SIGKILL, out of memory) left them waiting on it for
ever, 170 MB each with weasyprint loaded, and a supervisor restarting the worker added more: each
process now watches its parent and exits once it is gone. What must not outlive a process is
given to ``at_exit``, which runs on any way out but a kill: normally, as an orphan, or on the
SIGTERM a broken pool sends its other processes. A process's temporary files (weasyprint's copy
of the font, 5 MB) go in a folder of its own (``scratch_root() / pid``), which goes with it; one
killed outright leaves its folder, which its worker removes as it next sets up a pool once the
process is gone: at the renewal that follows the kill (if the dead process was reaped by then)
or at a later one, or at the worker's next start.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.util import Finalize
from pathlib import Path
from shutil import rmtree
from types import FrameType

PARENT_WATCH_SECONDS = 0.5  # how often a pool process looks for its worker

# No lock: a SIGTERM handler runs this list's callbacks in the main thread, between any two of
# its instructions, and would wait for ever on a lock that thread held. A list's append and pop
# are each atomic in CPython.
_at_exit: list[Callable[[], object]] = []


def at_exit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once as this process ends: normally (multiprocessing's finalizers, which
    a pool process runs as well, unlike ``atexit``'s), or as a pool process whose worker is gone
    or that is terminated (SIGTERM, as a broken pool ends its others). Not when it is killed."""
    _at_exit.append(callback)


def _run_at_exit() -> None:
    # The ways out may meet (the worker gone as the process ends normally): each callback is
    # taken from the list before it runs, so it runs once.
    while True:
        try:
            callback = _at_exit.pop()
        except IndexError:
            return
        with contextlib.suppress(Exception):  # the process goes whatever a callback meets
            callback()


Finalize(None, _run_at_exit, exitpriority=0)


class SpawnedPool:
    """One process pool, replaced as a whole: set up, renewed when broken, or stopped."""

    def __init__(self, initializer: Callable[[], object] | None = None) -> None:
        self._initializer = initializer
        self._executor: ProcessPoolExecutor | None = None
        self._count = 0
        self._lock = threading.Lock()

    def use(self, count: int) -> None:
        """``count`` processes from now on (the old ones end after their current work)."""
        with self._lock:
            self._replace(count)

    def stop(self) -> None:
        """No processes: work runs in place again."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None
                self._count = 0

    def executor(self) -> tuple[ProcessPoolExecutor | None, int]:
        """The processes and how many, or ``(None, 0)`` where work runs in place."""
        with self._lock:
            return self._executor, self._count

    def process_ids(self) -> frozenset[int]:
        """The pids of the processes the pool has started (a benchmark names their CPU)."""
        with self._lock:
            executor = self._executor
        # The standard library's own map of the processes it started: not its public API, so
        # read defensively.
        started = getattr(executor, "_processes", None) or {}
        return frozenset(started)

    def renew(self, broken: ProcessPoolExecutor) -> None:
        """Fresh processes in place of ``broken``, unless another caller renewed it already
        (checked and replaced under one lock, so a second renewal cannot cancel the first's
        new work)."""
        with self._lock:
            if self._executor is broken:
                self._replace(self._count)

    def _replace(self, count: int) -> None:
        root = _scratch_root()
        if root is not None:
            _sweep(root)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=functools.partial(_started, os.getpid(), self._initializer, root),
        )
        self._count = count


def _started(parent: int, initializer: Callable[[], object] | None, root: Path | None) -> None:
    """First in each pool process: gone at once if its worker is (it may die while the process
    starts), else watched from a thread of its own, its temporary files kept in a folder of its
    own under ``root`` (none: the system's temporary directory); then the pool's initializer."""
    if os.getppid() != parent:
        os._exit(0)
    if root is not None:
        folder = root / str(os.getpid())
        folder.mkdir(mode=0o700, exist_ok=True)
        # The process does nothing but its pool's work, so all of its temporary files go there.
        tempfile.tempdir = str(folder)
        at_exit(functools.partial(rmtree, folder, ignore_errors=True))
    signal.signal(signal.SIGTERM, _terminated)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    if initializer is not None:
        initializer()


def scratch_root() -> Path:
    """Where this user's pool processes keep their temporary folders, one each named by its
    pid (``$TMPDIR/tradeflow-pool-processes-<uid>``)."""
    return Path(tempfile.gettempdir()) / f"tradeflow-pool-processes-{os.getuid()}"


def _scratch_root() -> Path | None:
    """``scratch_root``, made private to this user; None where it cannot be (a file, a link or
    another user's folder by that name): the processes then use the temporary directory."""
    root = scratch_root()
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    try:
        status = root.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
        return None
    if stat.S_IMODE(status.st_mode) != 0o700:
        root.chmod(0o700)
    return root


def ensure_temporary_folder() -> None:
    """Make this process's temporary folder again if something removed it (a cleaner of old
    files, while the process sat idle): a temporary file made in it would fail otherwise."""
    Path(tempfile.gettempdir()).mkdir(mode=0o700, parents=True, exist_ok=True)


def _sweep(root: Path) -> None:
    """The folders under ``root`` of pool processes that are gone, removed (killed outright,
    they could not). A pid taken again since by a process of ours keeps its folder (it runs)."""
    for folder in root.iterdir():
        if folder.name.isdigit() and _gone(int(folder.name)):
            rmtree(folder, ignore_errors=True)


def _gone(pid: int) -> bool:
    """No process runs as ``pid`` (one that exited and awaits its parent's reaping counts as
    gone). A pid another process took since is taken for running: its folder stays."""
    if Path("/proc/self/stat").exists():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        return state == "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _terminated(signum: int, frame: FrameType | None) -> None:
    _run_at_exit()
    # Ended by the signal itself, as it would have been without this handler.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _watch(parent: int) -> None:
    # An orphan is adopted (by init or a subreaper): its parent's pid is no longer its worker's.
    while os.getppid() == parent:
        time.sleep(PARENT_WATCH_SECONDS)
    _run_at_exit()
    os._exit(0)
