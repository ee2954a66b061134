"""A supplier's bulk import of listings: its file, its progress and what was wrong with it.

One row an import, made by the API when the file is accepted and moved on by the import's
workflow (``workflows.catalogue_import``): the check counts the rows and keeps the first
problems (the error sheet in the object store has them all), and each batch written adds to
``rows_written`` in the same transaction as its offers, recording its number in
``batches_done`` so a batch written twice (an activity retried) counts once. The supplier
watches this row (``GET /catalogue/imports/{id}``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonDict


class CatalogueImport(Base):
    __tablename__ = "catalogue_imports"
    __table_args__ = (Index("ix_catalogue_imports_supplier", "supplier_org_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    category_id: Mapped[str] = mapped_column(ForeignKey("catalogue_categories.id"))
    created_by: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str] = mapped_column(String(160), ForeignKey("documents.id"))  # the file
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(4))  # contracts.catalogue_import.SheetFormat
    on_error: Mapped[str] = mapped_column(String(6))  # contracts.catalogue_import.OnError
    status: Mapped[str] = mapped_column(String(12))  # contracts.catalogue_import.ImportStatus
    reason: Mapped[str | None] = mapped_column(Text)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_checked: Mapped[int] = mapped_column(Integer, default=0)
    rows_valid: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first problems (contracts.catalogue_import.MAX_LISTED_PROBLEMS): {row, column, rule}.
    problems: Mapped[list[JsonDict]] = mapped_column(JSONB)
    errors_key: Mapped[str | None] = mapped_column(String(200))  # the error sheet's object
    batches: Mapped[int] = mapped_column(Integer, default=0)
    batches_done: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    finished_at: Mapped[datetime | None]
