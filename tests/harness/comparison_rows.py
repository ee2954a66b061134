"""A closed RFQ and its active quotes as rows, as the RFQ process records them: for the
comparison route's tests and its benchmark (``bench.comparison_route``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bench.services import KEY_ID
from contracts.sourcing import Quote, RfqInput
from db.models import QuoteRecord, Rfq
from db.session import transaction
from db.sourcing import quote_values
from security.keys import generate_key_spec
from settings import Settings


def closed_rfq(
    sessions: sessionmaker[Session],
    rfq: RfqInput,
    quotes: Sequence[Quote],
    supplier_org_ids: Sequence[str],
    *,
    priced: bool = True,
) -> str:
    """``rfq`` closed for evaluation with ``quotes`` active, the n-th from the n-th supplier
    (organisations that exist), with their figures priced as recorded (``priced=False``: as
    revisions recorded before migration 0027 were); its id."""
    with transaction(sessions) as session:
        session.add(
            Rfq(
                id=rfq.rfq_id,
                buyer_org_id=rfq.buyer_org_id,
                workflow_id=f"Rfq:{rfq.rfq_id}",
                title=rfq.title,
                status="evaluating",
                sealed=True,
                currency=rfq.currency,
                quote_deadline=rfq.quote_deadline,
                needed_by=rfq.needed_by,
                body=rfq.model_dump(mode="json"),
                created_by="usr_test",
                created_at=rfq.created_at,
            )
        )
        session.flush()
        for org_id, quote in zip(supplier_org_ids, quotes, strict=True):
            recorded = quote.model_copy(
                update={
                    "quote_id": f"{rfq.rfq_id}:{org_id}:r1",
                    "rfq_id": rfq.rfq_id,
                    "supplier_org_id": org_id,
                    "revision": 1,
                    "submitted_by": "usr_test",
                }
            )
            values = quote_values(recorded, rfq)
            session.add(QuoteRecord(**{**values, "priced": values["priced"] if priced else None}))
    return rfq.rfq_id


def bench_settings(folder: Path, database_url: str) -> Settings:
    """Settings for an app in this process on a fresh database, with keys of its own."""
    return Settings(
        environment="test",
        data_dir=folder,
        database_url=database_url,
        encryption_keys=generate_key_spec(KEY_ID),
        active_key_id=KEY_ID,
        jwt_secret=secrets.token_urlsafe(48),
    )
