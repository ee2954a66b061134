"""Structured JSON logs carrying the request id (API) and workflow/activity ids (worker)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Temporal's workflow and activity loggers put their context under these record attributes.
_TEMPORAL_KEYS = ("temporal_workflow", "temporal_activity")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (rid := request_id.get()) is not None:
            entry["request_id"] = rid
        for key in _TEMPORAL_KEYS:
            if isinstance(context := getattr(record, key, None), dict):
                entry |= {
                    k: v
                    for k, v in context.items()
                    if k in {"workflow_id", "run_id", "activity_type", "workflow_type", "attempt"}
                }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _TEMPORAL_KEYS and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, *, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # weasyprint narrates every render step at INFO, seven lines a PDF.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
