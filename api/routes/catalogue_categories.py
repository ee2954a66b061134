"""The category tree: read by everyone signed in, kept by platform staff (audited).

A category states the specifications its products carry (typed, with units the catalogue can
convert) and the synonym groups buyers search with. Ops add categories and change their names,
specifications and synonyms; a category's parent is fixed when it is made, so its path (the
ids from the root) never changes and listings and searches under it stay where they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, not_found, require_staff
from api.errors import invalid
from api.params import IdPath
from contracts.catalogue import AttributeSpec, CategoryInput
from contracts.common import Actor, Role
from db.audit_log import append_audit
from db.catalogue import CatalogueCategory
from db.session import transaction
from rules.catalogue_listing import unit_problem

router = APIRouter(prefix="/catalogue/categories", tags=["catalogue"])
CatalogueKeeper = Annotated[Actor, Depends(require_staff(Role.OPS_SUPERVISOR, Role.ADMIN))]
MAX_DEPTH = 6


class CategoryView(BaseModel):
    category_id: str
    parent_id: str | None
    path: str
    name_zh: str
    name_en: str
    attributes: list[AttributeSpec]
    synonyms: list[list[str]]
    updated_at: datetime


def category_view(row: CatalogueCategory) -> CategoryView:
    return CategoryView(
        category_id=row.id,
        parent_id=row.parent_id,
        path=row.path,
        name_zh=row.name_zh,
        name_en=row.name_en,
        attributes=[AttributeSpec.model_validate(spec) for spec in row.attributes],
        synonyms=row.synonyms,
        updated_at=row.updated_at,
    )


def category_specs(row: CatalogueCategory) -> tuple[AttributeSpec, ...]:
    return tuple(AttributeSpec.model_validate(spec) for spec in row.attributes)


@router.get("")
def list_categories(_: CurrentActor, session: SessionDep) -> list[CategoryView]:
    """The whole tree, parents before their children (a few hundred rows at most)."""
    rows = session.scalars(select(CatalogueCategory).order_by(CatalogueCategory.path))
    return [category_view(row) for row in rows]


@router.get("/{category_id}")
def get_category(category_id: IdPath, _: CurrentActor, session: SessionDep) -> CategoryView:
    row = session.get(CatalogueCategory, category_id)
    if row is None:
        raise not_found("category")
    return category_view(row)


@router.put("/{category_id}")
def put_category(
    category_id: IdPath,
    body: CategoryInput,
    actor: CatalogueKeeper,
    platform: PlatformDep,
    response: Response,
) -> CategoryView:
    """Create the category, or change its names, specifications and synonyms (201 / 200)."""
    if body.category_id != category_id:
        raise invalid("category_id", "must be the category in the path")
    for i, spec in enumerate(body.attributes):
        if (problem := unit_problem(spec)) is not None:
            raise invalid(f"attributes.{i}.unit", problem)
    with transaction(platform.sessions) as session:
        row = session.get(CatalogueCategory, category_id, with_for_update=True)
        created = row is None
        if row is None:
            row = CatalogueCategory(id=category_id, path=_path(session, body))
            session.add(row)
        elif row.parent_id != body.parent_id:
            raise invalid("parent_id", f"is fixed once made: {row.parent_id or 'none (top level)'}")
        row.parent_id = body.parent_id
        row.name_zh = body.name_zh
        row.name_en = body.name_en
        row.attributes = [spec.model_dump(mode="json") for spec in body.attributes]
        row.synonyms = [list(group) for group in body.synonyms]
        row.updated_by = actor.user_id
        session.flush()
        append_audit(
            session,
            actor=actor,
            action="catalogue.category_created" if created else "catalogue.category_changed",
            target_type="catalogue_category",
            target_id=category_id,
            detail=_audit_detail(body),
        )
        session.refresh(row)
        view = category_view(row)
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/catalogue/categories/{category_id}"
    return view


def _path(session: Session, body: CategoryInput) -> str:
    if body.parent_id is None:
        return body.category_id
    parent = session.get(CatalogueCategory, body.parent_id)
    if parent is None:
        raise invalid("parent_id", f"no category {body.parent_id}")
    if parent.path.count("/") + 1 >= MAX_DEPTH:
        raise invalid("parent_id", f"the tree is at most {MAX_DEPTH} levels deep")
    return f"{parent.path}/{body.category_id}"


def _audit_detail(body: CategoryInput) -> dict[str, Any]:
    return {
        "name_zh": body.name_zh,
        "name_en": body.name_en,
        "attributes": [spec.key for spec in body.attributes],
        "synonym_groups": len(body.synonyms),
    }
