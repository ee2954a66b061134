"""The large dataset's rows, written by PostgreSQL itself (``INSERT ... SELECT generate_series``).

Sizes at ``--scale 1.0`` are issue 13's: a million orders over three years, 100,000 suppliers
with their accreditation, ten million audit entries (``bench.large_audit``), five million
cold-chain readings. Each table is one statement over ``generate_series`` with ``random()``
seeded once, so a run writes millions of rows in minutes rather than hours of ORM inserts; the
encrypted columns are written by ``bench.large_secrets`` through the same column type.

The demo organisations (``db.seed``) take a realistic big customer's share, so the benchmark's
callers see lists of the size a busy buyer, supplier, carrier, regulator and compliance officer
do: Huadong buys 2% of the orders, Hengxin supplies 1%, Anda carries 5% of the carried ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from contracts.common import OPERATOR_ORG_ID
from db.seed import DEMO_CARRIER_ID

BUYER = "org_demo_buyer_huadong"
SUPPLIER = "org_demo_supplier_hengxin"
REGULATOR = "org_demo_regulator"
CARRIER = DEMO_CARRIER_ID
YEARS = 3


@dataclass(frozen=True)
class Sizes:
    """How many rows of each kind; ``Sizes.at(1.0)`` is the issue's dataset."""

    orders: int
    suppliers: int
    buyers: int
    carriers: int
    audit: int
    readings: int
    tasks: int
    notifications: int
    loans: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def n(full: int, least: int = 10) -> int:
            return max(least, round(full * scale))

        return cls(
            orders=n(1_000_000),
            suppliers=n(100_000),
            buyers=n(2_000),
            carriers=n(500),
            audit=n(10_000_000),
            readings=n(5_000_000),
            tasks=n(1_000_000),
            notifications=n(2_000_000),
            loans=n(20_000),
        )

    @property
    def rfqs(self) -> int:
        return max(1, self.orders // 4)  # an RFQ awards about four contracts

    @property
    def trips(self) -> int:
        return max(1, self.readings // 5_000)  # five days at a reading a minute and a half


# Statuses weighted as a platform three years old has them: most orders done long ago.
ORDER_STATUSES = (
    ("completed", 0.62),
    ("invoiced", 0.08),
    ("cancelled", 0.05),
    ("refused", 0.02),
    ("delivered", 0.05),
    ("in_transit", 0.06),
    ("disputed", 0.01),
    ("ready_to_dispatch", 0.02),
    ("confirmed", 0.03),
    ("awaiting_waybill", 0.02),
    ("awaiting_confirmation", 0.04),
)
TASK_STATUSES = (("decided", 0.93), ("expired", 0.02), ("cancelled", 0.02), ("open", 0.03))


def pick(weights: tuple[tuple[str, float], ...], draw: str) -> str:
    """A SQL CASE choosing a value by its weight from one uniform draw: a column of the row
    (a subquery's ``random()`` would be drawn once for every row)."""
    total = sum(w for _, w in weights)
    arms, edge = [], 0.0
    for value, weight in weights[:-1]:
        edge += weight / total
        arms.append(f"WHEN r < {edge:.6f} THEN '{value}'")
    return f"CASE {' '.join(arms)} ELSE '{weights[-1][0]}' END".replace(
        "WHEN r <", f"WHEN {draw} <"
    )


def _org_of(kind: str, count: int, draw: str) -> str:
    return f"'org_{kind}_' || lpad((1 + floor({draw} * {count}))::int::text, 6, '0')"


def _share(org_id: str, share: float, otherwise: str) -> str:
    """``org_id`` for ``share`` of the rows, ``otherwise`` for the rest."""
    return f"CASE WHEN random() < {share} THEN '{org_id}' ELSE {otherwise} END"


AGO = f"now() - (random() * interval '{YEARS * 365} days')"


def write_organisations(conn: Connection, s: Sizes) -> None:
    """Buyers, suppliers and carriers: a credit code each (unique, 18 characters)."""
    for kind, count, prefix, name in (
        ("buyer", s.buyers, "B", "贸易有限公司"),
        ("supplier", s.suppliers, "S", "化工有限公司"),
        ("carrier", s.carriers, "C", "危险品运输有限公司"),
    ):
        conn.execute(
            text(
                "INSERT INTO organisations (id, kind, legal_name, name_en, credit_code, "
                "registered_address, deducts_input_vat, created_at) "
                f"SELECT 'org_{kind}_' || lpad(i::text, 6, '0'), '{kind}', "
                f"(ARRAY['江苏','浙江','广东','山东','上海','四川'])[1 + i % 6] || '第' || i || "
                f"'号{name}', 'Large {kind} ' || i || ' Co., Ltd.', "
                f"'9{prefix}' || lpad(i::text, 16, '0'), '某省某市某路' || i || '号', "
                f"i % 5 <> 0, {AGO} FROM generate_series(1, {count}) i"
            )
        )


def write_sourcing(conn: Connection, s: Sizes) -> None:
    """RFQs and the contracts they awarded, one contract an order."""
    buyer = _share(BUYER, 0.02, _org_of("buyer", s.buyers, "random()"))
    conn.execute(
        text(
            "INSERT INTO rfqs (id, buyer_org_id, workflow_id, title, status, status_reason, "
            "sealed, "
            "currency, quote_deadline, needed_by, body, created_by, created_at, updated_at) "
            f"SELECT 'rfq_l' || i, {buyer}, 'rfq:rfq_l' || i, '采购 ' || i, "
            f"{pick((('completed', 0.9), ('lapsed', 0.05), ('open', 0.05)), 'r')}, '', "
            "false, 'CNY', "
            "t + interval '7 days', (t + interval '30 days')::date, '{}'::jsonb, 'usr_large', t, t "
            f"FROM (SELECT i, {AGO} t, random() r FROM generate_series(1, {s.rfqs}) i) g"
        )
    )
    supplier = (
        f"CASE WHEN random() < 0.01 THEN '{SUPPLIER}' "
        f"ELSE {_org_of('supplier', s.suppliers, 'random()')} END"
    )
    conn.execute(
        text(
            "INSERT INTO contracts (id, rfq_id, workflow_id, buyer_org_id, supplier_org_id, "
            "status, "
            "status_reason, terms, total_amount, currency, approvals, executed_at, created_at, "
            "updated_at) "
            f"SELECT 'ctr_l' || i, r.id, 'contract:ctr_l' || i, r.buyer_org_id, {supplier}, "
            "'executed', '', '{}'::jsonb, round((500 + random() * 500000)::numeric, 2), 'CNY', "
            "'[]'::jsonb, r.created_at + interval '9 days', r.created_at + interval '8 days', "
            "r.created_at + interval '9 days' "
            f"FROM generate_series(1, {s.orders}) i JOIN rfqs r ON r.id = 'rfq_l' || (1 + i "
            f"% {s.rfqs})"
        )
    )


def write_orders(conn: Connection, s: Sizes) -> None:
    """One order a contract: a status mix, a fifth dangerous goods, most carried."""
    carrier = (
        f"CASE WHEN random() < 0.05 THEN '{CARRIER}' "
        f"ELSE {_org_of('carrier', s.carriers, 'random()')} END"
    )
    conn.execute(
        text(
            "INSERT INTO orders (id, contract_id, workflow_id, buyer_org_id, supplier_org_id, "
            "status, status_reason, dangerous_goods, total_amount, currency, paid_amount, "
            "carrier_org_id, created_at, updated_at) "
            "SELECT 'ord_' || c.id, c.id, 'order:ord_' || c.id, c.buyer_org_id, "
            f"c.supplier_org_id, {pick(ORDER_STATUSES, 'c.r')}, '', random() < 0.2, "
            "c.total_amount, "
            "'CNY', 0, CASE WHEN random() < 0.85 THEN " + carrier + " END, "
            "c.executed_at, c.executed_at "
            "FROM (SELECT *, random() r FROM contracts WHERE id LIKE 'ctr_l%') c"
        )
    )


def write_waybills(conn: Connection) -> None:
    """Every dangerous-goods order past its filing has a filed e-waybill, with its two stored
    documents (JSON and PDF) as rows of ``documents``."""
    conn.execute(
        text(
            "CREATE TEMP TABLE large_waybills ON COMMIT DROP AS "
            "SELECT o.id AS order_id, 'WB' || substr(md5(o.id), 1, 14) AS number, "
            "o.carrier_org_id, o.supplier_org_id, o.status, o.created_at + interval '3 days' AS "
            "filed_at FROM orders o WHERE o.dangerous_goods AND o.carrier_org_id IS NOT NULL "
            "AND o.status IN ('in_transit','delivered','invoiced','completed','disputed',"
            "'ready_to_dispatch')"
        )
    )
    for kind, ext in (("json", "json"), ("pdf", "pdf")):
        conn.execute(
            text(
                "INSERT INTO documents (id, org_id, kind, sha256, object_key, filename, "
                "content_type, size, created_by, created_at) "
                f"SELECT 'doc_{kind}_' || number, carrier_org_id, 'waybill_{kind}', "
                f"encode(sha256(('{kind}' || number)::bytea), 'hex'), "
                f"'sha256/' || encode(sha256(('{kind}' || number)::bytea), 'hex'), "
                f"number || '.{ext}', 'application/{ext}', 4096, 'usr_large', filed_at "
                "FROM large_waybills"
            )
        )
    status = (
        "CASE WHEN w.status = 'in_transit' THEN 'departed' WHEN w.status = 'ready_to_dispatch' "
        "THEN 'filed' ELSE 'delivered' END"
    )
    conn.execute(
        text(
            "INSERT INTO waybills (waybill_number, order_id, status, receipt_number, filed_at, "
            "dispatch_date, consignor_name, consignee_name, carrier_name, vehicle_plate, "
            "un_numbers, hazard_classes, record, json_document_id, json_sha256, pdf_document_id, "
            "pdf_sha256, made_by_org_id, made_by) "
            f"SELECT w.number, w.order_id, {status}, 'RCPT' || w.number, w.filed_at, "
            "(w.filed_at AT TIME ZONE 'Asia/Shanghai')::date, s.legal_name, '收货单位', "
            "c.legal_name, (ARRAY['苏','浙','粤','鲁'])[1 + abs(hashtext(w.number)) % 4] || "
            "chr(65 + abs(hashtext(w.number || 'p')) % 26) || '·' || "
            "lpad((abs(hashtext(w.number || 'n')) % 100000)::text, 5, '0'), "
            "ARRAY['UN' || (1000 + abs(hashtext(w.number)) % 2500)], "
            "ARRAY[(ARRAY['3','8','2.1','6.1','5.1','4.1'])[1 + abs(hashtext(w.number)) % 6]], "
            "'{}'::jsonb, 'doc_json_' || w.number, "
            "encode(sha256(('json' || w.number)::bytea), 'hex'), 'doc_pdf_' || w.number, "
            "encode(sha256(('pdf' || w.number)::bytea), 'hex'), w.carrier_org_id, '调度员' "
            "FROM large_waybills w JOIN organisations s ON s.id = w.supplier_org_id "
            "JOIN organisations c ON c.id = w.carrier_org_id"
        )
    )
    conn.execute(
        text(
            "INSERT INTO waybill_filings (waybill_number, kind, receipt, at) "
            "SELECT number, 'filed', 'RCPT' || number, filed_at FROM large_waybills"
        )
    )


def write_tasks(conn: Connection, s: Sizes) -> None:
    """Human tasks: buyers' approvals, suppliers' confirmations, compliance's reviews at the
    platform; three in a hundred still open, due within a fortnight or undated; the decided
    ones decided (approved, one in ten refused) within three days, by someone of the org."""
    org = (
        f"CASE WHEN r < 0.3 THEN '{BUYER}' WHEN r < 0.45 THEN '{OPERATOR_ORG_ID}' "
        f"WHEN r < 0.7 THEN {_org_of('buyer', s.buyers, 'random()')} "
        f"ELSE {_org_of('supplier', s.suppliers, 'random()')} END"
    )
    role = (
        "CASE WHEN r < 0.3 THEN 'buyer' WHEN r < 0.45 THEN 'compliance' "
        "WHEN r < 0.7 THEN 'finance' ELSE 'supplier' END"
    )
    conn.execute(
        text(
            "INSERT INTO human_tasks (id, workflow_id, kind, role, org_id, subject_type, "
            "subject_id, title, summary, outcomes, document_ids, details, excluded_user_ids, "
            "status, due_at, expires_at, created_at, outcome, decided_by, decided_at) "
            "SELECT *, CASE WHEN status = 'decided' THEN CASE WHEN random() < 0.1 THEN 'reject' "
            "ELSE 'approve' END END, CASE WHEN status = 'decided' THEN 'usr_large_decider' END, "
            "CASE WHEN status = 'decided' THEN least(now(), created_at + random() * "
            "interval '72 hours') END FROM ("
            "SELECT 'task_l' || i, 'order:ord_ctr_l' || i, "
            "(ARRAY['approve_order','confirm_order','review_application'])[1 + i % 3], "
            f"{role}, {org}, 'order', 'ord_ctr_l' || i, '审批 ' || i, '', "
            "ARRAY['approve','reject'], ARRAY[]::varchar[], '{}'::jsonb, ARRAY[]::varchar[], "
            f"{pick(TASK_STATUSES, 'q')} AS status, CASE WHEN random() < 0.8 THEN "
            "t + interval '14 days' END, NULL::timestamptz, t AS created_at "
            f"FROM (SELECT i, random() r, random() q, {AGO} AS t "
            f"FROM generate_series(1, {s.tasks}) i) x) y"
        )
    )


def write_notifications(conn: Connection, s: Sizes) -> None:
    org = _share(BUYER, 0.02, _org_of("buyer", s.buyers, "random()"))
    conn.execute(
        text(
            "INSERT INTO notifications (id, org_id, role, kind, subject_type, subject_id, message, "
            "created_at) "
            f"SELECT 'ntf_l' || i, {org}, "
            "(ARRAY[NULL,'buyer','finance'])[1 + i % 3], "
            "(ARRAY['order.confirmed','order.delivered','invoice.issued','rfq.lapsed'])"
            "[1 + i % 4], 'order', 'ord_ctr_l' || (1 + i % 1000), '订单状态更新 ' || i, "
            f"{AGO} FROM generate_series(1, {s.notifications}) i"
        )
    )


def write_loans(conn: Connection, s: Sizes) -> None:
    conn.execute(
        text(
            "INSERT INTO loans (id, order_id, supplier_org_id, buyer_org_id, workflow_id, status, "
            "status_reason, currency, amount, term_days, purpose, approved_by, "
            "registration_released, principal_owed, fee_owed, interest_owed, penalty_owed, "
            "applied_by, "
            "written_off, applied_at) "
            "SELECT 'loan_l' || o.id, o.id, o.supplier_org_id, o.buyer_org_id, 'loan:' || o.id, "
            "(ARRAY['repaid','repaid','repaid','disbursed','refused','withdrawn'])"
            "[1 + abs(hashtext(o.id)) % 6], '', 'CNY', round(o.total_amount * 0.7, 2), 60, '', "
            "ARRAY[]::varchar[], false, 0, 0, 0, 0, 'usr_large', 0, o.created_at + interval "
            "'2 days' "
            f"FROM orders o WHERE o.supplier_org_id = '{SUPPLIER}' OR random() < "
            f"{s.loans / max(1, s.orders):.6f}"
        )
    )


def write_readings(conn: Connection, s: Sizes) -> None:
    """Cold trips on Lianfeng-style orders, a logger each, and five thousand readings a trip."""
    conn.execute(
        text(
            "INSERT INTO cold_loggers (id, owner_org_id, model, secret_sha256, registered_by, "
            "registered_at) "
            f"SELECT 'LG' || lpad(i::text, 7, '0'), '{CARRIER}', 'TL-200', repeat('0', 64), "
            f"'usr_large', now() FROM generate_series(1, {s.trips}) i"
        )
    )
    conn.execute(
        text(
            "CREATE TEMP TABLE large_trips ON COMMIT DROP AS SELECT row_number() OVER () AS n, "
            "id, created_at FROM (SELECT o.id, o.created_at FROM orders o "
            f"WHERE o.carrier_org_id = '{CARRIER}' ORDER BY o.id LIMIT {s.trips}) o"
        )
    )
    conn.execute(
        text(
            "INSERT INTO cold_trips (id, order_id, shipment, status, plan, carrier_org_id, route, "
            "started_at, arrived_at) "
            "SELECT t.id || '-S1', t.id, 1, 'arrived', '{\"zones\": []}'::jsonb, "
            f"'{CARRIER}', '上海 → 南京', t.created_at, t.created_at + interval '5 days' "
            "FROM large_trips t"
        )
    )
    conn.execute(
        text(
            "INSERT INTO cold_logger_assignments (trip_id, logger_id, zone, assigned_by, "
            "assigned_at) SELECT t.id || '-S1', 'LG' || lpad(t.n::text, 7, '0'), 'chilled', "
            "'usr_large', t.created_at FROM large_trips t"
        )
    )
    conn.execute(
        text(
            "INSERT INTO temperature_readings (logger_id, at, trip_id, celsius, humidity) "
            "SELECT 'LG' || lpad(t.n::text, 7, '0'), t.created_at + k * interval '86 seconds', "
            "t.id || '-S1', round((4 + 2 * sin(k / 300.0) + random())::numeric, 2), "
            "round((60 + random() * 20)::numeric, 2) "
            "FROM large_trips t CROSS JOIN generate_series(1, 5000) k"
        )
    )
