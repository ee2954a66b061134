"""The catalogue at the workbench: search for anyone signed in, and a product's page with, for
buyers, the one-click comparison of every eligible offer side by side.

The pages call the API's own route functions with the caller the page resolved
(``search_catalogue``, ``list_categories``, ``get_product``, ``get_category``,
``compare_products``), and a role check before a route whose dependency makes one (``require``,
as ``BuyerActor`` does): a page shows what the API answers the same person and refuses what it
refuses, with its status. Ordering and asking for quotes from the comparison are in
``catalogue_actions``; suppliers' imports in ``catalogue_imports``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from api.deps import SessionDep, require
from api.errors import invalid
from api.pagination import MAX_CURSOR
from api.params import IdPath
from api.routes.catalogue import get_product
from api.routes.catalogue_categories import CategoryView, get_category, list_categories
from api.routes.catalogue_comparison import ComparisonRequest, compare_products
from api.routes.catalogue_search import SearchAnswer, search_catalogue
from contracts.catalogue import CategoryId, Region, TemperatureProfileName
from contracts.common import Actor, Line, Role
from db.catalogue_filters import Sort
from rules.cold_chain_profiles import PROFILES
from rules.provinces import PROVINCES
from rules.waybill_parties import china_today
from workbench.i18n import Lang
from workbench.labels_catalogue import PROFILE_NAMES, PROVINCE_NAMES
from workbench.pages.common import PREFIX, PageActor, lang_of, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE_SIZE = 20
NEEDED_IN = timedelta(days=14)  # the comparison form's first needed-by date
# A price facet's band is [low, high); the search's price_max is inclusive, and prices carry
# four decimals (Numeric(22, 4)), so the band's link asks for at most high - 0.0001.
PRICE_STEP = Decimal("0.0001")
M = TypeVar("M", bound=BaseModel)


def _blank(value: object) -> object:
    """An HTML form sends a field left empty as ``""``: here it means "not given"."""
    return None if value == "" else value


Blank = BeforeValidator(_blank)


class SearchForm(BaseModel):
    """The search form: ``GET /catalogue/search``'s parameters with their rules, an empty field
    being an absent one."""

    q: Annotated[Line, Field(max_length=200)] = ""
    category: Annotated[CategoryId | None, Blank] = None
    price_min: Annotated[Decimal | None, Field(ge=0, max_digits=18, decimal_places=4), Blank] = None
    price_max: Annotated[Decimal | None, Field(ge=0, max_digits=18, decimal_places=4), Blank] = None
    brand: Annotated[Line | None, Field(min_length=1, max_length=100), Blank] = None
    moq_max: Annotated[Decimal | None, Field(ge=0, max_digits=15, decimal_places=3), Blank] = None
    in_stock: bool = False
    region: Annotated[Region | None, Blank] = None
    hazard_class: Annotated[Line | None, Field(pattern=r"^[1-9](\.[1-6][A-HJKLNS]?)?$"), Blank] = (
        None
    )
    temperature: Annotated[TemperatureProfileName | None, Blank] = None
    quantity: Annotated[Decimal | None, Field(gt=0, max_digits=15, decimal_places=3), Blank] = None
    sort: Sort = Sort.RELEVANCE
    cursor: Annotated[
        Line | None, Field(max_length=MAX_CURSOR, pattern=r"^[A-Za-z0-9_-]+$"), Blank
    ] = None


class CompareForm(BaseModel):
    """The product page's comparison form; given a quantity, the page compares (the fields are
    then checked as ``POST /catalogue/comparisons`` checks them)."""

    quantity: Annotated[Line | None, Field(max_length=20), Blank] = None
    needed_by: Annotated[Line | None, Field(max_length=10), Blank] = None
    delivery_region: Annotated[Line | None, Field(max_length=5), Blank] = None
    delivery_place: Annotated[Line | None, Field(max_length=200), Blank] = None


def allowed(actor: Actor, *roles: Role) -> bool:
    """Whether the API's role check (``api.deps.require``) admits the caller: a page offers
    only the forms whose routes would."""
    try:
        require(*roles)(actor)
    except HTTPException:
        return False
    return True


def checked(model: type[M], values: dict[str, Any]) -> M:
    """A route's request body built from a form; 422 naming the form's field that fails."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        raise invalid(str(first["loc"][-1]) if first["loc"] else "form", first["msg"]) from None


def naming(request: Request) -> dict[str, Any]:
    """Province and temperature-profile names in the page's language, for its templates."""
    index = 0 if lang_of(request) is Lang.ZH else 1

    def province(code: str) -> str:
        names = PROVINCE_NAMES.get(code)
        return f"{names[index]} {code}" if names else code

    def profile(name: str | None) -> str:
        if name is None:
            return "—"
        names, found = PROFILE_NAMES.get(name), PROFILES.get(name)
        label = names[index] if names else name
        if found is None:
            return label
        if found.min_celsius is None:
            return f"{label} (≤ {found.max_celsius} °C)"
        return f"{label} ({found.min_celsius}–{found.max_celsius} °C)"

    return {
        "province": province,
        "profile": profile,
        "provinces": sorted(PROVINCES),
        "qty": quantity_text,
    }


def quantity_text(value: Decimal) -> str:
    """A quantity as people write it: ``500.000`` is 500, ``2.500`` is 2.5."""
    return format(value.normalize(), "f")


