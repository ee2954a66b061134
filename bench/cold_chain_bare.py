"""The cold-chain benchmark's baselines, outside the workflow sandbox.

- ``create_app``: a bare FastAPI endpoint, served by uvicorn exactly as the API is
  (``bench.services.api_process``), that takes the same JSON batches and stores the same rows
  in a table of the same shape (``temperature_readings``' columns, key and BRIN index) with one
  ``INSERT .. ON CONFLICT DO NOTHING``: no credential, no trip lookup (the client names the
  trip in ``X-Trip``), no rules, no signal.
- ``BareTaskActivities``: what the bare workflow (``bench.cold_chain_bare_workflow``) does on an
  alarm, one row in a bare task table, as ``open_task`` writes the inbox row.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Annotated, cast

from fastapi import FastAPI, Header, status
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Engine, MetaData, Table, text
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from db.cold_chain import TemperatureReading
from db.session import make_engine

BARE_READINGS = "bench_bare_readings"
BARE_TASKS = "bench_bare_tasks"
READINGS = cast(Table, TemperatureReading.__table__).to_metadata(MetaData(), name=BARE_READINGS)
# The same columns, key and indexes as the platform's readings; tasks keyed as alerts are.
SCHEMA = (
    f"CREATE TABLE {BARE_READINGS} (LIKE temperature_readings INCLUDING ALL)",
    f"CREATE TABLE {BARE_TASKS} (workflow_id text, key text, "
    "opened_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (workflow_id, key))",
)


def create_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        for statement in SCHEMA:
            connection.execute(text(statement))


class BareReading(BaseModel):
    at: AwareDatetime
    celsius: Decimal
    humidity: Decimal | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class BareBatch(BaseModel):
    logger_id: str
    readings: list[BareReading]


class BareStored(BaseModel):
    stored: int


def create_app() -> FastAPI:
    """The bare endpoint; ``DATABASE_URL`` as the API reads it, the API's pool size."""
    engine = make_engine(os.environ["DATABASE_URL"], pool_size=10)
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/readings", status_code=status.HTTP_202_ACCEPTED)
    def post_readings(batch: BareBatch, x_trip: Annotated[str, Header()]) -> BareStored:
        # The trip comes with the request (the platform finds it from the logger), so the
        # rows stored are the platform's, byte for byte.
        rows = [
            {"logger_id": batch.logger_id, "trip_id": x_trip, **r.model_dump()}
            for r in batch.readings
        ]
        statement = (
            insert(READINGS)
            .on_conflict_do_nothing(index_elements=["logger_id", "at"])
            .returning(READINGS.c.at)
        )
        with engine.begin() as connection:
            stored = len(connection.execute(statement, rows).all())
        return BareStored(stored=stored)

    return app


class BareTask(BaseModel):
    workflow_id: str
    key: str


class BareTaskActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="bench_open_bare_task")
    def open_task(self, task: BareTask) -> None:
        """One row, keyed so a retry writes nothing twice."""
        with self._engine.begin() as connection:
            connection.execute(
                text(
                    f"INSERT INTO {BARE_TASKS} (workflow_id, key) VALUES (:workflow_id, :key) "
                    "ON CONFLICT DO NOTHING"
                ),
                task.model_dump(),
            )
