"""The bilingual dangerous-goods road transport e-waybill (危险货物道路运输电子运单) as a PDF.

Rendered from the EWaybill alone plus the regulator's answer: the receipt number and filing
time, or "未备案 NOT FILED" when there is none yet, so a draft's PDF can never pass for a filed
one. Times print in China Standard Time, the regulator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from contracts.waybill import EWaybill, WaybillItem
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
    waybill: EWaybill, *, receipt_number: str | None, filed_at: datetime | None, status: str
) -> bytes:
    """The waybill's PDF bytes, ready to hash and store."""
    return render_pdf(
        TEMPLATE,
        waybill_context(waybill, receipt_number=receipt_number, filed_at=filed_at, status=status),
    )


def waybill_context(
    waybill: EWaybill, *, receipt_number: str | None, filed_at: datetime | None, status: str
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
    }


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
