"""One module a page (or a few pages about one thing), each an APIRouter under ``/workbench``."""
