"""The few columns of ADR 3.2 Table A the platform needs, for the entries it ships them for.

The platform's list is 49 CFR § 172.101 (rules.dangerous_goods), which has no ADR transport
category (Table A column (15)) and no ADR loading provisions (column (18)). ADR is published
freely by UNECE but no licensed machine-readable Table A ships as a package, so
data/dangerous_goods/adr_transport_categories.csv carries a transcribed extract: one row per UN
number and packing group the platform, its demo and its tests use, with the transport category,
the tunnel restriction code printed under it, whether column (18) lists CV28, and the ADR name.
Where it came from and how it was checked is in data/dangerous_goods/SOURCE.md.

An entry that is not on file is not guessed here: rules.adr_exemption applies the ADR 1.1.3.6.3
assignment rule to it where that rule decides, and rules.adr_loading reads CV28 from the ADR
7.5.4 wording (danger labels 6.1, 6.2, and 9 for the UN numbers it names).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from rules.dangerous_goods import DATA_DIR

TABLE_A_FILE = DATA_DIR / "adr_transport_categories.csv"


@dataclass(frozen=True)
class TableAEntry:
    """One row of the extract: an ADR entry at one packing group ("" when it has none)."""

    un_number: str
    packing_group: str
    transport_category: int  # column (15): 0-4
    tunnel_code: str  # column (15), in brackets under the category
    cv28: bool  # column (18) lists CV28 (ADR 7.5.4, foodstuffs)
    adr_name: str


@cache
def _entries() -> dict[tuple[str, str], TableAEntry]:
    with TABLE_A_FILE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        (row["un_number"], row["packing_group"]): TableAEntry(
            un_number=row["un_number"],
            packing_group=row["packing_group"],
            transport_category=int(row["transport_category"]),
            tunnel_code=row["tunnel_code"],
            cv28=row["cv28"] == "yes",
            adr_name=row["adr_name"],
        )
        for row in rows
    }


def table_a(un_number: str, packing_group: str | None) -> TableAEntry | None:
    """The extract's row for the number at the packing group (None: no packing group), if any."""
    return _entries().get((un_number, packing_group or ""))
