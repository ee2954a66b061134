"""The long-lived objects one API process shares: built in the lifespan, read by dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from security.keys import KeyRing
from settings import Settings
from storage.object_store import ObjectStore


@dataclass(frozen=True)
class Platform:
    settings: Settings
    sessions: sessionmaker[Session]
    temporal: Client
    store: ObjectStore
    keyring: KeyRing
    jwt_secret: str
