"""Client of the ISO certification registry: certificate look-ups by number and body; and of the
transport authority's licence register it serves beside them (carriers' operating licences)."""

from __future__ import annotations

from typing import Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from contracts.accreditation import RegistryRecord
from contracts.fleet import LicenceRecord
from gateways.http_adapter import (
    AdapterClient,
    ExternalSystemRejected,
    ExternalSystemUnavailable,
    HttpAdapter,
    response_body,
)
from settings import Settings

SYSTEM = "certification registry"
RecordT = TypeVar("RecordT", RegistryRecord, LicenceRecord)


class CertificationRegistryClient(AdapterClient):
    _http: HttpAdapter

    def __init__(
        self, base_url: str, *, timeout_s: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = HttpAdapter(base_url, system=SYSTEM, timeout_s=timeout_s, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            settings.certification_registry_url,
            timeout_s=settings.certification_registry_timeout_s,
        )

    def lookup(self, *, number: str, certification_body: str) -> RegistryRecord | None:
        """The registry's record of this certificate from this body; None when it has none."""
        path = f"/certificates/{quote(number, safe='')}"
        params = {"certification_body": certification_body} if certification_body else None
        return self._record(path, params, RegistryRecord)

    def lookup_licence(self, number: str) -> LicenceRecord | None:
        """The register's record of this operating licence; None when it has none."""
        return self._record(f"/transport-licences/{quote(number, safe='')}", None, LicenceRecord)

    def _record(
        self, path: str, params: dict[str, str] | None, model: type[RecordT]
    ) -> RecordT | None:
        response = self._http.request("GET", path, params=params, passthrough={404})
        body = response_body(response)
        if response.status_code == 404:
            # Only the registry's own "not found" means the certificate does not exist; any
            # other 404 (a proxy, a wrong base URL) must not fail a supplier's check.
            if isinstance(body, dict) and body.get("error") == "not_found":
                return None
            raise ExternalSystemRejected(
                f"{SYSTEM} has no such endpoint: GET {path}",
                system=SYSTEM,
                status=404,
                reason=str(body)[:200],
            )
        try:
            return model.model_validate(body)
        except ValidationError as invalid:
            # A 200 that is not a record comes from a half-deployed or misrouted registry:
            # treated as an outage, so the checks wait for it rather than judge garbage.
            raise ExternalSystemUnavailable(
                f"{SYSTEM} answered GET {path} with something that is not a record: {invalid}",
                system=SYSTEM,
            ) from invalid

    def add(self, record: RegistryRecord) -> None:
        """Add or replace a record (tests and demo seeding; the real registry has no such call)."""
        self._http.request("POST", "/certificates", json=record.model_dump(mode="json"))

    def add_licence(self, record: LicenceRecord) -> None:
        """Add or replace a licence (tests and demo seeding; the real register has no such call)."""
        self._http.request("POST", "/transport-licences", json=record.model_dump(mode="json"))
