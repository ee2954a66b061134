"""The hot lists' plans read the index built for them (migration 0017), never the whole table.

Each query is built by the function its route calls (``visible_orders``, ``inbox_query``,
``notifications_query``, the regulator's ``search``, ``applications_query``,
``listed_contracts``, ``listed_loans``, the suppliers register's ``suppliers_query``) and paged by
``api.pagination.page_statement``, the statement the route runs, then EXPLAINed (FORMAT JSON).
On a test database of a few rows PostgreSQL would rightly read the table itself, so sequential
scans are priced out (``enable_seqscan = off``) and, for the lists read in index order, sorts too
(``enable_sort = off``): a plan that still shows a Seq Scan or a Sort has no index for it, which
is what fails. An incremental sort (the id tie-break after an index's ``created_at``) is allowed.
The N+1 check counts the statements an accreditation list issues, whatever its length.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Select, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from api.pagination import Keyset, page_statement
from api.routes import accreditation_reads, e_contracts, loans, notifications, orders, tasks
from api.routes.regulator import LATEST_FILED_FIRST
from api.routes.waybill_search import WaybillFilters, search
from contracts.accreditation import AccreditationStatus
from contracts.common import OPERATOR_ORG_ID, Actor, Role
from contracts.fulfilment import OrderStatus
from contracts.sourcing import ContractStatus
from contracts.tasks import TaskStatus
from db.models import (
    NEVER_DUE,
    AccreditationApplication,
    ApplicationCertificate,
    FinancialStatement,
)
from security.keys import KeyRing
from tests.harness import listings
from tests.harness.builders import make_org
from tests.harness.postgres import fresh_sessions
from workbench.metrics_ops import accepted_filings, decided_tasks
from workbench.pages.registers import SUPPLIERS_ORDER, suppliers_query

BUYER = Actor(user_id="usr_plan_buyer", org_id="org_plan_buyer", roles=(Role.BUYER,))
CARRIER = Actor(user_id="usr_plan_carrier", org_id="org_plan_carrier", roles=(Role.CARRIER,))
STAFF = Actor(user_id="usr_plan_ops", org_id=OPERATOR_ORG_ID, roles=(Role.OPS_SUPERVISOR,))
COMPLIANCE = Actor(user_id="usr_plan_c", org_id=OPERATOR_ORG_ID, roles=(Role.COMPLIANCE,))
SUPPLIER = Actor(user_id="usr_plan_supplier", org_id="org_plan_supplier", roles=(Role.SUPPLIER,))
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module", name="sessions")
def own_sessions(
    database_url: str, keyring: KeyRing, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    """A database of the module's own: where two indexes would serve, the planner's choice
    follows the tables' statistics, which other modules' rows on the worker's database move
    (the orders' by created_at alone won over the buyer's when the suite ran in another order)."""
    with fresh_sessions(tmp_path_factory.mktemp("plans"), server_url=database_url) as sessions:
        yield sessions


def _plan(session: Session, statement: Select[Any], *, ordered: bool) -> list[dict[str, Any]]:
    """The plan's nodes, flattened, with sequential scans (and sorts, when ``ordered``) priced
    out so only a missing index can leave one in."""
    session.execute(select(1))  # a transaction for SET LOCAL
    session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
    if ordered:
        session.connection().exec_driver_sql("SET LOCAL enable_sort = off")
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    (document,) = (
        session.connection()
        .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        .one()
    )
    nodes, pending = [], [document[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    session.rollback()
    return nodes


def _check(
    sessions: sessionmaker[Session],
    keyset: Keyset,
    query: Select[Any],
    index: str,
    *,
    ordered: bool = True,
    start: tuple[Any, ...] | None = None,
) -> list[dict[str, Any]]:
    with sessions() as session:
        nodes = _plan(session, page_statement(keyset, query, start, 100), ordered=ordered)
    kinds = [node["Node Type"] for node in nodes]
    assert "Seq Scan" not in kinds, kinds
    if ordered:
        assert "Sort" not in kinds, kinds
    assert index in {node.get("Index Name") for node in nodes}, nodes
    return nodes


# Each side's list newest first, and staff's by status or all: orders (migration 0017),
# contracts and loans (0036).
NEWEST_FIRST_LISTS: dict[str, tuple[Keyset, Select[Any], str]] = {
    "orders, a buyer's": (
        orders.NEWEST_FIRST,
        orders.visible_orders(BUYER, None),
        "ix_orders_buyer_created",
    ),
    "orders, a carrier's": (
        orders.NEWEST_FIRST,
        orders.visible_orders(CARRIER, None),
        "ix_orders_carrier_created",
    ),
    "orders, staff's of a status": (
        orders.NEWEST_FIRST,
        orders.visible_orders(STAFF, OrderStatus.IN_TRANSIT),
        "ix_orders_status_created",
    ),
    "orders, staff's": (
        orders.NEWEST_FIRST,
        orders.visible_orders(STAFF, None),
        "ix_orders_created",
    ),
    "contracts, a buyer's": (
        e_contracts.NEWEST_FIRST,
        e_contracts.listed_contracts(BUYER, None, None),
        "ix_contracts_buyer_created",
    ),
    "contracts, a supplier's": (
        e_contracts.NEWEST_FIRST,
        e_contracts.listed_contracts(SUPPLIER, None, None),
        "ix_contracts_supplier_created",
    ),
    "contracts, staff's of a status": (
        e_contracts.NEWEST_FIRST,
        e_contracts.listed_contracts(STAFF, None, ContractStatus.EXECUTED),
        "ix_contracts_status_created",
    ),
    "contracts, staff's": (
        e_contracts.NEWEST_FIRST,
        e_contracts.listed_contracts(STAFF, None, None),
        "ix_contracts_created",
    ),
    "loans, a supplier's": (
        loans.NEWEST_FIRST,
        loans.listed_loans(SUPPLIER, None, None),
        "ix_loans_supplier_applied",
    ),
    "loans, staff's": (
        loans.NEWEST_FIRST,
        loans.listed_loans(STAFF, None, None),
        "ix_loans_applied",
    ),
}


@pytest.mark.parametrize("listed", list(NEWEST_FIRST_LISTS))
def test_a_newest_first_list_reads_its_index_in_order(
    sessions: sessionmaker[Session], listed: str
) -> None:
    keyset, query, index = NEWEST_FIRST_LISTS[listed]
    _check(sessions, keyset, query, index)


def test_a_deep_page_of_orders_starts_the_index_scan_at_its_cursor(
    sessions: sessionmaker[Session],
) -> None:
    query = orders.visible_orders(BUYER, None)
    start = (MOMENT, "ord_x")
    nodes = _check(sessions, orders.NEWEST_FIRST, query, "ix_orders_buyer_created", start=start)
    scan = next(n for n in nodes if n.get("Index Name") == "ix_orders_buyer_created")
    assert "created_at <=" in scan["Index Cond"], scan


def test_the_task_inbox_reads_its_index_in_due_order(sessions: sessionmaker[Session]) -> None:
    query = tasks.inbox_query(COMPLIANCE, TaskStatus.OPEN)
    _check(sessions, tasks.OLDEST_DUE_FIRST, query, "ix_human_tasks_due")
    deep = (NEVER_DUE, MOMENT, "task_x")
    _check(sessions, tasks.OLDEST_DUE_FIRST, query, "ix_human_tasks_due", start=deep)


@pytest.mark.parametrize(
    ("kind", "index"),
    [
        (None, "ix_notifications_org_created"),
        ("order.confirmed", "ix_notifications_org_kind_created"),
    ],
)
def test_notifications_read_their_index_newest_first(
    sessions: sessionmaker[Session], kind: str | None, index: str
) -> None:
    query = notifications.notifications_query(BUYER, kind)
    _check(sessions, notifications.NEWEST_FIRST, query, index)


def _filters(**given: Any) -> WaybillFilters:
    names = WaybillFilters.__dataclass_fields__
    return WaybillFilters(**{name: given.get(name) for name in names})


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (
            _filters(carrier="\uff41\uff4e\uff44\uff41\u3000Hazmat"),
            "ix_waybills_carrier_folded",
        ),
        (_filters(vehicle_plate="苏e a8231"), "ix_waybills_plate_key"),
        (_filters(un_number="1090"), "ix_waybills_un_numbers"),
        (_filters(made_by_org_id="org_plan_carrier"), "ix_waybills_made_by_filed"),
    ],
)
def test_the_regulator_s_search_reads_the_filter_s_index(
    sessions: sessionmaker[Session], filters: WaybillFilters, index: str
) -> None:
    # Selective filters: a bitmap of the filter's index then a sort of the few rows found is
    # the plan wanted, so sorts stay allowed; the table must still not be read whole.
    _check(sessions, LATEST_FILED_FIRST, search(filters), index, ordered=False)


def test_the_regulator_s_unfiltered_list_reads_filed_at_in_order(
    sessions: sessionmaker[Session],
) -> None:
    _check(sessions, LATEST_FILED_FIRST, search(_filters()), "ix_waybills_filed_at")


@pytest.mark.parametrize("status", [None, AccreditationStatus.UNDER_REVIEW])
def test_staff_s_application_list_reads_its_index_in_order(
    sessions: sessionmaker[Session], status: AccreditationStatus | None
) -> None:
    index = (
        "ix_accreditation_applications_submitted"
        if status is None
        else "ix_accreditation_applications_status_submitted"
    )
    query = accreditation_reads.applications_query(STAFF, status)
    _check(sessions, accreditation_reads.LATEST_FIRST, query, index)


def test_the_suppliers_register_reads_the_standings_by_next_review(
    sessions: sessionmaker[Session],
) -> None:
    """Its first page joins and counts the certificates of its own suppliers only: the
    standings are read in the page's order, so nothing sorts every supplier first."""
    statement = page_statement(SUPPLIERS_ORDER, suppliers_query(STAFF, ""), None, 100)
    with sessions() as session:
        nodes = _plan(session, statement, ordered=True)
    kinds = [node["Node Type"] for node in nodes]
    assert "Seq Scan" not in kinds and "Sort" not in kinds, kinds
    assert "ix_supplier_accreditations_expires" in {n.get("Index Name") for n in nodes}, nodes


