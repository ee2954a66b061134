"""Sandbox of a receivables registry (动产融资统一登记公示系统 style): pledges of receivables.

A registration names the lender (registrant), the supplier pledging its receivable (pledgor),
the buyer who owes it (debtor) and the receivable (the order's reference, amount, due date).
Its ``Idempotency-Key`` is the loan's id: the same key and body again replays the record (200),
another body under it is a 409 ``idempotency_conflict``. The same receivable (debtor credit code
and reference) already registered under another key and not released is a 409
``already_registered`` naming that registration: a receivable is never pledged twice. A
release (``POST /registrations/{number}/release``) frees it again; releasing twice is harmless.

No credentials: the registry's accounts are out of scope. Registrations are kept in
``receivables_registry.json`` under the data directory; faults and the after-accept fault as in
sandboxes.booking.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from rules.credit_code import credit_code_problem
from sandboxes import fields
from sandboxes.booking import BookingControl, BookingSandbox, idempotency_conflict, not_found
from sandboxes.http_sandbox import InvalidInput, Route, SandboxRequest, SandboxResponse
from sandboxes.regulator import CHINA_TIME, canonical_sha256

DATA_FILE = "receivables_registry.json"
# The registry accepts a registration period of up to 30 years.
LONGEST_PERIOD = timedelta(days=30 * 366)
_PARTIES = ("registrant", "pledgor", "debtor")
_FIELDS = (*_PARTIES, "receivable", "financed_amount", "expires_on")


class Record(TypedDict):
    registration_number: str
    idempotency_key: str
    status: Literal["registered", "released"]
    registrant: dict[str, str]
    pledgor: dict[str, str]
    debtor: dict[str, str]
    receivable: dict[str, str]
    financed_amount: str
    expires_on: str
    registered_at: str
    released_at: str | None
    body_sha256: str
    release_key: str | None


_INTERNAL = ("body_sha256", "release_key")


def _answer(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _INTERNAL}


def _party(body: dict[str, Any], name: str) -> dict[str, str]:
    party = fields.json_object(body.get(name), name, ("name", "credit_code"))
    code = fields.text(party, "credit_code", where=name, longest=18)
    problem = credit_code_problem(code)
    if problem is not None:
        raise InvalidInput(f"{name}.credit_code", problem)
    return {"name": fields.text(party, "name", where=name, longest=200), "credit_code": code}


def registration(body: Any, *, today: datetime) -> dict[str, Any]:
    """The registration as kept (amounts with two decimals), or InvalidInput."""
    body = fields.json_object(body, "body", _FIELDS)
    parties = {name: _party(body, name) for name in _PARTIES}
    if parties["debtor"]["credit_code"] == parties["pledgor"]["credit_code"]:
        raise InvalidInput("debtor.credit_code", "must differ from the pledgor's")
    raw = fields.json_object(
        body.get("receivable"), "receivable", ("reference", "amount", "currency", "due_on")
    )
    owed = fields.amount(raw.get("amount"), "receivable.amount")
    receivable = {
        "reference": fields.text(raw, "reference", where="receivable", longest=64),
        "amount": fields.money_text(owed),
        "currency": fields.currency(raw.get("currency"), "receivable.currency"),
        "due_on": fields.day(raw.get("due_on"), "receivable.due_on").isoformat(),
    }
    financed = fields.amount(body.get("financed_amount"), "financed_amount")
    if financed > owed:
        raise InvalidInput("financed_amount", "must not exceed receivable.amount")
    expires_on = fields.day(body.get("expires_on"), "expires_on")
    if expires_on <= today.date():
        raise InvalidInput("expires_on", "must be after today (China time)")
    if expires_on > today.date() + LONGEST_PERIOD:
        raise InvalidInput("expires_on", "at most 30 years ahead")
    return {
        **parties,
        "receivable": receivable,
        "financed_amount": fields.money_text(financed),
        "expires_on": expires_on.isoformat(),
    }


class ReceivablesRegistrySandbox(BookingSandbox):
    name = "receivables-registry"
    data_file_name = DATA_FILE

    def __init__(
        self, *, data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(data_dir=data_dir, host=host, port=port)
        self._sequence = 0
        self._records: dict[str, Record] = {}  # by registration number, in registration order
        self._by_key: dict[str, str] = {}
        self._restore_saved()

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/registrations", self._register),
            Route("GET", "/registrations", self._search),
            Route("GET", "/registrations/{number}", self._get),
            Route("POST", "/registrations/{number}/release", self._release),
        ]

    def _register(self, request: SandboxRequest) -> SandboxResponse:
        key = fields.idempotency_key(request)
        now = datetime.now(CHINA_TIME)
        kept = registration(request.body, today=now)
        digest = canonical_sha256(kept)
        with self._lock:
            earlier = self._by_key.get(key)
            if earlier is not None:
                if self._records[earlier]["body_sha256"] != digest:
                    return idempotency_conflict(key, registration_number=earlier)
                return SandboxResponse(200, _answer(self._records[earlier]))
            pledged = self._in_force(kept["debtor"]["credit_code"], kept["receivable"]["reference"])
            if pledged is not None:
                return SandboxResponse(
                    409,
                    {
                        "error": "already_registered",
                        "reason": "the receivable is registered and not released",
                        "registration_number": pledged["registration_number"],
                    },
                )
            self._sequence += 1
            record = Record(
                registration_number=f"0{now:%Y%m%d}{self._sequence:015d}",
                idempotency_key=key,
                status="registered",
                registrant=kept["registrant"],
                pledgor=kept["pledgor"],
                debtor=kept["debtor"],
                receivable=kept["receivable"],
                financed_amount=kept["financed_amount"],
                expires_on=kept["expires_on"],
                registered_at=now.isoformat(),
                released_at=None,
                body_sha256=digest,
                release_key=None,
            )
            self._records[record["registration_number"]] = record
            self._by_key[key] = record["registration_number"]
            self._save()
            return SandboxResponse(201, _answer(record))

    def _search(self, request: SandboxRequest) -> SandboxResponse:
        debtor = request.query.get("debtor_credit_code", "").strip()
        if not debtor:
            raise InvalidInput("debtor_credit_code", "required")
        reference = request.query.get("reference", "").strip()
        with self._lock:
            found = [
                _answer(r)
                for r in self._records.values()
                if r["debtor"]["credit_code"] == debtor
                and (not reference or r["receivable"]["reference"] == reference)
            ]
        return SandboxResponse(200, {"registrations": found})

    def _get(self, request: SandboxRequest) -> SandboxResponse:
        number = request.params["number"]
        with self._lock:
            record = self._records.get(number)
            found = None if record is None else _answer(record)
        if found is None:
            return not_found(f"registration {number}")
        return SandboxResponse(200, found)

    def _release(self, request: SandboxRequest) -> SandboxResponse:
        key = fields.idempotency_key(request)
        number = request.params["number"]
        with self._lock:
            record = self._records.get(number)
            if record is None:
                return not_found(f"registration {number}")
            if record["status"] == "registered":
                record["status"] = "released"
                record["released_at"] = datetime.now(CHINA_TIME).isoformat()
                record["release_key"] = key
                self._save()
            return SandboxResponse(200, _answer(record))

    def _in_force(self, debtor: str, reference: str) -> Record | None:
        return next(
            (
                r
                for r in self._records.values()
                if r["status"] == "registered"
                and r["debtor"]["credit_code"] == debtor
                and r["receivable"]["reference"] == reference
            ),
            None,
        )

    def state(self) -> dict[str, Any]:
        return {"sequence": self._sequence, "registrations": list(self._records.values())}

    def restore(self, document: dict[str, Any]) -> None:
        self._sequence = int(document["sequence"])
        for record in cast(list[Record], document["registrations"]):
            self._records[record["registration_number"]] = record
            self._by_key[record["idempotency_key"]] = record["registration_number"]


class ReceivablesRegistryControl(BookingControl):
    """The registry sandbox's control API: faults and the after-accept fault."""

    sandbox_name = ReceivablesRegistrySandbox.name
