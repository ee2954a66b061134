"""Related organisations: each reason alone, and the normalising behind them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rules.credit_code import credit_code_problem, make_credit_code
from rules.related_parties import (
    PartyFacts,
    credit_code_root,
    normalise_address,
    normalise_email,
    related_party_reasons,
)

# MA5DLQQW0 is a valid GB 11714 organisation code (rules/credit_code.py works it by hand):
# registered in Shanghai Pudong (310115) and again in Shenzhen (440300), the same entity.
PUDONG = make_credit_code("91310115MA5DLQQW0")
SHENZHEN = make_credit_code("91440300MA5DLQQW0")
# Huawei's published code, an unrelated entity.
HUAWEI = "914403001922038216"

SUPPLIER = PartyFacts(
    org_id="org_supplier",
    credit_code=PUDONG,
    registered_address="上海市浦东新区世纪大道100号",
    user_emails=frozenset({"li.wei@supplier.cn", "sales@supplier.cn"}),
)
BUYER = PartyFacts(
    org_id="org_buyer",
    credit_code=HUAWEI,
    registered_address="深圳市龙岗区坂田华为基地",
    user_emails=frozenset({"buyer@buyer.cn"}),
)


def test_the_fixture_codes_are_valid() -> None:
    assert [credit_code_problem(c) for c in (PUDONG, SHENZHEN, HUAWEI)] == [None, None, None]


def test_credit_code_root_is_the_organisation_code() -> None:
    assert credit_code_root(PUDONG) == credit_code_root(SHENZHEN) == "MA5DLQQW0"
    assert credit_code_root(HUAWEI) == "192203821"
    assert credit_code_root(f" {PUDONG.lower()} ") == "MA5DLQQW0"
    with pytest.raises(ValueError, match="18 characters"):
        credit_code_root("MA5DLQQW0")


def test_addresses_are_compared_written_one_way() -> None:
    spaced = "上海市 浦东新区 世纪大道100号"
    full_width = "上海市浦东新区世纪大道１００号"
    assert (
        normalise_address(spaced) == normalise_address(full_width) == "上海市浦东新区世纪大道100号"
    )
    # CJK punctuation, full-width brackets and case
    assert normalise_address("上海市，浦东新区（世纪大道）100号 A座") == normalise_address(
        "上海市浦东新区世纪大道100号a座"
    )
    assert normalise_address(" ，。 ") == ""


def test_emails_are_compared_written_one_way() -> None:
    assert normalise_email(" Li.Wei+Loans@Supplier.CN ") == "li.wei@supplier.cn"
    assert normalise_email("li.wei@supplier.cn") == "li.wei@supplier.cn"
    assert normalise_email("not an address") == "not an address"


def test_unrelated_organisations_have_no_reason() -> None:
    assert related_party_reasons(SUPPLIER, BUYER) == ()


def test_the_same_organisation() -> None:
    assert related_party_reasons(SUPPLIER, replace(SUPPLIER, org_id="org_supplier")) == (
        "both are organisation org_supplier",
        "users in both organisations: li.wei@supplier.cn, sales@supplier.cn",
        f"credit codes {PUDONG} and {PUDONG} share the organisation code MA5DLQQW0",
        "the same registered address: 上海市浦东新区世纪大道100号",
    )


def test_a_shared_user_alone() -> None:
    buyer = replace(BUYER, user_emails=frozenset({"buyer@buyer.cn", "LI.WEI+b@supplier.cn"}))
    assert related_party_reasons(SUPPLIER, buyer) == (
        "users in both organisations: li.wei@supplier.cn",
    )


def test_blank_emails_relate_nobody() -> None:
    a = replace(SUPPLIER, user_emails=frozenset({"", " ", "+x@supplier.cn"}))
    b = replace(BUYER, user_emails=frozenset({"", " ", "+y@supplier.cn"}))
    assert related_party_reasons(a, b) == ()


def test_the_same_credit_code_root_alone() -> None:
    buyer = replace(BUYER, credit_code=SHENZHEN)
    assert related_party_reasons(SUPPLIER, buyer) == (
        f"credit codes {PUDONG} and {SHENZHEN} share the organisation code MA5DLQQW0",
    )


def test_a_malformed_code_relates_nobody() -> None:
    assert (
        related_party_reasons(replace(SUPPLIER, credit_code=""), replace(BUYER, credit_code=""))
        == ()
    )


def test_the_same_registered_address_alone() -> None:
    buyer = replace(BUYER, registered_address="上海市 浦东新区 世纪大道１００号")
    assert related_party_reasons(SUPPLIER, buyer) == (
        "the same registered address: 上海市浦东新区世纪大道100号",
    )


@pytest.mark.parametrize(("a", "b"), [(None, None), ("", ""), (" 。", "，"), (None, "")])
def test_missing_addresses_relate_nobody(a: str | None, b: str | None) -> None:
    pair = replace(SUPPLIER, registered_address=a), replace(BUYER, registered_address=b)
    assert related_party_reasons(*pair) == ()