# -- N+1 -----------------------------------------------------------------------------------


@pytest.fixture
def counted(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every statement the engine runs while the test does."""
    statements: list[str] = []
    engine = sessions.kw["bind"]

    def seen(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    yield statements
    event.remove(engine, "before_cursor_execute", seen)


def _applications(sessions: sessionmaker[Session], count: int) -> list[str]:
    org = make_org(sessions)
    document_id = listings.document(sessions, org.id)
    ids = [f"app_plan_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    with sessions() as session:
        for i, app_id in enumerate(ids):
            session.add(
                AccreditationApplication(
                    id=app_id,
                    supplier_org_id=org.id,
                    workflow_id=f"accreditation:{org.id}",
                    status="accredited",
                    legal_name=org.legal_name,
                    credit_code=org.credit_code,
                    licence_number=f"LIC-{i}",
                    licence_document_id=document_id,
                    risk_band="B",
                    reasons=[],
                    submitted_by="usr_plan",
                    submitted_at=MOMENT,
                )
            )
        session.flush()
        for app_id in ids:
            for position in range(2):
                session.add(
                    ApplicationCertificate(
                        application_id=app_id,
                        position=position,
                        standard="ISO9001",
                        number=f"CERT-{position}",
                        certification_body="CQC",
                        accreditation_body="CNAS",
                        scope="chemicals",
                        issue_date=date(2025, 1, 1),
                        expiry_date=date(2028, 1, 1),
                        check_reasons=[],
                    )
                )
            session.add(
                FinancialStatement(
                    application_id=app_id, year=2025, currency="CNY", figures={"revenue": "1"}
                )
            )
        session.commit()
    return ids


@pytest.mark.usefixtures("keyring")
def test_an_application_list_issues_as_many_statements_for_200_rows_as_for_2(
    sessions: sessionmaker[Session], counted: list[str]
) -> None:
    issued = {}
    for count in (2, 200):
        ids = _applications(sessions, count)
        with sessions() as session:
            rows = list(
                session.scalars(
                    select(AccreditationApplication).where(AccreditationApplication.id.in_(ids))
                )
            )
            counted.clear()
            views = accreditation_reads._application_views(session, rows)
            issued[count] = len(counted)
        assert len(views) == count
        assert all(len(v["certificates"]) == 2 and 2025 in v["financial_years"] for v in views)
    assert issued[2] == issued[200] <= 2, issued


def test_the_dashboard_finds_each_filings_submission_by_its_e_waybill(
    sessions: sessionmaker[Session],
) -> None:
    """Each accepted filing's last submission is read from migration 0037's index, not looked
    for among every task (past the database's timeout at 200,000 tasks)."""
    assert "ix_human_tasks_waybill_submission" in _tasks_indexes(
        sessions, accepted_filings(None, MOMENT)
    )


def test_the_dashboard_reads_the_decided_tasks_alone(sessions: sessionmaker[Session]) -> None:
    """Staff's decision hours (every task's) read migration 0038's index of decisions, not
    every task ever opened; an organisation's read an index too (its inbox's or the decisions')."""
    for actor in (STAFF, BUYER):
        read = _tasks_indexes(sessions, decided_tasks(tasks.timed_tasks_of(actor), MOMENT))
        if actor is STAFF:
            assert "ix_human_tasks_decided" in read, read


def _tasks_indexes(sessions: sessionmaker[Session], statement: Select[Any]) -> set[str]:
    """The indexes a dashboard statement's plan reads; it reads the tasks, and never whole."""
    with sessions() as session:
        nodes = _plan(session, statement, ordered=False)
    read = [n for n in nodes if n.get("Relation Name") == "human_tasks"]
    assert read and all(n["Node Type"] != "Seq Scan" for n in read), nodes
    return {n["Index Name"] for n in nodes if n.get("Index Name")}
