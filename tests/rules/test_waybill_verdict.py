"""The check's verdict says which rulebook it applied and, under ADR, how the load stands against
the small-load exemption (ADR 1.1.3.6), as information: it relaxes no rule."""

from __future__ import annotations

from decimal import Decimal

from rules.waybill import check_waybill
from tests.rules.test_waybill import waybill


def test_a_chinese_load_is_judged_by_jt_t_617_and_shows_its_small_load_assessment() -> None:
    # Acetone 1000 L and hydrochloric acid 2000 L, both packing group II in transport category
    # 2 (ADR 3.2 Table A column 15, factor 3 by 1.1.3.6.4): 3000 + 6000 points, over 1000.
    check = check_waybill(waybill())
    assert check.rulebook.startswith("JT/T 617.7-2018")
    assert check.small_load is not None
    assert check.small_load.status == "over_limit"
    assert check.small_load.points == Decimal(9000)
    assert check.ok  # being over the limit is no violation: the full rules simply apply


def test_a_us_load_is_judged_by_49_cfr_and_has_no_small_load_assessment() -> None:
    check = check_waybill(waybill(jurisdiction="US"))
    assert check.rulebook == "49 CFR 177.848"
    assert check.small_load is None
