"""The carrier variant of the accreditation workflow on the time-skipping server, with real
activities and services: the licence checked in the registry's licence register, a failing
licence a hard failure, the carrier's certificate, and the licence's expiry watched."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from contracts.accreditation import (
    AccreditationStatus,
    RenewCertificateInput,
    RenewCertificateResult,
)
from contracts.common import Actor, Role
from contracts.fleet import RenewLicenceInput
from db.fleet import CarrierLicence, carrier_problem
from db.models import Document, HumanTask, Notification, SupplierAccreditation
from storage.object_store import get_verified
from tests.harness import builders as b
from tests.harness import carriers as c
from tests.harness.histories import record_history
from tests.harness.temporal import eventually, refusal, skip_time
from tests.workflows import test_accreditation
from tests.workflows.test_accreditation import AccreditationHandle, Harness, decide, renew

# The supplier tests' ``harness`` fixture: a worker on the time-skipping server.
harness = test_accreditation.harness


async def renew_licence(
    handle: AccreditationHandle, renewal: RenewLicenceInput
) -> RenewCertificateResult:
    result: RenewCertificateResult = await handle.execute_update(
        "submit_renewed_licence", renewal, result_type=RenewCertificateResult
    )
    return result


async def test_a_carrier_is_accredited_on_its_licence_which_is_then_watched(
    harness: Harness,
) -> None:
    app = c.carrier_application(
        harness.sessions,
        harness.store,
        harness.registry,
        now=await harness.env.get_current_time(),
        licence_valid_for=120,
    )
    assert app.carrier_licence is not None and app.certificates == ()
    handle = await harness.apply(app)
    task_id = await harness.open_task(handle, "review")
    task = harness.row(HumanTask, task_id)
    assert isinstance(task, HumanTask)
    assert task.title == f"Review carrier accreditation: {app.legal_name}"
    assert f"operating licence {app.carrier_licence.number}" in task.summary
    assert "classes 2, 3, 8" in task.summary and task.details["applicant"] == "carrier"
    assert app.carrier_licence_document is not None
    assert app.carrier_licence_document.document_id in task.document_ids

    answer = await decide(handle, task_id, b.compliance_actor())

    assert answer.process_status == AccreditationStatus.ACCREDITED
    today = await harness.today()
    with harness.sessions() as session:
        standing = session.get(SupplierAccreditation, app.supplier_org_id)
        licence = session.get(CarrierLicence, app.supplier_org_id)
        assert standing is not None and standing.status == "accredited"
        assert standing.expires_on == app.carrier_licence.expiry_date
        assert licence is not None and licence.permitted_classes == ["2", "3", "8"]
        assert licence.phone == app.carrier_licence.phone
        assert carrier_problem(session, app.supplier_org_id, ["2.1", "8"], today) is None
        problem = carrier_problem(session, app.supplier_org_id, ["6.1"], today)
        assert problem is not None and "does not cover class 6.1" in problem
        document = session.get(Document, standing.certificate_document_id)
    assert document is not None
    pdf = PdfReader(io.BytesIO(get_verified(harness.store, document.sha256)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "承运人资质认证证书" in text and app.carrier_licence.number in text
    assert "2、3、8" in text and app.legal_name in text

    await skip_time(harness.env, timedelta(days=91))  # 30 days before the licence expires

    async def notices(kind: str) -> list[str]:
        with harness.sessions() as session:
            roles = session.scalars(
                select(Notification.role).where(
                    Notification.org_id == app.supplier_org_id, Notification.kind == kind
                )
            ).all()
        assert roles, f"no {kind} notice yet"
        return [role or "" for role in roles]

    assert await eventually(lambda: notices("licence_expiring")) == [Role.CARRIER.value]

    await skip_time(harness.env, timedelta(days=31))  # past the licence's expiry

    async def standing_is(status: str) -> SupplierAccreditation:
        row = harness.row(SupplierAccreditation, app.supplier_org_id)
        assert isinstance(row, SupplierAccreditation) and row.status == status, row
        return row

    suspended = await eventually(lambda: standing_is("suspended"), what="the carrier suspended")
    assert suspended.status_reason == "operating licence expired without a verified renewal"
    assert await eventually(lambda: notices("accreditation_suspended")) == ["carrier"]
    with harness.sessions() as session:
        assert carrier_problem(session, app.supplier_org_id, ["3"], await harness.today()) == (
            f"carrier: {app.legal_name} is not an accredited carrier (it is suspended: "
            "operating licence expired without a verified renewal)"
        )

    today = await harness.today()
    renewed = c.register_licence(
        harness.registry,
        holder_name=app.legal_name,
        holder_credit_code=app.credit_code,
        issued=today - timedelta(days=2),
        expires=today + timedelta(days=4 * 365),
        classes=("2", "3", "8", "9"),
        number=app.carrier_licence.number,  # a renewal keeps the licence's number
    )
    result = await renew_licence(handle, RenewLicenceInput(licence=renewed, actor=app.submitted_by))

    assert result.accepted and result.expires_on == renewed.expiry_date
    reinstated = await eventually(lambda: standing_is("accredited"), what="reinstated")
    assert reinstated.expires_on == renewed.expiry_date
    with harness.sessions() as session:
        stored = session.get(CarrierLicence, app.supplier_org_id)
        assert stored is not None and stored.expiry_date == renewed.expiry_date
        assert stored.permitted_classes == ["2", "3", "8", "9"]
    await record_history(handle, "accreditation_carrier")


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ({"number": "3202-NOT-REGISTERED"}, "not found in the register"),
        ({"permitted_classes": ("3", "6.1")}, "claims class 6.1, which the register does not"),
        ({"issuing_authority": "南京市交通运输局"}, "declared issuing authority"),
    ],
    ids=["unknown", "wider-classes", "authority"],
)
async def test_a_failing_licence_rejects_without_asking_anyone(
    harness: Harness, spoil: dict[str, object], reason: str
) -> None:
    app = c.carrier_application(
        harness.sessions, harness.store, harness.registry, now=await harness.env.get_current_time()
    )
    assert app.carrier_licence is not None
    app = app.model_copy(update={"carrier_licence": app.carrier_licence.model_copy(update=spoil)})
    handle = await harness.apply(app)

    outcome = await handle.result()

    assert outcome.status == AccreditationStatus.REJECTED
    assert len(outcome.reasons) == 1 and outcome.reasons[0].startswith("operating licence ")
    assert reason in outcome.reasons[0]
    with harness.sessions() as session:
        assert (
            session.scalars(select(HumanTask).where(HumanTask.workflow_id == handle.id)).all() == []
        )
        assert session.get(CarrierLicence, app.supplier_org_id) is None
        assert session.scalars(
            select(Notification.role).where(Notification.org_id == app.supplier_org_id)
        ).all() == ["carrier"]


async def test_renewals_are_the_applicants_own_and_checked(harness: Harness) -> None:
    carrier_app = c.carrier_application(
        harness.sessions, harness.store, harness.registry, now=await harness.env.get_current_time()
    )
    carrier = await harness.apply(carrier_app)
    await decide(carrier, await harness.open_task(carrier, "review"), b.compliance_actor())
    supplier_app = await harness.application()
    supplier = await harness.apply(supplier_app)
    await decide(supplier, await harness.open_task(supplier, "review"), b.compliance_actor())
    assert carrier_app.carrier_licence is not None
    today = await harness.today()
    suspended = c.register_licence(
        harness.registry,
        holder_name=carrier_app.legal_name,
        holder_credit_code=carrier_app.credit_code,
        issued=today - timedelta(days=1),
        expires=today + timedelta(days=900),
        status="Suspended",
    )

    refused = await renew_licence(
        carrier, RenewLicenceInput(licence=suspended, actor=carrier_app.submitted_by)
    )
    assert not refused.accepted
    assert refused.reasons == ("register status is Suspended (must be Valid)",)

    with pytest.raises(WorkflowUpdateFailedError) as not_a_carrier:
        await renew_licence(
            supplier, RenewLicenceInput(licence=suspended, actor=supplier_app.submitted_by)
        )
    assert refusal(not_a_carrier)[0] == "Malformed"
    with pytest.raises(WorkflowUpdateFailedError) as wrong_role:
        await renew_licence(
            carrier,
            RenewLicenceInput(
                licence=suspended,
                actor=Actor(
                    user_id="usr_x", org_id=carrier_app.supplier_org_id, roles=(Role.SUPPLIER,)
                ),
            ),
        )
    assert refusal(wrong_role) == ("WrongRole", "only the carrier itself may renew")
    # A carrier renews an ISO certificate as its CARRIER user, not as a supplier.
    certificate = b.register_certificate(
        harness.registry,
        holder=carrier_app.legal_name,
        issued=today - timedelta(days=1),
        expires=today + timedelta(days=900),
    )
    as_carrier = await renew(
        carrier,
        RenewCertificateInput(certificate=certificate, actor=carrier_app.submitted_by),
    )
    assert as_carrier.accepted
