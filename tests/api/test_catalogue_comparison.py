"""One-click comparison from a product over the real API: every eligible offer side by side,
with the very figures an RFQ comparison shows for quotes of the same prices, on the buyer's VAT
basis; a suspended supplier's offer, an offer not delivering to the buyer's province and one in
another currency are not compared; suppliers' people cannot compare as buyers. The RFQ made from
a selection carries the products' descriptions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from contracts.catalogue import OfferTerms
from contracts.common import Role
from contracts.sourcing import Quote, QuoteLine, QuoteTerms, RfqLine
from db.models import Organisation
from db.session import transaction
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import catalogue_offers as c
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.comparison_rows import closed_rfq
from tests.harness.temporal import eventually

TODAY = datetime.now(UTC).date()
NEEDED_BY = TODAY + timedelta(days=10)
# The product's offers by supplier: price breaks, short stock, late, an MOQ above the quantity.
ACETONE = {
    "a": c.terms([("1", "12.50"), ("100", "10.80")], stock="500", moq="10", lead_time_days=3,
                 logistics="20"),
    "b": c.terms([("1", "11.00"), ("500", "9.50")], stock="200", lead_time_days=15,
                 regions=("CN",)),
    "c": c.terms([("1", "10.00")], moq="500", lead_time_days=2, logistics="50",
                 regions=("CN-SH", "CN-JS")),
}  # fmt: skip
REAGENT = {
    "a": c.terms([("1", "200")], stock="100", unit="kit"),
    "b": c.terms([("1", "190"), ("50", "180")], stock="10", unit="kit", regions=("CN",)),
}
QUANTITIES = {"acetone": Decimal(300), "reagent": Decimal(40)}


@dataclass
class Catalogue:
    buyer: TokenCaller
    suppliers: dict[str, TokenCaller]
    products: dict[str, str]  # acetone / reagent -> product id
    offers: dict[tuple[str, str], str]  # (product, supplier) -> offer id
    sessions: sessionmaker[Session]


@pytest.fixture(scope="module")
def catalogue(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> Iterator[Catalogue]:
    def caller(org: Organisation, role: Role) -> TokenCaller:
        return TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, role))

    scores = {"a": 85, "b": 70, "c": 90}
    orgs = {k: s.accredited_supplier(sessions, store, score=Decimal(v)) for k, v in scores.items()}
    category = c.category(sessions)
    model = uuid.uuid4().hex[:8]
    offers: dict[tuple[str, str], str] = {}
    products: dict[str, str] = {}
    listed: dict[str, dict[str, OfferTerms]] = {"acetone": ACETONE, "reagent": REAGENT}
    for product, by_supplier in listed.items():
        for key, offer in by_supplier.items():
            written = c.list_offer(
                sessions,
                orgs[key].id,
                offer,
                category_id=category,
                model=f"{product}-{model}",
                name="丙酮 Acetone" if product == "acetone" else "冷藏试剂 Chilled reagent kit",
                un_number="UN1090" if product == "acetone" else None,
                packing_group="II" if product == "acetone" else None,
                temperature_profile="refrigerated" if product == "reagent" else None,
            )
            offers[(product, key)] = written.offer_id
            products[product] = written.product_id
    # Seen but not compared: another currency; not seen in Shanghai: Guangdong only.
    c.list_offer(sessions, orgs["a"].id, c.terms([("1", "1.60")], currency="USD"),
                 category_id=category, model=f"acetone-{model}", name="丙酮 Acetone",
                 un_number="UN1090", packing_group="II")  # fmt: skip
    c.list_offer(sessions, orgs["b"].id, c.terms([("1", "1.00")], regions=("CN-GD",)),
                 category_id=category, model=f"acetone-{model}", name="丙酮 Acetone",
                 un_number="UN1090", packing_group="II")  # fmt: skip
    yield Catalogue(
        buyer=caller(s.buyer_org(sessions), Role.BUYER),
        suppliers={k: caller(org, Role.SUPPLIER) for k, org in orgs.items()},
        products=products,
        offers=offers,
        sessions=sessions,
    )


def request(catalogue: Catalogue, **changes: Any) -> dict[str, Any]:
    return {
        "products": [
            {"product_id": catalogue.products[name], "quantity": str(quantity)}
            for name, quantity in QUANTITIES.items()
        ],
        "needed_by": NEEDED_BY.isoformat(),
        "delivery_region": "CN-SH",
        "delivery_place": "上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
    } | changes


def rfq_of_the_same_prices(catalogue: Catalogue) -> str:
    """The products as an RFQ's lines, each supplier's offers as its quote: closed, as rows."""
    buyer = s.member(catalogue.sessions, s.org_row(catalogue.sessions, catalogue.buyer.org_id),
                     Role.BUYER)  # fmt: skip
    orgs = {k: s.org_row(catalogue.sessions, t.org_id) for k, t in catalogue.suppliers.items()}
    lines = tuple(
        RfqLine(line_id=name.upper(), description=name, quantity=q, unit=unit)
        for (name, q), unit in zip(QUANTITIES.items(), ("L", "kit"), strict=True)
    )
    rfq = s.rfq(buyer, list(orgs.values()), now=datetime.now(UTC), rfq_lines=lines)
    rfq = rfq.model_copy(update={"needed_by": NEEDED_BY})
    quotes = []
    for key, org in orgs.items():
        offered = [(name.upper(), by[key]) for name, by in (("acetone", ACETONE),
                   ("reagent", REAGENT)) if key in by]  # fmt: skip
        quotes.append(
            Quote(
                quote_id=f"{rfq.rfq_id}:{org.id}:r1",
                rfq_id=rfq.rfq_id,
                supplier_org_id=org.id,
                revision=1,
                terms=QuoteTerms(
                    lines=tuple(_quoted(line_id, offer) for line_id, offer in offered),
                    valid_until=TODAY + timedelta(days=30),
                    tax_rate=Decimal("0.13"),
                ),
                submitted_by="usr_test",
                submitted_at=datetime.now(UTC),
            )
        )
    return closed_rfq(catalogue.sessions, rfq, quotes, [org.id for org in orgs.values()])


def _quoted(line_id: str, offer: OfferTerms) -> QuoteLine:
    """What a supplier quoting its catalogue prices in an RFQ states."""
    return QuoteLine(
        line_id=line_id,
        unit_price=offer.price_breaks[0].unit_price,
        price_breaks=offer.price_breaks,
        stock_available=offer.stock,
        min_order_quantity=offer.min_order_quantity,
        lead_time_days=offer.lead_time_days,
        logistics_cost=offer.logistics_cost,
    )


def figures(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each offer's figures, best first, without the ids that name the quote or offer."""
    return [{k: v for k, v in o.items() if k not in ("quote_id", "revision")} for o in offers]


