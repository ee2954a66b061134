"""``Idempotency-Key`` for every POST: a retried request gets the first answer, never a second run.

The same key with a different request is refused (422); a key whose first request is still being
served answers 409. Keys are scoped to the authenticated user. A first request that failed with a
5xx releases its key so the client may retry it; a key held in flight longer than
``STALE_AFTER`` (its API process died) is taken over by the next request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.bearer import bearer_subject
from api.errors import PROBLEM_JSON, RETRY_SOON, problem, summary
from db.models import IdempotencyRecord
from db.session import transaction

HEADER = b"idempotency-key"
STALE_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 200


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, sessions: sessionmaker[Session], jwt_secret: str) -> None:
        self._app = app
        self._sessions = sessions
        self._secret = jwt_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(HEADER, b"").decode("latin-1").strip()
        user_id = bearer_subject(scope, secret=self._secret)
        if not key or user_id is None:
            await self._app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await _refuse_key(send, scope, f"at most {MAX_KEY_LENGTH} characters")
            return

        body = await _read_body(receive)
        method_path = f"POST {scope['path']}"
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        digest = hashlib.sha256(
            method_path.encode() + b"\n" + _canonical_body(body, content_type)
        ).hexdigest()
        try:
            record = await run_in_threadpool(self._claim, user_id, key, method_path, digest)
        except OperationalError:
            await _answer(
                send,
                problem(503, "the database is unavailable; retry shortly", instance=scope["path"]),
                headers=RETRY_SOON,
            )
            return
        if record is not None:
            if record.request_hash != digest:
                await _refuse_key(send, scope, "already used with a different request")
            elif record.state != "done":
                await _answer(
                    send,
                    problem(
                        409,
                        "a request with this Idempotency-Key is still in progress",
                        instance=scope["path"],
                    ),
                )
            else:
                await _replay(send, record)
            return

        captured = _Captured()

        finished = False

        async def capture(message: Message) -> None:
            nonlocal finished
            captured.observe(message)
            last = message["type"] == "http.response.body" and not message.get("more_body")
            if last:
                # Record the answer before the client sees it, so its retry finds it done.
                await run_in_threadpool(self._finish, user_id, key, captured)
                finished = True
            await send(message)

        try:
            await self._app(scope, _replaying(body, receive), capture)
        finally:
            if not finished:
                await run_in_threadpool(self._finish, user_id, key, captured)

    def _claim(
        self, user_id: str, key: str, method_path: str, digest: str
    ) -> IdempotencyRecord | None:
        """Claim the key for this request (None), or return the record that already holds it."""
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(IdempotencyRecord)
                .values(
                    user_id=user_id,
                    key=key,
                    method_path=method_path,
                    request_hash=digest,
                    state="in_flight",
                )
                .on_conflict_do_nothing()
                .returning(IdempotencyRecord.key)
            ).first()
            if inserted is not None:
                return None
            record = session.scalar(
                select(IdempotencyRecord)
                .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
                .with_for_update()
            )
            if record is None:  # released between our insert and select
                return self._claim(user_id, key, method_path, digest)
            abandoned = (
                record.state == "in_flight" and record.created_at < datetime.now(UTC) - STALE_AFTER
            )
            if abandoned and record.request_hash == digest:
                record.created_at = datetime.now(UTC)
                return None
            session.expunge(record)
            return record

    def _finish(self, user_id: str, key: str, response: _Captured) -> None:
        with transaction(self._sessions) as session:
            where = (IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
            if response.status >= 500:
                session.execute(delete(IdempotencyRecord).where(*where))
                return
            record = session.scalar(select(IdempotencyRecord).where(*where))
            if record is not None:
                record.state = "done"
                record.status_code = response.status
                record.response_body = bytes(response.body)
                record.response_type = response.content_type


@dataclass
class _Captured:
    """The response as it was sent, kept to replay it; a request that died counts as a 500."""

    status: int = 500
    content_type: str = "application/json"
    body: bytearray = field(default_factory=bytearray)

    def observe(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def keyed_digest(user_id: str, key: str) -> str:
    """The hex digest the ids of a request with an ``Idempotency-Key`` are made from: the same
    for its retries, so a retry re-attaches to what the first attempt started."""
    return hashlib.sha256(f"{user_id}\n{key}".encode()).hexdigest()


def update_id(user_id: str, key: str) -> str:
    """A Temporal update id for a request: a retried request re-attaches to the same update."""
    return "req-" + keyed_digest(user_id, key)[:40]


def _canonical_body(body: bytes, content_type: str) -> bytes:
    """The body with its multipart boundary neutralised: clients pick a new one per attempt."""
    _, _, params = content_type.partition(";")
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return body.replace(value.strip('"').encode("latin-1"), b"<boundary>")
    return body


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, original: Receive) -> Receive:
    """Hand the buffered body to the app once, then listen to the client as before."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _refuse_key(send: Send, scope: Scope, rule: str) -> None:
    errors = [{"field": "Idempotency-Key", "rule": rule}]
    await _answer(send, problem(422, summary(errors), instance=scope["path"], errors=errors))


async def _answer(
    send: Send, content: dict[str, Any], *, headers: Mapping[str, str] | None = None
) -> None:
    """Answer a problem here, before the app (and its error handlers) ever see the request."""
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": content["status"],
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _replay(send: Send, record: IdempotencyRecord) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": record.status_code or 200,
            "headers": [
                (b"content-type", (record.response_type or "application/json").encode("latin-1")),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": record.response_body or b""})
