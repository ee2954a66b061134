"""The regulator client against the real sandbox: receipts, and how each failure is classified.

The retry loops here stand in for the activity retry policy: whatever fails between the
platform and the regulator, the waybill ends with exactly one accepted filing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import ValidationError

from contracts.regulator import FilingReceipt, FilingStatus, StatusReceipt
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable
from gateways.regulator import (
    LOCAL_SECRET_NAME,
    RegulatorAuthFailed,
    RegulatorClient,
    RegulatorRejected,
    regulator_api_key_from_settings,
)
from sandboxes.faults import FaultMode
from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse, SandboxServer
from sandboxes.regulator import RegulatorControl, RegulatorSandbox
from settings import Settings
from tests.sandboxes.test_regulator import new_number, waybill_body
from tests.stack.waiting import wait_until

KEY = "client-test-key-51c9"
CST = timezone(timedelta(hours=8))
DEPARTED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=CST)
T = TypeVar("T")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RegulatorSandbox]:
    with RegulatorSandbox(api_key=KEY) as running:
        yield running


@pytest.fixture
def control(sandbox: RegulatorSandbox) -> Iterator[RegulatorControl]:
    with RegulatorControl(sandbox.url) as ctl:
        ctl.clear_faults()
        ctl.clear_accept_then_fail()
        ctl.clear_requests()
        yield ctl
        ctl.clear_faults()
        ctl.clear_accept_then_fail()


@pytest.fixture
def client(sandbox: RegulatorSandbox) -> Iterator[RegulatorClient]:
    with RegulatorClient(sandbox.url, api_key=KEY, timeout_s=2.0) as regulator:
        yield regulator


def until_answered(call: Callable[[], T], *, attempts: int = 20) -> tuple[T, int]:
    """Retry while the regulator is unavailable, as the activity retry policy does."""
    for failures in range(attempts):
        try:
            return call(), failures
        except ExternalSystemUnavailable:
            time.sleep(0.02)
    raise AssertionError(f"still unavailable after {attempts} attempts")


# -- receipts -------------------------------------------------------------------------------


def test_filing_answers_the_receipt_and_a_repeat_the_same_one(
    client: RegulatorClient, control: RegulatorControl
) -> None:
    number = new_number()

    receipt = client.file_waybill(number, waybill_body(number))
    repeated = client.file_waybill(number, waybill_body(number))

    assert isinstance(receipt, FilingReceipt)
    assert receipt.waybill_number == number
    assert receipt.receipt_number.startswith("JS-DG-")
    assert receipt.accepted_at.utcoffset() == timedelta(hours=8)
    assert repeated == receipt
    record = client.get_record(number)
    assert record is not None
    assert (record["receipt_number"], record["status"]) == (receipt.receipt_number, "filed")
    assert [r["idempotency_key"] for r in control.requests(path_prefix="/waybills")] == [
        number,
        number,
        None,
    ]
    tally = control.tally(number)
    assert (tally["accepted"], tally["replays"]) == (1, 1)


def test_status_changes_answer_receipts_and_repeats_are_safe(
    client: RegulatorClient, control: RegulatorControl
) -> None:
    number = new_number()
    filed = client.file_waybill(number, waybill_body(number))

    departed = client.file_status(number, FilingStatus.DEPARTED, DEPARTED_AT, note="G2 北上")
    again = client.file_status(number, FilingStatus.DEPARTED, DEPARTED_AT, note="G2 北上")
    delivered = client.file_status(number, FilingStatus.DELIVERED, DEPARTED_AT + timedelta(hours=6))

    assert (
        departed
        == again
        == StatusReceipt(
            receipt_number=filed.receipt_number,
            waybill_number=number,
            status=FilingStatus.DEPARTED,
            event_receipt=f"{filed.receipt_number}-S1",
            at=DEPARTED_AT,
        )
    )
    assert delivered.status is FilingStatus.DELIVERED
    keys = [r["idempotency_key"] for r in control.requests(path_prefix=f"/waybills/{number}/")]
    assert keys == [f"{number}:departed", f"{number}:departed", f"{number}:delivered"]
    record = client.get_record(number)
    assert record is not None
    assert [h["status"] for h in record["history"]] == ["filed", "departed", "delivered"]


def test_awkward_waybill_number_travels_as_one_path_segment(client: RegulatorClient) -> None:
    number = f"EW/T {new_number()}?x"
    client.file_waybill(number, waybill_body(number))

    receipt = client.file_status(number, FilingStatus.VOIDED, DEPARTED_AT)

    assert receipt.waybill_number == number
    assert client.get_record(number) is not None
    assert client.get_record("EW") is None


def test_unknown_waybill_has_no_record(client: RegulatorClient) -> None:
    assert client.get_record(new_number()) is None


def test_caller_mistakes_are_refused_before_anything_is_sent(
    client: RegulatorClient, control: RegulatorControl
) -> None:
    number = new_number()
    with pytest.raises(ValueError, match="not waybill"):
        client.file_waybill(number, waybill_body(new_number()))
    with pytest.raises(ValueError, match="not a status change"):
        client.file_status(number, FilingStatus.FILED, DEPARTED_AT)
    with pytest.raises(ValueError, match="UTC offset"):
        client.file_status(number, FilingStatus.DEPARTED, datetime(2026, 3, 10, 9, 0))
    with pytest.raises(ValueError, match="needs an API key"):
        RegulatorClient("http://127.0.0.1:1", api_key=" ", timeout_s=1.0)
    assert control.requests() == []


# -- final refusals -------------------------------------------------------------------------


def test_refused_waybill_carries_the_regulators_reasons(client: RegulatorClient) -> None:
    number = new_number()
    body = waybill_body(number, items=[{"un_number": "UN12"}], emergency_contact={})

    with pytest.raises(RegulatorRejected) as rejected:
        client.file_waybill(number, body)

    assert isinstance(rejected.value, ExternalSystemRejected)
    assert rejected.value.status == 422
    assert rejected.value.reasons == (
        "emergency_contact.phone_24h is required",
        "items[0].un_number 'UN12' is not a UN number (UN and four digits)",
    )
    assert client.get_record(number) is None


def test_other_content_under_a_filed_number_is_a_conflict(client: RegulatorClient) -> None:
    number = new_number()
    client.file_waybill(number, waybill_body(number))

    with pytest.raises(ExternalSystemRejected) as conflict:
        client.file_waybill(number, waybill_body(number, revision=2))

    assert not isinstance(conflict.value, RegulatorRejected)
    assert conflict.value.status == 409
    assert "was filed with other content" in conflict.value.reason


def test_voided_waybill_and_forbidden_change_are_conflicts(client: RegulatorClient) -> None:
    voided, departed = new_number(), new_number()
    for number in (voided, departed):
        client.file_waybill(number, waybill_body(number))
    client.file_status(voided, FilingStatus.VOIDED, DEPARTED_AT)
    client.file_status(departed, FilingStatus.DEPARTED, DEPARTED_AT)

    with pytest.raises(ExternalSystemRejected, match="voided; file under a new number"):
        client.file_waybill(voided, waybill_body(voided))
    with pytest.raises(ExternalSystemRejected, match="is departed; it cannot become voided"):
        client.file_status(departed, FilingStatus.VOIDED, DEPARTED_AT)


def test_status_of_an_unfiled_waybill_is_rejected(client: RegulatorClient) -> None:
    with pytest.raises(ExternalSystemRejected) as rejected:
        client.file_status(new_number(), FilingStatus.DEPARTED, DEPARTED_AT)
    assert rejected.value.status == 404


@pytest.mark.parametrize("status", [400, 404, 409])
def test_other_client_errors_are_final(
    client: RegulatorClient, control: RegulatorControl, status: int
) -> None:
    control.set_fault(mode="error", status=status, count=1)
    number = new_number()

    with pytest.raises(ExternalSystemRejected) as rejected:
        client.file_waybill(number, waybill_body(number))

    assert (rejected.value.status, rejected.value.reason) == (status, "sandbox_fault")


def test_a_404_that_is_not_the_regulators_is_rejected(sandbox: RegulatorSandbox) -> None:
    with (
        RegulatorClient(f"{sandbox.url}/wrong-prefix", api_key=KEY, timeout_s=1.0) as misrouted,
        pytest.raises(ExternalSystemRejected) as rejected,
    ):
        misrouted.get_record(new_number())
    assert rejected.value.status == 404


# -- credentials: retried, loudly -----------------------------------------------------------


def test_a_refused_key_is_retryable_and_logged_until_the_key_is_fixed(
    sandbox: RegulatorSandbox, control: RegulatorControl, caplog: pytest.LogCaptureFixture
) -> None:
    number = new_number()
    with (
        RegulatorClient(sandbox.url, api_key="revoked-key", timeout_s=1.0) as misconfigured,
        caplog.at_level(logging.ERROR, logger="tradeflow.gateways.regulator"),
        pytest.raises(RegulatorAuthFailed) as refused,
    ):
        misconfigured.file_waybill(number, waybill_body(number))

    assert isinstance(refused.value, ExternalSystemUnavailable)
    assert refused.value.status == 401
    assert "fix TRADEFLOW_REGULATOR_API_KEY" in caplog.text
    assert "revoked-key" not in caplog.text
    with RegulatorClient(sandbox.url, api_key=KEY, timeout_s=1.0) as fixed:
        fixed.file_waybill(number, waybill_body(number))
    assert control.tally(number)["accepted"] == 1


def test_forbidden_is_treated_like_a_refused_key(
    client: RegulatorClient, control: RegulatorControl
) -> None:
    control.set_fault(mode="error", status=403, count=1)
    with pytest.raises(RegulatorAuthFailed) as refused:
        client.get_record(new_number())
    assert refused.value.status == 403


# -- outages: retried until exactly one filing ----------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_server_errors_and_throttling_are_unavailable(
    client: RegulatorClient, control: RegulatorControl, status: int
) -> None:
    control.set_fault(mode="error", status=status, count=1)
    number = new_number()

    with pytest.raises(ExternalSystemUnavailable, match=f"answered {status}"):
        client.file_waybill(number, waybill_body(number))
    assert control.tally(number)["accepted"] == 0


def test_a_long_outage_ends_in_one_filing(
    client: RegulatorClient, control: RegulatorControl
) -> None:
    number = new_number()
    control.set_fault(mode="error", status=503, count=6, paths=["/waybills"])

    receipt, failures = until_answered(lambda: client.file_waybill(number, waybill_body(number)))

    assert failures == 6
    assert receipt.waybill_number == number
    assert control.tally(number)["accepted"] == 1


def test_timeout_and_dropped_connection_are_unavailable(
    sandbox: RegulatorSandbox, client: RegulatorClient, control: RegulatorControl
) -> None:
    number = new_number()
    control.set_fault(mode="timeout", delay_s=1.0, count=1)
    with (
        RegulatorClient(sandbox.url, api_key=KEY, timeout_s=0.3) as impatient,
        pytest.raises(ExternalSystemUnavailable, match="timed out"),
    ):
        impatient.file_waybill(number, waybill_body(number))

    control.set_fault(mode="timeout", delay_s=0.05, count=1)
    with pytest.raises(ExternalSystemUnavailable, match="unreachable"):
        client.file_waybill(number, waybill_body(number))


@pytest.mark.parametrize("mode", ["error", "timeout", "slow"])
def test_accepted_but_unanswered_filing_is_resolved_by_the_idempotency_key(
    sandbox: RegulatorSandbox, control: RegulatorControl, mode: FaultMode
) -> None:
    """The duplicate-accept case: the regulator holds the filing, the caller saw a failure."""
    number = new_number()
    control.accept_then_fail(mode=mode, delay_s=0.6, count=1)

    with RegulatorClient(sandbox.url, api_key=KEY, timeout_s=0.3) as client:
        with pytest.raises(ExternalSystemUnavailable):
            client.file_waybill(number, waybill_body(number))
        receipt, _ = until_answered(lambda: client.file_waybill(number, waybill_body(number)))
        record = client.get_record(number)

    assert record is not None and receipt.receipt_number == record["receipt_number"]
    tally = control.tally(number)
    assert (tally["accepted"], tally["replays"]) == (1, 1)


def test_a_slow_regulator_that_accepts_after_the_caller_gave_up(
    sandbox: RegulatorSandbox, control: RegulatorControl
) -> None:
    number = new_number()
    control.set_fault(mode="slow", delay_s=0.6, count=1, paths=["/waybills"])

    with RegulatorClient(sandbox.url, api_key=KEY, timeout_s=0.3) as client:
        with pytest.raises(ExternalSystemUnavailable, match="timed out"):
            client.file_waybill(number, waybill_body(number))
        # The abandoned request still lands; wait for it as the retry back-off would.
        wait_until(
            lambda: control.tally(number)["accepted"] > 0,
            timeout=30,
            seen=lambda: control.tally(number),
        )
        receipt = client.file_waybill(number, waybill_body(number))

    assert control.tally(number)["accepted"] == 1
    assert receipt.receipt_number == control.tally(number)["receipt_number"]


def test_repeated_failures_after_acceptance_still_give_one_filing(
    client: RegulatorClient, control: RegulatorControl
) -> None:
    number = new_number()
    client.file_waybill(number, waybill_body(number))
    control.accept_then_fail(mode="error", status=502, count=3)

    receipt, failures = until_answered(
        lambda: client.file_status(number, FilingStatus.DEPARTED, DEPARTED_AT)
    )

    assert (failures, receipt.status) == (3, FilingStatus.DEPARTED)
    tally = control.tally(number)
    assert (tally["status_changes"], tally["status_replays"]) == (1, 3)


def test_regulator_restart_between_acceptance_and_retry(tmp_path: Path) -> None:
    number = new_number()
    with RegulatorSandbox(api_key=KEY, data_dir=tmp_path) as first:
        port = int(first.url.rsplit(":", 1)[-1])
        with RegulatorControl(first.url) as control:
            control.accept_then_fail(mode="timeout", delay_s=0.05)
        with (
            RegulatorClient(first.url, api_key=KEY, timeout_s=1.0) as client,
            pytest.raises(ExternalSystemUnavailable),
        ):
            client.file_waybill(number, waybill_body(number))

    with RegulatorClient(f"http://127.0.0.1:{port}", api_key=KEY, timeout_s=1.0) as client:
        with pytest.raises(ExternalSystemUnavailable, match="unreachable"):
            client.file_waybill(number, waybill_body(number))  # the regulator is down
        with (
            RegulatorSandbox(api_key=KEY, data_dir=tmp_path, port=port) as second,
            RegulatorControl(second.url) as control,
        ):
            receipt = client.file_waybill(number, waybill_body(number))
            tally = control.tally(number)

    assert (tally["accepted"], tally["replays"]) == (1, 1)
    assert receipt.receipt_number == tally["receipt_number"]


class _BrokenRegulator(SandboxServer):
    """Answers 201 with something that is not a receipt."""

    def routes(self) -> list[Route]:
        return [Route("POST", "/waybills", self._half)]

    def _half(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(201, {"waybill_number": request.body["waybill_number"]})


def test_a_2xx_that_is_not_a_receipt_is_unavailable() -> None:
    number = new_number()
    with (
        _BrokenRegulator() as broken,
        RegulatorClient(broken.url, api_key=KEY, timeout_s=1.0) as client,
        pytest.raises(ExternalSystemUnavailable, match="not a receipt"),
    ):
        client.file_waybill(number, waybill_body(number))


# -- settings -------------------------------------------------------------------------------


def test_from_settings(sandbox: RegulatorSandbox, control: RegulatorControl) -> None:
    number = new_number()
    configured = Settings(
        regulator_url=sandbox.url + "/", regulator_api_key=KEY, regulator_timeout_s=1.5
    )
    with RegulatorClient.from_settings(configured) as client:
        client.file_waybill(number, waybill_body(number))
    assert control.tally(number)["accepted"] == 1


def test_embedded_default_generates_the_key_once_in_the_data_folder(tmp_path: Path) -> None:
    embedded = Settings(environment="embedded", data_dir=tmp_path)

    key = regulator_api_key_from_settings(embedded)

    assert len(key) >= 32
    assert (tmp_path / "secrets" / LOCAL_SECRET_NAME).read_text().strip() == key
    assert regulator_api_key_from_settings(embedded) == key
    number = new_number()
    with (
        RegulatorSandbox(api_key=key) as sandbox,
        RegulatorClient.from_settings(
            embedded.model_copy(update={"regulator_url": sandbox.url})
        ) as client,
    ):
        assert client.file_waybill(number, waybill_body(number)).waybill_number == number


@pytest.mark.parametrize("key", ["", "changeme"])
def test_production_refuses_a_missing_or_example_key(key: str) -> None:
    with pytest.raises(ValidationError, match="TRADEFLOW_REGULATOR_API_KEY"):
        Settings(
            environment="production",
            jwt_secret="a-real-production-jwt-secret-0123456789",
            encryption_keys="k1:" + "A" * 43 + "=",
            regulator_api_key=key,
        )


def test_stopped_regulator_is_unavailable() -> None:
    with RegulatorSandbox(api_key=KEY) as short_lived:
        url = short_lived.url
    with (
        RegulatorClient(url, api_key=KEY, timeout_s=1.0) as client,
        pytest.raises(ExternalSystemUnavailable, match="unreachable"),
    ):
        client.get_record(new_number())
