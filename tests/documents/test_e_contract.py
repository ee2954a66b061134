"""The bilingual purchase contract rendered to a real PDF and read back with pypdf."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from contracts.common import Money
from contracts.sourcing import ContractLine, ContractTerms, Incoterm, Party, TemperatureRange
from documents.e_contract import (
    TEMPLATE,
    contract_context,
    contract_date,
    quantity_text,
    render_contract_pdf,
    temperature_text,
    unit_price_text,
)
from documents.render import render_html

ACETONE = ContractLine(
    line_id="L1",
    description="丙酮 Acetone",
    specification="纯度 ≥ 99.5%, 200 L 镀锌钢桶",
    quantity=Decimal("12.000"),
    unit="桶 drum",
    unit_price=Decimal("1350.00"),
    amount=Decimal("16200.00"),
    un_number="UN1090",
    packing_group="II",
)
SERUM = ContractLine(
    line_id="L2",
    description="胎牛血清 Fetal bovine serum",
    specification="500 mL/瓶, 无菌",
    quantity=Decimal(40),
    unit="瓶 bottle",
    unit_price=Decimal("2875.5"),
    amount=Decimal("115020.00"),
    temperature=TemperatureRange(min_celsius=Decimal("2.0"), max_celsius=Decimal("8.0")),
)
BEAKERS = ContractLine(
    line_id="L3",
    description="硼硅玻璃烧杯 Borosilicate beaker",
    specification="500 mL",
    quantity=Decimal(2500),
    unit="个 piece",
    unit_price=Decimal("0.0035"),
    amount=Decimal("8.75"),
)


def cny(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="CNY")


def contract_terms(*lines: ContractLine, **overrides: object) -> ContractTerms:
    terms = ContractTerms(
        contract_id="CT-2026-000981",
        rfq_id="RFQ-2026-0412",
        buyer=Party(
            org_id="org_buyer_3",
            legal_name="上海浦江精细化工有限公司",
            credit_code="91310115MA1K4ABC2X",
        ),
        supplier=Party(
            org_id="org_supplier_7",
            legal_name="江苏恒达化学品有限公司",
            credit_code="91320500MA1XYZ1234",
        ),
        quote_id="Q-88231",
        quote_revision=2,
        lines=lines or (ACETONE, SERUM, BEAKERS),
        goods_total=cny("131228.75"),
        logistics=cny("3600"),
        freight=cny("1200.5"),
        tax=cny("17059.745"),
        total=cny("153088.995"),
        delivery_place="上海市浦东新区张江路 88 号仓库",
        incoterm=Incoterm.DAP,
        delivery_date=date(2026, 4, 15),
        payment_terms="货到验收合格后 30 日内电汇支付全部货款。",
        awarded_by="usr_buyer_1",
        # 17:30 UTC is 01:30 the next day in China: the contract bears the Chinese date.
        awarded_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
    )
    return terms.model_copy(update=overrides)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def full_text() -> str:
    pdf = render_contract_pdf(contract_terms())
    assert pdf.startswith(b"%PDF-")
    return pdf_text(pdf)


@pytest.fixture(scope="module")
def plain_text() -> str:
    plain = (
        ACETONE.model_copy(update={"un_number": None, "packing_group": None}),
        SERUM.model_copy(update={"temperature": None}),
        BEAKERS,
    )
    return pdf_text(render_contract_pdf(contract_terms(*plain)))


def test_contract_states_parties_references_and_date(full_text: str) -> None:
    for expected in [
        "采购合同",
        "Purchase Contract",
        "CT-2026-000981",
        "RFQ-2026-0412",
        "Q-88231",
        "上海浦江精细化工有限公司",
        "江苏恒达化学品有限公司",
        "91310115MA1K4ABC2X",
        "91320500MA1XYZ1234",
        "甲方（买方）/ Buyer",
        "乙方（卖方）/ Supplier",
        "2026年3月2日",
        "2026-03-02",
    ]:
        assert expected in full_text, expected
    assert "2026年3月1日" not in full_text


def test_lines_and_totals_are_formatted_as_money(full_text: str) -> None:
    for expected in [
        "丙酮 Acetone",
        "胎牛血清 Fetal bovine serum",
        "12 桶 drum",
        "2,500 个 piece",
        "CNY 1,350.00",
        "CNY 2,875.50",
        "CNY 0.0035",  # below a cent, so not rounded to CNY 0.00
        "CNY 115,020.00",
        "CNY 131,228.75",
        "CNY 3,600.00",
        "CNY 1,200.50",
        "CNY 17,059.75",  # half up
        "CNY 153,089.00",
    ]:
        assert expected in full_text, expected


def test_delivery_payment_and_the_verification_endpoint(full_text: str) -> None:
    for expected in [
        "上海市浦东新区张江路 88 号仓库",
        "DAP",
        "2026年4月15日",
        "货到验收合格后 30 日内电汇支付全部货款。",
        "《中华人民共和国电子签名法》",
        "SHA-256",
        "GET /contracts/CT-2026-000981/verification",
        "Page 1 of",
    ]:
        assert expected in full_text, expected


def test_dangerous_goods_and_cold_chain_clauses_appear_when_a_line_needs_them(
    full_text: str,
) -> None:
    assert "危险货物条款 / 5. Dangerous goods" in full_text
    assert "UN1090（包装类别 II，第 L1 行）" in full_text
    assert "GB 6944" in full_text and "JT/T 617" in full_text
    assert "冷链条款 / 6. Cold chain" in full_text
    assert "2.0 °C ~ 8.0 °C（第 L2 行）" in full_text
    assert "八、电子签名 / 8. Electronic signature" in full_text


def test_without_such_lines_neither_clause_appears(plain_text: str) -> None:
    for absent in ["危险货物", "Dangerous goods", "UN1090", "冷链", "Cold chain", "°C"]:
        assert absent not in plain_text, absent
    # The sections after them are renumbered rather than left with gaps.
    assert "五、一般条款 / 5. General clauses" in plain_text
    assert "六、电子签名 / 6. Electronic signature" in plain_text


def test_each_clause_depends_only_on_its_own_lines() -> None:
    only_cold = render_html(TEMPLATE, contract_context(contract_terms(SERUM, BEAKERS)))
    assert "冷链条款" in only_cold and "危险货物条款" not in only_cold
    only_dg = render_html(TEMPLATE, contract_context(contract_terms(ACETONE, BEAKERS)))
    assert "危险货物条款" in only_dg and "冷链条款" not in only_dg


def test_clauses_list_each_un_number_and_range_once_with_its_lines() -> None:
    second_acetone = ACETONE.model_copy(update={"line_id": "L4"})
    methanol = ACETONE.model_copy(update={"line_id": "L5", "un_number": "UN1230"})
    frozen = SERUM.model_copy(
        update={
            "line_id": "L6",
            "temperature": TemperatureRange(min_celsius=Decimal(-25), max_celsius=Decimal("-18.0")),
        }
    )
    context = contract_context(contract_terms(ACETONE, SERUM, second_acetone, methanol, frozen))
    html = render_html(TEMPLATE, context)
    assert "UN1090（包装类别 II，第 L1、L4 行）、UN1230（包装类别 II，第 L5 行）。" in html
    assert "2.0 °C ~ 8.0 °C（第 L2 行）、-25.0 °C ~ -18.0 °C（第 L6 行）。" in html


def test_totals_in_different_currencies_are_refused() -> None:
    terms = contract_terms(freight=Money(amount=Decimal(100), currency="USD"))
    with pytest.raises(ValueError, match="CNY, USD"):
        contract_context(terms)


def test_a_naive_award_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        contract_date(contract_terms(awarded_at=datetime(2026, 3, 1, 17, 30)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.000"), "12"),
        (Decimal("12500"), "12,500"),
        (Decimal("2.50"), "2.5"),
        (Decimal("1E+3"), "1,000"),
        (Decimal("0.125"), "0.125"),
    ],
)
def test_quantity_text(value: Decimal, expected: str) -> None:
    assert quantity_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1350"), "CNY 1,350.00"),
        (Decimal("2875.5"), "CNY 2,875.50"),
        (Decimal("0.0035"), "CNY 0.0035"),
        (Decimal("12.345"), "CNY 12.345"),
        (Decimal("1234.56789"), "CNY 1,234.5679"),
        (Decimal("0.005"), "CNY 0.005"),
    ],
)
def test_unit_price_text(value: Decimal, expected: str) -> None:
    assert unit_price_text(value, "CNY") == expected


def test_temperature_text() -> None:
    cold = TemperatureRange(min_celsius=Decimal(-20), max_celsius=Decimal("-18.5"))
    assert temperature_text(cold) == "-20.0 °C ~ -18.5 °C"
