"""The bilingual e-waybill rendered to a real PDF and read back with pypdf.

``WAYBILL`` is a waybill as drafted before carriers made them (issue 9): none of the fields
that came with them, and no maker; ``CARRIER_MADE`` is one a carrier's dispatcher made.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import get_args

import pytest
from pypdf import PdfReader

from contracts.waybill import PlateColour, QualificationCategory
from documents.e_waybill import (
    NOT_FILED,
    PLATE_COLOUR_LABELS,
    QUALIFICATION_LABELS,
    TEMPLATE,
    ClassView,
    class_view,
    cst_text,
    qualification_text,
    render_waybill_pdf,
    totals_text,
    waybill_context,
)
from documents.render import render_html
from tests.harness.waybills import HYDROCHLORIC_ACID
from tests.rules.test_waybill import ACETONE, CHLORINE, WAYBILL

MADE_BY = "江苏安达危险品运输有限公司 · 调度员 李强"
CARRIER_MADE = WAYBILL.model_copy(
    update={
        "consignor": WAYBILL.consignor.model_copy(update={"contact_name": "张伟"}),
        "consignee": WAYBILL.consignee.model_copy(update={"contact_name": "陈静"}),
        "vehicle": WAYBILL.vehicle.model_copy(update={"plate_colour": "yellow"}),
        "driver": WAYBILL.driver.model_copy(update={"qualification_categories": ("dg_driver",)}),
        "escort": WAYBILL.escort.model_copy(
            update={"qualification_categories": ("dg_escort", "dg_loading_manager")}
        ),
        "gross_mass_kg": Decimal("3650.5"),
        "dispatcher": "李强",
        "remarks": "夜间不得停靠服务区。\nNo overnight stops at service areas.",
    }
)

RECEIPT = "JTYS-320000-20260410-000123"
# 23:42 UTC on 9 April is 07:42 on 10 April in China.
FILED_AT = datetime(2026, 4, 9, 23, 42, tzinfo=UTC)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def filed_text() -> str:
    pdf = render_waybill_pdf(WAYBILL, receipt_number=RECEIPT, filed_at=FILED_AT, status="filed")
    assert pdf.startswith(b"%PDF-")
    return pdf_text(pdf)


@pytest.fixture(scope="module")
def draft_text() -> str:
    draft = WAYBILL.model_copy(
        update={
            "driver": WAYBILL.driver.model_copy(update={"name": ""}),
            "items": (ACETONE.model_copy(update={"hazard_class": ""}), CHLORINE),
        }
    )
    return pdf_text(render_waybill_pdf(draft, receipt_number=None, filed_at=None, status="draft"))


@pytest.fixture(scope="module")
def carrier_made_text() -> str:
    pdf = render_waybill_pdf(
        CARRIER_MADE,
        receipt_number=RECEIPT,
        filed_at=FILED_AT,
        status="filed",
        made_by=MADE_BY,
        rulebook="JT/T 617.7-2018",
    )
    return pdf_text(pdf)


def test_filed_waybill_shows_title_receipt_and_filing_time(filed_text: str) -> None:
    for expected in [
        "危险货物道路运输电子运单",
        "Dangerous Goods Road Transport E-Waybill",
        "EW-CT-2026-000981",
        RECEIPT,
        "2026-04-10 07:42 (UTC+8)",
        "已备案 Filed",
        "2026年4月10日",
    ]:
        assert expected in filed_text, expected
    assert "未备案" not in filed_text and "NOT FILED" not in filed_text


def test_filed_waybill_shows_parties_crew_vehicle_and_emergency_contact(filed_text: str) -> None:
    for expected in [
        "91320500MA1XYB1273",
        "91320581MA1W5E8N2U",
        "苏交运管许可苏字320581000123号",
        "苏E·A8231",
        "苏E·T512挂",
        "10,000 kg",
        "王建国",
        "320581198503121234",
        "李芳",
        "320581199011054321",
        "2028年11月5日",
        "24 小时应急联系电话",
        "0512-6688 0119",
        "恒达化学应急中心",
        "2026-04-10 08:00 (UTC+8)",
        "2026-04-10 16:30 (UTC+8)",
    ]:
        assert expected in filed_text, expected


def test_filed_waybill_lists_the_goods_with_class_names_and_descriptions(filed_text: str) -> None:
    for expected in [
        "UN1090",
        "UN1789",
        "第3类 易燃液体",
        "第8类 腐蚀性物质",
        "1,000 L",
        "2,000 L",
        "3,000 L",
        "UN1090, Acetone, 3, II, 1000 L in 5 drums",
        "UN1789, Hydrochloric acid, 8, II, 2000 L in 2 IBCs",
    ]:
        assert expected in filed_text, expected


def test_unfiled_draft_says_so_and_prints_its_gaps(draft_text: str) -> None:
    assert "未备案 NOT FILED" in draft_text
    assert "草稿 Draft" in draft_text
    assert RECEIPT not in draft_text and "备案时间" not in draft_text
    assert "UN1017, Chlorine, 2.3, (5.1, 8), 100 kg in 2 cylinders" in draft_text
    assert "第5.1项 氧化性物质" in draft_text


def test_subsidiary_classes_are_named_in_both_languages() -> None:
    context = waybill_context(
        WAYBILL.model_copy(update={"items": (CHLORINE,)}),
        receipt_number=None,
        filed_at=None,
        status="draft",
    )
    html = render_html(TEMPLATE, context)
    assert "(5.1) <span" in html and "第5.1项 氧化性物质 Oxidizing substances" in html
    assert "(8) <span" in html and "第8类 腐蚀性物质 Corrosive substances" in html
    assert NOT_FILED in html


def test_a_receipt_needs_its_filing_time_and_the_reverse() -> None:
    with pytest.raises(ValueError, match="both"):
        waybill_context(WAYBILL, receipt_number=RECEIPT, filed_at=None, status="filed")
    with pytest.raises(ValueError, match="both"):
        waybill_context(WAYBILL, receipt_number=None, filed_at=FILED_AT, status="filed")


def test_times_print_in_china_standard_time_and_naive_ones_are_refused() -> None:
    assert cst_text(datetime(2026, 4, 10, 16, 5, tzinfo=UTC)) == "2026-04-11 00:05 (UTC+8)"
    with pytest.raises(ValueError, match="timezone"):
        cst_text(datetime(2026, 4, 10, 16, 5))


def test_totals_by_unit_and_class_views() -> None:
    heavy = CHLORINE.model_copy(update={"quantity": Decimal("1250.5")})
    assert totals_text((ACETONE, heavy, HYDROCHLORIC_ACID)) == "3,000 L; 1,250.5 kg"
    assert totals_text(()) == ""
    assert class_view("1.4S").zh == "第1.4项 不呈现重大危险的物质和物品"
    assert class_view("") == ClassView(code="", zh="", en="")  # a draft's missing class


def test_a_carrier_made_waybill_names_its_maker_and_the_rulebook(carrier_made_text: str) -> None:
    """Order No. 29 of 2019, art. 24: the carrier makes the waybill; the PDF says which one,
    and under which mixed-loading rulebook its load was checked (issue 9, section 2)."""
    text = carrier_made_text
    for expected in [
        "承运人（制单）",
        "制单 / Made by",
        MADE_BY,
        "调度员 / Dispatcher",
        "第二十四条，本运单由承运人制作",
        "适用法域",
        "中华人民共和国 China",
        "适用规则",
        "JT/T 617.7-2018",
    ]:
        assert expected in text, expected
    assert "未记录" not in text and "does not record who made it" not in text


def test_a_carrier_made_waybill_prints_the_fields_carriers_now_fill_in(
    carrier_made_text: str,
) -> None:
    text = carrier_made_text
    for expected in [
        "联系人 / Contact 张伟 陈静 —",  # the consignor's and consignee's; no loader
        "车牌颜色 / Plate colour 黄色 Yellow",
        "从业资格类别",
        "危险货物道路运输驾驶员",
        "危险货物道路运输押运人员",
        "危险货物道路运输装卸管理人员",
        "毛重 / Gross mass 3,650.5 kg",
        "备注 / 7. Remarks",
        "夜间不得停靠服务区。",
        "No overnight stops at service areas.",
    ]:
        assert expected in text, expected


def test_a_waybill_without_a_maker_never_claims_the_carrier_made_it(filed_text: str) -> None:
    """Made before carriers made waybills: the carrier block keeps its plain label, the maker
    is "not recorded", and the note states the rule without claiming this one follows it."""
    assert "二、承运人 / 2. Carrier" in filed_text
    assert "制单 / Made by 未记录 / Not recorded" in filed_text
    assert "本运单未记录制单人" in filed_text and "does not record who made it" in filed_text
    assert "承运人（制单）" not in filed_text
    assert "本运单由承运人制作" not in filed_text
    assert "the carrier made this waybill" not in filed_text


def test_fields_an_old_draft_lacks_print_as_dashes_never_none(filed_text: str) -> None:
    for expected in [
        "联系人 / Contact — — —",
        "车牌颜色 / Plate colour —",
        "调度员 / Dispatcher —",
        "毛重 / Gross mass —",
        "适用规则 /",
    ]:
        assert expected in filed_text, expected
    assert "None" not in filed_text
    # An old draft's jurisdiction is China's, the only one filed before there was a choice.
    assert "中华人民共和国 China" in filed_text


def test_a_us_trip_names_its_jurisdiction_and_49_cfr() -> None:
    context = waybill_context(
        CARRIER_MADE.model_copy(update={"jurisdiction": "US"}),
        receipt_number=None,
        filed_at=None,
        status="draft",
        made_by=MADE_BY,
        rulebook="49 CFR 177.848",
    )
    html = render_html(TEMPLATE, context)
    assert "美国 United States" in html and "49 CFR 177.848" in html
    assert "中华人民共和国" not in html


def test_plate_colours_and_qualification_categories_have_bilingual_names() -> None:
    for colour in get_args(PlateColour):
        assert colour == "" or PLATE_COLOUR_LABELS[colour].split(" ")[0].endswith("色")
    assert PLATE_COLOUR_LABELS["yellow_green"] == "黄绿色 Yellow-green"
    assert set(QUALIFICATION_LABELS) == set(get_args(QualificationCategory))
    assert qualification_text(()) == ""
    assert qualification_text(("dg_driver", "dg_escort")).splitlines() == [
        "危险货物道路运输驾驶员 Dangerous goods driver",
        "危险货物道路运输押运人员 Dangerous goods escort",
    ]
