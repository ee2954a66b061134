"""The accreditation act of ``make demo``: each demo supplier applies, compliance approves.

Shows an application with its licence, certificates and three years of financial statements going
through the registry checks to compliance's review task; a supplier already eligible (a second
run against the same data) is left as it is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from stack.demo_client import Caller, wait_for

# A stand-in scan: the documents are stored and hashed, not read.
PDF = b"%PDF-1.4\n%demo scan\n%%EOF\n"

# Registry records the certification-registry sandbox is seeded with.
SUPPLIERS = {
    "supplier@hengxin.example": (
        "91320200MA1HENGX53",
        [("ISO 9001", "CN-QMS-2025-001881"), ("ISO 14001", "CN-EMS-2025-000917")],
        (
            "China Quality Certification Centre (CQC)",
            "2025-03-01",
            "2028-02-28",
            "危险化学品的生产与销售 Production and sale of hazardous chemicals",
        ),
        "solvents",
    ),
    "supplier@lianfeng.example": (
        "91330100MA2L1ANF1U",
        [("ISO 9001", "CN-QMS-2024-007730"), ("ISO 22000", "CN-FSMS-2024-002201")],
        (
            "SGS-CSTC Standards Technical Services",
            "2024-06-15",
            "2027-06-14",
            "冷链食品的加工与配送 Processing and distribution of cold-chain foods",
        ),
        "chilled reagents",
    ),
    "supplier@anxin.example": (
        "91440300MA3ANX1N19",
        [("ISO 9001", "CN-QMS-2023-004410")],
        (
            "TÜV Rheinland (Shanghai)",
            "2024-01-10",
            "2027-01-09",
            "电子元器件的设计与制造 Design and manufacture of electronic components",
        ),
        "electronics",
    ),
}


def _year(year: int, revenue: int) -> dict[str, str | int]:
    figures = {
        "revenue": revenue,
        "net_profit": 900_000,
        "profit_before_tax": 1_200_000,
        "interest_expense": 100_000,
        "current_assets": 6_000_000,
        "inventory": 1_000_000,
        "prepaid_expenses": 200_000,
        "current_liabilities": 2_500_000,
        "total_assets": 12_000_000,
        "total_liabilities": 4_000_000,
        "retained_earnings": 3_000_000,
    }
    return {"year": year, "currency": "CNY", **{k: str(v) for k, v in figures.items()}}


def financial_years() -> list[dict[str, str | int]]:
    """Three years of growing revenue, the last one closed."""
    last = datetime.now(UTC).year - 1
    return [_year(last - 2, 8_000_000), _year(last - 1, 9_000_000), _year(last, 10_000_000)]


def accredit(base: str, email: str, compliance: Caller) -> str:
    supplier = Caller(base, email)
    org_id: str = supplier.call("GET", "/auth/me")["org_id"]
    standing = supplier.http.get(f"/accreditation/suppliers/{org_id}")
    if standing.status_code == 200 and standing.json()["eligible_for_sourcing"]:
        print(f"{email}: already accredited")
        return org_id
    code, certificates, (body, issued, expires, scope), category = SUPPLIERS[email]
    form = {
        "credit_code": code,
        "licence_number": f"LIC-{code[-6:]}",
        "product_categories": [category],
        "certificates": [
            {
                "standard": standard,
                "number": number,
                "certification_body": body,
                "accreditation_body": "CNAS",
                "scope": scope,
                "issue_date": issued,
                "expiry_date": expires,
            }
            for standard, number in certificates
        ],
        "financials": financial_years(),
    }
    files = [("licence", ("licence.pdf", PDF, "application/pdf"))]
    files += [
        ("certificate_files", (f"c{i}.pdf", PDF, "application/pdf"))
        for i in range(len(certificates))
    ]
    files += [("statement_files", (f"s{i}.pdf", PDF, "application/pdf")) for i in range(3)]
    supplier.call(
        "POST", "/accreditation/applications", data={"application": json.dumps(form)}, files=files
    )
    task = wait_for(
        f"{email}'s review task",
        lambda: [
            t
            for t in compliance.call("GET", "/tasks")
            if t["details"].get("supplier_org_id") == org_id
        ],
    )[0]
    answer = compliance.call(
        "POST", f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"}
    )
    print(f"{email}: applied; compliance approved → {answer['process_status']}")
    return org_id
