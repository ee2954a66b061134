"""The bilingual purchase contract (采购合同) rendered from ContractTerms alone.

The parties sign the SHA-256 of the PDF this produces (security.signatures), so the PDF cannot
carry their signatures: it states where the platform records them and how to verify them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from contracts.common import Money
from contracts.sourcing import ContractLine, ContractTerms, TemperatureRange
from documents.render import money, render_pdf

TEMPLATE = "e_contract.html.j2"
# China keeps one offset all year (no DST), so the contract date needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
# Unit prices of bulk goods go below a cent; amounts and totals print to the cent.
_UNIT_PRICE_PLACES = 4
_MIN_PLACES = 2


@dataclass(frozen=True, slots=True)
class LineView:
    """One contract line as printed: amounts as Money, quantities and prices as text."""

    line_id: str
    description: str
    specification: str
    quantity: str
    unit: str
    unit_price: str
    amount: Money
    un_number: str | None
    packing_group: str | None
    temperature: str | None


@dataclass(frozen=True, slots=True)
class DangerousGoods:
    un_number: str
    packing_groups: tuple[str, ...]
    line_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ColdChainRange:
    temperature: str
    line_ids: tuple[str, ...]


def render_contract_pdf(terms: ContractTerms) -> bytes:
    """The contract's PDF bytes, ready to hash, store and sign."""
    return render_pdf(TEMPLATE, contract_context(terms))


def contract_context(terms: ContractTerms) -> dict[str, object]:
    """What the template prints; refuses totals in more than one currency."""
    currency = terms.total.currency
    totals = (terms.goods_total, terms.logistics, terms.freight, terms.tax, terms.total)
    if any(item.currency != currency for item in totals):
        raise ValueError(
            "contract totals mix currencies: " + ", ".join(sorted({t.currency for t in totals}))
        )
    return {
        "document_id": terms.contract_id,
        "terms": terms,
        "contract_date": contract_date(terms),
        "delivery_date": terms.delivery_date,
        "lines": [_line_view(line, currency) for line in terms.lines],
        "dangerous_goods": _dangerous_goods(terms.lines),
        "cold_chain": _cold_chain(terms.lines),
        "verification_path": f"/contracts/{terms.contract_id}/verification",
    }


def contract_date(terms: ContractTerms) -> date:
    """The date the contract bears: the award day in China Standard Time."""
    if terms.awarded_at.utcoffset() is None:
        raise ValueError("awarded_at must be timezone-aware")
    return terms.awarded_at.astimezone(CHINA_STANDARD_TIME).date()


def quantity_text(value: Decimal) -> str:
    """'12,500' or '2.5': thousands separators, no trailing zeros."""
    places = max(0, -_exponent(value.normalize()))
    return f"{value:,.{places}f}"


def unit_price_text(value: Decimal, currency: str) -> str:
    """Like ``money`` but keeps up to four decimals: 'CNY 0.0035', 'CNY 12.50'."""
    rounded = value.quantize(Decimal(1).scaleb(-_UNIT_PRICE_PLACES), rounding=ROUND_HALF_UP)
    places = min(_UNIT_PRICE_PLACES, max(_MIN_PLACES, -_exponent(rounded.normalize())))
    if places == _MIN_PLACES:
        return money(value, currency)
    return f"{currency} {rounded:,.{places}f}"


def temperature_text(value: TemperatureRange) -> str:
    """'2.0 °C ~ 8.0 °C'."""
    return f"{value.min_celsius:.1f} °C ~ {value.max_celsius:.1f} °C"


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # 'n', 'N' or 'F': NaN or infinity
        raise ValueError(f"a contract cannot state {value}")
    return exponent


def _line_view(line: ContractLine, currency: str) -> LineView:
    return LineView(
        line_id=line.line_id,
        description=line.description,
        specification=line.specification,
        quantity=quantity_text(line.quantity),
        unit=line.unit,
        unit_price=unit_price_text(line.unit_price, currency),
        amount=Money(amount=line.amount, currency=currency),
        un_number=line.un_number,
        packing_group=line.packing_group,
        temperature=temperature_text(line.temperature) if line.temperature else None,
    )


def _dangerous_goods(lines: tuple[ContractLine, ...]) -> list[DangerousGoods]:
    """Each UN number once, in the order lines first name it, with its groups and lines."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for line in lines:
        if line.un_number is None:
            continue
        groups, line_ids = found.setdefault(line.un_number, ([], []))
        if line.packing_group and line.packing_group not in groups:
            groups.append(line.packing_group)
        line_ids.append(line.line_id)
    return [
        DangerousGoods(un_number=un, packing_groups=tuple(groups), line_ids=tuple(ids))
        for un, (groups, ids) in found.items()
    ]


def _cold_chain(lines: tuple[ContractLine, ...]) -> list[ColdChainRange]:
    """Each temperature range once, in the order lines first name it, with its lines."""
    found: dict[str, list[str]] = {}
    for line in lines:
        if line.temperature is not None:
            found.setdefault(temperature_text(line.temperature), []).append(line.line_id)
    return [ColdChainRange(temperature=t, line_ids=tuple(ids)) for t, ids in found.items()]
