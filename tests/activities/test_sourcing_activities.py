"""Sourcing activities retried after a lost acknowledgement: one row, document, signature."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.e_contracts import ContractDocuments
from activities.sourcing_records import SourcingRecords
from contracts.common import Role
from contracts.sourcing import (
    ContractStatus,
    Quote,
    RecordContractInput,
    RecordQuoteInput,
    SignContractInput,
)
from db.models import (
    AuditEntry,
    Contract,
    ContractSignature,
    Document,
    QuoteRecord,
    SigningKey,
)
from rules.awards import draft_contract
from security.signatures import verify
from storage.object_store import ObjectStore, get_verified
from tests.harness import sourcing as s


def _count(sessions: sessionmaker[Session], model: type, **where: str) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def test_a_retried_quote_contract_pdf_and_signature_are_each_written_once(
    sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    env = ActivityEnvironment()
    records = SourcingRecords(sessions)
    documents = ContractDocuments(sessions, store)
    buyer = s.member(sessions, s.buyer_org(sessions), Role.BUYER)
    supplier = s.member(sessions, s.accredited_supplier(sessions, store), Role.SUPPLIER)
    now = datetime.now(UTC)
    rfq = s.rfq(buyer, [supplier.org], now=now)
    env.run(records.record_rfq, rfq)
    env.run(records.record_rfq, rfq)
    quote = Quote(
        quote_id=f"{rfq.rfq_id}:{supplier.org.id}:r1",
        rfq_id=rfq.rfq_id,
        supplier_org_id=supplier.org.id,
        revision=1,
        terms=s.quote_terms(valid_until=(now + timedelta(days=30)).date()),
        submitted_by=supplier.actor.user_id,
        submitted_at=now,
    )
    env.run(records.record_quote, RecordQuoteInput(quote=quote))
    env.run(records.record_quote, RecordQuoteInput(quote=quote))
    assert _count(sessions, QuoteRecord, rfq_id=rfq.rfq_id) == 1

    terms = draft_contract(
        contract_id=f"{rfq.rfq_id}-C1",
        rfq=rfq,
        quote=quote,
        line_ids=("L1", "L2"),
        supplier=s.party(supplier),
        awarded_by=buyer.actor.user_id,
        awarded_at=now,
    )
    record = RecordContractInput(terms=terms, status=ContractStatus.AWAITING_APPROVAL, at=now)
    env.run(records.record_contract, record)
    first = env.run(documents.render_contract, terms)
    again = env.run(documents.render_contract, terms)
    assert again == first and _count(sessions, Document, id=first.document_id) == 1
    assert get_verified(store, first.sha256)[:5] == b"%PDF-"
    env.run(
        records.record_contract,
        record.model_copy(update={"status": ContractStatus.AWAITING_SIGNATURES, "document": first}),
    )

    request = SignContractInput(
        contract_id=terms.contract_id, document=first, signer=supplier.actor, signed_at=now
    )
    # Two attempts at once (a retry racing a slow first attempt): one key, one signature.
    with ThreadPoolExecutor(2) as pool:
        signatures = list(
            pool.map(lambda _: ActivityEnvironment().run(documents.sign_contract, request), [1, 2])
        )
    assert signatures[0] == signatures[1]
    assert _count(sessions, ContractSignature, contract_id=terms.contract_id) == 1
    assert _count(sessions, SigningKey, org_id=supplier.org.id) == 1
    assert _count(sessions, AuditEntry, action="contract.signed", target_id=terms.contract_id) == 1
    with sessions() as session:
        key = session.get(SigningKey, signatures[0].key_id)
        assert key is not None
        assert verify(signatures[0], key.public_key, document_sha256=first.sha256).valid
        # The private half is stored encrypted, never as the base64 key itself.
        raw = session.execute(
            text("SELECT private_key FROM signing_keys WHERE id = :id"), {"id": key.id}
        ).scalar_one()
        assert key.private_key not in raw

    executed = record.model_copy(update={"status": ContractStatus.EXECUTED, "at": now})
    env.run(records.record_contract, executed)
    # A late retry of an older write cannot move an executed contract back.
    env.run(records.record_contract, record)
    with sessions() as session:
        row = session.get(Contract, terms.contract_id)
        assert row is not None
        assert (row.status, row.fulfilment_status) == ("executed", "awaiting_fulfilment")
