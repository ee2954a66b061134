"""The API's routers are matched in the order ``api.main.ROUTERS`` gives, the most polled
first: every route must still be reached by its own path, not captured by a route of a router
before it (as ``/catalogue/search`` would be by a ``/catalogue/{product_id}`` tried first)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match

import api.routes
from api.main import ROUTERS

_PARAMETER = re.compile(r"{(\w+)(?::(\w+))?}")
_SAMPLES = {
    "int": "7",
    "float": "7.5",
    "path": "a/b",
    "uuid": "00000000-0000-0000-0000-000000000007",
}


def _concrete(path: str) -> str:
    return _PARAMETER.sub(lambda m: _SAMPLES.get(m.group(2) or "", f"x_{m.group(1)}"), path)


def captured(routers: Sequence[APIRouter]) -> list[str]:
    """Each route (and method) a route tried before it takes, as the first full match does."""
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    taken: list[str] = []
    for route in routes:
        for method in sorted(route.methods or ()):
            scope = {
                "type": "http",
                "path": _concrete(route.path),
                "method": method,
                "root_path": "",
            }
            first = next(r for r in routes if r.matches(scope)[0] is Match.FULL)
            if first is not route:
                taken.append(f"{method} {route.path} is taken by {first.path}")
    return taken


def test_every_route_is_reached_by_its_own_path() -> None:
    assert captured(ROUTERS) == []


def test_a_route_taken_by_one_tried_before_it_is_found() -> None:
    products, search = APIRouter(), APIRouter()
    products.add_api_route("/catalogue/{product_id}", lambda product_id: None, methods=["GET"])
    search.add_api_route("/catalogue/search", lambda: None, methods=["GET"])
    assert captured([search, products]) == []
    assert captured([products, search]) == [
        "GET /catalogue/search is taken by /catalogue/{product_id}"
    ]


def test_every_routes_module_is_included_once() -> None:
    modules = [
        importlib.import_module(f"api.routes.{info.name}")
        for info in pkgutil.iter_modules(api.routes.__path__)
    ]
    routers = [
        module.router
        for module in modules
        if isinstance(getattr(module, "router", None), APIRouter)
    ]
    assert len(ROUTERS) == len({id(router) for router in ROUTERS})
    assert {id(router) for router in ROUTERS} == {id(router) for router in routers}


def test_the_most_polled_routes_are_tried_first() -> None:
    first = {
        route.path
        for router in ROUTERS[:5]
        for route in router.routes
        if isinstance(route, APIRoute)
    }
    assert {"/tasks", "/orders", "/notifications", "/catalogue/search", "/auth/me"} <= first
