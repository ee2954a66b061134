"""``make up``: the whole platform on one machine, as one supervised process group.

Runs PostgreSQL (embedded, unless DATABASE_URL is set) as a supervised child, applies
migrations, seeds the demo organisations on first start, then runs the Temporal dev server
(SQLite in WAL mode, Web UI), the external-system sandboxes, the workers (a process for each
role: workflows, I/O activities, PDF rendering) and the API as children too. A child that dies
is restarted with a capped back-off for as long as ``make up`` runs, and each exit is logged at
ERROR; the healthy children are never taken down with it. Ctrl-C or SIGTERM stops them all,
newest first. Everything persists under the data folder
(``TRADEFLOW_DATA_DIR``, default ``.data``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from db.migrate import migrate
from db.seed import DEMO_ORGS, DEMO_PASSWORD, seed_demo
from db.session import make_engine, make_session_factory, transaction
from gateways.bank import bank_api_key_from_settings
from gateways.regulator import regulator_api_key_from_settings
from security.columns import install_column_keyring
from security.keys import keyring_from_settings
from settings import Settings, get_settings
from stack.logs import configure_logging
from stack.postgres import EmbeddedPostgres
from stack.supervisor import Child, Supervisor
from stack.temporal import dev_server_args, dev_server_path

ROOT = Path(__file__).resolve().parents[1]
TEMPORAL_PORT = 7233
UI_PORT = 8233
REGISTRY_PORT = 8301
REGULATOR_PORT = 8302
BANK_PORT = 8303
RECEIVABLES_REGISTRY_PORT = 8304
MAIL_PORT = 8305  # the mail sandbox's inbox, over HTTP
WEBHOOK_SINK_PORT = 8306
SMTP_PORT = 8325  # the mail sandbox's SMTP
METRICS_PORT = 9464  # the first worker process's; the next ones count up from it
API_METRICS_PORT = 9469  # past the workers' 9464-9466, with room for more worker processes
# One process a role (worker.py --roles), so each can be watched, restarted and sized on its
# own; the once-per-cluster duties ride with the workflows, of which `make up` runs one.
WORKER_PROCESSES = (
    ("workflows", "workflows,singletons"),
    ("io", "io"),
    ("render", "render"),
)


def port_open(port: int) -> Callable[[], bool]:
    """A readiness check: something accepts connections on the loopback ``port``."""

    def probe() -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    return probe


def start_database(supervisor: Supervisor, data_dir: Path) -> str:
    """DATABASE_URL if given; else the supervised embedded server's ``tradeflow`` database."""
    if configured := os.environ.get("DATABASE_URL"):
        return configured
    server = EmbeddedPostgres.prepare(data_dir / "postgres")
    supervisor.start(server.child())
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'tradeflow'")) is None:
            conn.execute(text("CREATE DATABASE tradeflow"))
    admin.dispose()
    return server.url("tradeflow")


def platform_children(settings: Settings, *, data_dir: Path, env: dict[str, str]) -> list[Child]:
    """Temporal, the sandboxes, the workers and the API, in the order they start."""
    python = sys.executable
    api_url = f"http://{settings.api_host}:{settings.api_port}"

    def sandbox(name: str, port: int) -> Child:
        folder = data_dir / "sandboxes" / name
        argv = [python, "-m", "sandboxes", name, "--port", str(port), "--data-dir", str(folder)]
        return Child(name, argv, env=env, ready=port_open(port))

    temporal = [
        str(dev_server_path()),
        *("server", "start-dev", "--ip", "127.0.0.1", "--port", str(TEMPORAL_PORT)),
        *("--log-level", "warn"),
        *dev_server_args(
            db_file=data_dir / "temporal.db", ui_port=UI_PORT, codec_endpoint=f"{api_url}/codec"
        ),
    ]
    api = [
        *(python, "-m", "uvicorn", "api.main:create_app", "--factory"),
        *("--host", settings.api_host, "--port", str(settings.api_port), "--no-access-log"),
    ]
    return [
        Child("temporal", temporal, env=env, ready=port_open(TEMPORAL_PORT)),
        sandbox("certification-registry", REGISTRY_PORT),
        sandbox("regulator", REGULATOR_PORT),
        sandbox("bank", BANK_PORT),
        sandbox("receivables-registry", RECEIVABLES_REGISTRY_PORT),
        sandbox("mail", MAIL_PORT),
        sandbox("webhook-sink", WEBHOOK_SINK_PORT),
        *(
            Child(
                f"worker-{name}",
                [python, "worker.py", "--roles", roles],
                env=dict(env, TRADEFLOW_METRICS_PORT=str(METRICS_PORT + offset)),
            )
            for offset, (name, roles) in enumerate(WORKER_PROCESSES)
        ),
        Child(
            "api",
            api,
            env=dict(env, TRADEFLOW_METRICS_PORT=str(API_METRICS_PORT)),
            ready=port_open(settings.api_port),
        ),
    ]


