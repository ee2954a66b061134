"""catalogue price log: a supplier's offer writes and standing changes log one after the other

The log of migration 0025 missed one order of events. A standing change W (a suspension, a first
accreditation) logs the products of the supplier's offers that its own snapshot sees. An offer
written meanwhile by T (an import adding the supplier's offer to product Q) logs Q; if T
committed after W's trigger looked and before W committed, the refresher could sum Q in a
snapshot between the two, counting the suspended supplier's price (or leaving out the newly
accredited one's), and take T's entry away, while W's entry never named Q. The sum then stayed
trusted until it lapsed.

Now both triggers take a lock named by the supplier (an advisory lock, held to the end of the
transaction) before they log: shared for offer writes, which so never wait for each other,
exclusive for standing changes. Whichever comes second waits for the first to commit and then
logs from a snapshot that sees it: T after W logs Q once W's change is visible; W after T sees
T's offer and logs Q itself.

Revision ID: 0026
Revises: 0025
Create Date: 2027-01-15 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The lock's first key: the catalogue price log's (the second is the supplier's id hashed).
_LOCKS = 7431015

# Each trigger's events: the suppliers whose lock it takes, and the products it logs.
_STANDING_CHANGED = """
    SELECT a.supplier_org_id FROM changed_after a
    JOIN changed_before b ON b.supplier_org_id = a.supplier_org_id
    WHERE (a.status, a.expires_on) IS DISTINCT FROM (b.status, b.expires_on)"""
_OF_SUPPLIERS = "SELECT DISTINCT o.product_id FROM catalogue_offers o WHERE o.supplier_org_id IN"
_EVENTS = {
    "catalogue_offers_changed": (
        "pg_advisory_xact_lock_shared",
        {
            "INSERT": (
                "SELECT supplier_org_id FROM changed_after",
                "SELECT DISTINCT product_id FROM changed_after",
            ),
            "UPDATE": (
                "SELECT supplier_org_id FROM changed_after"
                " UNION SELECT supplier_org_id FROM changed_before",
                "SELECT product_id FROM changed_after UNION SELECT product_id FROM changed_before",
            ),
            "DELETE": (
                "SELECT supplier_org_id FROM changed_before",
                "SELECT DISTINCT product_id FROM changed_before",
            ),
        },
    ),
    "catalogue_standings_changed": (
        "pg_advisory_xact_lock",
        {
            "INSERT": (
                "SELECT supplier_org_id FROM changed_after",
                f"{_OF_SUPPLIERS} (SELECT supplier_org_id FROM changed_after)",
            ),
            "UPDATE": (_STANDING_CHANGED, f"{_OF_SUPPLIERS} ({_STANDING_CHANGED})"),
            "DELETE": (
                "SELECT supplier_org_id FROM changed_before",
                f"{_OF_SUPPLIERS} (SELECT supplier_org_id FROM changed_before)",
            ),
        },
    ),
}


def _function(name: str, *, locked: bool) -> str:
    """The trigger function: each event logs its products, first taking its suppliers' locks
    in a fixed order when ``locked`` (0025's functions are the same without them)."""
    lock, events = _EVENTS[name]
    branches = []
    for n, (event, (suppliers, products)) in enumerate(events.items()):
        steps = []
        if locked:
            steps.append(
                f"PERFORM {lock}({_LOCKS}, hashtext(s.id))"
                f" FROM (SELECT DISTINCT id FROM ({suppliers}) AS t(id) ORDER BY id) AS s;"
            )
        steps.append(f"INSERT INTO catalogue_price_changes (product_id) {products};")
        keyword = "IF" if n == 0 else "ELSIF" if event != "DELETE" else "ELSE"
        condition = f" TG_OP = '{event}' THEN" if keyword != "ELSE" else ""
        branches.append(f"{keyword}{condition}\n" + "\n".join(steps))
    body = "\n".join(branches)
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nEND IF;\nRETURN NULL;\nEND $$"
    )


def upgrade() -> None:
    for name in _EVENTS:
        op.execute(_function(name, locked=True))


def downgrade() -> None:
    for name in _EVENTS:
        op.execute(_function(name, locked=False))
