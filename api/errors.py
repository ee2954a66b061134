"""Mapping failures to HTTP once, in one format: RFC 9457 problem details.

Every error answer is ``application/problem+json``: ``type`` (``about:blank`` unless a problem
has a type of its own), ``title``, ``status``, a readable ``detail``, the ``instance`` (the
request's path) and, whenever fields are at fault, ``errors``: each field and the rule it broke.
Routes raise ``invalid(field, rule)`` (or ``HTTPException``, or ``ProblemError`` for a problem
with a type of its own); the handlers here turn those, validation failures, refused workflow
updates and outages (503 with ``Retry-After``) into that one shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from stack.logs import request_id

log = logging.getLogger("tradeflow.api")

PROBLEM_JSON = "application/problem+json"
RETRY_SOON = {"Retry-After": "5"}

# Update validators reject with these ApplicationError types.
_UPDATE_REJECTIONS = {
    "MalformedDecision": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "Malformed": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "WrongRole": status.HTTP_403_FORBIDDEN,
    "SameApprover": status.HTTP_409_CONFLICT,
    "StaleTask": status.HTTP_409_CONFLICT,
    "NotAccredited": status.HTTP_409_CONFLICT,
    "QuotingClosed": status.HTTP_409_CONFLICT,
    "NotInvited": status.HTTP_403_FORBIDDEN,
    "StaleRevision": status.HTTP_409_CONFLICT,
    "NotAllAnswered": status.HTTP_409_CONFLICT,
    "NotReady": status.HTTP_409_CONFLICT,
}


class FieldError(BaseModel):
    """One field at fault: its dotted path (``lines.0.quantity``, a header or a form part)."""

    field: str
    rule: str


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error answer."""

    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: _document(schema))

    type: str = Field(
        description="a URI naming the kind of problem; about:blank when the status says it all",
        examples=["about:blank"],
    )
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(ge=400, le=599, description="the HTTP status code")
    detail: str = Field(description="what went wrong this time, and what to do about it")
    instance: str | SkipJsonSchema[None] = Field(
        default=None, description="the path of the request that failed"
    )
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None, description="the fields at fault, each with the rule it broke"
    )


def _document(schema: dict[str, Any]) -> None:
    """Optional members are absent rather than null; one example shows a validation problem."""
    for member in schema.get("properties", {}).values():
        member.pop("default", None)
    schema["description"] = "RFC 9457 problem details; some problems add members of their own."
    schema["examples"] = [
        {
            "type": "about:blank",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "lines.0.quantity: Input should be greater than 0",
            "instance": "/rfqs",
            "errors": [{"field": "lines.0.quantity", "rule": "Input should be greater than 0"}],
        }
    ]


class ProblemError(HTTPException):
    """An error with a problem type of its own, its title and extension members (RFC 9457
    section 3.2), for clients that act on the kind of problem rather than its status."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        type: str,
        title: str,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code, detail=detail, headers=dict(headers) if headers else None)
        self.type = type
        self.title = title
        self.errors = errors
        self.extensions = extensions


def invalid(
    field: str, rule: str, *, code: int = status.HTTP_422_UNPROCESSABLE_CONTENT
) -> HTTPException:
    """The request is refused because of ``field``: answers ``code`` naming it and its rule."""
    return HTTPException(code, detail=[{"field": field, "rule": rule}])


def problem(
    status_code: int,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    type: str = "about:blank",
    title: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A problem-details body; the title of ``about:blank`` is the status's own phrase."""
    body: dict[str, Any] = {**(extensions or {})}
    body.update(type=type, title=title or _phrase(status_code), status=status_code, detail=detail)
    if instance is not None:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e["field"], "rule": e["rule"]} for e in errors]
    return body


def problem_response(
    status_code: int,
    detail: str,
    *,
    request: Request | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem(
            status_code,
            detail,
            instance=request.url.path if request is not None else None,
            errors=errors,
        ),
        status_code=status_code,
        headers=dict(headers) if headers else None,
        media_type=PROBLEM_JSON,
    )


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or "body"


def validation_detail(
    error: ValidationError | RequestValidationError, *, prefix: str = ""
) -> list[dict[str, str]]:
    return [{"field": prefix + _where(e), "rule": _rule(e)} for e in error.errors()]


def _where(error: Any) -> str:
    # FastAPI locates unparseable JSON at ("body", character offset): the field is the body.
    return "body" if error["type"] == "json_invalid" else _field(tuple(error["loc"]))


