"""Keeps the platform's processes running: each is a child that, when it exits, is started again
after a delay that doubles up to a cap, for as long as the supervisor runs.

A child that keeps failing never takes the others down: it keeps being retried at the capped
delay and each exit is logged at ERROR with its restart count and the next attempt, while the
healthy children go on untouched. Stopping ends every child, newest first, so the API goes
before the worker and the database last.
"""

from __future__ import annotations

import logging
import pwd
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger("tradeflow.supervisor")


@dataclass(frozen=True)
class Backoff:
    """How long a child waits before it is started again."""

    first: float = 1.0
    cap: float = 60.0
    # A child that ran this long before exiting was healthy: its next restart waits `first` again.
    stable_after: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait before restart number ``failures`` in a row (1 for the first)."""
        # The exponent is bounded so a child failing for days cannot overflow the float.
        doublings = min(max(failures - 1, 0), 32)
        return min(self.first * float(2**doublings), self.cap)


@dataclass(eq=False)
class Child:
    """One supervised process: its command, and how to tell it is ready and to stop it."""

    name: str
    argv: list[str]
    env: Mapping[str, str] | None = None
    # Called while the child starts: true once it serves (a port open, a database answering).
    ready: Callable[[], bool] | None = None
    # SIGTERM by default; PostgreSQL takes SIGINT (fast shutdown: it does not wait for clients).
    stop_signal: signal.Signals = signal.SIGTERM
    # The OS user to run as (PostgreSQL refuses to run as root); None: the supervisor's own.
    user: str | None = None

    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    restarts: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)  # exits in a row, each soon after its start
    started_at: float = field(default=0.0, init=False)
    next_start: float | None = field(default=None, init=False)  # monotonic; set while waiting
    last_delay: float = field(default=0.0, init=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    """Starts children, restarts those that exit, and stops them all."""

    def __init__(
        self,
        *,
        logs: Path,
        cwd: Path | None = None,
        backoff: Backoff | None = None,
        stop_timeout: float = 15.0,
        poll_interval: float = 0.2,
    ) -> None:
        self.logs = logs
        self.cwd = cwd
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.children: list[Child] = []
        self._lock = threading.Lock()
        self._stopping = False

    def start(self, child: Child, *, ready_timeout: float = 180.0) -> None:
        """Start ``child`` and, if it has a readiness check, wait until it passes. Generous: on
        a busy 2-core machine the API's imports alone took 20 s of wall time."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self.children.append(child)
            self._spawn(child)
        if child.ready is not None:
            self.wait_ready(child, timeout=ready_timeout)

    def wait_ready(self, child: Child, *, timeout: float) -> None:
        """Restart children as needed until ``child`` is ready; raise after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not (child.running and child.ready is not None and child.ready()):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{child.name} was not ready within {timeout:.0f} s: see {self.log_file(child)}"
                )
            self.tick()
            time.sleep(self.poll_interval)

    def tick(self) -> None:
        """One pass: schedule a restart for each child that exited, start those now due."""
        with self._lock:
            if self._stopping:
                return
            now = time.monotonic()
            for child in self.children:
                if child.next_start is not None:
                    if now >= child.next_start:
                        child.next_start = None
                        child.restarts += 1
                        self._spawn(child)
                elif child.process is not None and child.process.poll() is not None:
                    self._schedule_restart(child, now)

    def run(self, stop: threading.Event) -> None:
        """Supervise until ``stop`` is set (the caller then calls :meth:`stop`)."""
        while not stop.wait(self.poll_interval):
            self.tick()

    def stop(self) -> None:
        """End every child, newest first: its stop signal, then SIGKILL after ``stop_timeout``."""
        with self._lock:
            self._stopping = True
            for child in self.children:
                child.next_start = None
            children = list(reversed(self.children))
        for child in children:
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(child.stop_signal)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.name)
                process.kill()
                process.wait()

    def log_file(self, child: Child) -> Path:
        return self.logs / f"{child.name}.log"

    def _spawn(self, child: Child) -> None:
        uid, gid = _ids(child.user)
        with self.log_file(child).open("ab") as output:
            child.process = subprocess.Popen(
                child.argv,
                cwd=self.cwd,
                env=dict(child.env) if child.env is not None else None,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: Ctrl-C reaches the supervisor only, which then stops
                # the children in order (the API before the database it talks to).
                process_group=0,
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
            )
        child.started_at = time.monotonic()

    def _schedule_restart(self, child: Child, now: float) -> None:
        assert child.process is not None
        ran_for = now - child.started_at
        child.failures = 1 if ran_for >= self.backoff.stable_after else child.failures + 1
        child.last_delay = self.backoff.delay(child.failures)
        child.next_start = now + child.last_delay
        at = datetime.now(UTC) + timedelta(seconds=child.last_delay)
        log.error(
            "%s exited with code %s after %.0f s; restart %d at %s (in %.0f s), see %s",
            child.name,
            child.process.returncode,
            ran_for,
            child.restarts + 1,
            at.strftime("%H:%M:%S"),
            child.last_delay,
            self.log_file(child),
            extra={
                "child": child.name,
                "exit_code": child.process.returncode,
                "restart": child.restarts + 1,
                "failures_in_a_row": child.failures,
                "next_attempt_at": at.isoformat(timespec="seconds"),
            },
        )


def _ids(user: str | None) -> tuple[int | None, int | None]:
    """The user and group ids to run as: none to keep the supervisor's own."""
    if user is None:
        return None, None
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid
