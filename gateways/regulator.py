"""Client of the transport regulator's e-waybill system: file waybills and their status changes.

How failures are sorted for the activity retry policy:

- ``ExternalSystemUnavailable`` (retry): unreachable, timed out, 5xx, 429, an answer that is not
  a receipt, and ``RegulatorAuthFailed`` (401/403). A wrong or revoked key is configuration an
  operator can fix while filings wait; failing them would throw the filings away, so they keep
  retrying and every refusal is logged at ERROR.
- ``RegulatorRejected`` (final, 422): the regulator refused the waybill; ``reasons`` go back to
  the fix task. It is an ``ExternalSystemRejected``, but Temporal matches retry types by exact
  class name, so the activity must catch it (or the policy name it).
- ``ExternalSystemRejected`` (final): 409 (the number was filed with other content or voided, or
  the status change is not allowed), 404 (no such waybill), 400 (a malformed request).

Retrying is safe: every write carries an idempotency key (the waybill number; waybill and
status for a change), so a retry after an accepted but unanswered call gets the same receipt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from contracts.regulator import (
    STATUS_CHANGES,
    FilingReceipt,
    FilingStatus,
    StatusReceipt,
    status_idempotency_key,
)
from gateways.api_keys import api_key_from_settings, bearer_adapter
from gateways.http_adapter import (
    AdapterClient,
    ExternalSystemRejected,
    ExternalSystemUnavailable,
    HttpAdapter,
    response_body,
    response_reason,
)
from gateways.wire import not_found, parsed
from settings import Settings

SYSTEM = "transport regulator"
# The platform's latest signed audit checkpoint (security.audit_checkpoints), as JSON.
AUDIT_CHECKPOINT_HEADER = "Tradeflow-Audit-Checkpoint"
LOCAL_SECRET_NAME = "regulator-api-key"
_log = logging.getLogger("tradeflow.gateways.regulator")


class RegulatorRejected(ExternalSystemRejected):
    """The regulator refused the waybill or change (422), giving its reasons."""

    def __init__(self, message: str, *, reasons: tuple[str, ...]) -> None:
        super().__init__(message, system=SYSTEM, status=422, reason="; ".join(reasons))
        self.reasons = reasons


class RegulatorAuthFailed(ExternalSystemUnavailable):
    """The regulator refused our credentials (401/403): retried until the key is fixed."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, system=SYSTEM)
        self.status = status


def regulator_api_key_from_settings(settings: Settings) -> str:
    """The configured key, or outside production the data folder's generated one."""
    return api_key_from_settings(
        settings,
        configured=settings.regulator_api_key,
        secret_name=LOCAL_SECRET_NAME,
        variable="TRADEFLOW_REGULATOR_API_KEY",
    )


class RegulatorClient(AdapterClient):
    _http: HttpAdapter

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout_s: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = bearer_adapter(
            base_url, system=SYSTEM, api_key=api_key, timeout_s=timeout_s, transport=transport
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            settings.regulator_url,
            api_key=regulator_api_key_from_settings(settings),
            timeout_s=settings.regulator_timeout_s,
        )

    def file_waybill(
        self,
        waybill_number: str,
        body: Mapping[str, Any],
        *,
        audit_checkpoint: Mapping[str, Any] | None = None,
    ) -> FilingReceipt:
        """File the e-waybill (JSON); a repeat of an accepted filing answers the same receipt.
        ``audit_checkpoint``: the platform's latest signed audit checkpoint, handed over with the
        filing in a header, so it is not part of the waybill a repeat must match."""
        if body.get("waybill_number") != waybill_number:
            raise ValueError(f"the body is not waybill {waybill_number}'s")
        extra = {}
        if audit_checkpoint is not None:
            extra[AUDIT_CHECKPOINT_HEADER] = json.dumps(dict(audit_checkpoint), sort_keys=True)
        response = self._send(
            "POST", "/waybills", json=dict(body), key=waybill_number, extra_headers=extra
        )
        receipt = parsed(FilingReceipt, response, system=SYSTEM, what="receipt")
        if receipt.waybill_number != waybill_number:
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered waybill {waybill_number} with {receipt.waybill_number}'s",
                system=SYSTEM,
            )
        if response.status_code == 200:
            _log.info("%s replayed receipt %s", waybill_number, receipt.receipt_number)
        return receipt

    def file_status(
        self, waybill_number: str, status: FilingStatus, at: datetime, note: str = ""
    ) -> StatusReceipt:
        """File a change of a filed waybill (departed, delivered, voided); repeats are safe."""
        status = FilingStatus(status)
        if status not in STATUS_CHANGES:
            raise ValueError(f"{status.value} is not a status change")
        if at.tzinfo is None:
            raise ValueError("the time of a status change needs its UTC offset")
        path = f"/waybills/{quote(waybill_number, safe='')}/status"
        response = self._send(
            "POST",
            path,
            json={"status": status.value, "at": at.isoformat(), "note": note},
            key=status_idempotency_key(waybill_number, status),
        )
        receipt = parsed(StatusReceipt, response, system=SYSTEM, what="receipt")
        if (receipt.waybill_number, receipt.status) != (waybill_number, status):
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered {waybill_number} {status.value} with "
                f"{receipt.waybill_number} {receipt.status.value}",
                system=SYSTEM,
            )
        return receipt

    def get_record(self, waybill_number: str) -> dict[str, Any] | None:
        """The regulator's record of the waybill with its status history; None if it has none."""
        path = f"/waybills/{quote(waybill_number, safe='')}"
        response = self._send("GET", path, passthrough={404})
        # Only the regulator's own "not found" says the waybill was never filed; a 404 from a
        # proxy or a wrong base URL must not make a filed waybill look unfiled.
        if not_found(response, system=SYSTEM):
            return None
        body = response_body(response)
        if not isinstance(body, dict) or body.get("waybill_number") != waybill_number:
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered GET {path} with something that is not its record",
                system=SYSTEM,
            )
        return body

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        key: str | None = None,
        passthrough: Collection[int] = (),
        extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = self._http.request(
            method,
            path,
            json=json,
            idempotency_key=key,
            passthrough={401, 403, 422, *passthrough},
            extra_headers=extra_headers,
        )
        status = response.status_code
        if status in (401, 403):
            _log.error(
                "%s refused the API key (%s) on %s %s: fix TRADEFLOW_REGULATOR_API_KEY; "
                "filings wait and retry until then",
                SYSTEM,
                status,
                method,
                path,
            )
            raise RegulatorAuthFailed(
                f"{SYSTEM} refused the API key ({status}) on {method} {path}", status=status
            )
        if status == 422:
            reasons = _reasons(response)
            raise RegulatorRejected(
                f"{SYSTEM} rejected {method} {path}: {'; '.join(reasons)}", reasons=reasons
            )
        return response


def _reasons(response: httpx.Response) -> tuple[str, ...]:
    body = response_body(response)
    listed = body.get("reasons") if isinstance(body, dict) else None
    if isinstance(listed, list) and listed and all(isinstance(r, str) for r in listed):
        return tuple(listed)
    return (response_reason(response),)
