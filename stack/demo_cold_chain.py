"""The cold-chain act of ``make demo``: the chilled reagent kits' trip, from logger to claim.

Jiangsu Anda carries the kits (Lianfeng has no logistics user to keep loggers and answer their
alerts, so the supplier names Anda as it does for the acetone). Anda's manager registers a
temperature logger, whose secret is shown this once; the pickup is refused until Anda's
dispatcher puts the logger on the shipment's trip. The demo cannot wait hours for a trip, so the
dispatcher reports the pickup three hours back and the logger posts those three hours, a reading
a minute, in hourly batches as a logger uploading over the mobile network does. Twenty minutes
into the second hour the reefer fails: its upload ends 40 minutes at about 11 °C, past the 2-8 °C
profile's 30-minute tolerance. The excursion's task opens for Anda's dispatcher with its figures
(the stability budget left and when it would be gone), the buyer and the supplier are notified,
and the same batch posted again stores nothing and opens no second task. The dispatcher has the
reefer restarted and acknowledges; the third hour's upload is back in range. On delivery the
excursion was within the stability budget and the MKT under 8 °C, so the buyer decides:
quarantine, then after inspection accept with a claim for the kits lost. The claim's credit
note comes off what the buyer owes; the trip's figures, a downsampled series, the temperature
report PDF (saved and read back) and the loss rates by carrier and by route are printed.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader

from stack.demo_carrier import CARRIER_MANAGER
from stack.demo_client import SAFETY, Caller, open_task, wait_for

HOURS = 3  # the trip the demo replays, backdated from now
# Minutes into the trip the reefer is down: to the end of the second hour's upload, 40 minutes.
FAILURE = range(80, 120)
# Either side of the failure; otherwise about 5 °C (sway in tenths, with no trend of its own).
RAMP = {78: Decimal("6.4"), 79: Decimal("7.6"), 120: Decimal("7.7"), 121: Decimal("6.3")}
SWAY = (0, 1, 2, 1, 0, -1, -2, -1)
LOST_SHARE = Decimal("0.08")  # of the kits, found spoilt at inspection
FIGURES_ROW = re.compile(r"^\d+ -?\d+\.\d\d °C ")  # a logger's row of the report's figures


@dataclass(frozen=True)
class Logger:
    """A registered logger and the secret it posts with (shown once, at registration)."""

    logger_id: str
    secret: str


@dataclass(frozen=True)
class ColdTrip:
    """A cold shipment with its logger on board; the trip runs from ``start`` for ``HOURS``."""

    order_id: str
    number: int
    logger: Logger
    zone: str
    start: datetime
    lines: tuple[Mapping[str, Any], ...]  # the shipment's temperature-controlled lines

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=HOURS)

    @property
    def path(self) -> str:
        return f"/orders/{self.order_id}/shipments/{self.number}/temperature"


def cold_lines(
    shipment: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> tuple[Mapping[str, Any], ...]:
    """The shipment's lines that carry a temperature range (none: an ordinary shipment)."""
    return tuple(
        x for x in lines if x.get("temperature") and x["line_id"] in shipment["quantities"]
    )


def equip(
    base: str,
    dispatcher: Caller,
    order_id: str,
    number: int,
    lines: Sequence[Mapping[str, Any]],
    *,
    origin: str,
) -> ColdTrip:
    """A pickup tried with no logger on board is refused; the carrier registers a new logger
    (ids are unique: one each round) and puts it on the shipment's trip."""
    tried = dispatcher.http.post(
        f"/orders/{order_id}/shipments/{number}/events",
        json={"kind": "picked_up", "at": datetime.now(UTC).isoformat(), "location": origin},
    )
    if tried.status_code != 422:
        raise SystemExit(f"a cold pickup with no logger → {tried.status_code} {tried.text}")
    print(f"{dispatcher.email}: pickup with no logger → {tried.status_code} {_problem(tried)}")
    manager = Caller(base, CARRIER_MANAGER)
    logger_id = f"ANDA-TT4-{datetime.now(UTC):%Y%m%d%H%M%S}-S{number}"
    registered = manager.call(
        "POST", "/cold-chain/loggers", json={"logger_id": logger_id, "model": "Testo 184 T4"}
    )
    logger = Logger(logger_id, registered["secret"])
    print(
        f"{manager.email}: registers logger {logger_id} ({registered['model']}); its secret "
        f"({len(logger.secret)} characters) is shown this once, and the device keeps it"
    )
    trip = dispatcher.call("GET", f"/orders/{order_id}/shipments/{number}/temperature")
    zone = trip["zones"][0]  # the kits' one zone
    assigned = dispatcher.call(
        "POST",
        f"/orders/{order_id}/shipments/{number}/loggers",
        json={"logger_id": logger_id, "zone": zone["zone"]},
    )
    print(
        f"{dispatcher.email}: puts {logger_id} on trip {assigned['trip_id']}, zone "
        f"{zone['label']} (tolerance {zone['single_tolerance_s'] // 60} min, stability budget "
        f"{zone['cumulative_tolerance_s'] // 60} min, silence allowed "
        f"{zone['max_silence_s'] // 60} min)"
    )
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=HOURS)
    print(f"the demo replays a trip picked up {HOURS} h ago, at {start:%H:%M} UTC")
    return ColdTrip(order_id, number, logger, zone["zone"], start, tuple(lines))


