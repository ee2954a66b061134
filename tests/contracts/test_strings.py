"""The shared string types close the class of "accepted, then refused by the database".

Two guarantees: whatever ``Line`` or ``Text`` accepts, PostgreSQL stores (as text and inside
jsonb) — checked with generated strings over the whole of Unicode; and every string the API or a
workflow contract accepts is one of those types, so a new field cannot slip past the rule.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

import contracts
from api.main import create_app
from contracts.common import Line, Text
from settings import Settings

LINE = TypeAdapter(Line)
TEXT = TypeAdapter(Text)


def _accepted(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("value", "line", "multi"),
    [
        ("Acetone 丙酮 99.5%", True, True),
        ("a\x00b", False, False),
        ("bell\x07", False, False),
        ("two\nlines", False, True),
        ("tab\there", False, True),
        ("crlf\r\n", False, True),
        ("del\x7f", False, False),
        ("c1\x85", False, False),
        ("lone \ud800 surrogate", False, False),
        ("emoji 😀 and 𠀋", True, True),
    ],
)
def test_line_and_text_refuse_what_no_business_text_holds(
    value: str, line: bool, multi: bool
) -> None:
    assert _accepted(LINE, value) is line
    assert _accepted(TEXT, value) is multi


def test_a_refusal_names_the_character_and_where() -> None:
    with pytest.raises(ValidationError) as refused:
        TEXT.validate_python("title\x00")
    assert "U+0000 at position 5" in str(refused.value)


@examples(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(alphabet=st.characters(codec=None), max_size=40))
def test_whatever_text_accepts_postgresql_stores(
    sessions: sessionmaker[Session], value: str
) -> None:
    if not _accepted(TEXT, value):
        return
    with sessions() as session:
        stored = session.execute(
            text("SELECT CAST(:v AS text), jsonb_build_object('v', CAST(:v AS text)) ->> 'v'"),
            {"v": value},
        ).one()
    assert tuple(stored) == (value, value)


# -- every accepted string is a shared one -----------------------------------------------------

_SHARED = {id(m) for t in (Line, Text) for m in get_args(t)[1:]}


def _bounded(metadata: tuple[Any, ...]) -> bool:
    """Whether a number carries an upper bound (or a digit count) and a lower one."""
    # Inside a union, constraints are still wrapped in the FieldInfo that Field() made.
    flat = [c for m in metadata for c in (m.metadata if isinstance(m, FieldInfo) else [m])]
    facts = {name for m in flat for name in _BOUNDS if getattr(m, name, None) is not None}
    return bool(facts & {"le", "lt", "max_digits"}) and bool(facts & {"ge", "gt", "max_digits"})


_BOUNDS = ("le", "lt", "ge", "gt", "max_digits")


def _unchecked(annotation: Any, metadata: tuple[Any, ...], where: str) -> Iterator[str]:
    """Paths of plain ``str`` inside ``annotation`` that no shared-type validator guards, and
    (with ``numbers``) of unbounded numbers."""
    origin = get_origin(annotation)
    if annotation is str:
        guarded = any(id(m) in _SHARED for m in metadata if isinstance(m, AfterValidator))
        if not guarded:
            yield where
    elif annotation in (int, float, Decimal) and _numbers.get() and not _bounded(metadata):
        yield f"{where} (unbounded number)"
    elif origin is Annotated:
        inner, *extra = get_args(annotation)
        yield from _unchecked(inner, (*metadata, *extra), where)
    elif origin is Literal:
        return
    elif origin in (Union, types.UnionType):
        # ``Query(ge=1, le=...)`` on an ``int | None`` bounds the int: FastAPI checks it so.
        for arg in get_args(annotation):
            yield from _unchecked(arg, metadata, where)
    elif origin in (tuple, list, dict, set, frozenset):
        for arg in get_args(annotation):
            if arg is not Ellipsis:
                yield from _unchecked(arg, (), where)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _model(annotation)


_seen: set[type[BaseModel]] = set()
# Numbers are checked where they come from outside (the API), not in results the platform
# computes itself.
_numbers: ContextVar[bool] = ContextVar("numbers", default=False)


def _model(model: type[BaseModel]) -> Iterator[str]:
    if model in _seen:
        return
    _seen.add(model)
    for name, field in model.model_fields.items():
        yield from _unchecked(
            field.annotation, tuple(field.metadata), f"{model.__module__}.{model.__name__}.{name}"
        )


def _contract_models() -> Iterator[type[BaseModel]]:
    for module_info in pkgutil.iter_modules(contracts.__path__):
        module = importlib.import_module(f"contracts.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                yield value


def test_every_contract_string_is_a_shared_type() -> None:
    _seen.clear()
    unchecked = [path for model in _contract_models() for path in _model(model)]
    assert unchecked == []


def _params(dependant: Dependant) -> Iterator[ModelField]:
    yield from dependant.path_params
    yield from dependant.query_params
    yield from dependant.header_params
    yield from dependant.body_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every operation, through included routers (FastAPI includes them lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(included.routes)


def test_every_string_the_api_accepts_is_a_shared_type_and_every_number_bounded(
    settings: Settings,
) -> None:
    _seen.clear()
    _numbers.set(True)
    unchecked: list[str] = []
    for route in _api_routes(create_app(settings).routes):
        for param in _params(route.dependant):
            info = param.field_info
            where = f"{route.path} {param.name}"
            unchecked += _unchecked(info.annotation, tuple(info.metadata), where)
    assert unchecked == []
