"""Accreditation of a supplier or a carrier: from application to a standing that watches itself.

Orchestrates: record the application; check the credit code, every certificate (registry) and
three years of financials; reject hard failures at once; otherwise a compliance review (a second,
different approver for high risk), escalated to ops_supervisor after 72 h and lapsing after 14 days;
on approval issue the certificate PDF and accredit. Then it stays alive as the accreditation
(``workflows.accreditation_standing``): reminders, suspension on expiry unless renewed, a yearly
financial re-review, continue-as-new.

A carrier's application (it carries ``carrier_licence``) also checks the operating licence in the
registry's licence register, a failing licence being a hard failure, and needs no ISO
certificate; its certificate PDF says carrier and lists the permitted classes, and its standing
watches the licence's expiry too. Only that branch issues the licence's commands: a supplier's
process issues exactly the commands it always did, so its recorded histories replay.

Updates: ``decide_task`` (inherited), ``submit_renewed_certificate``, ``submit_renewed_licence``.
Query: ``get_status``.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.accreditation import (
        Accreditation,
        AccreditationOutcome,
        AccreditationStatus,
        AccreditationView,
        AccreditationWorkflowInput,
        AnalyseFinancialsInput,
        ApplicationStatusInput,
        CheckReport,
        CreditCodeCheckInput,
        CreditCodeCheckResult,
        FinancialCheck,
        IssueCertificateInput,
        RecordReportInput,
    )
    from contracts.common import OPERATOR_ORG_ID, DocumentRef, Role
    from contracts.tasks import NotifyInput, TaskDecision, TaskSpec
    from rules import accreditation as rules
    from workflows import policies
    from workflows.accreditation_standing import AccreditationStanding


@workflow.defn
class AccreditationWorkflow(AccreditationStanding):
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
        # A carrier's licence only: a supplier's process schedules nothing more than it did.
        licence = app.carrier_licence
        licence_check = None if licence is None else await self._verify_licence(licence, today)
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
                licence=licence_check,
            ),
            licence=licence_check,
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
        details = {
            "risk_band": risk,
            "supplier_org_id": app.supplier_org_id,
        }
        what = "Review carrier accreditation: " if app.carrier_licence else "Review accreditation: "
        title = ("Second approval (four eyes): " if second else what) + app.legal_name
        if app.carrier_licence is not None:
            lic = app.carrier_licence
            summary += (
                f" Carrier: operating licence {lic.number} ({lic.issuing_authority}) verified, "
                f"classes {', '.join(lic.permitted_classes)}, valid until {lic.expiry_date}."
            )
            if report.licence is not None and report.licence.warnings:
                summary += f" Licence: {'; '.join(report.licence.warnings)}."
            details |= {
                "applicant": "carrier",
                "permitted_classes": ", ".join(lic.permitted_classes),
            }
        documents = [app.licence_document.document_id]
        documents += [c.document.document_id for c in app.certificates if c.document]
        documents += [y.document.document_id for y in app.financials if y.document]
        if app.carrier_licence_document is not None:
            documents.append(app.carrier_licence_document.document_id)
        return TaskSpec(
            kind="accreditation_second_review" if second else "accreditation_review",
            role=Role.COMPLIANCE,
            org_id=OPERATOR_ORG_ID,
            subject_type="accreditation_application",
            subject_id=app.application_id,
            title=title,
            summary=summary,
            document_ids=tuple(documents),
            details=details,
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
        expires_on = rules.accreditation_expiry(valid, app.carrier_licence)
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
                carrier_licence=app.carrier_licence,
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
            licence=app.carrier_licence,
        )
        self._set_status(AccreditationStatus.ACCREDITED)
        await self._record_standing("accredited")
        await self._record_status(AccreditationStatus.ACCREDITED, approvals[-1])
        self.reply(
            approvals[-1], process_status=self._status, message=f"accredited as {tier.value}"
        )

    # -- helpers --------------------------------------------------------------------------

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
                role=self._application.applicant_role,
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
