"""worker.py's roles: what ``--roles`` accepts and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.queues import Role, activity_queue
from settings import Settings
from stack.up import platform_children
from stack.worker_roles import ALL_ROLES, parse_roles
from worker import parse_arguments


def test_roles_default_to_all() -> None:
    assert parse_roles("") == parse_roles("all") == ALL_ROLES == frozenset(Role)
    assert parse_arguments([]) == ALL_ROLES


def test_a_subset_is_read_in_any_order_and_case() -> None:
    assert parse_roles(" Render,workflows ") == {Role.RENDER, Role.WORKFLOWS}
    assert parse_arguments(["--roles", "io"]) == {Role.IO}
    assert parse_arguments(["--roles", "singletons,io,io"]) == {Role.SINGLETONS, Role.IO}


def test_an_unknown_role_is_refused_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ValueError, match="unknown worker role pdf: choose from workflows"):
        parse_roles("workflows,pdf")
    with pytest.raises(SystemExit) as refused:
        parse_arguments(["--roles", "all,gpu"])
    assert refused.value.code == 2
    assert "unknown worker role all, gpu" in capsys.readouterr().err


def test_activities_are_routed_by_kind_beside_the_workflows_queue() -> None:
    assert activity_queue("tradeflow", "issue_invoice") == "tradeflow-render"
    assert activity_queue("tradeflow", "seal_waybill") == "tradeflow-render"
    assert activity_queue("tradeflow", "record_order") == "tradeflow-io"
    assert activity_queue("tq-1", "deliver") == "tq-1-io"


def test_make_up_runs_each_role_in_a_process_of_its_own() -> None:
    children = platform_children(Settings(), data_dir=Path("/nonexistent"), env={})
    workers = [child for child in children if child.argv[1:2] == ["worker.py"]]
    roles = [parse_roles(child.argv[child.argv.index("--roles") + 1]) for child in workers]
    assert frozenset().union(*roles) == ALL_ROLES
    assert sum(Role.SINGLETONS in these for these in roles) == 1  # once per cluster
    ports = {(child.env or {})["TRADEFLOW_METRICS_PORT"] for child in workers}
    assert len(ports) == len(workers) == 3
