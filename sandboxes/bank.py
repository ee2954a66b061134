"""Sandbox of a bank's host-to-host channel (银企直连): payments, incoming credits, statements.

The platform holds a supervised settlement account (监管账户, ``PLATFORM_ACCOUNT``) seeded with
CNY 100,000,000. Every call carries ``Authorization: Bearer <api key>``; every write carries an
``Idempotency-Key``: the same key and body again replays the first answer (200), another body
under it is a 409 ``idempotency_conflict``. A payment the bank refuses (a closed account,
insufficient funds) is booked as ``rejected`` and answered 201 like a settled one: a refusal is
the bank's answer, not an HTTP error, and its key stays spent.

Accounts are open unless the control call ``POST /_sandbox/bank/accounts/{account}`` closed
them; balances are the seeded ones plus settled transfers. Payments, credits and closed
accounts are kept in ``bank.json`` under the data directory. The after-accept fault
(sandboxes.booking) books the payment and then fails the answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from sandboxes import fields
from sandboxes.booking import (
    BookingControl,
    BookingSandbox,
    idempotency_conflict,
    no_route,
    not_found,
)
from sandboxes.http_sandbox import InvalidInput, Route, SandboxRequest, SandboxResponse
from sandboxes.regulator import CHINA_TIME, canonical_sha256

DATA_FILE = "bank.json"
PLATFORM_ACCOUNT = "6222020000000001"
PLATFORM_ACCOUNT_NAME = "Tradeflow 平台监管账户"
OPENING_BALANCES = {PLATFORM_ACCOUNT: Decimal("100000000.00")}
CURRENCY = "CNY"
_PAYMENT_FIELDS = (
    "payer_account",
    "payee_account",
    "payee_name",
    "amount",
    "currency",
    "reference",
    "memo",
)
_CREDIT_FIELDS = ("payer_account", "payer_name", "amount", "currency", "reference")


class Transfer(TypedDict):
    payment_id: str
    idempotency_key: str
    kind: Literal["payment", "credit"]
    status: Literal["settled", "rejected"]
    reason: str | None
    payer_account: str
    payer_name: str
    payee_account: str
    payee_name: str
    amount: str
    currency: str
    reference: str
    memo: str
    received_at: str
    value_date: str | None
    booked_at: str | None
    body_sha256: str


_INTERNAL = ("kind", "body_sha256")
Handler = Callable[[SandboxRequest], SandboxResponse]


def _answer(transfer: Transfer) -> dict[str, Any]:
    return {k: v for k, v in transfer.items() if k not in _INTERNAL}


def _currency(value: Any) -> str:
    if fields.currency(value, "currency") != CURRENCY:
        raise InvalidInput("currency", "must be CNY: the sandbox bank keeps CNY accounts only")
    return CURRENCY


def payment_order(body: Any) -> dict[str, str]:
    """The payment order as booked (amount with two decimals), or InvalidInput."""
    body = fields.json_object(body, "body", _PAYMENT_FIELDS)
    order = {
        "payer_account": fields.account(body.get("payer_account"), "payer_account"),
        "payee_account": fields.account(body.get("payee_account"), "payee_account"),
        "payee_name": fields.text(body, "payee_name", longest=200),
        "amount": fields.money_text(fields.amount(body.get("amount"), "amount")),
        "currency": _currency(body.get("currency")),
        "reference": fields.text(body, "reference", longest=64),
        "memo": fields.text(body, "memo", longest=140, required=False),
    }
    if order["payee_account"] == order["payer_account"]:
        raise InvalidInput("payee_account", "must differ from payer_account")
    return order


def incoming_transfer(account: str, body: Any) -> dict[str, str]:
    """An incoming credit to ``account`` as booked, or InvalidInput."""
    body = fields.json_object(body, "body", _CREDIT_FIELDS)
    credit = {
        "payer_account": fields.account(body.get("payer_account"), "payer_account"),
        "payer_name": fields.text(body, "payer_name", longest=200),
        "payee_account": account,
        "amount": fields.money_text(fields.amount(body.get("amount"), "amount")),
        "currency": _currency(body.get("currency")),
        "reference": fields.text(body, "reference", longest=64),
    }
    if credit["payer_account"] == account:
        raise InvalidInput("payer_account", "must differ from the credited account")
    return credit


def bearer_refusal(request: SandboxRequest, api_key: bytes) -> SandboxResponse | None:
    """401 unless the request carries ``Authorization: Bearer <api_key>``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    given = token.strip().encode("utf-8")
    if scheme.lower() == "bearer" and hmac.compare_digest(given, api_key):
        return None
    return SandboxResponse(
        401, {"error": "unauthorized", "reason": "a valid bearer API key is required"}
    )


