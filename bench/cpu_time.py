"""CPU time by part of the platform: where a benchmark's time goes, read from Linux's /proc.

Every part a benchmark runs is a process under it (the API and the bare endpoint under uvicorn,
the client process, the Temporal dev server, PostgreSQL, moto), and the worker runs in the
benchmark's own process, so the CPU seconds each has used, taken before and after a phase, say
which part the phase cost. A process's own time counts with that of its children it has reaped
(PostgreSQL's postmaster reaps its closed backends), so nothing that ended mid-phase is lost.
On a system without /proc the figures are empty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROC = Path("/proc")
# (what the command line holds, the part): the first that matches names the process.
PARTS = (
    ("api.main:create_app", "API"),
    ("cold_chain_bare:create_app", "bare endpoint"),
    ("multiprocessing", "client process"),
    ("temporal", "Temporal dev server"),
    ("postgres", "PostgreSQL"),
    ("moto.server", "S3 (moto)"),
)
WORKER = "worker (benchmark process)"


def _stat(pid: int) -> tuple[int, float] | None:
    """The parent's pid and the CPU seconds used, or None if the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields after the command, which is in parentheses and may hold spaces.
    fields = text[text.rindex(")") + 2 :].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def _command(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _part(pid: int, root: int, named: Mapping[int, str]) -> str:
    if pid in named:
        return named[pid]
    if pid == root:
        return WORKER
    command = _command(pid)
    return next((part for needle, part in PARTS if needle in command), "other")


def cpu_between(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """The CPU seconds each part used between two readings of ``cpu_seconds``."""
    return {part: after[part] - before.get(part, 0.0) for part in after}


def cpu_seconds(
    markers: tuple[str, ...] = (), named: Mapping[int, str] | None = None
) -> dict[str, float]:
    """CPU seconds used so far by this process and every process under it, and by each
    process whose command line holds one of ``markers`` and those under it (a server that
    detached itself, such as PostgreSQL started by ``pg_ctl``, named by its data folder).
    ``named``: parts for processes the command line cannot tell apart (each spawned process
    runs ``multiprocessing.spawn``), by pid."""
    root = os.getpid()
    if not PROC.is_dir():
        return {}
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                parents[int(entry.name)], used[int(entry.name)] = found
    tree = {root} | {pid for pid in parents if markers and any(m in _command(pid) for m in markers)}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    totals: dict[str, float] = {}
    for pid in tree:
        if pid in used:
            part = _part(pid, root, named or {})
            totals[part] = totals.get(part, 0.0) + used[pid]
    return totals
