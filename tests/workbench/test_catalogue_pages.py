"""The catalogue's pages over the real API and worker: a buyer's Chinese synonym finds the
product with why it matched, the comparison shows every eligible offer (a suspended supplier's
is not among them), "order now" needs the form's CSRF token and starts the purchase's process;
a supplier gets no comparison or order (the API's 403) but its imports and templates.

Offers are written as a listing writes them, into a category of this module's own (the database
is shared), by two accredited suppliers and a suspended one offering the cheapest price.
"""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from rules.waybill_parties import china_today
from storage.object_store import ObjectStore
from tests.harness import catalogue_offers as c
from tests.harness import catalogue_shop
from tests.harness import sourcing as s
from tests.harness.catalogue_shop import NAME, Shop
from tests.harness.temporal import eventually
from tests.harness.workbench import Person
from workbench.pages import catalogue_imports
from workbench.pages.catalogue import PAGE_SIZE

PLACE = "上海市浦东新区张江路 1 号 Zhangjiang Road 1, Shanghai"


@pytest.fixture(scope="module")
def shop(api_url: str, sessions: sessionmaker[Session], store: ObjectStore) -> Shop:
    return catalogue_shop.shop(sessions, store)


def _signed_in(api_url: str, email: str) -> Iterator[Person]:
    person = Person(api_url)
    assert person.sign_in(email).status_code == 200
    yield person
    person.close()


@pytest.fixture
def buyer(api_url: str, shop: Shop) -> Iterator[Person]:
    yield from _signed_in(api_url, shop.buyer_email)


@pytest.fixture
def supplier(api_url: str, shop: Shop) -> Iterator[Person]:
    yield from _signed_in(api_url, shop.supplier_email)


def comparing(shop: Shop) -> dict[str, str]:
    return {
        "quantity": "10",
        "needed_by": (china_today() + timedelta(days=10)).isoformat(),
        "delivery_region": "CN-SH",
        "delivery_place": PLACE,
    }


def order_form(shop: Shop) -> dict[str, str]:
    return {
        "offer_id": shop.offer_id,
        "quantity": "10",
        "delivery_region": "CN-SH",
        "delivery_place": PLACE,
        "idempotency_key": uuid.uuid4().hex,
    }


def test_a_chinese_synonym_finds_the_product_and_says_why(shop: Shop, buyer: Person) -> None:
    found = buyer.get("/workbench/catalogue", q="螺丝刀", category=shop.category)
    assert found.status_code == 200, found.text
    assert 'data-nav="catalogue"' in found.text and "商品目录" in found.text
    row = _row(found.text, shop.product_id)
    assert NAME in row and 'data-kind="synonym"' in row and "同义词" in row
    # Two offers buyers may see, the best 8.00: the suspended supplier's 1.00 is not one.
    assert "CNY 8.00" in row and "CNY 1.00" not in row
    assert re.search(r'<td class="num">2</td>', row), row
    assert 'data-facet="brand" data-value="世达"' in found.text
    english = buyer.get(
        "/workbench/lang/en", next=f"/workbench/catalogue?q=改锥&category={shop.category}"
    )
    assert "Why it matched" in english.text and "synonym" in _row(english.text, shop.product_id)


