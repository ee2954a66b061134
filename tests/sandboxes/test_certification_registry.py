"""The registry sandbox over real HTTP: seeded records, validation, persistence, control API."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.accreditation import RegistryRecord
from sandboxes.certification_registry import DATA_FILE, CertificationRegistrySandbox
from sandboxes.control import SandboxControl, SandboxControlError
from sandboxes.faults import Fault
from tests.stack.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
HENGXIN = "江苏恒信化工有限公司"
CQC = "China Quality Certification Centre (CQC)"


def new_record(number: str, **changes: str) -> dict[str, str]:
    record = {
        "number": number,
        "standard": "ISO 9001",
        "certification_status": "Active",
        "accreditation_status": "Accredited",
        "entity_name": "测试供应商有限公司",
        "scope": "测试 Testing",
        "issue_date": "2025-01-01",
        "expiry_date": "2027-12-31",
        "certification_body": CQC,
        "accreditation_body": "CNAS",
    }
    return record | changes


@pytest.fixture(scope="module")
def sandbox() -> Iterator[CertificationRegistrySandbox]:
    with CertificationRegistrySandbox() as running:
        yield running


@pytest.fixture
def http(sandbox: CertificationRegistrySandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=5) as client:
        yield client


@pytest.fixture
def control(sandbox: CertificationRegistrySandbox) -> Iterator[SandboxControl]:
    with SandboxControl(sandbox.url) as ctl:
        ctl.clear_faults()
        ctl.clear_requests()
        yield ctl
        ctl.clear_faults()


def test_seeded_record_has_exactly_the_contract_fields(http: httpx.Client) -> None:
    answer = http.get("/certificates/CN-OHS-2025-000412", params={"certification_body": CQC})

    assert answer.status_code == 200
    assert set(answer.json()) == set(RegistryRecord.model_fields)
    assert answer.json() == {
        "number": "CN-OHS-2025-000412",
        "standard": "ISO 45001",
        "certification_status": "Active",
        "accreditation_status": "Accredited",
        "entity_name": HENGXIN,
        "scope": "危险化学品的生产与销售 Production and sale of hazardous chemicals",
        "issue_date": "2025-03-01",
        "expiry_date": "2028-02-28",
        "certification_body": CQC,
        "accreditation_body": "CNAS",
    }


@pytest.mark.parametrize(
    ("number", "body", "status"),
    [
        ("CN-FSMS-2024-002201", "SGS-CSTC Standards Technical Services", "Active"),
        ("CN-EMS-2023-001102", "TÜV Rheinland (Shanghai)", "Suspended"),
        ("CN-TEST-WDN-000101", CQC, "Withdrawn"),
        ("CN-TEST-EXP-000102", "SGS-CSTC Standards Technical Services", "Expired"),
    ],
)
def test_demo_and_problem_records_are_seeded(
    http: httpx.Client, number: str, body: str, status: str
) -> None:
    answer = http.get(f"/certificates/{number}", params={"certification_body": body})
    assert answer.status_code == 200
    assert answer.json()["certification_status"] == status


def test_unknown_number_and_other_body_are_not_found(http: httpx.Client) -> None:
    unknown = http.get("/certificates/CN-QMS-1999-000000")
    other_body = http.get(
        "/certificates/CN-QMS-2025-001881", params={"certification_body": "SGS-CSTC"}
    )
    # Case and spacing are not a different body.
    same_body = http.get(
        "/certificates/CN-QMS-2025-001881",
        params={"certification_body": "  china quality  certification centre (cqc) "},
    )

    assert (unknown.status_code, unknown.json()) == (404, {"error": "not_found"})
    assert (other_body.status_code, other_body.json()) == (404, {"error": "not_found"})
    assert same_body.status_code == 200


def test_list_by_entity_name(http: httpx.Client) -> None:
    answer = http.get("/certificates", params={"entity_name": HENGXIN})

    assert answer.status_code == 200
    assert [r["number"] for r in answer.json()["certificates"]] == [
        "CN-EMS-2025-000917",
        "CN-OHS-2025-000412",
        "CN-QMS-2025-001881",
        "CN-TEST-WDN-000101",
    ]


def test_post_adds_then_replaces(http: httpx.Client) -> None:
    added = http.post("/certificates", json=new_record("CN-T-SBX-ADD"))
    replaced = http.post(
        "/certificates", json=new_record("CN-T-SBX-ADD", certification_status="Suspended")
    )
    found = http.get("/certificates/CN-T-SBX-ADD")

    assert (added.status_code, replaced.status_code) == (201, 200)
    assert found.json()["certification_status"] == "Suspended"


@pytest.mark.parametrize(
    ("record", "field", "rule"),
    [
        (new_record("N", expiry_date="2024-12-31"), "expiry_date", "must be after issue_date"),
        (new_record("N", issue_date="2025-02-30"), "issue_date", "must be a date as YYYY-MM-DD"),
        (new_record("N", standard="ISO9001"), "standard", "must look like 'ISO 9001'"),
        (new_record("N", entity_name="  "), "entity_name", "must not be blank"),
        (new_record("N" * 61), "number", "at most 60 characters"),
        (new_record("N") | {"sites": "x"}, "sites", "unknown field"),
        ({k: v for k, v in new_record("N").items() if k != "scope"}, "scope", "required"),
        (new_record("N", accreditation_status="Yes"), "accreditation_status", None),
    ],
)
def test_post_rejects_bad_records_naming_field_and_rule(
    http: httpx.Client, record: dict[str, Any], field: str, rule: str | None
) -> None:
    answer = http.post("/certificates", json=record)

    assert answer.status_code == 422
    assert answer.json()["field"] == field
    assert rule is None or answer.json()["rule"] == rule


def test_unaccredited_record_may_omit_accreditation_body(http: httpx.Client) -> None:
    record = new_record("CN-T-SBX-UNA", accreditation_status="Unaccredited", accreditation_body="")
    assert http.post("/certificates", json=record).status_code == 201
    bad = new_record("CN-T-SBX-UNA2", accreditation_body="")
    assert http.post("/certificates", json=bad).json()["field"] == "accreditation_body"


def test_bad_json_unknown_route_and_wrong_method(http: httpx.Client) -> None:
    bad_json = http.post(
        "/certificates", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (bad_json.status_code, bad_json.json()) == (400, {"error": "invalid_json"})
    assert http.get("/nowhere").json() == {"error": "no_route"}
    assert http.delete("/certificates").status_code == 405


def test_records_added_with_a_data_dir_survive_a_restart(tmp_path: Path) -> None:
    with (
        CertificationRegistrySandbox(data_dir=tmp_path) as first,
        httpx.Client(base_url=first.url) as http,
    ):
        assert http.post("/certificates", json=new_record("CN-T-KEEP")).status_code == 201

    stored = json.loads((tmp_path / DATA_FILE).read_text(encoding="utf-8"))
    assert [r["number"] for r in stored["certificates"]] == ["CN-T-KEEP"]
    assert [p.name for p in tmp_path.iterdir()] == [DATA_FILE]  # no temporary file left over

    with (
        CertificationRegistrySandbox(data_dir=tmp_path) as second,
        httpx.Client(base_url=second.url) as http,
    ):
        kept = http.get("/certificates/CN-T-KEEP")
        seeded = http.get("/certificates/CN-QMS-2024-007730")
    assert kept.status_code == 200 and kept.json() == new_record("CN-T-KEEP")
    assert seeded.status_code == 200


def test_error_fault_for_a_count_then_recovery(http: httpx.Client, control: SandboxControl) -> None:
    view = control.set_fault(mode="error", status=503, count=2)
    assert (view["mode"], view["remaining"]) == ("error", 2)

    statuses = [http.get("/certificates/CN-QMS-2025-001881").status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert control.fault()["mode"] == "off"
    assert [r["fault"] for r in control.requests()] == ["error", "error", None]


def test_count_is_exact_under_concurrent_requests(
    sandbox: CertificationRegistrySandbox, control: SandboxControl
) -> None:
    control.set_fault(mode="error", status=500, count=3)

    def call(_: int) -> int:
        return httpx.get(f"{sandbox.url}/certificates/CN-QMS-2025-001881").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(call, range(12)))

    assert sorted(statuses) == [200] * 9 + [500] * 3


def test_fault_limited_to_paths(http: httpx.Client, control: SandboxControl) -> None:
    control.set_fault(mode="error", status=502, paths=["/certificates/CN-QMS-2025-001881"])

    assert http.get("/certificates/CN-QMS-2025-001881").status_code == 502
    assert http.get("/certificates/CN-EMS-2025-000917").status_code == 200
    assert http.get("/_sandbox/health").json() == {
        "status": "ok",
        "sandbox": "certification-registry",
    }


def test_path_prefix_matches_whole_segments() -> None:
    fault = Fault(
        mode="error", status=503, delay_s=0, remaining=None, deadline=None, paths=("/certificates",)
    )
    assert fault.applies_to("/certificates")
    assert fault.applies_to("/certificates/CN-1")
    assert not fault.applies_to("/certificates-archive")


def test_timeout_fault_drops_the_connection(http: httpx.Client, control: SandboxControl) -> None:
    control.set_fault(mode="timeout", delay_s=0.2, count=1)

    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/certificates/CN-QMS-2025-001881")
    assert http.get("/certificates/CN-QMS-2025-001881").status_code == 200


def test_seconds_bound_a_fault(http: httpx.Client, control: SandboxControl) -> None:
    # Long enough that the first request lands inside it even on a loaded machine.
    view = control.set_fault(mode="error", status=503, seconds=2)
    assert view["expires_in_s"] is not None and 0 < view["expires_in_s"] <= 2

    assert http.get("/certificates/CN-QMS-2025-001881").status_code == 503
    wait_until(lambda: control.fault()["mode"] == "off", timeout=30, seen=control.fault)
    assert http.get("/certificates/CN-QMS-2025-001881").status_code == 200
    assert [r["fault"] for r in control.requests()] == ["error", None]


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"mode": "explode"}, "mode"),
        ({"mode": "error", "status": 200}, "status"),
        ({"mode": "error", "count": 0}, "count"),
        ({"mode": "slow", "delay_s": -1}, "delay_s"),
        ({"mode": "error", "seconds": 0}, "seconds"),
        ({"mode": "error", "paths": ["certificates"]}, "paths"),
        ({"mode": "error", "path": ["/certificates"]}, "path"),
    ],
)
def test_control_api_rejects_bad_faults(
    http: httpx.Client, control: SandboxControl, fault: dict[str, Any], field: str
) -> None:
    answer = http.post("/_sandbox/faults", json=fault)

    assert answer.status_code == 422 and answer.json()["field"] == field
    assert control.fault()["mode"] == "off"


def test_control_client_raises_on_refusal(control: SandboxControl) -> None:
    with pytest.raises(SandboxControlError, match="422"):
        control.set_fault(mode="error", status=302)


def test_request_log_records_calls_but_not_control_ones(
    http: httpx.Client, control: SandboxControl
) -> None:
    http.get("/certificates/CN-QMS-2025-001881", params={"certification_body": "CQC"})
    http.post("/certificates", json=new_record("CN-T-LOG"), headers={"Idempotency-Key": "k-42"})
    control.fault()

    logged = control.requests()

    assert [(r["method"], r["path"], r["idempotency_key"]) for r in logged] == [
        ("GET", "/certificates/CN-QMS-2025-001881", None),
        ("POST", "/certificates", "k-42"),
    ]
    assert logged[0]["query"] == "certification_body=CQC"
    assert logged[0]["time"] <= logged[1]["time"] and logged[0]["time"].endswith("+00:00")
    assert control.requests(path_prefix="/certificates/") == logged[:1]


def test_runs_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    command = ["certification-registry", "--port", "0", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        assert line.startswith("certification-registry sandbox listening on http://127.0.0.1:")
        answer = httpx.post(f"{url}/certificates", json=new_record("CN-T-FG"), timeout=5)
        assert answer.status_code == 201
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "CN-T-FG" in (tmp_path / DATA_FILE).read_text(encoding="utf-8")
