"""The bank sandbox over real HTTP: idempotent payments, refusals as answers, balances and
statements, credits, the after-accept fault, the account book, persistence, the command line."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandboxes.bank import DATA_FILE, PLATFORM_ACCOUNT, BankControl, BankSandbox
from tests.conftest import TEST_BANK_KEY
from tests.harness.sandbox_process import sandbox_process

AUTH = {"Authorization": f"Bearer {TEST_BANK_KEY}"}


def new_account() -> str:
    """A 16-digit account no test has used: open, with a zero balance."""
    return f"62{uuid.uuid4().int % 10**14:014d}"


def new_key() -> str:
    return f"loan-T-{uuid.uuid4().hex[:12]}"


def payment_body(payer: str, payee: str, amount: str = "1000.00", **changes: Any) -> dict[str, Any]:
    body = {
        "payer_account": payer,
        "payee_account": payee,
        "payee_name": "江苏恒信化工有限公司",
        "amount": amount,
        "currency": "CNY",
        "reference": "loan-T",
        "memo": "订单融资放款",
    }
    return body | changes


def credit_body(payer: str, amount: str = "1000.00", **changes: Any) -> dict[str, Any]:
    body = {
        "payer_account": payer,
        "payer_name": "浙江联丰涂料有限公司",
        "amount": amount,
        "currency": "CNY",
        "reference": "ord-T",
    }
    return body | changes


def pay(http: httpx.Client, body: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return http.post("/payments", json=body, headers=headers)


def credit(http: httpx.Client, account: str, body: dict[str, Any], key: str) -> httpx.Response:
    return http.post(f"/accounts/{account}/credits", json=body, headers={"Idempotency-Key": key})


def funded_account(http: httpx.Client, amount: str) -> str:
    """A new account holding ``amount``, credited from another bank."""
    account = new_account()
    assert credit(http, account, credit_body(new_account(), amount), new_key()).status_code == 201
    return account


def statements(http: httpx.Client, account: str, days: set[str]) -> list[dict[str, Any]]:
    """The account's statements from the first to the last of ``days`` (a test may straddle
    midnight in China), checked to chain: each opens where the day before closed."""
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    answers = []
    for offset in range((last - first).days + 1):
        day = (first + timedelta(days=offset)).isoformat()
        answer = http.get(f"/accounts/{account}/statement", params={"date": day})
        assert answer.status_code == 200
        answers.append(answer.json())
    for before, after in pairwise(answers):
        assert after["opening_balance"] == before["closing_balance"]
    for statement in answers:
        moved = sum((Decimal(e["amount"]) for e in statement["entries"]), Decimal(0))
        assert (
            Decimal(statement["closing_balance"]) == Decimal(statement["opening_balance"]) + moved
        )
    return answers


@pytest.fixture
def http(bank_sandbox: BankSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bank_sandbox.url, timeout=5, headers=AUTH) as client:
        yield client


# -- payments -------------------------------------------------------------------------------


def test_a_settled_payment_moves_both_balances_once_and_a_repeat_replays_it(
    http: httpx.Client, bank_control: BankControl
) -> None:
    payer, payee, key = funded_account(http, "5000.00"), new_account(), new_key()

    first = pay(http, payment_body(payer, payee, "1200.5"), key)
    # The same order with its keys in another order and its amount written with two decimals.
    again = http.post(
        "/payments",
        content=json.dumps(dict(reversed(payment_body(payer, payee, "1200.50").items()))),
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    payment = first.json()
    assert (payment["status"], payment["reason"], payment["amount"]) == ("settled", None, "1200.50")
    assert payment["idempotency_key"] == key
    booked = datetime.fromisoformat(payment["booked_at"])
    assert booked.utcoffset() == timedelta(hours=8)
    assert payment["value_date"] == booked.date().isoformat()
    assert bank_control.balance(payer) == Decimal("3799.50")
    assert bank_control.balance(payee) == Decimal("1200.50")


def test_the_same_key_for_another_order_is_a_conflict(
    http: httpx.Client, bank_control: BankControl
) -> None:
    payer, payee, key = funded_account(http, "5000.00"), new_account(), new_key()
    first = pay(http, payment_body(payer, payee, "100.00"), key).json()

    conflict = pay(http, payment_body(payer, payee, "200.00"), key)

    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_conflict"
    assert conflict.json()["payment_id"] == first["payment_id"]
    assert bank_control.balance(payee) == Decimal("100.00")


def test_concurrent_identical_payments_are_booked_once(
    bank_sandbox: BankSandbox, http: httpx.Client, bank_control: BankControl
) -> None:
    payer, payee, key = funded_account(http, "5000.00"), new_account(), new_key()

    def post(_: int) -> httpx.Response:
        return httpx.post(
            f"{bank_sandbox.url}/payments",
            json=payment_body(payer, payee, "700.00"),
            headers=AUTH | {"Idempotency-Key": key},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))

    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["payment_id"] for a in answers}) == 1
    assert bank_control.balance(payee) == Decimal("700.00")


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"amount": "0"}, "amount", "must be more than 0"),
        ({"amount": "-5.00"}, "amount", "must be more than 0"),
        ({"amount": "10.005"}, "amount", "at most two decimals"),
        ({"amount": 10.5}, "amount", "decimal string"),
        ({"amount": "1e3"}, "amount", "decimal string"),
        ({"amount": "1000000000000000000"}, "amount", "less than 10^18"),
        ({"payer_account": "6222-0200"}, "payer_account", "8 to 32 digits"),
        ({"payee_account": None}, "payee_account", "8 to 32 digits"),
        ({"payee_account": PLATFORM_ACCOUNT}, "payee_account", "must differ from payer_account"),
        ({"payee_name": "  "}, "payee_name", "must not be blank"),
        ({"payee_name": "x" * 201}, "payee_name", "at most 200 characters"),
        ({"currency": "cny"}, "currency", "ISO 4217"),
        ({"currency": "USD"}, "currency", "CNY accounts only"),
        ({"reference": "line\nbreak"}, "reference", "without control characters"),
        ({"memo": "m" * 141}, "memo", "at most 140 characters"),
        ({"iban": "x"}, "iban", "unknown field"),
    ],
)
def test_each_rule_names_its_field(
    http: httpx.Client, changes: dict[str, Any], field: str, rule: str
) -> None:
    body = payment_body(PLATFORM_ACCOUNT, new_account(), **changes)
    key = new_key()

    answer = pay(http, body, key)

    assert answer.status_code == 422
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid", field)
    assert rule in answer.json()["rule"]
    assert http.get("/payments", params={"idempotency_key": key}).status_code == 404


def test_missing_fields_bodies_and_keys_are_named(http: httpx.Client) -> None:
    body = payment_body(PLATFORM_ACCOUNT, new_account())
    keyless = pay(http, body, None)
    spaced = pay(http, body, "loan 1")
    missing = pay(http, {k: v for k, v in body.items() if k != "reference"}, new_key())
    listed = http.post("/payments", json=[body], headers={"Idempotency-Key": new_key()})

    assert (keyless.status_code, keyless.json()["field"]) == (422, "idempotency_key")
    assert (spaced.status_code, spaced.json()["field"]) == (422, "idempotency_key")
    assert (missing.json()["field"], missing.json()["rule"]) == ("reference", "required")
    assert (listed.json()["field"], listed.json()["rule"]) == ("body", "must be a JSON object")


def test_a_closed_payee_is_a_rejection_answered_as_data_and_its_key_stays_spent(
    http: httpx.Client, bank_control: BankControl
) -> None:
    payer, payee, key = funded_account(http, "5000.00"), new_account(), new_key()
    assert bank_control.close_account(payee)["status"] == "closed"

    rejected = pay(http, payment_body(payer, payee), key)
    bank_control.open_account(payee)
    replayed = pay(http, payment_body(payer, payee), key)
    paid = pay(http, payment_body(payer, payee), new_key())

    assert rejected.status_code == 201
    answer = rejected.json()
    assert (answer["status"], answer["reason"]) == ("rejected", "account_closed")
    assert (answer["value_date"], answer["booked_at"]) == (None, None)
    assert (replayed.status_code, replayed.json()) == (200, answer)
    assert paid.json()["status"] == "settled"
    assert bank_control.balance(payer) == Decimal("4000.00")


def test_insufficient_funds_and_a_closed_payer_are_rejections(
    http: httpx.Client, bank_control: BankControl
) -> None:
    payer = funded_account(http, "99.99")
    closed = funded_account(http, "5000.00")
    bank_control.close_account(closed)

    short = pay(http, payment_body(payer, new_account(), "100.00"), new_key()).json()
    frozen = pay(http, payment_body(closed, new_account(), "1.00"), new_key()).json()

    assert (short["status"], short["reason"]) == ("rejected", "insufficient_funds")
    assert (frozen["status"], frozen["reason"]) == ("rejected", "payer_account_closed")
    assert bank_control.balance(payer) == Decimal("99.99")
    assert bank_control.balance(closed) == Decimal("5000.00")


def test_payments_are_found_by_key_and_by_id(http: httpx.Client) -> None:
    key = new_key()
    paid = pay(http, payment_body(PLATFORM_ACCOUNT, new_account(), "10.00"), key).json()

    by_key = http.get("/payments", params={"idempotency_key": key})
    by_id = http.get(f"/payments/{paid['payment_id']}")
    unknown_key = http.get("/payments", params={"idempotency_key": new_key()})
    unknown_id = http.get("/payments/BK2026010199999999")
    no_key = http.get("/payments")

    assert by_key.json() == by_id.json() == paid
    assert (unknown_key.status_code, unknown_key.json()["error"]) == (404, "not_found")
    assert (unknown_id.status_code, unknown_id.json()["error"]) == (404, "not_found")
    assert (no_key.status_code, no_key.json()["field"]) == (422, "idempotency_key")


# -- statements and credits -------------------------------------------------------------------


def test_a_statement_lists_settled_transfers_signed_between_its_balances(
    http: httpx.Client,
) -> None:
    account, supplier, buyer = new_account(), new_account(), new_account()
    keys = [new_key() for _ in range(3)]
    answers = [
        credit(http, account, credit_body(buyer, "1000.00"), keys[0]).json(),
        pay(http, payment_body(account, supplier, "300.25"), keys[1]).json(),
        pay(http, payment_body(account, supplier, "5000.00"), keys[2]).json(),  # refused
    ]
    assert [a["status"] for a in answers] == ["settled", "settled", "rejected"]

    days = {a["value_date"] for a in answers[:2]}
    listed = statements(http, account, days)

    assert listed[0]["opening_balance"] == "0.00"
    assert listed[-1]["closing_balance"] == "699.75"
    entries = [e for s in listed for e in s["entries"]]
    assert [(e["idempotency_key"], e["amount"], e["counterparty_account"]) for e in entries] == [
        (keys[0], "1000.00", buyer),
        (keys[1], "-300.25", supplier),
    ]
    assert entries[0]["counterparty_name"] == "浙江联丰涂料有限公司"
    assert entries[1]["payment_id"] == answers[1]["payment_id"]
    supplier_side = statements(http, supplier, {answers[1]["value_date"]})[-1]["entries"]
    assert [(e["amount"], e["counterparty_account"]) for e in supplier_side] == [
        ("300.25", account)
    ]


def test_the_day_before_shows_no_movement_and_bad_statement_requests_are_named(
    http: httpx.Client,
) -> None:
    account = new_account()
    today = credit(http, account, credit_body(new_account()), new_key()).json()["value_date"]
    before = (date.fromisoformat(today) - timedelta(days=1)).isoformat()

    quiet = http.get(f"/accounts/{account}/statement", params={"date": before}).json()
    undated = http.get(f"/accounts/{account}/statement")
    misdated = http.get(f"/accounts/{account}/statement", params={"date": "2026-02-30"})
    bad_account = http.get("/accounts/62-22/statement", params={"date": today})

    assert (quiet["opening_balance"], quiet["closing_balance"], quiet["entries"]) == (
        "0.00",
        "0.00",
        [],
    )
    assert (undated.status_code, undated.json()["field"]) == (422, "date")
    assert (misdated.status_code, misdated.json()["field"]) == (422, "date")
    assert (bad_account.status_code, bad_account.json()["field"]) == (422, "account")


def test_credits_are_idempotent_and_a_closed_account_refuses_them(
    http: httpx.Client, bank_control: BankControl
) -> None:
    account, buyer, key = new_account(), new_account(), new_key()

    first = credit(http, account, credit_body(buyer, "88.00"), key)
    again = credit(http, account, credit_body(buyer, "88.00"), key)
    other = credit(http, account, credit_body(buyer, "89.00"), key)
    keyless = http.post(f"/accounts/{account}/credits", json=credit_body(buyer))
    own = credit(http, account, credit_body(account), new_key())
    bank_control.close_account(account)
    refused = credit(http, account, credit_body(buyer), new_key()).json()

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert (first.json()["payee_account"], first.json()["payer_account"]) == (account, buyer)
    assert (keyless.status_code, keyless.json()["field"]) == (422, "idempotency_key")
    assert (own.status_code, own.json()["field"]) == (422, "payer_account")
    assert (refused["status"], refused["reason"]) == ("rejected", "account_closed")
    assert bank_control.account(account) == {
        "account": account,
        "status": "closed",
        "balance": "88.00",
        "currency": "CNY",
    }


def test_credentials_are_required_everywhere(bank_sandbox: BankSandbox) -> None:
    account, key = new_account(), new_key()
    refused = []
    for authorization in (None, "Bearer wrong", f"Basic {TEST_BANK_KEY}"):
        headers = {"Authorization": authorization} if authorization else {}
        with httpx.Client(base_url=bank_sandbox.url, headers=headers) as anonymous:
            refused += [
                pay(anonymous, payment_body(PLATFORM_ACCOUNT, account), key),
                anonymous.get("/payments", params={"idempotency_key": key}),
                anonymous.get("/payments/BK1"),
                credit(anonymous, account, credit_body(new_account()), key),
                anonymous.get(f"/accounts/{account}/statement", params={"date": "2026-03-10"}),
            ]

    assert {(a.status_code, a.json()["error"]) for a in refused} == {(401, "unauthorized")}


# -- faults -----------------------------------------------------------------------------------


def test_a_shared_fault_strikes_before_the_payment_is_booked(
    http: httpx.Client, bank_control: BankControl
) -> None:
    key = new_key()
    bank_control.set_fault(mode="error", status=503, count=1, paths=["/payments"])

    assert pay(http, payment_body(PLATFORM_ACCOUNT, new_account()), key).status_code == 503
    assert http.get("/payments", params={"idempotency_key": key}).status_code == 404


def test_accept_then_fail_books_the_payment_and_the_replay_by_key_returns_it(
    http: httpx.Client, bank_control: BankControl
) -> None:
    payer, payee, key = funded_account(http, "5000.00"), new_account(), new_key()
    applied = bank_control.after_accept_applied()
    view = bank_control.accept_then_fail(mode="error", status=503, count=1, paths=["/payments"])
    assert (view["mode"], view["remaining"]) == ("error", 1)

    failed = pay(http, payment_body(payer, payee, "1000.00"), key)
    found = http.get("/payments", params={"idempotency_key": key})
    retried = pay(http, payment_body(payer, payee, "1000.00"), key)

    assert (failed.status_code, failed.json()["error"]) == (503, "sandbox_fault")
    assert found.status_code == 200 and found.json()["status"] == "settled"
    assert (retried.status_code, retried.json()) == (200, found.json())
    assert bank_control.balance(payer) == Decimal("4000.00")
    assert bank_control.balance(payee) == Decimal("1000.00")
    assert bank_control.after_accept_applied() == applied + 1
    assert bank_control.after_accept_fault()["mode"] == "off"


def test_accept_then_fail_can_drop_the_connection(
    http: httpx.Client, bank_control: BankControl
) -> None:
    payee, key = new_account(), new_key()
    bank_control.accept_then_fail(mode="timeout", delay_s=0.05, count=1)

    with pytest.raises(httpx.RemoteProtocolError):
        pay(http, payment_body(PLATFORM_ACCOUNT, payee, "10.00"), key)
    retried = pay(http, payment_body(PLATFORM_ACCOUNT, payee, "10.00"), key)

    assert (retried.status_code, retried.json()["status"]) == (200, "settled")
    assert bank_control.balance(payee) == Decimal("10.00")


def test_accept_then_fail_spares_refusals(http: httpx.Client, bank_control: BankControl) -> None:
    bank_control.accept_then_fail(mode="error", count=1)

    invalid = pay(http, payment_body(PLATFORM_ACCOUNT, new_account(), "0"), new_key())
    keyless = pay(http, payment_body(PLATFORM_ACCOUNT, new_account()), None)

    assert (invalid.status_code, keyless.status_code) == (422, 422)
    assert bank_control.after_accept_fault()["remaining"] == 1


@pytest.mark.parametrize(
    ("call", "body", "status", "field"),
    [
        ("accept-then-fail", {"mode": "explode"}, 422, "mode"),
        ("accept-then-fail", {"mode": "error", "count": 0}, 422, "count"),
        ("accounts/6222020000000009", {"status": "frozen"}, 422, "status"),
        ("accounts/6222020000000009", {"status": "open", "why": "x"}, 422, "why"),
        ("accounts/62-22", {"status": "open"}, 422, "account"),
    ],
)
def test_control_calls_name_bad_fields(
    http: httpx.Client, call: str, body: dict[str, Any], status: int, field: str
) -> None:
    answer = http.post(f"/_sandbox/bank/{call}", json=body)
    assert (answer.status_code, answer.json()["field"]) == (status, field)


def test_control_routes_answer_unknown_paths_methods_and_bad_json(http: httpx.Client) -> None:
    bad_json = http.post(
        "/_sandbox/bank/accept-then-fail",
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert http.get("/_sandbox/bank/nowhere").status_code == 404
    assert http.get("/_sandbox/bank/accounts/6222020000000009/x").status_code == 404
    assert http.delete("/_sandbox/bank/accept-then-fail").status_code == 405
    assert http.delete("/_sandbox/bank/accounts/6222020000000009").status_code == 405
    assert http.get("/_sandbox/health").json() == {"status": "ok", "sandbox": "bank"}


# -- persistence and the command line --------------------------------------------------------


def test_payments_credits_and_closed_accounts_survive_a_restart(tmp_path: Path) -> None:
    payee, closed, key = new_account(), new_account(), new_key()
    with (
        BankSandbox(api_key=TEST_BANK_KEY, data_dir=tmp_path) as first,
        httpx.Client(base_url=first.url, headers=AUTH) as http,
        BankControl(first.url) as control,
    ):
        paid = pay(http, payment_body(PLATFORM_ACCOUNT, payee, "250.00"), key).json()
        control.close_account(closed)
        platform = control.balance(PLATFORM_ACCOUNT)

    assert [p.name for p in tmp_path.iterdir()] == [DATA_FILE]  # no temporary file left over

    with (
        BankSandbox(api_key=TEST_BANK_KEY, data_dir=tmp_path) as second,
        httpx.Client(base_url=second.url, headers=AUTH) as http,
        BankControl(second.url) as control,
    ):
        replayed = pay(http, payment_body(PLATFORM_ACCOUNT, payee, "250.00"), key)
        refused = pay(http, payment_body(PLATFORM_ACCOUNT, closed), new_key()).json()
        following = pay(http, payment_body(PLATFORM_ACCOUNT, payee, "1.00"), new_key()).json()
        balances = (control.balance(PLATFORM_ACCOUNT), control.balance(payee))

    assert (replayed.status_code, replayed.json()) == (200, paid)
    assert refused["reason"] == "account_closed"
    assert balances == (platform - Decimal("1.00"), Decimal("251.00"))
    # The sequence goes on after the restart instead of issuing a payment id again.
    assert int(following["payment_id"][-8:]) == int(paid["payment_id"][-8:]) + 2


def test_a_damaged_state_file_stops_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / DATA_FILE).write_text('{"transfers": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a bank sandbox state file"):
        BankSandbox(api_key=TEST_BANK_KEY, data_dir=tmp_path)


def test_a_key_is_required() -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        BankSandbox(api_key=" ")


def test_runs_in_the_foreground_with_the_data_folders_key(tmp_path: Path) -> None:
    """Without a configured key it uses the embedded default's, which the platform also reads."""
    env = {k: v for k, v in os.environ.items() if k != "TRADEFLOW_BANK_API_KEY"}
    env |= {"TRADEFLOW_DATA_DIR": str(tmp_path / "data"), "TRADEFLOW_ENVIRONMENT": "embedded"}
    key, body = new_key(), payment_body(PLATFORM_ACCOUNT, new_account())
    with (
        sandbox_process("bank", "--data-dir", str(tmp_path / "bank"), env=env) as url,
        httpx.Client(base_url=url, timeout=5) as http,
    ):
        assert pay(http, body, key).status_code == 401
        secret = (tmp_path / "data" / "secrets" / "bank-api-key").read_text().strip()
        http.headers["Authorization"] = f"Bearer {secret}"
        assert pay(http, body, key).status_code == 201
    assert key in (tmp_path / "bank" / DATA_FILE).read_text(encoding="utf-8")
