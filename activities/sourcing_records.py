"""Sourcing rows in PostgreSQL: RFQs, invitations, quote revisions, contracts, the buyer's
approval chain and the recorded exchange rates it converts at."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.common import SYSTEM_ACTOR, Actor
from contracts.sourcing import (
    DEFAULT_APPROVAL_CHAIN,
    ApprovalChain,
    ApprovalPolicy,
    ApprovalPolicyInput,
    Comparison,
    ContractStatus,
    FxRate,
    QuoteStatus,
    RankInput,
    RecordContractInput,
    RecordDeclineInput,
    RecordQuoteInput,
    RfqInput,
    RfqStatus,
    RfqStatusInput,
    Standings,
    StandingsInput,
)
from db.audit_log import append_audit, audit_once
from db.comparison_store import precompute_buyer_default
from db.models import (
    ApprovalChainRecord,
    Contract,
    ExchangeRate,
    QuoteRecord,
    Rfq,
    RfqInvitation,
)
from db.session import transaction
from db.sourcing import (
    comparison_for,
    current_standings,
    quote_values,
    rfq_input_if_valid,
    rfq_row,
)

_FINAL_CONTRACT = {ContractStatus.EXECUTED, ContractStatus.REJECTED, ContractStatus.LAPSED}
_FINAL_RFQ = {RfqStatus.COMPLETED, RfqStatus.LAPSED, RfqStatus.CANCELLED}


class SourcingRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_rfq")
    def record_rfq(self, rfq: RfqInput) -> None:
        """Insert the RFQ and its invitations; a retry finds them there."""
        with transaction(self._sessions) as session:
            if session.get(Rfq, rfq.rfq_id) is not None:
                return
            session.add(rfq_row(rfq, activity.info().workflow_id, status=RfqStatus.OPEN))
            session.flush()
            for supplier in rfq.suppliers:
                session.add(
                    RfqInvitation(
                        rfq_id=rfq.rfq_id,
                        supplier_org_id=supplier.org_id,
                        status="invited",
                        decline_reason="",
                    )
                )
            audit_once(
                session,
                rfq.created_by,
                "rfq.created",
                rfq.rfq_id,
                {"suppliers": [s.org_id for s in rfq.suppliers], "sealed": rfq.sealed},
            )

    @activity.defn(name="set_rfq_status")
    def set_rfq_status(self, change: RfqStatusInput) -> None:
        with transaction(self._sessions) as session:
            row = session.get(Rfq, change.rfq_id, with_for_update=True)
            if row is None:
                raise ApplicationError(f"no RFQ {change.rfq_id}", type="InvalidRecord")
            if RfqStatus(row.status) in _FINAL_RFQ:
                return
            if row.status != change.status.value:
                audit_once(
                    session,
                    SYSTEM_ACTOR,
                    f"rfq.{change.status.value}",
                    change.rfq_id,
                    {"reason": change.reason},
                )
            row.status = change.status.value
            row.status_reason = change.reason
            if change.quote_deadline is not None and change.quote_deadline != row.quote_deadline:
                append_audit(
                    session,
                    actor=SYSTEM_ACTOR,
                    action="rfq.deadline_extended",
                    target_type="rfq",
                    target_id=change.rfq_id,
                    detail={
                        "from": row.quote_deadline.isoformat(),
                        "to": change.quote_deadline.isoformat(),
                    },
                    dedup_key=f"rfq.deadline_extended:{change.rfq_id}:"
                    f"{change.quote_deadline.isoformat()}",
                )
                row.quote_deadline = change.quote_deadline

    @activity.defn(name="record_quote")
    def record_quote(self, record: RecordQuoteInput) -> None:
        """Store a revision and supersede the one before; the revision number makes it once-only."""
        quote = record.quote
        with transaction(self._sessions) as session:
            row = session.get(Rfq, quote.rfq_id)
            if row is None:
                raise ApplicationError(f"no RFQ {quote.rfq_id}", type="InvalidRecord")
            inserted = session.execute(
                insert(QuoteRecord)
                .values(**quote_values(quote, rfq_input_if_valid(row)))
                .on_conflict_do_nothing(index_elements=[QuoteRecord.id])
                .returning(QuoteRecord.id)
            ).first()
            if inserted is None:
                return
            session.execute(
                update(QuoteRecord)
                .where(QuoteRecord.rfq_id == quote.rfq_id)
                .where(QuoteRecord.supplier_org_id == quote.supplier_org_id)
                .where(QuoteRecord.revision < quote.revision)
                .values(status=QuoteStatus.SUPERSEDED.value)
            )
            session.execute(
                update(RfqInvitation)
                .where(RfqInvitation.rfq_id == quote.rfq_id)
                .where(RfqInvitation.supplier_org_id == quote.supplier_org_id)
                .values(status="quoted", decline_reason="", answered_at=quote.submitted_at)
            )
            audit_once(
                session,
                Actor(user_id=quote.submitted_by, org_id=quote.supplier_org_id),
                "quote.submitted",
                quote.quote_id,
                {"rfq_id": quote.rfq_id, "revision": quote.revision},
            )

    @activity.defn(name="record_decline")
    def record_decline(self, decline: RecordDeclineInput) -> None:
        """A declining supplier withdraws any quote it had made."""
        with transaction(self._sessions) as session:
            invitation = session.get(
                RfqInvitation, (decline.rfq_id, decline.supplier_org_id), with_for_update=True
            )
            if invitation is None or invitation.status == "declined":
                return
            invitation.status = "declined"
            invitation.decline_reason = decline.reason
            invitation.answered_at = decline.declined_at
            session.execute(
                update(QuoteRecord)
                .where(QuoteRecord.rfq_id == decline.rfq_id)
                .where(QuoteRecord.supplier_org_id == decline.supplier_org_id)
                .where(QuoteRecord.status == QuoteStatus.ACTIVE.value)
                .values(status=QuoteStatus.DECLINED.value)
            )
            audit_once(
                session,
                Actor(user_id=decline.declined_by, org_id=decline.supplier_org_id),
                "quote.declined",
                decline.rfq_id,
                {"reason": decline.reason},
            )

    @activity.defn(name="load_standings")
    def load_standings(self, request: StandingsInput) -> Standings:
        """Each supplier's standing now: a supplier suspended since it was invited is ineligible."""
        with self._sessions() as session:
            return current_standings(session, request.supplier_org_ids)

    @activity.defn(name="rank_quotes")
    def rank_quotes(self, request: RankInput) -> Comparison:
        """The comparison for the lines awaiting award, the best ``top`` offers a line that are
        eligible and not excluded; computed here, not in the workflow, because large RFQs take
        longer than a workflow task may."""
        with self._sessions() as session:
            row = session.get(Rfq, request.rfq_id)
            if row is None:
                raise ApplicationError(f"no RFQ {request.rfq_id}", type="InvalidRecord")
            comparison = comparison_for(
                session,
                row,
                as_of=request.as_of,
                standings=request.standings,
                top=request.top,
                exclude=request.exclude,
                eligible_only=True,
            )
            # Quoting has closed: file the buyer's default answer now, so their first click
            # reads it (db.comparison_store); a no-op when already filed under the same inputs.
            if precompute_buyer_default(session, row):
                session.commit()
        wanted = set(request.line_ids)
        lines = tuple(line for line in comparison.lines if line.line_id in wanted)
        return comparison.model_copy(update={"lines": lines})

    @activity.defn(name="load_approval_policy")
    def load_approval_policy(self, request: ApprovalPolicyInput) -> ApprovalPolicy:
        """The buyer's chain (or the default) and the newest recorded rate into its currency."""
        with self._sessions() as session:
            row = session.get(ApprovalChainRecord, request.buyer_org_id)
            chain = (
                ApprovalChain.model_validate({"currency": row.currency, "levels": row.levels})
                if row is not None
                else DEFAULT_APPROVAL_CHAIN
            )
            if chain.currency == request.currency:
                return ApprovalPolicy(chain=chain, rate=None)
            rate = latest_rate(session, request.currency, chain.currency)
        if rate is None:
            raise ApplicationError(
                f"no exchange rate recorded between {request.currency} and {chain.currency}",
                type="NoExchangeRate",
                non_retryable=True,
            )
        return ApprovalPolicy(chain=chain, rate=rate)

    @activity.defn(name="record_contract")
    def record_contract(self, record: RecordContractInput) -> None:
        """Insert or move the contract row; a final status is never left again."""
        terms = record.terms
        with transaction(self._sessions) as session:
            row = session.get(Contract, terms.contract_id, with_for_update=True)
            if row is None:
                row = Contract(
                    id=terms.contract_id,
                    rfq_id=terms.rfq_id,
                    workflow_id=activity.info().workflow_id,
                    buyer_org_id=terms.buyer.org_id,
                    supplier_org_id=terms.supplier.org_id,
                    terms=terms.model_dump(mode="json"),
                    total_amount=terms.total.amount,
                    currency=terms.total.currency,
                    approvals=[],
                    status=record.status.value,
                    status_reason="",
                )
                session.add(row)
                audit_once(
                    session,
                    SYSTEM_ACTOR,
                    "contract.drafted",
                    terms.contract_id,
                    {"rfq_id": terms.rfq_id, "total": str(terms.total.amount)},
                )
            elif ContractStatus(row.status) in _FINAL_CONTRACT:
                return
            elif row.status != record.status.value:
                audit_once(
                    session,
                    SYSTEM_ACTOR,
                    f"contract.{record.status.value}",
                    terms.contract_id,
                    {"reason": record.reason},
                )
            row.status = record.status.value
            row.status_reason = record.reason
            if record.document is not None:
                row.document_id = record.document.document_id
                row.document_sha256 = record.document.sha256
            if record.sign_by is not None:
                row.sign_by = record.sign_by
            if record.amount_in_chain_currency is not None:
                row.amount_in_chain_currency = record.amount_in_chain_currency.amount
                row.chain_currency = record.amount_in_chain_currency.currency
            if record.fx_rate is not None:
                row.fx_rate = record.fx_rate.model_dump(mode="json")
            if record.approvals:
                row.approvals = [a.model_dump(mode="json") for a in record.approvals]
            if record.status == ContractStatus.EXECUTED:
                row.executed_at = record.at
                row.fulfilment_status = "awaiting_fulfilment"


def latest_rate(session: Session, base: str, quote: str) -> FxRate | None:
    """The newest recorded rate for the pair in either direction."""
    row = session.scalars(
        select(ExchangeRate)
        .where(
            or_(
                (ExchangeRate.base == base) & (ExchangeRate.quote == quote),
                (ExchangeRate.base == quote) & (ExchangeRate.quote == base),
            )
        )
        .order_by(ExchangeRate.as_of.desc(), ExchangeRate.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return FxRate(base=row.base, quote=row.quote, rate=row.rate, as_of=row.as_of, source=row.source)
