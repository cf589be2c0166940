"""S3 adapter: where illustrations and videos are kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

S3Client = Any  # a boto3 client


@dataclass(frozen=True)
class MediaObject:
    content_type: str
    size_bytes: int  # of what `chunks` gives: the part asked for, or the whole object
    chunks: Iterator[bytes]
    content_range: str | None = None  # "bytes 0-99/1234" when a part was asked for


class RangeNotSatisfiable(Exception):
    """The byte range asked for lies outside the object."""


@dataclass(frozen=True)
class MediaHead:
    """What S3 says about an object without reading it."""

    content_type: str
    size_bytes: int


class MediaStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def open(self, key: str, byte_range: str | None = None) -> MediaObject | None:
        """The object as a stream of chunks, or None when there is no such object; with
        `byte_range` (an HTTP Range header's value, "bytes=0-99"), only that part, as S3 reads
        it (RangeNotSatisfiable when it lies outside the object)."""
        from botocore.exceptions import ClientError

        ranged = {"Range": byte_range} if byte_range else {}
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=key, **ranged)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            if code == "InvalidRange":
                raise RangeNotSatisfiable(byte_range) from None
            raise
        return MediaObject(
            content_type=found.get("ContentType", "application/octet-stream"),
            size_bytes=found["ContentLength"],
            chunks=found["Body"].iter_chunks(chunk_size=256 * 1024),
            content_range=found.get("ContentRange") if byte_range else None,
        )

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )

    def head(self, key: str) -> MediaHead | None:
        """The object's type and size, or None when there is no such object."""
        from botocore.exceptions import ClientError

        try:
            found = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return MediaHead(
            content_type=found.get("ContentType", "application/octet-stream"),
            size_bytes=found["ContentLength"],
        )

    def read(self, key: str) -> bytes | None:
        """The whole object, or None when there is no such object (small objects only)."""
        found = self.open(key)
        return None if found is None else b"".join(found.chunks)

    def copy(self, source: str, destination: str, content_type: str) -> None:
        """Copy an object within the bucket, on S3's side, setting its content type."""
        self._client.copy_object(
            Bucket=self._bucket,
            Key=destination,
            CopySource={"Bucket": self._bucket, "Key": source},
            ContentType=content_type,
            MetadataDirective="REPLACE",
        )

    def keys_under(self, prefix: str) -> list[str]:
        """Every key that starts with `prefix`."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True
