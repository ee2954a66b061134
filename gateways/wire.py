"""Reading an external system's JSON answers into contract models.

A 2xx that is not the expected record comes from a half-deployed or misrouted system: it is
``ExternalSystemUnavailable``, so the call waits for the system rather than judge garbage (a
retry of an idempotent write then gets the real answer). Only the system's own 404
(``{"error": "not_found"}``) means "no such thing"; a 404 from a proxy or a wrong base URL is
``ExternalSystemRejected``, so it can never make a booked payment look absent.
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable, response_body

Model = TypeVar("Model", bound=BaseModel)


def parsed(model: type[Model], response: httpx.Response, *, system: str, what: str = "") -> Model:
    """The answer as ``model`` (``what`` names it in errors, by default the model's name)."""
    call = f"{_call(response)} ({response.status_code})"
    return as_model(model, response_body(response), system=system, call=call, what=what)


def as_model(model: type[Model], body: object, *, system: str, call: str, what: str = "") -> Model:
    """``body`` as ``model``; fields the model does not know are ignored (a newer system)."""
    try:
        if not isinstance(body, dict):
            raise TypeError("not a JSON object")
        return model.model_validate({k: v for k, v in body.items() if k in model.model_fields})
    except (TypeError, ValidationError) as invalid:
        raise ExternalSystemUnavailable(
            f"{system} answered {call} with something that is not a {what or model.__name__}: "
            f"{invalid}",
            system=system,
        ) from invalid


def not_found(response: httpx.Response, *, system: str) -> bool:
    """Whether the answer is the system's own "not found"; a foreign 404 raises."""
    if response.status_code != 404:
        return False
    body = response_body(response)
    if isinstance(body, dict) and body.get("error") == "not_found":
        return True
    raise ExternalSystemRejected(
        f"{system} has no such endpoint: {_call(response)}",
        system=system,
        status=404,
        reason=str(body)[:200],
    )


def _call(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path}"
