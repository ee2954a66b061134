"""Mapping failures to HTTP once: 4xx that name the field and the rule, 503 for outages."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger("tradeflow.api")

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


def invalid(
    field: str, rule: str, *, code: int = status.HTTP_422_UNPROCESSABLE_CONTENT
) -> HTTPException:
    return HTTPException(code, detail=[{"field": field, "rule": rule}])


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "body"


def validation_detail(
    error: ValidationError | RequestValidationError, *, prefix: str = ""
) -> list[dict[str, str]]:
    return [
        {"field": prefix + _field(tuple(e["loc"])), "rule": str(e["msg"])} for e in error.errors()
    ]


def update_rejection(failure: WorkflowUpdateFailedError) -> HTTPException:
    cause = failure.cause
    if isinstance(cause, ApplicationError) and cause.type in _UPDATE_REJECTIONS:
        return HTTPException(_UPDATE_REJECTIONS[cause.type], detail=cause.message)
    log.error("update failed", exc_info=failure)
    return HTTPException(status.HTTP_409_CONFLICT, detail=str(cause or failure))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(error)}, status_code=422)

    @app.exception_handler(ValidationError)
    async def _model_invalid(_: Request, error: ValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(error)}, status_code=422)

    @app.exception_handler(WorkflowAlreadyStartedError)
    async def _already_started(_: Request, error: WorkflowAlreadyStartedError) -> JSONResponse:
        return JSONResponse({"detail": "this process is already running"}, status_code=409)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(_: Request, error: WorkflowUpdateFailedError) -> JSONResponse:
        rejection = update_rejection(error)
        return JSONResponse({"detail": rejection.detail}, status_code=rejection.status_code)

    @app.exception_handler(RPCError)
    async def _temporal_down(_: Request, error: RPCError) -> JSONResponse:
        if error.status == RPCStatusCode.NOT_FOUND:
            return JSONResponse({"detail": "no such running process"}, status_code=404)
        log.error("temporal call failed", exc_info=error)
        return JSONResponse(
            {"detail": "the workflow service is unavailable; retry with the same Idempotency-Key"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RPCTimeoutOrCancelledError)
    async def _temporal_timeout(_: Request, error: RPCTimeoutOrCancelledError) -> JSONResponse:
        log.error("temporal call timed out", exc_info=error)
        return JSONResponse(
            {"detail": "the workflow service did not answer in time; retry with the same key"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    async def _object_store_down(_: Request, error: Exception) -> JSONResponse:
        log.error("object store unavailable", exc_info=error)
        return JSONResponse(
            {"detail": "document storage is unavailable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(OperationalError)
    async def _database_down(_: Request, error: OperationalError) -> JSONResponse:
        log.error("database unavailable", exc_info=error)
        return JSONResponse(
            {"detail": "the database is unavailable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
