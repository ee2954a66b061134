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
from api.pagination import Keyset, on
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
from workbench.pages.paging import Cursor, page_rows

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SHOWN = 50  # imports a page
IMPORTS_ORDER = Keyset("workbench-imports", on("CatalogueImport", *NEWEST_FIRST.keys))


@router.get("/catalogue/imports", response_class=HTMLResponse)
def imports_page(
    request: Request, actor: PageActor, session: SessionDep, cursor: Cursor = None
) -> HTMLResponse:
    """The supplier's imports with their progress, newest first, paged as ``GET
    /catalogue/imports`` is; the templates; the upload form."""
    require(Role.SUPPLIER)(actor)  # SupplierActor
    shown = page_rows(request, session, IMPORTS_ORDER, own_imports(actor), cursor, size=SHOWN)
    imports = [import_view(row.CatalogueImport) for row in shown.rows]
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
            "next_url": shown.next_url,
            "first_url": shown.first_url,
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
