"""The supervisor keeps failing children coming back, never touches the healthy ones, and ends
every child when it stops: real child processes, small Python programs."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stack.supervisor import Backoff, Child, Supervisor
from tests.stack.waiting import wait_until

STEADY = "import time\nwhile True: time.sleep(3600)"
CRASHING = "import sys; sys.exit(3)"


def program(name: str, code: str, *, ready: Callable[[], bool] | None = None) -> Child:
    return Child(name, [sys.executable, "-c", code], ready=ready)


@contextmanager
def supervising(supervisor: Supervisor) -> Iterator[None]:
    """The supervisor's loop in a thread, as ``make up`` runs it; everything stopped after."""
    stop = threading.Event()
    loop = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    loop.start()
    try:
        yield
    finally:
        stop.set()
        loop.join()
        supervisor.stop()


def test_the_delay_doubles_up_to_its_cap() -> None:
    backoff = Backoff(first=1.0, cap=60.0)
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay(100_000) == 60.0


def test_a_crashing_child_keeps_being_restarted_while_another_stays_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = Supervisor(
        logs=tmp_path,
        backoff=Backoff(first=0.01, cap=0.04, stable_after=3600),
        poll_interval=0.01,
    )
    steady = program("steady", STEADY)
    crashing = program("crashing", CRASHING)
    supervisor.start(steady)
    steady_pid = steady.pid
    supervisor.start(crashing)

    with caplog.at_level(logging.ERROR, logger="tradeflow.supervisor"), supervising(supervisor):
        # Far past the six exits in a minute that used to stop the whole platform.
        wait_until(lambda: crashing.restarts >= 12, timeout=60, seen=lambda: crashing.restarts)
        assert steady.running and steady.pid == steady_pid
        assert crashing.failures >= 12
        assert crashing.last_delay == 0.04  # capped, and still trying

    reports = [r for r in caplog.records if getattr(r, "child", None) == "crashing"]
    assert len(reports) >= 12
    last = reports[-1]
    assert last.levelno == logging.ERROR
    assert last.__dict__["exit_code"] == 3
    assert last.__dict__["restart"] == len(reports)
    message = last.getMessage()
    assert "crashing" in message and f"restart {len(reports)} at" in message
    assert last.__dict__["next_attempt_at"][11:19] in message  # the time of the next attempt
    assert not [r for r in caplog.records if getattr(r, "child", None) == "steady"]


def test_a_child_that_ran_long_enough_starts_again_from_the_first_delay(tmp_path: Path) -> None:
    supervisor = Supervisor(
        logs=tmp_path, backoff=Backoff(first=0.01, cap=5.0, stable_after=0.0), poll_interval=0.01
    )
    crashing = program("crashing", CRASHING)
    supervisor.start(crashing)
    with supervising(supervisor):
        wait_until(lambda: crashing.restarts >= 4, timeout=60, seen=lambda: crashing.restarts)
        assert crashing.failures == 1
        assert crashing.last_delay == 0.01


def test_stop_ends_every_child_even_one_that_ignores_sigterm(tmp_path: Path) -> None:
    supervisor = Supervisor(
        logs=tmp_path,
        backoff=Backoff(first=3600, cap=3600),  # the crashing child waits through the stop
        stop_timeout=1.0,
        poll_interval=0.01,
    )
    armed = tmp_path / "armed"
    stubborn = program(
        "stubborn",
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "pathlib.Path(sys.argv[1]).touch()\n"
        "while True: time.sleep(3600)",
        ready=armed.exists,
    )
    stubborn.argv.append(str(armed))
    steady = program("steady", STEADY)
    crashing = program("crashing", CRASHING)
    for child in (steady, stubborn, crashing):
        supervisor.start(child)

    def crash_noticed() -> bool:
        supervisor.tick()
        return crashing.next_start is not None

    wait_until(crash_noticed, timeout=30, seen=lambda: crashing.process and crashing.process.poll())

    supervisor.stop()

    for child in (steady, stubborn, crashing):
        assert child.process is not None and child.process.poll() is not None, child.name
    assert stubborn.process is not None and stubborn.process.returncode == -9
    first_crash = crashing.process
    supervisor.tick()  # a stopped supervisor starts nothing again
    assert crashing.process is first_crash and crashing.restarts == 0
