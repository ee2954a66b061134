"""The standing accreditation: what the accreditation workflow does once it has accredited.

Reminds 30 days before a certificate (or a carrier's operating licence) expires, suspends on
expiry unless a renewal passes the same checks as at application, asks compliance for a
financial re-review each year, records each change of standing and continues as new to keep
its history bounded. ``workflows.accreditation`` builds the workflow on this base.

Updates: ``submit_renewed_certificate``, ``submit_renewed_licence`` (carriers).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.accreditation import (
        Accreditation,
        AccreditationOutcome,
        AccreditationRecordInput,
        AccreditationStatus,
        AccreditationWorkflowInput,
        ApplyInput,
        CertificateCheck,
        CertificateClaim,
        RenewCertificateInput,
        RenewCertificateResult,
        VerifyCertificateInput,
    )
    from contracts.common import OPERATOR_ORG_ID, Role
    from contracts.fleet import (
        CarrierLicenceClaim,
        LicenceCheck,
        RenewLicenceInput,
        VerifyLicenceInput,
    )
    from contracts.tasks import NotifyInput, TaskSpec
    from rules import accreditation as rules
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow, process_key

CERTIFICATE_EXPIRY = "certificate_expiry"
FINANCIAL_REVIEW = "financial_review"


class AccreditationStanding(HumanTaskWorkflow):
    """Base of AccreditationWorkflow: the standing it keeps, its watches and renewals."""

    _application: ApplyInput
    _status: AccreditationStatus
    _accreditation: Accreditation | None
    _reasons: tuple[str, ...]
    _wake: bool

    async def _keep_accreditation(self) -> AccreditationOutcome:
        review: asyncio.Task[None] | None = None
        while True:
            acc = self._current()
            today = workflow.now().date()
            for claim in acc.certificates:
                if claim.number not in acc.reminded_for and today >= rules.reminder_due(
                    claim.expiry_date
                ):
                    await self._remind(claim)
            acc = self._current()
            if (due := _licence_reminder(acc)) is not None and today >= due:
                await self._remind_licence()
            acc = self._current()
            if self._status == AccreditationStatus.ACCREDITED and today >= acc.expires_on:
                await self._suspend(
                    CERTIFICATE_EXPIRY,
                    _expiry_reason(acc),
                    key=f"expired:{acc.expires_on}",
                )
            if review is None and today >= acc.next_financial_review:
                # Runs beside this loop: certificates keep expiring while compliance reviews.
                review = asyncio.create_task(self._financial_review())
                review.add_done_callback(lambda _: self._wake_up())
            if review is not None and review.done():
                review.result()
                return await self._continue()
            if review is None and workflow.info().is_continue_as_new_suggested():
                return await self._continue()
            await self._sleep_until(self._next_event(reviewing=review is not None))

    def _next_event(self, *, reviewing: bool) -> date:
        acc = self._current()
        events = [] if reviewing else [acc.next_financial_review]
        events += [
            rules.reminder_due(c.expiry_date)
            for c in acc.certificates
            if c.number not in acc.reminded_for
        ]
        if (due := _licence_reminder(acc)) is not None:
            events.append(due)
        if self._status == AccreditationStatus.ACCREDITED:
            events.append(acc.expires_on)
        # Nothing scheduled (reviewing, nothing to remind, suspended): the review's end wakes us.
        return min(events, default=acc.next_financial_review + rules.FINANCIAL_REVIEW_INTERVAL)

    def _wake_up(self) -> None:
        self._wake = True

    async def _sleep_until(self, day: date) -> None:
        wake_at = datetime.combine(day, datetime.min.time(), tzinfo=workflow.now().tzinfo)
        timeout = max(wake_at - workflow.now(), timedelta(seconds=1))
        self._wake = False
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: self._wake, timeout=timeout)

    async def _remind(self, claim: CertificateClaim) -> None:
        app = self._application
        await self.notify(
            NotifyInput(
                notification_id=f"{app.application_id}:remind:{claim.standard}:{claim.expiry_date}",
                org_id=app.supplier_org_id,
                role=app.applicant_role,
                kind="certificate_expiring",
                subject_type="accreditation_application",
                subject_id=app.application_id,
                message=(
                    f"Your {claim.standard} certificate expires on {claim.expiry_date}: "
                    "submit the renewed certificate to stay accredited."
                ),
            )
        )
        acc = self._current()
        self._accreditation = acc.model_copy(
            update={"reminded_for": (*acc.reminded_for, claim.number)}
        )

    async def _remind_licence(self) -> None:
        app, acc = self._application, self._current()
        licence = acc.licence
        if licence is None:
            return
        await self.notify(
            NotifyInput(
                notification_id=f"{app.application_id}:remind:licence:{licence.expiry_date}",
                org_id=app.supplier_org_id,
                role=app.applicant_role,
                kind="licence_expiring",
                subject_type="accreditation_application",
                subject_id=app.application_id,
                message=(
                    f"Your road transport operating licence {licence.number} expires on "
                    f"{licence.expiry_date}: submit the renewed licence to stay accredited."
                ),
            )
        )
        self._accreditation = acc.model_copy(
            update={"reminded_for": (*acc.reminded_for, _licence_key(licence))}
        )

    async def _suspend(self, cause: str, reason: str, *, key: str) -> None:
        self._set_status(AccreditationStatus.SUSPENDED)
        self._reasons = (reason,)
        self._accreditation = self._current().model_copy(update={"suspended_for": cause})
        await self._record_standing(f"suspended:{key}", reason=reason)
        await self.notify(
            NotifyInput(
                notification_id=f"{self._application.application_id}:suspended:{key}",
                org_id=self._application.supplier_org_id,
                role=self._application.applicant_role,
                kind="accreditation_suspended",
                subject_type="accreditation_application",
                subject_id=self._application.application_id,
                message=f"Accreditation suspended: {reason}",
            )
        )

    async def _financial_review(self) -> None:
        acc = self._current()
        spec = TaskSpec(
            kind="accreditation_financial_review",
            role=Role.COMPLIANCE,
            org_id=OPERATOR_ORG_ID,
            subject_type="accreditation_application",
            subject_id=self._application.application_id,
            title=f"Annual financial re-review: {self._application.legal_name}",
            summary=(
                f"Accredited {acc.accredited_at.date()} as {acc.tier.value}; the yearly financial "
                "re-review is due. Keep the accreditation or suspend it."
            ),
            outcomes=("keep", "suspend"),
            escalate_after=rules.REVIEW_ESCALATION,
            expire_after=rules.APPLICATION_LIFETIME,
        )
        step = f"financial-review-{acc.next_financial_review.isoformat()}"
        decision = await self.ask(step, spec)
        acc = self._current()  # a renewal may have landed while the task was open
        self._accreditation = acc.model_copy(
            update={
                "next_financial_review": acc.next_financial_review + rules.FINANCIAL_REVIEW_INTERVAL
            }
        )
        if decision is None:
            return  # unanswered reviews keep the accreditation; the lapse is in the audit log
        if decision.outcome == "keep" and acc.suspended_for == FINANCIAL_REVIEW:
            self._accreditation = self._current().model_copy(update={"suspended_for": ""})
            self._set_status(AccreditationStatus.ACCREDITED)
            self._reasons = ()
            await self._record_standing(f"reinstated:{step}")
        if decision.outcome == "suspend":
            await self._suspend(
                FINANCIAL_REVIEW,
                f"financial re-review: {decision.comment or 'suspended'}",
                key=step,
            )
        self.reply(
            decision, process_status=self._status, message=f"review recorded: {decision.outcome}"
        )

    @workflow.update(
        description="Submit a renewed ISO certificate; it is verified like at application."
    )
    async def submit_renewed_certificate(
        self, renewal: RenewCertificateInput
    ) -> RenewCertificateResult:
        check = await self._verify(renewal.certificate, workflow.now().date())
        if not check.passed:
            return RenewCertificateResult(accepted=False, reasons=check.reasons, expires_on=None)
        acc = self._current()
        kept = tuple(c for c in acc.certificates if c.standard != renewal.certificate.standard)
        certificates = (*kept, renewal.certificate)
        expires_on = rules.accreditation_expiry(certificates, acc.licence)
        self._accreditation = acc.model_copy(
            update={
                "certificates": certificates,
                "expires_on": expires_on,
                "reminded_for": tuple(
                    n for n in acc.reminded_for if n != renewal.certificate.number
                ),
            }
        )
        key = f"renewed:{renewal.certificate.standard}:{renewal.certificate.expiry_date}"
        acc = self._current()
        if acc.suspended_for == CERTIFICATE_EXPIRY and workflow.now().date() < expires_on:
            self._accreditation = acc.model_copy(update={"suspended_for": ""})
            self._set_status(AccreditationStatus.ACCREDITED)
            self._reasons = ()
        await self._record_standing(key)
        self._wake = True
        return RenewCertificateResult(accepted=True, reasons=(), expires_on=expires_on)

    @submit_renewed_certificate.validator
    def validate_submit_renewed_certificate(self, renewal: RenewCertificateInput) -> None:
        if self._accreditation is None:
            raise ApplicationError("the supplier is not accredited yet", type="NotAccredited")
        actor = renewal.actor
        role = self._application.applicant_role
        if actor.org_id != self._application.supplier_org_id or role not in actor.roles:
            raise ApplicationError(f"only the {role.value} itself may renew", type="WrongRole")
        if renewal.certificate.expiry_date <= workflow.now().date():
            raise ApplicationError(
                "certificate.expiry_date: must be in the future", type="Malformed"
            )

    @workflow.update(
        description="Submit a renewed operating licence (carriers); it is checked in the "
        "register like at application."
    )
    async def submit_renewed_licence(self, renewal: RenewLicenceInput) -> RenewCertificateResult:
        check = await self._verify_licence(renewal.licence, workflow.now().date())
        if not check.passed:
            return RenewCertificateResult(accepted=False, reasons=check.reasons, expires_on=None)
        acc = self._current()
        expires_on = rules.accreditation_expiry(acc.certificates, renewal.licence)
        self._accreditation = acc = acc.model_copy(
            update={"licence": renewal.licence, "expires_on": expires_on}
        )
        if acc.suspended_for == CERTIFICATE_EXPIRY and workflow.now().date() < expires_on:
            self._accreditation = acc.model_copy(update={"suspended_for": ""})
            self._set_status(AccreditationStatus.ACCREDITED)
            self._reasons = ()
        await self._record_standing(
            f"licence-renewed:{renewal.licence.number}:{renewal.licence.expiry_date}"
        )
        self._wake = True
        return RenewCertificateResult(accepted=True, reasons=(), expires_on=expires_on)

    @submit_renewed_licence.validator
    def validate_submit_renewed_licence(self, renewal: RenewLicenceInput) -> None:
        if self._accreditation is None:
            raise ApplicationError("the carrier is not accredited yet", type="NotAccredited")
        if self._accreditation.licence is None:
            raise ApplicationError(
                "a supplier's accreditation has no operating licence to renew", type="Malformed"
            )
        actor = renewal.actor
        if actor.org_id != self._application.supplier_org_id or Role.CARRIER not in actor.roles:
            raise ApplicationError("only the carrier itself may renew", type="WrongRole")
        if renewal.licence.expiry_date <= workflow.now().date():
            raise ApplicationError("licence.expiry_date: must be in the future", type="Malformed")

    # -- helpers --------------------------------------------------------------------------

    def _current(self) -> Accreditation:
        if self._accreditation is None:
            raise ApplicationError("no accreditation to keep", non_retryable=True)
        return self._accreditation

    def _set_status(self, status: AccreditationStatus) -> None:
        self._status = status
        workflow.set_current_details(f"**Status:** {status.value}")

    async def _continue(self) -> AccreditationOutcome:
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            AccreditationWorkflowInput(
                application=self._application,
                accreditation=self._accreditation,
                status=self._status,
                reasons=self._reasons,
            )
        )

    async def _record_standing(self, change: str, *, reason: str = "") -> None:
        revision = self._current().standing_revision + 1
        acc = self._current().model_copy(update={"standing_revision": revision})
        self._accreditation = acc
        await policies.run(
            "record_accreditation",
            AccreditationRecordInput(
                supplier_org_id=self._application.supplier_org_id,
                application_id=self._application.application_id,
                status=self._status,
                tier=acc.tier,
                risk_band=acc.risk_band,
                score=rules.supplier_score(acc.tier, acc.risk_band),
                accredited_at=acc.accredited_at,
                expires_on=acc.expires_on,
                certificate_document_id=acc.certificate_document.document_id,
                reason=reason,
                change_key=process_key(change),
                revision=revision,
                carrier_licence=acc.licence,
            ),
        )

    async def _verify(self, claim: CertificateClaim, today: date) -> CertificateCheck:
        return await policies.call(
            "verify_certificate",
            VerifyCertificateInput(
                claim=claim, holder_name=self._application.legal_name, as_of=today
            ),
            CertificateCheck,
            policy=policies.EXTERNAL,
        )

    async def _verify_licence(self, claim: CarrierLicenceClaim, today: date) -> LicenceCheck:
        return await policies.call(
            "verify_transport_licence",
            VerifyLicenceInput(
                claim=claim,
                holder_name=self._application.legal_name,
                holder_credit_code=self._application.credit_code,
                as_of=today,
            ),
            LicenceCheck,
            policy=policies.EXTERNAL,
        )


def _licence_key(licence: CarrierLicenceClaim) -> str:
    """The licence's entry in ``reminded_for``: a renewal keeps its number, not its expiry."""
    return f"licence:{licence.number}:{licence.expiry_date}"


def _licence_reminder(acc: Accreditation) -> date | None:
    """When to remind a carrier of its licence's expiry; None: a supplier, or reminded."""
    if acc.licence is None or _licence_key(acc.licence) in acc.reminded_for:
        return None
    return rules.reminder_due(acc.licence.expiry_date)


def _expiry_reason(acc: Accreditation) -> str:
    if acc.licence is not None and acc.licence.expiry_date <= acc.expires_on:
        return "operating licence expired without a verified renewal"
    return "certificate expired without a verified renewal"