def main() -> None:
    # Warnings and errors only: a restart is logged at ERROR, start-up chatter stays out.
    configure_logging("supervisor", level=logging.WARNING)
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    supervisor = Supervisor(logs=logs, cwd=ROOT)
    stop = threading.Event()
    running = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        first = not stop.is_set()
        stop.set()
        if first and not running:
            raise KeyboardInterrupt  # still starting: leave the start-up for the stop below

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        url = start_database(supervisor, data_dir)
        migrate(url)
        install_column_keyring(keyring_from_settings(settings))
        engine = make_engine(url, pool_size=1)
        with transaction(make_session_factory(engine)) as session:
            seeded = seed_demo(session)
        engine.dispose()  # no connection of ours keeps the database from a fast restart
        # Given to the regulator and bank sandboxes and the worker alike: the configured keys,
        # else the data folder's generated ones.
        local = settings.model_copy(update={"data_dir": data_dir})
        regulator_key = regulator_api_key_from_settings(local)
        bank_key = bank_api_key_from_settings(local)
        env = dict(
            os.environ,
            DATABASE_URL=url,
            TRADEFLOW_DATA_DIR=str(data_dir),
            TRADEFLOW_CODEC_ALLOW_LOOPBACK_UI="true",
            TRADEFLOW_CERTIFICATION_REGISTRY_URL=f"http://127.0.0.1:{REGISTRY_PORT}",
            TRADEFLOW_REGULATOR_URL=f"http://127.0.0.1:{REGULATOR_PORT}",
            TRADEFLOW_REGULATOR_API_KEY=regulator_key,
            TRADEFLOW_BANK_URL=f"http://127.0.0.1:{BANK_PORT}",
            TRADEFLOW_BANK_API_KEY=bank_key,
            TRADEFLOW_RECEIVABLES_REGISTRY_URL=f"http://127.0.0.1:{RECEIVABLES_REGISTRY_PORT}",
            TRADEFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{TEMPORAL_PORT}",
            TRADEFLOW_SMTP_HOST="127.0.0.1",
            TRADEFLOW_SMTP_PORT=str(SMTP_PORT),
            # Rules may post to the webhook sink (plain HTTP on this machine).
            TRADEFLOW_WEBHOOK_ALLOW_LOOPBACK="true",
        )
        for child in platform_children(settings, data_dir=data_dir, env=env):
            supervisor.start(child)
        running = True
        if not stop.is_set():
            _banner(f"http://{settings.api_host}:{settings.api_port}", data_dir, seeded=seeded)
            supervisor.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping Tradeflow ...", flush=True)
        supervisor.stop()


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
  Workbench        {api_url}/workbench/   (工作台: sign in with a demo login below)
  Readiness        {api_url}/ready    (each dependency, 503 naming any failing; liveness: /health)
  Temporal Web UI  http://localhost:{UI_PORT}
  Temporal gRPC    127.0.0.1:{TEMPORAL_PORT}
  Registry sandbox http://127.0.0.1:{REGISTRY_PORT}
  Regulator        http://127.0.0.1:{REGULATOR_PORT}     (sandbox)
  Bank             http://127.0.0.1:{BANK_PORT}     (sandbox)
  Receivables reg. http://127.0.0.1:{RECEIVABLES_REGISTRY_PORT}     (sandbox)
  Mail inbox       http://127.0.0.1:{MAIL_PORT}/messages   (sandbox; SMTP on {SMTP_PORT})
  Webhook sink     http://127.0.0.1:{WEBHOOK_SINK_PORT}/hooks/<name>   (sandbox)
  Worker metrics   http://127.0.0.1:{METRICS_PORT}/metrics   (workflows; then io, render)
  API metrics      http://127.0.0.1:{API_METRICS_PORT}/metrics   (Prometheus)
  Data folder      {data_dir}     (logs in {data_dir / "logs"})

Demo logins (password "{DEMO_PASSWORD}"):
{users}

A process that exits is restarted with back-off (capped at 60 s) and logged at ERROR.
Ctrl-C stops everything.""",
        flush=True,
    )


if __name__ == "__main__":
    main()
