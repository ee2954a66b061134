"""The receivables registry sandbox over real HTTP: idempotent registrations, a receivable never
pledged twice, search, release, validation, faults, persistence and the command line."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rules.credit_code import make_credit_code, organisation_check_character
from sandboxes.receivables_registry import (
    DATA_FILE,
    ReceivablesRegistryControl,
    ReceivablesRegistrySandbox,
)
from sandboxes.regulator import CHINA_TIME
from tests.harness.builders import unique_credit_code
from tests.harness.sandbox_process import sandbox_process

NUMBER_LENGTH = 24


def new_loan() -> str:
    return f"loan-T-{uuid.uuid4().hex[:12]}"


def registration_body(*, debtor: str | None = None, reference: str | None = None) -> dict[str, Any]:
    """A pledge the registry accepts: a fresh supplier's receivable from a (fresh) buyer."""
    today = datetime.now(CHINA_TIME).date()
    return {
        "registrant": {"name": "Tradeflow 供应链金融", "credit_code": unique_credit_code()},
        "pledgor": {"name": "江苏恒信化工有限公司", "credit_code": unique_credit_code()},
        "debtor": {"name": "浙江联丰涂料有限公司", "credit_code": debtor or unique_credit_code()},
        "receivable": {
            "reference": reference or f"ord-T-{uuid.uuid4().hex[:10]}",
            "amount": "125000.00",
            "currency": "CNY",
            "due_on": (today + timedelta(days=90)).isoformat(),
        },
        "financed_amount": "100000.00",
        "expires_on": (today + timedelta(days=365)).isoformat(),
    }


