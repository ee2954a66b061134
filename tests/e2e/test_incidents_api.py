"""Ops read incidents over the real API; nobody else does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from db.incidents import open_incident, resolve_incident
from security.keys import jwt_secret_from_settings
from settings import Settings
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller


async def test_ops_see_open_incidents_with_their_age_and_others_are_refused(
    api_url: str, e2e_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    secret = jwt_secret_from_settings(e2e_settings)
    ops = TokenCaller(
        api_url,
        secret,
        s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.OPS_SUPERVISOR),
    )
    buyer = TokenCaller(api_url, secret, s.member(sessions, s.buyer_org(sessions), Role.BUYER))
    incident_id = f"Order:ord-test-{uuid.uuid4().hex[:8]}:run:5"
    first = datetime.now(UTC) - timedelta(minutes=20)
    open_incident(
        sessions,
        incident_id=incident_id,
        workflow_id=incident_id.rsplit(":", 2)[0],
        activity_type="file_waybill",
        attempts=11,
        first_failed_at=first,
        last_error="ExternalSystemUnavailable: regulator answered 503",
        at=datetime.now(UTC),
    )
    listed = (await ops.http.get("/incidents")).json()
    (mine,) = [i for i in listed if i["id"] == incident_id]
    assert (mine["activity_type"], mine["attempts"]) == ("file_waybill", 11)
    assert mine["age_seconds"] >= 20 * 60 and mine["resolved_at"] is None
    assert (await buyer.http.get("/incidents")).status_code == 403

    resolve_incident(sessions, incident_id=incident_id, attempts=12, at=datetime.now(UTC))
    assert incident_id not in [i["id"] for i in (await ops.http.get("/incidents")).json()]
    everything = (await ops.http.get("/incidents", params={"include_resolved": "true"})).json()
    (resolved,) = [i for i in everything if i["id"] == incident_id]
    assert resolved["attempts"] == 12 and resolved["resolved_at"] is not None
