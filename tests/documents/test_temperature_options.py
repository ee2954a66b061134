"""A line's cold-chain options (its product's own tolerances) are for the trip's monitoring: the
e-contract and the invoice print the range exactly as they did before the options existed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from contracts.sourcing import ContractTerms, TemperatureRange
from documents.e_contract import contract_context
from documents.render import render_html
from tests.documents.test_e_contract import SERUM, contract_terms

PLAIN = TemperatureRange(min_celsius=Decimal("2.0"), max_celsius=Decimal("8.0"))
WITH_OPTIONS = PLAIN.model_copy(
    update={
        "warning_margin": Decimal("1.25"),
        "single_tolerance_minutes": 20,
        "stability_budget_minutes": 90,
        "max_silence_minutes": 10,
        "activation_energy_kj_per_mol": Decimal("100.5"),
        "mkt_max_celsius": Decimal("7.5"),
    }
)


def terms_with(temperature: TemperatureRange) -> ContractTerms:
    return contract_terms(SERUM.model_copy(update={"temperature": temperature}))


def invoice_html(terms: ContractTerms) -> str:
    context = {
        "document_id": "INV-1",
        "invoice_id": "INV-1",
        "order_id": "ord-1",
        "contract_id": terms.contract_id,
        "issued_on": date(2026, 4, 20),
        "accepted_on": date(2026, 4, 20),
        "due_on": date(2026, 5, 20),
        "buyer": terms.buyer,
        "supplier": terms.supplier,
        "lines": terms.lines,
        "currency": terms.total.currency,
        "goods_total": terms.goods_total,
        "logistics": terms.logistics,
        "freight": terms.freight,
        "tax": terms.tax,
        "total": terms.total,
        "payment_terms": terms.payment_terms,
    }
    return render_html("invoice.html.j2", context)


def e_contract_html(terms: ContractTerms) -> str:
    return render_html("e_contract.html.j2", contract_context(terms))


@pytest.mark.parametrize(
    ("render", "printed"),
    [(e_contract_html, "2.0 °C ~ 8.0 °C"), (invoice_html, "Keep at 2.0–8.0 °C")],
)
def test_the_range_prints_the_same_with_or_without_options(
    render: Callable[[ContractTerms], str], printed: str
) -> None:
    plain, with_options = render(terms_with(PLAIN)), render(terms_with(WITH_OPTIONS))
    assert printed in plain
    assert with_options == plain
    assert "tolerance" not in with_options and "None" not in with_options