def register(http: httpx.Client, body: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return http.post("/registrations", json=body, headers=headers)


def release(http: httpx.Client, number: str, key: str) -> httpx.Response:
    return http.post(f"/registrations/{number}/release", headers={"Idempotency-Key": key})


@pytest.fixture
def http(receivables_registry_sandbox: ReceivablesRegistrySandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=receivables_registry_sandbox.url, timeout=5) as client:
        yield client


# -- registering ------------------------------------------------------------------------------


def test_a_registration_answers_its_number_and_a_repeat_replays_it(http: httpx.Client) -> None:
    body, loan = registration_body(), new_loan()

    first = register(http, body, loan)
    again = http.post(
        "/registrations",
        content=json.dumps(dict(reversed(body.items()))),
        headers={"Idempotency-Key": loan, "Content-Type": "application/json"},
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    record = first.json()
    number = record["registration_number"]
    assert len(number) == NUMBER_LENGTH and number.isdigit() and number.startswith("0")
    assert (record["status"], record["idempotency_key"], record["released_at"]) == (
        "registered",
        loan,
        None,
    )
    assert {k: record[k] for k in body} == body
    assert datetime.fromisoformat(record["registered_at"]).utcoffset() == timedelta(hours=8)
    assert http.get(f"/registrations/{number}").json() == record


def test_the_same_loan_for_another_receivable_is_a_conflict(http: httpx.Client) -> None:
    loan = new_loan()
    first = register(http, registration_body(), loan).json()

    conflict = register(http, registration_body(), loan)

    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_conflict"
    assert conflict.json()["registration_number"] == first["registration_number"]


def test_a_receivable_in_force_cannot_be_pledged_again_until_released(http: httpx.Client) -> None:
    debtor, reference = unique_credit_code(), f"ord-T-{uuid.uuid4().hex[:10]}"
    first = register(http, registration_body(debtor=debtor, reference=reference), new_loan())
    number = first.json()["registration_number"]

    twice = register(http, registration_body(debtor=debtor, reference=reference), new_loan())
    other_order = register(http, registration_body(debtor=debtor), new_loan())
    released = release(http, number, new_loan() + ":release")
    again = register(http, registration_body(debtor=debtor, reference=reference), new_loan())

    assert twice.status_code == 409
    assert twice.json()["error"] == "already_registered"
    assert twice.json()["registration_number"] == number
    assert other_order.status_code == 201
    assert released.json()["status"] == "released"
    assert again.status_code == 201


def test_concurrent_pledges_of_one_receivable_register_one(
    receivables_registry_sandbox: ReceivablesRegistrySandbox,
) -> None:
    debtor, reference = unique_credit_code(), f"ord-T-{uuid.uuid4().hex[:10]}"

    def post(_: int) -> httpx.Response:
        return httpx.post(
            f"{receivables_registry_sandbox.url}/registrations",
            json=registration_body(debtor=debtor, reference=reference),
            headers={"Idempotency-Key": new_loan()},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))

    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    numbers = {a.json()["registration_number"] for a in answers}
    assert len(numbers) == 1


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, name = path.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    if value is _DROP:
        del target[name]
    else:
        target[name] = value
    return body


_DROP = object()
_TODAY = datetime.now(CHINA_TIME).date()
# Fixed, not random: test ids are made from it, and each pytest-xdist process must collect the
# same ones.
_VALID = make_credit_code("91320200" + "A1B2C3D4" + organisation_check_character("A1B2C3D4"))
_WRONG_CHECK = _VALID[:-1] + ("1" if _VALID[-1] == "0" else "0")


@pytest.mark.parametrize(
    ("path", "value", "field", "rule"),
    [
        ("registrant", None, "registrant", "must be a JSON object"),
        ("pledgor.name", " ", "pledgor.name", "must not be blank"),
        ("pledgor.credit_code", _WRONG_CHECK, "pledgor.credit_code", "wrong check character"),
        ("debtor.credit_code", _DROP, "debtor.credit_code", "required"),
        ("debtor.phone", "1", "debtor.phone", "unknown field"),
        ("receivable.reference", "x" * 65, "receivable.reference", "at most 64 characters"),
        ("receivable.amount", 125000, "receivable.amount", "decimal string"),
        ("receivable.currency", "RMB1", "receivable.currency", "ISO 4217"),
        ("receivable.due_on", "2026-13-01", "receivable.due_on", "YYYY-MM-DD"),
        ("financed_amount", "125000.01", "financed_amount", "must not exceed receivable.amount"),
        ("financed_amount", "0.00", "financed_amount", "must be more than 0"),
        ("expires_on", _TODAY.isoformat(), "expires_on", "must be after today"),
        ("expires_on", date(_TODAY.year + 31, 1, 1).isoformat(), "expires_on", "30 years"),
        ("fee", "1", "fee", "unknown field"),
    ],
)
def test_each_rule_names_its_field(
    http: httpx.Client, path: str, value: Any, field: str, rule: str
) -> None:
    loan = new_loan()
    answer = register(http, _set(registration_body(), path, value), loan)

    assert answer.status_code == 422
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid", field)
    assert rule in answer.json()["rule"]


def test_a_key_is_required_and_the_debtor_must_not_be_the_pledgor(http: httpx.Client) -> None:
    body = registration_body()
    keyless = register(http, body, None)
    body["debtor"]["credit_code"] = body["pledgor"]["credit_code"]
    own = register(http, body, new_loan())

    assert (keyless.status_code, keyless.json()["field"]) == (422, "idempotency_key")
    assert (own.status_code, own.json()["field"]) == (422, "debtor.credit_code")


# -- search and release -----------------------------------------------------------------------


def test_search_by_debtor_and_reference_includes_released_ones(http: httpx.Client) -> None:
    debtor, reference = unique_credit_code(), f"ord-T-{uuid.uuid4().hex[:10]}"
    old = register(http, registration_body(debtor=debtor, reference=reference), new_loan()).json()
    release(http, old["registration_number"], new_loan())
    current = register(http, registration_body(debtor=debtor, reference=reference), new_loan())
    other = register(http, registration_body(debtor=debtor), new_loan()).json()

    by_reference = http.get(
        "/registrations", params={"debtor_credit_code": debtor, "reference": reference}
    ).json()["registrations"]
    by_debtor = http.get("/registrations", params={"debtor_credit_code": debtor}).json()
    nobody = http.get("/registrations", params={"debtor_credit_code": unique_credit_code()})
    unnamed = http.get("/registrations", params={"reference": reference})

    assert [(r["registration_number"], r["status"]) for r in by_reference] == [
        (old["registration_number"], "released"),
        (current.json()["registration_number"], "registered"),
    ]
    assert len(by_debtor["registrations"]) == 3
    assert by_debtor["registrations"][-1] == other
    assert nobody.json() == {"registrations": []}
    assert (unnamed.status_code, unnamed.json()["field"]) == (422, "debtor_credit_code")


def test_release_is_idempotent_and_needs_a_key_and_a_registration(http: httpx.Client) -> None:
    number = register(http, registration_body(), new_loan()).json()["registration_number"]
    key = new_loan() + ":release"

    first = release(http, number, key)
    again = release(http, number, key)
    other_key = release(http, number, new_loan())
    keyless = http.post(f"/registrations/{number}/release")
    unknown = release(http, "0" * NUMBER_LENGTH, key)

    assert (first.status_code, again.status_code, other_key.status_code) == (200, 200, 200)
    assert first.json() == again.json() == other_key.json()
    assert first.json()["status"] == "released"
    assert datetime.fromisoformat(first.json()["released_at"]).tzinfo is not None
    assert (keyless.status_code, keyless.json()["field"]) == (422, "idempotency_key")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert http.get(f"/registrations/{'1' * NUMBER_LENGTH}").status_code == 404


# -- faults -----------------------------------------------------------------------------------


def test_accept_then_fail_registers_and_the_replay_returns_the_registration(
    http: httpx.Client, receivables_registry_control: ReceivablesRegistryControl
) -> None:
    body, loan = registration_body(), new_loan()
    receivables_registry_control.accept_then_fail(mode="error", status=502, count=1)

    failed = register(http, body, loan)
    replayed = register(http, body, loan)
    debtor = body["debtor"]["credit_code"]
    listed = http.get("/registrations", params={"debtor_credit_code": debtor}).json()

    assert (failed.status_code, failed.json()["error"]) == (502, "sandbox_fault")
    assert replayed.status_code == 200
    assert listed["registrations"] == [replayed.json()]


def test_a_shared_fault_strikes_before_registering(
    http: httpx.Client, receivables_registry_control: ReceivablesRegistryControl
) -> None:
    body = registration_body()
    receivables_registry_control.set_fault(mode="error", status=503, count=1)

    assert register(http, body, new_loan()).status_code == 503
    debtor = body["debtor"]["credit_code"]
    assert http.get("/registrations", params={"debtor_credit_code": debtor}).json() == {
        "registrations": []
    }
    assert http.get("/_sandbox/health").json()["sandbox"] == "receivables-registry"


# -- persistence and the command line --------------------------------------------------------


def test_registrations_and_releases_survive_a_restart(tmp_path: Path) -> None:
    body, loan, released_loan = registration_body(), new_loan(), new_loan()
    with (
        ReceivablesRegistrySandbox(data_dir=tmp_path) as first,
        httpx.Client(base_url=first.url) as http,
    ):
        kept = register(http, body, loan).json()
        gone = register(http, registration_body(), released_loan).json()
        gone = release(http, gone["registration_number"], released_loan).json()

    assert [p.name for p in tmp_path.iterdir()] == [DATA_FILE]

    with (
        ReceivablesRegistrySandbox(data_dir=tmp_path) as second,
        httpx.Client(base_url=second.url) as http,
    ):
        replayed = register(http, body, loan)
        twice = register(http, body, new_loan())
        reread = http.get(f"/registrations/{gone['registration_number']}").json()
        following = register(http, registration_body(), new_loan()).json()

    assert (replayed.status_code, replayed.json()) == (200, kept)
    assert twice.json()["registration_number"] == kept["registration_number"]
    assert reread == gone
    assert int(following["registration_number"][-15:]) == int(gone["registration_number"][-15:]) + 1


def test_a_damaged_state_file_stops_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / DATA_FILE).write_text('{"registrations": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a receivables-registry sandbox state file"):
        ReceivablesRegistrySandbox(data_dir=tmp_path)


def test_runs_in_the_foreground(tmp_path: Path) -> None:
    loan = new_loan()
    with (
        sandbox_process("receivables-registry", "--data-dir", str(tmp_path)) as url,
        httpx.Client(base_url=url, timeout=5) as http,
    ):
        assert register(http, registration_body(), loan).status_code == 201
    assert loan in (tmp_path / DATA_FILE).read_text(encoding="utf-8")
