"""Sending notification e-mail over SMTP (smtplib), one message a delivery.

The Message-ID is derived from the delivery's key, so a message sent again after a crash (sent,
but not yet recorded as delivered) carries the same Message-ID: a receiving system that drops
duplicates by Message-ID, as the mail sandbox does, shows it once. Failures are sorted like the
HTTP adapters': a 4xx SMTP reply, a refused connection or a timeout is worth retrying
(``ExternalSystemUnavailable``); a 5xx reply is the server's considered refusal
(``ExternalSystemRejected``).
"""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable
from settings import Settings

SYSTEM = "mail server"
MESSAGE_ID_DOMAIN = "notifications.tradeflow"


def message_id_for(delivery_key: str) -> str:
    digest = hashlib.sha256(delivery_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


class MailClient:
    """Plain SMTP to a relay the platform trusts (a local MTA, or the mail sandbox)."""

    def __init__(self, host: str, port: int, *, sender: str, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> MailClient:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.mail_from,
            timeout_s=settings.smtp_timeout_s,
        )

    def send(self, *, delivery_key: str, to: str, subject: str, body: str) -> str:
        """Send one message; its Message-ID."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id_for(delivery_key)
        message["X-Tradeflow-Delivery"] = delivery_key
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            code, reason = next(iter(refused.recipients.values()))
            raise self._answered(code, reason) from refused
        except smtplib.SMTPResponseException as answered:
            raise self._answered(answered.smtp_code, answered.smtp_error) from answered
        except (OSError, smtplib.SMTPException) as failed:
            raise ExternalSystemUnavailable(
                f"{SYSTEM} {self.host}:{self.port} unreachable: {type(failed).__name__}: {failed}",
                system=SYSTEM,
            ) from failed
        return str(message["Message-ID"])

    def _answered(self, code: int, reason: bytes | str) -> Exception:
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason
        message = f"{SYSTEM} answered {code}: {text}"
        if code >= 500:
            return ExternalSystemRejected(message, system=SYSTEM, status=code, reason=text)
        return ExternalSystemUnavailable(message, system=SYSTEM)