def _link(request: Request, **params: str) -> str:
    """This page's address with ``params`` set and the cursor dropped (a new first page)."""
    url = request.url.remove_query_params(["cursor", *params]).include_query_params(**params)
    return f"{url.path}?{url.query}"


def _price_band(band: str) -> dict[str, str]:
    """The filter a price facet's band (``<10``, ``10-100``, ``>=10000``) stands for."""
    if band.startswith(">="):
        return {"price_min": band[2:]}
    low, _, high = band.lstrip("<").rpartition("-")
    limits = {"price_max": str(Decimal(high) - PRICE_STEP)}
    return {"price_min": low, **limits} if low else limits


def _facets(request: Request, answer: SearchAnswer, form: SearchForm) -> list[dict[str, Any]]:
    """Each facet's values with their counts, as links narrowing the search to the value."""
    current = {
        "brand": form.brand,
        "hazard_class": form.hazard_class,
        "temperature": form.temperature,
        "region": form.region,
        "in_stock": "true" if form.in_stock else None,
        "moq": None if form.moq_max is None else format(form.moq_max.normalize(), "f"),
    }
    sections = []
    for facet, values in (answer.facets or {}).items():
        links = []
        for value in values:
            if facet == "price":
                params = _price_band(value.value)
            else:
                params = {"moq_max" if facet == "moq" else facet: value.value}
            links.append(
                {
                    "value": value.value,
                    "count": value.count,
                    "href": _link(request, **params),
                    "on": current.get(facet) == value.value,
                }
            )
        if links:
            sections.append({"facet": facet, "links": links})
    return sections


def _field_label(categories: dict[str, CategoryView], lang: Lang) -> Any:
    """``field_label(category, field)``: a matched field in words, a specification by its
    category's label."""

    def field_label(category_id: str, field: str) -> str:
        key = field.removeprefix("attributes.")
        if key == field:
            return field
        for spec in categories[category_id].attributes if category_id in categories else ():
            if spec.key == key:
                return spec.label_zh if lang is Lang.ZH else spec.label_en
        return key

    return field_label


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue_search(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    form: Annotated[SearchForm, Query()],
) -> HTMLResponse:
    """Search the catalogue: the API's search, its facets as links, why each product matched."""
    categories = list_categories(actor, session)
    answer = None
    if form.q.strip() or form.category is not None:
        answer = search_catalogue(
            actor, session, request, Response(), **form.model_dump(), limit=PAGE_SIZE
        )
    lang = lang_of(request)
    by_id = {c.category_id: c for c in categories}
    return render(
        request,
        "catalogue/search.html",
        {
            "form": form,
            "tree": [
                (c.category_id, c.path.count("/"), c.name_zh if lang is Lang.ZH else c.name_en)
                for c in categories
            ],
            "answer": answer,
            "facets": _facets(request, answer, form) if answer else [],
            "next_page": _link(request, cursor=answer.next_cursor)
            if answer and answer.next_cursor
            else None,
            "sorts": list(Sort),
            "field_label": _field_label(by_id, lang),
            "quantity": "" if form.quantity is None else str(form.quantity),
            "is_supplier": allowed(actor, Role.SUPPLIER),
            **naming(request),
        },
    )


@router.get("/catalogue/products/{product_id}", response_class=HTMLResponse)
def product_page(
    request: Request,
    product_id: IdPath,
    actor: PageActor,
    session: SessionDep,
    form: Annotated[CompareForm, Query()],
) -> HTMLResponse:
    """A product as buyers see it; for buyers, every eligible offer compared at their quantity,
    with the forms to order one or to ask the chosen suppliers for quotes."""
    product = get_product(product_id, actor, session)
    category = get_category(product.category_id, actor, session)
    comparison = None
    if form.quantity is not None:
        require(Role.BUYER)(actor)  # BuyerActor: POST /catalogue/comparisons is buyers' alone
        body = checked(
            ComparisonRequest,
            {
                "products": [{"product_id": product_id, "quantity": form.quantity}],
                "needed_by": form.needed_by,
                "delivery_region": form.delivery_region,
                "delivery_place": form.delivery_place,
            },
        )
        comparison = compare_products(body, actor, session)
    lang = lang_of(request)
    specs = {spec.key: spec for spec in category.attributes}
    return render(
        request,
        "catalogue/product.html",
        {
            "product": product,
            "category_name": category.name_zh if lang is Lang.ZH else category.name_en,
            "specifications": [
                (
                    specs[key].label_zh if lang is Lang.ZH else specs[key].label_en,
                    value,
                    specs[key].unit or "",
                )
                if key in specs
                else (key, value, "")
                for key, value in product.attributes.items()
            ],
            "is_buyer": allowed(actor, Role.BUYER),
            "form": form,
            "default_needed_by": (china_today() + NEEDED_IN).isoformat(),
            "comparison": comparison,
            "compared": comparison.products[0] if comparison else None,
            # One key per button: a form sent twice orders (or opens the RFQ) once.
            "keys": {
                offer.offer_id: uuid.uuid4().hex
                for offer in (comparison.products[0].offers if comparison else [])
            },
            "rfq_key": uuid.uuid4().hex,
            **naming(request),
        },
    )
