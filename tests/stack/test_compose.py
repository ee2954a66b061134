"""The production compose starts in order and recovers: read from the file itself (no Docker
engine here), and its search-attribute job run against a real dev server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from api.main import API_MAX_OVERFLOW, API_POOL_SIZE
from db.session import MAX_OVERFLOW, POOL_SIZE
from settings import Settings
from stack.temporal import SEARCH_ATTRIBUTES, dev_server_path

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# The Compose Specification's JSON schema as docker-compose 1.29.2 ships it (its PyPI wheel,
# docker_compose-1.29.2-py2.py3-none-any.whl, sha256 8d5589373b35c8d3...; the file
# compose/config/compose_spec.json; Apache License 2.0, its text beside it). No Docker engine
# runs here to read the file; the schema catches what Compose would refuse first: an unknown
# key, a wrong type.
SPECIFICATION = Path(__file__).with_name("compose_spec.json")
RESTARTING = {"always", "unless-stopped", "on-failure"}


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def _conditions() -> list[tuple[str, str, str]]:
    """(service, dependency, condition) for every ``depends_on`` entry."""
    return [
        (name, dependency, spec["condition"])
        for name, service in _services().items()
        for dependency, spec in (service.get("depends_on") or {}).items()
    ]


def _jobs() -> set[str]:
    return {dep for _, dep, cond in _conditions() if cond == "service_completed_successfully"}


def test_the_file_follows_the_compose_specification() -> None:
    schema = json.loads(SPECIFICATION.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    problems = [
        f"{'.'.join(map(str, error.path))}: {error.message}"
        for error in validator.iter_errors(yaml.safe_load(COMPOSE.read_text()))
    ]
    assert problems == []
    # And the schema does refuse what Compose would: a misspelt key, a number for a word.
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["api"]["depend_on"] = ["postgres"]
    broken["services"]["api"]["restart"] = 3
    assert len(list(validator.iter_errors(broken))) == 2


def test_the_database_admits_every_pool_at_its_fullest() -> None:
    """PostgreSQL's max_connections holds every API and worker replica's pool at its largest,
    Temporal's four services' pools, and a margin for the one-shot jobs and an operator."""
    services = _services()
    limit = int(
        next(
            arg.split("=", 1)[1]
            for arg in services["postgres"]["command"]
            if arg.startswith("max_connections=")
        )
    )
    temporal = services["temporal"]["environment"]
    temporal_pools = 4 * (int(temporal["SQL_MAX_CONNS"]) + int(temporal["SQL_VIS_MAX_CONNS"]))

    def replicas(name: str) -> int:
        return int((services[name].get("deploy") or {}).get("replicas", 1))

    api = replicas("api") * (API_POOL_SIZE + API_MAX_OVERFLOW)
    workers = sum(replicas(name) for name in services if name.startswith("worker-"))
    platform = api + workers * (POOL_SIZE + MAX_OVERFLOW)
    assert platform + temporal_pools + 20 <= limit, (platform, temporal_pools, limit)


def test_every_dependency_waits_for_something_its_target_reports() -> None:
    services = _services()
    for name, dependency, condition in _conditions():
        assert condition in ("service_healthy", "service_completed_successfully"), (
            name,
            dependency,
        )
        if condition == "service_healthy":
            assert "healthcheck" in services[dependency], f"{name} waits on {dependency}'s health"


def test_jobs_run_once_and_long_running_services_come_back() -> None:
    # Compose fails what depends on a job at the job's first non-zero exit, so a restart policy
    # on a job cannot help: jobs retry inside instead.
    for name, service in _services().items():
        restart = service.get("restart", "no")
        if name in _jobs():
            assert restart == "no", name
        else:
            assert restart in RESTARTING, name


def _interpolated(value: str) -> str:
    """Compose's ``${NAME:?message}`` and ``${NAME:-default}``, with a stand-in for secrets."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        return rest if operator == ":-" else f"{name.lower()}-a-real-looking-value"

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def test_the_platform_environment_is_valid_production_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment: dict[str, str] = _services()["api"]["environment"]
    known = {f"TRADEFLOW_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    for name, value in environment.items():
        if name.startswith("TRADEFLOW_") or name == "DATABASE_URL":
            assert name in known, f"{name} is no setting"
            monkeypatch.setenv(name, _interpolated(str(value)))
    settings = Settings()
    assert settings.environment == "production"
    assert settings.oidc_issuer and settings.oidc_jwks_url and settings.oidc_ops_group
    ui = _services()["temporal-ui"]["environment"]
    assert _interpolated(ui["TEMPORAL_AUTH_PROVIDER_URL"]) == settings.oidc_issuer
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert _interpolated(ui["TEMPORAL_CODEC_ENDPOINT"]).endswith("/codec")


async def test_the_search_attribute_job_registers_them_and_can_run_again() -> None:
    script = _services()["temporal-setup"]["command"][0].replace("$$", "$")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()), dev_server_log_level="error"
    )
    try:
        address = env.client.service_client.config.target_host
        job_env = dict(
            os.environ,
            TEMPORAL_ADDRESS=address,
            PATH=f"{dev_server_path().parent}{os.pathsep}{os.environ['PATH']}",
        )
        for _ in range(2):
            job = subprocess.run(
                ["sh", "-c", script], env=job_env, capture_output=True, text=True, timeout=120
            )
            assert job.returncode == 0, job.stdout + job.stderr
        listed = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        assert set(SEARCH_ATTRIBUTES) <= set(listed.custom_attributes)
    finally:
        await env.shutdown()
