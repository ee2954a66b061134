"""The registry client against the real sandbox: parsing, and how each failure is classified."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from contracts.accreditation import RegistryRecord
from gateways.certification_registry import CertificationRegistryClient
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable, HttpAdapter
from sandboxes.certification_registry import CertificationRegistrySandbox
from sandboxes.control import SandboxControl
from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse, SandboxServer
from settings import Settings
from tests.stack.waiting import wait_until

LIANFENG = "浙江联丰冷链食品有限公司"
SGS = "SGS-CSTC Standards Technical Services"
CQC = "China Quality Certification Centre (CQC)"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[CertificationRegistrySandbox]:
    with CertificationRegistrySandbox() as running:
        yield running


@pytest.fixture
def control(sandbox: CertificationRegistrySandbox) -> Iterator[SandboxControl]:
    with SandboxControl(sandbox.url) as ctl:
        ctl.clear_faults()
        ctl.clear_requests()
        yield ctl
        ctl.clear_faults()


@pytest.fixture
def client(sandbox: CertificationRegistrySandbox) -> Iterator[CertificationRegistryClient]:
    with CertificationRegistryClient(sandbox.url, timeout_s=2.0) as registry:
        yield registry


def lookup_lianfeng(client: CertificationRegistryClient) -> RegistryRecord | None:
    return client.lookup(number="CN-QMS-2024-007730", certification_body=SGS)


def record(number: str, **changes: object) -> RegistryRecord:
    base = RegistryRecord(
        number=number,
        standard="ISO 14001",
        certification_status="Active",
        accreditation_status="Accredited",
        entity_name="测试客户端有限公司",
        scope="测试 Testing",
        issue_date=date(2025, 5, 1),
        expiry_date=date(2028, 4, 30),
        certification_body=CQC,
        accreditation_body="CNAS",
    )
    return base.model_copy(update=changes)


def test_lookup_parses_the_record(client: CertificationRegistryClient) -> None:
    found = lookup_lianfeng(client)

    assert found == RegistryRecord(
        number="CN-QMS-2024-007730",
        standard="ISO 9001",
        certification_status="Active",
        accreditation_status="Accredited",
        entity_name=LIANFENG,
        scope="冷链食品的加工与配送 Processing and distribution of cold-chain foods",
        issue_date=date(2024, 6, 15),
        expiry_date=date(2027, 6, 14),
        certification_body=SGS,
        accreditation_body="CNAS",
    )


def test_lookup_not_found_and_body_mismatch_are_none(client: CertificationRegistryClient) -> None:
    assert client.lookup(number="CN-QMS-2024-999999", certification_body=SGS) is None
    assert client.lookup(number="CN-QMS-2024-007730", certification_body=CQC) is None


def test_add_then_lookup_with_awkward_number(client: CertificationRegistryClient) -> None:
    added = record("CN-T/CLIENT 01?x")  # the number travels as one escaped path segment
    client.add(added)

    assert client.lookup(number="CN-T/CLIENT 01?x", certification_body=CQC) == added
    assert client.lookup(number="CN-T", certification_body=CQC) is None


def test_rejected_record_carries_status_and_reason(client: CertificationRegistryClient) -> None:
    with pytest.raises(ExternalSystemRejected) as rejected:
        client.add(record("CN-T-BAD", expiry_date=date(2025, 4, 30)))

    assert rejected.value.status == 422
    assert rejected.value.reason == "invalid (expiry_date: must be after issue_date)"
    assert rejected.value.system == "certification registry"


def test_error_fault_is_unavailable_until_it_runs_out(
    client: CertificationRegistryClient, control: SandboxControl
) -> None:
    control.set_fault(mode="error", status=503, count=2, paths=["/certificates"])

    for _ in range(2):
        with pytest.raises(ExternalSystemUnavailable, match="answered 503"):
            lookup_lianfeng(client)
    assert lookup_lianfeng(client) is not None
    assert [r["fault"] for r in control.requests()] == ["error", "error", None]


@pytest.mark.parametrize("status", [429, 500, 502])
def test_server_errors_and_throttling_are_unavailable(
    client: CertificationRegistryClient, control: SandboxControl, status: int
) -> None:
    control.set_fault(mode="error", status=status, count=1)
    with pytest.raises(ExternalSystemUnavailable):
        lookup_lianfeng(client)


@pytest.mark.parametrize("status", [400, 403, 409])
def test_other_client_errors_are_rejected(
    client: CertificationRegistryClient, control: SandboxControl, status: int
) -> None:
    control.set_fault(mode="error", status=status, count=1)
    with pytest.raises(ExternalSystemRejected) as rejected:
        lookup_lianfeng(client)
    assert (rejected.value.status, rejected.value.reason) == (status, "sandbox_fault")


def test_timeout_fault_times_out_a_short_client(
    sandbox: CertificationRegistrySandbox, control: SandboxControl
) -> None:
    control.set_fault(mode="timeout", delay_s=1.0, count=1)

    with (
        CertificationRegistryClient(sandbox.url, timeout_s=0.3) as impatient,
        pytest.raises(ExternalSystemUnavailable, match="timed out"),
    ):
        lookup_lianfeng(impatient)


def test_dropped_connection_is_unavailable(
    client: CertificationRegistryClient, control: SandboxControl
) -> None:
    control.set_fault(mode="timeout", delay_s=0.1, count=1)
    with pytest.raises(ExternalSystemUnavailable, match="unreachable"):
        lookup_lianfeng(client)
    assert lookup_lianfeng(client) is not None


def test_slow_answer_still_succeeds(
    client: CertificationRegistryClient, control: SandboxControl
) -> None:
    control.set_fault(mode="slow", delay_s=0.3)

    assert lookup_lianfeng(client) is not None
    assert [r["fault"] for r in control.requests(path_prefix="/certificates")][-1] == "slow"
    assert control.fault()["mode"] == "slow"  # no count or seconds: it stays until cleared


def test_fault_ends_after_its_seconds(
    client: CertificationRegistryClient, control: SandboxControl
) -> None:
    # Long enough that the first lookup lands inside it even on a loaded machine.
    control.set_fault(mode="error", status=503, seconds=2)
    with pytest.raises(ExternalSystemUnavailable):
        lookup_lianfeng(client)

    wait_until(lambda: control.fault()["mode"] == "off", timeout=30, seen=control.fault)

    assert lookup_lianfeng(client) is not None


def test_stopped_registry_is_unavailable() -> None:
    with CertificationRegistrySandbox() as short_lived:
        url = short_lived.url
    with (
        CertificationRegistryClient(url, timeout_s=1.0) as client,
        pytest.raises(ExternalSystemUnavailable, match="unreachable"),
    ):
        lookup_lianfeng(client)


def test_a_404_that_is_not_the_registrys_is_rejected(
    sandbox: CertificationRegistrySandbox,
) -> None:
    with (
        CertificationRegistryClient(f"{sandbox.url}/wrong-prefix", timeout_s=1.0) as misrouted,
        pytest.raises(ExternalSystemRejected) as rejected,
    ):
        lookup_lianfeng(misrouted)
    assert rejected.value.status == 404


class _BrokenRegistry(SandboxServer):
    """Answers 200 with something that is not a certificate record."""

    def routes(self) -> list[Route]:
        return [Route("GET", "/certificates/{number}", self._partial)]

    def _partial(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(200, {"number": request.params["number"]})


def test_a_200_that_is_not_a_record_is_unavailable() -> None:
    with (
        _BrokenRegistry() as broken,
        CertificationRegistryClient(broken.url, timeout_s=1.0) as client,
        pytest.raises(ExternalSystemUnavailable, match="not a record"),
    ):
        lookup_lianfeng(client)


def test_adapter_sends_the_idempotency_key(
    sandbox: CertificationRegistrySandbox, control: SandboxControl
) -> None:
    with HttpAdapter(sandbox.url, system="registry", timeout_s=1.0) as adapter:
        adapter.request("GET", "/certificates/CN-QMS-2024-007730", idempotency_key="key-1")
        adapter.request("GET", "/certificates/CN-QMS-2024-007730")
        missing = adapter.request("GET", "/certificates/none", passthrough={404})

    assert missing.status_code == 404
    assert [r["idempotency_key"] for r in control.requests()] == ["key-1", None, None]


def test_from_settings(sandbox: CertificationRegistrySandbox) -> None:
    configured = Settings(
        certification_registry_url=sandbox.url + "/", certification_registry_timeout_s=1.5
    )
    with CertificationRegistryClient.from_settings(configured) as client:
        assert lookup_lianfeng(client) is not None
