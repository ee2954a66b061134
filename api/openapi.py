"""The OpenAPI document declares the errors the API really answers: one ``Problem`` schema.

FastAPI documents each 422 as its own ``HTTPValidationError`` (``loc``/``msg``/``type``), which
this API never sends, and no other error. Every error answer is a ``Problem`` (``api.errors``)
sent as ``application/problem+json``, so ``declare_problems`` drops FastAPI's schemas and gives
each operation the error statuses it can answer, read from the operation itself:

- every operation: 500 (a bug, answered without internals) and 503 (a dependency is down, or
  the API is at capacity and sheds the request: ``api.shedding``), with ``Retry-After``;
- every operation the shedding covers (all but liveness, readiness and metrics): 429 with
  ``Retry-After`` (the caller's own request rate is past its limit);
- with a security requirement: 401 (no or a bad token) and 403 (a role or party it lacks);
  the OAuth2 token URL: 401 (wrong email or password);
- with a path parameter: 404 (missing, or another organisation's) and 409 (the object is in
  no state to answer: a sealed RFQ, stored bytes that no longer match their hash);
- every command (not a GET): 404 (no such running process), 409 (the process refuses it in its
  state, or the same Idempotency-Key is in flight) and 422 (a refused Idempotency-Key);
- with parameters or a body: 422 naming the fields; with a body, 400 (one that cannot be read);
- with a multipart body (the uploads): 413 (a file too large) and 415 (not PDF, PNG or JPEG).

A status a route declares itself (``responses=``) is kept; without a schema of its own it gets
the Problem too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.errors import PROBLEM_JSON, Problem
from api.openapi_links import add_links
from api.shedding import EXEMPT_PATHS

_PROBLEM_REF = "#/components/schemas/Problem"
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DESCRIPTIONS = {
    400: "The body cannot be read (malformed JSON text, multipart or encoding).",
    401: "No valid bearer token, or wrong credentials.",
    403: "The caller lacks the role, or is not the party, this needs.",
    404: "Not found, or not the caller's to see (both answer alike).",
    409: "The object or process is in a state that refuses this now.",
    413: "A file is larger than the upload limit.",
    415: "A file is not a PDF, PNG or JPEG.",
    422: "The request is invalid: ``errors`` names each field and its rule.",
    429: "Too many requests from this caller: retry after ``Retry-After`` seconds.",
    500: "An unexpected error; it is logged, and the answer names no internals.",
    503: (
        "A dependency (database, workflow service, document storage) is unavailable, or the API "
        "is at capacity and sheds the request before it runs."
    ),
}
_HEADERS = {
    401: {"WWW-Authenticate": "the authentication scheme to use (Bearer)"},
    429: {"Retry-After": "seconds until this caller may send again"},
    503: {"Retry-After": "seconds to wait before retrying (with the same Idempotency-Key)"},
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi`` post-process the document it made: the Problem answers on every
    operation (``declare_problems``) and the links between operations (``add_links``), which
    clients and stateful fuzzing follow from a created resource to what can be done with it."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return add_links(declare_problems(generate()))

    app.openapi = openapi  # type: ignore[method-assign]


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Declares the Problem answers on every operation of ``document``, in place (repeatable:
    FastAPI caches the document it returns); returns it."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    token_urls = _token_urls(document)
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                _declare(operation, _statuses(method, path, operation, token_urls))
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    return document


def _statuses(method: str, path: str, operation: dict[str, Any], token_urls: set[str]) -> set[int]:
    statuses = {500, 503} if path in EXEMPT_PATHS else {429, 500, 503}
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    if operation.get("security"):
        statuses |= {401, 403}
    if method == "post" and path in token_urls:
        statuses.add(401)
    if any(p.get("in") == "path" for p in parameters):
        statuses |= {404, 409}
    if method != "get":
        statuses |= {404, 409, 422}
    if parameters or body:
        statuses.add(422)
    if body:
        statuses.add(400)
        if "multipart/form-data" in body.get("content", {}):
            statuses |= {413, 415}
    return statuses


def _declare(operation: dict[str, Any], statuses: set[int]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
    for code, response in responses.items():
        if code[0] in "45" and _schema_is_ours(response):
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}
            headers = _HEADERS.get(int(code)) if code.isdigit() else None
            for name, description in (headers or {}).items():
                response.setdefault("headers", {}).setdefault(
                    name, {"description": description, "schema": {"type": "string"}}
                )
    operation["responses"] = dict(sorted(responses.items()))


def _schema_is_ours(response: dict[str, Any]) -> bool:
    """True unless the route declared a body schema of its own for this error status."""
    for media in response.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        if media.get("schema") and ref.rsplit("/", 1)[-1] not in (*_FASTAPI_SCHEMAS, "Problem"):
            return False
    return True


def _token_urls(document: dict[str, Any]) -> set[str]:
    """The OAuth2 password flows' token URLs: where wrong credentials answer 401."""
    urls: set[str] = set()
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            if "tokenUrl" in flow:
                urls.add("/" + flow["tokenUrl"].lstrip("/"))
    return urls
