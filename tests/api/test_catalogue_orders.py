"""From the catalogue to an order over the real API and worker: the buyer compares, orders the
best in-stock offer, both parties sign the contract an award would have drafted, and the order
starts, waiting for the supplier's confirmation; the stock is held once. Orders the stock or the
MOQ cannot cover, from two suppliers, or by a supplier's people are refused at the edge."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import catalogue_offers as c
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import eventually

PLACE = "上海市金山区化学工业区 Jinshan Chemical Park, Shanghai"


@dataclass
class Shop:
    buyer: TokenCaller
    supplier: TokenCaller
    rival: TokenCaller
    product_id: str
    offer_id: str
    sku: str
    rival_offer_id: str
    sessions: sessionmaker[Session]


@pytest.fixture(scope="module")
def shop(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> Shop:
    def caller(role: Role, org: Any) -> TokenCaller:
        return TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, role))

    supplier = s.accredited_supplier(sessions, store)
    rival = s.accredited_supplier(sessions, store)
    category, model, sku = c.category(sessions), uuid.uuid4().hex[:8], f"AC-{uuid.uuid4().hex[:6]}"
    offer = c.terms([("1", "12.50"), ("100", "10.80")], stock="500", moq="10", logistics="20")
    written = c.list_offer(sessions, supplier.id, offer, category_id=category, model=model,
                           un_number="UN1090", packing_group="II", sku=sku)  # fmt: skip
    dearer = c.terms([("1", "13.00")], stock="50", regions=("CN",))
    other = c.list_offer(sessions, rival.id, dearer, category_id=category, model=model,
                         un_number="UN1090", packing_group="II")  # fmt: skip
    return Shop(
        buyer=caller(Role.BUYER, s.buyer_org(sessions)),
        supplier=caller(Role.SUPPLIER, supplier),
        rival=caller(Role.SUPPLIER, rival),
        product_id=written.product_id,
        offer_id=written.offer_id,
        sku=sku,
        rival_offer_id=other.offer_id,
        sessions=sessions,
    )


def order(*lines: tuple[str, str], **changes: Any) -> dict[str, Any]:
    return {
        "lines": [{"offer_id": offer_id, "quantity": q} for offer_id, q in lines],
        "delivery_region": "CN-SH",
        "delivery_place": PLACE,
    } | changes


async def until(probe: Callable[[], Awaitable[Any]]) -> Any:
    return await eventually(probe, attempts=1200, interval=0.1)


async def test_a_compared_offer_is_ordered_signed_and_its_order_starts(
    shop: Shop, worker: None
) -> None:
    compared = await shop.buyer.http.post(
        "/catalogue/comparisons",
        json={
            "products": [{"product_id": shop.product_id, "quantity": "300"}],
            "needed_by": (datetime.now(UTC).date() + timedelta(days=10)).isoformat(),
            "delivery_region": "CN-SH",
            "delivery_place": PLACE,
        },
    )
    best = compared.json()["products"][0]["offers"][0]
    assert (best["offer_id"], best["orderable"]) == (shop.offer_id, True)

    placed = await shop.buyer.http.post(
        "/catalogue/orders",
        json=order((best["offer_id"], "300")),
        headers={"Idempotency-Key": f"order-{shop.offer_id}"},
    )
    assert placed.status_code == 202, placed.text
    url = placed.json()["url"]

    async def awaiting_signatures() -> dict[str, Any] | None:
        answer = await shop.buyer.http.get(url)
        found: dict[str, Any] = answer.json()
        ok = answer.status_code == 200 and found["contract_status"] == "awaiting_signatures"
        return found if ok else None

    purchase = await until(awaiting_signatures)
    assert purchase["status"] == "reserved" and purchase["lines"][0]["sku"] == shop.sku
    # Recorded as an RFQ, the purchase takes no RFQ commands: refused before its process.
    as_rfq = f"/rfqs/{purchase['rfq_id']}"
    assert (await shop.buyer.http.get(as_rfq)).json()["origin"] == "catalogue"
    cancelled = await shop.buyer.http.post(f"{as_rfq}/cancel", json={"reason": "changed mind"})
    assert cancelled.status_code == 409 and "catalogue" in cancelled.json()["detail"]
    held = await shop.supplier.http.get(f"/catalogue/offers/{shop.sku}")
    assert held.json()["offer"]["stock"] == "200.000"
    assert (await shop.rival.http.get(url)).status_code == 404
    contract_id = purchase["contract_id"]
    contract = (await shop.buyer.http.get(f"/contracts/{contract_id}")).json()
    assert contract["total"] == {"amount": "3683.80", "currency": "CNY"}
    sha = contract["document"]["sha256"]
    for party in (shop.buyer, shop.supplier):
        signed = await party.http.post(
            f"/contracts/{contract_id}/signatures", json={"document_sha256": sha}
        )
        assert signed.status_code == 200, signed.text

    async def ordered() -> dict[str, Any] | None:
        found: dict[str, Any] = (await shop.buyer.http.get(url)).json()
        return found if found["order_status"] == "awaiting_confirmation" else None

    done = await until(ordered)
    assert done["order_id"] == f"ord-{contract_id}" and done["contract_status"] == "executed"
    assert (await until(lambda: _status(shop, url, "ordered")))["status_reason"].startswith(
        "order "
    )
    rfq = (await shop.buyer.http.get(f"/rfqs/{purchase['rfq_id']}")).json()
    assert rfq["lines"][0]["un_number"] == "UN1090" and rfq["status"] == "completed"


async def _status(shop: Shop, url: str, status: str) -> dict[str, Any] | None:
    found: dict[str, Any] = (await shop.buyer.http.get(url)).json()
    return found if found["status"] == status else None


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ((("own", "600"),), "lines.0.quantity"),  # more than the 500 in stock
        ((("own", "5"),), "lines.0.quantity"),  # below the MOQ of 10
        ((("own", "20"), ("rival", "20")), "lines.1.offer_id"),  # two suppliers
        ((("own", "20"), ("own", "20")), "lines.1.offer_id"),  # the same offer twice
        ((("ofr_none", "20"),), "lines.0.offer_id"),
    ],
    ids=["stock", "moq", "two-suppliers", "twice", "unknown"],
)
async def test_orders_the_offers_cannot_cover_are_refused_naming_the_field(
    shop: Shop, lines: tuple[tuple[str, str], ...], field: str
) -> None:
    ids = {"own": shop.offer_id, "rival": shop.rival_offer_id}
    body = order(*((ids.get(offer, offer), q) for offer, q in lines))
    refused = await shop.buyer.http.post("/catalogue/orders", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


async def test_an_offer_in_a_currency_without_a_rate_is_refused_naming_its_line(
    shop: Shop,
) -> None:
    """Found by a security review: the refusal named ``currency``, a field the order has not."""
    odd = c.terms([("1", "12.50")], currency="ZZZ")
    written = c.list_offer(
        shop.sessions, shop.supplier.org_id, odd, category_id=c.category(shop.sessions),
        model=uuid.uuid4().hex[:8], un_number="UN1090", packing_group="II",
    )  # fmt: skip
    refused = await shop.buyer.http.post("/catalogue/orders", json=order((written.offer_id, "20")))
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["field"] == "lines.0.offer_id"
    assert "no exchange rate recorded for ZZZ/CNY" in error["rule"]


async def test_an_order_is_at_the_terms_the_buyer_saw_or_refused(shop: Shop) -> None:
    """Found by a hostile client: re-listed at ten times the price after the buyer compared,
    the offer was ordered at the new price, and a unit_price sent was silently ignored."""
    line = {"offer_id": shop.offer_id, "quantity": "20"}
    changed = await shop.buyer.http.post(
        "/catalogue/orders", json=order() | {"lines": [line | {"revision": 99}]}
    )
    assert changed.status_code == 409, changed.text
    assert changed.json()["errors"][0]["field"] == "lines.0.revision"
    priced = await shop.buyer.http.post(
        "/catalogue/orders", json=order() | {"lines": [line | {"unit_price": "20"}]}
    )
    assert priced.status_code == 422, priced.text
    assert priced.json()["errors"][0]["field"] == "lines.0.unit_price"


async def test_suppliers_people_cannot_order_as_buyers(shop: Shop) -> None:
    refused = await shop.rival.http.post("/catalogue/orders", json=order((shop.offer_id, "20")))
    assert refused.status_code == 403
    assert c.stock_of(shop.sessions, shop.offer_id)[0] >= Decimal(200)