def _problem(answer: httpx.Response) -> str:
    body = answer.json()
    named = "; ".join(f"{e['field']}: {e['rule']}" for e in body.get("errors", []))
    return named or str(body.get("detail", ""))


def celsius(minute: int) -> Decimal:
    """The kits' zone, ``minute`` minutes into the trip."""
    sway = Decimal(SWAY[minute % len(SWAY)]) / 10
    if minute in FAILURE:
        return Decimal(11) + sway
    return RAMP.get(minute, Decimal(5) + sway)


def batch(trip: ColdTrip, hour: int) -> dict[str, Any]:
    """The logger's upload of the trip's ``hour``: a reading a minute."""
    readings = [
        {"at": (trip.start + timedelta(minutes=m)).isoformat(), "celsius": str(celsius(m))}
        for m in range(60 * hour, 60 * (hour + 1))
    ]
    return {"logger_id": trip.logger.logger_id, "readings": readings}


def _alerts(dispatcher: Caller, order_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = dispatcher.call(
        "GET", "/tasks", params={"kind": "cold_chain_alert", "subject_id": order_id}
    )
    return [t for t in found if t["details"]["alert"].startswith("excursion:")]


def drive(base: str, trip: ColdTrip, dispatcher: Caller, buyer: Caller) -> None:
    """The logger's batches on the road: the excursion's task, a resent batch, the answer."""
    logger = trip.logger
    device = httpx.Client(
        base_url=base,
        timeout=60,
        headers={"Authorization": f"Logger {logger.logger_id}:{logger.secret}"},
    )

    def post(hour: int) -> dict[str, Any]:
        answer = device.post("/cold-chain/readings", json=batch(trip, hour))
        if answer.status_code != 202:
            raise SystemExit(f"{logger.logger_id}: readings → {answer.status_code} {answer.text}")
        stored: dict[str, Any] = answer.json()
        first, last = trip.start + timedelta(hours=hour), trip.start + timedelta(hours=hour + 1)
        print(
            f"{logger.logger_id}: uploads {first:%H:%M} to {last:%H:%M} UTC → stored "
            f"{stored['stored']}, already held {stored['duplicates']}"
        )
        return stored

    post(0)
    posted = time.monotonic()
    post(1)
    task = wait_for(
        "the excursion's task", lambda: next(iter(_alerts(dispatcher, trip.order_id)), None)
    )
    print(
        f"{dispatcher.email}: task opened {time.monotonic() - posted:.1f} s after the upload: "
        f"{task['title']}\n  {task['summary']}\n  chart: {task['details']['chart']}"
    )
    notified = wait_for(
        "the buyer's notification",
        lambda: [
            n
            for n in buyer.call("GET", "/notifications", params={"kind": "cold_chain_alert"})
            if n["subject_id"] == trip.order_id
        ],
    )
    print(f"{buyer.email} notified: {notified[0]['message'][:160]}…")
    post(1)  # the same upload again, as a logger retrying on a bad connection does
    print(f"excursion tasks open for the order: {len(_alerts(dispatcher, trip.order_id))}")
    answer = dispatcher.call(
        "POST",
        f"/tasks/{task['task_id']}/decision",
        json={
            "outcome": "acknowledge",
            "comment": "嘉兴服务区重启冷机 reefer restarted at the Jiaxing service area",
        },
    )
    print(f"{dispatcher.email}: acknowledges → {answer['process_status']}")
    post(2)


def dispose(trip: ColdTrip, buyer: Caller, out: Path) -> None:
    """On delivery: the buyer quarantines, then claims what inspection found spoilt; the trip's
    figures, series and report, and what the buyer owes after the credit."""
    order_id = trip.order_id
    task = open_task(buyer, "cold_chain_disposition", order_id)
    print(f"{buyer.email}: {task['title']}\n  {task['summary'].split('. Lines')[0]}")
    answer = buyer.call(
        "POST", f"/tasks/{task['task_id']}/decision", json={"outcome": "quarantine"}
    )
    print(f"{buyer.email}: quarantine → {answer['process_status']}")
    task = open_task(buyer, "cold_chain_inspection", order_id)
    lost = {
        f"lost:{x['line_id']}": str((Decimal(x["quantity"]) * LOST_SHARE).to_integral_value())
        for x in trip.lines
    }
    answer = buyer.call(
        "POST",
        f"/tasks/{task['task_id']}/decision",
        json={
            "outcome": "accept_with_claim",
            "comment": "检验 部分试剂盒效价不合格 inspection: kits failed the potency check",
            "choices": lost,
        },
    )
    print(f"{buyer.email}: inspection, accept_with_claim {lost} → {answer['message']}")

    def decided() -> Any:
        view = buyer.call("GET", trip.path)
        return view if view["status"] == "decided" else None

    view = wait_for("the trip's decision", decided)
    value = view["loss_value"]
    print(
        f"claim: {value['currency']} {value['amount']}, liable {view['liable']} "
        f"({view['liable_org_id']}); credit note {view['credit_note_id']}"
    )
    order = buyer.call("GET", f"/orders/{order_id}")
    credited = order.get("credited") or {"amount": "—"}
    print(
        f"order {order_id}: total {order['total']['amount']}, credited {credited['amount']}, "
        f"outstanding {order['outstanding']['amount']} {order['outstanding']['currency']}"
    )
    _figures(view, buyer, trip)
    _report(buyer, trip, out)


def _figures(view: Mapping[str, Any], buyer: Caller, trip: ColdTrip) -> None:
    for x in view["figures"]["loggers"]:
        print(
            f"figures {x['logger_id']}: {x['readings']} readings, min {x['min_celsius']} °C, "
            f"max {x['max_celsius']} °C, mean {x['mean_celsius']} °C, MKT {x['mkt_celsius']} °C, "
            f"out of range {x['time_out_of_range_s'] // 60} min, budget left "
            f"{x['budget_left_s'] // 60} min; verdict {x['verdict']} ({', '.join(x['reasons'])})"
        )
    for run in view["figures"]["runs"]:
        kind = "excursion" if run["is_excursion"] else "outside"
        print(
            f"  {kind}: {run['side']} {run['start'][11:16]} to {run['end'][11:16]} UTC, "
            f"{run['duration_s'] // 60} min, peak {run['peak_celsius']} °C"
        )
    series = buyer.call(
        "GET",
        f"{trip.path}/series",
        params={"logger_id": trip.logger.logger_id, "bucket": 1800},
    )
    print("series in 30-minute buckets (readings, min / mean / max °C):")
    for b in series["buckets"]:
        print(
            f"  {b['start'][11:16]} UTC  {b['readings']:>3}  {b['min_celsius']:>6} / "
            f"{Decimal(b['mean_celsius']):6.2f} / {b['max_celsius']:>6}"
        )


def _report(buyer: Caller, trip: ColdTrip, out: Path) -> None:
    """The temperature report, saved and read back: a few of its figures."""
    pdf: bytes = buyer.call("GET", f"{trip.path}/report")
    path = out / f"temperature-report-{trip.order_id}-S{trip.number}.pdf"
    path.write_bytes(pdf)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    print(f"temperature report saved {path} ({len(pdf)} bytes); it reads:")
    wanted = ("Rules' verdict", "Accept with claim", "Lost quantities", "Claim", "Credit note")
    for line in text.splitlines():
        if FIGURES_ROW.match(line):
            print(f"  figures (readings, min, max, mean, MKT, in range, out, budget left): {line}")
        elif any(w in line for w in wanted):
            print(f"  {line.strip()}")


def loss_rates(base: str) -> None:
    """Loss rates of the decided trips by carrier and by route, as the platform sees them."""
    platform = Caller(base, SAFETY)
    for by in ("carrier", "route"):
        for rate in platform.call("GET", "/cold-chain/loss-rates", params={"by": by}):
            value = ", ".join(f"{m['currency']} {m['amount']}" for m in rate["loss_value"])
            print(
                f"{by} {rate['key'] or '(supplier shipped itself)'}: {rate['trips']} trips, "
                f"lost {rate['lost']} of {rate['shipped']}, rate {rate['loss_rate']}, "
                f"value {value or '—'}"
            )
