"""The demo's second factor: a user who moves money proves a TOTP code first, as the platform asks.

The first time, the user enrols an authenticator and confirms it with its first code; its secret
and recovery codes are kept in ``<data dir>/demo/`` as the user's phone and safe would keep them,
so the next ``make demo`` uses the same authenticator. Before paying, the user steps up with a
code (``POST /auth/step-up``) and sends the grant in ``X-Step-Up``; a grant is reused while it
has a minute left. The codes are computed as an authenticator app does (``security.totp``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from security.totp import Authenticator
from stack.demo_client import Caller, wait_for

STEP_UP_HEADER = "X-Step-Up"


@dataclass
class _Grant:
    token: str
    expires_at: datetime


_grants: dict[str, _Grant] = {}


def stepped_up(caller: Caller, out: Path) -> dict[str, str]:
    """The ``X-Step-Up`` header for ``caller``: their grant while it has a minute left, else a
    new one for a fresh code (the authenticator enrolled first if they have none)."""
    grant = _grants.get(caller.email)
    if grant is not None and grant.expires_at - datetime.now(UTC) > timedelta(minutes=1):
        return {STEP_UP_HEADER: grant.token}
    kept = out / f"authenticator-{caller.email}.json"
    device = _device(caller, kept)
    # An authenticator gives each 30-second code once: after two, wait for the next period.
    code: str = wait_for("the authenticator's next code", lambda: device.code(datetime.now(UTC)))
    _save(kept, device)
    answer = caller.call("POST", "/auth/step-up", json={"code": code})
    grant = _Grant(answer["step_up_token"], datetime.fromisoformat(answer["expires_at"]))
    _grants[caller.email] = grant
    print(
        f"{caller.email}: steps up with the authenticator's code "
        f"(a second factor; grant until {grant.expires_at:%H:%M:%S} UTC)"
    )
    return {STEP_UP_HEADER: grant.token}


def _device(caller: Caller, kept: Path) -> Authenticator:
    """The user's authenticator: as kept by an earlier run, or enrolled and confirmed now."""
    enrolled = caller.call("GET", "/auth/second-factor")["enrolled"]
    if enrolled and kept.exists():
        stored = json.loads(kept.read_text())
        return Authenticator(stored["secret"], stored["last_step"])
    if enrolled:
        raise SystemExit(
            f"{caller.email} has a second factor whose secret this demo no longer has ({kept} "
            "is gone): start from a fresh data folder"
        )
    begun = caller.call("POST", "/auth/second-factor/enrolment")
    device = Authenticator(begun["secret"])
    code = device.code(datetime.now(UTC))
    confirmed = caller.call("POST", "/auth/second-factor/confirmation", json={"code": code})
    _save(kept, device, recovery_codes=confirmed["recovery_codes"])
    print(
        f"{caller.email}: enrols an authenticator ({begun['otpauth_uri'].split('?')[0]}) and "
        f"confirms it with its first code; {len(confirmed['recovery_codes'])} recovery codes "
        f"kept with its secret in {kept}"
    )
    return device


def _save(kept: Path, device: Authenticator, *, recovery_codes: list[str] | None = None) -> None:
    stored = json.loads(kept.read_text()) if kept.exists() else {}
    stored.update(secret=device.secret, last_step=device.last_step)
    if recovery_codes is not None:
        stored["recovery_codes"] = recovery_codes
    # Readable by its owner only: it is the user's authenticator.
    descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(stored, file, indent=2)
