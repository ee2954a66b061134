"""Temperature loggers over the real API: registered by their fleet's user, put on a trip, and
posting readings with their own credential (``Authorization: Logger <id>:<secret>``), as a
device does; and counting what the database holds of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.cold_chain import TemperatureReading
from tests.harness.api_server import TokenCaller

Json = dict[str, Any]
Readings = Sequence[tuple[datetime, Decimal | str]]


@dataclass(frozen=True)
class Logger:
    """A registered logger, calling the API as itself."""

    logger_id: str
    http: httpx.AsyncClient

    async def post(self, readings: Readings, *, as_logger: str | None = None) -> httpx.Response:
        """Post ``readings`` (time, °C) as one batch, for itself or (refused) another logger."""
        return await self.http.post(
            "/cold-chain/readings", json=batch(as_logger or self.logger_id, readings)
        )

    async def aclose(self) -> None:
        await self.http.aclose()


def batch(logger_id: str, readings: Readings) -> Json:
    """The body of ``POST /cold-chain/readings``."""
    return {
        "logger_id": logger_id,
        "readings": [{"at": at.isoformat(), "celsius": str(c)} for at, c in readings],
    }


async def registered(api_url: str, keeper: TokenCaller, model: str = "Testo 184 T3") -> Logger:
    """A new logger registered by ``keeper`` (its fleet's carrier or logistics user)."""
    answer = await keeper.http.post(
        "/cold-chain/loggers",
        json={"logger_id": f"TT4-{uuid.uuid4().hex[:12].upper()}", "model": model},
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    credential = f"Logger {made['logger_id']}:{made['secret']}"
    http = httpx.AsyncClient(base_url=api_url, timeout=60, headers={"Authorization": credential})
    return Logger(logger_id=made["logger_id"], http=http)


async def assigned(
    keeper: TokenCaller, logger: Logger, order_id: str, *, shipment: int = 1, zone: str
) -> Json:
    """The logger put on the shipment's trip, in ``zone``, by the order's carrier."""
    answer = await keeper.http.post(
        f"/orders/{order_id}/shipments/{shipment}/loggers",
        json={"logger_id": logger.logger_id, "zone": zone},
    )
    assert answer.status_code == 201, answer.text
    made: Json = answer.json()
    return made


def stored(sessions: sessionmaker[Session], logger_id: str) -> int:
    """How many readings of the logger the database holds."""
    with sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(TemperatureReading)
            .where(TemperatureReading.logger_id == logger_id)
        )
    return int(count or 0)
