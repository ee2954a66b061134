"""order loans: loans, repayments, a double-entry ledger the database keeps balanced, and the
daily bank reconciliations; organisations get their registered address

- ``loans``: one row a loan, the balance of record part by part; a partial unique index keeps
  one live loan an order, whatever races.
- ``loan_repayments``: each buyer payment applied to a loan, keyed by the order's payment id.
- ``ledger_journals`` / ``ledger_postings``: append-only. A deferred constraint trigger checks at
  commit that each new journal has at least two postings summing to zero in each currency,
  so no code path can commit an unbalanced journal; other triggers refuse updates and deletes.
- ``bank_reconciliations``: a day's comparison of the ledger's bank account with the statement.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:30:00
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# contracts.finance.ACTIVE_STATUSES when this revision was written; a later change to the set
# needs a migration of its own.
_ACTIVE = (
    "applied",
    "awaiting_confirmation",
    "disbursed",
    "disbursement_rejected",
    "disbursing",
    "offered",
    "overdue",
    "registering",
    "under_review",
)


def _json() -> sa.types.TypeEngine[Any]:
    return postgresql.JSONB(astext_type=sa.Text()).with_variant(sa.JSON(), "sqlite")


def _at(name: str, *, nullable: bool, default: bool = False) -> sa.Column[datetime]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.text("now()") if default else None,
    )


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Numeric(20, 2), nullable=False)


def upgrade() -> None:
    op.add_column("organisations", sa.Column("registered_address", sa.Text(), nullable=True))
    op.create_table(
        "loans",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(80), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column(
            "supplier_org_id", sa.String(40), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("buyer_org_id", sa.String(40), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("workflow_id", sa.String(120), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("amount"),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("terms", _json(), nullable=True),
        sa.Column("assessment", _json(), nullable=True),
        sa.Column("approved_by", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("registration_number", sa.String(60), nullable=True),
        sa.Column("registration_released", sa.Boolean(), nullable=False),
        sa.Column("payment_id", sa.String(80), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        _money("principal_owed"),
        _money("fee_owed"),
        _money("interest_owed"),
        _money("penalty_owed"),
        sa.Column("accrued_to", sa.Date(), nullable=True),
        _money("written_off"),
        sa.Column("applied_by", sa.String(40), nullable=False),
        _at("applied_at", nullable=False),
        _at("updated_at", nullable=False, default=True),
    )
    op.create_index("ix_loans_order_id", "loans", ["order_id"])
    op.create_index("ix_loans_supplier_org_id", "loans", ["supplier_org_id"])
    op.create_index("ix_loans_buyer_org_id", "loans", ["buyer_org_id"])
    op.create_index(
        "loans_one_active_per_order",
        "loans",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("status IN (" + ", ".join(f"'{s}'" for s in _ACTIVE) + ")"),
    )
    op.create_table(
        "loan_repayments",
        sa.Column("payment_id", sa.String(120), primary_key=True),
        sa.Column("loan_id", sa.String(40), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        _money("amount"),
        _money("penalty"),
        _money("interest"),
        _money("fee"),
        _money("principal"),
        _money("remitted"),
        sa.Column("remittance_payment_id", sa.String(80), nullable=True),
        _money("outstanding_after"),
        _at("recorded_at", nullable=False, default=True),
    )
    op.create_index("ix_loan_repayments_loan_id", "loan_repayments", ["loan_id"])
    op.create_table(
        "ledger_journals",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("loan_id", sa.String(40), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("bank_reference", sa.String(200), nullable=True),
        _at("created_at", nullable=False, default=True),
    )
    op.create_index("ix_ledger_journals_loan_id", "ledger_journals", ["loan_id"])
    op.create_index("ix_ledger_journals_booked_on", "ledger_journals", ["booked_on"])
    op.create_index("ix_ledger_journals_bank_reference", "ledger_journals", ["bank_reference"])
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "journal_id", sa.String(200), sa.ForeignKey("ledger_journals.id"), nullable=False
        ),
        sa.Column("account", sa.String(40), nullable=False),
        sa.Column("amount", sa.Numeric(20, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.CheckConstraint("amount <> 0", name="ledger_postings_not_zero"),
    )
    op.create_index("ix_ledger_postings_journal_id", "ledger_postings", ["journal_id"])
    op.create_index("ix_ledger_postings_account", "ledger_postings", ["account"])
    op.create_table(
        "bank_reconciliations",
        sa.Column("day", sa.Date(), primary_key=True),
        _at("run_at", nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("differences", _json(), nullable=False),
    )
    op.execute(
        """
        CREATE FUNCTION ledger_check_journal(jid text) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            postings integer;
            off text;
        BEGIN
            SELECT count(*) INTO postings FROM ledger_postings WHERE journal_id = jid;
            IF postings < 2 THEN
                RAISE EXCEPTION 'journal % has % posting(s): double entry needs two',
                    jid, postings USING ERRCODE = 'check_violation';
            END IF;
            SELECT string_agg(currency || ' ' || total::text, ', ') INTO off FROM (
                SELECT currency, sum(amount) AS total FROM ledger_postings
                WHERE journal_id = jid GROUP BY currency HAVING sum(amount) <> 0
            ) unbalanced;
            IF off IS NOT NULL THEN
                RAISE EXCEPTION 'journal % does not balance: %', jid, off
                    USING ERRCODE = 'check_violation';
            END IF;
        END $$;
        CREATE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM ledger_check_journal(NEW.journal_id);
            RETURN NULL;
        END $$;
        CREATE FUNCTION ledger_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM ledger_check_journal(NEW.id);
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER ledger_postings_balanced
            AFTER INSERT ON ledger_postings DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();
        CREATE CONSTRAINT TRIGGER ledger_journals_balanced
            AFTER INSERT ON ledger_journals DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION ledger_journal_balanced();
        CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
            FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
        CREATE TRIGGER ledger_journals_append_only BEFORE UPDATE OR DELETE ON ledger_journals
            FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER ledger_journals_append_only ON ledger_journals;
        DROP TRIGGER ledger_postings_append_only ON ledger_postings;
        DROP TRIGGER ledger_journals_balanced ON ledger_journals;
        DROP TRIGGER ledger_postings_balanced ON ledger_postings;
        DROP FUNCTION ledger_append_only();
        DROP FUNCTION ledger_journal_balanced();
        DROP FUNCTION ledger_posting_balanced();
        DROP FUNCTION ledger_check_journal(text);
        """
    )
    op.drop_table("bank_reconciliations")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_journals")
    op.drop_table("loan_repayments")
    op.drop_table("loans")
    op.drop_column("organisations", "registered_address")
