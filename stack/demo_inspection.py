"""The regulator's inspection, the last act of ``make demo``.

Shows the inspector searching the filed e-waybills by UN number, reading each of this round's with
its filings, verifying its integrity (JSON, PDF and record agree), and exporting the PDFs and CSV.
"""

from __future__ import annotations

from pathlib import Path

from stack.demo_client import INSPECTOR, Caller


def inspect(base: str, numbers: list[str], out: Path) -> None:
    """The regulator finds the filed acetone waybills, reads, verifies and exports them."""
    inspector = Caller(base, INSPECTOR)
    search = {"un_number": "UN1090"}
    found = inspector.call("GET", "/regulator/waybills", params=search)
    listed = {row["waybill_number"] for row in found}
    ours = ", ".join(n for n in numbers if n in listed) or "none of this round's"
    print(f"{INSPECTOR}: {len(found)} filed waybill(s) carry UN1090, among them {ours}")
    for number in numbers:
        record = inspector.call("GET", f"/regulator/waybills/{number}")
        filings = ", ".join(f"{f['kind']} ({f['receipt']})" for f in record["filings"])
        maker = record.get("made_by") or {}
        made = f"made by {maker['name']} ({maker['dispatcher']})" if maker else "maker not recorded"
        print(
            f"{number}: {record['status']}, {record['carrier_name']} {record['vehicle_plate']}, "
            f"{made}; filings: {filings}"
        )
        checked = inspector.call("GET", f"/regulator/waybills/{number}/integrity")
        print(
            f"integrity: json intact={checked['json_intact']}, pdf intact="
            f"{checked['pdf_intact']}, record matches={checked['record_matches_json']}"
        )
        path = out / f"e-waybill-{number}.pdf"
        path.write_bytes(inspector.call("GET", f"/regulator/waybills/{number}/pdf"))
        print(f"saved {path}")
    path = out / "waybills-UN1090.csv"
    path.write_bytes(inspector.call("GET", "/regulator/waybills.csv", params=search))
    print(f"saved {path}")
