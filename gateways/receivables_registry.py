"""Client of the receivables registry (动产融资统一登记公示系统 style): register a financed
receivable's pledge, search before funding, release when repaid.

How failures are sorted for the activity retry policy:

- ``ReceivableAlreadyRegistered`` (final, 409): the receivable is pledged under another key and
  not released; it carries that registration's number. Financing it again would finance it twice.
- ``ExternalSystemRejected`` (final): 422 (a field broke a rule, named in the reason), 409 (the
  key was used for another registration), another 4xx.
- ``ExternalSystemUnavailable`` (retry): unreachable, timed out, 5xx, 429, an answer that is not
  a registration.

Retrying is safe: a registration's idempotency key is the loan's id and a repeat answers the
registration made the first time; releasing a released registration answers it unchanged.
"""

from __future__ import annotations

from typing import Self
from urllib.parse import quote

import httpx

from contracts.receivables_registry import Registration, RegistrationRequest
from gateways.http_adapter import (
    AdapterClient,
    ExternalSystemRejected,
    ExternalSystemUnavailable,
    HttpAdapter,
    response_body,
    response_reason,
)
from gateways.wire import as_model, not_found, parsed
from settings import Settings

SYSTEM = "receivables registry"


class ReceivableAlreadyRegistered(ExternalSystemRejected):
    """The receivable is registered under another key and not released."""

    def __init__(self, message: str, *, registration_number: str) -> None:
        super().__init__(message, system=SYSTEM, status=409, reason="already_registered")
        self.registration_number = registration_number


class ReceivablesRegistryClient(AdapterClient):
    _http: HttpAdapter

    def __init__(
        self, base_url: str, *, timeout_s: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = HttpAdapter(base_url, system=SYSTEM, timeout_s=timeout_s, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            settings.receivables_registry_url,
            timeout_s=settings.receivables_registry_timeout_s,
        )

    def register(self, request: RegistrationRequest, *, idempotency_key: str) -> Registration:
        """Register the pledge once under ``idempotency_key`` (the loan's id); a repeat answers
        the registration as it stands."""
        response = self._http.request(
            "POST",
            "/registrations",
            json=request.model_dump(mode="json"),
            idempotency_key=idempotency_key,
            passthrough={409},
        )
        if response.status_code == 409:
            raise self._conflict(response)
        registration = parsed(Registration, response, system=SYSTEM)
        if registration.idempotency_key != idempotency_key:
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered key {idempotency_key} with {registration.idempotency_key}'s "
                "registration",
                system=SYSTEM,
            )
        return registration

    def search(self, debtor_credit_code: str, reference: str | None = None) -> list[Registration]:
        """Registrations of the debtor's receivables (of ``reference`` only, when given),
        released ones included, oldest first."""
        params = {"debtor_credit_code": debtor_credit_code}
        if reference is not None:
            params["reference"] = reference
        response = self._http.request("GET", "/registrations", params=params)
        body = response_body(response)
        listed = body.get("registrations") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered a search with something that is not a list of registrations",
                system=SYSTEM,
            )
        found = [
            as_model(Registration, item, system=SYSTEM, call="GET /registrations")
            for item in listed
        ]
        # A search that answers other debtors' receivables is not the search we asked for.
        if any(r.debtor.credit_code != debtor_credit_code for r in found):
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered a search with another debtor's registrations", system=SYSTEM
            )
        return found

    def get(self, registration_number: str) -> Registration | None:
        """The registration with this number; None when the registry has none."""
        path = f"/registrations/{quote(registration_number, safe='')}"
        response = self._http.request("GET", path, passthrough={404})
        if not_found(response, system=SYSTEM):
            return None
        return parsed(Registration, response, system=SYSTEM)

    def release(self, registration_number: str, *, idempotency_key: str) -> Registration:
        """Release the pledge (the loan is repaid); releasing it again is harmless."""
        path = f"/registrations/{quote(registration_number, safe='')}/release"
        response = self._http.request("POST", path, idempotency_key=idempotency_key)
        registration = parsed(Registration, response, system=SYSTEM)
        if registration.registration_number != registration_number:
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered the release of {registration_number} with "
                f"{registration.registration_number}",
                system=SYSTEM,
            )
        return registration

    @staticmethod
    def _conflict(response: httpx.Response) -> ExternalSystemRejected:
        body = response_body(response)
        reason = response_reason(response)
        if isinstance(body, dict) and body.get("error") == "already_registered":
            number = str(body.get("registration_number", ""))
            return ReceivableAlreadyRegistered(
                f"{SYSTEM}: the receivable is already registered as {number}",
                registration_number=number,
            )
        return ExternalSystemRejected(
            f"{SYSTEM} rejected POST /registrations: 409 {reason}",
            system=SYSTEM,
            status=409,
            reason=reason,
        )
