"""A supplier's bulk imports at the workbench: their progress, error sheets, the templates, and
the upload form.

Every answer is the import routes' own: ``get_import`` for each import listed (the supplier's
own, 404 otherwise), ``download_template`` and ``download_errors`` for the files (a link cannot
carry the API's bearer token, so the page serves them under the same functions), and
``start_import`` for an upload (the same checks at the edge, the same process). The import
routes are the suppliers' (``SupplierActor``): others get their 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import PlatformDep, SessionDep, require
from api.params import IdPath
from api.routes.catalogue_categories import list_categories
from api.routes.catalogue_import import (
    NEWEST_FIRST,
    download_errors,
    download_template,
    import_view,
    own_imports,
    start_import,
)
from contracts.catalogue import CategoryId
from contracts.catalogue_import import FINISHED, OnError, SheetFormat
from contracts.common import Role
from workbench.i18n import Lang
from workbench.pages.common import PREFIX, CsrfChecked, PageActor, lang_of, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SHOWN = 50  # the newest imports listed


@router.get("/catalogue/imports", response_class=HTMLResponse)
def imports_page(request: Request, actor: PageActor, session: SessionDep) -> HTMLResponse:
    """The supplier's newest imports with their progress; the templates; the upload form."""
    require(Role.SUPPLIER)(actor)  # SupplierActor
    newest = own_imports(actor).order_by(*NEWEST_FIRST.order()).limit(SHOWN)
    imports = [import_view(row) for row in session.scalars(newest)]
    zh = lang_of(request) is Lang.ZH
    return render(
        request,
        "catalogue/imports.html",
        {
            "imports": imports,
            "running": any(view.status not in FINISHED for view in imports),
            "categories": [
                (c.category_id, c.path.count("/"), c.name_zh if zh else c.name_en)
                for c in list_categories(actor, session)
            ],
            "formats": list(SheetFormat),
            "on_errors": list(OnError),
        },
    )


@router.get("/catalogue/categories/{category_id}/template", response_class=Response)
def template(
    category_id: IdPath,
    actor: PageActor,
    session: SessionDep,
    format: Annotated[SheetFormat, Query()] = SheetFormat.XLSX,
) -> Response:
    """The category's import template, as ``GET /catalogue/categories/{id}/template``."""
    return download_template(category_id, actor, session, format)


@router.get("/catalogue/imports/{import_id}/errors", response_class=Response)
def error_sheet(
    import_id: IdPath, actor: PageActor, session: SessionDep, platform: PlatformDep
) -> Response:
    """The import's error sheet, as ``GET /catalogue/imports/{id}/errors``."""
    require(Role.SUPPLIER)(actor)  # SupplierActor
    return download_errors(import_id, actor, session, platform)


@router.post("/catalogue/imports", dependencies=[CsrfChecked])
async def upload(
    actor: PageActor,
    platform: PlatformDep,
    file: Annotated[UploadFile, File()],
    category_id: Annotated[CategoryId, Form()],
    on_error: Annotated[OnError, Form()] = OnError.REJECT,
) -> RedirectResponse:
    """Import a filled template as ``POST /catalogue/imports``, then back to the imports."""
    require(Role.SUPPLIER)(actor)  # SupplierActor
    await start_import(actor, platform, Response(), file, category_id, on_error)
    return RedirectResponse(f"{PREFIX}/catalogue/imports", status_code=status.HTTP_303_SEE_OTHER)
