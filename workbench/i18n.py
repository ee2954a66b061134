"""The workbench's two languages and its one time zone.

Every label a page shows is a key of ``MESSAGES`` with its Chinese and English text (each page's
table in its own ``labels_*`` module, merged here), so a page is never half translated; a key
missing from the table fails the page test that renders it rather than showing the raw key.
Dates and times are shown in China Standard Time whatever the server's zone, since that is where
the platform's people work and where the regulator reads the filings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from workbench import (
    labels_catalogue,
    labels_dashboard,
    labels_facts,
    labels_pages,
    labels_registers,
    labels_waybill,
)

CHINA = ZoneInfo("Asia/Shanghai")


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


def _merged(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One table from each page's; a key two pages define is a mistake, refused at import."""
    merged: dict[str, tuple[str, str]] = {}
    for table in tables:
        clash = merged.keys() & table.keys()
        if clash:
            raise ValueError(f"labels defined twice: {sorted(clash)}")
        merged.update(table)
    return merged


# key: (中文, English)
MESSAGES = _merged(
    labels_pages.LABELS,
    labels_registers.LABELS,
    labels_dashboard.LABELS,
    labels_facts.LABELS,
    labels_waybill.LABELS,
    labels_catalogue.LABELS,
)


# The process a workflow id names (the part before its first colon), in words.
PROCESSES: dict[str, tuple[str, str]] = {
    "Accreditation": ("供应商准入", "Accreditation"),
    "Rfq": ("询价", "Request for quotation"),
    "Contract": ("电子合同", "E-contract"),
    "Order": ("订单履约", "Order fulfilment"),
    "ColdChain": ("冷链运输", "Cold chain"),
    "loan": ("订单融资", "Order loan"),
    "finance-reconciliation": ("银行对账", "Bank reconciliation"),
    "notification": ("通知投递", "Notification delivery"),
}


def process_of(workflow_id: str) -> str:
    """The process a workflow id belongs to: the prefix its contract's id helper gives it."""
    return workflow_id.split(":", 1)[0]


def process_label(lang: Lang, process: str) -> str:
    """A process's name in ``lang``; a process not named here shows its id prefix."""
    names = PROCESSES.get(process)
    return process if names is None else names[0 if lang is Lang.ZH else 1]


def translator(lang: Lang) -> Callable[[str], str]:
    """``t(key)``: the label in ``lang``; an unknown key raises, so no page shows a raw key."""
    index = 0 if lang is Lang.ZH else 1

    def t(key: str) -> str:
        return MESSAGES[key][index]

    return t


def both(key: str) -> str:
    """Both languages at once, for what has to read in either (error pages before a choice)."""
    zh, en = MESSAGES[key]
    return f"{zh} / {en}"


def china_time(moment: datetime | date | None, *, with_time: bool = True) -> str:
    """A moment as people here read it: China Standard Time, to the minute."""
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return moment.isoformat()
    # isoformat, not strftime: a third of the time, and a register formats one a row.
    local = moment.astimezone(CHINA)
    return local.isoformat(" ", "minutes")[:16] if with_time else local.date().isoformat()


def money(amount: Decimal | str | None, currency: str = "") -> str:
    """An amount with thousands separators and its currency, never a float on the way."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount))
    return f"{currency} {value:,.2f}".strip()
