"""TOTP against RFC 6238's own test vectors, the window around now, replay refusal, the
authenticator URI, and recovery codes' shape, strength and reading back."""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from security import totp as t

# RFC 6238 appendix B, the SHA-1 rows: the 20-byte ASCII seed, 8 digits, 30-second steps.
RFC_SEED = base64.b32encode(b"12345678901234567890").decode("ascii")
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix", "code"), RFC_VECTORS)
def test_rfc_6238_sha1_vectors(unix: int, code: str) -> None:
    step = t.step_at(datetime.fromtimestamp(unix, UTC))
    assert t.totp(RFC_SEED, step, digits=8) == code
    # Six digits are the same number's last six (the truncation is modulo 10^digits).
    assert t.totp(RFC_SEED, step) == code[-6:]


def test_rfc_4226_hotp_vectors() -> None:
    """RFC 4226 appendix D: the HOTP values of counters 0 to 9 for the same seed."""
    expected = (755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489)
    assert [t.hotp(b"12345678901234567890", n) for n in range(10)] == [f"{e:06}" for e in expected]


def test_a_new_secret_is_160_random_bits_in_base32() -> None:
    secrets = {t.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(secret) == 32 and secret.isalnum() and secret.isupper()
        assert len(base64.b32decode(secret)) == 20


def test_the_step_before_now_and_after_it_are_accepted_and_no_other() -> None:
    secret = t.new_secret()
    now = datetime(2026, 12, 19, 6, 0, 10, tzinfo=UTC)
    current = t.step_at(now)
    for step in (current - 1, current, current + 1):
        assert t.verify(secret, t.totp(secret, step), now, last_step=0) == step
    for step in (current - 2, current + 2):
        assert t.verify(secret, t.totp(secret, step), now, last_step=0) is None


def test_a_code_is_never_accepted_twice() -> None:
    secret = t.new_secret()
    now = datetime(2026, 12, 19, 6, 0, 10, tzinfo=UTC)
    code = t.totp(secret, t.step_at(now))
    accepted = t.verify(secret, code, now, last_step=0)
    assert accepted == t.step_at(now)
    assert t.verify(secret, code, now, last_step=accepted) is None
    # Still refused a period later, when the same code is the step before now.
    later = now + timedelta(seconds=t.PERIOD_SECONDS)
    assert t.verify(secret, code, later, last_step=accepted) is None
    # Nor is an earlier step's code accepted once a later one was.
    earlier = t.totp(secret, accepted - 1)
    assert t.verify(secret, earlier, now, last_step=accepted) is None
    # The next step's code is still good: two codes in one period, as a second device would.
    following = t.totp(secret, accepted + 1)
    assert t.verify(secret, following, now, last_step=accepted) == accepted + 1


# The RFC seed's code at 59 s is 287082: these are not it (the last in fullwidth digits).
FULLWIDTH = "287082".translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})


@pytest.mark.parametrize("wrong", ["", "28708", "2870820", "abcdef", "000000", FULLWIDTH])
def test_anything_but_the_code_is_refused(wrong: str) -> None:
    now = datetime.fromtimestamp(59, UTC)
    assert t.verify(RFC_SEED, wrong, now, last_step=0) is None


def test_a_code_typed_with_a_space_in_the_middle_is_read() -> None:
    now = datetime.fromtimestamp(59, UTC)
    assert t.verify(RFC_SEED, "287 082", now, last_step=0) == 1


def test_the_otpauth_uri_names_the_account_issuer_and_parameters() -> None:
    uri = t.otpauth_uri("JBSWY3DPEHPK3PXP", "finance@huadong.example")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Tradeflow:finance@huadong.example"
    assert parse_qs(parts.query) == {
        "secret": ["JBSWY3DPEHPK3PXP"],
        "issuer": ["Tradeflow"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    spaced = urlsplit(t.otpauth_uri("JBSWY3DPEHPK3PXP", "a b&c", issuer="Trade Flow"))
    assert spaced.path == "/Trade%20Flow:a%20b%26c"


def test_recovery_codes_are_readable_distinct_and_strong() -> None:
    codes = t.new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4]
        assert all(c in "0123456789abcdefghjkmnpqrstvwxyz" for c in "".join(groups))
    bits = 12 * math.log2(32)
    assert bits >= 50
    assert len(t.new_recovery_codes(3)) == 3


def test_a_recovery_code_is_read_back_however_it_was_typed() -> None:
    code = "0a1b-2c3d-4e5f"
    for typed in (code, "0A1B-2C3D-4E5F", "0a1b2c3d4e5f", " 0a1b 2c3d 4e5f ", "oa1b-2c3d-4e5f"):
        assert t.normalise_recovery_code(typed) == code
    assert t.normalise_recovery_code("0l1b-2c3d-4e5f") == "011b-2c3d-4e5f"
    for wrong in ("", "0a1b-2c3d-4e5", "0a1b-2c3d-4e5f0", "0a1b-2c3d-4e5u", "0a1b_2c3d_4e5f"):
        assert t.normalise_recovery_code(wrong) is None


def test_an_authenticator_gives_each_step_once_and_two_codes_a_period_at_most() -> None:
    secret = t.new_secret()
    device = t.Authenticator(secret)
    now = datetime(2026, 12, 19, 6, 0, 10, tzinfo=UTC)
    current = t.step_at(now)
    last = 0
    for step in (current, current + 1):
        code = device.code(now)
        assert code == t.totp(secret, step)
        last = t.verify(secret, code, now, last_step=last) or -1
        assert last == step
    assert device.code(now) is None
    # The next period has its own code again: the one after those already typed.
    assert device.code(now + timedelta(seconds=t.PERIOD_SECONDS)) == t.totp(secret, current + 2)
