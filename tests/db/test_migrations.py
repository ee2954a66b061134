"""The migrations build exactly the schema the models describe, so neither drifts unseen."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from db.catalogue import FLOORS
from db.migrate import ROOT
from db.models import Base
from rules.catalogue_listing import product_identity
from rules.credit_code import credit_code_problem


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_object": _not_an_expression_index},
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def _not_an_expression_index(
    item: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """The folded search's GIN trigram indexes (migrations 0015 and 0039) are left out of
    the models, as they need pg_trgm, which a PostgreSQL without contrib lacks (the search
    then works unindexed); tests/db/test_search_indexes.py and tests/db/test_query_plans.py
    check them against the search's expression instead."""
    folded = ("ix_organisations_folded_", "ix_waybills_carrier_folded")
    return not (kind == "index" and (name or "").startswith(folded))


@contextmanager
def _scratch(database_url: str) -> Iterator[tuple[Config, Engine]]:
    """A database of its own on the tests' server, empty, and Alembic's configuration for it;
    dropped after."""
    server = make_url(database_url)
    name = f"tradeflow_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = create_engine(url)
    try:
        yield config, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_demo_codes_seeded_before_the_full_check_are_made_valid(database_url: str) -> None:
    """A data folder seeded before the full GB 32100 check keeps working: migration 0007 swaps
    the demo organisations' old codes for valid ones and touches nothing else."""
    with _scratch(database_url) as (config, engine):
        command.upgrade(config, "0006")
        insert = text(
            "INSERT INTO organisations (id, kind, legal_name, name_en, credit_code) "
            "VALUES (:id, 'supplier', :id, :id, :code)"
        )
        with engine.begin() as connection:
            connection.execute(insert, {"id": "org_demo_supplier_hengxin", "code": OLD_HENGXIN})
            connection.execute(insert, {"id": "org_other", "code": OLD_HENGXIN[:-2] + "00"})
        command.upgrade(config, "head")
        with engine.connect() as connection:
            found = connection.execute(text("SELECT id, credit_code FROM organisations"))
            codes: dict[str, str] = {row.id: row.credit_code for row in found}
    assert codes == {
        "org_demo_supplier_hengxin": "91320200MA1HENGX53",
        "org_other": OLD_HENGXIN[:-2] + "00",
    }
    assert credit_code_problem(codes["org_demo_supplier_hengxin"]) is None


def test_the_quantity_walks_migrations_go_down_and_up_again(database_url: str) -> None:
    """Migrations 0031-0035 undone to 0030 and done again: each downgrade leaves what the next
    upgrade builds on; 0034, cut short after one index (built outside a transaction), runs
    again; the indexes and generated columns are as the models say (the models' comparison
    does not compare index predicates or generation expressions)."""
    indexes = text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
        "('catalogue_offers', 'catalogue_product_prices')"
    )
    generated = text(
        "SELECT column_name, generation_expression FROM information_schema.columns "
        "WHERE table_name = 'catalogue_offers' AND is_generated = 'ALWAYS'"
    )
    one_built = (
        "CREATE INDEX ix_catalogue_product_prices_floor_10 "
        "ON catalogue_product_prices (currency, floor_10, product_id)"
    )
    with _scratch(database_url) as (config, engine):
        command.upgrade(config, "head")
        command.downgrade(config, "0030")
        with engine.connect() as connection:
            down = dict(connection.execute(indexes).tuples().all())
        command.upgrade(config, "0033")
        with engine.begin() as connection:
            connection.execute(text(one_built))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            up = dict(connection.execute(indexes).tuples().all())
            columns = dict(connection.execute(generated).tuples().all())
    assert "break_prices" not in down["ix_catalogue_offers_product_price"]
    assert "break_prices" in up["ix_catalogue_offers_product_price"]
    added = {name.removeprefix("ix_catalogue_product_prices_"): up[name] for name in up}
    for name in set(down):
        added.pop(name.removeprefix("ix_catalogue_product_prices_"))
    expected = {
        **{floor: f"(currency, {floor}, product_id)" for floor in FLOORS},
        **{f"lead_time_{f}": f"(currency, lead_time_days, {f}, product_id)" for f in FLOORS},
        "unfloored": "(product_id) WHERE (floor_any IS NULL)",
        "brand_price": "(currency, brand, price, product_id)",
        "brand_lead_time": "(currency, brand, lead_time_days, price, product_id)",
    }
    assert {name: added[name].split(" USING btree ")[1] for name in added} == expected
    assert {column: expression.split("(")[0] for column, expression in columns.items()} == {
        "break_quantities": "catalogue_break_quantities",
        "break_prices": "catalogue_break_prices",
    }


