"""Supplier accreditation: from application to a standing accreditation that watches itself.

Orchestrates: record the application; check the credit code, every certificate (registry) and
three years of financials; reject hard failures at once; otherwise a compliance review (a second,
different approver for high risk), escalated to ops_supervisor after 72 h and lapsing after 14 days;
on approval issue the certificate PDF and accredit. Then it stays alive as the accreditation:
reminds 30 days before a certificate expires, suspends on expiry unless a renewed certificate
passes the same checks, asks compliance for a financial re-review each year, and continues as new
to keep its history bounded.

Updates: ``decide_task`` (inherited), ``submit_renewed_certificate``. Query: ``get_status``.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.accreditation import (
        Accreditation,
        AccreditationOutcome,
        AccreditationRecordInput,
        AccreditationStatus,
        AccreditationView,
        AccreditationWorkflowInput,
        AnalyseFinancialsInput,
        ApplicationStatusInput,
        CertificateCheck,
        CertificateClaim,
        CheckReport,
        CreditCodeCheckInput,
        CreditCodeCheckResult,
        FinancialCheck,
        IssueCertificateInput,
        RecordReportInput,
        RenewCertificateInput,
        RenewCertificateResult,
        VerifyCertificateInput,
    )
    from contracts.common import OPERATOR_ORG_ID, DocumentRef, Role
    from contracts.tasks import NotifyInput, TaskDecision, TaskSpec
    from rules import accreditation as rules
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow, process_key


@workflow.defn
class AccreditationWorkflow(HumanTaskWorkflow):
    @workflow.init
    def __init__(self, input: AccreditationWorkflowInput) -> None:
        super().__init__()
        self._application = input.application
        self._status = input.status
        self._accreditation = input.accreditation
        self._report: CheckReport | None = None
        self._reasons: tuple[str, ...] = input.reasons
        self._wake = False

    @workflow.run
    async def run(self, input: AccreditationWorkflowInput) -> AccreditationOutcome:
        if self._accreditation is None:
            ended = await self._decide_application()
            if ended is not None:
                return ended
        return await self._keep_accreditation()

    @workflow.query
    def get_status(self) -> AccreditationView:
        return AccreditationView(
            application_id=self._application.application_id,
            supplier_org_id=self._application.supplier_org_id,
            status=self._status,
            reasons=self._reasons,
            report=self._report,
            accreditation=self._accreditation,
            open_task_ids=self.open_task_ids(),
        )

    # -- the application ------------------------------------------------------------------

    async def _decide_application(self) -> AccreditationOutcome | None:
        app = self._application
        await policies.run("record_application", app)
        try:
            self._report = report = await self._run_checks()
        except ActivityError as failure:
            # A check that failed for good (not an outage: those retry) ends the application
            # visibly instead of leaving it "checking" forever.
            cause = failure.cause.message if isinstance(failure.cause, ApplicationError) else ""
            reason = f"automatic checks could not complete: {cause or failure.message}"
            return await self._end(AccreditationStatus.REJECTED, (reason,))
        if report.hard_failures:
            return await self._end(AccreditationStatus.REJECTED, report.hard_failures, report)
        await policies.run(
            "record_check_report",
            RecordReportInput(
                application_id=app.application_id,
                report=report,
                status=AccreditationStatus.UNDER_REVIEW,
            ),
        )
        self._set_status(AccreditationStatus.UNDER_REVIEW)
        deadline = app.submitted_at + rules.APPLICATION_LIFETIME
        first = await self.ask("review", self._review_spec(report), expires_at=deadline)
        if first is None:
            return await self._end(AccreditationStatus.LAPSED, ("no decision within 14 days",))
        if first.outcome == "reject":
            return await self._end_by(first, ("rejected by compliance: " + first.comment,))
        approvals = [first]
        if report.financials is not None and rules.needs_four_eyes(report.financials):
            self._set_status(AccreditationStatus.AWAITING_SECOND_APPROVAL)
            await self._record_status(AccreditationStatus.AWAITING_SECOND_APPROVAL, first)
            self.reply(
                first,
                process_status=self._status,
                message="high risk: a second, different compliance approver must decide",
            )
            spec = self._review_spec(report, excluded=(first.actor.user_id,), second=True)
            second = await self.ask("second-review", spec, expires_at=deadline)
            if second is None:
                return await self._end(AccreditationStatus.LAPSED, ("no second decision in time",))
            if second.outcome == "reject":
                return await self._end_by(second, ("rejected at second review: " + second.comment,))
            approvals.append(second)
        await self._accredit(report, approvals)
        return None

    async def _run_checks(self) -> CheckReport:
        app = self._application
        today = workflow.now().date()
        code, financial, certificates = await asyncio.gather(
            policies.call(
                "check_credit_code",
                CreditCodeCheckInput(
                    supplier_org_id=app.supplier_org_id, credit_code=app.credit_code
                ),
                CreditCodeCheckResult,
                policy=policies.VALIDATION,
            ),
            policies.call(
                "analyse_financials",
                AnalyseFinancialsInput(years=app.financials, latest_expected_year=today.year - 1),
                FinancialCheck,
                policy=policies.VALIDATION,
            ),
            asyncio.gather(*(self._verify(claim, today) for claim in app.certificates)),
        )
        checks = tuple(certificates)
        return CheckReport(
            credit_code_valid=code.valid,
            credit_code_reason=code.reason,
            certificates=checks,
            financials=financial.analysis,
            hard_failures=rules.hard_failures(
                credit_code_reason=code.reason or None,
                certificates=checks,
                missing_years=financial.missing_years,
                currency_reason=financial.currency_reason or None,
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

    def _review_spec(
        self, report: CheckReport, *, excluded: tuple[str, ...] = (), second: bool = False
    ) -> TaskSpec:
        app = self._application
        analysis = report.financials
        risk = analysis.risk_band.value if analysis else "unknown"
        flags = "; ".join(f.message for f in analysis.flags) if analysis else ""
        failed = [
            f"{c.standard}: {'; '.join(c.reasons)}" for c in report.certificates if not c.passed
        ]
        passed = sum(c.passed for c in report.certificates)
        summary = (
            f"{app.legal_name} ({app.credit_code}). Risk band: {risk}. "
            f"Certificates valid: {passed}/{len(report.certificates)}."
            + (f" Failed: {' | '.join(failed)}." if failed else "")
            + (f" Flags: {flags}." if flags else "")
        )
        documents = [app.licence_document.document_id]
        documents += [c.document.document_id for c in app.certificates if c.document]
        documents += [y.document.document_id for y in app.financials if y.document]
        return TaskSpec(
            kind="accreditation_second_review" if second else "accreditation_review",
            role=Role.COMPLIANCE,
            org_id=OPERATOR_ORG_ID,
            subject_type="accreditation_application",
            subject_id=app.application_id,
            title=("Second approval (four eyes): " if second else "Review accreditation: ")
            + app.legal_name,
            summary=summary,
            document_ids=tuple(documents),
            details={"risk_band": risk, "supplier_org_id": app.supplier_org_id},
            excluded_user_ids=excluded,
            escalate_after=rules.REVIEW_ESCALATION,
        )

    async def _accredit(self, report: CheckReport, approvals: list[TaskDecision]) -> None:
        app = self._application
        analysis = report.financials
        if analysis is None:  # hard_failures rejects applications without financials
            raise ApplicationError("accrediting without a financial analysis", non_retryable=True)
        valid = tuple(
            claim
            for claim, check in zip(app.certificates, report.certificates, strict=True)
            if check.passed
        )
        tier = rules.tier_for(analysis=analysis, valid_certificates=len(valid))
        now = workflow.now()
        expires_on = rules.accreditation_expiry(valid)
        document = await policies.call(
            "issue_accreditation_certificate",
            IssueCertificateInput(
                document_id=f"{app.application_id}:certificate",
                application_id=app.application_id,
                supplier_org_id=app.supplier_org_id,
                legal_name=app.legal_name,
                credit_code=app.credit_code,
                tier=tier,
                risk_band=analysis.risk_band,
                accredited_on=now.date(),
                expires_on=expires_on,
                certificates=valid,
                approver_user_ids=tuple(d.actor.user_id for d in approvals),
            ),
            DocumentRef,
            policy=policies.DOCUMENT,
        )
        self._accreditation = Accreditation(
            tier=tier,
            risk_band=analysis.risk_band,
            accredited_at=now,
            expires_on=expires_on,
            certificates=valid,
            certificate_document=document,
            next_financial_review=now.date() + rules.FINANCIAL_REVIEW_INTERVAL,
        )
        self._set_status(AccreditationStatus.ACCREDITED)
        await self._record_standing("accredited")
        await self._record_status(AccreditationStatus.ACCREDITED, approvals[-1])
        self.reply(
            approvals[-1], process_status=self._status, message=f"accredited as {tier.value}"
        )

    # -- the standing accreditation -------------------------------------------------------

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
            if self._status == AccreditationStatus.ACCREDITED and today >= acc.expires_on:
                await self._suspend(
                    _CERTIFICATE_EXPIRY,
                    "certificate expired without a verified renewal",
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
                role=Role.SUPPLIER,
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

    async def _suspend(self, cause: str, reason: str, *, key: str) -> None:
        self._set_status(AccreditationStatus.SUSPENDED)
        self._reasons = (reason,)
        self._accreditation = self._current().model_copy(update={"suspended_for": cause})
        await self._record_standing(f"suspended:{key}", reason=reason)
        await self.notify(
            NotifyInput(
                notification_id=f"{self._application.application_id}:suspended:{key}",
                org_id=self._application.supplier_org_id,
                role=Role.SUPPLIER,
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
        if decision.outcome == "keep" and acc.suspended_for == _FINANCIAL_REVIEW:
            self._accreditation = self._current().model_copy(update={"suspended_for": ""})
            self._set_status(AccreditationStatus.ACCREDITED)
            self._reasons = ()
            await self._record_standing(f"reinstated:{step}")
        if decision.outcome == "suspend":
            await self._suspend(
                _FINANCIAL_REVIEW,
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
        expires_on = rules.accreditation_expiry(certificates)
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
        if acc.suspended_for == _CERTIFICATE_EXPIRY and workflow.now().date() < expires_on:
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
        if actor.org_id != self._application.supplier_org_id or Role.SUPPLIER not in actor.roles:
            raise ApplicationError("only the supplier itself may renew", type="WrongRole")
        if renewal.certificate.expiry_date <= workflow.now().date():
            raise ApplicationError(
                "certificate.expiry_date: must be in the future", type="Malformed"
            )

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
            ),
        )

    async def _record_status(self, status: AccreditationStatus, by: TaskDecision) -> None:
        await policies.run(
            "set_application_status",
            ApplicationStatusInput(
                application_id=self._application.application_id,
                status=status,
                reasons=self._reasons,
                actor=by.actor,
            ),
        )

    async def _end(
        self,
        status: AccreditationStatus,
        reasons: tuple[str, ...],
        report: CheckReport | None = None,
    ) -> AccreditationOutcome:
        self._set_status(status)
        self._reasons = reasons
        app_id = self._application.application_id
        if report is not None:
            await policies.run(
                "record_check_report",
                RecordReportInput(application_id=app_id, report=report, status=status),
            )
        await policies.run(
            "set_application_status",
            ApplicationStatusInput(application_id=app_id, status=status, reasons=reasons),
        )
        await self.notify(
            NotifyInput(
                notification_id=f"{app_id}:{status.value}",
                org_id=self._application.supplier_org_id,
                role=Role.SUPPLIER,
                kind=f"accreditation_{status.value}",
                subject_type="accreditation_application",
                subject_id=app_id,
                message=f"Application {status.value}: " + "; ".join(reasons),
            )
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return AccreditationOutcome(application_id=app_id, status=status, reasons=reasons)

    async def _end_by(
        self, decision: TaskDecision, reasons: tuple[str, ...]
    ) -> AccreditationOutcome:
        self.reply(
            decision, process_status=AccreditationStatus.REJECTED, message="; ".join(reasons)
        )
        return await self._end(AccreditationStatus.REJECTED, reasons)


_CERTIFICATE_EXPIRY = "certificate_expiry"
_FINANCIAL_REVIEW = "financial_review"
