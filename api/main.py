"""Builds the FastAPI app: lifespan resources, middleware, error mapping and routes."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.orm import Session, sessionmaker

from api.body_limits import BodyLimitMiddleware
from api.docs import install_docs
from api.errors import install_error_handlers
from api.idempotency import IdempotencyMiddleware
from api.metrics import install_metrics
from api.openapi import install_openapi
from api.platform import Platform
from api.request_context import RequestContextMiddleware
from api.routes import (
    accreditation,
    accreditation_reads,
    accreditation_renewals,
    approval_settings,
    audit,
    auth,
    carriage,
    carrier_crew,
    carrier_vehicles,
    carriers,
    catalogue,
    catalogue_categories,
    catalogue_comparison,
    catalogue_import,
    catalogue_orders,
    catalogue_rfqs,
    catalogue_search,
    codec,
    cold_chain_assignments,
    cold_chain_loggers,
    cold_chain_losses,
    cold_chain_readings,
    cold_chain_reads,
    cold_chain_report,
    contract_signing,
    contract_verification,
    documents,
    e_contracts,
    finance,
    finance_ledger,
    health,
    incidents,
    loan_commands,
    loans,
    notification_rules,
    notifications,
    order_commands,
    order_documents,
    orders,
    regulator,
    rfq_commands,
    rfq_comparison,
    rfq_opening,
    rfqs,
    second_factor,
    tasks,
    tax_profile,
    waybill_submission,
)
from api.shedding import Limits, SheddingMiddleware
from api.temporal_timeouts import with_deadlines
from api.tracing import install_tracing
from api.unexpected_errors import UnexpectedErrorMiddleware
from db.catalogue_broad import COUNTERS
from db.catalogue_found import keep_found
from db.session import make_engine, make_session_factory
from rules.search_text import load_pinyin
from security.columns import install_column_keyring
from security.keys import jwt_secret_from_settings, keyring_from_settings
from settings import Settings, get_settings
from stack.temporal import connect
from storage.object_store import object_store_from_settings
from workbench.app import install_workbench


def tune_collector() -> None:
    """What importing and starting made (modules, routes, models, the keyring) lives as long
    as the process: frozen out of the collector's reach, a full collection no longer walks it.
    Unfrozen, one took 150-200 ms every few dozen catalogue searches and made their p99.

    And the youngest generation is collected after ``YOUNG`` new objects, not 700. A broad
    search makes about 8,000 that live as long as the request: at 700 most of them lived
    through two young collections, were counted as old, and brought a full collection (about
    30-50 ms, walking what requests had cached) every twenty searches. Now most die first:
    over 40 broad searches the collector's time fell by half to two thirds and no full
    collection came; a young collection now pauses up to 10-15 ms.

    Search's pinyin dictionaries are loaded first, to be frozen with the rest: loaded at the
    first search, their 200,000 lists were walked by every full collection (40 ms measured;
    6-7 ms now)."""
    load_pinyin()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)


YOUNG = 10_000

# The API's database connections: requests (``shed_max_in_flight`` stays below 20), and broad
# catalogue searches' facet counters, which take connections of their own.
API_POOL_SIZE = 10
API_MAX_OVERFLOW = 10 + COUNTERS


def api_sessions(settings: Settings) -> sessionmaker[Session]:
    """The API's sessions: its pool, its statement timeout, and the catalogue search's table
    of found products made once a connection (``db.catalogue_found.keep_found``)."""
    engine = make_engine(
        settings.database_url,
        pool_size=API_POOL_SIZE,
        max_overflow=API_MAX_OVERFLOW,
        statement_timeout_ms=settings.api_statement_timeout_ms,
    )
    keep_found(engine)
    return make_session_factory(engine)


# The routers in the order a request is matched against them. FastAPI 0.165 tries an included
# router's routes one by one, each with bookkeeping of its own, so finding a route in the 36th
# router took 228 µs: the routes the parties poll most come first. No request (method and path)
# matches routes of two routers, so the order changes no answer; should one ever, the router
# whose route must answer goes first (tests/api/test_route_order.py).
ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    tasks.router,
    notifications.router,
    orders.router,
    catalogue_search.router,
    second_factor.router,
    accreditation.router,
    accreditation_reads.router,
    accreditation_renewals.router,
    rfq_opening.router,
    rfqs.router,
    rfq_comparison.router,
    rfq_commands.router,
    e_contracts.router,
    contract_signing.router,
    contract_verification.router,
    order_commands.router,
    order_documents.router,
    waybill_submission.router,
    carriage.router,
    carriers.router,
    carrier_vehicles.router,
    carrier_crew.router,
    cold_chain_loggers.router,
    cold_chain_assignments.router,
    cold_chain_readings.router,
    cold_chain_reads.router,
    cold_chain_report.router,
    cold_chain_losses.router,
    loans.router,
    loan_commands.router,
    finance.router,
    finance_ledger.router,
    regulator.router,
    approval_settings.router,
    tax_profile.router,
    catalogue_categories.router,
    catalogue.router,
    catalogue_comparison.router,
    catalogue_rfqs.router,
    catalogue_orders.router,
    catalogue_import.router,
    documents.router,
    notification_rules.router,
    incidents.router,
    audit.router,
    codec.router,
    health.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    keyring = keyring_from_settings(settings)
    install_column_keyring(keyring)
    jwt_secret = jwt_secret_from_settings(settings)
    sessions = api_sessions(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The Temporal client is created here, after any fork, once per process.
        app.state.platform = Platform(
            settings=settings,
            sessions=sessions,
            temporal=with_deadlines(
                await connect(settings, keyring),
                call=timedelta(seconds=settings.temporal_rpc_timeout_s),
                update=timedelta(seconds=settings.temporal_update_timeout_s),
            ),
            store=object_store_from_settings(settings),
            keyring=keyring,
            jwt_secret=jwt_secret,
        )
        tune_collector()
        yield

    app = FastAPI(
        title="Tradeflow",
        version="0.1.0",
        description="B2B supply-chain platform: accreditation, sourcing, fulfilment, financing.",
        lifespan=lifespan,
        # Served from this host by api.docs instead: FastAPI's pages load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    install_openapi(app)
    # Innermost (added first): the middleware added below see an unexpected error as a 500.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(IdempotencyMiddleware, sessions=sessions, jwt_secret=jwt_secret)
    app.add_middleware(BodyLimitMiddleware)  # outside: the idempotency keys read the body
    # Outside the idempotency keys: a shed request claims none, so its retry runs afresh.
    app.add_middleware(
        SheddingMiddleware, limits=Limits.from_settings(settings), jwt_secret=jwt_secret
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.temporal_ui_origins,
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace", "authorization"],
    )
    app.add_middleware(RequestContextMiddleware)
    # And outermost, for an error of a middleware itself.
    app.add_middleware(UnexpectedErrorMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    install_workbench(app)
    # Outermost of all: shed, refused and failed requests are counted and traced too.
    install_metrics(app, settings)
    install_tracing(app, settings)
    return app
