"""The caller a request's bearer token names, for the layers that key on it before routing.

Load shedding (whose bucket) and idempotency (whose key) read the ``Authorization`` header from
the raw ASGI scope, in one way: the first such header, scheme ``Bearer``. Verifying is
``security.tokens.decode_token``'s, which remembers verified tokens, so each layer asking (and the
current-actor dependency after them) costs a lookup, not a signature check.
"""

from __future__ import annotations

from starlette.types import Scope

from security.tokens import InvalidToken, decode_token


def bearer_token(scope: Scope) -> str | None:
    """The token of the request's ``Authorization: Bearer`` header, if it has one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def bearer_subject(scope: Scope, *, secret: str) -> str | None:
    """The user id of the request's bearer token when it verifies, else None (the route then
    answers 401)."""
    token = bearer_token(scope)
    if token is None:
        return None
    try:
        return decode_token(token, secret=secret).sub
    except InvalidToken:
        return None