async def test_the_figures_are_an_rfq_comparisons_of_the_same_prices(catalogue: Catalogue) -> None:
    rfq_id = rfq_of_the_same_prices(catalogue)
    for deducts in (True, False):  # a general taxpayer, then a small-scale one
        with transaction(catalogue.sessions) as session:
            session.execute(
                update(Organisation)
                .where(Organisation.id == catalogue.buyer.org_id)
                .values(deducts_input_vat=deducts)
            )
        sourced = await catalogue.buyer.http.get(f"/rfqs/{rfq_id}/comparison?top=200")
        assert sourced.status_code == 200, sourced.text
        compared = await catalogue.buyer.http.post(
            "/catalogue/comparisons", json=request(catalogue)
        )
        assert compared.status_code == 200, compared.text
        answer = compared.json()
        assert answer["deducts_input_vat"] is deducts is sourced.json()["deducts_input_vat"]
        for line, product in zip(sourced.json()["lines"], answer["products"], strict=True):
            shown = [o["figures"] for o in product["offers"]]
            assert figures(shown) == figures(line["offers"])
            assert [o["offer_id"] for o in product["offers"]] == [o["quote_id"] for o in shown]
        acetone, reagent = answer["products"]
        assert (acetone["unit"], acetone["not_compared"], reagent["unit"]) == ("L", 1, "kit")
        assert acetone["un_number"] == "UN1090" and reagent["temperature_profile"] == "refrigerated"
        by_supplier = {o["supplier_org_id"]: o for o in acetone["offers"]}
        a, b, c_ = (by_supplier[catalogue.suppliers[k].org_id] for k in ("a", "b", "c"))
        assert a["figures"]["unit_price"] == "10.80"  # the break from 100
        assert (a["orderable"], b["orderable"], c_["orderable"]) == (True, False, False)
        # Counted from the day compared, which is a day after TODAY if the run crossed midnight.
        arrives = date.fromisoformat(answer["as_of"]) + timedelta(days=15)  # b's lead time
        assert b["figures"]["days_late"] == (arrives - NEEDED_BY).days >= 5
        assert not b["figures"]["stock_covers"]
        assert not c_["figures"]["moq_fits"] and c_["figures"]["rank"] == 3