class BankSandbox(BookingSandbox):
    name = "bank"
    data_file_name = DATA_FILE

    def __init__(
        self,
        *,
        api_key: str,
        data_dir: Path | None = None,
        opening_balances: Mapping[str, Decimal] = OPENING_BALANCES,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not api_key.strip():
            raise ValueError("the bank sandbox needs an API key")
        super().__init__(data_dir=data_dir, host=host, port=port)
        self._api_key = api_key.strip().encode("utf-8")
        self._opening = dict(opening_balances)
        self._holders = {PLATFORM_ACCOUNT: PLATFORM_ACCOUNT_NAME}
        self._sequence = 0
        self._transfers: dict[str, Transfer] = {}  # by payment id, in booking order
        self._payments: dict[str, str] = {}  # idempotency key → payment id
        self._credits: dict[str, str] = {}
        self._closed: set[str] = set()
        self._restore_saved()

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/payments", self._authorised(self._pay)),
            Route("GET", "/payments", self._authorised(self._find)),
            Route("GET", "/payments/{payment_id}", self._authorised(self._get)),
            Route("POST", "/accounts/{account}/credits", self._authorised(self._credit)),
            Route("GET", "/accounts/{account}/statement", self._authorised(self._statement)),
        ]

    # -- the bank's API -------------------------------------------------------------------

    def _pay(self, request: SandboxRequest) -> SandboxResponse:
        key = fields.idempotency_key(request)
        order = payment_order(request.body)
        return self._book("payment", key, order, self._payments)

    def _credit(self, request: SandboxRequest) -> SandboxResponse:
        key = fields.idempotency_key(request)
        account = fields.account(request.params["account"], "account")
        credit = incoming_transfer(account, request.body)
        return self._book("credit", key, credit, self._credits)

    def _find(self, request: SandboxRequest) -> SandboxResponse:
        key = request.query.get("idempotency_key", "").strip()
        if not key:
            raise InvalidInput("idempotency_key", "required: the key the payment was sent with")
        with self._lock:
            payment_id = self._payments.get(key)
            if payment_id is None:
                return not_found(f"payment under the key {key}")
            return SandboxResponse(200, _answer(self._transfers[payment_id]))

    def _get(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            transfer = self._transfers.get(request.params["payment_id"])
        if transfer is None:
            return not_found(f"payment {request.params['payment_id']}")
        return SandboxResponse(200, _answer(transfer))

    def _statement(self, request: SandboxRequest) -> SandboxResponse:
        account = fields.account(request.params["account"], "account")
        day = fields.day(request.query.get("date"), "date")
        with self._lock:
            opening = self._opening.get(account, Decimal(0))
            entries = []
            for transfer, signed in self._movements(account):
                value_date = date.fromisoformat(cast(str, transfer["value_date"]))
                if value_date < day:
                    opening += signed
                elif value_date == day:
                    entries.append(self._entry(account, transfer, signed))
        closing = opening + sum((Decimal(e["amount"]) for e in entries), Decimal(0))
        return SandboxResponse(
            200,
            {
                "account": account,
                "date": day.isoformat(),
                "currency": CURRENCY,
                "opening_balance": fields.money_text(opening),
                "closing_balance": fields.money_text(closing),
                "entries": entries,
            },
        )

    # -- booking --------------------------------------------------------------------------

    def _book(
        self,
        kind: Literal["payment", "credit"],
        key: str,
        order: dict[str, str],
        by_key: dict[str, str],
    ) -> SandboxResponse:
        digest = canonical_sha256(order)
        with self._lock:
            earlier = by_key.get(key)
            if earlier is not None:
                transfer = self._transfers[earlier]
                if transfer["body_sha256"] != digest:
                    return idempotency_conflict(key, payment_id=earlier)
                return SandboxResponse(200, _answer(transfer))
            reason = self._refusal(kind, order)
            now = datetime.now(CHINA_TIME)
            self._sequence += 1
            transfer = Transfer(
                payment_id=f"BK{now:%Y%m%d}{self._sequence:08d}",
                idempotency_key=key,
                kind=kind,
                status="rejected" if reason else "settled",
                reason=reason,
                payer_account=order["payer_account"],
                payer_name=order.get("payer_name") or self._holders.get(order["payer_account"], ""),
                payee_account=order["payee_account"],
                payee_name=order.get("payee_name") or self._holders.get(order["payee_account"], ""),
                amount=order["amount"],
                currency=order["currency"],
                reference=order["reference"],
                memo=order.get("memo", ""),
                received_at=now.isoformat(),
                value_date=None if reason else now.date().isoformat(),
                booked_at=None if reason else now.isoformat(),
                body_sha256=digest,
            )
            self._transfers[transfer["payment_id"]] = transfer
            by_key[key] = transfer["payment_id"]
            self._save()
            return SandboxResponse(201, _answer(transfer))

    def _refusal(self, kind: str, order: dict[str, str]) -> str | None:
        """Why the bank refuses this transfer (call under the lock); None books it."""
        if order["payee_account"] in self._closed:
            return "account_closed"
        if kind == "credit":
            return None  # the money is another bank's to send: only our side can refuse
        if order["payer_account"] in self._closed:
            return "payer_account_closed"
        if self._balance(order["payer_account"]) < Decimal(order["amount"]):
            return "insufficient_funds"
        return None

    def _movements(self, account: str) -> Iterator[tuple[Transfer, Decimal]]:
        """Settled transfers touching ``account`` in booking order, signed from its side. A
        credit's payer banks elsewhere, so only its payee's side is booked here."""
        for transfer in self._transfers.values():
            if transfer["status"] != "settled":
                continue
            if transfer["payee_account"] == account:
                yield transfer, Decimal(transfer["amount"])
            elif transfer["payer_account"] == account and transfer["kind"] == "payment":
                yield transfer, -Decimal(transfer["amount"])

    def _balance(self, account: str) -> Decimal:
        moved = sum((signed for _, signed in self._movements(account)), Decimal(0))
        return self._opening.get(account, Decimal(0)) + moved

    @staticmethod
    def _entry(account: str, transfer: Transfer, signed: Decimal) -> dict[str, Any]:
        credit = transfer["payee_account"] == account
        return {
            "payment_id": transfer["payment_id"],
            "idempotency_key": transfer["idempotency_key"],
            "reference": transfer["reference"],
            "counterparty_account": transfer["payer_account" if credit else "payee_account"],
            "counterparty_name": transfer["payer_name" if credit else "payee_name"],
            "amount": fields.money_text(signed),
            "currency": transfer["currency"],
            "booked_at": transfer["booked_at"],
        }

    def _authorised(self, handler: Handler) -> Handler:
        def guarded(request: SandboxRequest) -> SandboxResponse:
            return bearer_refusal(request, self._api_key) or handler(request)

        return guarded

    # -- control: the account book ----------------------------------------------------------

    def control(self, method: str, call: str, body: Any) -> SandboxResponse:
        kind, _, account = call.partition("/")
        if kind != "accounts" or not account or "/" in account:
            return no_route()
        account = fields.account(account, "account")
        if method == "POST":
            body = fields.json_object(body, "body", ("status",))
            if body.get("status") not in ("open", "closed"):
                raise InvalidInput("status", "must be open or closed")
            with self._lock:
                if body["status"] == "closed":
                    self._closed.add(account)
                else:
                    self._closed.discard(account)
                self._save()
        elif method != "GET":
            return SandboxResponse(405, {"error": "method_not_allowed"})
        with self._lock:
            return SandboxResponse(200, self._account_view(account))

    def _account_view(self, account: str) -> dict[str, str]:
        return {
            "account": account,
            "status": "closed" if account in self._closed else "open",
            "balance": fields.money_text(self._balance(account)),
            "currency": CURRENCY,
        }

    # -- persistence ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "sequence": self._sequence,
            "transfers": list(self._transfers.values()),
            "closed_accounts": sorted(self._closed),
        }

    def restore(self, document: dict[str, Any]) -> None:
        self._sequence = int(document["sequence"])
        for transfer in cast(list[Transfer], document["transfers"]):
            self._transfers[transfer["payment_id"]] = transfer
            by_key = self._payments if transfer["kind"] == "payment" else self._credits
            by_key[transfer["idempotency_key"]] = transfer["payment_id"]
        self._closed = {str(account) for account in document["closed_accounts"]}


class BankControl(BookingControl):
    """The bank sandbox's control API: faults, the after-accept fault and the account book."""

    sandbox_name = BankSandbox.name

    def close_account(self, account: str) -> dict[str, str]:
        return cast(dict[str, str], self._own("POST", f"accounts/{account}", {"status": "closed"}))

    def open_account(self, account: str) -> dict[str, str]:
        return cast(dict[str, str], self._own("POST", f"accounts/{account}", {"status": "open"}))

    def account(self, account: str) -> dict[str, str]:
        """The account's status and balance: {account, status, balance, currency}."""
        return cast(dict[str, str], self._own("GET", f"accounts/{account}"))

    def balance(self, account: str) -> Decimal:
        return Decimal(self.account(account)["balance"])
