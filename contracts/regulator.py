"""The transport regulator's answers to e-waybill filings: receipts and the filing's status."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from contracts.common import Frozen, Line


class FilingStatus(StrEnum):
    """A filed waybill's state at the regulator: filed → departed → delivered, or filed → voided."""

    FILED = "filed"
    DEPARTED = "departed"
    DELIVERED = "delivered"
    VOIDED = "voided"


# The changes filed after the waybill itself; "filed" is the filing, never a change.
STATUS_CHANGES = (FilingStatus.DEPARTED, FilingStatus.DELIVERED, FilingStatus.VOIDED)


def status_idempotency_key(waybill_number: str, status: FilingStatus) -> str:
    """Each status is filed at most once a waybill, so the pair names the change."""
    return f"{waybill_number}:{status.value}"


class FilingReceipt(Frozen):
    """The regulator accepted the waybill; a retried filing answers the same receipt."""

    receipt_number: Line = Field(min_length=1, max_length=64)
    waybill_number: Line = Field(min_length=1, max_length=64)
    accepted_at: AwareDatetime


class StatusReceipt(Frozen):
    """The regulator recorded a status change of a filed waybill."""

    receipt_number: Line = Field(min_length=1, max_length=64)
    waybill_number: Line = Field(min_length=1, max_length=64)
    status: FilingStatus
    event_receipt: Line = Field(min_length=1, max_length=80)
    at: AwareDatetime
