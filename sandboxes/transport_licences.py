"""The licence register of the registry sandbox: dangerous-goods road transport operating
licences (道路运输经营许可证) as the transport authority records them, looked up by number.

Served by the certification-registry sandbox beside its certificates (``GET
/transport-licences/{number}``), with the same faults. Records come from
``seed/transport_licences.json``; records added through the API are kept in
``transport_licences.json`` under the data directory, when one is given, and win over the seed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any

from sandboxes.http_sandbox import InvalidInput, Route, SandboxRequest, SandboxResponse

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


def save_json(path: Path, document: Any) -> None:
    """Write beside the target and rename over it: a crash leaves the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LicenceRegister:
    """The licences, their routes and their persistence (thread-safe)."""

    def __init__(self, *, data_dir: Path | None, seed_file: Path = SEED_FILE) -> None:
        self._lock = threading.Lock()
        self._data_file = None if data_dir is None else data_dir / DATA_FILE
        self._added = _load(self._data_file, required=False) if self._data_file else {}
        self._licences = {**_load(seed_file, required=True), **self._added}

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/transport-licences/{number}", self._lookup),
            Route("GET", "/transport-licences", self._list),
            Route("POST", "/transport-licences", self._put),
        ]

    def _lookup(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            licence = self._licences.get(request.params["number"])
        if licence is None:
            return SandboxResponse(404, {"error": "not_found"})
        return SandboxResponse(200, licence)

    def _list(self, request: SandboxRequest) -> SandboxResponse:
        holder = request.query.get("holder_name")
        with self._lock:
            found = [
                licence
                for _, licence in sorted(self._licences.items())
                if holder is None or licence["holder_name"] == holder
            ]
        return SandboxResponse(200, {"transport_licences": found})

    def _put(self, request: SandboxRequest) -> SandboxResponse:
        licence = validate_licence(request.body)
        with self._lock:
            replaced = licence["number"] in self._licences
            self._licences[licence["number"]] = licence
            self._added[licence["number"]] = licence
            if self._data_file is not None:
                added = sorted(self._added.values(), key=lambda r: str(r["number"]))
                save_json(self._data_file, {"transport_licences": added})
        return SandboxResponse(200 if replaced else 201, licence)


def _load(path: Path, *, required: bool) -> dict[str, Licence]:
    """Licences by number; a damaged file stops the sandbox rather than losing records."""
    if not required and not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    licences: dict[str, Licence] = {}
    for raw in document["transport_licences"]:
        try:
            licence = validate_licence(raw)
        except InvalidInput as invalid:
            raise ValueError(f"{path}: a licence breaks a rule: {invalid}") from invalid
        licences[licence["number"]] = licence
    return licences
