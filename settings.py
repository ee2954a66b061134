"""Runtime configuration, from environment variables only (``TRADEFLOW_*``; see the README)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that must never reach production: the embedded default writes real random keys into
# the data folder, so any of these values means the configuration was copied from an example.
_EXAMPLE_SECRETS = {"", "changeme", "change-me", "secret", "example"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADEFLOW_", extra="ignore")

    environment: str = Field(default="embedded", description="embedded | production | test")
    data_dir: Path = Path(".data")

    database_url: str = Field(default="", validation_alias="DATABASE_URL")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    # How long the API and the worker wait at start for a Temporal server that is not up yet.
    temporal_connect_wait_s: float = 120.0
    # The workflows' queue; activities run on "<task_queue>-io" and "<task_queue>-render"
    # (contracts.queues: a workflow names them from its own queue, as it cannot read settings).
    task_queue: str = "tradeflow"
    # Per worker process: workflow tasks at once, I/O activities at once (threads), render
    # activities at once and the processes that render their PDFs (worker.py --roles).
    workflow_concurrency: int = Field(default=100, ge=1, le=1000)
    io_concurrency: int = Field(default=16, ge=1, le=256)
    render_concurrency: int = Field(default=4, ge=1, le=64)
    render_processes: int = Field(default=2, ge=1, le=64)
    # Processes an I/O worker checks large catalogue imports in (activities.catalogue_checking).
    catalogue_check_processes: int = Field(default=2, ge=1, le=64)

    # Object store: "s3" (any S3 endpoint) or "local" (files under data_dir/objects).
    object_store: str = "local"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "tradeflow-documents"
    s3_region: str = "us-east-1"

    # "kid:base64key,kid2:base64key"; the active key encrypts, every listed key decrypts.
    encryption_keys: str = ""
    active_key_id: str = ""
    jwt_secret: str = ""
    jwt_ttl_minutes: int = 60
    # Signs the audit chain's checkpoints: base64 of a 32-byte Ed25519 seed. Empty: outside
    # production, derived from the data folder's generated secret (security.audit_checkpoints).
    # The sealer checkpoints every N sealed entries or T seconds, whichever comes first.
    audit_signing_key: str = ""
    audit_checkpoint_every: int = Field(default=1000, ge=1, le=1_000_000)
    audit_checkpoint_s: float = Field(default=60.0, gt=0, le=86_400)
    audit_seal_poll_s: float = Field(default=0.5, gt=0, le=3600)
    # How often the singletons worker sums the catalogue's changed products' prices again.
    catalogue_prices_poll_s: float = Field(default=1.0, gt=0, le=3600)

    certification_registry_url: str = "http://127.0.0.1:8301"
    certification_registry_timeout_s: float = 5.0

    # The transport regulator's e-waybill system. An empty key means, outside production, the
    # data folder's generated one, which `make up` also gives the regulator sandbox.
    regulator_url: str = "http://127.0.0.1:8302"
    regulator_api_key: str = ""
    regulator_timeout_s: float = 10.0

    # The bank's host-to-host channel (银企直连) for disbursements and statements; the key is
    # the regulator's pattern: empty means, outside production, the data folder's generated one.
    bank_url: str = "http://127.0.0.1:8303"
    bank_api_key: str = ""
    bank_timeout_s: float = 10.0
    # The platform's supervised settlement account (监管账户): loans are paid out of it and
    # buyers pay into it. The default is the bank sandbox's seeded account.
    bank_platform_account: str = "6222020000000001"
    # The receivables registry (动产融资统一登记公示系统 style): pledges of financed receivables.
    receivables_registry_url: str = "http://127.0.0.1:8304"
    receivables_registry_timeout_s: float = 10.0

    # Notification rules' e-mail (plain SMTP, as to a local relay; `make up` runs the mail
    # sandbox there) and webhooks. Plain-HTTP webhooks to this machine only when allowed (the
    # local sandboxes); the relay looks for new process events this often.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8325
    smtp_timeout_s: float = 10.0
    mail_from: str = "Tradeflow <notifications@tradeflow.example>"
    webhook_timeout_s: float = 10.0
    webhook_allow_loopback: bool = False
    notification_relay_poll_s: float = 1.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_ui_origins: list[str] = ["http://localhost:8233", "http://127.0.0.1:8233"]
    # Where engineers open a workflow in the Temporal Web UI (`make up` serves it on 8233); the
    # workbench's process pages link there.
    temporal_ui_url: str = "http://localhost:8233"
    # Lets the local Temporal Web UI decode payloads without a token; embedded default only.
    codec_allow_loopback_ui: bool = False
    # The Temporal Web UI's own sign-in (OpenID Connect) in production: the access tokens it
    # passes to /codec are accepted when signed by a key of the provider's JWKS, issued by the
    # issuer for the audience, unexpired, and naming the ops group in the groups claim (a dotted
    # path, e.g. "realm_access.roles"). No issuer: only platform tokens open the codec.
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_groups_claim: str = "groups"
    oidc_ops_group: str = ""

    max_upload_bytes: int = 10 * 1024 * 1024

    # Load shedding in the API (api.shedding): requests served at once (below the thread pool
    # and the database pool, so what waits, waits cheaply), requests waiting for a place and
    # for how long; past those, 503 with Retry-After. Each caller (token's user, else address)
    # has a token bucket: sustained requests a second and burst (0 a second: no limit); 429.
    # In flight stays below the API's 20 database connections for requests (pool 10 + overflow
    # 10; 4 more for the catalogue's facet counters): a request holds its session while it
    # awaits Temporal, and past the pool it would wait 30 s.
    shed_max_in_flight: int = Field(default=16, ge=1, le=10_000)
    shed_max_queued: int = Field(default=256, ge=0, le=100_000)
    shed_queue_wait_s: float = Field(default=2.0, gt=0, le=300)
    shed_retry_after_s: int = Field(default=2, ge=1, le=3600)
    rate_limit_per_s: float = Field(default=100.0, ge=0, le=100_000)
    rate_limit_burst: int = Field(default=1000, ge=1, le=1_000_000)
    # Timeouts of the API's outbound calls: a statement of an API session (the workers'
    # activities have their own start-to-close timeouts), a Temporal call (an update waits for
    # its handler, so longer), the object store's connect and per-read waits.
    api_statement_timeout_ms: int = Field(default=15_000, ge=0, le=3_600_000)
    temporal_rpc_timeout_s: float = Field(default=10.0, gt=0, le=600)
    temporal_update_timeout_s: float = Field(default=30.0, gt=0, le=600)
    s3_connect_timeout_s: float = Field(default=5.0, gt=0, le=300)
    s3_read_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # Prometheus scrapes each process (API or worker) here, apart from the public API port;
    # 0: no metrics endpoint. Loopback by default: a cluster sets the host to 0.0.0.0.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # Traces to an OpenTelemetry collector over OTLP/HTTP (its base URL, e.g.
    # http://otel-collector:4318). Empty, the default: no exporter, no tracing at all.
    otlp_endpoint: str = ""

    @model_validator(mode="after")
    def _refuse_example_secrets(self) -> Settings:
        if self.environment == "production":
            for name in ("jwt_secret", "encryption_keys", "regulator_api_key"):
                if getattr(self, name).strip().lower() in _EXAMPLE_SECRETS:
                    raise ValueError(f"TRADEFLOW_{name.upper()} must be set to a real secret")
            if self.webhook_allow_loopback:
                raise ValueError("TRADEFLOW_WEBHOOK_ALLOW_LOOPBACK is for local sandboxes only")
            if self.codec_allow_loopback_ui:
                raise ValueError(
                    "TRADEFLOW_CODEC_ALLOW_LOOPBACK_UI is for the embedded default only"
                )
        return self

    @model_validator(mode="after")
    def _refuse_half_oidc(self) -> Settings:
        names = ("oidc_issuer", "oidc_audience", "oidc_jwks_url", "oidc_ops_group")
        missing = [f"TRADEFLOW_{name.upper()}" for name in names if not getattr(self, name)]
        if 0 < len(missing) < len(names):
            raise ValueError(f"the codec's OIDC sign-in needs {', '.join(missing)} too")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
