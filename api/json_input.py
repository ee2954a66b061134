"""JSON held in a string (a multipart form field, a stored copy), parsed without ever failing
with a 500.

A JSON body FastAPI parses itself; JSON inside a form field the route parses. ``json.loads``
recurses once a nesting level, so 3,000 nested brackets raised ``RecursionError`` (a 500).
Pydantic's parser stops at a fixed depth and reports it like any other malformed JSON, so a
client's JSON is parsed and validated in one step here and every problem is a 422 naming the
field.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, status
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def _where(field: str, loc: tuple[int | str, ...]) -> str:
    return ".".join([field, *(str(part) for part in loc)])


def model_from_json(model: type[M], raw: str, *, field: str) -> M:
    """``model`` from the JSON text a client sent in ``field``; 422 naming each problem's place
    (``field`` itself for malformed or too deeply nested JSON)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        problems = [
            {"field": _where(field, tuple(e["loc"])), "rule": str(e["msg"])}
            for e in error.errors(include_url=False)
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems) from None


def json_or_none(raw: bytes | str) -> Any:
    """The value a stored JSON copy holds, or None when it no longer parses (malformed, or
    nested deeper than the parser recurses): evidence of tampering, not a server error."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None
