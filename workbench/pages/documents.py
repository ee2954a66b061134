"""A stored document, downloaded from a workbench page: the task page links each of its task's.

The API's ``/documents/{id}`` wants a bearer token, which a link cannot carry; this serves the
same document under the same rule (``readable_document``: its owner, platform staff, and those
something links it to, such as the task it is shown on; 404 to anyone else), with the same
download (bytes re-checked against their SHA-256, every download audited).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import PlatformDep, SessionDep
from api.downloads import audited_download
from api.params import IdPath
from api.routes.document_access import readable_document
from workbench.pages.common import PREFIX, PageActor

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/documents/{document_id}", response_class=Response)
def document(
    document_id: IdPath, actor: PageActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """The document, if the signed-in caller may read it; else the 404 page."""
    row = readable_document(session, actor, document_id)
    return audited_download(platform.store, session, actor, row)
