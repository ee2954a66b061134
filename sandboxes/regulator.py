"""Sandbox of the transport regulator's dangerous-goods e-waybill system: filings and status.

Every call carries ``Authorization: Bearer <api key>``. A filing is idempotent by its
``Idempotency-Key`` (the waybill number): the same waybill again is a replay answered with the
same receipt, a different one under that number a conflict. Filings are kept in
``filings.json`` under the data directory, when one is given, and written before answering.

Besides the shared faults, which strike before a request is handled, an after-accept fault
(``/_sandbox/regulator/accept-then-fail``) strikes after the sandbox has recorded an accepted
filing or status change: the caller sees an error or a dropped connection although the
regulator holds the filing, the case a retry must resolve through the idempotency key. The
fault, the state file and the control calls are the booking sandboxes' (``sandboxes.booking``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from sandboxes.booking import BookingControl, BookingSandbox, no_route
from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse

DATA_FILE = "filings.json"
# Receipts are dated as the regulator (in China) sees the day.
CHINA_TIME = timezone(timedelta(hours=8), "CST")
_UN_NUMBER = re.compile(r"^UN\d{4}$")
# Once goods are on the road the waybill cannot be voided: it ends with their delivery.
_MOVES = {"filed": ("departed", "voided"), "departed": ("delivered",)}
_STATUS_CHANGES = ("departed", "delivered", "voided")
_REQUIRED = (
    ("waybill_number",),
    ("consignor", "name"),
    ("consignee", "name"),
    ("carrier", "name"),
    ("carrier", "road_transport_permit_number"),
    ("vehicle", "plate"),
    ("driver", "name"),
    ("driver", "qualification_certificate_number"),
    ("escort", "name"),
    ("escort", "qualification_certificate_number"),
    ("emergency_contact", "phone_24h"),
)


class StatusEvent(TypedDict):
    status: str
    at: str
    note: str
    event_receipt: str
    idempotency_key: str
    body_sha256: str
    recorded_at: str


class Filing(TypedDict):
    waybill_number: str
    shipment_id: str
    receipt_number: str
    accepted_at: str
    status: str
    body_sha256: str
    waybill: dict[str, Any]
    events: list[StatusEvent]
    # The filer's signed audit checkpoint sent with the filing (its header), kept as received.
    audit_checkpoint: NotRequired[Any]


class Tally(TypedDict):
    """What happened to one waybill number; ``accepted`` must never pass 1."""

    accepted: int
    replays: int
    conflicts: int
    rejections: int
    status_changes: int
    status_replays: int


class FilingStats(Tally):
    status: str | None
    receipt_number: str | None
    shipment_id: str | None


class RegulatorStats(TypedDict):
    waybills: dict[str, FilingStats]
    shipments: dict[str, list[str]]  # shipment id → waybill numbers accepted for it
    accept_then_fail_applied: int


def _new_tally() -> Tally:
    return Tally(
        accepted=0, replays=0, conflicts=0, rejections=0, status_changes=0, status_replays=0
    )


def canonical_sha256(body: Any) -> str:
    """The body's hash after canonical JSON: key order and spacing do not make a new body."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _field(body: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body


