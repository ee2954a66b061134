"""The bilingual dangerous-goods road transport e-waybill (危险货物道路运输电子运单) as a PDF.

Rendered from the EWaybill alone plus the regulator's answer: the receipt number and filing
time, or "未备案 NOT FILED" when there is none yet, so a draft's PDF can never pass for a filed
one. Times print in China Standard Time, the regulator's.

Who made it (制单) and the mixed-loading rulebook the check applied come from the caller, since
neither is in the waybill: a waybill without a maker (one a supplier submitted before carriers
made them) says so rather than naming the carrier as its maker. Fields the drafts before issue 9
lack print as "—".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from contracts.waybill import (
    EWaybill,
    Jurisdiction,
    PlateColour,
    QualificationCategory,
    WaybillItem,
)
from documents.e_contract import CHINA_STANDARD_TIME, quantity_text
from documents.render import render_pdf
from rules.dangerous_goods import class_name
from rules.waybill import description_line

TEMPLATE = "e_waybill.html.j2"
NOT_FILED = "未备案 NOT FILED"
# The regulator's filing statuses (contracts.regulator.FilingStatus) and a draft's.
STATUS_LABELS = {
    "draft": "草稿 Draft",
    "filed": "已备案 Filed",
    "departed": "已发车 Departed",
    "delivered": "已送达 Delivered",
    "voided": "已作废 Voided",
}
# Plate backgrounds as GA 36 names them.
PLATE_COLOUR_LABELS: dict[PlateColour, str] = {
    "": "",
    "yellow": "黄色 Yellow",
    "yellow_green": "黄绿色 Yellow-green",
    "blue": "蓝色 Blue",
    "green": "绿色 Green",
    "white": "白色 White",
    "black": "黑色 Black",
}
# The categories on the 从业资格证, named as the 2019 Measures the waybill cites name them.
QUALIFICATION_LABELS: dict[QualificationCategory, str] = {
    "dg_driver": "危险货物道路运输驾驶员 Dangerous goods driver",
    "dg_escort": "危险货物道路运输押运人员 Dangerous goods escort",
    "dg_loading_manager": "危险货物道路运输装卸管理人员 Dangerous goods loading manager",
}
JURISDICTION_LABELS: dict[Jurisdiction, str] = {
    "CN": "中华人民共和国 China",
    "US": "美国 United States",
}


@dataclass(frozen=True, slots=True)
class ClassView:
    """A class or division with its GB 6944 (zh) and UN (en) names; blank names when unstated."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class ItemView:
    number: int
    item: WaybillItem
    hazard_class: ClassView
    subsidiary_classes: tuple[ClassView, ...]
    quantity: str
    description: str


def render_waybill_pdf(
    waybill: EWaybill,
    *,
    receipt_number: str | None,
    filed_at: datetime | None,
    status: str,
    made_by: str = "",
    rulebook: str = "",
) -> bytes:
    """The waybill's PDF bytes, ready to hash and store.

    ``made_by`` names the maker ("江苏安达危险品运输有限公司 · 调度员 李强"), empty when none is
    recorded; ``rulebook`` is the check's (``WaybillCheck.rulebook``), empty when unknown.
    """
    return render_pdf(
        TEMPLATE,
        waybill_context(
            waybill,
            receipt_number=receipt_number,
            filed_at=filed_at,
            status=status,
            made_by=made_by,
            rulebook=rulebook,
        ),
    )


def waybill_context(
    waybill: EWaybill,
    *,
    receipt_number: str | None,
    filed_at: datetime | None,
    status: str,
    made_by: str = "",
    rulebook: str = "",
) -> dict[str, object]:
    """What the template prints; refuses a receipt without its time, or the reverse."""
    if (receipt_number is None) != (filed_at is None):
        raise ValueError("a filed waybill needs both its receipt number and its filing time")
    return {
        "document_id": waybill.waybill_number,
        "waybill": waybill,
        "receipt_number": receipt_number,
        "filed_at": cst_text(filed_at) if filed_at is not None else None,
        "not_filed": NOT_FILED,
        "status": STATUS_LABELS.get(status, status),
        "max_load_kg": quantity_text(waybill.vehicle.max_load_kg),
        "tank_volume_litres": _optional_quantity(waybill.vehicle.tank_volume_litres),
        "planned_loading_at": cst_text(waybill.planned_loading_at),
        "planned_unloading_at": cst_text(waybill.planned_unloading_at),
        "items": [_item_view(number, item) for number, item in enumerate(waybill.items, 1)],
        "totals": totals_text(waybill.items),
        "gross_mass_kg": _optional_quantity(waybill.gross_mass_kg),
        "made_by": made_by.strip(),
        "rulebook": rulebook.strip(),
        "jurisdiction": JURISDICTION_LABELS[waybill.jurisdiction],
        "plate_colour": PLATE_COLOUR_LABELS[waybill.vehicle.plate_colour],
        "qualifications": [
            qualification_text(member.qualification_categories)
            for member in (waybill.driver, waybill.escort)
        ],
    }


def qualification_text(categories: tuple[QualificationCategory, ...]) -> str:
    """The categories' bilingual names, one a line; empty when none is stated."""
    return "\n".join(QUALIFICATION_LABELS[category] for category in categories)


def cst_text(value: datetime) -> str:
    """'2026-04-10 08:00 (UTC+8)'."""
    if value.utcoffset() is None:
        raise ValueError("waybill times must be timezone-aware")
    return value.astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M (UTC+8)")


def totals_text(items: tuple[WaybillItem, ...]) -> str:
    """'3,000 L; 150 kg': the quantities summed by unit, in the order units first appear."""
    sums: dict[str, Decimal] = {}
    for item in items:
        sums[item.unit] = sums.get(item.unit, Decimal(0)) + item.quantity
    return "; ".join(f"{quantity_text(total)} {unit}" for unit, total in sums.items())


def _optional_quantity(value: Decimal | None) -> str | None:
    return None if value is None else quantity_text(value)


def class_view(code: str) -> ClassView:
    if not code:
        return ClassView(code="", zh="", en="")
    zh, en = class_name(code)
    return ClassView(code=code, zh=zh, en=en)


def _item_view(number: int, item: WaybillItem) -> ItemView:
    return ItemView(
        number=number,
        item=item,
        hazard_class=class_view(item.hazard_class),
        subsidiary_classes=tuple(class_view(code) for code in item.subsidiary_classes),
        quantity=quantity_text(item.quantity),
        description=description_line(item),
    )
