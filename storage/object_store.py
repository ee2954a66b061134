"""Where document bytes live: one small interface over S3 or a local folder, content-addressed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from settings import Settings

if TYPE_CHECKING:
    # The stubs are a development dependency; at run time the client is a plain boto3 client.
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

# S3 answers a missing object with NoSuchKey on GET but a bare 404 on HEAD (no body to name it).
# A missing bucket is left out: that is a configuration error, not a missing document.
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class ObjectNotFound(LookupError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under {key!r}")
        self.key = key


class InvalidObjectKey(ValueError):
    """The key could escape the store's root or does not name a single object."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid object key {key!r}: {reason}")
        self.key = key


class ContentIntegrityError(Exception):
    """The bytes stored under a content key no longer hash to that key."""

    def __init__(self, *, key: str, expected: str, actual: str) -> None:
        super().__init__(f"object {key!r} hashes to {actual}, expected {expected}")
        self.key = key
        self.expected = expected
        self.actual = actual


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


def validate_key(key: str) -> str:
    """Return the key if it names one object by a relative '/'-separated path, else raise."""
    if not key:
        raise InvalidObjectKey(key, "empty")
    if key.startswith("/"):
        raise InvalidObjectKey(key, "absolute")
    if "\\" in key or "\x00" in key:
        raise InvalidObjectKey(key, "backslash or NUL")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidObjectKey(key, "empty, '.' or '..' path segment")
    return key


class S3ObjectStore:
    """Objects in one S3 bucket (AWS, MinIO or moto), through a boto3 client."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists; safe to call from several processes at once."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if _error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
                raise
        region = self._client.meta.region_name
        try:
            # us-east-1 rejects an explicit LocationConstraint; every other region requires one.
            if region in (None, "us-east-1"):
                self._client.create_bucket(Bucket=self.bucket)
            else:
                self._client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={
                        "LocationConstraint": cast("BucketLocationConstraintType", region)
                    },
                )
        except ClientError as error:
            # Another process created it between our HEAD and CREATE: that is the wanted state.
            if _error_code(error) != "BucketAlreadyOwnedByYou":
                raise

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=validate_key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as error:
            if _error_code(error) in _MISSING_CODES:
                raise ObjectNotFound(key) from None
            raise
        with response["Body"] as body:
            return body.read()

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as error:
            if _error_code(error) in _MISSING_CODES:
                return False
            raise
        return True

    def check_bucket(self) -> None:
        """Raise unless the bucket answers with these credentials (readiness): a HEAD only."""
        self._client.head_bucket(Bucket=self.bucket)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class LocalObjectStore:
    """Objects as files under one folder; each write lands whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        # The content type is not kept: readers know it from the document's database row.
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                # Without the fsync a crash after the rename can leave an empty file on ext4.
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def object_store_from_settings(settings: Settings) -> ObjectStore:
    """The configured store; S3 credentials come from boto3's usual chain (AWS_* variables)."""
    if settings.object_store == "s3":
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            # One connection per activity thread (the worker runs 16) without pool churn.
            # Bounded waits (botocore's are 60 s each, retried): a hung store fails a request
            # or an activity attempt in seconds, and the activity's retry policy takes over.
            config=Config(
                max_pool_connections=32,
                connect_timeout=settings.s3_connect_timeout_s,
                read_timeout=settings.s3_read_timeout_s,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )
        store = S3ObjectStore(client, settings.s3_bucket)
        # A fresh MinIO or account has no bucket yet; creating it is idempotent.
        store.ensure_bucket()
        return store
    if settings.object_store == "local":
        return LocalObjectStore(settings.data_dir / "objects")
    raise ValueError(
        f"TRADEFLOW_OBJECT_STORE must be 's3' or 'local', not {settings.object_store!r}"
    )


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


def content_key(sha256_hex: str) -> str:
    """The key of the object whose SHA-256 is ``sha256_hex``, fanned out by its first byte."""
    digest = sha256_hex.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a SHA-256 hex digest: {sha256_hex!r}")
    return f"sha256/{digest[:2]}/{digest}"


def put_content(store: ObjectStore, data: bytes, *, content_type: str) -> StoredObject:
    """Store ``data`` under its hash; a retry or a duplicate upload writes nothing new."""
    digest = hashlib.sha256(data).hexdigest()
    key = content_key(digest)
    if not store.exists(key):
        store.put(key, data, content_type=content_type)
    return StoredObject(key=key, sha256=digest, size=len(data))


def get_verified(store: ObjectStore, sha256: str) -> bytes:
    """The bytes stored for ``sha256``, refused if they no longer hash to it."""
    key = content_key(sha256)
    data = store.get(key)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.lower():
        raise ContentIntegrityError(key=key, expected=sha256.lower(), actual=actual)
    return data
