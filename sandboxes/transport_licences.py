"""The licence register of the registry sandbox: dangerous-goods road transport operating
licences (道路运输经营许可证) as the transport authority records them, looked up by number.

Served by the certification-registry sandbox beside its certificates (``GET
/transport-licences/{number}``), with the same faults. Records come from
``seed/transport_licences.json``; records added through the API are kept in
``transport_licences.json`` under the data directory, when one is given, and win over the seed.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sandboxes.http_sandbox import InvalidInput
from sandboxes.register import Register

SEED_FILE = Path(__file__).resolve().parent / "seed" / "transport_licences.json"
DATA_FILE = "transport_licences.json"

LICENCE_STATUSES = ("Valid", "Suspended", "Revoked", "Cancelled", "Expired")
# Field name → longest accepted value; ``permitted_classes`` is a list, checked on its own.
_TEXT_FIELDS = {
    "number": 64,
    "holder_name": 200,
    "holder_credit_code": 18,
    "issuing_authority": 200,
    "status": 20,
    "issue_date": 10,
    "expiry_date": 10,
}
_FIELDS = (*_TEXT_FIELDS, "permitted_classes")
_CLASS = re.compile(
    r"^(1(\.[1-6][A-HJKLNS]?)?|2(\.[1-3])?|3|4(\.[1-3])?|5(\.[12])?|6(\.[12])?|7|8|9)$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Licence = dict[str, Any]


def validate_licence(body: Any) -> Licence:
    """The licence as stored, or InvalidInput naming the first field that breaks a rule."""
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")
    record: Licence = {}
    for name, longest in _TEXT_FIELDS.items():
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(name, "required, a non-blank string")
        if len(value) > longest:
            raise InvalidInput(name, f"at most {longest} characters")
        record[name] = value.strip()
    classes = body.get("permitted_classes")
    if not isinstance(classes, list) or not 1 <= len(classes) <= 30:
        raise InvalidInput("permitted_classes", "a list of 1 to 30 classes or divisions")
    for i, item in enumerate(classes):
        if not isinstance(item, str) or not _CLASS.match(item):
            raise InvalidInput(f"permitted_classes.{i}", "a class or division such as 3 or 2.1")
    record["permitted_classes"] = list(classes)
    if record["status"] not in LICENCE_STATUSES:
        raise InvalidInput("status", "one of " + ", ".join(LICENCE_STATUSES))
    if _date(record, "expiry_date") <= _date(record, "issue_date"):
        raise InvalidInput("expiry_date", "must be after issue_date")
    return {name: record[name] for name in _FIELDS}


def _date(record: Licence, name: str) -> date:
    try:
        if _ISO_DATE.match(record[name]):
            return date.fromisoformat(record[name])
    except ValueError:
        pass
    raise InvalidInput(name, "must be a date as YYYY-MM-DD")


def licence_register(*, data_dir: Path | None, seed_file: Path = SEED_FILE) -> Register:
    """The licences under ``/transport-licences``, listed by ``holder_name``."""
    return Register(
        path="transport-licences",
        key="transport_licences",
        owner="holder_name",
        validate=validate_licence,
        seed_file=seed_file,
        data_file=None if data_dir is None else data_dir / DATA_FILE,
    )
