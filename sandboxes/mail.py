"""Sandbox of a mail server: SMTP in (aiosmtpd), and an HTTP inbox tests and people read.

``make up`` runs it so notification e-mail goes somewhere visible: ``GET /messages?to=<address>``
lists what arrived, oldest first (``DELETE /messages`` empties it). Messages are kept by
Message-ID, like a mailbox that drops duplicates: a message sent again after a crash (the same
Message-ID, derived from the delivery's key) shows once, with ``copies`` counting the arrivals.

Faults switched on through ``/_sandbox/faults`` apply to SMTP too, under the path ``/smtp``
(``paths: ["/smtp"]`` faults SMTP alone): an error fault with a 5xx status answers the message
451 (try again later), one with a 4xx status 550 (refused for good); a slow fault delays the
answer. Messages are kept in memory only.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from sandboxes.faults import Fault
from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse, SandboxServer

SMTP_PATH = "/smtp"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class MailSandbox(SandboxServer):
    name = "mail"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        smtp_port: int = 0,
        data_dir: Path | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        self.smtp_host = host
        self.smtp_port = smtp_port or _free_port(host)
        self._lock = threading.Lock()
        self._messages: dict[str, dict[str, Any]] = {}
        self._controller: Controller | None = None

    def start(self) -> Self:
        super().start()
        self._controller = Controller(_Handler(self), hostname=self.smtp_host, port=self.smtp_port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        super().stop()

    def routes(self) -> Sequence[Route]:
        return (
            Route("GET", "/messages", self._list),
            Route("DELETE", "/messages", self._clear),
        )

    def fault(self) -> Fault | None:
        """The fault this SMTP message meets, if any (using up one of its count)."""
        return self._faults.take(SMTP_PATH)

    def receive(self, envelope: Envelope) -> str:
        """Keep one message; the SMTP reply."""
        raw = cast(bytes, envelope.original_content or envelope.content or b"")
        parsed = message_from_bytes(raw, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        message_id = str(parsed.get("Message-ID") or f"<none-{len(self._messages)}@sandbox>")
        with self._lock:
            kept = self._messages.get(message_id)
            if kept is not None:
                kept["copies"] += 1
                return "250 OK (a copy of a message already here)"
            self._messages[message_id] = {
                "message_id": message_id,
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(parsed.get("Subject", "")),
                "body": body.get_content() if isinstance(body, EmailMessage) else "",
                "headers": {k.lower(): str(v) for k, v in parsed.items()},
                "received_at": datetime.now(UTC).isoformat(),
                "copies": 1,
            }
        return "250 OK"

    def _list(self, request: SandboxRequest) -> SandboxResponse:
        to = request.query.get("to", "").lower()
        with self._lock:
            found = [m for m in self._messages.values() if not to or to in map(str.lower, m["to"])]
        return SandboxResponse(200, {"messages": found})

    def _clear(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            cleared = len(self._messages)
            self._messages.clear()
        return SandboxResponse(200, {"cleared": cleared})


class _Handler:
    def __init__(self, sandbox: MailSandbox) -> None:
        self._sandbox = sandbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self._sandbox.fault()
        if fault is not None and fault.mode == "error":
            return "451 4.3.0 sandbox fault" if fault.status >= 500 else "550 5.0.0 sandbox fault"
        if fault is not None:  # slow, or a time-out: answer late
            await asyncio.sleep(fault.delay_s)
        return self._sandbox.receive(envelope)
