"""Path and query parameters the routes share: identifiers as the shared string type, bounded,
so no request carries to the database a value its columns would refuse."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from contracts.common import Line

MAX_ID = 240  # characters: the longest identifier column (a notification's)
MAX_INT4 = 2**31 - 1  # PostgreSQL's integer
MAX_INT8 = 2**63 - 1  # PostgreSQL's bigint

IdPath = Annotated[Line, Path(min_length=1, max_length=MAX_ID)]
"""An object's id in the path; an unknown one is 404 like another organisation's."""

IdFilter = Annotated[Line | None, Query(min_length=1, max_length=MAX_ID)]
"""An optional filter by an object's id."""
