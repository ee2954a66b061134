"""Awards: which award choices are valid, and the contract terms one supplier's award makes.

A contract's money is the comparison's landed cost for the awarded lines, component by component
(goods after the price break, logistics, the line's share of the quote's freight, tax), so the
buyer signs exactly what it compared. Freight is shared over every line the quote covers, so a
split award carries only the awarded lines' shares.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

from contracts.common import Money
from contracts.sourcing import ContractLine, ContractTerms, Party, Quote, QuoteLine, RfqInput
from rules.landed_cost import landed_costs

# An award choice that leaves a line unawarded.
NO_AWARD = "none"


def award_problem(
    choices: Mapping[str, str],
    *,
    pending: Collection[str],
    offers: Mapping[str, Collection[str]],
    excluded: Mapping[str, Collection[str]],
) -> str | None:
    """Why ``choices`` (line id to supplier org id, or ``none``) cannot be awarded, else None.

    ``offers`` maps each line to the suppliers with an eligible offer on it; ``excluded`` the
    suppliers whose contract for that line already failed. Lines left out are not awarded now.
    """
    for line_id, supplier in choices.items():
        if line_id not in pending:
            return f"choices.{line_id}: not a line awaiting award ({', '.join(sorted(pending))})"
        if supplier == NO_AWARD:
            continue
        if supplier not in offers.get(line_id, ()):
            return f"choices.{line_id}: {supplier} has no eligible quote for this line"
        if supplier in excluded.get(line_id, ()):
            return f"choices.{line_id}: {supplier}'s contract for this line already failed"
    if choices and all(s == NO_AWARD for s in choices.values()):
        return "choices: award at least one line, or close the RFQ instead"
    return None


def by_supplier(awards: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Line ids per awarded supplier, in the order the lines were given; ``none`` dropped."""
    grouped: dict[str, list[str]] = {}
    for line_id, supplier in awards.items():
        if supplier != NO_AWARD:
            grouped.setdefault(supplier, []).append(line_id)
    return {supplier: tuple(lines) for supplier, lines in grouped.items()}


def draft_contract(
    *,
    contract_id: str,
    rfq: RfqInput,
    quote: Quote,
    line_ids: Iterable[str],
    supplier: Party,
    awarded_by: str,
    awarded_at: datetime,
) -> ContractTerms:
    """The terms of the contract awarding ``line_ids`` of ``rfq`` to ``quote``'s supplier."""
    rfq_lines = {line.line_id: line for line in rfq.lines}
    quote_lines = {line.line_id: line for line in quote.terms.lines}
    costs = landed_costs(quote.terms, {line.line_id: line.quantity for line in rfq.lines})
    awarded = [line_id for line_id in rfq_lines if line_id in set(line_ids)]
    currency = rfq.currency
    lines: list[ContractLine] = []
    logistics = freight = tax = Decimal(0)
    for line_id in awarded:
        line, cost = rfq_lines[line_id], costs[line_id]
        lines.append(
            ContractLine(
                line_id=line_id,
                description=line.description,
                specification=line.specification,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=cost.unit_price,
                amount=cost.goods,
                un_number=line.un_number,
                packing_group=line.packing_group,
                temperature=line.temperature,
            )
        )
        logistics += cost.logistics
        freight += cost.freight_share
        tax += cost.tax
    goods = sum((line.amount for line in lines), Decimal(0))
    return ContractTerms(
        contract_id=contract_id,
        rfq_id=rfq.rfq_id,
        buyer=Party(
            org_id=rfq.buyer_org_id,
            legal_name=rfq.buyer_legal_name,
            credit_code=rfq.buyer_credit_code,
        ),
        supplier=supplier,
        quote_id=quote.quote_id,
        quote_revision=quote.revision,
        lines=tuple(lines),
        goods_total=Money(amount=goods, currency=currency),
        logistics=Money(amount=logistics, currency=currency),
        freight=Money(amount=freight, currency=currency),
        tax=Money(amount=tax, currency=currency),
        total=Money(amount=goods + logistics + freight + tax, currency=currency),
        delivery_place=rfq.delivery_place,
        incoterm=rfq.incoterm,
        delivery_date=quote.terms.delivery_date
        or _arrival(awarded_at.date(), (quote_lines[i] for i in awarded)),
        payment_terms=rfq.payment_terms,
        awarded_by=awarded_by,
        awarded_at=awarded_at,
    )


def _arrival(as_of: date, lines: Iterable[QuoteLine]) -> date:
    """The last awarded line's arrival: lead time plus transit from the award."""
    return as_of + timedelta(days=max(line.lead_time_days + line.transit_days for line in lines))