OLD_HENGXIN = "91320200MA1HENGX3W"


# A supplier and a category for the catalogue migrations' rows.
SUPPLIER = text(
    "INSERT INTO organisations (id, kind, legal_name, name_en, credit_code) "
    "VALUES ('org_s', 'supplier', 's', 's', '91320200MA1HENGX53')"
)
CATEGORY = text(
    "INSERT INTO catalogue_categories (id, path, name_zh, name_en, attributes, synonyms, "
    "updated_by) VALUES (:id, :id, :zh, :en, '[]', '[]', 'u')"
)


def test_sums_get_their_products_brand_whoever_writes_them(database_url: str) -> None:
    """Migration 0035, run again after it was cut short: a sum written before it gets its
    product's brand, folded; one written after it without a brand (as a refresher older than it
    writes) gets it from a trigger, and a product's brand rewritten reaches its sums; undone
    and done again, the same."""
    product = text(
        "INSERT INTO products (id, category_id, identity, name, brand, model, attributes, "
        "search_text, terms, media, listed_by_org_id) VALUES (:id, 'tools', :id, 'n', :brand, "
        "'m', '{}', 'n', '{}', '[]', 'org_s')"
    )
    summed = text(
        "INSERT INTO catalogue_product_prices (product_id, currency, price, lead_time_days, "
        "offers, regions, fresh_until) VALUES (:id, 'CNY', 1, 1, 1, '{}', '2030-01-01')"
    )
    brands = text("SELECT product_id, brand FROM catalogue_product_prices ORDER BY product_id")
    rebrand = text("UPDATE products SET brand = :brand WHERE id = 'p1'")
    with _scratch(database_url) as (config, engine):
        command.upgrade(config, "0034")
        with engine.begin() as connection:
            connection.execute(SUPPLIER)
            connection.execute(CATEGORY, {"id": "tools", "zh": "工具", "en": "Tools"})
            connection.execute(
                product, [{"id": "p1", "brand": "Stanley"}, {"id": "p2", "brand": "得力"}]
            )
            connection.execute(summed, {"id": "p1"})
            # Cut short after its fill: the column, a function and a trigger committed, the
            # revision not recorded (the index work runs outside its transaction).
            connection.execute(
                text("ALTER TABLE catalogue_product_prices ADD COLUMN brand varchar(100)")
            )
            connection.execute(
                text(
                    "CREATE FUNCTION catalogue_sum_brand() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER catalogue_product_prices_brand BEFORE INSERT ON "
                    "catalogue_product_prices FOR EACH ROW EXECUTE FUNCTION catalogue_sum_brand()"
                )
            )
        command.upgrade(config, "head")
        with engine.begin() as connection:
            connection.execute(summed, {"id": "p2"})
            found = connection.execute(brands).tuples().all()
            # Its first lister spells the brand otherwise: the sum follows at once.
            connection.execute(rebrand, {"brand": "STANLEY Black & Decker"})
            rebranded = connection.execute(brands).tuples().all()
        command.downgrade(config, "0034")
        command.upgrade(config, "head")
        with engine.connect() as connection:
            again = connection.execute(brands).tuples().all()
    assert found == [("p1", "stanley"), ("p2", "得力")]
    assert rebranded == [("p1", "stanley black & decker"), ("p2", "得力")]
    assert again == rebranded


