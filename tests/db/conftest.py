"""Fixtures of the database tests' own."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.object_store import ObjectStore
from tests.harness.catalogue_broad import Catalogue, broad_catalogue


@pytest.fixture(scope="module")
def catalogue(sessions: sessionmaker[Session], store: ObjectStore) -> Catalogue:
    """The broad searches' catalogue (``tests.harness.catalogue_broad``), one a module."""
    return broad_catalogue(sessions, store)
