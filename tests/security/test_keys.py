"""Key ring parsing, encryption, rotation and the embedded default's generated secrets."""

from __future__ import annotations

import base64
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from security.keys import (
    DecryptionFailed,
    KeyRing,
    UnknownKeyId,
    generate_key_spec,
    jwt_secret_from_settings,
    keyring_from_settings,
    load_or_create_local_keyring,
    load_or_create_local_secret,
)
from settings import Settings

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(32, 64))).decode()


def test_round_trip_and_nonce_is_fresh() -> None:
    ring = KeyRing.parse(f"a:{KEY_A}", active="a")
    kid1, blob1 = ring.encrypt(b"iban DE89370400440532013000", aad=b"ctx")
    kid2, blob2 = ring.encrypt(b"iban DE89370400440532013000", aad=b"ctx")
    assert kid1 == kid2 == "a"
    assert blob1[:12] != blob2[:12]
    # 12-byte nonce + 27-byte plaintext + 16-byte tag.
    assert len(blob1) == 12 + 27 + 16
    assert b"DE89" not in blob1
    assert ring.decrypt("a", blob1, aad=b"ctx") == b"iban DE89370400440532013000"


def test_rotation_keeps_old_ciphertexts_readable() -> None:
    old = KeyRing.parse(f"a:{KEY_A}", active="a")
    kid, blob = old.encrypt(b"secret")
    rotated = KeyRing.parse(f"a:{KEY_A},b:{KEY_B}", active="b")
    assert rotated.decrypt(kid, blob) == b"secret"
    assert rotated.encrypt(b"x")[0] == "b"
    assert rotated.key_ids == frozenset({"a", "b"})


def test_decrypt_failures() -> None:
    ring = KeyRing.parse(f"a:{KEY_A}", active="a")
    kid, blob = ring.encrypt(b"secret", aad=b"one")
    with pytest.raises(DecryptionFailed):
        ring.decrypt(kid, blob, aad=b"two")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionFailed):
        ring.decrypt(kid, tampered, aad=b"one")
    with pytest.raises(DecryptionFailed):
        ring.decrypt(kid, b"short", aad=b"one")
    with pytest.raises(UnknownKeyId) as info:
        ring.decrypt("zzz", blob, aad=b"one")
    assert info.value.key_id == "zzz"
    # The same key bytes under another id must not decrypt under the wrong key.
    other = KeyRing.parse(f"a:{KEY_B}", active="a")
    with pytest.raises(DecryptionFailed):
        other.decrypt(kid, blob, aad=b"one")


@pytest.mark.parametrize(
    ("spec", "active", "message"),
    [
        ("a:not base64!", "a", "not valid base64"),
        (f"a:{base64.b64encode(b'x' * 16).decode()}", "a", "16 bytes"),
        (f"a:{KEY_A},a:{KEY_B}", "a", "duplicate key id 'a'"),
        (f"a:{KEY_A}", "b", "active key id 'b'"),
        ("", "a", "empty"),
        (KEY_A, "a", "no ':'"),
        (f"a b:{KEY_A}", "a b", "key id 'a b'"),
    ],
)
def test_parse_errors_name_the_problem(spec: str, active: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KeyRing.parse(spec, active=active)


def test_repr_hides_key_material() -> None:
    ring = KeyRing.parse(f"a:{KEY_A}", active="a")
    assert KEY_A not in repr(ring)
    assert repr(ring) == "KeyRing(key_ids=['a'], active='a')"


def test_generate_key_spec_parses() -> None:
    spec = generate_key_spec("k2026")
    kid, _, encoded = spec.partition(":")
    assert kid == "k2026"
    assert len(base64.b64decode(encoded)) == 32
    assert generate_key_spec("k2026") != spec
    ring = KeyRing.parse(spec, active="k2026")
    assert ring.decrypt(*ring.encrypt(b"ok")) == b"ok"


def test_local_keyring_created_private_and_reused(tmp_path: Path) -> None:
    spec, active = load_or_create_local_keyring(tmp_path)
    key_file = tmp_path / "secrets" / "encryption-keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert load_or_create_local_keyring(tmp_path) == (spec, active)
    ring = KeyRing.parse(spec, active=active)
    kid, blob = ring.encrypt(b"persisted")
    spec_again, active_again = load_or_create_local_keyring(tmp_path)
    assert KeyRing.parse(spec_again, active=active_again).decrypt(kid, blob) == b"persisted"
    # The temporary file used for the atomic create is gone.
    assert list((tmp_path / "secrets").iterdir()) == [key_file]


def test_local_keyring_rotates_by_appending_a_line(tmp_path: Path) -> None:
    spec, active = load_or_create_local_keyring(tmp_path)
    kid, blob = KeyRing.parse(spec, active=active).encrypt(b"before rotation")
    key_file = tmp_path / "secrets" / "encryption-keys"
    key_file.write_text(key_file.read_text() + generate_key_spec("local2") + "\n")
    spec2, active2 = load_or_create_local_keyring(tmp_path)
    assert active2 == "local2"
    assert KeyRing.parse(spec2, active=active2).decrypt(kid, blob) == b"before rotation"


def test_local_secret(tmp_path: Path) -> None:
    secret = load_or_create_local_secret(tmp_path, "jwt-secret")
    assert len(secret) >= 32
    assert load_or_create_local_secret(tmp_path, "jwt-secret") == secret
    assert load_or_create_local_secret(tmp_path, "other") != secret
    path = tmp_path / "secrets" / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="secret name"):
        load_or_create_local_secret(tmp_path, "../escape")


def test_from_settings(tmp_path: Path) -> None:
    configured = Settings(
        environment="test",
        data_dir=tmp_path,
        encryption_keys=f"a:{KEY_A},b:{KEY_B}",
        active_key_id="b",
        jwt_secret="j" * 40,
    )
    ring = keyring_from_settings(configured)
    assert ring.active_key_id == "b"
    assert jwt_secret_from_settings(configured) == "j" * 40
    assert not (tmp_path / "secrets").exists()

    embedded = Settings(environment="embedded", data_dir=tmp_path)
    assert keyring_from_settings(embedded).active_key_id == "local1"
    assert jwt_secret_from_settings(embedded) == load_or_create_local_secret(tmp_path, "jwt-secret")

    no_active = Settings(environment="test", data_dir=tmp_path, encryption_keys=f"a:{KEY_A}")
    with pytest.raises(ValueError, match="ACTIVE_KEY_ID"):
        keyring_from_settings(no_active)


def test_concurrent_first_use_agrees_on_one_secret(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: load_or_create_local_secret(tmp_path, "race"), range(32)))
    assert len(set(results)) == 1
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == ["race"]