async def test_a_suspended_suppliers_offer_is_not_compared(catalogue: Catalogue) -> None:
    before = await catalogue.buyer.http.post("/catalogue/comparisons", json=request(catalogue))
    c_id = catalogue.suppliers["c"].org_id
    assert c_id in {o["supplier_org_id"] for o in before.json()["products"][0]["offers"]}
    s.set_standing(catalogue.sessions, c_id, "suspended")
    try:
        after = await catalogue.buyer.http.post("/catalogue/comparisons", json=request(catalogue))
        offers = after.json()["products"][0]["offers"]
        assert c_id not in {o["supplier_org_id"] for o in offers}
        assert [o["figures"]["rank"] for o in offers] == [1, 2]
    finally:
        s.set_standing(catalogue.sessions, c_id, "accredited")


async def test_suppliers_people_cannot_compare_as_buyers(
    catalogue: Catalogue, api_url: str, settings: Settings
) -> None:
    as_supplier = await catalogue.suppliers["a"].http.post(
        "/catalogue/comparisons", json=request(catalogue)
    )
    assert as_supplier.status_code == 403
    org = s.org_row(catalogue.sessions, catalogue.suppliers["a"].org_id)
    posing = TokenCaller(
        api_url, settings.jwt_secret, s.member(catalogue.sessions, org, Role.BUYER)
    )
    as_buyer_role = await posing.http.post("/catalogue/comparisons", json=request(catalogue))
    assert as_buyer_role.status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"delivery_region": "CN-XX"}, "delivery_region"),
        ({"needed_by": TODAY.isoformat()}, "needed_by"),
        ({"products": [{"product_id": "prd_none", "quantity": "1"}]}, "products.0.product_id"),
    ],
    ids=["region", "needed_by", "product"],
)
async def test_bad_requests_name_the_field(
    catalogue: Catalogue, changes: dict[str, Any], field: str
) -> None:
    refused = await catalogue.buyer.http.post(
        "/catalogue/comparisons", json=request(catalogue, **changes)
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == field


async def test_a_selection_becomes_an_rfq_to_the_chosen_suppliers(
    catalogue: Catalogue, worker: None
) -> None:
    a, b = catalogue.suppliers["a"].org_id, catalogue.suppliers["b"].org_id
    body = request(catalogue) | {
        "supplier_ids": [a, b],
        "quote_deadline": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "payment_terms": "验收后30天付款 30 days after acceptance",
    }
    del body["delivery_region"]
    opened = await catalogue.buyer.http.post("/catalogue/rfqs", json=body)
    assert opened.status_code == 202, opened.text
    url = opened.json()["url"]

    async def recorded() -> dict[str, Any] | None:
        answer = await catalogue.buyer.http.get(url)
        return answer.json() if answer.status_code == 200 else None

    rfq = await eventually(recorded, attempts=600, interval=0.1)
    acetone, reagent = rfq["lines"]
    assert (acetone["description"], acetone["quantity"], acetone["unit"]) == (
        "丙酮 Acetone",
        "300",
        "L",
    )
    assert acetone["specification"].endswith("长度 Length: 100 mm")
    assert (acetone["un_number"], acetone["packing_group"]) == ("UN1090", "II")
    assert reagent["temperature"]["min_celsius"] == "2"
    assert reagent["temperature"]["max_celsius"] == "8"
    assert sorted(i["supplier_org_id"] for i in rfq["invitations"]) == sorted([a, b])
    nobody = body | {"supplier_ids": [catalogue.buyer.org_id]}
    refused = await catalogue.buyer.http.post("/catalogue/rfqs", json=nobody)
    assert refused.json()["errors"][0]["field"] == "supplier_ids.0"
