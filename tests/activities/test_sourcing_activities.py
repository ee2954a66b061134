"""Sourcing activities retried after a lost acknowledgement: one row, document, signature."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.e_contracts import ContractDocuments
from activities.sourcing_records import SourcingRecords
from contracts.common import Role
from contracts.sourcing import (
    ContractStatus,
    Quote,
    RankInput,
    RecordContractInput,
    RecordQuoteInput,
    SignContractInput,
    Standings,
    SupplierStanding,
)
from db.models import (
    AuditEntry,
    Contract,
    ContractSignature,
    Document,
    Organisation,
    QuoteRecord,
    SigningKey,
)
from rules.awards import draft_contract
from rules.quote_pricing import from_bytes, price_quote, rfq_lines
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
    with sessions() as session:  # priced against the RFQ's lines as it was recorded
        kept = session.get_one(QuoteRecord, quote.quote_id).priced
    assert from_bytes(kept) == price_quote(quote.terms, rfq_lines(rfq)) is not None

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


def test_rank_quotes_ranks_on_the_buyers_vat_basis(
    sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    """The buyer's tax profile reaches the ranking: net of deductible VAT for a general
    taxpayer (the default), including VAT once it says it is small-scale."""
    env = ActivityEnvironment()
    records = SourcingRecords(sessions)
    buyer = s.member(sessions, s.buyer_org(sessions), Role.BUYER)
    small = s.member(sessions, s.accredited_supplier(sessions, store), Role.SUPPLIER)
    general = s.member(sessions, s.accredited_supplier(sessions, store), Role.SUPPLIER)
    now = datetime.now(UTC)
    rfq = s.rfq(buyer, [small.org, general.org], now=now)
    env.run(records.record_rfq, rfq)
    valid_until = (now + timedelta(days=30)).date()
    # L1, 1,000 L at the 500 break (price - 0.50), 300.00 logistics:
    #   small-scale supplier at 3%: 10,000 + 300 = 10,300.00 net, VAT 309.00, 10,609.00 gross
    #   goods rate 13%:              9,500 + 300 =  9,800.00 net, VAT 1,274.00, 11,074.00 gross
    offers = {
        small: s.quote_terms(valid_until=valid_until, price_l1="10.50", line_ids=("L1",)),
        general: s.quote_terms(valid_until=valid_until, price_l1="10.00", line_ids=("L1",)),
    }
    for member_, terms in offers.items():
        if member_ is small:
            terms = terms.model_copy(update={"tax_rate": Decimal("0.03")})
        quote = Quote(
            quote_id=f"{rfq.rfq_id}:{member_.org.id}:r1",
            rfq_id=rfq.rfq_id,
            supplier_org_id=member_.org.id,
            revision=1,
            terms=terms,
            submitted_by=member_.actor.user_id,
            submitted_at=now,
        )
        env.run(records.record_quote, RecordQuoteInput(quote=quote))
    standings = Standings(
        suppliers=tuple(
            SupplierStanding(org_id=m.org.id, eligible=True, score=Decimal(80), status="accredited")
            for m in (small, general)
        )
    )
    request = RankInput(rfq_id=rfq.rfq_id, as_of=now.date(), line_ids=("L1",), standings=standings)

    def ranked() -> tuple[bool, list[tuple[str, Decimal]], str]:
        comparison = env.run(records.rank_quotes, request)
        offers = comparison.lines[0].offers
        ranking = [(o.supplier_org_id, o.landed_cost) for o in offers]
        return comparison.deducts_input_vat, ranking, offers[0].explanation

    deducts, ranking, explanation = ranked()
    assert deducts is True
    assert ranking == [(general.org.id, Decimal("9800.00")), (small.org.id, Decimal("10300.00"))]
    assert explanation.startswith("landed CNY 9,800.00 net of deductible VAT")

    with sessions.begin() as session:
        org = session.get(Organisation, buyer.org.id)
        assert org is not None
        org.deducts_input_vat = False
    deducts, ranking, explanation = ranked()
    assert deducts is False
    assert ranking == [(small.org.id, Decimal("10609.00")), (general.org.id, Decimal("11074.00"))]
    assert explanation.startswith("landed CNY 10,609.00 including VAT")
