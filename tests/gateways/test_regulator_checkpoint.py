"""Each e-waybill filing hands the regulator the platform's latest signed audit checkpoint: the
sandbox keeps it with the filing, a verifier with the public key accepts it, and a repeat of
the filing with a newer checkpoint is still the same filing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gateways.regulator import RegulatorClient
from sandboxes.regulator import RegulatorSandbox
from security.audit_checkpoints import Checkpoint, SignedCheckpoint
from tests.conftest import TEST_REGULATOR_KEY
from tests.harness.audit import TEST_SIGNER
from tests.sandboxes.test_regulator import new_number, waybill_body


def test_a_filing_carries_the_signed_checkpoint_and_the_regulator_keeps_it(
    regulator_sandbox: RegulatorSandbox,
) -> None:
    number = new_number()
    first = TEST_SIGNER.sign(Checkpoint(41, "a" * 64, datetime.now(UTC)))
    newer = TEST_SIGNER.sign(Checkpoint(42, "b" * 64, datetime.now(UTC)))
    with RegulatorClient(
        regulator_sandbox.url, api_key=TEST_REGULATOR_KEY, timeout_s=2.0
    ) as client:
        receipt = client.file_waybill(
            number, waybill_body(number), audit_checkpoint=first.document()
        )
        again = client.file_waybill(number, waybill_body(number), audit_checkpoint=newer.document())
    assert again.receipt_number == receipt.receipt_number  # the checkpoint is not the waybill
    kept = regulator_sandbox.state()["filings"][number]["audit_checkpoint"]
    received = SignedCheckpoint.from_json(json.dumps(kept).encode())
    assert received == first and TEST_SIGNER.verifier().valid(received)