def test_a_category_browsed_by_price_pages_on_and_a_price_band_narrows_it(
    shop: Shop, buyer: Person, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    category, seller = c.category(sessions), s.accredited_supplier(sessions, store)
    for i in range(PAGE_SIZE + 1):  # one more than a page; the dearest costs 12.00 + i
        offer = c.terms([("1", f"{12 + i}.00")], unit="件")
        c.list_offer(sessions, seller.id, offer, category_id=category, model=f"W-{i}",
                     name=f"活动扳手 {i}", brand="Stanley")  # fmt: skip
    first = buyer.get("/workbench/catalogue", category=category, sort="price")
    assert first.text.count("<tr data-row=") == PAGE_SIZE
    following = re.search(r'<a href="([^"]+)" data-testid="next-page"', first.text)
    assert following is not None and "活动扳手 20" not in first.text
    second = buyer.http.get(html.unescape(following.group(1)))
    assert second.text.count("<tr data-row=") == 1 and "活动扳手 20" in second.text
    band = re.search(r'<a href="([^"]+)" data-facet="price" data-value="10-100"', first.text)
    assert band is not None
    narrowed = buyer.http.get(html.unescape(band.group(1)))
    assert 'name="price_max" value="99.9999"' in narrowed.text
    assert narrowed.text.count("<tr data-row=") == PAGE_SIZE
    # In stock and a minimum order of at most 1 (these offers: 1,000 held, none the least
    # order), each a link setting its filter, shown on as it is.
    for facet, value, field in [("in_stock", "true", "checked"), ("moq", "1", 'value="1"')]:
        shown = f'data-facet="{facet}" data-value="{value}"'
        link = re.search(rf'<a href="([^"]+)" {shown}', first.text)
        assert link is not None, facet
        kept = buyer.http.get(html.unescape(link.group(1)))
        assert kept.text.count("<tr data-row=") == PAGE_SIZE and field in kept.text
        assert f'{shown} class="on"' in kept.text
    assert "起订量 ≤ 1" in first.text and "有现货" in first.text


def test_a_bad_filter_is_refused_naming_it(shop: Shop, buyer: Person) -> None:
    refused = buyer.get("/workbench/catalogue", q="螺丝刀", price_min="-1")
    assert refused.status_code == 422 and "price_min" in refused.text


def test_the_comparison_shows_every_eligible_offer_and_no_suspended_one(
    shop: Shop, buyer: Person
) -> None:
    page = buyer.get(f"/workbench/catalogue/products/{shop.product_id}")
    assert page.status_code == 200 and 'data-testid="compare-form"' in page.text
    compared = buyer.get(f"/workbench/catalogue/products/{shop.product_id}", **comparing(shop))
    assert compared.status_code == 200, compared.text
    best, other = _row(compared.text, shop.offer_id), _row(compared.text, shop.other_offer_id)
    assert "#1" in best and "CNY 8.00" in best and 'data-testid="order-form"' in best
    assert "#2" in other and "CNY 9.00" in other
    assert shop.suspended_offer_id not in compared.text
    assert shop.suspended_name not in compared.text
    assert 'data-testid="rfq-form"' in compared.text and 'form="rfq-form"' in compared.text


def test_a_supplier_gets_no_comparison_and_cannot_order(shop: Shop, supplier: Person) -> None:
    page = supplier.get(f"/workbench/catalogue/products/{shop.product_id}")
    assert page.status_code == 200 and NAME in page.text
    assert 'data-testid="compare-form"' not in page.text
    assert 'data-testid="buyers-only"' in page.text
    refused = supplier.get(f"/workbench/catalogue/products/{shop.product_id}", **comparing(shop))
    assert refused.status_code == 403
    assert supplier.post("/workbench/catalogue/orders", order_form(shop)).status_code == 403


def test_a_supplier_sees_its_imports_and_downloads_a_template(
    shop: Shop, supplier: Person, buyer: Person
) -> None:
    page = supplier.get("/workbench/catalogue/imports")
    assert page.status_code == 200 and 'data-testid="upload-form"' in page.text
    link = f"/workbench/catalogue/categories/{shop.category}/template?format=csv"
    assert link.replace("&", "&amp;") in page.text or link in page.text
    template = supplier.http.get(link)
    assert template.status_code == 200 and "attachment" in template.headers["content-disposition"]
    uploaded = supplier.http.post(
        "/workbench/catalogue/imports",
        data={"csrf": supplier.csrf, "category_id": shop.category, "on_error": "skip"},
        files={"file": ("listing.csv", template.content, "text/csv")},
    )
    assert uploaded.status_code == 200, uploaded.text  # back on the imports page
    assert "listing.csv" in uploaded.text and 'data-testid="imports"' in uploaded.text
    assert buyer.get("/workbench/catalogue/imports").status_code == 403


def test_the_imports_page_pages_newest_first(
    shop: Shop, supplier: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of one import: the second upload first, the first on the next page."""
    link = f"/workbench/catalogue/categories/{shop.category}/template?format=csv"
    template = supplier.http.get(link).content
    for name in ("first.csv", "second.csv"):
        supplier.http.post(
            "/workbench/catalogue/imports",
            data={"csrf": supplier.csrf, "category_id": shop.category, "on_error": "skip"},
            files={"file": (name, template, "text/csv")},
        ).raise_for_status()
    monkeypatch.setattr(catalogue_imports, "SHOWN", 1)
    page = supplier.get("/workbench/catalogue/imports")
    assert "second.csv" in page.text and "first.csv" not in page.text
    found = re.search(r'href="([^"]+)" data-testid="next-page"', page.text)
    assert found is not None
    url = httpx.URL(html.unescape(found.group(1)))
    following = supplier.get(url.path, **dict(url.params))
    assert "first.csv" in following.text and "second.csv" not in following.text
    assert 'data-testid="first-page"' in following.text


async def test_a_buyer_orders_with_the_forms_token_and_the_purchase_starts(
    shop: Shop, buyer: Person, worker: None
) -> None:
    without = await asyncio.to_thread(
        buyer.http.post, "/workbench/catalogue/orders", data=order_form(shop)
    )
    assert without.status_code == 403  # no CSRF token: refused before anything is ordered
    placed = await asyncio.to_thread(buyer.post, "/workbench/catalogue/orders", order_form(shop))
    assert placed.status_code == 200, placed.text
    found = re.search(r'data-purchase-id="([^"]+)"', placed.text)
    assert found is not None and 'data-testid="order-accepted"' in placed.text
    path = f"/workbench/catalogue/orders/{found.group(1)}"

    async def reserved() -> httpx.Response | None:
        page = await asyncio.to_thread(buyer.get, path)
        assert page.status_code == 200, page.status_code
        assert 'data-status="reserved"' in page.text, "not reserved yet"
        return page

    page = await eventually(reserved, attempts=1200, interval=0.1)
    assert shop.offer_id in page.text and 'data-testid="cat_process"' in page.text
    process = await asyncio.to_thread(
        buyer.get, f"/workbench/processes/CatalogueOrder:{found.group(1)}"
    )
    assert process.status_code == 200  # the purchase's own process, under the API's rule


async def test_the_ticked_suppliers_are_asked_for_quotes(
    shop: Shop, buyer: Person, worker: None
) -> None:
    path = f"/workbench/catalogue/products/{shop.product_id}"
    compared = await asyncio.to_thread(buyer.get, path, **comparing(shop))
    ticked = re.findall(r'name="supplier_ids" value="([^"]+)" form="rfq-form"', compared.text)
    assert len(ticked) == 2, ticked  # the two accredited suppliers; never the suspended one
    form = {
        "csrf": buyer.csrf,
        "product_id": shop.product_id,
        "quantity": "10",
        "unit": "件",
        "needed_by": comparing(shop)["needed_by"],
        "delivery_place": PLACE,
        "payment_terms": "货到验收合格后30天内付款",
    }
    post = buyer.http.post
    none = await asyncio.to_thread(post, "/workbench/catalogue/rfqs", data=form)
    assert none.status_code == 422 and "supplier_ids" in none.text
    opened = await asyncio.to_thread(
        post, "/workbench/catalogue/rfqs", data={**form, "supplier_ids": ticked}
    )
    assert opened.status_code == 200, opened.text
    found = re.search(r'data-rfq-id="([^"]+)"', opened.text)
    assert found is not None and 'data-testid="rfq-register"' in opened.text
    rfq_id = found.group(1)

    async def listed() -> bool | None:
        register = await asyncio.to_thread(buyer.get, "/workbench/registers/rfqs", q=rfq_id)
        assert f'data-row="{rfq_id}"' in register.text, "not in the register yet"
        return True

    await eventually(listed, attempts=600, interval=0.1)


def _row(page: str, key: str) -> str:
    """The table row a product or offer id marks."""
    found = re.search(rf'<tr data-(?:row|offer)="{re.escape(key)}".*?</tr>', page, re.S)
    assert found is not None, f"no row {key}"
    return found.group(0)
