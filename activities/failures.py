"""Every activity's failure classified once, and activities that keep failing made visible.

The worker runs every activity through ``FailureInterceptor``:
- An error retrying may cure (the database or an external system unreachable, a timeout, a 5xx,
  a serialisation failure or deadlock) goes back to the activity's retry policy unchanged.
- Any other error (a row the database refuses, a value psycopg2 cannot send, a 4xx, a bug) cannot
  be cured by retrying: it becomes a non-retryable ``PermanentFailure``, so the step fails at once
  and the workflow asks ops for help (``workflows.policies``) instead of retrying forever.
- ``ApplicationError`` is the activity's own verdict and passes untouched.

Activities still failing past ``INCIDENT_ATTEMPTS`` attempts or ``INCIDENT_AFTER_SECONDS`` are
incidents: an ``incidents`` row ops can list (resolved when the step succeeds), a notification to
platform ops, and on the worker's ``/metrics`` the number retrying and the oldest retry's age by
activity type, so an outage shows as an incident with its age, not only as a WARNING in a log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from contracts.attention import INCIDENT_AFTER_SECONDS, INCIDENT_ATTEMPTS, PERMANENT_FAILURE
from db.incidents import open_incident, resolve_incident
from gateways.http_adapter import ExternalSystemUnavailable

log = logging.getLogger("tradeflow.worker")

# SQLSTATE classes a retry may cure: connection exceptions (08), transaction rollback
# (40: serialisation failure, deadlock), insufficient resources (53), operator intervention
# (57: admin shutdown, crash shutdown, cannot connect now).
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})


def is_transient(error: BaseException) -> bool:
    """Whether retrying may cure ``error``: true for outages and contention, false for the
    rest (refused data, rejections, bugs), which would fail the same way every attempt."""
    for cause in _chain(error):
        if isinstance(cause, DBAPIError):
            code = getattr(cause.orig, "pgcode", None)
            if code:
                return code[:2] in _TRANSIENT_SQLSTATE_CLASSES
            return isinstance(cause, OperationalError) or cause.connection_invalidated
        if isinstance(cause, DisconnectionError | PoolTimeout | ExternalSystemUnavailable):
            return True
        if isinstance(cause, httpx.HTTPStatusError):
            return cause.response.status_code >= 500 or cause.response.status_code == 429
        if isinstance(cause, httpx.TransportError | BotoConnectionError | HTTPClientError):
            return True
        if isinstance(cause, ClientError):
            status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return status >= 500 or status == 429
        if isinstance(cause, ConnectionError | TimeoutError | asyncio.TimeoutError):
            return True
    return False


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@dataclass
class _Retrying:
    workflow_id: str
    activity_type: str
    first_failed_at: datetime
    attempts: int
    last_error: str
    incident: bool = False


class RetryWatch:
    """Activities whose last attempt failed with a transient error, by workflow and activity.

    In memory, per worker: what ``/metrics`` shows; crossing the threshold also writes the
    incident row (best effort: when the database is what is down, the metrics still show it)."""

    def __init__(
        self,
        sessions: sessionmaker[Session] | None,
        meter: MetricMeter | None = None,
        *,
        incident_attempts: int = INCIDENT_ATTEMPTS,
    ) -> None:
        self._sessions = sessions
        self._incident_attempts = incident_attempts
        self._retrying: dict[str, _Retrying] = {}
        self._known_types: set[str] = set()
        self._count = (
            meter.create_gauge(
                "tradeflow_activities_retrying", "activities whose last attempt failed and retry"
            )
            if meter
            else None
        )
        self._age = (
            meter.create_gauge(
                "tradeflow_activity_oldest_retry_seconds",
                "age of the oldest still-retrying activity's first failure",
                "s",
            )
            if meter
            else None
        )

    def retrying(self) -> dict[str, tuple[int, float]]:
        """Activity type → (how many are retrying, oldest first failure's age in seconds)."""
        now = datetime.now(UTC)
        summary: dict[str, tuple[int, float]] = {}
        for entry in self._retrying.values():
            count, age = summary.get(entry.activity_type, (0, 0.0))
            summary[entry.activity_type] = (
                count + 1,
                max(age, (now - entry.first_failed_at).total_seconds()),
            )
        return summary

    def failed(self, info: activity.Info, error: BaseException) -> bool:
        """Note a transient failure; true when it has just become an incident."""
        key = _key(info)
        now = datetime.now(UTC)
        entry = self._retrying.get(key)
        if entry is None:
            # A worker restarted mid-outage learns the attempt count from the server, and the
            # first failure no later than the first attempt's scheduling.
            first = info.scheduled_time if info.attempt > 1 else now
            entry = _Retrying(info.workflow_id or "", info.activity_type, first, 0, "")
            self._retrying[key] = entry
        entry.attempts = info.attempt
        entry.last_error = f"{type(error).__name__}: {error}"[:4000]
        age = (now - entry.first_failed_at).total_seconds()
        became = not entry.incident and (
            entry.attempts >= self._incident_attempts or age >= INCIDENT_AFTER_SECONDS
        )
        if became or entry.incident:
            entry.incident = True
            self._best_effort(
                open_incident,
                incident_id=key,
                workflow_id=entry.workflow_id,
                activity_type=entry.activity_type,
                attempts=entry.attempts,
                first_failed_at=entry.first_failed_at,
                last_error=entry.last_error,
                at=now,
            )
        self.publish()
        return became

    def watching(self, info: activity.Info) -> bool:
        return _key(info) in self._retrying

    def settled(self, info: activity.Info) -> None:
        """The activity succeeded, or failed for good: it is no longer retrying."""
        entry = self._retrying.pop(_key(info), None)
        if entry is not None:
            if entry.incident:
                self._best_effort(
                    resolve_incident,
                    incident_id=_key(info),
                    attempts=entry.attempts,
                    at=datetime.now(UTC),
                )
            self.publish()

    def publish(self) -> None:
        """Set the gauges; types that stopped retrying drop to zero rather than vanish."""
        if self._count is None or self._age is None:
            return
        summary = self.retrying()
        self._known_types |= summary.keys()
        for activity_type in self._known_types:
            count, age = summary.get(activity_type, (0, 0.0))
            self._count.set(count, {"activity_type": activity_type})
            self._age.set(int(age), {"activity_type": activity_type})

    def _best_effort(self, write: Callable[..., None], **incident: Any) -> None:
        """Write the incident row unless the database is what is down: metrics show it then."""
        if self._sessions is None:
            return
        try:
            write(self._sessions, **incident)
        except Exception:
            log.warning("could not record incident %s", incident["incident_id"], exc_info=True)


def _key(info: activity.Info) -> str:
    return f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"


class FailureInterceptor(Interceptor):
    """Classifies every activity's failure once and watches the ones that keep retrying."""

    def __init__(self, watch: RetryWatch) -> None:
        self.watch = watch

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ClassifyingInbound(next, self.watch)


class _ClassifyingInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, watch: RetryWatch) -> None:
        super().__init__(next)
        self._watch = watch

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        try:
            result = await super().execute_activity(input)
        except ApplicationError as verdict:
            await self._note(info, verdict, retrying=not verdict.non_retryable)
            raise
        except CancelledError:
            # A cancellation to report as one, not a failure to classify. Cancelled by its
            # workflow (a heartbeat brings it back), the step will not be retried: no longer
            # retrying either. Not found may be an attempt the server timed out, which will be
            # retried, and a worker's shutdown will be: both still are.
            details = activity.cancellation_details()
            if details is not None and details.cancel_requested:
                await self._settle(info)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as error:
            transient = is_transient(error)
            await self._note(info, error, retrying=transient)
            if transient:
                raise
            log.error(
                "activity failed for good",
                extra={"workflow_id": info.workflow_id, "activity": info.activity_type},
                exc_info=error,
            )
            raise ApplicationError(
                f"{type(error).__name__}: {error}"[:4000],
                type=PERMANENT_FAILURE,
                non_retryable=True,
            ) from error
        await self._settle(info)
        return result

    async def _note(self, info: activity.Info, error: BaseException, *, retrying: bool) -> None:
        if not retrying:
            await self._settle(info)
            return
        if await asyncio.to_thread(self._watch.failed, info, error):
            log.error(
                "activity still failing: incident opened",
                extra={"workflow_id": info.workflow_id, "activity": info.activity_type},
            )

    async def _settle(self, info: activity.Info) -> None:
        if self._watch.watching(info):
            await asyncio.to_thread(self._watch.settled, info)
