"""The regulator sandbox over real HTTP: auth, idempotent filing, validation, status changes,
the after-accept fault, persistence and the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandboxes.regulator import (
    DATA_FILE,
    RegulatorControl,
    RegulatorSandbox,
    canonical_sha256,
    rejection_reasons,
)

ROOT = Path(__file__).resolve().parents[2]
KEY = "sandbox-test-key-7f3a"
RECEIPT = re.compile(r"^JS-DG-\d{8}-\d{6}$")


def new_number() -> str:
    return f"EW-T-{uuid.uuid4().hex[:12]}"


def waybill_body(number: str, **changes: Any) -> dict[str, Any]:
    """A waybill the regulator accepts; ``changes`` replace top-level keys."""
    body: dict[str, Any] = {
        "waybill_number": number,
        "order_id": "ord-T-1",
        "shipment_id": f"shp-{number}",
        "dispatch_date": "2026-03-10",
        "consignor": {
            "name": "江苏恒信化工有限公司",
            "credit_code": "91320500MA1XXXXX1A",
            "contact_phone": "0512-66880000",
        },
        "consignee": {
            "name": "浙江联丰涂料有限公司",
            "credit_code": "91330100MA2XXXXX2B",
            "contact_phone": "0571-88990000",
        },
        "loader": "张建国",
        "carrier": {
            "name": "苏州安运危险品运输有限公司",
            "credit_code": "91320500MA3XXXXX3C",
            "phone": "0512-65550000",
            "road_transport_permit_number": "苏交运管许可苏字320500001234号",
            "permit_expiry": "2028-06-30",
            "permitted_classes": ["3", "8"],
        },
        "vehicle": {
            "plate": "苏E·D1234",
            "transport_certificate_number": "320500012345",
            "permitted_classes": ["3"],
            "inspection_valid_until": "2026-12-31",
            "trailer_plate": None,
            "trailer_certificate_number": None,
            "tank_number": None,
            "tank_volume_litres": None,
            "max_load_kg": "10000",
        },
        "driver": {
            "name": "李明",
            "qualification_certificate_number": "3205001990",
            "certificate_expiry": "2027-01-31",
            "phone": "13800000001",
        },
        "escort": {
            "name": "王强",
            "qualification_certificate_number": "3205002991",
            "certificate_expiry": "2026-03-10",
            "phone": "13800000002",
        },
        "items": [
            {
                "un_number": "UN1263",
                "proper_shipping_name": "PAINT",
                "hazard_class": "3",
                "subsidiary_classes": [],
                "packing_group": "II",
                "packaging": "steel drum 1A1",
                "packages": 40,
                "quantity": "8000",
                "unit": "L",
            }
        ],
        "loading_place": "苏州市相城区",
        "unloading_place": "杭州市余杭区",
        "planned_loading_at": "2026-03-10T08:00:00+08:00",
        "planned_unloading_at": "2026-03-10T15:00:00+08:00",
        "route": "G2 京沪高速 → G60 沪昆高速",
        "emergency_contact": {"name": "周丽", "phone_24h": "0512-12345678"},
        "revision": 1,
    }
    return body | changes


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RegulatorSandbox]:
    with RegulatorSandbox(api_key=KEY) as running:
        yield running


@pytest.fixture
def http(sandbox: RegulatorSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.url, timeout=5, headers={"Authorization": f"Bearer {KEY}"}
    ) as client:
        yield client


@pytest.fixture
def control(sandbox: RegulatorSandbox) -> Iterator[RegulatorControl]:
    with RegulatorControl(sandbox.url) as ctl:
        ctl.clear_faults()
        ctl.clear_accept_then_fail()
        yield ctl
        ctl.clear_faults()
        ctl.clear_accept_then_fail()


def file(http: httpx.Client, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return http.post(
        "/waybills", json=body, headers={"Idempotency-Key": key or body["waybill_number"]}
    )


def change(
    http: httpx.Client, number: str, status: str, *, at: str = "2026-03-10T09:00:00+08:00"
) -> httpx.Response:
    return http.post(
        f"/waybills/{number}/status",
        json={"status": status, "at": at, "note": ""},
        headers={"Idempotency-Key": f"{number}:{status}"},
    )


# -- filing -------------------------------------------------------------------------------


def test_accepted_filing_answers_a_receipt_and_keeps_the_waybill(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    answer = file(http, waybill_body(number))

    assert answer.status_code == 201
    receipt = answer.json()
    assert set(receipt) == {"receipt_number", "waybill_number", "status", "accepted_at"}
    assert RECEIPT.match(receipt["receipt_number"])
    assert (receipt["waybill_number"], receipt["status"]) == (number, "filed")
    assert datetime.fromisoformat(receipt["accepted_at"]).tzinfo is not None
    record = http.get(f"/waybills/{number}").json()
    assert record["waybill"] == waybill_body(number)
    assert record["history"] == [
        {
            "status": "filed",
            "at": receipt["accepted_at"],
            "note": "",
            "event_receipt": receipt["receipt_number"],
        }
    ]
    assert control.tally(number)["accepted"] == 1


def test_same_waybill_again_is_a_replay_with_the_same_receipt(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    first = file(http, waybill_body(number))
    # Canonical JSON: another key order and spacing is the same waybill.
    reordered = json.dumps(dict(reversed(waybill_body(number).items())), indent=1)
    again = http.post(
        "/waybills",
        content=reordered.encode(),
        headers={"Idempotency-Key": number, "Content-Type": "application/json"},
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    tally = control.tally(number)
    assert (tally["accepted"], tally["replays"]) == (1, 1)


def test_other_content_under_a_filed_number_is_a_conflict(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    file(http, waybill_body(number))

    conflict = file(http, waybill_body(number, route="G42 沪蓉高速", revision=2))

    assert conflict.status_code == 409
    assert conflict.json()["error"] == "conflict"
    assert "other content" in conflict.json()["reason"]
    assert http.get(f"/waybills/{number}").json()["waybill"]["revision"] == 1
    tally = control.tally(number)
    assert (tally["accepted"], tally["conflicts"]) == (1, 1)


def test_concurrent_identical_filings_are_accepted_once(
    sandbox: RegulatorSandbox, control: RegulatorControl
) -> None:
    number = new_number()

    def post(_: int) -> httpx.Response:
        return httpx.post(
            f"{sandbox.url}/waybills",
            json=waybill_body(number),
            headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": number},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))

    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["receipt_number"] for a in answers}) == 1
    assert (control.tally(number)["accepted"], control.tally(number)["replays"]) == (1, 7)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"consignor": {"name": ""}}, "consignor.name is required"),
        ({"consignee": None}, "consignee.name is required"),
        (
            {"carrier": {"name": "安运", "road_transport_permit_number": "  "}},
            "carrier.road_transport_permit_number is required",
        ),
        ({"vehicle": {"plate": 1234}}, "vehicle.plate is required"),
        ({"emergency_contact": {"name": "周丽"}}, "emergency_contact.phone_24h is required"),
        ({"items": []}, "items: at least one dangerous-goods item is required"),
        (
            {"items": [{"un_number": "1263"}]},
            "items[0].un_number '1263' is not a UN number (UN and four digits)",
        ),
        ({"dispatch_date": "10/03/2026"}, "dispatch_date must be a date (YYYY-MM-DD)"),
        (
            {"dispatch_date": "2026-03-11"},
            "escort's qualification certificate expires on 2026-03-10, "
            "before the dispatch date 2026-03-11",
        ),
    ],
)
def test_each_rule_gives_a_readable_reason(changes: dict[str, Any], reason: str) -> None:
    assert rejection_reasons(waybill_body("EW-T-1", **changes)) == [reason]


def test_a_valid_waybill_has_no_reasons_and_a_datetime_dispatch_date_is_read_as_its_day() -> None:
    assert rejection_reasons(waybill_body("EW-T-1")) == []
    assert rejection_reasons(waybill_body("EW-T-1", dispatch_date="2026-03-10T07:00:00")) == []
    assert rejection_reasons(["not", "a", "waybill"]) == ["the waybill must be a JSON object"]


def test_rejection_lists_every_reason_and_leaves_the_number_free(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    bad_people = {
        "driver": {"name": "李明", "qualification_certificate_number": "", "phone": "1"},
        "escort": {"qualification_certificate_number": "3205002991", "certificate_expiry": "x"},
    }
    rejected = file(http, waybill_body(number, **bad_people))

    assert rejected.status_code == 422
    assert rejected.json() == {
        "error": "rejected",
        "reasons": [
            "driver.qualification_certificate_number is required",
            "escort.name is required",
            "driver.certificate_expiry must be a date (YYYY-MM-DD)",
            "escort.certificate_expiry must be a date (YYYY-MM-DD)",
        ],
    }
    assert http.get(f"/waybills/{number}").status_code == 404
    # The fixed waybill is a first filing, not a conflict with the refused one.
    assert file(http, waybill_body(number, revision=2)).status_code == 201
    tally = control.tally(number)
    assert (tally["rejections"], tally["accepted"], tally["conflicts"]) == (1, 1, 0)


def test_credentials_are_required_everywhere(
    sandbox: RegulatorSandbox, control: RegulatorControl
) -> None:
    number = new_number()
    refused = []
    for authorization in (None, "Bearer wrong-key", f"Basic {KEY}", f"Bearer {KEY}x"):
        headers = {"Authorization": authorization} if authorization else {}
        with httpx.Client(base_url=sandbox.url, headers=headers) as anonymous:
            refused += [
                file(anonymous, waybill_body(number)),
                change(anonymous, number, "departed"),
                anonymous.get(f"/waybills/{number}"),
            ]

    assert {(a.status_code, a.json()["error"]) for a in refused} == {(401, "unauthorized")}
    assert control.tally(number)["accepted"] == 0


def test_idempotency_key_is_required_and_must_be_the_waybill_number(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    keyless = http.post("/waybills", json=waybill_body(number))
    mismatched = file(http, waybill_body(number), key=number + "-retry")

    assert (keyless.status_code, keyless.json()["error"]) == (400, "idempotency_key_required")
    assert (mismatched.status_code, mismatched.json()["error"]) == (400, "idempotency_key_mismatch")
    assert control.tally(number)["accepted"] == 0


# -- status changes -----------------------------------------------------------------------


def test_departed_then_delivered_with_replays(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    receipt = file(http, waybill_body(number)).json()["receipt_number"]

    departed = change(http, number, "departed")
    replayed = change(http, number, "departed")
    delivered = change(http, number, "delivered", at="2026-03-10T15:30:00+08:00")

    assert (departed.status_code, replayed.status_code, delivered.status_code) == (201, 200, 201)
    assert replayed.json() == departed.json()
    assert departed.json() == {
        "receipt_number": receipt,
        "waybill_number": number,
        "status": "departed",
        "event_receipt": f"{receipt}-S1",
        "at": "2026-03-10T09:00:00+08:00",
    }
    record = http.get(f"/waybills/{number}").json()
    assert record["status"] == "delivered"
    assert [(h["status"], h["event_receipt"]) for h in record["history"]] == [
        ("filed", receipt),
        ("departed", f"{receipt}-S1"),
        ("delivered", f"{receipt}-S2"),
    ]
    tally = control.tally(number)
    assert (tally["status_changes"], tally["status_replays"]) == (2, 1)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["departed", "voided"], "is departed; it cannot become voided"),
        (["departed", "delivered", "voided"], "is delivered; it cannot become voided"),
        (["delivered"], "is filed; it cannot become delivered"),
        (["voided", "departed"], "is voided; it cannot become departed"),
    ],
)
def test_status_changes_follow_the_lifecycle(
    http: httpx.Client, path: list[str], refused: str
) -> None:
    number = new_number()
    file(http, waybill_body(number))
    for status in path[:-1]:
        assert change(http, number, status).status_code == 201

    answer = change(http, number, path[-1])

    assert answer.status_code == 409
    assert answer.json() == {"error": "conflict", "reason": f"waybill {number} {refused}"}


def test_a_voided_waybill_cannot_be_filed_again(http: httpx.Client) -> None:
    number = new_number()
    file(http, waybill_body(number))
    assert change(http, number, "voided").status_code == 201

    same = file(http, waybill_body(number))
    fixed = file(http, waybill_body(number, revision=2))

    assert same.status_code == fixed.status_code == 409
    assert "voided" in same.json()["reason"]


def test_status_change_other_content_unknown_waybill_and_bad_bodies(http: httpx.Client) -> None:
    number = new_number()
    file(http, waybill_body(number))
    change(http, number, "departed")

    other_time = change(http, number, "departed", at="2026-03-10T10:00:00+08:00")
    unknown = change(http, new_number(), "departed")
    naive = change(http, number, "delivered", at="2026-03-10T15:00:00")
    unknown_status = change(http, number, "lost")

    assert (other_time.status_code, other_time.json()["error"]) == (409, "conflict")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert naive.status_code == unknown_status.status_code == 422
    assert naive.json()["reasons"] == ["at must be a date and time with its UTC offset (ISO 8601)"]
    assert unknown_status.json()["reasons"] == ["status must be one of departed, delivered, voided"]
    assert http.get(f"/waybills/{number}").json()["status"] == "departed"


def test_get_unknown_waybill_is_not_found(http: httpx.Client) -> None:
    answer = http.get(f"/waybills/{new_number()}")
    assert (answer.status_code, answer.json()) == (404, {"error": "not_found"})


# -- faults ---------------------------------------------------------------------------------


def test_shared_fault_strikes_before_the_filing_is_recorded(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    control.set_fault(mode="error", status=503, count=1, paths=["/waybills"])

    assert file(http, waybill_body(number)).status_code == 503
    assert control.tally(number)["accepted"] == 0
    assert file(http, waybill_body(number)).status_code == 201


def test_accept_then_fail_records_the_filing_and_the_retry_replays_it(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    applied_before = control.stats()["accept_then_fail_applied"]
    view = control.accept_then_fail(mode="error", status=503, count=1)
    assert (view["mode"], view["remaining"]) == ("error", 1)

    failed = file(http, waybill_body(number))
    retried = file(http, waybill_body(number))

    assert (failed.status_code, failed.json()["error"]) == (503, "sandbox_fault")
    assert retried.status_code == 200
    assert (
        retried.json()["receipt_number"] == http.get(f"/waybills/{number}").json()["receipt_number"]
    )
    tally = control.tally(number)
    assert (tally["accepted"], tally["replays"]) == (1, 1)
    assert control.stats()["accept_then_fail_applied"] == applied_before + 1
    assert control.after_accept_fault()["mode"] == "off"


def test_accept_then_fail_can_drop_the_connection_of_a_status_change(
    http: httpx.Client, control: RegulatorControl
) -> None:
    number = new_number()
    file(http, waybill_body(number))
    control.accept_then_fail(mode="timeout", delay_s=0.1, count=1, paths=["/waybills/"])

    with pytest.raises(httpx.RemoteProtocolError):
        change(http, number, "departed")
    retried = change(http, number, "departed")

    assert retried.status_code == 200
    tally = control.tally(number)
    assert (tally["status_changes"], tally["status_replays"]) == (1, 1)


def test_accept_then_fail_spares_refusals(http: httpx.Client, control: RegulatorControl) -> None:
    number = new_number()
    control.accept_then_fail(mode="error", count=1)

    refused = file(http, waybill_body(number, items=[]))
    unauthorised = http.post(
        "/waybills",
        json=waybill_body(number),
        headers={"Authorization": "Bearer nope", "Idempotency-Key": number},
    )
    keyless = http.post("/waybills", json=waybill_body(number))

    assert (refused.status_code, unauthorised.status_code, keyless.status_code) == (422, 401, 400)
    assert control.after_accept_fault()["remaining"] == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"mode": "explode"}, 422, "mode"),
        ({"mode": "error", "count": 0}, 422, "count"),
        ({"mode": "error", "paths": ["waybills"]}, 422, "paths"),
    ],
)
def test_accept_then_fail_control_rejects_bad_faults(
    http: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    answer = http.post("/_sandbox/regulator/accept-then-fail", json=body)
    assert (answer.status_code, answer.json()["field"]) == (status, field)


def test_control_routes_answer_unknown_paths_methods_and_bad_json(http: httpx.Client) -> None:
    bad_json = http.post(
        "/_sandbox/regulator/accept-then-fail",
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert http.get("/_sandbox/regulator/nowhere").status_code == 404
    assert http.delete("/_sandbox/regulator/accept-then-fail").status_code == 405
    assert http.get("/_sandbox/health").json() == {"status": "ok", "sandbox": "regulator"}


def test_stats_group_waybills_by_shipment(http: httpx.Client, control: RegulatorControl) -> None:
    shipment = f"shp-{uuid.uuid4().hex[:8]}"
    voided, reissued = new_number(), new_number()
    file(http, waybill_body(voided, shipment_id=shipment))
    change(http, voided, "voided")
    file(http, waybill_body(reissued, shipment_id=shipment))

    stats = control.stats()

    assert stats["shipments"][shipment] == sorted([voided, reissued])
    assert stats["waybills"][voided]["status"] == "voided"
    assert stats["waybills"][reissued]["shipment_id"] == shipment
    assert control.tally(new_number())["accepted"] == 0


# -- persistence and the command line --------------------------------------------------------


def test_filings_survive_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    number = new_number()
    auth = {"Authorization": f"Bearer {KEY}"}
    with (
        RegulatorSandbox(api_key=KEY, data_dir=tmp_path) as first,
        httpx.Client(base_url=first.url, headers=auth) as http,
    ):
        receipt = file(http, waybill_body(number)).json()
        change(http, number, "departed")

    assert [p.name for p in tmp_path.iterdir()] == [DATA_FILE]  # no temporary file left over
    stored = json.loads((tmp_path / DATA_FILE).read_text(encoding="utf-8"))
    assert stored["filings"][number]["body_sha256"] == canonical_sha256(waybill_body(number))

    with (
        RegulatorSandbox(api_key=KEY, data_dir=tmp_path) as second,
        httpx.Client(base_url=second.url, headers=auth) as http,
        RegulatorControl(second.url) as control,
    ):
        replayed = file(http, waybill_body(number))
        record = http.get(f"/waybills/{number}").json()
        next_receipt = file(http, waybill_body(new_number())).json()["receipt_number"]
        tally = control.tally(number)

    assert (replayed.status_code, replayed.json()) == (200, receipt)
    assert record["status"] == "departed"
    assert (tally["accepted"], tally["replays"], tally["status_changes"]) == (1, 1, 1)
    # The receipt sequence goes on after the restart instead of issuing a number again.
    assert next_receipt[-6:] == f"{int(receipt['receipt_number'][-6:]) + 1:06d}"


def test_a_damaged_state_file_stops_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / DATA_FILE).write_text('{"filings": {}}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a regulator sandbox state file"):
        RegulatorSandbox(api_key=KEY, data_dir=tmp_path)


def test_a_key_is_required() -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        RegulatorSandbox(api_key="  ")


def test_runs_in_the_foreground_with_the_data_folders_key(tmp_path: Path) -> None:
    """Without a configured key it uses the embedded default's, which the platform also reads."""
    env = {k: v for k, v in os.environ.items() if k != "TRADEFLOW_REGULATOR_API_KEY"}
    env |= {"TRADEFLOW_DATA_DIR": str(tmp_path / "data"), "TRADEFLOW_ENVIRONMENT": "embedded"}
    command = ["regulator", "--port", "0", "--data-dir", str(tmp_path / "regulator")]
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    number = new_number()
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("regulator sandbox listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1].strip()
        key = (tmp_path / "data" / "secrets" / "regulator-api-key").read_text().strip()
        with httpx.Client(base_url=url, timeout=5) as http:
            assert file(http, waybill_body(number)).status_code == 401
            http.headers["Authorization"] = f"Bearer {key}"
            assert file(http, waybill_body(number)).status_code == 201
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert number in (tmp_path / "regulator" / DATA_FILE).read_text(encoding="utf-8")
