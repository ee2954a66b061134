"""The licence register of the registry sandbox over real HTTP, and the gateway's look-ups of it:
the seeded demo licence, validation naming the field, persistence, faults like the rest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.fleet import LicenceRecord
from gateways.certification_registry import CertificationRegistryClient
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable
from sandboxes.certification_registry import CertificationRegistrySandbox
from sandboxes.control import SandboxControl
from sandboxes.transport_licences import DATA_FILE

ANDA = "江苏安达危险品运输有限公司"


def new_licence(number: str, **changes: Any) -> dict[str, Any]:
    licence = {
        "number": number,
        "holder_name": "测试危险品运输有限公司",
        "holder_credit_code": "91320200MA1TEST0X1",
        "issuing_authority": "无锡市交通运输局",
        "status": "Valid",
        "permitted_classes": ["3", "8"],
        "issue_date": "2025-01-01",
        "expiry_date": "2029-12-31",
    }
    return licence | changes


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
        yield ctl
        ctl.clear_faults()


@pytest.fixture
def client(sandbox: CertificationRegistrySandbox) -> Iterator[CertificationRegistryClient]:
    with CertificationRegistryClient(sandbox.url, timeout_s=2.0) as registry:
        yield registry


def test_the_demo_carriers_licence_is_seeded_with_the_contract_fields(
    http: httpx.Client,
) -> None:
    answer = http.get("/transport-licences/320200300128")

    assert answer.status_code == 200
    assert set(answer.json()) == set(LicenceRecord.model_fields)
    record = LicenceRecord.model_validate(answer.json())
    assert record.holder_name == ANDA and record.holder_credit_code == "91320200MA1ANDA7XF"
    assert record.status == "Valid" and record.expiry_date == date(2028, 1, 14)
    assert record.permitted_classes == ("2", "3", "4.1", "5.1", "6.1", "8", "9")
    listed = http.get("/transport-licences", params={"holder_name": ANDA}).json()
    assert [r["number"] for r in listed["transport_licences"]] == [
        "320200300128",
        "TEST-320200-SUSPENDED",
    ]


def test_an_unknown_licence_is_not_found(http: httpx.Client) -> None:
    answer = http.get("/transport-licences/999999999999")
    assert answer.status_code == 404 and answer.json() == {"error": "not_found"}


def test_post_adds_then_replaces_a_licence_with_a_chinese_number(http: httpx.Client) -> None:
    number = "苏交运管许可锡字320200777777号"
    assert http.post("/transport-licences", json=new_licence(number)).status_code == 201
    replaced = http.post("/transport-licences", json=new_licence(number, status="Revoked"))
    assert replaced.status_code == 200
    found = http.get(f"/transport-licences/{number}")  # httpx percent-encodes the path
    assert found.status_code == 200 and found.json()["status"] == "Revoked"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (new_licence("L1", status="Active"), "status", "one of Valid, Suspended, Revoked"),
        (new_licence("L2", permitted_classes=[]), "permitted_classes", "a list of 1 to 30"),
        (new_licence("L3", permitted_classes=["3", "10"]), "permitted_classes.1", "a class"),
        (new_licence("L4", expiry_date="2024-01-01"), "expiry_date", "must be after issue_date"),
        (new_licence("L5", issue_date="2025-02-30"), "issue_date", "must be a date"),
        (new_licence("L6", holder_name="  "), "holder_name", "required"),
        (new_licence("L7", colour="red"), "colour", "unknown field"),
        (new_licence("L8", holder_credit_code="X" * 19), "holder_credit_code", "at most 18"),
    ],
)
def test_post_rejects_bad_licences_naming_field_and_rule(
    http: httpx.Client, body: dict[str, Any], field: str, rule: str
) -> None:
    answer = http.post("/transport-licences", json=body)
    assert answer.status_code == 422
    assert answer.json()["field"] == field and answer.json()["rule"].startswith(rule)


def test_licences_added_with_a_data_dir_survive_a_restart(tmp_path: Path) -> None:
    with CertificationRegistrySandbox(data_dir=tmp_path) as first:
        httpx.post(f"{first.url}/transport-licences", json=new_licence("KEPT-1")).raise_for_status()
    assert (tmp_path / DATA_FILE).exists()
    with CertificationRegistrySandbox(data_dir=tmp_path) as second:
        assert httpx.get(f"{second.url}/transport-licences/KEPT-1").status_code == 200
        assert httpx.get(f"{second.url}/transport-licences/320200300128").status_code == 200


def test_the_gateway_reads_licences_and_classifies_failures(
    client: CertificationRegistryClient, control: SandboxControl
) -> None:
    record = client.lookup_licence("320200300128")
    assert record is not None and record.holder_name == ANDA
    assert client.lookup_licence("NOT-A-LICENCE") is None

    client.add_licence(LicenceRecord.model_validate(new_licence("GW-1", permitted_classes=["2.1"])))
    added = client.lookup_licence("GW-1")
    assert added is not None and added.permitted_classes == ("2.1",)

    control.set_fault(mode="error", status=503, count=1, paths=["/transport-licences"])
    with pytest.raises(ExternalSystemUnavailable):
        client.lookup_licence("320200300128")
    control.set_fault(mode="error", status=403, count=1, paths=["/transport-licences"])
    with pytest.raises(ExternalSystemRejected):
        client.lookup_licence("320200300128")
    # A fault on the licence register leaves the certificates alone, and passes.
    control.set_fault(mode="error", status=503, count=1, paths=["/transport-licences"])
    assert client.lookup(number="CN-QMS-2025-001881", certification_body="") is not None
    with pytest.raises(ExternalSystemUnavailable):
        client.lookup_licence("320200300128")
    assert client.lookup_licence("320200300128") is not None
