"""A buyer at the catalogue in Chromium: from the navigation to the search (a synonym of the
product's name, typed in Chinese), to the product, to the comparison of its offers; the pages
kept as screenshots (the comparison in English too), and their Chinese drawn with a CJK font,
not as empty boxes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from rules.waybill_parties import china_today
from storage.object_store import ObjectStore
from tests.browser.conftest import OpenTab, Tab
from tests.harness import catalogue_shop
from tests.harness.catalogue_shop import NAME, Shop

PLACE = "上海市浦东新区张江路 1 号"


@pytest.fixture(scope="module")
def shop(api_url: str, sessions: sessionmaker[Session], store: ObjectStore) -> Shop:
    return catalogue_shop.shop(sessions, store)


async def drawn_with(tab: Tab, selector: str) -> dict[str, int]:
    """The fonts Chromium drew the text of the element ``selector`` finds with, and how many
    glyphs each (DevTools' ``CSS.getPlatformFontsForNode``): what was rendered, not what the
    stylesheet asked for."""
    cdp = await tab.page.context.new_cdp_session(tab.page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument", {"depth": 0})
    node = await cdp.send(
        "DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector}
    )
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    await cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts["fonts"]}


async def test_a_buyer_searches_opens_the_product_and_compares_its_offers(
    open_tab: OpenTab, shop: Shop
) -> None:
    buyer = await open_tab(shop.buyer_email)
    await buyer.page.locator("nav.main a[data-nav=catalogue]").click()
    await buyer.page.wait_for_url("**/workbench/catalogue")
    search = buyer.page.get_by_test_id("catalogue-search")
    await search.locator("input[name=q]").fill("螺丝刀")
    await search.locator("select[name=category]").select_option(shop.category)
    await search.locator("button[type=submit]").click()
    row = buyer.page.locator(f"tr[data-row='{shop.product_id}']")
    await row.wait_for()
    assert await row.locator(".match[data-kind=synonym]").count() >= 1
    assert "CNY 8.00" in await row.get_by_test_id("best-price").inner_text()
    await buyer.shoot("catalogue-search-zh")

    await row.get_by_role("link", name=NAME).click()
    await buyer.page.wait_for_url(f"**/workbench/catalogue/products/{shop.product_id}")
    heading = buyer.page.get_by_test_id("product-name")
    assert await heading.inner_text() == NAME
    # Every glyph of the name (CJK, digits) drawn by a font that has Chinese.
    drawn = await drawn_with(buyer, "[data-testid=product-name]")
    chinese = sum(n for family, n in drawn.items() if "WenQuanYi" in family or "CJK" in family)
    assert chinese >= sum(1 for ch in NAME if "\u4e00" <= ch <= "\u9fff"), drawn

    compare = buyer.page.get_by_test_id("compare-form")
    await compare.locator("input[name=quantity]").fill("10")
    needed_by = (china_today() + timedelta(days=10)).isoformat()
    await compare.locator("input[name=needed_by]").fill(needed_by)
    await compare.locator("select[name=delivery_region]").select_option("CN-SH")
    await compare.locator("input[name=delivery_place]").fill(PLACE)
    await compare.locator("button[type=submit]").click()
    offers = buyer.page.get_by_test_id("offers")
    await offers.wait_for()
    best = offers.locator(f"tr[data-offer='{shop.offer_id}']")
    assert await best.get_by_test_id("rank").inner_text() == "#1"
    assert await offers.locator(f"tr[data-offer='{shop.other_offer_id}']").count() == 1
    assert await offers.locator(f"tr[data-offer='{shop.suspended_offer_id}']").count() == 0
    assert await best.get_by_role("button", name="立即下单").is_visible()
    await buyer.shoot("catalogue-comparison-zh")

    await buyer.page.locator(".lang a", has_text="EN").click()  # the same comparison, in English
    await buyer.page.get_by_role("button", name="Order now").first.wait_for()
    await buyer.shoot("catalogue-comparison-en")
