"""The receivables registry client against the real sandbox: one registration per loan, a
receivable never pledged twice, search and release, and how each failure is classified."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from contracts.receivables_registry import RegistrationRequest, RegistrationStatus
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable
from gateways.receivables_registry import ReceivableAlreadyRegistered, ReceivablesRegistryClient
from sandboxes.faults import FaultMode
from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse, SandboxServer
from sandboxes.receivables_registry import ReceivablesRegistryControl, ReceivablesRegistrySandbox
from settings import Settings
from tests.gateways.test_regulator_client import until_answered
from tests.harness.builders import unique_credit_code
from tests.sandboxes.test_receivables_registry import new_loan, registration_body


def pledge(**changes: Any) -> RegistrationRequest:
    return RegistrationRequest.model_validate(registration_body(**changes))


def test_a_loan_registers_once_and_a_repeat_answers_the_same_registration(
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    request, loan = pledge(), new_loan()

    first = receivables_registry.register(request, idempotency_key=loan)
    again = receivables_registry.register(request, idempotency_key=loan)

    assert again == first
    assert first.in_force and first.idempotency_key == loan
    assert (first.receivable, first.financed_amount) == (request.receivable, Decimal("100000.00"))
    assert receivables_registry.get(first.registration_number) == first


def test_a_receivable_in_force_is_never_registered_twice(
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    debtor, reference = unique_credit_code(), f"ord-T-{uuid.uuid4().hex[:10]}"
    first = receivables_registry.register(
        pledge(debtor=debtor, reference=reference), idempotency_key=new_loan()
    )

    with pytest.raises(ReceivableAlreadyRegistered) as refused:
        receivables_registry.register(
            pledge(debtor=debtor, reference=reference), idempotency_key=new_loan()
        )

    assert isinstance(refused.value, ExternalSystemRejected)
    assert (refused.value.status, refused.value.reason) == (409, "already_registered")
    assert refused.value.registration_number == first.registration_number


def test_the_same_loan_for_another_receivable_is_rejected_but_not_as_a_double_pledge(
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    loan = new_loan()
    receivables_registry.register(pledge(), idempotency_key=loan)

    with pytest.raises(ExternalSystemRejected) as rejected:
        receivables_registry.register(pledge(), idempotency_key=loan)

    assert not isinstance(rejected.value, ReceivableAlreadyRegistered)
    assert rejected.value.status == 409
    assert "was used for another request" in rejected.value.reason


def test_search_before_funding_and_release_after_repayment(
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    debtor, reference = unique_credit_code(), f"ord-T-{uuid.uuid4().hex[:10]}"
    assert receivables_registry.search(debtor, reference) == []
    loan = new_loan()
    registered = receivables_registry.register(
        pledge(debtor=debtor, reference=reference), idempotency_key=loan
    )

    found = receivables_registry.search(debtor, reference)
    released = receivables_registry.release(
        registered.registration_number, idempotency_key=f"{loan}:release"
    )
    again = receivables_registry.release(
        registered.registration_number, idempotency_key=f"{loan}:release"
    )
    refinanced = receivables_registry.register(
        pledge(debtor=debtor, reference=reference), idempotency_key=new_loan()
    )

    assert found == [registered]
    assert released.status is RegistrationStatus.RELEASED and released.released_at is not None
    assert again == released
    assert [r.status for r in receivables_registry.search(debtor)] == [
        RegistrationStatus.RELEASED,
        RegistrationStatus.REGISTERED,
    ]
    assert refinanced.in_force


def test_unknown_registrations_are_none_and_cannot_be_released(
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    assert receivables_registry.get("0" * 24) is None
    with pytest.raises(ExternalSystemRejected) as rejected:
        receivables_registry.release("0" * 24, idempotency_key=new_loan())
    assert rejected.value.status == 404


def test_a_request_the_registry_refuses_is_rejected_naming_the_field(
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    body = registration_body()
    code = body["pledgor"]["credit_code"]
    body["pledgor"]["credit_code"] = code[:-1] + ("1" if code[-1] == "0" else "0")

    with pytest.raises(ExternalSystemRejected) as rejected:
        receivables_registry.register(
            RegistrationRequest.model_validate(body), idempotency_key=new_loan()
        )

    assert rejected.value.status == 422
    assert "pledgor.credit_code" in rejected.value.reason


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_server_errors_are_unavailable(
    receivables_registry: ReceivablesRegistryClient,
    receivables_registry_control: ReceivablesRegistryControl,
    status: int,
) -> None:
    request = pledge()
    receivables_registry_control.set_fault(mode="error", status=status, count=1)

    with pytest.raises(ExternalSystemUnavailable, match=f"answered {status}"):
        receivables_registry.register(request, idempotency_key=new_loan())
    assert receivables_registry.search(request.debtor.credit_code) == []


def test_a_timeout_is_unavailable(
    receivables_registry_sandbox: ReceivablesRegistrySandbox,
    receivables_registry_control: ReceivablesRegistryControl,
) -> None:
    receivables_registry_control.set_fault(mode="timeout", delay_s=1.0, count=1)
    with (
        ReceivablesRegistryClient(receivables_registry_sandbox.url, timeout_s=0.3) as impatient,
        pytest.raises(ExternalSystemUnavailable, match="timed out"),
    ):
        impatient.search(unique_credit_code())


@pytest.mark.parametrize("mode", ["error", "timeout"])
def test_a_registration_made_but_unanswered_is_recovered_by_the_loan_id(
    receivables_registry: ReceivablesRegistryClient,
    receivables_registry_control: ReceivablesRegistryControl,
    mode: FaultMode,
) -> None:
    request, loan = pledge(), new_loan()
    receivables_registry_control.accept_then_fail(mode=mode, delay_s=0.05, count=1)

    with pytest.raises(ExternalSystemUnavailable):
        receivables_registry.register(request, idempotency_key=loan)
    registration, _ = until_answered(
        lambda: receivables_registry.register(request, idempotency_key=loan)
    )

    assert receivables_registry.search(request.debtor.credit_code) == [registration]


def test_a_404_that_is_not_the_registrys_is_rejected(
    receivables_registry_sandbox: ReceivablesRegistrySandbox,
) -> None:
    url = f"{receivables_registry_sandbox.url}/wrong"
    with (
        ReceivablesRegistryClient(url, timeout_s=1.0) as lost,
        pytest.raises(ExternalSystemRejected) as rejected,
    ):
        lost.get("0" * 24)
    assert rejected.value.status == 404


class _BrokenRegistry(SandboxServer):
    """Answers with things that are not registrations."""

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/registrations", self._half),
            Route("GET", "/registrations", self._not_a_list),
        ]

    def _half(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(201, {"registration_number": "0" * 24})

    def _not_a_list(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(200, {"registrations": [{"registration_number": "x"}]})


def test_answers_that_are_not_registrations_are_unavailable() -> None:
    with (
        _BrokenRegistry() as broken,
        ReceivablesRegistryClient(broken.url, timeout_s=1.0) as client,
    ):
        with pytest.raises(ExternalSystemUnavailable, match="not a Registration"):
            client.register(pledge(), idempotency_key=new_loan())
        with pytest.raises(ExternalSystemUnavailable, match="not a Registration"):
            client.search(unique_credit_code())


def test_from_settings(receivables_registry_sandbox: ReceivablesRegistrySandbox) -> None:
    configured = Settings(
        receivables_registry_url=receivables_registry_sandbox.url + "/",
        receivables_registry_timeout_s=1.5,
    )
    with ReceivablesRegistryClient.from_settings(configured) as client:
        assert client.register(pledge(), idempotency_key=new_loan()).in_force