def test_the_offers_break_arrays_and_floors(database_url: str) -> None:
    """Migrations 0031 and 0033's functions: the breaks ascend by quantity whatever the JSON's
    order, a break lacking a figure is left out (as the JSON reading left it), and an offer's
    floor below a quantity is its list price or a break below it."""
    breaks = (
        '[{"min_quantity": "100", "unit_price": "9"}, {"unit_price": "1"},'
        ' {"min_quantity": "1", "unit_price": "10"}, {"min_quantity": "10", "unit_price": "9.5"}]'
    )
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            quantities, prices = connection.execute(
                text(
                    "SELECT catalogue_break_quantities(CAST(:b AS jsonb)), "
                    "catalogue_break_prices(CAST(:b AS jsonb))"
                ),
                {"b": breaks},
            ).one()
            floors = connection.execute(
                text(
                    "SELECT catalogue_price_floor(10, :q, :p, 10), "
                    "catalogue_price_floor(10, :q, :p, 100), "
                    "catalogue_price_floor(10, :q, :p, 1000), "
                    "catalogue_price_floor(10, :q, :p, NULL), "
                    "catalogue_price_floor(10, '{}', '{}', NULL)"
                ),
                {"q": quantities, "p": prices},
            ).one()
    finally:
        engine.dispose()
    assert quantities == [1, 10, 100]
    assert prices == [Decimal(10), Decimal("9.5"), Decimal(9)]
    assert list(floors) == [Decimal(10), Decimal("9.5"), Decimal(9), Decimal(9), Decimal(10)]


def test_a_products_identity_gains_what_it_declares_and_loses_it_going_down(
    database_url: str,
) -> None:
    """Migration 0040: each product declaring a UN number or a temperature profile gets the
    identity a listing now computes for it (``product_identity``), others keep theirs; undone,
    the suffixes go, and the downgrade refuses (changing nothing) where two products would
    become one."""
    product = text(
        "INSERT INTO products (id, category_id, identity, name, brand, model, attributes, "
        "un_number, packing_group, temperature_profile, search_text, terms, media, "
        "listed_by_org_id) VALUES (:id, 'chem', :identity, 'n', :brand, :model, '{}', :un, "
        ":pg, :profile, 'n', '{}', '[]', 'org_s')"
    )
    names = ("id", "identity", "brand", "model", "un", "pg", "profile")
    rows = [
        ("p1", "acme|x100", "Acme", "X-100", "UN1090", "II", None),
        ("p2", "acme|x200", "Acme", "X-200", None, None, None),
        ("p3", "acme|x300", "Acme", "X-300", "UN1090", None, "chilled_2_8"),
    ]
    identities = text("SELECT id, identity FROM products ORDER BY id")
    with _scratch(database_url) as (config, engine):
        command.upgrade(config, "0039")
        with engine.begin() as connection:
            connection.execute(SUPPLIER)
            connection.execute(CATEGORY, {"id": "chem", "zh": "化工", "en": "Chemicals"})
            connection.execute(
                product,
                [dict(zip(names, row, strict=True)) for row in rows],
            )
        command.upgrade(config, "0040")
        with engine.connect() as connection:
            upgraded = dict(connection.execute(identities).tuples().all())
        assert upgraded == {row[0]: product_identity(*row[2:]) for row in rows}
        assert upgraded["p1"] == "acme|x100|dg:UN1090:II"
        assert upgraded["p3"] == "acme|x300|dg:UN1090:|temp:chilled_2_8"
        command.downgrade(config, "0039")
        with engine.connect() as connection:
            assert dict(connection.execute(identities).tuples().all()) == {
                row[0]: row[1] for row in rows
            }
        command.upgrade(config, "0040")
        # Another supplier's listing of X-100 without its UN number: another product now.
        with engine.begin() as connection:
            connection.execute(
                product,
                {"id": "p4", "identity": "acme|x100", "brand": "Acme", "model": "X-100",
                 "un": None, "pg": None, "profile": None},
            )  # fmt: skip
        with pytest.raises(RuntimeError, match="more than one product"):
            command.downgrade(config, "0039")
        with engine.connect() as connection:
            assert dict(connection.execute(identities).tuples().all())["p1"] == upgraded["p1"]
