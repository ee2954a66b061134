"""A sandbox run from the command line as ``make up`` runs it, for the tests of that path."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def sandbox_process(name: str, *args: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``python -m sandboxes <name> --port 0 <args>`` and yield the URL it announces; on
    leaving, SIGTERM must end it cleanly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes", name, "--port", "0", *args],
        cwd=ROOT,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"{name} sandbox listening on http://127.0.0.1:"), line
        yield line.rsplit(" ", 1)[-1].strip()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
