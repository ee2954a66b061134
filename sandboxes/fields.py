"""Reading a sandbox request's JSON body field by field: each check raises ``InvalidInput``
naming the field (dotted inside objects) and the rule it broke, which the server answers 422."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from sandboxes.http_sandbox import InvalidInput, SandboxRequest

# Keys are ids the caller makes (a loan id, say): visible ASCII, no spaces.
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
_ACCOUNT = re.compile(r"^\d{8,32}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL = re.compile(r"^-?\d{1,30}(\.\d{1,30})?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Below the platform's numeric(20, 2) columns, as contracts.banking.Amount.
AMOUNT_LIMIT = Decimal(10) ** 18


def idempotency_key(request: SandboxRequest) -> str:
    """The request's ``Idempotency-Key`` header, which every write must carry."""
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        raise InvalidInput("idempotency_key", "required: send an Idempotency-Key header")
    if not _KEY.match(key):
        raise InvalidInput("idempotency_key", "1 to 128 visible ASCII characters, no spaces")
    return key


def json_object(value: Any, where: str, allowed: Collection[str]) -> dict[str, Any]:
    """``value`` as an object with no field outside ``allowed``; ``where`` is its field's name,
    or ``body`` for the request's body, whose fields are named alone."""
    if not isinstance(value, dict):
        raise InvalidInput(where, "must be a JSON object")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise InvalidInput(_dotted("" if where == "body" else where, unknown[0]), "unknown field")
    return value


def text(
    body: dict[str, Any], name: str, *, where: str = "", longest: int, required: bool = True
) -> str:
    """A one-line string of at most ``longest`` characters; blank only when not required."""
    field = _dotted(where, name)
    value = body.get(name, None if required else "")
    if value is None:
        raise InvalidInput(field, "required")
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be blank")
    if len(value) > longest:
        raise InvalidInput(field, f"at most {longest} characters")
    if _CONTROLS.search(value):
        raise InvalidInput(field, "must be one line without control characters")
    return value


def account(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise InvalidInput(field, "must be an account number of 8 to 32 digits")
    return value


def currency(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise InvalidInput(field, "must be an ISO 4217 code such as CNY")
    return value


def amount(value: Any, field: str) -> Decimal:
    """A positive decimal string with at most two decimals (a float would lose cents)."""
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise InvalidInput(field, 'must be a decimal string such as "1200.50"')
    parsed = Decimal(value)
    if parsed <= 0:
        raise InvalidInput(field, "must be more than 0")
    if parsed >= AMOUNT_LIMIT:
        raise InvalidInput(field, "must be less than 10^18")
    if parsed != parsed.quantize(Decimal("0.01")):
        raise InvalidInput(field, "at most two decimals")
    return parsed


def money_text(value: Decimal) -> str:
    """The wire form of an amount: two decimals, no exponent."""
    return f"{value.quantize(Decimal('0.01')):f}"


def day(value: Any, field: str) -> date:
    if isinstance(value, str) and _DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(field, "must be a date as YYYY-MM-DD")


def _dotted(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
