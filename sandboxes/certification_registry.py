"""Sandbox of the ISO certification registry (IAF CertSearch-like): look certificates up by number.

Records come from ``seed/certification_registry.json``; records added through the API are kept
in ``certificates.json`` under the data directory, when one is given, and win over the seed.
The same sandbox serves the transport authority's licence register (sandboxes.transport_licences)
under ``/transport-licences``, faults and all.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sandboxes.http_sandbox import (
    InvalidInput,
    Route,
    SandboxRequest,
    SandboxServer,
)
from sandboxes.register import Register
from sandboxes.transport_licences import SEED_FILE as LICENCE_SEED_FILE
from sandboxes.transport_licences import licence_register

SEED_FILE = Path(__file__).resolve().parent / "seed" / "certification_registry.json"
DATA_FILE = "certificates.json"

CERTIFICATION_STATUSES = (
    "Active",
    "Inactive",
    "Suspended",
    "Cancelled",
    "Draft",
    "Withdrawn",
    "Expired",
)
ACCREDITATION_STATUSES = ("Accredited", "Unaccredited")
# Field name → longest accepted value; the order is the record's order on the wire.
_TEXT_FIELDS = {
    "number": 60,
    "standard": 20,
    "certification_status": 20,
    "accreditation_status": 20,
    "entity_name": 200,
    "scope": 2000,
    "issue_date": 10,
    "expiry_date": 10,
    "certification_body": 200,
    "accreditation_body": 200,
}
_STANDARD = re.compile(r"^ISO \d{4,5}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Record = dict[str, str]


def validate_record(body: Any) -> Record:
    """The record as stored, or InvalidInput naming the first field that breaks a rule."""
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    unknown = sorted(set(body) - set(_TEXT_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")
    record: Record = {}
    for name, longest in _TEXT_FIELDS.items():
        value = body.get(name)
        if value is None:
            raise InvalidInput(name, "required")
        if not isinstance(value, str):
            raise InvalidInput(name, "must be a string")
        if len(value) > longest:
            raise InvalidInput(name, f"at most {longest} characters")
        record[name] = value.strip()
    unaccredited = record["accreditation_status"] == "Unaccredited"
    for name, value in record.items():
        # An unaccredited certificate has no accreditation body to name.
        if not value and not (name == "accreditation_body" and unaccredited):
            raise InvalidInput(name, "must not be blank")
    if not _STANDARD.match(record["standard"]):
        raise InvalidInput("standard", "must look like 'ISO 9001'")
    if record["certification_status"] not in CERTIFICATION_STATUSES:
        raise InvalidInput("certification_status", "one of " + ", ".join(CERTIFICATION_STATUSES))
    if record["accreditation_status"] not in ACCREDITATION_STATUSES:
        raise InvalidInput("accreditation_status", "one of " + ", ".join(ACCREDITATION_STATUSES))
    issued = _date(record, "issue_date")
    if _date(record, "expiry_date") <= issued:
        raise InvalidInput("expiry_date", "must be after issue_date")
    return record


def _date(record: Record, name: str) -> date:
    try:
        if _ISO_DATE.match(record[name]):
            return date.fromisoformat(record[name])
    except ValueError:
        pass
    raise InvalidInput(name, "must be a date as YYYY-MM-DD")


def _same_body(a: str, b: str) -> bool:
    """Certification bodies compared as a person would: ignoring case and spacing."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _same_certification_body(record: Record, request: SandboxRequest) -> bool:
    wanted = request.query.get("certification_body", "")
    return not wanted or _same_body(wanted, record["certification_body"])


class CertificationRegistrySandbox(SandboxServer):
    name = "certification-registry"

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        seed_file: Path = SEED_FILE,
        licence_seed_file: Path = LICENCE_SEED_FILE,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self._certificates = Register(
            path="certificates",
            key="certificates",
            owner="entity_name",
            validate=validate_record,
            seed_file=seed_file,
            data_file=None if data_dir is None else data_dir / DATA_FILE,
            found=_same_certification_body,
        )
        self._licences = licence_register(data_dir=data_dir, seed_file=licence_seed_file)

    def routes(self) -> list[Route]:
        return [*self._certificates.routes(), *self._licences.routes()]
