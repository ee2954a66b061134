"""Test users with a second factor, over the real API: enrolled and confirmed with codes computed
as their authenticator app would (``security.totp.Authenticator``), and stepped up for the
operations that ask for it in ``X-Step-Up``.

The server accepts a code once per 30-second step, so a user's grant is kept and reused while it
has a minute left, and a second code within one period is the next step's (the window allows
it). A third within one period fails loudly rather than sleep: a test needing more codes takes
a recovery code or another user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from security.totp import Authenticator
from tests.harness.api_server import TokenCaller

STEP_UP = "X-Step-Up"


@dataclass
class Device:
    """A user's enrolled authenticator and the recovery codes answered at its confirmation."""

    authenticator: Authenticator
    recovery_codes: list[str] = field(default_factory=list)
    grant: tuple[str, datetime] | None = None

    def code(self) -> str:
        code = self.authenticator.code(datetime.now(UTC))
        if code is None:
            raise RuntimeError(
                "this user typed two codes in this 30-second period already: "
                "use a recovery code or another user"
            )
        return code


_devices: dict[str, Device] = {}


async def begin_enrolment(caller: TokenCaller) -> Authenticator:
    """A new authenticator for the caller, not yet confirmed."""
    begun = await caller.http.post("/auth/second-factor/enrolment")
    assert begun.status_code == 200, begun.text
    return Authenticator(begun.json()["secret"])


async def enrol(caller: TokenCaller) -> Device:
    """Enrol and confirm an authenticator for the caller; its recovery codes kept."""
    device = Device(await begin_enrolment(caller))
    confirmed = await caller.http.post(
        "/auth/second-factor/confirmation", json={"code": device.code()}
    )
    assert confirmed.status_code == 200, confirmed.text
    device.recovery_codes = confirmed.json()["recovery_codes"]
    _devices[caller.user_id] = device
    return device


def device_of(caller: TokenCaller) -> Device | None:
    """The caller's device, if this harness enrolled them."""
    return _devices.get(caller.user_id)


async def step_up(caller: TokenCaller) -> dict[str, str]:
    """The ``X-Step-Up`` header for the caller: their grant while it has a minute left, else a
    new one (enrolling them first if they have no second factor yet)."""
    device = _devices.get(caller.user_id) or await enrol(caller)
    if device.grant is None or device.grant[1] - datetime.now(UTC) < timedelta(minutes=1):
        answer = await caller.http.post("/auth/step-up", json={"code": device.code()})
        assert answer.status_code == 200, answer.text
        granted = answer.json()
        device.grant = (granted["step_up_token"], datetime.fromisoformat(granted["expires_at"]))
    return {STEP_UP: device.grant[0]}
