"""What ``bench.large`` requests, who asks, and the bare SQL each is measured against.

Each baseline is the query a client holding the database would write for the same page: the
same filter and order through the index that serves it, the rows fetched and nothing else (no
authorisation, no decryption, no JSON). Searches the API makes tolerant (a folded carrier name,
a plate typed with any separators) are measured against the exact-match lookup of the value
found, the cheapest query returning those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select

from api.pagination import Keyset, page_statement
from api.routes import accreditation_reads, e_contracts, notifications, orders, tasks
from api.routes.regulator import LATEST_FILED_FIRST
from api.routes.waybill_search import WaybillFilters, search
from bench.large_data import BUYER, CARRIER, SUPPLIER
from contracts.accreditation import AccreditationStatus
from contracts.common import OPERATOR_ORG_ID, Actor, Role
from contracts.fulfilment import OrderStatus
from contracts.tasks import TaskStatus
from workbench.pages.registers_trade import CONTRACTS_ORDER

Run = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]
PAGE = 100


@dataclass(frozen=True)
class Case:
    label: str
    email: str
    path: str
    sql: str
    params: dict[str, str] = field(default_factory=dict)
    sql_params: dict[str, Any] = field(default_factory=dict)
    id_field: str | None = "id"
    items: str | None = None  # the answer's list is under this key
    limit: int = PAGE
    html_marker: str | None = None
    # The route's own statement (its query function, paged as the route pages): timed against
    # the bare SQL too, so the database's share is seen apart from the app's.
    statement: Select[Any] | None = None
    # The bare SQL of that statement alone, where the answer's rows take more (else ``sql``).
    statement_sql: str | None = None
    status: int = 200


BUYER_USER = "buyer@huadong.example"
SUPPLIER_USER = "supplier@hengxin.example"
CARRIER_USER = "manager@anda.example"
REGULATOR_USER = "inspector@regulator.example"
COMPLIANCE_USER = "compliance@tradeflow.example"
STAFF_USER = "supervisor@tradeflow.example"
ADMIN_USER = "admin@tradeflow.example"

ORDERS = "SELECT id, * FROM orders WHERE {where} ORDER BY created_at DESC, id LIMIT 100"
WAYBILLS = (
    "SELECT waybill_number, * FROM waybills {where} ORDER BY filed_at DESC, waybill_number "
    "LIMIT 100"
)
# A page of applications as the route answers it: each with its certificates and financial
# years (the route reads them in two statements more).
APPLICATIONS = (
    "SELECT a.id, a.*, c.*, s.* FROM (SELECT * FROM accreditation_applications {where} "
    "ORDER BY submitted_at DESC, id LIMIT 100) a LEFT JOIN application_certificates c "
    "ON c.application_id = a.id LEFT JOIN financial_statements s ON "
    "s.application_id = a.id ORDER BY a.submitted_at DESC, a.id"
)
# The registers' first pages (the workbench shows 100 rows and asks one more): staff's contracts
# newest first; the suppliers with their standings by next review; the cold trips latest
# picked up first, each with its last reading, read backwards from its release as a client
# knowing the readings' key would.
CONTRACTS_REGISTER = "SELECT id, * FROM contracts ORDER BY created_at DESC, id LIMIT 101"
CONTRACTS_AFTER = (
    "SELECT id, * FROM contracts "
    "WHERE created_at < %(at)s OR (created_at = %(at)s AND id > %(id)s) "
    "ORDER BY created_at DESC, id LIMIT 101"
)
SUPPLIERS_REGISTER = (
    "SELECT o.id, o.*, s.*, a.workflow_id, c.* FROM supplier_accreditations s "
    "JOIN organisations o ON o.id = s.supplier_org_id "
    "JOIN accreditation_applications a ON a.id = s.application_id "
    "LEFT JOIN LATERAL (SELECT count(*), min(expiry_date) FROM application_certificates "
    "WHERE application_id = s.application_id) c ON true "
    "WHERE o.kind = 'supplier' ORDER BY s.expires_on, s.supplier_org_id LIMIT 101"
)
COLD_CHAIN_REGISTER = (
    "SELECT t.id, t.*, r.* FROM (SELECT * FROM cold_trips ORDER BY started_at DESC NULLS FIRST, "
    "id LIMIT 101) t LEFT JOIN LATERAL (SELECT x.* FROM cold_logger_assignments a JOIN LATERAL "
    "(SELECT * FROM temperature_readings x WHERE x.logger_id = a.logger_id AND x.at <= "
    "coalesce(a.released_at, 'infinity') AND x.trip_id = t.id ORDER BY x.at DESC LIMIT 1) x "
    "ON true WHERE a.trip_id = t.id ORDER BY x.at DESC LIMIT 1) r ON true "
    "ORDER BY t.started_at DESC NULLS FIRST, t.id"
)
SHIPPER = Actor(user_id="usr_bench", org_id=BUYER, roles=(Role.BUYER,))
STAFF = Actor(user_id="usr_bench", org_id=OPERATOR_ORG_ID, roles=(Role.OPS_SUPERVISOR,))
COMPLIANCE = Actor(user_id="usr_bench", org_id=OPERATOR_ORG_ID, roles=(Role.COMPLIANCE,))


def _paged(keyset: Keyset, query: Select[Any], start: tuple[Any, ...] | None = None) -> Select[Any]:
    return page_statement(keyset, query, start, PAGE)


def _search(**given: Any) -> Select[Any]:
    names = WaybillFilters.__dataclass_fields__
    return _paged(LATEST_FILED_FIRST, search(WaybillFilters(**{n: given.get(n) for n in names})))


LIMIT = {"limit": str(PAGE)}


def _orders(label: str, email: str, where: str, actor: Actor | None = None, **params: str) -> Case:
    status = OrderStatus(params["status"]) if "status" in params else None
    query = orders.visible_orders(actor, status) if actor else None
    return Case(
        f"orders, {label}",
        email,
        "/orders",
        ORDERS.format(where=where),
        params={**LIMIT, **params},
        sql_params={"status": params.get("status")},
        id_field="order_id",
        statement=_paged(orders.NEWEST_FIRST, query) if query is not None else None,
    )


def cases(run: Run, *, deep_cursor: str, depth: int) -> list[Case]:
    """Every list and search, with sample values read from the seeded data."""
    ((carrier_name, plate, un),) = run(
        "SELECT carrier_name, vehicle_plate, un_numbers[1] FROM waybills "
        "ORDER BY filed_at DESC OFFSET 500 LIMIT 1",
        {},
    )
    ((trip_order, logger, start),) = run(
        "SELECT t.order_id, a.logger_id, t.started_at FROM cold_trips t "
        "JOIN cold_logger_assignments a ON a.trip_id = t.id ORDER BY t.id LIMIT 1",
        {},
    )
    ((code,),) = run("SELECT credit_code FROM organisations WHERE id = 'org_supplier_000777'", {})
    first_contract, first_supplier, first_trip = (
        run(sql, {})[0][0] for sql in (CONTRACTS_REGISTER, SUPPLIERS_REGISTER, COLD_CHAIN_REGISTER)
    )
    series = f"/orders/{trip_order}/shipments/1/temperature/series"
    # The contracts register's page 5,000 rows in (its 51st), by the cursor its links carry.
    ((deep_at, deep_id),) = run(
        "SELECT created_at, id FROM contracts ORDER BY created_at DESC, id OFFSET 4999 LIMIT 1", {}
    )
    deep_contracts = CONTRACTS_ORDER.encode(
        SimpleNamespace(Contract=SimpleNamespace(created_at=deep_at, id=deep_id))
    )
    deep_register = {"at": deep_at, "id": deep_id}
    first_deep_contract = run(CONTRACTS_AFTER, deep_register)[0][0]
    return [
        Case(
            "floor: the app answering at all, an authenticated 404 (GET /orders/{missing})",
            BUYER_USER,
            "/orders/ord_missing",
            "SELECT id, * FROM orders WHERE id = 'ord_missing'",
            id_field=None,
            status=404,
        ),
        _orders("a buyer's", BUYER_USER, f"buyer_org_id = '{BUYER}'", SHIPPER),
        _orders(
            "a buyer's in transit",
            BUYER_USER,
            f"buyer_org_id = '{BUYER}' AND status = %(status)s",
            status="in_transit",
        ),
        _orders("a supplier's", SUPPLIER_USER, f"supplier_org_id = '{SUPPLIER}'"),
        _orders("a carrier's", CARRIER_USER, f"carrier_org_id = '{CARRIER}'"),
        _orders(
            "staff's in transit", STAFF_USER, "status = %(status)s", STAFF, status="in_transit"
        ),
        Case(
            f"orders, staff's in transit, {depth:,} rows in",
            STAFF_USER,
            "/orders",
            "SELECT id FROM orders WHERE status = 'in_transit' "
            f"ORDER BY created_at DESC, id OFFSET {depth} LIMIT 100",
            params={**LIMIT, "status": "in_transit", "cursor": deep_cursor},
            id_field="order_id",
        ),
        Case(
            "tasks, compliance's open",
            COMPLIANCE_USER,
            "/tasks",
            "SELECT id, * FROM human_tasks WHERE org_id = 'org_tradeflow_ops' AND role = "
            "'compliance' AND status = 'open' ORDER BY coalesce(due_at, "
            "'9999-12-31 00:00:00+00'::timestamptz), created_at, id LIMIT 100",
            params=LIMIT,
            id_field="task_id",
            statement=_paged(
                tasks.OLDEST_DUE_FIRST, tasks.inbox_query(COMPLIANCE, TaskStatus.OPEN)
            ),
        ),
        Case(
            "tasks, a buyer's decided",
            BUYER_USER,
            "/tasks",
            f"SELECT id, * FROM human_tasks WHERE org_id = '{BUYER}' AND role = 'buyer' AND "
            "status = 'decided' ORDER BY coalesce(due_at, "
            "'9999-12-31 00:00:00+00'::timestamptz), created_at, id LIMIT 100",
            params={**LIMIT, "status": "decided"},
            id_field="task_id",
        ),
        Case(
            "notifications, a buyer's",
            BUYER_USER,
            "/notifications",
            f"SELECT id, * FROM notifications WHERE org_id = '{BUYER}' AND (role IS NULL OR role = "
            "'buyer') ORDER BY created_at DESC, id LIMIT 100",
            params=LIMIT,
            statement=_paged(
                notifications.NEWEST_FIRST, notifications.notifications_query(SHIPPER, None)
            ),
        ),
        Case(
            "notifications, a buyer's of a kind",
            BUYER_USER,
            "/notifications",
            f"SELECT id, * FROM notifications WHERE org_id = '{BUYER}' "
            "AND kind = 'order.confirmed' AND (role IS NULL OR role = 'buyer') "
            "ORDER BY created_at DESC, id LIMIT 100",
            params={**LIMIT, "kind": "order.confirmed"},
        ),
        Case(
            "regulator: waybills, latest",
            REGULATOR_USER,
            "/regulator/waybills",
            WAYBILLS.format(where=""),
            params=LIMIT,
            id_field="waybill_number",
            statement=_search(),
        ),
        Case(
            "regulator: by carrier, typed loosely",
            REGULATOR_USER,
            "/regulator/waybills",
            WAYBILLS.format(where="WHERE carrier_name = %(name)s"),
            params={**LIMIT, "carrier": " " + carrier_name.upper() + " "},
            sql_params={"name": carrier_name},
            id_field="waybill_number",
            statement=_search(carrier=" " + carrier_name.upper() + " "),
        ),
        Case(
            "regulator: by plate, without separators",
            REGULATOR_USER,
            "/regulator/waybills",
            WAYBILLS.format(where="WHERE vehicle_plate = %(plate)s"),
            params={**LIMIT, "vehicle_plate": plate.replace("·", "").lower()},
            sql_params={"plate": plate},
            id_field="waybill_number",
            statement=_search(vehicle_plate=plate.replace("·", "").lower()),
        ),
        Case(
            "regulator: by UN number",
            REGULATOR_USER,
            "/regulator/waybills",
            WAYBILLS.format(where="WHERE un_numbers @> ARRAY[%(un)s]::varchar[]"),
            params={**LIMIT, "un_number": un},
            sql_params={"un": un},
            id_field="waybill_number",
            statement=_search(un_number=un),
        ),
        Case(
            "accreditation: applications, all",
            COMPLIANCE_USER,
            "/accreditation/applications",
            APPLICATIONS.format(where=""),
            params=LIMIT,
            id_field="application_id",
        ),
        Case(
            "accreditation: applications under review",
            COMPLIANCE_USER,
            "/accreditation/applications",
            APPLICATIONS.format(where="WHERE status = 'under_review'"),
            params={**LIMIT, "status_filter": "under_review"},
            id_field="application_id",
            statement_sql="SELECT id, * FROM accreditation_applications "
            "WHERE status = 'under_review' ORDER BY submitted_at DESC, id LIMIT 100",
            statement=_paged(
                accreditation_reads.LATEST_FIRST,
                accreditation_reads.applications_query(STAFF, AccreditationStatus.UNDER_REVIEW),
            ),
        ),
        Case(
            "suppliers register searched by credit code (workbench)",
            COMPLIANCE_USER,
            "/workbench/registers/suppliers",
            "SELECT id, * FROM organisations WHERE credit_code = %(code)s",
            params={"q": code.lower()},
            sql_params={"code": code},
            id_field=None,
            html_marker='data-row="org_supplier_000777"',
        ),
        Case(
            "contracts, a buyer's",
            BUYER_USER,
            "/contracts",
            f"SELECT id, * FROM contracts WHERE buyer_org_id = '{BUYER}' "
            "ORDER BY created_at DESC, id LIMIT 100",
            params=LIMIT,
            id_field="contract_id",
            statement=_paged(
                e_contracts.NEWEST_FIRST, e_contracts.listed_contracts(SHIPPER, None, None)
            ),
        ),
        Case(
            "contracts register, staff's (workbench)",
            STAFF_USER,
            "/workbench/registers/contracts",
            CONTRACTS_REGISTER,
            id_field=None,
            html_marker=f'data-row="{first_contract}"',
        ),
        Case(
            "contracts register, staff's, 5,000 rows in (workbench)",
            STAFF_USER,
            "/workbench/registers/contracts",
            CONTRACTS_AFTER,
            params={"cursor": deep_contracts},
            sql_params=deep_register,
            id_field=None,
            html_marker=f'data-row="{first_deep_contract}"',
        ),
        Case(
            "suppliers register, by next review (workbench)",
            COMPLIANCE_USER,
            "/workbench/registers/suppliers",
            SUPPLIERS_REGISTER,
            id_field=None,
            html_marker=f'data-row="{first_supplier}"',
        ),
        Case(
            "cold-chain register, with each trip's last reading (workbench)",
            STAFF_USER,
            "/workbench/registers/cold-chain",
            COLD_CHAIN_REGISTER,
            id_field=None,
            html_marker=f'data-row="{first_trip}"',
        ),
        Case(
            "audit: entries of an action",
            ADMIN_USER,
            "/audit/entries",
            "SELECT id, * FROM audit_log WHERE action = 'contract.signed' ORDER BY id LIMIT 200",
            params={"action": "contract.signed", "limit": "200"},
            limit=200,
        ),
        Case(
            "audit: entries of a target",
            ADMIN_USER,
            "/audit/entries",
            "SELECT id, * FROM audit_log WHERE target_id = 'order_4242' ORDER BY id LIMIT 200",
            params={"target_id": "order_4242", "limit": "200"},
            limit=200,
        ),
        Case(
            "RFQs, a buyer's",
            BUYER_USER,
            "/rfqs",
            f"SELECT id, * FROM rfqs WHERE buyer_org_id = '{BUYER}' "
            "ORDER BY created_at DESC, id LIMIT 100",
            params=LIMIT,
            id_field="rfq_id",
        ),
        Case(
            "loans, a supplier's",
            SUPPLIER_USER,
            "/loans",
            f"SELECT id, * FROM loans WHERE supplier_org_id = '{SUPPLIER}' "
            "ORDER BY applied_at DESC, id LIMIT 100",
            params=LIMIT,
            id_field="loan_id",
        ),
        Case(
            "cold chain: a logger's readings",
            CARRIER_USER,
            series,
            "SELECT at, * FROM temperature_readings WHERE logger_id = %(logger)s "
            "AND at >= %(start)s ORDER BY at LIMIT 1000",
            params={"logger_id": logger, "limit": "1000"},
            sql_params={"logger": logger, "start": start},
            id_field=None,
            items="readings",
            limit=1000,
        ),
    ]