def _day(value: Any) -> date | None:
    """A date, or the date of a datetime, from its ISO text; None when it is neither."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def rejection_reasons(body: Any) -> list[str]:
    """Why the regulator would refuse this waybill, one readable line a problem; [] accepts it."""
    if not isinstance(body, dict):
        return ["the waybill must be a JSON object"]
    reasons = [
        f"{'.'.join(path)} is required"
        for path in _REQUIRED
        if not isinstance(value := _field(body, path), str) or not value.strip()
    ]
    items = body.get("items")
    if not isinstance(items, list) or not items:
        reasons.append("items: at least one dangerous-goods item is required")
    else:
        for i, item in enumerate(items):
            un_number = _field(item, ("un_number",))
            if not isinstance(un_number, str) or not _UN_NUMBER.match(un_number):
                reasons.append(
                    f"items[{i}].un_number {un_number!r} is not a UN number (UN and four digits)"
                )
    dispatch = _day(body.get("dispatch_date"))
    if dispatch is None:
        reasons.append("dispatch_date must be a date (YYYY-MM-DD)")
    for person in ("driver", "escort"):
        expiry = _day(_field(body, (person, "certificate_expiry")))
        if expiry is None:
            reasons.append(f"{person}.certificate_expiry must be a date (YYYY-MM-DD)")
        elif dispatch is not None and expiry < dispatch:
            reasons.append(
                f"{person}'s qualification certificate expires on {expiry}, "
                f"before the dispatch date {dispatch}"
            )
    return reasons


def _status_reasons(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the status change must be a JSON object"]
    reasons = []
    if body.get("status") not in _STATUS_CHANGES:
        reasons.append("status must be one of " + ", ".join(_STATUS_CHANGES))
    at = body.get("at")
    try:
        aware = isinstance(at, str) and datetime.fromisoformat(at).tzinfo is not None
    except ValueError:
        aware = False
    if not aware:
        reasons.append("at must be a date and time with its UTC offset (ISO 8601)")
    if not isinstance(body.get("note", ""), str) or len(body.get("note", "")) > 2000:
        reasons.append("note must be text of at most 2000 characters")
    return reasons


def _checkpoint_sent(request: SandboxRequest) -> Any:
    sent = request.headers.get("tradeflow-audit-checkpoint")
    try:
        return None if sent is None else json.loads(sent)
    except json.JSONDecodeError:
        return sent  # kept as received: judging it is the regulator's business


def _rejected(reasons: list[str]) -> SandboxResponse:
    return SandboxResponse(422, {"error": "rejected", "reasons": reasons})


def _conflict(reason: str) -> SandboxResponse:
    return SandboxResponse(409, {"error": "conflict", "reason": reason})


def _receipt(filing: Filing) -> dict[str, str]:
    return {
        "receipt_number": filing["receipt_number"],
        "waybill_number": filing["waybill_number"],
        "status": "filed",
        "accepted_at": filing["accepted_at"],
    }


def _event_receipt(filing: Filing, event: StatusEvent) -> dict[str, str]:
    return {
        "receipt_number": filing["receipt_number"],
        "waybill_number": filing["waybill_number"],
        "status": event["status"],
        "event_receipt": event["event_receipt"],
        "at": event["at"],
    }


class RegulatorSandbox(BookingSandbox):
    name = "regulator"
    data_file_name = DATA_FILE

    def __init__(
        self,
        *,
        api_key: str,
        data_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not api_key.strip():
            raise ValueError("the regulator sandbox needs an API key")
        super().__init__(data_dir=data_dir, host=host, port=port)
        self._api_key = api_key.strip().encode("utf-8")
        self._sequence = 0
        self._filings: dict[str, Filing] = {}
        self._tallies: dict[str, Tally] = {}
        self._restore_saved()

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/waybills", self._file),
            Route("GET", "/waybills/{waybill_number}", self._get),
            Route("POST", "/waybills/{waybill_number}/status", self._file_status),
        ]

    # -- the regulator's API --------------------------------------------------------------

    def _file(self, request: SandboxRequest) -> SandboxResponse:
        refused = self._unauthorised(request) or self._keyless(request)
        if refused is not None:
            return refused
        body, key = request.body, request.headers["idempotency-key"].strip()
        if not isinstance(body, dict):
            return _rejected(rejection_reasons(body))
        if body.get("waybill_number") != key:
            return SandboxResponse(
                400,
                {
                    "error": "idempotency_key_mismatch",
                    "reason": "Idempotency-Key must equal the waybill_number",
                },
            )
        digest = canonical_sha256(body)
        with self._lock:
            tally = self._tallies.setdefault(key, _new_tally())
            filing = self._filings.get(key)
            if filing is not None:
                if filing["status"] == "voided":
                    answer = _conflict(f"waybill {key} was voided; file under a new number")
                elif filing["body_sha256"] != digest:
                    answer = _conflict(
                        f"waybill {key} was filed with other content "
                        f"(receipt {filing['receipt_number']})"
                    )
                else:
                    tally["replays"] += 1
                    self._save()
                    return SandboxResponse(200, _receipt(filing))
                tally["conflicts"] += 1
                self._save()
                return answer
            reasons = rejection_reasons(body)
            if reasons:
                tally["rejections"] += 1
                self._save()
                return _rejected(reasons)
            self._sequence += 1
            now = datetime.now(CHINA_TIME)
            filing = Filing(
                waybill_number=key,
                shipment_id=str(body.get("shipment_id") or ""),
                receipt_number=f"JS-DG-{now:%Y%m%d}-{self._sequence:06d}",
                accepted_at=now.isoformat(),
                status="filed",
                body_sha256=digest,
                waybill=body,
                events=[],
                audit_checkpoint=_checkpoint_sent(request),
            )
            self._filings[key] = filing
            tally["accepted"] += 1
            self._save()
            return SandboxResponse(201, _receipt(filing))

    def _file_status(self, request: SandboxRequest) -> SandboxResponse:
        refused = self._unauthorised(request) or self._keyless(request)
        if refused is not None:
            return refused
        number, key = request.params["waybill_number"], request.headers["idempotency-key"].strip()
        with self._lock:
            filing = self._filings.get(number)
            if filing is None:
                return SandboxResponse(
                    404, {"error": "not_found", "reason": f"no waybill {number} was filed"}
                )
            reasons = _status_reasons(request.body)
            if reasons:
                return _rejected(reasons)
            body: dict[str, Any] = request.body
            change = {"status": body["status"], "at": body["at"], "note": body.get("note", "")}
            digest = canonical_sha256(change)
            tally = self._tallies.setdefault(number, _new_tally())
            earlier = next((e for e in filing["events"] if e["idempotency_key"] == key), None)
            if earlier is not None and earlier["body_sha256"] == digest:
                tally["status_replays"] += 1
                self._save()
                return SandboxResponse(200, _event_receipt(filing, earlier))
            if earlier is not None:
                answer = _conflict(f"{key} was filed with other content")
            elif change["status"] not in _MOVES.get(filing["status"], ()):
                answer = _conflict(
                    f"waybill {number} is {filing['status']}; it cannot become {change['status']}"
                )
            else:
                event = StatusEvent(
                    status=change["status"],
                    at=change["at"],
                    note=change["note"],
                    event_receipt=f"{filing['receipt_number']}-S{len(filing['events']) + 1}",
                    idempotency_key=key,
                    body_sha256=digest,
                    recorded_at=datetime.now(CHINA_TIME).isoformat(),
                )
                filing["events"].append(event)
                filing["status"] = event["status"]
                tally["status_changes"] += 1
                self._save()
                return SandboxResponse(201, _event_receipt(filing, event))
            tally["conflicts"] += 1
            self._save()
            return answer

    def _get(self, request: SandboxRequest) -> SandboxResponse:
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        number = request.params["waybill_number"]
        with self._lock:
            filing = self._filings.get(number)
            if filing is None:
                return SandboxResponse(404, {"error": "not_found"})
            filed = {
                "status": "filed",
                "at": filing["accepted_at"],
                "note": "",
                "event_receipt": filing["receipt_number"],
            }
            history = [filed] + [
                {
                    "status": e["status"],
                    "at": e["at"],
                    "note": e["note"],
                    "event_receipt": e["event_receipt"],
                }
                for e in filing["events"]
            ]
            return SandboxResponse(
                200,
                {
                    "waybill_number": number,
                    "receipt_number": filing["receipt_number"],
                    "status": filing["status"],
                    "accepted_at": filing["accepted_at"],
                    "waybill": filing["waybill"],
                    "history": history,
                },
            )

    def _unauthorised(self, request: SandboxRequest) -> SandboxResponse | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        given = token.strip().encode("utf-8")
        if scheme.lower() == "bearer" and hmac.compare_digest(given, self._api_key):
            return None
        return SandboxResponse(
            401, {"error": "unauthorized", "reason": "a valid bearer API key is required"}
        )

    @staticmethod
    def _keyless(request: SandboxRequest) -> SandboxResponse | None:
        if request.headers.get("idempotency-key", "").strip():
            return None
        return SandboxResponse(
            400,
            {
                "error": "idempotency_key_required",
                "reason": "an Idempotency-Key header is required",
            },
        )

    # -- control: the after-accept fault and the tallies ----------------------------------

    def control(self, method: str, call: str, body: Any) -> SandboxResponse:
        if call == "filings" and method == "GET":
            return SandboxResponse(200, self.stats())
        return no_route()

    def stats(self) -> RegulatorStats:
        """Tallies by waybill number and the waybills accepted for each shipment."""
        with self._lock:
            waybills: dict[str, FilingStats] = {}
            shipments: dict[str, list[str]] = {}
            for number, tally in sorted(self._tallies.items()):
                filing = self._filings.get(number)
                waybills[number] = FilingStats(
                    **tally,
                    status=None if filing is None else filing["status"],
                    receipt_number=None if filing is None else filing["receipt_number"],
                    shipment_id=None if filing is None else filing["shipment_id"],
                )
                if filing is not None:
                    shipments.setdefault(filing["shipment_id"], []).append(number)
            return RegulatorStats(
                waybills=waybills,
                shipments=shipments,
                accept_then_fail_applied=self._after_accept_applied,
            )

    # -- persistence ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"sequence": self._sequence, "filings": self._filings, "tallies": self._tallies}

    def restore(self, document: dict[str, Any]) -> None:
        self._sequence = int(document["sequence"])
        self._filings = cast(dict[str, Filing], dict(document["filings"]))
        self._tallies = cast(dict[str, Tally], dict(document["tallies"]))


class RegulatorControl(BookingControl):
    """The shared control API plus the regulator's after-accept fault and filing tallies."""

    sandbox_name = "regulator"

    def stats(self) -> RegulatorStats:
        return cast(RegulatorStats, self._own("GET", "filings"))

    def tally(self, waybill_number: str) -> FilingStats:
        """One waybill's tallies (all zero if the regulator never heard of it)."""
        found = self.stats()["waybills"].get(waybill_number)
        return found or FilingStats(
            **_new_tally(), status=None, receipt_number=None, shipment_id=None
        )
