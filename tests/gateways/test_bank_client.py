"""The bank client against the real bank sandbox: payments, refusals as answers, statements,
and how each failure is classified.

The retry loops stand in for the activity retry policy: whatever fails between the platform and
the bank, a loan ends with exactly one disbursement, checked against the bank's own books.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from contracts.banking import (
    INSUFFICIENT_FUNDS,
    BankPayment,
    IncomingTransfer,
    PaymentOrder,
    PaymentStatus,
)
from contracts.common import Money
from gateways.api_keys import ApiKeyRefused
from gateways.bank import LOCAL_SECRET_NAME, BankClient, bank_api_key_from_settings
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable
from sandboxes.bank import PLATFORM_ACCOUNT, BankControl, BankSandbox
from sandboxes.faults import FaultMode
from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse, SandboxServer
from settings import Settings
from tests.conftest import TEST_BANK_KEY
from tests.gateways.test_regulator_client import until_answered
from tests.sandboxes.test_bank import new_account, new_key


def order(payee: str, amount: str = "80000.00", payer: str = PLATFORM_ACCOUNT) -> PaymentOrder:
    return PaymentOrder(
        payer_account=payer,
        payee_account=payee,
        payee_name="江苏恒信化工有限公司",
        amount=Decimal(amount),
        currency="CNY",
        reference="loan-T",
        memo="订单融资放款",
    )


def incoming(amount: str = "1000.00") -> IncomingTransfer:
    return IncomingTransfer(
        payer_account=new_account(),
        payer_name="浙江联丰涂料有限公司",
        amount=Decimal(amount),
        currency="CNY",
        reference="ord-T",
    )


@pytest.fixture
def impatient(bank_sandbox: BankSandbox) -> Iterator[BankClient]:
    with BankClient(bank_sandbox.url, api_key=TEST_BANK_KEY, timeout_s=0.3) as client:
        yield client


# -- answers ----------------------------------------------------------------------------------


def test_a_payment_settles_once_and_a_repeat_answers_the_same_payment(
    bank: BankClient, bank_control: BankControl
) -> None:
    payee, key = new_account(), new_key()

    first = bank.pay(order(payee, "80000.5"), idempotency_key=key)
    again = bank.pay(order(payee, "80000.50"), idempotency_key=key)

    assert again == first
    assert first.settled and first.reason is None
    assert first.money == Money(amount=Decimal("80000.50"), currency="CNY")
    assert first.booked_at is not None and first.booked_at.utcoffset() == timedelta(hours=8)
    assert first.value_date == first.booked_at.date()
    assert bank.find_payment(key) == bank.get_payment(first.payment_id) == first
    assert bank_control.balance(payee) == Decimal("80000.50")


def test_a_refused_payment_is_an_answer_with_the_banks_reason(
    bank: BankClient, bank_control: BankControl
) -> None:
    closed, empty = new_account(), new_account()
    bank_control.close_account(closed)

    to_closed = bank.pay(order(closed), idempotency_key=new_key())
    from_empty = bank.pay(order(new_account(), payer=empty), idempotency_key=new_key())

    assert (to_closed.status, to_closed.reason) == (PaymentStatus.REJECTED, "account_closed")
    assert (from_empty.status, from_empty.reason) == (PaymentStatus.REJECTED, INSUFFICIENT_FUNDS)
    assert (to_closed.value_date, to_closed.booked_at) == (None, None)


def test_a_statement_holds_the_payment_and_the_credit_between_its_balances(
    bank: BankClient,
) -> None:
    account, credit_key, pay_key = new_account(), new_key(), new_key()
    credited = bank.credit(account, incoming("1000.00"), idempotency_key=credit_key)
    paid = bank.pay(order(new_account(), "400.00", payer=account), idempotency_key=pay_key)
    assert credited.settled and paid.settled and credited.value_date is not None
    if paid.value_date != credited.value_date:
        pytest.skip("the two transfers straddled midnight in China")

    statement = bank.statement(account, credited.value_date)

    assert (statement.account, statement.date) == (account, credited.value_date)
    assert (statement.opening_balance, statement.closing_balance) == (Decimal(0), Decimal(600))
    assert [e.amount for e in statement.entries] == [Decimal("1000.00"), Decimal("-400.00")]
    assert statement.under_key(pay_key)[0].payment_id == paid.payment_id
    assert statement.under_key(new_key()) == ()


def test_unknown_payments_are_none(bank: BankClient) -> None:
    assert bank.find_payment(new_key()) is None
    assert bank.get_payment("BK2026010199999999") is None


def test_an_order_the_bank_refuses_to_read_is_rejected_naming_the_field(bank: BankClient) -> None:
    dollars = order(new_account()).model_copy(update={"currency": "USD"})
    with pytest.raises(ExternalSystemRejected) as rejected:
        bank.pay(dollars, idempotency_key=new_key())
    assert rejected.value.status == 422
    assert "currency" in rejected.value.reason


def test_the_same_key_for_another_order_is_rejected(bank: BankClient) -> None:
    payee, key = new_account(), new_key()
    bank.pay(order(payee, "10.00"), idempotency_key=key)

    with pytest.raises(ExternalSystemRejected) as rejected:
        bank.pay(order(payee, "11.00"), idempotency_key=key)

    assert rejected.value.status == 409
    found = bank.find_payment(key)
    assert found is not None and found.amount == Decimal("10.00")


def test_a_payment_needs_its_key(bank: BankClient) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        bank.pay(order(new_account()), idempotency_key=" ")


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_server_errors_and_throttling_are_unavailable_and_book_nothing(
    bank: BankClient, bank_control: BankControl, status: int
) -> None:
    key = new_key()
    bank_control.set_fault(mode="error", status=status, count=1)

    with pytest.raises(ExternalSystemUnavailable, match=f"answered {status}"):
        bank.pay(order(new_account()), idempotency_key=key)
    assert bank.find_payment(key) is None


@pytest.mark.parametrize("status", [400, 404, 409])
def test_other_client_errors_are_final(
    bank: BankClient, bank_control: BankControl, status: int
) -> None:
    bank_control.set_fault(mode="error", status=status, count=1)
    with pytest.raises(ExternalSystemRejected) as rejected:
        bank.pay(order(new_account()), idempotency_key=new_key())
    assert (rejected.value.status, rejected.value.reason) == (status, "sandbox_fault")


def test_timeouts_and_dropped_connections_are_unavailable(
    bank: BankClient, impatient: BankClient, bank_control: BankControl
) -> None:
    bank_control.set_fault(mode="timeout", delay_s=1.0, count=1)
    with pytest.raises(ExternalSystemUnavailable, match="timed out"):
        impatient.find_payment(new_key())

    bank_control.set_fault(mode="timeout", delay_s=0.05, count=1)
    with pytest.raises(ExternalSystemUnavailable, match="unreachable"):
        bank.find_payment(new_key())


@pytest.mark.parametrize("mode", ["error", "timeout", "slow"])
def test_a_payment_booked_but_unanswered_is_recovered_by_its_key_exactly_once(
    impatient: BankClient, bank_control: BankControl, mode: FaultMode
) -> None:
    """The double-disbursement case: the bank booked the payment, the caller saw a failure."""
    payee, key = new_account(), new_key()
    bank_control.accept_then_fail(mode=mode, delay_s=0.6, count=1, paths=["/payments"])

    with pytest.raises(ExternalSystemUnavailable):
        impatient.pay(order(payee, "80000.00"), idempotency_key=key)
    payment, _ = until_answered(
        lambda: impatient.pay(order(payee, "80000.00"), idempotency_key=key)
    )

    assert payment.settled
    assert impatient.find_payment(key) == payment
    assert bank_control.balance(payee) == Decimal("80000.00")


def test_a_long_outage_ends_in_one_payment(bank: BankClient, bank_control: BankControl) -> None:
    payee, key = new_account(), new_key()
    bank_control.set_fault(mode="error", status=503, count=4, paths=["/payments"])
    bank_control.accept_then_fail(mode="error", status=502, count=2, paths=["/payments"])

    payment, failures = until_answered(lambda: bank.pay(order(payee), idempotency_key=key))

    assert failures == 6
    assert payment.settled
    assert bank_control.balance(payee) == order(payee).amount


# -- credentials ------------------------------------------------------------------------------


def test_a_refused_key_is_retryable_and_logged_without_the_key(
    bank_sandbox: BankSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        BankClient(bank_sandbox.url, api_key="revoked-key", timeout_s=1.0) as misconfigured,
        caplog.at_level(logging.ERROR, logger="tradeflow.gateways.bank"),
        pytest.raises(ApiKeyRefused) as refused,
    ):
        misconfigured.pay(order(new_account()), idempotency_key=new_key())

    assert isinstance(refused.value, ExternalSystemUnavailable)
    assert refused.value.status == 401
    assert "fix TRADEFLOW_BANK_API_KEY" in caplog.text
    assert "revoked-key" not in caplog.text


def test_forbidden_is_treated_like_a_refused_key(
    bank: BankClient, bank_control: BankControl
) -> None:
    bank_control.set_fault(mode="error", status=403, count=1)
    with pytest.raises(ApiKeyRefused):
        bank.find_payment(new_key())


def test_a_client_needs_a_key(bank_sandbox: BankSandbox) -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        BankClient(bank_sandbox.url, api_key="", timeout_s=1.0)


# -- answers that are not the bank's --------------------------------------------------------


def test_a_404_that_is_not_the_banks_is_rejected(bank_sandbox: BankSandbox) -> None:
    with (
        BankClient(f"{bank_sandbox.url}/wrong", api_key=TEST_BANK_KEY, timeout_s=1.0) as lost,
        pytest.raises(ExternalSystemRejected) as rejected,
    ):
        lost.find_payment(new_key())
    assert rejected.value.status == 404


class _BrokenBank(SandboxServer):
    """Answers 201 with something that is not a payment, and 200 with another key's payment."""

    def __init__(self, other: BankPayment) -> None:
        super().__init__()
        self._other = other

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/payments", self._half),
            Route("GET", "/payments", self._someone_elses),
        ]

    def _half(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(201, {"payment_id": "BK1", "status": "settled"})

    def _someone_elses(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(200, self._other.model_dump(mode="json"))


def test_answers_that_are_not_this_keys_payment_are_unavailable(bank: BankClient) -> None:
    other = bank.pay(order(new_account(), "1.00"), idempotency_key=new_key())
    with (
        _BrokenBank(other) as broken,
        BankClient(broken.url, api_key=TEST_BANK_KEY, timeout_s=1.0) as client,
    ):
        with pytest.raises(ExternalSystemUnavailable, match="not a BankPayment"):
            client.pay(order(new_account()), idempotency_key=new_key())
        with pytest.raises(ExternalSystemUnavailable, match="payment"):
            client.find_payment(new_key())


# -- settings -------------------------------------------------------------------------------


def test_from_settings(bank_sandbox: BankSandbox, bank_control: BankControl) -> None:
    payee = new_account()
    configured = Settings(
        bank_url=bank_sandbox.url + "/", bank_api_key=TEST_BANK_KEY, bank_timeout_s=1.5
    )
    with BankClient.from_settings(configured) as client:
        assert client.pay(order(payee, "5.00"), idempotency_key=new_key()).settled
    assert bank_control.balance(payee) == Decimal("5.00")


def test_embedded_default_generates_the_key_once_in_the_data_folder(tmp_path: Path) -> None:
    embedded = Settings(environment="embedded", data_dir=tmp_path)

    key = bank_api_key_from_settings(embedded)

    assert len(key) >= 32
    assert (tmp_path / "secrets" / LOCAL_SECRET_NAME).read_text().strip() == key
    assert bank_api_key_from_settings(embedded) == key
    with (
        BankSandbox(api_key=key) as sandbox,
        BankClient.from_settings(embedded.model_copy(update={"bank_url": sandbox.url})) as client,
    ):
        assert client.find_payment(new_key()) is None


def test_production_needs_a_configured_key() -> None:
    production = Settings(
        environment="production",
        jwt_secret="a-real-production-jwt-secret-0123456789",
        encryption_keys="k1:" + "A" * 43 + "=",
        regulator_api_key=f"real-{uuid.uuid4().hex}",
    )
    with pytest.raises(ValueError, match="TRADEFLOW_BANK_API_KEY must be set in production"):
        bank_api_key_from_settings(production)
