"""From the comparison to a purchase or an RFQ: the product page's forms, and a purchase's page.

"Order now" goes through ``POST /catalogue/orders``'s own function (``place_order``: the same
checks at the edge, the same process) and "request quotes" through ``POST /catalogue/rfqs``'s
(``open_selection_rfq``, which opens the RFQ as ``POST /rfqs`` does). Both forms are
CSRF-checked like a task's decision, and carry an idempotency key passed as a client's
``Idempotency-Key`` would be, so a form sent twice orders once. A
purchase's page is ``GET /catalogue/orders/{id}``'s view.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import PlatformDep, SessionDep, require
from api.params import IdPath
from api.routes.catalogue_orders import (
    CatalogueOrderRequest,
    get_catalogue_order,
    place_order,
)
from api.routes.catalogue_rfqs import SelectionRfq, open_selection_rfq
from api.routes.rfq_access import MAX_SUPPLIERS
from api.routes.rfq_opening import OrgId
from contracts.catalogue_orders import catalogue_order_workflow_id
from contracts.common import Line, Role, Text
from contracts.fulfilment import order_workflow_id
from contracts.sourcing import contract_workflow_id
from workbench.pages.catalogue import checked, naming
from workbench.pages.common import PREFIX, CsrfChecked, PageActor, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
QUOTES_DUE_IN = timedelta(days=3)  # the RFQ's quote deadline, from now
FormLine = Annotated[Line, Form(max_length=200)]


@router.post("/catalogue/orders", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def order_now(
    request: Request,
    actor: PageActor,
    platform: PlatformDep,
    offer_id: Annotated[Line, Form(max_length=40)],
    quantity: Annotated[Line, Form(max_length=20)],
    delivery_region: Annotated[Line, Form(max_length=5)],
    delivery_place: FormLine,
    needed_by: Annotated[Line, Form(max_length=10)] = "",
    idempotency_key: Annotated[Line, Form(max_length=64)] = "",
    revision: Annotated[Line, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Order an offer from the comparison, as ``POST /catalogue/orders``, at the revision the
    comparison showed; the page shows the accepted purchase and links its status."""
    require(Role.BUYER)(actor)  # BuyerActor
    body = checked(
        CatalogueOrderRequest,
        {
            "lines": [{"offer_id": offer_id, "quantity": quantity, "revision": revision or None}],
            "delivery_region": delivery_region,
            "delivery_place": delivery_place,
            "needed_by": needed_by or None,
        },
    )
    accepted = await place_order(body, actor, platform, idempotency_key or None)
    return render(request, "catalogue/purchase.html", {"accepted": accepted, "purchase": None})


@router.get("/catalogue/orders/{purchase_id}", response_class=HTMLResponse)
def purchase_page(
    request: Request, purchase_id: IdPath, actor: PageActor, session: SessionDep
) -> HTMLResponse:
    """A catalogue order to its buyer or supplier: the reservation, the contract, the order."""
    require(Role.BUYER, Role.SUPPLIER)(actor)  # SourcingActor
    purchase = get_catalogue_order(purchase_id, actor, session)
    # The purchase's own process: its RFQ row is recorded by it (there is no Rfq: process).
    links = {"cat_process": (purchase_id, catalogue_order_workflow_id(purchase_id))}
    if purchase.contract_status and purchase.contract_id:
        links["cat_contract"] = (purchase.contract_id, contract_workflow_id(purchase.contract_id))
    if purchase.order_id:
        links["cat_order"] = (purchase.order_id, order_workflow_id(purchase.order_id))
    return render(
        request,
        "catalogue/purchase.html",
        {"accepted": None, "purchase": purchase, "links": links, **naming(request)},
    )


@router.post("/catalogue/rfqs", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def request_quotes(
    request: Request,
    actor: PageActor,
    platform: PlatformDep,
    product_id: Annotated[Line, Form(max_length=40)],
    quantity: Annotated[Line, Form(max_length=20)],
    needed_by: Annotated[Line, Form(max_length=10)],
    delivery_place: FormLine,
    payment_terms: Annotated[Text, Form(max_length=2000)],
    # A mutable default is safe here: FastAPI copies defaults per request.
    supplier_ids: Annotated[list[OrgId], Form(max_length=MAX_SUPPLIERS)] = [],  # noqa: B006
    unit: Annotated[Line, Form(max_length=20)] = "",
    currency: Annotated[Line, Form(max_length=3)] = "CNY",
    idempotency_key: Annotated[Line, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Ask the ticked suppliers for quotes on the product, as ``POST /catalogue/rfqs``: quotes
    due in three days, on the buyer's payment terms."""
    require(Role.BUYER)(actor)  # BuyerActor
    body = checked(
        SelectionRfq,
        {
            "products": [{"product_id": product_id, "quantity": quantity, "unit": unit or None}],
            "supplier_ids": supplier_ids,
            "delivery_place": delivery_place,
            "needed_by": needed_by,
            "quote_deadline": datetime.now(UTC) + QUOTES_DUE_IN,
            "currency": currency,
            "payment_terms": payment_terms,
        },
    )
    accepted = await open_selection_rfq(body, actor, platform, idempotency_key or None)
    return render(request, "catalogue/rfq_opened.html", {"accepted": accepted})
