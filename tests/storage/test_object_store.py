"""One behaviour suite run against local disk and against S3 (moto over HTTP)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from settings import Settings
from storage.object_store import (
    ContentIntegrityError,
    InvalidObjectKey,
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    content_key,
    get_verified,
    object_store_from_settings,
    put_content,
)
from tests.harness.s3 import running_moto_server, s3_client

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@dataclass
class Backend:
    store: ObjectStore
    # Writes bytes under a key behind the store's back, as tampering or bit rot would.
    write_raw: Callable[[str, bytes], None]


@dataclass
class CountingStore:
    """Delegates to a real store and records each key written."""

    inner: ObjectStore
    puts: list[str] = field(default_factory=list)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.puts.append(key)
        self.inner.put(key, data, content_type=content_type)

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


def _fresh_bucket() -> str:
    return f"store-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        root = tmp_path / "objects"

        def write_local(key: str, data: bytes) -> None:
            root.joinpath(*key.split("/")).write_bytes(data)

        return Backend(LocalObjectStore(root), write_local)
    endpoint: str = request.getfixturevalue("moto_endpoint")
    client = s3_client(endpoint)
    s3 = S3ObjectStore(client, _fresh_bucket())
    s3.ensure_bucket()

    def write_s3(key: str, data: bytes) -> None:
        client.put_object(Bucket=s3.bucket, Key=key, Body=data)

    return Backend(s3, write_s3)


def test_put_then_get_and_exists(backend: Backend) -> None:
    store = backend.store
    assert not store.exists("reports/2026/q4.pdf")

    store.put("reports/2026/q4.pdf", b"%PDF-1.7 first", content_type="application/pdf")
    store.put("reports/2026/q4.pdf", b"%PDF-1.7 second", content_type="application/pdf")

    assert store.exists("reports/2026/q4.pdf")
    assert store.get("reports/2026/q4.pdf") == b"%PDF-1.7 second"
    assert not store.exists("reports/2026")


def test_missing_key_raises_object_not_found(backend: Backend) -> None:
    with pytest.raises(ObjectNotFound) as caught:
        backend.store.get("sha256/00/nothing-here")
    assert caught.value.key == "sha256/00/nothing-here"


def test_put_content_is_content_addressed(backend: Backend) -> None:
    stored = put_content(backend.store, b"abc", content_type="text/plain")

    assert stored.sha256 == ABC_SHA256
    assert stored.key == f"sha256/ba/{ABC_SHA256}"
    assert stored.size == 3
    assert backend.store.get(stored.key) == b"abc"
    assert get_verified(backend.store, ABC_SHA256) == b"abc"


def test_put_content_writes_each_content_once(backend: Backend) -> None:
    counting = CountingStore(backend.store)

    first = put_content(counting, b"invoice 1", content_type="application/pdf")
    retry = put_content(counting, b"invoice 1", content_type="application/pdf")
    other = put_content(counting, b"invoice 2", content_type="application/pdf")

    assert first == retry
    assert other.key != first.key
    assert counting.puts == [first.key, other.key]


def test_get_verified_detects_a_corrupted_object(backend: Backend) -> None:
    stored = put_content(backend.store, b"abc", content_type="text/plain")
    backend.write_raw(stored.key, b"abd")

    with pytest.raises(ContentIntegrityError) as caught:
        get_verified(backend.store, stored.sha256)

    assert caught.value.key == stored.key
    assert caught.value.expected == ABC_SHA256
    # sha256(b"abd"), computed independently.
    assert caught.value.actual == "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9"


def test_get_verified_of_unknown_hash_raises_object_not_found(backend: Backend) -> None:
    with pytest.raises(ObjectNotFound):
        get_verified(backend.store, "0" * 64)


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "", "a\\..\\b", "a/"]
)
def test_keys_that_could_escape_are_rejected(backend: Backend, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        backend.store.put(key, b"x", content_type="text/plain")
    with pytest.raises(InvalidObjectKey):
        backend.store.get(key)
    with pytest.raises(InvalidObjectKey):
        backend.store.exists(key)


def test_local_store_writes_nothing_outside_its_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root" / "objects")
    with pytest.raises(InvalidObjectKey):
        store.put("../../outside.txt", b"x", content_type="text/plain")
    assert list(tmp_path.rglob("*.txt")) == []


def test_local_write_interrupted_before_rename_leaves_the_old_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("docs/a.pdf", b"old", content_type="application/pdf")

    def crash(src: object, dst: object) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        store.put("docs/a.pdf", b"new and longer", content_type="application/pdf")
    monkeypatch.undo()

    assert store.get("docs/a.pdf") == b"old"
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["a.pdf"]


def test_content_key_refuses_what_is_not_a_sha256() -> None:
    assert content_key(ABC_SHA256.upper()) == f"sha256/ba/{ABC_SHA256}"
    for bad in ["", "abc", ABC_SHA256[:-1], ABC_SHA256[:-1] + "g", "../" + ABC_SHA256[3:]]:
        with pytest.raises(ValueError):
            content_key(bad)


def test_ensure_bucket_is_idempotent(moto_endpoint: str) -> None:
    s3 = S3ObjectStore(s3_client(moto_endpoint), _fresh_bucket())
    s3.ensure_bucket()
    s3.put("k", b"v", content_type="text/plain")
    s3.ensure_bucket()
    assert s3.get("k") == b"v"


def test_settings_build_a_local_store_under_the_data_dir(tmp_path: Path) -> None:
    store = object_store_from_settings(Settings(object_store="local", data_dir=tmp_path))
    stored = put_content(store, b"abc", content_type="text/plain")
    assert (tmp_path / "objects" / "sha256" / "ba" / ABC_SHA256).read_bytes() == b"abc"
    assert stored.sha256 == ABC_SHA256


def test_settings_build_an_s3_store_with_credentials_from_the_environment(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
    bucket = _fresh_bucket()
    store = object_store_from_settings(
        Settings(
            object_store="s3",
            s3_endpoint_url=moto_endpoint,
            s3_bucket=bucket,
            s3_region="eu-west-1",
        )
    )
    assert isinstance(store, S3ObjectStore)
    store.ensure_bucket()
    store.ensure_bucket()
    stored = put_content(store, b"abc", content_type="text/plain")

    client = s3_client(moto_endpoint)
    assert client.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"
    assert client.get_object(Bucket=bucket, Key=stored.key)["Body"].read() == b"abc"


def test_settings_refuse_an_unknown_store() -> None:
    with pytest.raises(ValueError, match="TRADEFLOW_OBJECT_STORE"):
        object_store_from_settings(Settings(object_store="ftp"))


def test_a_missing_bucket_is_an_error_not_a_missing_object(moto_endpoint: str) -> None:
    s3 = S3ObjectStore(s3_client(moto_endpoint), _fresh_bucket())
    with pytest.raises(ClientError) as caught:
        s3.get(content_key(ABC_SHA256))
    assert not isinstance(caught.value, ObjectNotFound)
    assert caught.value.response["Error"]["Code"] == "NoSuchBucket"
