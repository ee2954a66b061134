"""The second factor over the real API: enrolling an authenticator and confirming it, step-up
with a code or a recovery code (spent once), wrong codes refused naming ``code`` and five of
them locking the factor (429), a confirmed factor replaced only with a proof of it, the audit
entries written (never a secret or a code), and the operations that move money refusing
without the caller's own live grant in ``X-Step-Up``.

Codes are computed as an authenticator app would (``security.totp``); each test user types at
most two a period (the server accepts a step once), so scenarios needing more take another user.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.second_factor import NEEDS_STEP_UP
from contracts.common import Role
from contracts.fulfilment import OrderStatus
from contracts.tasks import SECOND_FACTOR_TASK_KINDS
from db.models import AuditEntry
from db.second_factor import StepUpGrant, TotpEnrolment, token_digest
from db.session import transaction
from security import totp as t
from tests.e2e import order_api
from tests.e2e.order_api import People
from tests.harness import builders as b
from tests.harness import cold_orders as co
from tests.harness import second_factor as sf
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller

STATUS = "/auth/second-factor"
STEP_UP = "/auth/step-up"
Json = dict[str, Any]


people = order_api.people


def new_finance(sessions: sessionmaker[Session]) -> s.Member:
    """A finance user of a new buyer."""
    return s.member(sessions, s.buyer_org(sessions), Role.FINANCE)


def fields(answer: httpx.Response) -> list[tuple[str, str]]:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    return [(e["field"], e["rule"]) for e in answer.json().get("errors", [])]


def named(answer: httpx.Response, status: int, field: str) -> str:
    """The rule of the one field the refusal names, checking its status and field."""
    assert answer.status_code == status, answer.text
    ((where, rule),) = fields(answer)
    assert where == field
    return rule


def wrong_code(secret: str) -> str:
    """A well-formed code that is none of the window's, nor of the steps just past it."""
    near = {t.totp(secret, t.step_at(datetime.now(UTC)) + d) for d in range(-3, 4)}
    return next(c for c in (f"{n:06}" for n in range(0, 10**6, 7919)) if c not in near)


def audit_actions(sessions: sessionmaker[Session], user_id: str) -> list[AuditEntry]:
    with sessions() as session:
        query = select(AuditEntry).where(AuditEntry.actor_user_id == user_id)
        return list(session.scalars(query.order_by(AuditEntry.id)))


async def test_enrol_confirm_and_step_up(people: People, sessions: sessionmaker[Session]) -> None:
    finance = people(new_finance(sessions))
    fresh = await finance.http.get(STATUS)
    assert fresh.json() == {
        "enrolled": False,
        "confirmed_at": None,
        "enrolment_pending": False,
        "recovery_codes_left": 0,
    }
    rule = named(await finance.http.post(STEP_UP, json={"code": "123456"}), 403, "code")
    assert "POST /auth/second-factor/enrolment" in rule
    nothing = await finance.http.post(f"{STATUS}/confirmation", json={"code": "123456"})
    assert named(nothing, 409, "code").startswith("no authenticator is waiting")

    begun = (await finance.http.post(f"{STATUS}/enrolment")).json()
    assert begun["otpauth_uri"].startswith("otpauth://totp/Tradeflow:usr_finance_")
    assert f"secret={begun['secret']}" in begun["otpauth_uri"]
    assert (await finance.http.get(STATUS)).json()["enrolment_pending"] is True
    device = t.Authenticator(begun["secret"])
    wrong = wrong_code(device.secret)
    refused = await finance.http.post(f"{STATUS}/confirmation", json={"code": wrong})
    assert named(refused, 403, "code") == "not the new authenticator's current code"
    # Not yet in force: a step-up still asks to enrol.
    assert "enrol" in named(await finance.http.post(STEP_UP, json={"code": wrong}), 403, "code")

    first = device.code(datetime.now(UTC))
    assert first is not None
    confirmed = await finance.http.post(f"{STATUS}/confirmation", json={"code": first})
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    status = (await finance.http.get(STATUS)).json()
    assert status["enrolled"] is True and status["enrolment_pending"] is False
    assert status["recovery_codes_left"] == 10 and status["confirmed_at"] is not None

    # The code that confirmed is spent: typed again, it is refused.
    replayed = await finance.http.post(STEP_UP, json={"code": first})
    assert named(replayed, 403, "code").startswith("wrong code, or one already used")
    second = device.code(datetime.now(UTC))
    assert second is not None
    granted = await finance.http.post(STEP_UP, json={"code": f"{second[:3]} {second[3:]}"})
    assert granted.status_code == 200, granted.text
    token = granted.json()["step_up_token"]
    expires_at = datetime.fromisoformat(granted.json()["expires_at"])
    with sessions() as session:
        stored = session.get_one(StepUpGrant, token_digest(token))
        assert stored.user_id == finance.user_id and stored.expires_at == expires_at
        assert session.get(StepUpGrant, token) is None  # only the digest is kept

    entries = audit_actions(sessions, finance.user_id)
    assert [e.action for e in entries] == [
        "auth.second_factor_failed",
        "auth.second_factor_confirmed",
        "auth.second_factor_failed",
        "auth.step_up_granted",
    ]
    assert entries[-1].detail["by"] == "totp"
    logged = " ".join(str(e.detail) + e.target_id for e in entries)
    for secret in (begun["secret"], first, second, token, *codes):
        assert secret not in logged


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "code"),
        ({"code": "123456", "recovery_code": "0000-0000-0000"}, "recovery_code"),
        ({"code": "12a456"}, "code"),
        ({"code": "1234567"}, "code"),
        ({"recovery_code": "short"}, "recovery_code"),
        ({"code": "123456", "remember": True}, "remember"),
    ],
)
async def test_a_malformed_proof_is_refused_naming_the_field(
    people: People, sessions: sessionmaker[Session], body: Json, field: str
) -> None:
    answer = await people(new_finance(sessions)).http.post(STEP_UP, json=body)
    named(answer, 422, field)


