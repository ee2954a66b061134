"""An accreditation review's facts: the automatic checks' report and the certificates.

The report is the process's own (its ``get_status`` while the application is under review),
else the copy it recorded on the application before opening the review (a yearly re-review
runs after continue-as-new, when the live view no longer carries it). The application is read
under the API's rule (``visible_application``): compliance, the deciders, are platform staff.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import read_then_release
from api.platform import Platform
from api.routes.accreditation_reads import visible_application
from contracts.accreditation import AccreditationView, CheckReport
from contracts.common import Actor
from db.models import AccreditationApplication, ApplicationCertificate, HumanTask
from rules.waybill_parties import china_today

# A certificate expiring within this many days is marked, as the standing's reminders would.
EXPIRING_WITHIN_DAYS = 90


async def accreditation_facts(
    platform: Platform, session: Session, actor: Actor, task: HumanTask
) -> dict[str, Any]:
    application, rows = await read_then_release(session, partial(_records, actor, task))
    live = await platform.live_status(task.workflow_id, AccreditationView)
    if live is not None and live.application_id != application.id:
        live = None  # a later application of the same supplier
    report = live.report if live is not None and live.report is not None else None
    if report is None and application.report:
        report = CheckReport.model_validate(application.report)
    checks = {c.number: c for c in report.certificates} if report else {}
    today = china_today()
    certificates = []
    for row in rows:
        check = checks.get(row.number)
        days_left = (row.expiry_date - today).days
        certificates.append(
            {
                "standard": row.standard,
                "number": row.number,
                "body": row.certification_body,
                "issue_date": row.issue_date,
                "expiry_date": row.expiry_date,
                "days_left": days_left,
                "state": _validity(row.passed, days_left),
                "reasons": list(check.reasons) if check else list(row.check_reasons),
                "warnings": list(check.warnings) if check else [],
                "document_id": row.document_id,
            }
        )
    analysis = report.financials if report else None
    latest = analysis.years[-1] if analysis and analysis.years else None
    return {
        "template": "facts/accreditation.html",
        "application": application,
        "report": report,
        "analysis": analysis,
        "latest": latest,
        "certificates": certificates,
        "accreditation": live.accreditation if live else None,
        "status": live.status.value if live else application.status,
    }


def _records(
    actor: Actor, task: HumanTask, session: Session
) -> tuple[AccreditationApplication, list[ApplicationCertificate]]:
    """The application and its certificates, read before the process is asked (no connection
    is held while it answers)."""
    application = visible_application(session, actor, task.subject_id)
    rows = session.scalars(
        select(ApplicationCertificate)
        .where(ApplicationCertificate.application_id == application.id)
        .order_by(ApplicationCertificate.position)
    )
    return application, list(rows)


def _validity(passed: bool | None, days_left: int) -> str:
    if passed is False:
        return "failed"
    if days_left < 0:
        return "expired"
    if days_left <= EXPIRING_WITHIN_DAYS:
        return "expiring"
    return "valid"
