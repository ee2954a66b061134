"""The automatic accreditation checks: credit code, certificates (registry), financials and a
carrier's operating licence (the registry's licence register)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.accreditation import (
    AnalyseFinancialsInput,
    CertificateCheck,
    CreditCodeCheckInput,
    CreditCodeCheckResult,
    FinancialCheck,
    VerifyCertificateInput,
)
from contracts.fleet import LicenceCheck, VerifyLicenceInput
from db.models import Organisation
from gateways.certification_registry import CertificationRegistryClient
from gateways.http_adapter import ExternalSystemRejected
from rules import accreditation as accreditation_rules
from rules import certificates, credit_code, financials, transport_licences


class AccreditationChecks:
    def __init__(
        self, sessions: sessionmaker[Session], registry: CertificationRegistryClient
    ) -> None:
        self._sessions = sessions
        self._registry = registry

    @activity.defn(name="check_credit_code")
    def check_credit_code(self, check: CreditCodeCheckInput) -> CreditCodeCheckResult:
        """Validate the code and that it is the one the organisation registered with (read-only)."""
        problem = credit_code.credit_code_problem(check.credit_code)
        if problem is not None:
            return CreditCodeCheckResult(valid=False, reason=problem)
        with self._sessions() as session:
            org = session.get(Organisation, check.supplier_org_id)
        if org is None:
            raise ApplicationError(
                f"organisation {check.supplier_org_id} does not exist",
                type="InvalidRecord",
                non_retryable=True,
            )
        if org.credit_code != check.credit_code:
            return CreditCodeCheckResult(
                valid=False,
                reason="credit code differs from the one the organisation registered with",
            )
        return CreditCodeCheckResult(valid=True)

    @activity.defn(name="verify_certificate")
    def verify_certificate(self, verify: VerifyCertificateInput) -> CertificateCheck:
        """Look the certificate up in the registry (read-only there) and judge it.

        An unreachable registry raises, and the retry policy keeps trying; a registry that
        refuses the request (4xx) fails the activity for good.
        """
        claim = verify.claim
        try:
            record = self._registry.lookup(
                number=claim.number, certification_body=claim.certification_body
            )
        except ExternalSystemRejected as rejected:
            raise ApplicationError(
                str(rejected), type="ExternalSystemRejected", non_retryable=True
            ) from rejected
        return certificates.check_certificate(
            claim, record, holder_name=verify.holder_name, today=verify.as_of
        )

    @activity.defn(name="verify_transport_licence")
    def verify_transport_licence(self, verify: VerifyLicenceInput) -> LicenceCheck:
        """Look the carrier's operating licence up in the register (read-only) and judge it;
        outages retry, a refusal (4xx) fails for good, as for certificates."""
        try:
            record = self._registry.lookup_licence(verify.claim.number)
        except ExternalSystemRejected as rejected:
            raise ApplicationError(
                str(rejected), type="ExternalSystemRejected", non_retryable=True
            ) from rejected
        return transport_licences.check_licence(
            verify.claim,
            record,
            holder_name=verify.holder_name,
            holder_credit_code=verify.holder_credit_code,
            today=verify.as_of,
        )

    @activity.defn(name="analyse_financials")
    def analyse_financials(self, analyse: AnalyseFinancialsInput) -> FinancialCheck:
        """Compute ratios, Z'' and flags: pure, so retrying recomputes the same answer."""
        missing = financials.missing_years(
            analyse.years,
            required=accreditation_rules.REQUIRED_YEARS,
            latest_expected=analyse.latest_expected_year,
        )
        currency = financials.currency_problem(analyse.years)
        analysis = financials.analyse(analyse.years) if analyse.years and not currency else None
        return FinancialCheck(
            analysis=analysis, missing_years=missing, currency_reason=currency or ""
        )