async def test_five_wrong_codes_lock_the_factor(
    people: People, sessions: sessionmaker[Session]
) -> None:
    finance = people(new_finance(sessions))
    device = await sf.enrol(finance)
    wrong = wrong_code(device.authenticator.secret)
    for _ in range(5):
        named(await finance.http.post(STEP_UP, json={"code": wrong}), 403, "code")
    # Locked: even the right code is not looked at, on any route that takes one.
    locked = await finance.http.post(STEP_UP, json={"code": device.code()})
    assert "too many wrong codes" in named(locked, 429, "code")
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    again = await finance.http.post(f"{STATUS}/recovery-codes", json={"code": wrong})
    named(again, 429, "code")
    spare = await finance.http.post(STEP_UP, json={"recovery_code": device.recovery_codes[0]})
    named(spare, 429, "code")
    assert (await finance.http.get(STATUS)).json()["recovery_codes_left"] == 10
    actions = [e.action for e in audit_actions(sessions, finance.user_id)]
    assert actions.count("auth.second_factor_failed") == 5
    assert actions.count("auth.second_factor_locked") == 1
    assert "auth.step_up_granted" not in actions


async def test_a_recovery_code_works_once(people: People, sessions: sessionmaker[Session]) -> None:
    finance = people(new_finance(sessions))
    device = await sf.enrol(finance)
    first, second = device.recovery_codes[:2]
    granted = await finance.http.post(STEP_UP, json={"recovery_code": first.upper()})
    assert granted.status_code == 200, granted.text
    spent = await finance.http.post(STEP_UP, json={"recovery_code": first})
    assert named(spent, 403, "recovery_code") == "not one of your unused recovery codes"
    assert (await finance.http.get(STATUS)).json()["recovery_codes_left"] == 9

    # A new set voids the old one, spent or not.
    renewed = await finance.http.post(f"{STATUS}/recovery-codes", json={"code": device.code()})
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()["recovery_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(device.recovery_codes)
    old = await finance.http.post(STEP_UP, json={"recovery_code": second})
    named(old, 403, "recovery_code")
    works = await finance.http.post(STEP_UP, json={"recovery_code": fresh[0].replace("-", "")})
    assert works.status_code == 200, works.text

    actions = [e.action for e in audit_actions(sessions, finance.user_id)]
    assert actions.count("auth.recovery_code_used") == 2
    assert actions.count("auth.recovery_codes_regenerated") == 1
    assert actions.count("auth.step_up_granted") == 2
    logged = " ".join(str(e.detail) for e in audit_actions(sessions, finance.user_id))
    assert not any(code in logged for code in (*device.recovery_codes, *fresh))


async def test_replacing_a_confirmed_factor_needs_a_proof_of_it(
    people: People, sessions: sessionmaker[Session]
) -> None:
    finance = people(new_finance(sessions))
    device = await sf.enrol(finance)
    enrolment = f"{STATUS}/enrolment"
    bare = await finance.http.post(enrolment)
    assert "needs a current code" in named(bare, 403, "code")
    wrong = {"code": wrong_code(device.authenticator.secret)}
    named(await finance.http.post(enrolment, json=wrong), 403, "code")

    proof = {"recovery_code": device.recovery_codes[0]}
    replacement = await finance.http.post(enrolment, json=proof)
    assert replacement.status_code == 200, replacement.text
    # The old authenticator stays in force until the new one is confirmed.
    kept = await finance.http.post(STEP_UP, json={"code": device.code()})
    assert kept.status_code == 200, kept.text
    new = t.Authenticator(replacement.json()["secret"])
    confirmed = await finance.http.post(
        f"{STATUS}/confirmation", json={"code": new.code(datetime.now(UTC))}
    )
    assert confirmed.status_code == 200, confirmed.text
    with sessions() as session:
        assert session.get_one(TotpEnrolment, finance.user_id).secret == new.secret
    confirmations = [
        e.detail
        for e in audit_actions(sessions, finance.user_id)
        if e.action == "auth.second_factor_confirmed"
    ]
    assert confirmations == [{"replaced": "false"}, {"replaced": "true"}]


async def test_a_payment_needs_the_callers_own_live_grant(
    people: People, sessions: sessionmaker[Session]
) -> None:
    order = co.cold_order(sessions, carrier=False, status=OrderStatus.INVOICED)
    finance, supplier = people(order.who.finance), people(order.who.supplier)
    colleague = people(s.member(sessions, order.who.finance.org, Role.FINANCE))
    payments = f"/orders/{order.order_id}/payments"
    body = {
        "amount": {"amount": "100.00", "currency": "CNY"},
        "reference": "BANK-1",
        "paid_on": datetime.now(UTC).date().isoformat(),
    }
    assert named(await finance.http.post(payments, json=body), 403, "X-Step-Up") == NEEDS_STEP_UP
    expired = f"expired-{uuid.uuid4().hex}"
    with transaction(sessions) as session:
        session.add(
            StepUpGrant(
                id=token_digest(expired),
                user_id=finance.user_id,
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
    theirs = await sf.step_up(colleague)
    for token in ("x" * 43, expired, theirs[sf.STEP_UP]):
        refused = await finance.http.post(payments, json=body, headers={sf.STEP_UP: token})
        assert "unknown, expired or not yours" in named(refused, 403, "X-Step-Up")
    # Whoever is not the buyer's finance is refused as such, not sent for a second factor.
    wrong_party = await supplier.http.post(payments, json=body, headers=theirs)
    assert wrong_party.status_code == 403 and "finance" in wrong_party.text
    # With their own grant the payment passes the gate and reaches the order's process, which
    # this order (written straight to the database) does not have running.
    passed = await finance.http.post(payments, json=body, headers=await sf.step_up(finance))
    assert passed.status_code == 404 and "no such running process" in passed.text


async def test_deciding_a_task_that_moves_money_needs_a_grant(
    people: People, sessions: sessionmaker[Session]
) -> None:
    finance = people(new_finance(sessions))
    tasks = {
        kind: _open_task(sessions, finance, kind)
        for kind in ("order_payment", *SECOND_FACTOR_TASK_KINDS)
    }
    decision = {"outcome": "approve"}
    for kind, task_id in tasks.items():
        answer = await finance.http.post(f"/tasks/{task_id}/decision", json=decision)
        if kind in SECOND_FACTOR_TASK_KINDS:
            assert named(answer, 403, "X-Step-Up") == NEEDS_STEP_UP, kind
        else:
            assert answer.status_code == 409 and "task's process is gone" in answer.text
    headers = await sf.step_up(finance)
    for kind in SECOND_FACTOR_TASK_KINDS:
        url = f"/tasks/{tasks[kind]}/decision"
        answer = await finance.http.post(url, json=decision, headers=headers)
        # Past the gate, at the process, which is not running (the task is then closed).
        assert answer.status_code == 409 and "task's process is gone" in answer.text, kind


def _open_task(sessions: sessionmaker[Session], caller: TokenCaller, kind: str) -> str:
    """An open task of ``kind`` in the caller's inbox, of a process that is not running."""
    return b.open_task(
        sessions,
        org_id=caller.org_id,
        role=Role.FINANCE,
        workflow_id=f"Loan:{uuid.uuid4().hex[:12]}",
        kind=kind,
        subject_type="loan",
        subject_id=f"loan_{uuid.uuid4().hex[:12]}",
        title="Approve the loan",
        outcomes=("approve", "reject"),
    )
