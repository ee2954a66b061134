"""Client of the bank's host-to-host channel (银企直连): pay, find a payment, read statements.

How answers and failures are sorted for the activity retry policy:

- a payment the bank refused (closed account, insufficient funds) is a ``BankPayment`` with
  status ``rejected`` and the bank's reason: an answer for a finance task, not an error;
- ``ExternalSystemUnavailable`` (retry): unreachable, timed out, 5xx, 429, an answer that is not
  a payment, and ``ApiKeyRefused`` (401/403, logged at ERROR until the key is fixed);
- ``ExternalSystemRejected`` (final): 422 (the order broke a rule, named in the reason), 409
  (the key was used for another order), another 4xx.

Retrying ``pay`` is safe: every payment carries an idempotency key (the loan's id, say), and the
bank answers a repeat with the payment it booked the first time, so an answer lost after the
bank booked it (a timeout, a dropped connection) is recovered by paying again under the same
key, or read with ``find_payment``: exactly one disbursement.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Self
from urllib.parse import quote

import httpx

from contracts.banking import BankPayment, BankStatement, IncomingTransfer, PaymentOrder
from gateways.api_keys import api_key_from_settings, bearer_adapter, refuse_on_auth_failure
from gateways.http_adapter import AdapterClient, ExternalSystemUnavailable, HttpAdapter
from gateways.wire import not_found, parsed
from settings import Settings

SYSTEM = "bank"
LOCAL_SECRET_NAME = "bank-api-key"
KEY_VARIABLE = "TRADEFLOW_BANK_API_KEY"
_log = logging.getLogger("tradeflow.gateways.bank")


def bank_api_key_from_settings(settings: Settings) -> str:
    """The configured key, or outside production the data folder's generated one."""
    return api_key_from_settings(
        settings,
        configured=settings.bank_api_key,
        secret_name=LOCAL_SECRET_NAME,
        variable=KEY_VARIABLE,
    )


class BankClient(AdapterClient):
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
            settings.bank_url,
            api_key=bank_api_key_from_settings(settings),
            timeout_s=settings.bank_timeout_s,
        )

    def pay(self, order: PaymentOrder, *, idempotency_key: str) -> BankPayment:
        """Pay once under ``idempotency_key``; a repeat answers the payment booked first."""
        if not idempotency_key.strip():
            raise ValueError("a payment needs its idempotency key")
        response = self._send(
            "POST", "/payments", json=order.model_dump(mode="json"), key=idempotency_key
        )
        payment = self._payment(response, idempotency_key)
        if response.status_code == 200:
            _log.info("%s replayed payment %s", idempotency_key, payment.payment_id)
        return payment

    def find_payment(self, idempotency_key: str) -> BankPayment | None:
        """The payment booked under ``idempotency_key``; None when the bank has none."""
        response = self._send(
            "GET", "/payments", params={"idempotency_key": idempotency_key}, passthrough={404}
        )
        if not_found(response, system=SYSTEM):
            return None
        return self._payment(response, idempotency_key)

    def get_payment(self, payment_id: str) -> BankPayment | None:
        """The payment (or credit) with the bank's ``payment_id``; None when there is none."""
        path = f"/payments/{quote(payment_id, safe='')}"
        response = self._send("GET", path, passthrough={404})
        if not_found(response, system=SYSTEM):
            return None
        return parsed(BankPayment, response, system=SYSTEM)

    def statement(self, account: str, day: date) -> BankStatement:
        """The account's settled transfers on ``day`` (a China day) with its balances."""
        path = f"/accounts/{quote(account, safe='')}/statement"
        response = self._send("GET", path, params={"date": day.isoformat()})
        statement = parsed(BankStatement, response, system=SYSTEM)
        if (statement.account, statement.date) != (account, day):
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered {account}'s statement of {day} with "
                f"{statement.account}'s of {statement.date}",
                system=SYSTEM,
            )
        return statement

    def credit(
        self, account: str, transfer: IncomingTransfer, *, idempotency_key: str
    ) -> BankPayment:
        """Money from another bank arriving in ``account`` (tests and the demo: a buyer paying
        into the supervised account; the real bank has no such call)."""
        path = f"/accounts/{quote(account, safe='')}/credits"
        response = self._send(
            "POST", path, json=transfer.model_dump(mode="json"), key=idempotency_key
        )
        return self._payment(response, idempotency_key)

    def _payment(self, response: httpx.Response, idempotency_key: str) -> BankPayment:
        payment = parsed(BankPayment, response, system=SYSTEM)
        if payment.idempotency_key != idempotency_key:
            # A misrouted answer must never be taken for this key's payment.
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered key {idempotency_key} with {payment.idempotency_key}'s payment",
                system=SYSTEM,
            )
        return payment

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        key: str | None = None,
        params: dict[str, str] | None = None,
        passthrough: set[int] | None = None,
    ) -> httpx.Response:
        response = self._http.request(
            method,
            path,
            params=params,
            json=json,
            idempotency_key=key,
            passthrough={401, 403, *(passthrough or ())},
        )
        refuse_on_auth_failure(response, system=SYSTEM, variable=KEY_VARIABLE, log=_log)
        return response