def _rule(error: Any) -> str:
    if error["type"] == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return f"is not valid JSON: {reason} at character {error['loc'][-1]}"
    # A rule raised by our own validators reads as itself, without pydantic's label.
    return str(error["msg"]).removeprefix("Value error, ")


def summary(errors: Sequence[Mapping[str, str]]) -> str:
    """The fields at fault in one readable line, for the problem's ``detail``."""
    return "; ".join(f"{e['field']}: {e['rule']}" for e in errors)


def update_rejection(failure: WorkflowUpdateFailedError) -> HTTPException:
    cause = failure.cause
    if isinstance(cause, ApplicationError) and cause.type in _UPDATE_REJECTIONS:
        return HTTPException(_UPDATE_REJECTIONS[cause.type], detail=cause.message)
    log.error("update failed", exc_info=failure)
    return HTTPException(status.HTTP_409_CONFLICT, detail=str(cause or failure))


def http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """Any HTTPException (the app's, FastAPI's, Starlette's 404 and 405) as a problem."""
    headers = dict(error.headers) if error.headers else None
    if isinstance(error, ProblemError):
        body = problem(
            error.status_code,
            str(error.detail),
            instance=request.url.path,
            errors=error.errors,
            type=error.type,
            title=error.title,
            extensions=error.extensions,
        )
        return JSONResponse(
            body, status_code=error.status_code, headers=headers, media_type=PROBLEM_JSON
        )
    detail: Any = error.detail  # FastAPI's HTTPException carries any JSON; invalid() a list
    if _is_field_list(detail):
        return problem_response(
            error.status_code, summary(detail), request=request, errors=detail, headers=headers
        )
    text = detail if isinstance(detail, str) and detail else _phrase(error.status_code)
    return problem_response(error.status_code, text, request=request, headers=headers)


def _is_field_list(detail: Any) -> bool:
    return (
        isinstance(detail, list)
        and bool(detail)
        and all(isinstance(d, dict) and {"field", "rule"} <= d.keys() for d in detail)
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return http_problem(request, error)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = validation_detail(error)
        return problem_response(422, summary(errors), request=request, errors=errors)

    @app.exception_handler(ValidationError)
    async def _model_invalid(request: Request, error: ValidationError) -> JSONResponse:
        errors = validation_detail(error)
        return problem_response(422, summary(errors), request=request, errors=errors)

    @app.exception_handler(WorkflowAlreadyStartedError)
    async def _already_started(request: Request, _: WorkflowAlreadyStartedError) -> JSONResponse:
        return problem_response(409, "this process is already running", request=request)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(request: Request, error: WorkflowUpdateFailedError) -> JSONResponse:
        return http_problem(request, update_rejection(error))

    @app.exception_handler(RPCError)
    async def _temporal_down(request: Request, error: RPCError) -> JSONResponse:
        if error.status == RPCStatusCode.NOT_FOUND:
            return problem_response(404, "no such running process", request=request)
        log.error("temporal call failed", exc_info=error)
        return problem_response(
            503,
            "the workflow service is unavailable; retry with the same Idempotency-Key",
            request=request,
            headers=RETRY_SOON,
        )

    @app.exception_handler(RPCTimeoutOrCancelledError)
    async def _temporal_timeout(
        request: Request, error: RPCTimeoutOrCancelledError
    ) -> JSONResponse:
        log.error("temporal call timed out", exc_info=error)
        return problem_response(
            503,
            "the workflow service did not answer in time; retry with the same Idempotency-Key",
            request=request,
            headers=RETRY_SOON,
        )

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    async def _object_store_down(request: Request, error: Exception) -> JSONResponse:
        log.error("object store unavailable", exc_info=error)
        return problem_response(
            503,
            "document storage is unavailable; retry shortly",
            request=request,
            headers=RETRY_SOON,
        )

    # A pool with no free connection in time (PoolTimeout) is the database being busy, too.
    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, error: Exception) -> JSONResponse:
        log.error("database unavailable", exc_info=error)
        return problem_response(
            503, "the database is unavailable; retry shortly", request=request, headers=RETRY_SOON
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _: Exception) -> JSONResponse:
        return unexpected_problem(request)


def unexpected_problem(request: Request) -> JSONResponse:
    """The 500 for an error nobody expected. Logged (with the traceback) by whoever caught it:
    api.unexpected_errors or the server. The answer names no internals, only the request to
    quote to support."""
    rid = request_id.get()
    quote = f"; quote request id {rid}" if rid else ""
    return problem_response(500, f"an unexpected error occurred{quote}", request=request)
