"""demo credit codes: the seeded organisations' codes made valid under GB 32100-2015 in full

The demo organisations were seeded with codes whose final check character was right but whose
organisation code (positions 9-17) carried a wrong GB 11714 check character. The credit-code
rule now checks that part too, so a data folder seeded before it would refuse its own demo
suppliers. Only a row still holding the old seeded code changes; applications and signatures
keep the code they were made with, as records of what was declared and signed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# organisation id, code seeded before, code seeded now
CODES = (
    ("org_tradeflow_ops", "91100000MA0TF0P51F", "91100000MA0TF0P55U"),
    ("org_demo_buyer_huadong", "91310000MA1BUYER1P", "91310000MA1BUYER54"),
    ("org_demo_buyer_nanfang", "91440300MA5FRE5H22", "91440300MA5FRE5H6E"),
    ("org_demo_supplier_hengxin", "91320200MA1HENGX3W", "91320200MA1HENGX53"),
    ("org_demo_supplier_lianfeng", "91330100MA2L1ANF45", "91330100MA2L1ANF1U"),
    ("org_demo_supplier_anxin", "91440300MA3ANX1N5M", "91440300MA3ANX1N19"),
    ("org_demo_regulator", "113200000140000003", "113200000140000016"),
)


def _swap(direction: int) -> None:
    update = sa.text(
        "UPDATE organisations SET credit_code = :to WHERE id = :id AND credit_code = :from"
    )
    for org_id, before, now in CODES:
        old, new = (before, now) if direction > 0 else (now, before)
        op.execute(update.bindparams(id=org_id, **{"from": old, "to": new}))


def upgrade() -> None:
    _swap(+1)


def downgrade() -> None:
    _swap(-1)
