"""Applying the Alembic migrations programmatically (launcher, tests, compose migration job)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[1]


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


if __name__ == "__main__":
    from settings import get_settings

    migrate(get_settings().database_url)
