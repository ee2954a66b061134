"""EncryptedString column values: format, purpose binding, rotation, missing key ring."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from security.columns import (
    ColumnKeyRingMissing,
    EncryptedString,
    install_column_keyring,
    installed_column_keyring,
)
from security.keys import DecryptionFailed, KeyRing, UnknownKeyId

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()
DIALECT = create_engine("sqlite://").dialect
IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture(autouse=True)
def _restore_after() -> Iterator[None]:
    """Put back the process-wide ring the rest of the suite runs with."""
    previous = installed_column_keyring()
    yield
    install_column_keyring(previous)


def test_round_trip_and_stored_format() -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    column = EncryptedString("bank_account")
    stored = column.process_bind_param(IBAN, DIALECT)
    assert stored is not None
    version, kid, encoded = stored.split(":")
    assert (version, kid) == ("v1", "a")
    # 12-byte nonce + 27 UTF-8 bytes + 16-byte tag.
    assert len(base64.b64decode(encoded)) == 12 + 27 + 16
    assert "3704" not in stored and "DE89" not in stored
    assert column.process_result_value(stored, DIALECT) == IBAN
    assert column.process_bind_param(IBAN, DIALECT) != stored


def test_none_passes_through() -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    column = EncryptedString("bank_account")
    assert column.process_bind_param(None, DIALECT) is None
    assert column.process_result_value(None, DIALECT) is None


def test_non_ascii_round_trip() -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    column = EncryptedString("contact_name")
    stored = column.process_bind_param("Zoë Müller-Łukasiewicz", DIALECT)
    assert column.process_result_value(stored, DIALECT) == "Zoë Müller-Łukasiewicz"


def test_rotation_reads_old_values() -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    column = EncryptedString("bank_account")
    old = column.process_bind_param(IBAN, DIALECT)
    install_column_keyring(KeyRing.parse(f"{KEY_A},{KEY_B}", active="b"))
    assert column.process_result_value(old, DIALECT) == IBAN
    new = column.process_bind_param(IBAN, DIALECT)
    assert new is not None and new.startswith("v1:b:")
    install_column_keyring(KeyRing.parse(KEY_B, active="b"))
    with pytest.raises(UnknownKeyId):
        column.process_result_value(old, DIALECT)


def test_value_cannot_move_to_another_column() -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    stored = EncryptedString("bank_account").process_bind_param(IBAN, DIALECT)
    with pytest.raises(DecryptionFailed):
        EncryptedString("tax_id").process_result_value(stored, DIALECT)


@pytest.mark.parametrize("stored", ["plain text", "v2:a:AAAA", "v1:a:***", "v1:a:AAAA"])
def test_malformed_stored_values(stored: str) -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    with pytest.raises(DecryptionFailed):
        EncryptedString("bank_account").process_result_value(stored, DIALECT)


def test_missing_keyring_is_a_clear_error() -> None:
    install_column_keyring(None)
    column = EncryptedString("bank_account")
    with pytest.raises(ColumnKeyRingMissing, match="install_column_keyring"):
        column.process_bind_param(IBAN, DIALECT)
    with pytest.raises(ColumnKeyRingMissing):
        column.process_result_value("v1:a:AAAA", DIALECT)


def test_purpose_validation_and_cache_key() -> None:
    with pytest.raises(ValueError, match="purpose"):
        EncryptedString("")
    with pytest.raises(ValueError, match="purpose"):
        EncryptedString("a:b")
    assert EncryptedString.cache_ok is True
    # SQLAlchemy builds statement cache keys from the constructor arguments.
    assert EncryptedString("x")._static_cache_key != EncryptedString("y")._static_cache_key


def test_through_a_real_statement() -> None:
    install_column_keyring(KeyRing.parse(KEY_A, active="a"))
    metadata = MetaData()
    accounts = Table(
        "accounts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("iban", EncryptedString("bank_account")),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(accounts).values(id=1, iban=IBAN))
        raw = connection.execute(text("SELECT iban FROM accounts")).scalar_one()
        assert raw.startswith("v1:a:") and "3704" not in raw
        assert connection.execute(select(accounts.c.iban)).scalar_one() == IBAN
