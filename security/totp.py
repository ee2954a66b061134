"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) and single-use recovery codes.

Pure and stdlib only: HMAC-SHA-1, 6 digits, 30-second steps, the parameters every authenticator
app defaults to (an ``otpauth://`` URI naming others is often ignored by them). ``verify``
accepts the step before and after the current one, for clocks a little apart and a code typed
as it turns over, but only a step later than the last one accepted, so a code overheard or
replayed is never accepted twice.

Recovery codes are 60 random bits in Crockford's base32 (no i, l, o or u to misread), written
``xxxx-xxxx-xxxx``; ``normalise_recovery_code`` reads one back however it was typed.

``Authenticator`` is the other side, an authenticator app's, for the platform's own clients (the
demo and the tests): the code to type now, never a step already typed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

PERIOD_SECONDS = 30
DIGITS = 6
# A code of the step before or after the current one is accepted too (RFC 6238 section 5.2).
WINDOW = 1
ISSUER = "Tradeflow"

_SECRET_BYTES = 20  # 160 bits, the HMAC-SHA-1 key length RFC 4226 section 4 recommends
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case
_RECOVERY_GROUPS = (4, 4, 4)  # 12 symbols of 5 bits: 60 bits
# What a person may type for a symbol the alphabet leaves out (Crockford's decoding).
_MISREAD = str.maketrans({"i": "1", "l": "1", "o": "0"})


def new_secret() -> str:
    """A random 160-bit secret in base32 without padding, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def step_at(now: datetime) -> int:
    """The RFC 6238 time step of an aware moment: whole periods since the Unix epoch."""
    return int(now.timestamp()) // PERIOD_SECONDS


def hotp(key: bytes, counter: int, *, digits: int = DIGITS) -> str:
    """RFC 4226: HMAC-SHA-1 of the counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def totp(secret: str, at_step: int, *, digits: int = DIGITS) -> str:
    """The code of a base32 ``secret`` at time step ``at_step``."""
    return hotp(_key(secret), at_step, digits=digits)


def verify(secret: str, code: str, now: datetime, last_step: int) -> int | None:
    """The step ``code`` is the code of, among now-1..now+1 and later than ``last_step``; None
    when it is none of them. Every candidate is compared, in constant time."""
    typed = code.replace(" ", "").encode("ascii", "replace")
    current = step_at(now)
    key = _key(secret)
    found: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        matches = hmac.compare_digest(hotp(key, step).encode("ascii"), typed)
        if matches and step > last_step and found is None:
            found = step
    return found


def otpauth_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/`` URI an authenticator app reads (as a QR code or pasted)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def new_recovery_codes(n: int = 10) -> list[str]:
    """``n`` different single-use recovery codes, each 60 random bits: ``xxxx-xxxx-xxxx``."""
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(_recovery_code())
    return sorted(codes)


def _recovery_code() -> str:
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(size))
        for size in _RECOVERY_GROUPS
    )
    return "-".join(groups)


def normalise_recovery_code(typed: str) -> str | None:
    """A recovery code as issued (``xxxx-xxxx-xxxx``) from however it was typed (any case,
    spaces, hyphens or none, ``o`` for 0, ``i`` or ``l`` for 1); None if it cannot be one."""
    symbols = "".join(c for c in typed.lower() if c not in " -").translate(_MISREAD)
    if len(symbols) != sum(_RECOVERY_GROUPS) or any(c not in _RECOVERY_ALPHABET for c in symbols):
        return None
    parts, start = [], 0
    for size in _RECOVERY_GROUPS:
        parts.append(symbols[start : start + size])
        start += size
    return "-".join(parts)


def recovery_code_selector(code: str) -> str:
    """A normalised recovery code's first group: kept in clear to find its hash, so it is not
    part of the secret a stolen table would have to be searched for."""
    return code.split("-", 1)[0]


@dataclass
class Authenticator:
    """What an authenticator app does, for the platform's own clients (the demo, the tests):
    the code to type now, never one already typed, since the server accepts a step once."""

    secret: str
    last_step: int = 0

    def code(self, now: datetime) -> str | None:
        """The current step's code or, once that one was typed, the next step's (the server's
        window accepts it); None when both were typed: the next comes with the next period."""
        current = step_at(now)
        step = max(current, self.last_step + 1)
        if step > current + WINDOW:
            return None
        self.last_step = step
        return totp(self.secret, step)
