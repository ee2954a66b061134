"""A register of records kept by number, as the registry sandbox serves them: certificates and
transport licences alike.

Records come from a seed file; records added through the API are kept in a file under the data
directory, when one is given, and win over the seed. Reads and writes are thread-safe; a write
is saved beside the target and renamed over it, so a crash leaves the old file or the new.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandboxes.http_sandbox import InvalidInput, Route, SandboxRequest, SandboxResponse

Record = dict[str, Any]


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


class Register:
    """Records by number under ``path`` (``/<path>/{number}``, ``/<path>``, POST ``/<path>``).

    ``key`` names the list in the files and in a listing; ``owner`` the field a listing filters
    by (its query parameter of the same name); ``validate`` checks a record, raising
    InvalidInput; ``found`` may refuse a lookup on the request's other parameters.
    """

    def __init__(
        self,
        *,
        path: str,
        key: str,
        owner: str,
        validate: Callable[[Any], Record],
        seed_file: Path,
        data_file: Path | None,
        found: Callable[[Record, SandboxRequest], bool] | None = None,
    ) -> None:
        self._path, self._key, self._owner = path, key, owner
        self._validate = validate
        self._found = found
        self._lock = threading.Lock()
        self._data_file = data_file
        self._added = self._load(data_file, required=False) if data_file else {}
        self._records = {**self._load(seed_file, required=True), **self._added}

    def routes(self) -> list[Route]:
        return [
            Route("GET", f"/{self._path}/{{number}}", self._lookup),
            Route("GET", f"/{self._path}", self._list),
            Route("POST", f"/{self._path}", self._put),
        ]

    def _lookup(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            record = self._records.get(request.params["number"])
        if record is None or (self._found is not None and not self._found(record, request)):
            return SandboxResponse(404, {"error": "not_found"})
        return SandboxResponse(200, record)

    def _list(self, request: SandboxRequest) -> SandboxResponse:
        owner = request.query.get(self._owner)
        with self._lock:
            listed = [
                record
                for _, record in sorted(self._records.items())
                if owner is None or record[self._owner] == owner
            ]
        return SandboxResponse(200, {self._key: listed})

    def _put(self, request: SandboxRequest) -> SandboxResponse:
        record = self._validate(request.body)
        with self._lock:
            replaced = record["number"] in self._records
            self._records[record["number"]] = record
            self._added[record["number"]] = record
            if self._data_file is not None:
                added = sorted(self._added.values(), key=lambda r: str(r["number"]))
                save_json(self._data_file, {self._key: added})
        return SandboxResponse(200 if replaced else 201, record)

    def _load(self, path: Path, *, required: bool) -> dict[str, Record]:
        """Records by number; a damaged file stops the sandbox rather than losing records."""
        if not required and not path.exists():
            return {}
        document = json.loads(path.read_text(encoding="utf-8"))
        records: dict[str, Record] = {}
        for raw in document[self._key]:
            try:
                record = self._validate(raw)
            except InvalidInput as invalid:
                raise ValueError(f"{path}: a record breaks a rule: {invalid}") from invalid
            records[record["number"]] = record
        return records
